// Exit 0 when node_modules holds exactly the versions package.json pins (what `npm ci`
// installs from package-lock.json); otherwise print what is missing or stale and exit 1.
// The interop tests run this before anything else and skip (or fail, with
// SIPWS_INTEROP=required) on a non-zero exit.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pins = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).dependencies;
const problems = [];
for (const [name, pinned] of Object.entries(pins)) {
  let installed;
  try {
    installed = JSON.parse(readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    problems.push(`${name} ${pinned} is not installed`);
    continue;
  }
  if (installed !== pinned) {
    problems.push(`${name} is ${installed}, package.json pins ${pinned}`);
  }
}
if (problems.length) {
  console.log(`${problems.join("; ")} (run tests/interop/install-node.sh)`);
  process.exit(1);
}
console.log(Object.entries(pins).map(([n, v]) => `${n} ${v}`).join(", "));
