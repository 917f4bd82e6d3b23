// A tiny CommonJS bundler, so a browser can load JsSIP: its npm package ships CommonJS
// (`lib/`, no browser build), and a browser cannot `require`. It follows the string-literal
// `require(...)` calls from an entry file, resolves relative paths and packages in
// node_modules (honouring a package's string `browser` field, as bundlers do), and wraps
// every module in a function; the result defines one global. No bundler is downloaded.

import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const REQUIRE = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;

function isFile(p) {
  return existsSync(p) && statSync(p).isFile();
}

function resolveFile(p) {
  for (const candidate of [p, `${p}.js`, `${p}.json`, path.join(p, "index.js")]) {
    if (isFile(candidate)) {
      return candidate;
    }
  }
  throw new Error(`cannot resolve ${p}`);
}

function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, "node_modules", name);
    const manifest = path.join(pkgDir, "package.json");
    if (isFile(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      const entry = typeof pkg.browser === "string" ? pkg.browser : pkg.main || "index.js";
      return resolveFile(path.join(pkgDir, entry));
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`cannot find package ${name} from ${fromDir}`);
    }
  }
}

function resolve(spec, fromFile) {
  const dir = path.dirname(fromFile);
  if (spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/")) {
    return resolveFile(path.resolve(dir, spec));
  }
  return resolvePackage(spec, dir);
}

/** The bundle of `entry` as a script that sets `globalThis[globalName]` to its exports. */
export function bundle(entry, globalName) {
  const ids = new Map();
  const modules = [];
  const visit = (file) => {
    if (ids.has(file)) {
      return ids.get(file);
    }
    const id = modules.length;
    ids.set(file, id);
    const record = { file, source: "", deps: {} };
    modules.push(record);
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".json")) {
      record.source = `module.exports = ${text};`;
      return id;
    }
    record.source = text;
    for (const m of text.matchAll(REQUIRE)) {
      record.deps[m[2]] = visit(resolve(m[2], file));
    }
    return id;
  };
  visit(path.resolve(entry));
  const table = modules
    .map(
      (m, id) =>
        `/* ${id}: ${path.relative(process.cwd(), m.file)} */\n[function (module, exports, require) {\n${m.source}\n}, ${JSON.stringify(m.deps)}]`,
    )
    .join(",\n");
  return `(function () {
"use strict";
var modules = [
${table}
];
var cache = {};
function load(id) {
  if (cache[id]) { return cache[id].exports; }
  var module = (cache[id] = { exports: {} });
  var deps = modules[id][1];
  modules[id][0].call(module.exports, module, module.exports, function (spec) {
    if (!(spec in deps)) { throw new Error("not bundled: " + spec); }
    return load(deps[spec]);
  });
  return module.exports;
}
globalThis[${JSON.stringify(globalName)}] = load(0);
})();
`;
}
