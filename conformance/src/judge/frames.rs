//! Judgements of the frames the target sent, frame by frame: a server never masks
//! (RFC 6455 §5.1, row 6455-5.1-c) and writes each payload length in the shortest of the
//! three forms (§5.2, row 6455-5.2-c), read from the recorded raw bytes.

use sipws_reference::ws::frame::shortest_header_len;

use crate::step::{StepError, StepResult};
use crate::wire::RawFrame;
use crate::wire::recorder::HeaderSeen;

/// Row 6455-5.1-c: no frame from a server is masked.
pub fn unmasked(frames: &[RawFrame]) -> StepResult {
    if frames.is_empty() {
        return Err(StepError::harness("the target sent no frame to judge"));
    }
    match frames.iter().find(|f| f.mask.is_some()) {
        Some(f) => Err(StepError::broken(format!(
            "the target sent a masked frame ({}); a server never masks (RFC 6455 §5.1)",
            f.describe()
        ))),
        None => Ok(()),
    }
}

/// The form the shortest encoding of `h`'s payload length takes.
fn shortest_form(h: &HeaderSeen) -> u8 {
    HeaderSeen {
        header_len: shortest_header_len(h.masked, h.payload_len),
        ..*h
    }
    .form()
}

/// Row 6455-5.2-c: the minimal number of bytes encodes each payload length.
pub fn shortest(headers: &[HeaderSeen]) -> StepResult {
    if headers.is_empty() {
        return Err(StepError::harness("no frame from the target to judge"));
    }
    for h in headers {
        if h.header_len != shortest_header_len(h.masked, h.payload_len) {
            return Err(StepError::broken(format!(
                "a {}-byte payload was sent with the {}-bit length form; RFC 6455 §5.2 requires \
                 the shortest, the {}-bit form",
                h.payload_len,
                h.form(),
                shortest_form(h)
            )));
        }
    }
    Ok(())
}

/// The `len`-byte frame among `headers` uses the `bits` form; `Skip` when no frame had
/// that size (the boundary could not be observed).
pub fn length_form(headers: &[HeaderSeen], len: u64, bits: u8) -> StepResult {
    let shortest = shortest_form(&HeaderSeen {
        header_len: 0,
        masked: false,
        payload_len: len,
    });
    if shortest != bits {
        return Err(StepError::harness(format!(
            "the scenario is wrong: a {len}-byte payload takes the {shortest}-bit form"
        )));
    }
    let Some(h) = headers.iter().find(|h| h.payload_len == len) else {
        let sizes: Vec<String> = headers.iter().map(|h| h.payload_len.to_string()).collect();
        return Err(StepError::Skip(format!(
            "the target sent no {len}-byte frame (sizes seen: {}), so this length form could \
             not be observed",
            sizes.join(", ")
        )));
    };
    if h.form() == bits {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the {len}-byte frame used the {}-bit length form; RFC 6455 §5.2 requires the \
             shortest, the {bits}-bit form",
            h.form()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Length;
    use crate::wire::recorder::frame_headers;

    fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    #[test]
    fn masked_frames_are_caught() {
        let f = |op: u8| RawFrame::new(op, b"x".to_vec()).unmasked();
        assert!(is_broken(&unmasked(&[f(0x1), RawFrame::text("m")])));
        assert_eq!(unmasked(&[f(0x1)]), Ok(()));
        assert!(matches!(unmasked(&[]), Err(StepError::Harness(_))));
    }

    #[test]
    fn length_forms_are_read_from_raw_bytes_and_judged() {
        let mut raw = b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec();
        raw.extend(RawFrame::text(vec![b'a'; 125]).unmasked().to_bytes());
        raw.extend(RawFrame::text(vec![b'a'; 126]).unmasked().to_bytes());
        raw.extend(RawFrame::text(vec![b'a'; 65536]).unmasked().to_bytes());
        let h = frame_headers(&raw);
        assert_eq!(
            h.iter().map(HeaderSeen::form).collect::<Vec<_>>(),
            [7, 16, 64]
        );
        assert_eq!(shortest(&h), Ok(()));
        assert_eq!(length_form(&h, 65536, 64), Ok(()));
        assert!(matches!(
            length_form(&h, 65535, 16),
            Err(StepError::Skip(_))
        ));
        assert!(matches!(
            length_form(&h, 65536, 16),
            Err(StepError::Harness(_))
        ));
        // A 125-byte payload in the 16-bit form, a 200-byte one in the 64-bit form.
        let mut raw = b"HTTP/1.1 101 x\r\n\r\n".to_vec();
        raw.extend(
            RawFrame::text(vec![b'a'; 125])
                .unmasked()
                .length(Length::Bits16)
                .to_bytes(),
        );
        raw.extend(
            RawFrame::text(vec![b'a'; 200])
                .unmasked()
                .length(Length::Bits64)
                .to_bytes(),
        );
        let h = frame_headers(&raw);
        assert!(is_broken(&shortest(&h)));
        assert!(is_broken(&length_form(&h, 125, 7)));
        assert!(is_broken(&length_form(&h, 200, 16)));
    }
}
