// Node has no WebRTC. JsSIP's RTCSession needs `RTCPeerConnection`; SIP.js takes a
// SessionDescriptionHandlerFactory. These stand-ins produce a valid SDP offer or answer
// (sdp.mjs) and refuse a malformed one from the other side, so the offer/answer exchange
// through the server is real text checked at both ends; no media flows.

import { checkSdp, standInSdp } from "./sdp.mjs";

/** Just enough of RTCSessionDescription for JsSIP. */
export class StandInSessionDescription {
  constructor({ type, sdp }) {
    this.type = type;
    this.sdp = sdp;
  }
}

/** Just enough of RTCPeerConnection for JsSIP's RTCSession (offer, answer, close). */
export class StandInPeerConnection extends EventTarget {
  constructor() {
    super();
    this.localDescription = null;
    this.remoteDescription = null;
    this.signalingState = "stable";
    // Nothing to gather: JsSIP sends the description as soon as it is set.
    this.iceGatheringState = "complete";
    this.iceConnectionState = "new";
    this.connectionState = "new";
  }

  async createOffer() {
    return new StandInSessionDescription({ type: "offer", sdp: standInSdp("jssip-stand-in") });
  }

  async createAnswer() {
    if (!this.remoteDescription || this.remoteDescription.type !== "offer") {
      throw new Error("createAnswer without a remote offer");
    }
    return new StandInSessionDescription({
      type: "answer",
      sdp: standInSdp("jssip-stand-in", this.remoteDescription.sdp),
    });
  }

  async setLocalDescription(desc) {
    checkSdp(desc.sdp);
    this.localDescription = new StandInSessionDescription(desc);
    this.signalingState = desc.type === "offer" ? "have-local-offer" : "stable";
  }

  async setRemoteDescription(desc) {
    // An answer must answer our offer; an offer must be well formed. A throw here makes
    // JsSIP refuse the description (488 or BYE), which fails the call step.
    const offer = desc.type === "answer" ? this.localDescription?.sdp : undefined;
    checkSdp(desc.sdp, offer);
    this.remoteDescription = new StandInSessionDescription(desc);
    this.signalingState = desc.type === "offer" ? "have-remote-offer" : "stable";
  }

  getSenders() {
    return [];
  }

  getReceivers() {
    return [];
  }

  getLocalStreams() {
    return [];
  }

  getRemoteStreams() {
    return [];
  }

  addTrack() {
    throw new Error("the Node stand-in has no media tracks");
  }

  close() {
    this.signalingState = "closed";
    this.iceConnectionState = "closed";
  }
}

/** A SIP.js SessionDescriptionHandler that speaks the stand-in SDP. */
class StandInSessionDescriptionHandler {
  constructor() {
    this.local = undefined;
    this.remote = undefined;
  }

  async getDescription() {
    const sdp = standInSdp("sipjs-stand-in", this.remote);
    this.local = sdp;
    return { body: sdp, contentType: "application/sdp" };
  }

  hasDescription(contentType) {
    return contentType === "application/sdp";
  }

  async setDescription(sdp) {
    // Remote offer (we answer next) or remote answer to our offer: checked either way.
    const offer = this.local !== undefined && this.remote === undefined ? this.local : undefined;
    checkSdp(sdp, offer);
    this.remote = sdp;
    if (offer !== undefined) {
      this.local = undefined;
    }
  }

  async rollbackDescription() {
    this.local = undefined;
  }

  sendDtmf() {
    return false;
  }

  close() {}
}

/** SIP.js `sessionDescriptionHandlerFactory` option. */
export function standInSdhFactory() {
  return new StandInSessionDescriptionHandler();
}

/** Installs the globals JsSIP looks up (`window.RTCPeerConnection`, `RTCSessionDescription`). */
export function installJsSipGlobals() {
  globalThis.RTCPeerConnection = StandInPeerConnection;
  globalThis.RTCSessionDescription = StandInSessionDescription;
  if (globalThis.window === undefined) {
    globalThis.window = globalThis;
  }
}
