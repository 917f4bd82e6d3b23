//! The WebSocket frame decoder (RFC 6455 §5.2, §5.3) and the receiver that reassembles
//! messages and applies the framing rules (RFC 6455 §5, §7.1.7, §8.1, §10.4; `ws::codec`).
//!
//! Input: byte 0 picks the receiver (bit 0: server or client role; bits 1–2: `max_message`
//! 1024, 1023, 64 KiB or 0; bit 3: idle buffer 4 KiB or 0), byte 1 seeds the chunking, the
//! rest is the byte stream read from the peer. `seed.sh` writes the framing vectors this way.
//!
//! Asserts:
//! - **chunking does not matter**: the events of the stream fed in arbitrary pieces (drained
//!   after every piece, as the shell does) equal those of the stream fed at once;
//! - **events keep their promises**: at most one Close or Fail, and last; messages within
//!   `max_message`, text messages valid UTF-8; control payloads within 125 bytes; a Close
//!   code one that may be sent; a Fail's code the one its reason names;
//! - **bounded memory** after every drain: held bytes within `max_message` plus one partial
//!   control frame, capacity within that plus the idle allowance (the module's memory notes);
//! - **decode → encode → decode**: the events re-encoded with the sender helpers (masked
//!   as a client must, or not as a server must) decode to the same events;
//! - **header layout**: a decoded header's size is the one its first two bytes announce, and a
//!   frame in the shortest length form re-encodes to exactly its bytes; masking at an offset
//!   is the byte-wise XOR of RFC 6455 §5.3.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_reference::ws::codec::{
    CloseCode, Event, Limits, Receiver, Role, encode_close, encode_message, encode_ping,
    encode_pong, is_sendable_close_code, run,
};
use sipws_reference::ws::frame::{
    FrameError, FramePrefix, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, apply_mask, apply_mask_at,
    decode_header, encode_frame, shortest_header_len,
};

const MAX_MESSAGE: [usize; 4] = [1024, 1023, Limits::DEFAULT_MAX_MESSAGE, 0];

fuzz_target!(|data: &[u8]| {
    let [config, chunk_seed, ref stream @ ..] = *data else {
        return;
    };
    let role = if config & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let limits = Limits {
        max_message: MAX_MESSAGE[usize::from((config >> 1) & 3)],
        max_idle_buffer: if config & 8 == 0 {
            Limits::DEFAULT_MAX_IDLE_BUFFER
        } else {
            0
        },
    };

    let at_once = run(role, limits, stream);
    let chunked = chunked(role, limits, stream, chunk_seed);
    assert_eq!(
        at_once, chunked,
        "the events depend on how the bytes were split"
    );
    check_events(&at_once, limits);
    reencode(&at_once, role, limits);
    header_layout(stream);
    masking(stream, config);
});

/// A small xorshift: deterministic piece sizes from the seed byte.
struct Pieces(u32);

impl Pieces {
    fn next_len(&mut self) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        // Mostly tiny pieces (headers split everywhere), sometimes large ones.
        let spans = [1, 2, 3, 7, 16, 64, 300, 5000];
        1 + (x as usize >> 3) % spans[(x & 7) as usize]
    }
}

fn chunked(role: Role, limits: Limits, stream: &[u8], seed: u8) -> Vec<Event> {
    let mut rx = Receiver::new(role, limits);
    let mut pieces = Pieces(0x9e37_79b9 ^ u32::from(seed));
    let mut events = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = pieces.next_len().min(rest.len());
        rx.feed(&rest[..n]);
        rest = &rest[n..];
        while let Some(e) = rx.next_event() {
            events.push(e);
        }
        // The module's memory notes: after a drain, at most one partial header or control
        // frame waits in the input, and the message is within its limit.
        let partial = MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD;
        assert!(
            rx.buffered() <= limits.max_message + partial,
            "{} bytes held",
            rx.buffered()
        );
        assert!(
            rx.retained_capacity() <= limits.max_idle_buffer.max(partial) + limits.max_message,
            "{} bytes of capacity retained",
            rx.retained_capacity()
        );
    }
    let terminal = events
        .iter()
        .any(|e| matches!(e, Event::Close { .. } | Event::Fail { .. }));
    assert_eq!(rx.is_terminated(), terminal);
    events
}

fn check_events(events: &[Event], limits: Limits) {
    for (i, e) in events.iter().enumerate() {
        let last = i + 1 == events.len();
        match e {
            Event::Message { kind, payload } => {
                assert!(payload.len() <= limits.max_message);
                if *kind == sipws_reference::ws::MessageKind::Text {
                    assert!(std::str::from_utf8(payload).is_ok(), "text is UTF-8");
                }
            }
            Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= MAX_CONTROL_PAYLOAD),
            Event::Close { code, reason } => {
                assert!(last, "events after a Close");
                assert!(
                    code.is_none_or(is_sendable_close_code),
                    "Close code {code:?}"
                );
                assert!(code.is_some() || reason.is_empty());
                assert!(reason.len() <= MAX_CONTROL_PAYLOAD - 2);
            }
            Event::Fail { code, reason } => {
                assert!(last, "events after a Fail");
                assert_eq!(*code, reason.code().get());
                assert!(matches!(code, 1002 | 1007 | 1009), "Fail code {code}");
            }
        }
    }
}

/// Encodes the events back with the sender helpers and decodes them again.
fn reencode(events: &[Event], role: Role, limits: Limits) {
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for (i, e) in events.iter().enumerate() {
        // RFC 6455 §5.1: a client masks every frame, a server none. Any key will do here.
        let mask = match role {
            Role::Server => Some([i as u8, 0x5a, 0xa5, 0x3c]),
            Role::Client => None,
        };
        match e {
            Event::Message { kind, payload } => {
                bytes.extend(encode_message(*kind, payload, mask));
            }
            Event::Ping(p) => match encode_ping(p, mask) {
                Ok(frame) => bytes.extend(frame),
                Err(err) => panic!("a received Ping does not re-encode: {err}"),
            },
            Event::Pong(p) => match encode_pong(p, mask) {
                Ok(frame) => bytes.extend(frame),
                Err(err) => panic!("a received Pong does not re-encode: {err}"),
            },
            Event::Close { code, reason } => {
                let code = code.map(|c| match CloseCode::new(c) {
                    Ok(code) => code,
                    Err(err) => panic!("a received Close code does not re-encode: {err}"),
                });
                bytes.extend(encode_close(code, reason, mask));
            }
            // A violation has no sender form; nothing follows it.
            Event::Fail { .. } => break,
        }
        expected.push(e.clone());
    }
    assert_eq!(run(role, limits, &bytes), expected, "decode/encode/decode");
}

fn header_layout(stream: &[u8]) {
    let [b0, b1, ..] = *stream else {
        return;
    };
    let prefix = FramePrefix::decode(b0, b1);
    match decode_header(stream) {
        Ok(None) => assert!(stream.len() < prefix.header_len()),
        Ok(Some((h, n))) => {
            assert_eq!(n, prefix.header_len());
            assert!(n <= MAX_HEADER_LEN);
            assert_eq!(h.mask.is_some(), prefix.masked);
            assert_eq!(
                (h.fin, h.rsv, h.opcode),
                (prefix.fin, prefix.rsv, prefix.opcode)
            );
            let masked = h.mask.is_some();
            let Ok(len) = usize::try_from(h.payload_len) else {
                return;
            };
            let shortest = n == shortest_header_len(masked, h.payload_len);
            if h.rsv == 0 && !h.opcode.is_reserved() && shortest && stream.len() - n >= len {
                let mut payload = stream[n..n + len].to_vec();
                if let Some(key) = h.mask {
                    apply_mask(&mut payload, key);
                }
                assert_eq!(
                    encode_frame(h.fin, h.opcode, h.mask, &payload),
                    &stream[..n + len],
                    "a shortest-form frame re-encodes to other bytes"
                );
            }
        }
        Err(FrameError::LengthMsbSet { len }) => {
            assert_eq!(prefix.len7, 127);
            assert_ne!(len >> 63, 0);
        }
        Err(e) => panic!("decode_header returned {e}"),
    }
}

fn masking(stream: &[u8], config: u8) {
    let key = [config, 0x37, 0xfa, stream.len() as u8];
    let offset = usize::from(config);
    let mut masked = stream.to_vec();
    apply_mask_at(&mut masked, key, offset);
    for (i, (m, s)) in masked.iter().zip(stream).enumerate() {
        assert_eq!(*m, s ^ key[(i + offset) % 4], "byte {i} at offset {offset}");
    }
}
