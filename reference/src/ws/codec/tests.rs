//! Tests named after the spec/requirements.md §2.3 rows they enforce. Every event sequence is
//! checked three ways by [`events`]: all bytes at once, one byte at a time, and (for inputs
//! up to 2 KiB) split in two at every byte boundary.

use proptest::prelude::*;

use super::*;
use crate::ws::frame::{FrameError, FrameHeader, MAX_HEADER_LEN, decode_header, encode_frame};

/// The RFC 6455 §5.7 example key.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const REGISTER: &[u8] = b"REGISTER sip:proxy.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
Supported: path, outbound, gruu\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1\r\n\r\n";

/// A client-to-server frame (masked).
fn c(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    encode_frame(fin, opcode, Some(KEY), payload)
}

/// A server-to-client frame (unmasked).
fn s(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    encode_frame(fin, opcode, None, payload)
}

/// `frame` with its first byte (FIN, RSV, opcode) replaced.
fn with_b0(mut frame: Vec<u8>, b0: u8) -> Vec<u8> {
    frame[0] = b0;
    frame
}

fn drain(rx: &mut Receiver, out: &mut Vec<Event>) {
    while let Some(e) = rx.next_event() {
        out.push(e);
    }
}

/// The events for `bytes`, asserting that every way of cutting the input gives the same.
fn events(role: Role, limits: Limits, bytes: &[u8]) -> Vec<Event> {
    let whole = run(role, limits, bytes);
    let mut rx = Receiver::new(role, limits);
    let mut got = Vec::new();
    for b in bytes {
        rx.feed(std::slice::from_ref(b));
        drain(&mut rx, &mut got);
    }
    assert_eq!(got, whole, "byte-at-a-time feeding differs");
    if bytes.len() <= 2048 {
        for cut in 0..=bytes.len() {
            let mut rx = Receiver::new(role, limits);
            let mut got = Vec::new();
            rx.feed(&bytes[..cut]);
            drain(&mut rx, &mut got);
            rx.feed(&bytes[cut..]);
            drain(&mut rx, &mut got);
            assert_eq!(got, whole, "split at {cut} differs");
        }
    }
    whole
}

fn server(bytes: &[u8]) -> Vec<Event> {
    events(Role::Server, Limits::default(), bytes)
}

fn client(bytes: &[u8]) -> Vec<Event> {
    events(Role::Client, Limits::default(), bytes)
}

fn text(payload: &[u8]) -> Event {
    Event::Message {
        kind: MessageKind::Text,
        payload: payload.to_vec(),
    }
}

fn binary(payload: &[u8]) -> Event {
    Event::Message {
        kind: MessageKind::Binary,
        payload: payload.to_vec(),
    }
}

/// `events` ends with exactly one Fail for `reason`, enforcing `id`, with close `code`.
#[track_caller]
fn assert_fail(events: &[Event], reason: FailReason, id: &str, code: u16) {
    assert_eq!(
        events.last(),
        Some(&Event::Fail { code, reason }),
        "events: {events:?}"
    );
    assert_eq!(reason.requirement(), id);
    assert_eq!(reason.code().get(), code);
    let fails = events
        .iter()
        .filter(|e| matches!(e, Event::Fail { .. }))
        .count();
    assert_eq!(fails, 1);
}

// ---------------------------------------------------------------------------------------------
// 6455-5.1: masking direction
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_5_1_a_client_frames_are_masked() {
    let frame = encode_message(MessageKind::Text, REGISTER, Some(KEY));
    let (h, n) = decode_header(&frame).unwrap().unwrap();
    assert_eq!(h.mask, Some(KEY));
    assert_ne!(&frame[n..], REGISTER, "the payload travels masked");
    assert_eq!(server(&frame), [text(REGISTER)]);
    for control in [
        encode_ping(b"ka", Some(KEY)).unwrap(),
        encode_pong(b"ka", Some(KEY)).unwrap(),
        encode_close(Some(CloseCode::NORMAL), "", Some(KEY)),
    ] {
        assert_eq!(control[1] & 0x80, 0x80);
    }
}

#[test]
fn req_6455_5_1_b_unmasked_client_frame_fails_1002() {
    let ev = server(&s(true, OpCode::Text, REGISTER));
    assert_eq!(ev.len(), 1, "no message is delivered: {ev:?}");
    assert_fail(&ev, FailReason::UnmaskedClientFrame, "6455-5.1-b", 1002);
    let ev = server(&s(true, OpCode::Ping, b"x"));
    assert_fail(&ev, FailReason::UnmaskedClientFrame, "6455-5.1-b", 1002);
    // After a valid frame too.
    let ev = server(&[c(true, OpCode::Ping, b"1"), s(true, OpCode::Ping, b"2")].concat());
    assert_eq!(ev[0], Event::Ping(b"1".to_vec()));
    assert_fail(&ev, FailReason::UnmaskedClientFrame, "6455-5.1-b", 1002);
}

#[test]
fn req_6455_5_1_c_server_frames_are_unmasked() {
    let frames = [
        encode_message(MessageKind::Text, REGISTER, None),
        encode_message(MessageKind::Binary, &[0xFF], None),
        encode_ping(b"ka", None).unwrap(),
        encode_pong(b"ka", None).unwrap(),
        encode_close(Some(CloseCode::GOING_AWAY), "bye", None),
        FailReason::InvalidUtf8Text.close_frame(None),
    ];
    for frame in &frames {
        assert_eq!(frame[1] & 0x80, 0, "{frame:?}");
    }
    assert_eq!(
        client(&frames.concat()),
        [
            text(REGISTER),
            binary(&[0xFF]),
            Event::Ping(b"ka".to_vec()),
            Event::Pong(b"ka".to_vec()),
            Event::Close {
                code: Some(1001),
                reason: "bye".into()
            },
        ]
    );
}

#[test]
fn req_6455_5_1_d_masked_server_frame_fails_1002() {
    let ev = client(&c(true, OpCode::Text, REGISTER));
    assert_eq!(ev.len(), 1);
    assert_fail(&ev, FailReason::MaskedServerFrame, "6455-5.1-d", 1002);
    let ev = client(&c(true, OpCode::Close, &[]));
    assert_fail(&ev, FailReason::MaskedServerFrame, "6455-5.1-d", 1002);
}

// ---------------------------------------------------------------------------------------------
// 6455-5.2: RSV bits, opcodes, length forms
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_5_2_a_rsv_bits_fail_1002() {
    for rsv in 1u8..8 {
        for (op, payload) in [(OpCode::Text, REGISTER), (OpCode::Ping, b"p".as_slice())] {
            let b0 = 0x80 | (rsv << 4) | op.as_u8();
            let ev = server(&with_b0(c(true, op, payload), b0));
            assert_eq!(ev.len(), 1);
            assert_fail(&ev, FailReason::ReservedBits { rsv }, "6455-5.2-a", 1002);
        }
    }
    // Decided from the first two bytes: no need to wait for the payload.
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&[0xC1, 0xFE]);
    assert_eq!(
        rx.next_event(),
        Some(Event::Fail {
            code: 1002,
            reason: FailReason::ReservedBits { rsv: 0b100 }
        })
    );
}

#[test]
fn req_6455_5_2_b_reserved_opcodes_fail_1002() {
    for opcode in (0x3u8..=0x7).chain(0xB..=0xF) {
        let frame = c(true, OpCode::from_nibble(opcode), b"x");
        let ev = server(&frame);
        assert_eq!(ev.len(), 1);
        assert_fail(
            &ev,
            FailReason::ReservedOpcode { opcode },
            "6455-5.2-b",
            1002,
        );
        let ev = client(&s(true, OpCode::from_nibble(opcode), b""));
        assert_fail(
            &ev,
            FailReason::ReservedOpcode { opcode },
            "6455-5.2-b",
            1002,
        );
    }
}

#[test]
fn req_6455_5_2_c_shortest_length_encoding() {
    for (len, header, len7) in [(125usize, 2usize, 125u8), (126, 4, 126), (65536, 10, 127)] {
        let payload = vec![b'a'; len];
        let frame = encode_message(MessageKind::Text, &payload, None);
        assert_eq!(frame[1], len7, "len {len}");
        assert_eq!(frame.len(), header + len, "len {len}");
        let limits = Limits::with_max_message(len);
        assert_eq!(
            events(Role::Client, limits, &frame),
            [text(&payload)],
            "len {len}"
        );
    }
}

#[test]
fn req_6455_5_2_c_64_bit_length_with_msb_set_fails_1002() {
    let mut frame = vec![0x82, 0xFF];
    frame.extend_from_slice(&(u64::MAX).to_be_bytes());
    frame.extend_from_slice(&KEY);
    let ev = server(&frame);
    assert_fail(&ev, FailReason::LengthMsbSet, "6455-5.2-c", 1002);
}

/// Decision (RFC 6455 §5.2 binds senders only): a non-minimal length form is accepted.
#[test]
fn req_6455_5_2_c_non_minimal_length_is_accepted_on_receive() {
    let mut frame = vec![0x81, 0x7E, 0x00, 0x05];
    frame.extend_from_slice(b"Hello");
    assert_eq!(client(&frame), [text(b"Hello")]);
    let mut frame = vec![0x89, 0x7F];
    frame.extend_from_slice(&2u64.to_be_bytes());
    frame.extend_from_slice(b"ka");
    assert_eq!(client(&frame), [Event::Ping(b"ka".to_vec())]);
}

// ---------------------------------------------------------------------------------------------
// 6455-5.4: fragmentation
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_5_4_a_fragmented_and_unfragmented_messages_are_received() {
    let (a, rest) = REGISTER.split_at(10);
    let (b, d) = rest.split_at(100);
    let fragmented = [
        c(false, OpCode::Text, a),
        c(false, OpCode::Continuation, b),
        c(true, OpCode::Continuation, d),
    ]
    .concat();
    assert_eq!(server(&fragmented), [text(REGISTER)]);
    assert_eq!(server(&c(true, OpCode::Text, REGISTER)), [text(REGISTER)]);
    // Empty fragments, and an empty message.
    let empties = [
        c(false, OpCode::Binary, b""),
        c(false, OpCode::Continuation, b"ab"),
        c(true, OpCode::Continuation, b""),
        c(true, OpCode::Text, b""),
    ]
    .concat();
    assert_eq!(server(&empties), [binary(b"ab"), text(b"")]);
}

#[test]
fn req_6455_5_4_b_ping_between_fragments() {
    let (a, b) = REGISTER.split_at(50);
    let bytes = [
        c(false, OpCode::Text, a),
        c(true, OpCode::Ping, b"p1"),
        c(true, OpCode::Pong, b"p2"),
        c(true, OpCode::Continuation, b),
    ]
    .concat();
    assert_eq!(
        server(&bytes),
        [
            Event::Ping(b"p1".to_vec()),
            Event::Pong(b"p2".to_vec()),
            text(REGISTER)
        ]
    );
    // A Close inside a fragmented message ends the connection; the partial message is dropped.
    let bytes = [
        c(false, OpCode::Text, a),
        c(true, OpCode::Close, &1000u16.to_be_bytes()),
        c(true, OpCode::Continuation, b),
    ]
    .concat();
    assert_eq!(
        server(&bytes),
        [Event::Close {
            code: Some(1000),
            reason: String::new()
        }]
    );
}

#[test]
fn req_6455_5_4_c_fragmented_control_frame_fails_1002() {
    for op in [OpCode::Ping, OpCode::Pong, OpCode::Close] {
        let ev = server(&c(false, op, b""));
        assert_fail(
            &ev,
            FailReason::FragmentedControlFrame { opcode: op.as_u8() },
            "6455-5.4-c",
            1002,
        );
    }
}

#[test]
fn req_6455_5_4_d_continuation_without_message_fails_1002() {
    let ev = server(&c(true, OpCode::Continuation, b"x"));
    assert_fail(&ev, FailReason::UnexpectedContinuation, "6455-5.4-d", 1002);
    // After a complete message, too.
    let ev = server(
        &[
            c(true, OpCode::Text, b"a"),
            c(false, OpCode::Continuation, b"b"),
        ]
        .concat(),
    );
    assert_eq!(ev[0], text(b"a"));
    assert_fail(&ev, FailReason::UnexpectedContinuation, "6455-5.4-d", 1002);
}

#[test]
fn req_6455_5_4_d_new_message_inside_fragmented_message_fails_1002() {
    for second in [OpCode::Text, OpCode::Binary] {
        for fin in [true, false] {
            let ev = server(&[c(false, OpCode::Text, b"a"), c(fin, second, b"b")].concat());
            assert_eq!(ev.len(), 1, "{ev:?}");
            assert_fail(&ev, FailReason::InterleavedMessage, "6455-5.4-d", 1002);
        }
    }
}

#[test]
fn req_6455_5_4_e_fragments_keep_order_and_first_frame_type() {
    // Binary start frame: the continuations' bytes (not UTF-8) stay binary, in order.
    let bytes = [
        c(false, OpCode::Binary, &[1, 2]),
        c(false, OpCode::Continuation, &[0xFF, 0xFE]),
        c(true, OpCode::Continuation, &[3]),
    ]
    .concat();
    assert_eq!(server(&bytes), [binary(&[1, 2, 0xFF, 0xFE, 3])]);
}

// ---------------------------------------------------------------------------------------------
// 6455-5.5: control frames
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_5_5_a_control_payload_over_125_fails_1002() {
    let ok = [7u8; 125];
    assert_eq!(
        server(&c(true, OpCode::Ping, &ok)),
        [Event::Ping(ok.to_vec())]
    );
    for op in [OpCode::Ping, OpCode::Pong, OpCode::Close] {
        let ev = server(&c(true, op, &[7u8; 126]));
        assert_fail(
            &ev,
            FailReason::ControlFrameTooLong { len: 126 },
            "6455-5.5-a",
            1002,
        );
    }
    // Decided at the header: the payload is never awaited.
    let frame = c(true, OpCode::Ping, &[7u8; 126]);
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&frame[..8]);
    assert!(matches!(
        rx.next_event(),
        Some(Event::Fail { code: 1002, .. })
    ));
    assert!(matches!(
        encode_ping(&[0; 126], None),
        Err(FrameError::ControlPayloadTooLong { len: 126 })
    ));
}

#[test]
fn req_6455_5_5_1_a_close_body_is_code_then_utf8_reason() {
    let mut body = 1001u16.to_be_bytes().to_vec();
    body.extend_from_slice("au revoir ✓".as_bytes());
    assert_eq!(
        server(&c(true, OpCode::Close, &body)),
        [Event::Close {
            code: Some(1001),
            reason: "au revoir ✓".into()
        }]
    );
    assert_eq!(
        server(&c(true, OpCode::Close, b"")),
        [Event::Close {
            code: None,
            reason: String::new()
        }]
    );
}

#[test]
fn req_6455_5_5_1_a_close_with_one_byte_fails_1002() {
    let ev = server(&c(true, OpCode::Close, &[0x03]));
    assert_fail(&ev, FailReason::CloseOneByte, "6455-5.5.1-a", 1002);
}

#[test]
fn req_6455_5_5_1_a_close_reason_not_utf8_fails_1007() {
    let ev = server(&c(true, OpCode::Close, &[0x03, 0xE8, b'o', 0xC0, 0xAF]));
    assert_fail(&ev, FailReason::CloseReasonNotUtf8, "6455-5.5.1-a", 1007);
}

#[test]
fn req_6455_5_5_1_b_close_is_reported_for_the_echo() {
    let ev = server(&c(true, OpCode::Close, &[0x03, 0xE8]));
    let [Event::Close { code, reason }] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!((*code, reason.as_str()), (Some(1000), ""));
    // The echo (RFC 6455 §5.5.1): the received code is always sendable.
    let echo = encode_close(code.map(|c| CloseCode::new(c).unwrap()), "", None);
    assert_eq!(echo, [0x88, 0x02, 0x03, 0xE8]);
    assert_eq!(client(&echo), ev);
    // An empty Close is echoed empty.
    assert_eq!(
        encode_close(None, "ignored without a code", None),
        [0x88, 0x00]
    );
}

/// RFC 6455 §1.4: after the peer's Close, further data is discarded.
#[test]
fn close_discards_everything_after_it() {
    let bytes = [
        c(true, OpCode::Close, &[]),
        c(true, OpCode::Text, REGISTER),
        vec![0xFF; 9],
    ]
    .concat();
    assert_eq!(server(&bytes).len(), 1);
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&bytes);
    assert!(matches!(rx.next_event(), Some(Event::Close { .. })));
    assert!(rx.is_terminated());
    rx.feed(&c(true, OpCode::Ping, b"x"));
    assert_eq!(rx.next_event(), None);
    assert_eq!(rx.retained_capacity(), 0);
}

#[test]
fn req_6455_5_5_2_a_ping_is_delivered_and_pong_carries_it_back() {
    let ev = server(&c(true, OpCode::Ping, b"x1"));
    assert_eq!(ev, [Event::Ping(b"x1".to_vec())]);
    let pong = encode_pong(b"x1", None).unwrap();
    assert_eq!(pong, [0x8A, 0x02, b'x', b'1']);
    assert_eq!(client(&pong), [Event::Pong(b"x1".to_vec())]);
}

#[test]
fn req_6455_5_5_3_a_pong_payload() {
    let payload: Vec<u8> = (0u8..125).map(|i| i.wrapping_mul(97) ^ 0x5A).collect();
    let ev = server(&c(true, OpCode::Ping, &payload));
    let [Event::Ping(got)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(got, &payload);
    // The Receiver only yields Ping payloads of at most 125 bytes, so encode_pong succeeds.
    let pong = encode_pong(got, None).unwrap();
    assert_eq!(client(&pong), [Event::Pong(payload)]);
}

#[test]
fn req_6455_5_5_3_b_unsolicited_pong_is_harmless() {
    let bytes = [
        c(true, OpCode::Pong, b"unsolicited"),
        c(true, OpCode::Text, REGISTER),
    ]
    .concat();
    assert_eq!(
        server(&bytes),
        [Event::Pong(b"unsolicited".to_vec()), text(REGISTER)]
    );
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&bytes);
    drain(&mut rx, &mut Vec::new());
    assert!(!rx.is_terminated());
}

// ---------------------------------------------------------------------------------------------
// 6455-5.6: UTF-8
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_5_6_a_invalid_utf8_text_fails_1007() {
    for bad in [
        &[0xC0, 0xAF][..],         // overlong '/'
        &[b'a', 0xFF, b'b'],       // never valid
        &[0xED, 0xA0, 0x80],       // surrogate U+D800
        &[0xF4, 0x90, 0x80, 0x80], // above U+10FFFF
        &[0xE2, 0x28, 0xA1],       // bad continuation
        &[0x80],                   // lone continuation
    ] {
        let ev = server(&c(true, OpCode::Text, bad));
        assert_fail(&ev, FailReason::InvalidUtf8Text, "6455-5.6-a", 1007);
    }
    // The same bytes are fine in a binary message.
    assert_eq!(
        server(&c(true, OpCode::Binary, &[0xC0, 0xAF])),
        [binary(&[0xC0, 0xAF])]
    );
}

#[test]
fn req_6455_5_6_a_utf8_char_split_across_fragments_is_accepted() {
    let euro = "€".as_bytes(); // E2 82 AC
    for cut in 1..3 {
        let bytes = [
            c(false, OpCode::Text, &euro[..cut]),
            c(true, OpCode::Continuation, &euro[cut..]),
        ]
        .concat();
        assert_eq!(server(&bytes), [text(euro)]);
    }
    // A 4-byte character over four fragments, with a Ping in the middle.
    let emoji = "😀".as_bytes();
    let bytes = [
        c(false, OpCode::Text, &emoji[..1]),
        c(false, OpCode::Continuation, &emoji[1..2]),
        c(true, OpCode::Ping, b""),
        c(false, OpCode::Continuation, &emoji[2..3]),
        c(true, OpCode::Continuation, &emoji[3..]),
    ]
    .concat();
    assert_eq!(server(&bytes), [Event::Ping(vec![]), text(emoji)]);
}

#[test]
fn req_6455_5_6_a_invalid_utf8_fails_as_soon_as_certain() {
    // In a frame whose payload has not all arrived: the first bad byte decides.
    let mut payload = vec![b'a'; 100];
    payload[3] = 0xC0;
    let frame = c(true, OpCode::Text, &payload);
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&frame[..6 + 3]);
    assert_eq!(rx.next_event(), None);
    rx.feed(&frame[9..10]);
    assert!(matches!(
        rx.next_event(),
        Some(Event::Fail { code: 1007, .. })
    ));
    // Across fragments: E2 then 28 fails at the second fragment, before the message ends.
    let bytes = [
        c(false, OpCode::Text, &[0xE2]),
        c(false, OpCode::Continuation, &[0x28]),
        c(true, OpCode::Ping, b"never"),
    ]
    .concat();
    let ev = server(&bytes);
    assert_eq!(ev.len(), 1);
    assert_fail(&ev, FailReason::InvalidUtf8Text, "6455-5.6-a", 1007);
    // A surrogate's second byte is already certain (ED A0).
    let ev = server(
        &[
            c(false, OpCode::Text, &[0xED, 0xA0]),
            c(true, OpCode::Ping, b""),
        ]
        .concat(),
    );
    assert_eq!(ev.len(), 1);
    assert_fail(&ev, FailReason::InvalidUtf8Text, "6455-5.6-a", 1007);
}

#[test]
fn req_6455_5_6_a_text_ending_mid_character_fails_1007() {
    let ev = server(&c(true, OpCode::Text, &"€".as_bytes()[..2]));
    assert_fail(&ev, FailReason::InvalidUtf8Text, "6455-5.6-a", 1007);
    let bytes = [
        c(false, OpCode::Text, b"ok \xE2"),
        c(true, OpCode::Continuation, b""),
    ]
    .concat();
    assert_fail(
        &server(&bytes),
        FailReason::InvalidUtf8Text,
        "6455-5.6-a",
        1007,
    );
}

// ---------------------------------------------------------------------------------------------
// 6455-7: failing and closing
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_7_1_7_a_nothing_after_fail() {
    // A violation followed, in the same write, by a valid REGISTER frame.
    let bytes = [
        with_b0(c(true, OpCode::Text, b"x"), 0xF1),
        c(true, OpCode::Text, REGISTER),
        c(true, OpCode::Ping, b"p"),
    ]
    .concat();
    let ev = server(&bytes);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_fail(
        &ev,
        FailReason::ReservedBits { rsv: 0b111 },
        "6455-5.2-a",
        1002,
    );
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&bytes);
    assert!(matches!(rx.next_event(), Some(Event::Fail { .. })));
    assert!(rx.is_terminated());
    assert_eq!(rx.retained_capacity(), 0, "a failed receiver holds nothing");
    for _ in 0..3 {
        rx.feed(&c(true, OpCode::Text, REGISTER));
        assert_eq!(rx.next_event(), None);
    }
    assert_eq!(rx.buffered(), 0);
}

#[test]
fn req_6455_7_4_1_a_1005_1006_1015_are_never_sent() {
    for code in [1005, 1006, 1015] {
        assert_eq!(CloseCode::new(code), Err(CloseCodeError { code }));
    }
    // Every code CloseCode admits round-trips through a Close frame and is accepted.
    for code in 0..=u16::MAX {
        let Ok(cc) = CloseCode::new(code) else {
            assert!(!is_sendable_close_code(code));
            continue;
        };
        assert!(!matches!(code, 1005 | 1006 | 1015));
        let frame = encode_close(Some(cc), "r", None);
        assert_eq!(
            run(Role::Client, Limits::default(), &frame),
            [Event::Close {
                code: Some(code),
                reason: "r".into()
            }]
        );
    }
}

#[test]
fn req_6455_7_4_1_b_invalid_close_codes_fail_1002() {
    for code in [
        0,
        999,
        1004,
        1005,
        1006,
        1015,
        1016,
        2000,
        2999,
        5000,
        u16::MAX,
    ] {
        let ev = server(&c(true, OpCode::Close, &code.to_be_bytes()));
        assert_fail(
            &ev,
            FailReason::InvalidCloseCode { code },
            "6455-7.4.1-b",
            1002,
        );
    }
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        assert_eq!(
            server(&c(true, OpCode::Close, &code.to_be_bytes())),
            [Event::Close {
                code: Some(code),
                reason: String::new()
            }]
        );
    }
}

#[test]
fn close_reason_is_cut_at_a_character_boundary() {
    let reason = "é".repeat(100); // 200 bytes
    let frame = encode_close(Some(CloseCode::NORMAL), &reason, None);
    assert!(frame.len() <= 2 + 125);
    let ev = client(&frame);
    let [Event::Close { reason: got, .. }] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(got.len(), 122, "61 two-byte characters fit in 123 bytes");
    assert!(reason.starts_with(got.as_str()));
}

#[test]
fn every_fail_reason_names_a_row_and_a_sendable_code() {
    use FailReason::*;
    let all = [
        UnmaskedClientFrame,
        MaskedServerFrame,
        ReservedBits { rsv: 1 },
        ReservedOpcode { opcode: 3 },
        LengthMsbSet,
        FragmentedControlFrame { opcode: 9 },
        ControlFrameTooLong { len: 126 },
        UnexpectedContinuation,
        InterleavedMessage,
        MessageTooBig { size: 10, limit: 9 },
        InvalidUtf8Text,
        CloseOneByte,
        InvalidCloseCode { code: 1005 },
        CloseReasonNotUtf8,
    ];
    for reason in all {
        assert!(reason.requirement().starts_with("6455-"), "{reason:?}");
        assert!(reason.summary().len() <= MAX_CLOSE_REASON);
        assert!(reason.to_string().contains("RFC 6455 §"), "{reason}");
        for mask in [None, Some(KEY)] {
            let role = if mask.is_some() {
                Role::Server
            } else {
                Role::Client
            };
            assert_eq!(
                run(role, Limits::default(), &reason.close_frame(mask)),
                [Event::Close {
                    code: Some(reason.code().get()),
                    reason: reason.summary().into()
                }]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6455-10.4: size limits
// ---------------------------------------------------------------------------------------------

#[test]
fn req_6455_10_4_a_header_announcing_2_pow_62_fails_1009_without_allocating() {
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(1u64 << 62).to_be_bytes());
    header.extend_from_slice(&KEY);
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&header);
    let before = rx.retained_capacity();
    assert!(
        before <= MAX_HEADER_LEN * 2,
        "only the header is held: {before}"
    );
    let size = 1u64 << 62;
    let limit = Limits::DEFAULT_MAX_MESSAGE;
    assert_eq!(
        rx.next_event(),
        Some(Event::Fail {
            code: 1009,
            reason: FailReason::MessageTooBig { size, limit }
        })
    );
    assert_eq!(rx.retained_capacity(), 0);
    assert_fail(
        &server(&header),
        FailReason::MessageTooBig { size, limit },
        "6455-10.4-a",
        1009,
    );
}

#[test]
fn req_6455_10_4_a_fragmented_message_over_limit_fails_1009() {
    // 1 KiB fragments towards 16 MiB: fails at the header of the fragment that crosses
    // 64 KiB, before its payload, with only 64 KiB held.
    let chunk = vec![b'a'; 1024];
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&c(false, OpCode::Text, &chunk));
    let mut fed = 1024usize;
    let mut event = rx.next_event();
    while event.is_none() && fed < 16 << 20 {
        let frame = c(false, OpCode::Continuation, &chunk);
        rx.feed(&frame[..8]);
        event = rx.next_event();
        if event.is_none() {
            rx.feed(&frame[8..]);
            event = rx.next_event();
            fed += 1024;
        }
        assert!(rx.buffered() <= Limits::DEFAULT_MAX_MESSAGE);
    }
    assert_eq!(fed, 64 * 1024);
    assert_eq!(
        event,
        Some(Event::Fail {
            code: 1009,
            reason: FailReason::MessageTooBig {
                size: 65 * 1024,
                limit: 64 * 1024
            }
        })
    );
    assert_eq!(
        FailReason::MessageTooBig { size: 0, limit: 0 }.requirement(),
        "6455-10.4-a"
    );
}

#[test]
fn req_6455_10_4_a_message_at_the_limit_is_accepted() {
    let limits = Limits::with_max_message(300);
    let payload = vec![b'z'; 300];
    let bytes = [
        c(false, OpCode::Text, &payload[..100]),
        c(true, OpCode::Continuation, &payload[100..]),
    ]
    .concat();
    assert_eq!(events(Role::Server, limits, &bytes), [text(&payload)]);
    let over = [bytes.clone(), c(true, OpCode::Binary, &[0; 301])].concat();
    let ev = events(Role::Server, limits, &over);
    assert_eq!(ev[0], text(&payload));
    assert_fail(
        &ev,
        FailReason::MessageTooBig {
            size: 301,
            limit: 300,
        },
        "6455-10.4-a",
        1009,
    );
    // Control frames do not count towards the message.
    let bytes = [
        c(false, OpCode::Text, &payload[..100]),
        c(true, OpCode::Ping, &[1; 125]),
        c(true, OpCode::Continuation, &payload[100..]),
    ]
    .concat();
    assert_eq!(events(Role::Server, limits, &bytes)[1], text(&payload));
}

// ---------------------------------------------------------------------------------------------
// RFC 7118
// ---------------------------------------------------------------------------------------------

#[test]
fn req_7118_4_2_a_text_and_binary_both_deliver() {
    let bytes = [
        c(true, OpCode::Text, REGISTER),
        c(true, OpCode::Binary, REGISTER),
    ]
    .concat();
    assert_eq!(server(&bytes), [text(REGISTER), binary(REGISTER)]);
    let bytes = [
        s(true, OpCode::Binary, REGISTER),
        s(true, OpCode::Text, REGISTER),
    ]
    .concat();
    assert_eq!(client(&bytes), [binary(REGISTER), text(REGISTER)]);
}

#[test]
fn req_7118_4_2_b_non_utf8_goes_binary() {
    let mut message = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
Content-Type: application/octet-stream\r\n\r\n"
        .to_vec();
    message.extend_from_slice(&[0xFF, 0xFE]);
    assert_eq!(sip_message_kind(&message), MessageKind::Binary);
    let frame = encode_message(sip_message_kind(&message), &message, None);
    assert_eq!(frame[0] & 0x0F, 0x2);
    assert_eq!(client(&frame), [binary(&message)]);
    // A character cut off at the end is not UTF-8 either.
    assert_eq!(sip_message_kind(&"€".as_bytes()[..2]), MessageKind::Binary);
    // Valid UTF-8 (A16: either would do) goes as text, the RECOMMENDED form (7118-4.2-c).
    assert_eq!(sip_message_kind(REGISTER), MessageKind::Text);
    assert_eq!(
        sip_message_kind("Subject: café".as_bytes()),
        MessageKind::Text
    );
    assert_eq!(encode_message(MessageKind::Text, REGISTER, None)[0], 0x81);
}

#[test]
fn req_7118_5_b_one_sip_message_is_one_ws_message() {
    // Sending: one frame with FIN=1 holding the whole message.
    let frame = encode_message(MessageKind::Text, REGISTER, Some(KEY));
    let (h, n) = decode_header(&frame).unwrap().unwrap();
    assert_eq!(
        h,
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: Some(KEY),
            payload_len: REGISTER.len() as u64
        }
    );
    assert_eq!(n + REGISTER.len(), frame.len());
    // Receiving: fragments of one message give one Message event.
    let frames: Vec<Vec<u8>> = REGISTER
        .chunks(7)
        .enumerate()
        .map(|(i, piece)| {
            let op = if i == 0 {
                OpCode::Text
            } else {
                OpCode::Continuation
            };
            c((i + 1) * 7 >= REGISTER.len(), op, piece)
        })
        .collect();
    assert_eq!(server(&frames.concat()), [text(REGISTER)]);
}

/// A7: a CRLF keep-alive is an ordinary text message at this layer; what to do with it is
/// decided above.
#[test]
fn a7_crlf_keepalive_is_an_ordinary_text_message() {
    assert_eq!(
        server(&c(true, OpCode::Text, b"\r\n\r\n")),
        [text(b"\r\n\r\n")]
    );
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_size_of_receiver_and_idle_cost() {
    let size = std::mem::size_of::<Receiver>();
    println!("size_of::<Receiver>() = {size}");
    assert!(size <= 128, "size_of::<Receiver>() = {size}");
    let mut rx = Receiver::new(Role::Server, Limits::default());
    assert_eq!(
        rx.retained_capacity(),
        0,
        "a new receiver allocates nothing"
    );
    // After a large message, the message buffer is handed over and the input buffer released.
    rx.feed(&c(true, OpCode::Binary, &vec![1; 60_000]));
    assert!(matches!(rx.next_event(), Some(Event::Message { .. })));
    assert_eq!(rx.next_event(), None);
    println!(
        "idle retained capacity after a 60 KB message = {}",
        rx.retained_capacity()
    );
    assert_eq!(rx.retained_capacity(), 0);
    // After a small message the input buffer keeps at most the idle allowance.
    rx.feed(&c(true, OpCode::Text, REGISTER));
    assert!(matches!(rx.next_event(), Some(Event::Message { .. })));
    assert_eq!(rx.next_event(), None);
    println!(
        "idle retained capacity after a REGISTER = {}",
        rx.retained_capacity()
    );
    assert!(rx.retained_capacity() <= Limits::DEFAULT_MAX_IDLE_BUFFER);
    assert_eq!(rx.buffered(), 0);
    // With no idle allowance, nothing is kept.
    let limits = Limits {
        max_idle_buffer: 0,
        ..Limits::default()
    };
    let mut rx = Receiver::new(Role::Server, limits);
    rx.feed(&c(true, OpCode::Text, REGISTER));
    assert!(matches!(rx.next_event(), Some(Event::Message { .. })));
    assert_eq!(rx.next_event(), None);
    assert_eq!(rx.retained_capacity(), 0);
}

#[test]
fn memory_declared_length_is_not_trusted_for_allocation() {
    // A header announcing 60 000 bytes (within the limit), then only 10 of them.
    let frame = c(true, OpCode::Binary, &vec![0; 60_000]);
    let mut rx = Receiver::new(Role::Server, Limits::default());
    rx.feed(&frame[..8 + 10]);
    assert_eq!(rx.next_event(), None);
    assert_eq!(rx.buffered(), 10);
    assert!(
        rx.retained_capacity() <= 64,
        "held {}",
        rx.retained_capacity()
    );
    // Arriving in pieces, the message grows at most to twice what has arrived.
    let mut at = 18;
    while at < frame.len() {
        let end = (at + 1000).min(frame.len());
        rx.feed(&frame[at..end]);
        at = end;
        let event = rx.next_event();
        assert!(rx.message.capacity() <= 2 * rx.message.len().max(10) || event.is_some());
        if at < frame.len() {
            assert_eq!(event, None);
        } else {
            assert_eq!(event, Some(binary(&vec![0; 60_000])));
        }
    }
}

#[test]
fn message_capacity_never_exceeds_the_limit() {
    let limits = Limits::with_max_message(1000);
    let mut rx = Receiver::new(Role::Server, limits);
    let frames = [
        c(false, OpCode::Binary, &[1; 600]),
        c(true, OpCode::Continuation, &[2; 400]),
    ];
    for frame in &frames {
        for piece in frame.chunks(37) {
            rx.feed(piece);
            if let Some(event) = rx.next_event() {
                let Event::Message { payload, .. } = event else {
                    panic!("{event:?}")
                };
                assert_eq!(payload.len(), 1000);
                assert!(payload.capacity() <= 1000);
            }
            assert!(rx.message.capacity() <= 1000);
        }
    }
}

#[test]
fn byte_at_a_time_on_a_mixed_stream() {
    let (a, b) = REGISTER.split_at(200);
    let big = vec![0x42; 70_000];
    let bytes = [
        c(true, OpCode::Text, REGISTER),
        c(false, OpCode::Binary, a),
        c(true, OpCode::Ping, b"mid"),
        c(true, OpCode::Continuation, b),
        c(true, OpCode::Binary, &big),
        c(true, OpCode::Pong, b""),
        c(true, OpCode::Close, &[0x03, 0xE8, b'o', b'k']),
    ]
    .concat();
    let limits = Limits::with_max_message(100_000);
    assert_eq!(
        events(Role::Server, limits, &bytes),
        [
            text(REGISTER),
            Event::Ping(b"mid".to_vec()),
            binary(REGISTER),
            binary(&big),
            Event::Pong(vec![]),
            Event::Close {
                code: Some(1000),
                reason: "ok".into()
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Feeds `bytes` in pieces of the given sizes (cycled), draining after each, and checks the
/// invariants: nothing after a terminal event, and the buffered bound.
fn feed_in_pieces(
    rx: &mut Receiver,
    bytes: &[u8],
    sizes: &[usize],
) -> Result<Vec<Event>, TestCaseError> {
    let limits = rx.limits();
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let n = sizes[i % sizes.len()].clamp(1, bytes.len() - at);
        i += 1;
        rx.feed(&bytes[at..at + n]);
        at += n;
        let terminated = rx.is_terminated();
        let before = out.len();
        drain(rx, &mut out);
        if terminated {
            prop_assert_eq!(out.len(), before, "an event after Close/Fail");
        }
        // After draining: at most a partial header or control frame waits, plus the message.
        prop_assert!(
            rx.buffered() <= limits.max_message + MAX_HEADER_LEN + 125,
            "buffered {} with limit {}",
            rx.buffered(),
            limits.max_message
        );
        prop_assert!(
            rx.retained_capacity()
                <= limits.max_message + limits.max_idle_buffer.max(MAX_HEADER_LEN + 125),
            "retained {} with limits {:?}",
            rx.retained_capacity(),
            limits
        );
    }
    if let Some(pos) = out
        .iter()
        .position(|e| matches!(e, Event::Fail { .. } | Event::Close { .. }))
    {
        prop_assert_eq!(pos, out.len() - 1, "events after a terminal event");
    }
    Ok(out)
}

/// A message to send: kind and payload (text payloads are UTF-8).
fn message() -> impl Strategy<Value = (MessageKind, Vec<u8>)> {
    prop_oneof![
        any::<String>().prop_map(|s| (MessageKind::Text, s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(|b| (MessageKind::Binary, b)),
    ]
}

/// A plausible stream: valid frames, broken frames and raw bytes mixed.
fn stream_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (any::<bool>(), 0u8..16, any::<Option<[u8; 4]>>(), proptest::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(fin, op, mask, p)| encode_frame(fin, OpCode::from_nibble(op), mask, &p)),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        server_role in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        sizes in proptest::collection::vec(1usize..64, 1..8),
        max_message in 0usize..3000,
        max_idle_buffer in 0usize..512,
    ) {
        let role = if server_role { Role::Server } else { Role::Client };
        let limits = Limits { max_message, max_idle_buffer };
        let mut rx = Receiver::new(role, limits);
        let pieces = feed_in_pieces(&mut rx, &bytes, &sizes)?;
        prop_assert_eq!(pieces, run(role, limits, &bytes));
    }

    #[test]
    fn frame_streams_never_panic_and_respect_the_bound(
        server_role in any::<bool>(),
        pieces in proptest::collection::vec(stream_piece(), 0..12),
        sizes in proptest::collection::vec(1usize..200, 1..8),
        max_message in 0usize..1500,
        max_idle_buffer in 0usize..512,
    ) {
        let role = if server_role { Role::Server } else { Role::Client };
        let limits = Limits { max_message, max_idle_buffer };
        let bytes = pieces.concat();
        let mut rx = Receiver::new(role, limits);
        let got = feed_in_pieces(&mut rx, &bytes, &sizes)?;
        prop_assert_eq!(&got, &run(role, limits, &bytes));
        for event in &got {
            match event {
                Event::Message { kind: MessageKind::Text, payload } => {
                    prop_assert!(std::str::from_utf8(payload).is_ok());
                    prop_assert!(payload.len() <= max_message);
                }
                Event::Message { payload, .. } => prop_assert!(payload.len() <= max_message),
                Event::Ping(p) | Event::Pong(p) => prop_assert!(p.len() <= 125),
                Event::Close { code, .. } => {
                    prop_assert!(code.is_none_or(is_sendable_close_code));
                }
                Event::Fail { code, reason } => prop_assert_eq!(*code, reason.code().get()),
            }
        }
    }

    #[test]
    fn round_trip_fragmented_masked_messages_with_pings(
        server_role in any::<bool>(),
        messages in proptest::collection::vec(
            (message(), proptest::collection::vec(any::<prop::sample::Index>(), 0..4)),
            0..6,
        ),
        pings in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..126), 0..6),
        ping_every in 1usize..4,
        keys in proptest::collection::vec(any::<[u8; 4]>(), 1..8),
        sizes in proptest::collection::vec(1usize..300, 1..8),
    ) {
        let role = if server_role { Role::Server } else { Role::Client };
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        let mut frame_no = 0usize;
        let mut pings = pings.into_iter();
        let mut mask = || {
            frame_no += 1;
            if server_role { Some(keys[frame_no % keys.len()]) } else { None }
        };
        for ((kind, payload), cuts) in &messages {
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(payload.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(payload.len());
            let mut from = 0;
            for (i, &to) in cuts.iter().enumerate() {
                let opcode = if i == 0 { kind.opcode() } else { OpCode::Continuation };
                let last = i + 1 == cuts.len();
                let key = mask();
                bytes.extend(encode_frame(last, opcode, key, &payload[from..to]));
                from = to;
                if !last && i % ping_every == 0
                    && let Some(p) = pings.next() {
                        bytes.extend(encode_ping(&p, mask()).unwrap());
                        expected.push(Event::Ping(p));
                    }
            }
            expected.push(Event::Message { kind: *kind, payload: payload.clone() });
        }
        let limits = Limits::default();
        let mut rx = Receiver::new(role, limits);
        let got = feed_in_pieces(&mut rx, &bytes, &sizes)?;
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(run(role, limits, &bytes), expected);
        prop_assert!(rx.retained_capacity() <= limits.max_idle_buffer);
    }

    #[test]
    fn sip_message_kind_is_text_exactly_for_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let expected = if std::str::from_utf8(&bytes).is_ok() { MessageKind::Text } else { MessageKind::Binary };
        prop_assert_eq!(sip_message_kind(&bytes), expected);
    }

    #[test]
    fn incremental_utf8_agrees_with_std(
        bytes in proptest::collection::vec(prop_oneof![any::<u8>(), 0x80u8..0xC0, 0xE0u8..0xF5], 0..40),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        // Fragment a text message at arbitrary points: accepted iff the whole is UTF-8.
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(bytes.len());
        let mut stream = Vec::new();
        let mut from = 0;
        for (i, &to) in cuts.iter().enumerate() {
            let op = if i == 0 { OpCode::Text } else { OpCode::Continuation };
            stream.extend(encode_frame(i + 1 == cuts.len(), op, None, &bytes[from..to]));
            from = to;
        }
        let ev = run(Role::Client, Limits::default(), &stream);
        if std::str::from_utf8(&bytes).is_ok() {
            prop_assert_eq!(ev, vec![text(&bytes)]);
        } else {
            prop_assert_eq!(ev, vec![Event::Fail { code: 1007, reason: FailReason::InvalidUtf8Text }]);
        }
    }
}
