// SDP (RFC 8866) checks for the interop flows, and the stand-in offer/answer that Node
// uses where it has no WebRTC. Runs unchanged in Node and in the browser.

/** The lines of an SDP body; throws unless every line ends with CRLF (RFC 8866 §5). */
function sdpLines(sdp) {
  if (typeof sdp !== "string" || sdp.length === 0) {
    throw new Error("empty SDP body");
  }
  if (!sdp.endsWith("\r\n")) {
    throw new Error("SDP does not end with CRLF");
  }
  const lines = sdp.slice(0, -2).split("\r\n");
  for (const l of lines) {
    if (l.includes("\n") || l.includes("\r")) {
      throw new Error(`SDP line with a bare CR or LF: ${JSON.stringify(l)}`);
    }
    if (!/^[a-z]=/.test(l)) {
      throw new Error(`SDP line is not <type>=<value>: ${JSON.stringify(l)}`);
    }
  }
  return lines;
}

/**
 * Checks that `sdp` is a well-formed session description (RFC 8866 §5: v=0 first, then o=
 * with six fields, s=, t=, one or more m= with port, proto and formats, a connection address
 * for every media section or the session) and returns its media sections as
 * `{ media, port, proto, formats }`. With `offer`, checks it answers that offer (RFC 3264 §6:
 * as many m= lines, same media types, formats taken from the offer's for RTP/AVP).
 */
export function checkSdp(sdp, offer) {
  const lines = sdpLines(sdp);
  if (lines[0] !== "v=0") {
    throw new Error(`SDP must start with v=0, got ${JSON.stringify(lines[0])}`);
  }
  const o = lines.find((l) => l.startsWith("o="));
  if (!o || lines[1] !== o || o.slice(2).split(" ").length !== 6) {
    throw new Error(`SDP needs o= with six fields as its second line, got ${JSON.stringify(lines[1])}`);
  }
  if (!lines[2] || !lines[2].startsWith("s=")) {
    throw new Error(`SDP needs s= as its third line, got ${JSON.stringify(lines[2])}`);
  }
  if (!lines.some((l) => /^t=\d+ \d+$/.test(l))) {
    throw new Error("SDP has no t=<start> <stop> line");
  }
  const firstM = lines.findIndex((l) => l.startsWith("m="));
  if (firstM < 0) {
    throw new Error("SDP has no m= line");
  }
  const sessionConnection = lines.slice(0, firstM).some((l) => l.startsWith("c=IN "));
  const media = [];
  for (let i = firstM; i < lines.length; i++) {
    const l = lines[i];
    if (!l.startsWith("m=")) {
      if (l.startsWith("c=IN ")) {
        media[media.length - 1].connection = true;
      }
      continue;
    }
    const m = /^m=(\w+) (\d+)(?:\/\d+)? ([\w/.]+)((?: \S+)+)$/.exec(l);
    if (!m) {
      throw new Error(`malformed m= line: ${JSON.stringify(l)}`);
    }
    media.push({
      media: m[1],
      port: Number(m[2]),
      proto: m[3],
      formats: m[4].trim().split(" "),
      connection: sessionConnection,
    });
  }
  for (const m of media) {
    if (!m.connection) {
      throw new Error(`m=${m.media} has no c= line and the session has none`);
    }
  }
  if (offer !== undefined) {
    const offered = checkSdp(offer);
    if (offered.length !== media.length) {
      throw new Error(`answer has ${media.length} m= lines, the offer ${offered.length}`);
    }
    media.forEach((m, i) => {
      const o = offered[i];
      if (m.media !== o.media) {
        throw new Error(`answer's m= line ${i} is ${m.media}, the offer's ${o.media}`);
      }
      if (m.port !== 0 && m.proto === "RTP/AVP" && !m.formats.every((f) => o.formats.includes(f))) {
        throw new Error(`answer's formats ${m.formats} are not among the offer's ${o.formats}`);
      }
    });
  }
  return media;
}

let counter = 0;

/**
 * A stand-in SDP for Node, which has no WebRTC: one audio stream, RTP/AVP with PCMU, PCMA and
 * telephone-event. An answer keeps the offer's m= lines and the formats of ours it offered.
 * `tag` goes into the s= line so a test can tell whose description arrived.
 */
export function standInSdp(tag, offer) {
  counter += 1;
  const sessionId = Date.now() * 100 + counter;
  const ours = ["0", "8", "101"];
  const rtpmap = { 0: "PCMU/8000", 8: "PCMA/8000", 101: "telephone-event/8000" };
  let sections = [{ media: "audio", formats: ours }];
  if (offer !== undefined) {
    sections = checkSdp(offer).map((m) => {
      const formats = m.media === "audio" ? ours.filter((f) => m.formats.includes(f)) : [];
      return { media: m.media, formats: formats.length ? formats : m.formats.slice(0, 1), rejected: !formats.length };
    });
  }
  const lines = [
    "v=0",
    `o=- ${sessionId} 1 IN IP4 127.0.0.1`,
    `s=${tag}`,
    "c=IN IP4 127.0.0.1",
    "t=0 0",
  ];
  sections.forEach((s, i) => {
    lines.push(`m=${s.media} ${s.rejected ? 0 : 40000 + 2 * i} RTP/AVP ${s.formats.join(" ")}`);
    for (const f of s.formats) {
      if (rtpmap[f]) {
        lines.push(`a=rtpmap:${f} ${rtpmap[f]}`);
      }
    }
    if (s.formats.includes("101")) {
      lines.push("a=fmtp:101 0-15");
    }
    lines.push("a=sendrecv");
  });
  return lines.join("\r\n") + "\r\n";
}
