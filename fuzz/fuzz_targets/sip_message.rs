//! The SIP message parser in its three framings (RFC 7118 §5 WebSocket message, RFC 3261 §18.3
//! datagram and stream), on raw bytes.
//!
//! Beyond "never panics", it asserts what the framings promise to each other and what the
//! codec promises about printing (`sip` module docs: printing a parsed message and parsing it
//! again gives the same message):
//! - `parse`: the message keeps exactly the input as its raw bytes; it prints to bytes that
//!   parse back to an equal message; `validate` answers without panicking.
//! - `parse_datagram` accepts everything `parse` accepts, with the same result (the datagram
//!   framing only adds "discard octets past Content-Length").
//! - `parse_stream`: a message consumes a non-empty prefix (a shell looping on it always
//!   progresses), that prefix is its raw bytes and parses alone as the same message, and every
//!   shorter non-empty prefix is "need more" rather than an error (bytes arriving in pieces
//!   never change the verdict).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_reference::sip::Message;

/// Messages a stream shell drains from one input before it stops: bounds the loop below on
/// inputs made of many tiny messages, while still covering "several messages in one read".
const MAX_STREAM_MESSAGES: usize = 64;

fuzz_target!(|data: &[u8]| {
    whole_message(data);
    datagram(data);
    stream(data);
});

fn whole_message(data: &[u8]) {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    assert_eq!(
        m.raw(),
        data,
        "a WebSocket message is one SIP message, all of it"
    );
    let _ = m.validate();
    let printed = m.to_bytes();
    match Message::parse(&printed) {
        Ok(again) => assert_eq!(again, m, "print/parse round trip changed the message"),
        Err(e) => panic!(
            "a parsed message printed to bytes that do not parse: {e}\n{}",
            String::from_utf8_lossy(&printed)
        ),
    }
}

fn datagram(data: &[u8]) {
    let parsed = Message::parse_datagram(data);
    if let Ok(whole) = Message::parse(data) {
        assert_eq!(
            parsed.as_ref().ok(),
            Some(&whole),
            "the datagram framing refused or changed what the whole-message framing accepts"
        );
    }
    let Ok(m) = parsed else {
        return;
    };
    assert!(
        data.starts_with(m.raw()),
        "a datagram message's raw bytes are a prefix of the datagram"
    );
    let _ = m.validate();
}

fn stream(data: &[u8]) {
    let mut rest = data;
    for _ in 0..MAX_STREAM_MESSAGES {
        let Ok(Some((m, used))) = Message::parse_stream(rest) else {
            return;
        };
        assert!(
            used > 0,
            "a stream message consumed no byte: a shell would spin"
        );
        assert!(used <= rest.len());
        let frame = &rest[..used];
        assert_eq!(m.raw(), frame, "the raw bytes are the consumed prefix");
        assert!(
            m.content_length()
                .is_some_and(|cl| cl as usize == m.body.len()),
            "a stream message is framed by its Content-Length"
        );
        // Exactly one message with its Content-Length: the WebSocket framing agrees.
        assert_eq!(Message::parse(frame).ok().as_ref(), Some(&m));
        // The same bytes arriving in pieces: never an error before the message is complete.
        // Three cut points keep this linear in the input size.
        for cut in [1, used / 2, used - 1] {
            if cut > 0 && cut < used {
                assert!(
                    matches!(Message::parse_stream(&rest[..cut]), Ok(None)),
                    "a prefix of {cut} bytes of a valid {used}-byte stream message is not 'need more'"
                );
            }
        }
        rest = &rest[used..];
    }
}
