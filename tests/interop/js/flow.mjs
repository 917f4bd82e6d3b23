// The interop flow between a JsSIP UA (alice) and a SIP.js UA (bob) through one SIP over
// WebSocket server: register both, MESSAGE both ways with a non-ASCII body, four calls
// (each library calling, each end hanging up), unregister both. Runs unchanged in Node
// (node.mjs: `ws` for WebSocket, stand-in SDP) and in Chromium (page.mjs: the browser's
// WebSocket and WebRTC).
//
// Every step prints `PASS <step>` when done, or throws an Error naming the step. A step fails
// when it takes longer than its timeout or when any WebSocket closes during it: both
// libraries reconnect by themselves, which would hide a dropped connection.

import { checkSdp } from "./sdp.mjs";

export const STEP_TIMEOUT_MS = 10000;

/** The non-ASCII text each MESSAGE carries (German, Japanese, a symbol outside Latin-1). */
export const TEXT = "Grüße, 東京 ✓";

/** A promise with its resolve and reject outside. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A queue of things that arrive (requests, sessions) and the steps that wait for them. */
class Mailbox {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) {
      w(item);
    } else {
      this.items.push(item);
    }
  }

  next() {
    if (this.items.length) {
      return Promise.resolve(this.items.shift());
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Throws if something arrived that no step took. */
  expectEmpty() {
    if (this.items.length) {
      throw new Error(`${this.name}: ${this.items.length} unexpected arrival(s)`);
    }
  }
}

/**
 * Watches the WebSockets the libraries open (through `watchedWebSocket`) and their own
 * disconnect events. Every unexpected close is a problem; the running step fails on it.
 */
export class Monitor {
  constructor(log) {
    this.log = log;
    this.sockets = [];
    this.problems = [];
    this.listeners = new Set();
    this.closing = false;
  }

  problem(message) {
    if (this.closing) {
      return;
    }
    this.problems.push(message);
    for (const l of this.listeners) {
      l(message);
    }
  }

  listen(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  opened(n, ws, url) {
    const ext = ws.extensions || "none";
    this.log(`INFO WebSocket #${n} ${url} open: subprotocol=${ws.protocol || "none"} extensions=${ext}`);
    // RFC 7118 §4.1: the server must select `sip`; it implements no extension, so it must
    // not accept the client's permessage-deflate offer (RFC 6455 §9.1).
    if (ws.protocol !== "sip") {
      this.problem(`WebSocket #${n} ${url} opened with subprotocol "${ws.protocol}", not "sip"`);
    }
    if (ws.extensions) {
      this.problem(`WebSocket #${n} ${url} opened with extensions "${ws.extensions}"`);
    }
  }

  closed(n, url, code, reason) {
    this.problem(`WebSocket #${n} to ${url} closed (code ${code}${reason ? `, ${reason}` : ""})`);
  }
}

/**
 * `Base` (the `ws` package's WebSocket, or the browser's) with every instance reported to
 * `monitor`. `options` is the third constructor argument of `ws` (TLS trust); none in a
 * browser.
 */
export function watchedWebSocket(Base, monitor, options) {
  return class WatchedWebSocket extends Base {
    constructor(url, protocols) {
      if (options === undefined) {
        super(url, protocols);
      } else {
        super(url, protocols, options);
      }
      monitor.sockets.push(this);
      const n = monitor.sockets.length;
      this.addEventListener("open", () => monitor.opened(n, this, url));
      this.addEventListener("close", (e) => monitor.closed(n, url, e.code, e.reason));
    }
  };
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

/** The body and headers of a received MESSAGE must be what was sent, byte for byte. */
function checkMessage(request, body, fromUser) {
  if (request.body !== body) {
    throw new Error(`body arrived as ${JSON.stringify(request.body)}, sent ${JSON.stringify(body)}`);
  }
  const length = Number(request.getHeader("Content-Length"));
  if (length !== utf8Length(body)) {
    throw new Error(`Content-Length ${length}, but the body is ${utf8Length(body)} bytes of UTF-8`);
  }
  const type = request.getHeader("Content-Type");
  if (!/^text\/plain\s*;\s*charset="?utf-8"?$/i.test(type)) {
    throw new Error(`Content-Type arrived as ${JSON.stringify(type)}`);
  }
  if (request.from.uri.user !== fromUser) {
    throw new Error(`From is ${request.from.uri}, expected user ${fromUser}`);
  }
}

/**
 * Runs the flow. `env`:
 * - `JsSIP`, `SIP`: the libraries; `wsUrl`, `domain`; `log(line)`: one line per step;
 *   `trace(line)`: SIP traces and library warnings (stderr);
 * - `monitor`: the Monitor the WebSocket class reports to (installed by the caller);
 * - `jssipMedia`: JsSIP's `mediaConstraints`; `sipjsSdhFactory`: SIP.js's factory (default:
 *   its WebRTC one); `sipjsMedia`: SIP.js's `sessionDescriptionHandlerOptions`;
 * - `realMedia`: real WebRTC (browser): both ends send audio, and each call waits for both
 *   peer connections to connect (ICE and DTLS).
 */
export async function runFlow(env) {
  const { JsSIP, SIP, wsUrl, domain, log, trace, monitor } = env;
  const aliceUri = `sip:alice@${domain}`;
  const bobUri = `sip:bob@${domain}`;
  const pcConfig = { iceServers: [] };
  let previous = "start";

  // A BYE from SIP.js: resolved when its 2xx arrives.
  async function sipjsBye(session) {
    const accepted = deferred();
    await session.bye({
      requestDelegate: {
        onAccept: () => accepted.resolve(),
        onReject: (r) => accepted.reject(new Error(`BYE rejected: ${r.message.statusCode}`)),
      },
    });
    await accepted.promise;
  }

  // JsSIP's "ended" event: its own hang-up ("local"), or the other side's BYE ("remote").
  async function jssipEnded(ended, by) {
    const e = await ended.promise;
    const expected = by === "local" || e.cause === JsSIP.C.causes.BYE;
    if (e.originator !== by || !expected) {
      throw new Error(`JsSIP ended the call as ${e.originator}: ${e.cause}`);
    }
  }

  async function step(name, fn, ms = STEP_TIMEOUT_MS) {
    if (monitor.problems.length) {
      throw new Error(`between "${previous}" and "${name}": ${monitor.problems.join("; ")}`);
    }
    let timer;
    let unlisten = () => {};
    const guard = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      unlisten = monitor.listen((m) => reject(new Error(`WebSocket dropped: ${m}`)));
    });
    const work = Promise.resolve().then(fn);
    work.catch(() => {});
    try {
      await Promise.race([work, guard]);
      if (monitor.problems.length) {
        throw new Error(`WebSocket dropped: ${monitor.problems.join("; ")}`);
      }
    } catch (e) {
      throw new Error(`step "${name}" failed: ${e && e.message ? e.message : e}`);
    } finally {
      clearTimeout(timer);
      unlisten();
    }
    previous = name;
    log(`PASS ${name}`);
  }

  // SDP as sent and as received, per session, at both ends: what arrives must be what the
  // other end sent, and well formed.
  const sdpOf = new WeakMap();
  const record = (key) => {
    let r = sdpOf.get(key);
    if (!r) {
      r = { local: [], remote: [] };
      sdpOf.set(key, r);
    }
    return r;
  };
  const baseFactory = env.sipjsSdhFactory ?? SIP.Web.defaultSessionDescriptionHandlerFactory();
  const sdhFactory = (session, options) => {
    const sdh = baseFactory(session, options);
    const r = record(session);
    const get = sdh.getDescription.bind(sdh);
    const set = sdh.setDescription.bind(sdh);
    sdh.getDescription = async (...args) => {
      const d = await get(...args);
      r.local.push(d.body);
      return d;
    };
    sdh.setDescription = async (sdp, ...args) => {
      r.remote.push(sdp);
      return set(sdp, ...args);
    };
    return sdh;
  };

  function checkExchange(offerer, answerer) {
    const [offer] = offerer.local;
    const [answer] = answerer.local;
    if (offer === undefined || answer === undefined) {
      throw new Error(`no offer (${offer !== undefined}) or no answer (${answer !== undefined}) was made`);
    }
    if (answerer.remote[0] !== offer) {
      throw new Error("the offer arrived changed");
    }
    if (offerer.remote[0] !== answer) {
      throw new Error("the answer arrived changed");
    }
    checkSdp(offer);
    checkSdp(answer, offer);
    // With real media both ends attached a microphone track (a fake device): both send.
    if (env.realMedia && !(/\r\na=sendrecv\r\n/.test(offer) && /\r\na=sendrecv\r\n/.test(answer))) {
      throw new Error("the offer or the answer is not sendrecv: a local audio track is missing");
    }
    return checkSdp(offer).map((m) => `${m.media} ${m.proto}`).join(", ");
  }

  // Real WebRTC only: the peer connection's ICE and DTLS are both up.
  async function mediaConnected(label, pc) {
    const done = () => pc.connectionState === "connected";
    if (done()) {
      return;
    }
    await new Promise((resolve, reject) => {
      const on = () => {
        if (done()) {
          pc.removeEventListener("connectionstatechange", on);
          resolve();
        } else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
          reject(new Error(`${label}: the peer connection is ${pc.connectionState}`));
        }
      };
      pc.addEventListener("connectionstatechange", on);
    });
  }

  // alice: JsSIP.
  const aliceMessages = new Mailbox("alice's MESSAGEs");
  const aliceCalls = new Mailbox("alice's incoming calls");
  const alice = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(wsUrl)],
    uri: aliceUri,
    display_name: "Alice",
    register: false,
    user_agent: `JsSIP ${JsSIP.version} (sipws interop)`,
  });
  alice.on("disconnected", (e) => monitor.problem(`JsSIP reported its WebSocket disconnected (${e.code ?? ""} ${e.reason ?? ""})`));
  alice.on("newMessage", (e) => {
    if (e.originator === "remote") {
      aliceMessages.push(e);
    }
  });
  alice.on("newRTCSession", (e) => {
    if (e.originator === "remote") {
      const r = record(e.session);
      e.session.on("sdp", (s) => r[s.originator].push(s.sdp));
      aliceCalls.push(e.session);
    }
  });

  // bob: SIP.js.
  const bobMessages = new Mailbox("bob's MESSAGEs");
  const bobCalls = new Mailbox("bob's incoming calls");
  const bob = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI(bobUri),
    displayName: "Bob",
    userAgentString: `SIP.js ${SIP.version} (sipws interop)`,
    transportOptions: { server: wsUrl, traceSip: true },
    sessionDescriptionHandlerFactory: sdhFactory,
    // No STUN server (SIP.js defaults to a public one): host candidates on this machine only.
    sessionDescriptionHandlerFactoryOptions: {
      peerConnectionConfiguration: { iceServers: [] },
      iceGatheringTimeout: 2000,
    },
    logBuiltinEnabled: false,
    logLevel: "log",
    logConnector: (level, category, label, content) => {
      if (level === "error" || level === "warn" || category.endsWith("Transport")) {
        trace(`SIP.js ${level} ${category}: ${content}`);
      }
    },
    delegate: {
      onDisconnect: (error) => monitor.problem(`SIP.js reported its WebSocket disconnected${error ? `: ${error.message}` : ""}`),
      onMessage: (m) => bobMessages.push(m),
      onInvite: (inv) => bobCalls.push(inv),
    },
  });
  let registerer;

  await step("jssip alice registers (200 accepted by JsSIP)", async () => {
    const registered = deferred();
    alice.on("connected", () => alice.register());
    alice.on("registered", (e) => registered.resolve(e.response.status_code));
    alice.on("registrationFailed", (e) =>
      registered.reject(new Error(`registrationFailed: ${e.cause} ${e.response ? e.response.status_code : ""}`)),
    );
    alice.start();
    const status = await registered.promise;
    if (status !== 200 || !alice.isRegistered()) {
      throw new Error(`REGISTER answered ${status}, isRegistered=${alice.isRegistered()}`);
    }
  });

  await step("sipjs bob registers (200 accepted by SIP.js)", async () => {
    await bob.start();
    registerer = new SIP.Registerer(bob);
    const registered = deferred();
    registerer.stateChange.addListener((s) => {
      if (s === SIP.RegistererState.Registered) {
        registered.resolve();
      }
    });
    await registerer.register({
      requestDelegate: {
        onReject: (r) => registered.reject(new Error(`REGISTER rejected: ${r.message.statusCode} ${r.message.reasonPhrase}`)),
      },
    });
    await registered.promise;
  });

  await step("MESSAGE jssip->sipjs arrives with its UTF-8 body intact", async () => {
    const body = `${TEXT} (alice to bob)`;
    const arrived = bobMessages.next();
    const answered = deferred();
    alice.sendMessage(bobUri, body, {
      contentType: "text/plain;charset=utf-8",
      eventHandlers: {
        succeeded: (e) => answered.resolve(e.response.status_code),
        failed: (e) => answered.reject(new Error(`MESSAGE failed: ${e.cause} ${e.response ? e.response.status_code : ""}`)),
      },
    });
    const m = await arrived;
    checkMessage(m.request, body, "alice");
    await m.accept();
    const status = await answered.promise;
    if (status !== 200) {
      throw new Error(`MESSAGE answered ${status}`);
    }
  });

  await step("MESSAGE sipjs->jssip arrives with its UTF-8 body intact", async () => {
    const body = `${TEXT} (bob to alice)`;
    const arrived = aliceMessages.next();
    const answered = deferred();
    const messager = new SIP.Messager(bob, SIP.UserAgent.makeURI(aliceUri), body, "text/plain;charset=utf-8");
    await messager.message({
      requestDelegate: {
        onAccept: (r) => answered.resolve(r.message.statusCode),
        onReject: (r) => answered.reject(new Error(`MESSAGE rejected: ${r.message.statusCode} ${r.message.reasonPhrase}`)),
      },
    });
    const e = await arrived;
    checkMessage(e.request, body, "bob");
    const status = await answered.promise;
    if (status !== 200) {
      throw new Error(`MESSAGE answered ${status}`);
    }
  });

  // JsSIP calls SIP.js; `hangup` says who sends the BYE.
  async function jssipCallsSipjs(hangup) {
    const name = `call jssip->sipjs (${hangup} hangs up)`;
    let session;
    let invitation;
    const ringing = deferred();
    const confirmed = deferred();
    const ended = deferred();
    const acked = deferred();
    await step(`${name}: INVITE, 180, 200, ACK`, async () => {
      const incoming = bobCalls.next();
      const failed = deferred();
      session = alice.call(bobUri, {
        mediaConstraints: env.jssipMedia,
        pcConfig,
        eventHandlers: {
          progress: (e) => {
            if (e.originator === "remote") {
              ringing.resolve(e.response.status_code);
            }
          },
          confirmed: () => confirmed.resolve(),
          ended: (e) => ended.resolve(e),
          failed: (e) => failed.reject(new Error(`JsSIP: call failed: ${e.cause} ${e.message ? e.message.status_code ?? "" : ""}`)),
        },
      });
      const r = record(session);
      session.on("sdp", (s) => r[s.originator].push(s.sdp));
      await Promise.race([
        failed.promise,
        (async () => {
          invitation = await incoming;
          invitation.delegate = { onAck: () => acked.resolve() };
          await invitation.progress();
          const status = await ringing.promise;
          if (status !== 180) {
            throw new Error(`JsSIP saw progress ${status}, not 180`);
          }
          await invitation.accept({ sessionDescriptionHandlerOptions: env.sipjsMedia });
          await confirmed.promise;
          await acked.promise;
        })(),
      ]);
      const media = checkExchange(record(session), record(invitation));
      log(`INFO ${name}: offer/answer ${media}`);
    });
    if (env.realMedia) {
      await step(`${name}: media connects (ICE, DTLS)`, async () => {
        await mediaConnected("JsSIP", session.connection);
        await mediaConnected("SIP.js", invitation.sessionDescriptionHandler.peerConnection);
      });
    }
    await step(`${name}: BYE from the ${hangup === "caller" ? "caller, jssip" : "callee, sipjs"}`, async () => {
      const terminated = deferred();
      invitation.stateChange.addListener((s) => {
        if (s === SIP.SessionState.Terminated) {
          terminated.resolve();
        }
      });
      if (hangup === "caller") {
        session.terminate();
        await terminated.promise;
        await jssipEnded(ended, "local");
      } else {
        await sipjsBye(invitation);
        await jssipEnded(ended, "remote");
        await terminated.promise;
      }
    });
  }

  // SIP.js calls JsSIP; `hangup` says who sends the BYE.
  async function sipjsCallsJssip(hangup) {
    const name = `call sipjs->jssip (${hangup} hangs up)`;
    let session;
    let inviter;
    const ended = deferred();
    const terminated = deferred();
    await step(`${name}: INVITE, 180, 200, ACK`, async () => {
      const incoming = aliceCalls.next();
      const ringing = deferred();
      const answered = deferred();
      const established = deferred();
      const confirmed = deferred();
      inviter = new SIP.Inviter(bob, SIP.UserAgent.makeURI(aliceUri), {
        sessionDescriptionHandlerOptions: env.sipjsMedia,
      });
      inviter.stateChange.addListener((s) => {
        if (s === SIP.SessionState.Established) {
          established.resolve();
        } else if (s === SIP.SessionState.Terminated) {
          terminated.resolve();
          established.reject(new Error("SIP.js: the call ended before it was established"));
        }
      });
      await inviter.invite({
        requestDelegate: {
          onProgress: (r) => ringing.resolve(r.message.statusCode),
          onAccept: (r) => answered.resolve(r.message.statusCode),
          onReject: (r) => answered.reject(new Error(`INVITE rejected: ${r.message.statusCode} ${r.message.reasonPhrase}`)),
        },
      });
      session = await incoming;
      session.on("confirmed", () => confirmed.resolve());
      session.on("ended", (e) => ended.resolve(e));
      session.on("failed", (e) => confirmed.reject(new Error(`JsSIP: call failed: ${e.cause}`)));
      const status = await ringing.promise;
      if (status !== 180) {
        throw new Error(`SIP.js saw progress ${status}, not 180`);
      }
      session.answer({ mediaConstraints: env.jssipMedia, pcConfig });
      const ok = await answered.promise;
      if (ok !== 200) {
        throw new Error(`INVITE answered ${ok}`);
      }
      await established.promise;
      // JsSIP's UAS emits `confirmed` when the ACK arrives.
      await confirmed.promise;
      const media = checkExchange(record(inviter), record(session));
      log(`INFO ${name}: offer/answer ${media}`);
    });
    if (env.realMedia) {
      await step(`${name}: media connects (ICE, DTLS)`, async () => {
        await mediaConnected("SIP.js", inviter.sessionDescriptionHandler.peerConnection);
        await mediaConnected("JsSIP", session.connection);
      });
    }
    await step(`${name}: BYE from the ${hangup === "caller" ? "caller, sipjs" : "callee, jssip"}`, async () => {
      if (hangup === "caller") {
        await sipjsBye(inviter);
        await jssipEnded(ended, "remote");
      } else {
        session.terminate();
        await terminated.promise;
        await jssipEnded(ended, "local");
      }
      await terminated.promise;
    });
  }

  await jssipCallsSipjs("caller");
  await jssipCallsSipjs("callee");
  await sipjsCallsJssip("caller");
  await sipjsCallsJssip("callee");

  await step("jssip alice unregisters", async () => {
    const done = deferred();
    alice.on("unregistered", (e) => done.resolve(e.response ? e.response.status_code : undefined));
    alice.unregister();
    const status = await done.promise;
    if (status !== 200 || alice.isRegistered()) {
      throw new Error(`un-REGISTER answered ${status}, isRegistered=${alice.isRegistered()}`);
    }
  });

  await step("sipjs bob unregisters", async () => {
    const done = deferred();
    registerer.stateChange.addListener((s) => {
      if (s === SIP.RegistererState.Unregistered) {
        done.resolve();
      }
    });
    await registerer.unregister({
      requestDelegate: {
        onReject: (r) => done.reject(new Error(`un-REGISTER rejected: ${r.message.statusCode}`)),
      },
    });
    await done.promise;
  });

  await step("nothing unexpected arrived and no WebSocket was reopened", async () => {
    for (const box of [aliceMessages, aliceCalls, bobMessages, bobCalls]) {
      box.expectEmpty();
    }
    if (monitor.sockets.length !== 2) {
      throw new Error(`${monitor.sockets.length} WebSockets were opened, expected 2 (one per UA)`);
    }
  });

  // Closing now is expected.
  monitor.closing = true;
  alice.stop();
  await bob.stop();
}
