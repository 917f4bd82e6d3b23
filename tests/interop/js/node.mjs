// JsSIP and SIP.js in Node against a SIP over WebSocket server (flow.mjs), with the `ws`
// package as their WebSocket and stand-in SDP (node-media.mjs).
//
//   node js/node.mjs --url ws://127.0.0.1:PORT --domain 127.0.0.1 [--ca ca.pem]
//
// With a wss URL, `--ca` names the PEM certificate the server's chain must lead to: it is
// passed to `ws` (TLS `ca`), verification stays on. Prints one `PASS <step>` line per step
// and `DONE` at the end (exit 0); on failure `FAIL <reason>` and exit 1; 2 for bad usage.
// SIP traces go to stderr.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

import * as SIP from "sip.js";
import { WebSocket as WsWebSocket } from "ws";

import { Monitor, runFlow, watchedWebSocket } from "./flow.mjs";
import { installJsSipGlobals, standInSdhFactory } from "./node-media.mjs";

const GLOBAL_TIMEOUT_MS = 45000;

function fail(message, code = 1) {
  // One line on stdout (what the Rust test quotes); the rest, a stack trace, on stderr.
  const [first, ...rest] = String(message).split("\n");
  process.stdout.write(`FAIL ${first}\n`);
  if (rest.length) {
    process.stderr.write(`${rest.join("\n")}\n`);
  }
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: "string" },
      domain: { type: "string" },
      ca: { type: "string" },
    },
  }).values;
} catch (e) {
  fail(`usage: ${e.message}`, 2);
}
if (!args.url || !args.domain) {
  fail("usage: node.mjs --url ws[s]://HOST:PORT --domain DOMAIN [--ca CA.pem]", 2);
}

const log = (line) => process.stdout.write(`${line}\n`);
const trace = (line) => process.stderr.write(`${line}\n`);

process.on("unhandledRejection", (e) => fail(`unhandled rejection: ${e && e.stack ? e.stack : e}`));
process.on("uncaughtException", (e) => fail(`uncaught exception: ${e && e.stack ? e.stack : e}`));
setTimeout(() => fail(`the whole flow took longer than ${GLOBAL_TIMEOUT_MS} ms`), GLOBAL_TIMEOUT_MS).unref();

const monitor = new Monitor(log);
// A real trust of the server's CA, not `rejectUnauthorized: false`.
const tls = args.ca ? { ca: readFileSync(args.ca) } : {};
globalThis.WebSocket = watchedWebSocket(WsWebSocket, monitor, tls);
installJsSipGlobals();

// JsSIP's debug lines go to console.info (stdout): keep stdout for the step lines.
console.info = console.error;
const require = createRequire(import.meta.url);
const JsSIP = require("jssip");
// JsSIP logs through `debug`: its transport's SIP trace and its warnings, to stderr.
JsSIP.debug.enable("JsSIP:Transport,JsSIP:WARN:*,JsSIP:ERROR:*");

log(`INFO JsSIP ${JsSIP.version}, SIP.js ${SIP.version}, Node ${process.version}, ${args.url}`);
try {
  await runFlow({
    JsSIP,
    SIP,
    wsUrl: args.url,
    domain: args.domain,
    log,
    trace,
    monitor,
    jssipMedia: { audio: false, video: false },
    sipjsSdhFactory: standInSdhFactory,
    sipjsMedia: {},
    realMedia: false,
  });
} catch (e) {
  fail(e && e.message ? e.message : String(e));
}
log("DONE");
process.exit(0);
