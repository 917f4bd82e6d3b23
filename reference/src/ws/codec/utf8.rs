//! Incremental UTF-8 validation (RFC 3629; RFC 6455 §5.6, §8.1): text is checked piece by
//! piece as it arrives, a character may be split across fragments.

/// Incremental UTF-8 validation (RFC 3629, via `std::str::from_utf8`), keeping at most one
/// unfinished character between pieces.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// Checks the next piece; `Err` as soon as the text so far cannot be valid UTF-8.
    pub(super) fn feed(&mut self, mut input: &[u8]) -> Result<(), ()> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let width = utf8_width(self.partial[0]).ok_or(())?;
            let take = (width - have).min(input.len());
            self.partial[have..have + take].copy_from_slice(&input[..take]);
            input = &input[take..];
            let have = have + take;
            match std::str::from_utf8(&self.partial[..have]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return Err(()),
                Err(_) => {
                    // A valid prefix, still short: `input` is used up.
                    // have < width <= 4, so it fits in u8.
                    self.partial_len = have as u8;
                    return Ok(());
                }
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(()),
            Err(e) => {
                // The input ends inside a character that may still be completed; its valid
                // prefix is at most 3 bytes.
                let tail = &input[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Does the text end on a character boundary?
    pub(super) fn is_complete(&self) -> bool {
        self.partial_len == 0
    }
}

/// The length of the UTF-8 sequence a lead byte starts (RFC 3629 §4), if it can lead one.
fn utf8_width(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7F => Some(1),
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}
