// The browser side of js/browser.mjs: runs flow.mjs with the browser's own WebSocket and
// WebRTC (fake media devices). Step lines go to the Node runner through the
// `sipwsReport` binding it exposes; `window.sipwsRun()` resolves when the flow ends.

import * as SIP from "/node_modules/sip.js/lib/index.js";
import { Monitor, runFlow, watchedWebSocket } from "/js/flow.mjs";

const report = (line) => window.sipwsReport(line);

window.sipwsRun = async (url, domain) => {
  const monitor = new Monitor(report);
  // Every WebSocket the libraries open is watched; the browser's own stack still does the
  // handshake (Origin, permessage-deflate offer) and TLS.
  window.WebSocket = watchedWebSocket(window.WebSocket, monitor);
  window.JsSIP.debug.enable("JsSIP:Transport,JsSIP:WARN:*,JsSIP:ERROR:*");
  report(`INFO JsSIP ${window.JsSIP.version}, SIP.js ${SIP.version}, ${navigator.userAgent}, ${url}`);
  await runFlow({
    JsSIP: window.JsSIP,
    SIP,
    wsUrl: url,
    domain,
    log: report,
    trace: (line) => console.log(line),
    monitor,
    jssipMedia: { audio: true, video: false },
    sipjsMedia: { constraints: { audio: true, video: false } },
    realMedia: true,
  });
};
window.sipwsReady = true;
