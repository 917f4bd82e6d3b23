// JsSIP and SIP.js inside headless Chromium against a SIP over WebSocket server: the same
// flow.mjs as in Node, with the browser's own WebSocket stack (it sends Origin and offers
// permessage-deflate) and real WebRTC with fake media devices. Driven by playwright-core with
// the system Chromium; no browser is downloaded.
//
//   node js/browser.mjs --url ws[s]://127.0.0.1:PORT --domain 127.0.0.1 [--ca ca.pem]
//                       [--chromium /usr/bin/chromium]
//
// The page (js/browser/page.html) is served from 127.0.0.1 by this script. With wss, the
// server's certificate is first verified here against `--ca`, then Chromium is told to
// accept that one key (--ignore-certificate-errors-spki-list), not every certificate.
// Prints `PASS <step>` lines and `DONE` (exit 0), or `FAIL <reason>` (exit 1; 2 for usage).

import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { chromium } from "playwright-core";

import { bundle } from "./cjs-bundle.mjs";

const GLOBAL_TIMEOUT_MS = 60000;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const INTEROP = path.dirname(HERE);

let browser;
const log = (line) => process.stdout.write(`${line}\n`);
const trace = (line) => process.stderr.write(`${line}\n`);

async function fail(message, code = 1) {
  // One line on stdout (what the Rust test quotes); the rest, a stack trace, on stderr.
  const [first, ...rest] = String(message).split("\n");
  process.stdout.write(`FAIL ${first}\n`);
  if (rest.length) {
    trace(rest.join("\n"));
  }
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
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
      chromium: { type: "string", default: "/usr/bin/chromium" },
    },
  }).values;
} catch (e) {
  await fail(`usage: ${e.message}`, 2);
}
if (!args.url || !args.domain) {
  await fail("usage: browser.mjs --url ws[s]://HOST:PORT --domain DOMAIN [--ca CA.pem] [--chromium PATH]", 2);
}

process.on("unhandledRejection", (e) => fail(`unhandled rejection: ${e && e.stack ? e.stack : e}`));
setTimeout(() => fail(`the whole browser flow took longer than ${GLOBAL_TIMEOUT_MS} ms`), GLOBAL_TIMEOUT_MS).unref();

/** Serves the page, flow.mjs and sdp.mjs, SIP.js's ES modules and the JsSIP bundle. */
function startStaticServer() {
  const jssip = bundle(path.join(INTEROP, "node_modules/jssip/lib/JsSIP.js"), "JsSIP");
  const roots = {
    "/js/": path.join(INTEROP, "js"),
    "/node_modules/sip.js/": path.join(INTEROP, "node_modules/sip.js"),
  };
  const types = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript" };
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url, "http://127.0.0.1");
    const send = (status, type, body) => {
      res.writeHead(status, { "Content-Type": `${type}; charset=utf-8`, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (pathname === "/") {
      return send(200, "text/html", readFileSync(path.join(HERE, "browser/page.html")));
    }
    if (pathname === "/jssip.js") {
      return send(200, "text/javascript", jssip);
    }
    for (const [prefix, root] of Object.entries(roots)) {
      if (pathname.startsWith(prefix)) {
        const file = path.resolve(root, `.${pathname.slice(prefix.length - 1)}`);
        const type = types[path.extname(file)];
        if (!file.startsWith(root + path.sep) || !type) {
          break;
        }
        try {
          return send(200, type, readFileSync(file));
        } catch {
          break;
        }
      }
    }
    return send(404, "text/plain", "not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/**
 * Verifies the wss server's certificate against `caFile` (a real TLS handshake with
 * verification on) and returns the base64 SHA-256 of its public key, for Chromium's
 * --ignore-certificate-errors-spki-list.
 */
function verifiedSpkiHash(url, caFile) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), ca: readFileSync(caFile) }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      const spki = new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
      resolve(createHash("sha256").update(spki).digest("base64"));
    });
    socket.once("error", (e) => reject(new Error(`the server's certificate does not verify against ${caFile}: ${e.message}`)));
  });
}

const header = (headers, name) => {
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
};

const server = await startStaticServer();
const pageOrigin = `http://127.0.0.1:${server.address().port}`;
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // getUserMedia answers at once with a fake microphone; ICE may use loopback addresses.
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];
if (args.url.startsWith("wss:")) {
  if (!args.ca) {
    await fail("a wss URL needs --ca", 2);
  }
  try {
    chromiumArgs.push(`--ignore-certificate-errors-spki-list=${await verifiedSpkiHash(args.url, args.ca)}`);
  } catch (e) {
    await fail(e.message);
  }
}

try {
  // A fresh profile in a temporary directory (launch() makes and removes it).
  browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    args: chromiumArgs,
    timeout: 30000,
    env: { ...process.env, TMPDIR: tmpdir() },
  });
} catch (e) {
  await fail(`cannot start ${args.chromium}: ${e.message}`);
}
const context = await browser.newContext();
const page = await context.newPage();
page.on("console", (m) => trace(`console.${m.type()}: ${m.text()}`));
page.on("pageerror", (e) => fail(`page error: ${e.stack || e.message}`));
await page.exposeFunction("sipwsReport", (line) => log(line));

// The opening handshakes as Chromium's network stack sent and received them.
const handshakes = new Map();
const cdp = await context.newCDPSession(page);
await cdp.send("Network.enable");
cdp.on("Network.webSocketCreated", (e) => handshakes.set(e.requestId, { url: e.url }));
cdp.on("Network.webSocketHandshakeResponseReceived", (e) => {
  const h = handshakes.get(e.requestId) || {};
  h.status = e.response.status;
  h.response = e.response.headers;
  h.request = e.response.requestHeaders;
  handshakes.set(e.requestId, h);
});

log(`INFO ${browser.version()} via playwright-core, page origin ${pageOrigin}`);
try {
  await page.goto(`${pageOrigin}/`, { waitUntil: "load" });
  await page.waitForFunction(() => window.sipwsReady === true && window.JsSIP !== undefined, null, { timeout: 10000 });
  await page.evaluate(([url, domain]) => window.sipwsRun(url, domain), [args.url, args.domain]);
} catch (e) {
  await fail((e && e.message ? e.message : String(e)).replace(/^page\.evaluate: (Error: )?/, ""));
}

// RFC 6455 §4.1 and §9.1 as a browser does them: Origin sent, permessage-deflate offered;
// the server must answer 101 with `sip` and without accepting the extension it does not do.
const seen = [...handshakes.values()];
const problems = [];
if (seen.length !== 2) {
  problems.push(`${seen.length} WebSocket handshakes seen, expected 2`);
}
for (const h of seen) {
  const origin = header(h.request, "Origin");
  const offer = header(h.request, "Sec-WebSocket-Extensions") || "";
  log(
    `INFO handshake ${h.url}: Origin ${origin}; offered extensions "${offer}"; answered ${h.status}, ` +
      `protocol ${header(h.response, "Sec-WebSocket-Protocol")}, extensions "${header(h.response, "Sec-WebSocket-Extensions") || ""}"`,
  );
  if (h.request === undefined) {
    problems.push(`${h.url}: the request headers were not reported`);
    continue;
  }
  if (origin !== pageOrigin) {
    problems.push(`${h.url}: Origin ${origin}, expected ${pageOrigin}`);
  }
  if (!/permessage-deflate/i.test(offer)) {
    problems.push(`${h.url}: Chromium did not offer permessage-deflate (offer "${offer}")`);
  }
  if (h.status !== 101) {
    problems.push(`${h.url}: answered ${h.status}`);
  }
  if (header(h.response, "Sec-WebSocket-Protocol") !== "sip") {
    problems.push(`${h.url}: the 101 selected ${header(h.response, "Sec-WebSocket-Protocol")}, not sip`);
  }
  if (header(h.response, "Sec-WebSocket-Extensions") !== undefined) {
    problems.push(`${h.url}: the 101 accepted extensions ${header(h.response, "Sec-WebSocket-Extensions")}`);
  }
}
if (problems.length) {
  await fail(`browser WebSocket handshakes: ${problems.join("; ")}`);
}
log("PASS browser handshakes: Origin sent, permessage-deflate offered and declined, sip selected");

await browser.close();
server.close();
log("DONE");
process.exit(0);
