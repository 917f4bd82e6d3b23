//! Lower-case hex and constant-time comparison: the one hex codec of the project. The proxy
//! signs flow tokens (RFC 5626 §5.2), temporary GRUUs (RFC 5627 §5.1) and digest nonces
//! (RFC 3261 §22.4) with it; the vectors and the suite's payload language write bytes with it.

/// Lower-case hex digits of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of an even-length hex string (either case); `None` for anything else.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Equal contents, in a time that depends on the length only: a forger learns nothing from
/// how long a refused tag or digest took.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let bytes = [0x00, 0x7f, 0xa5, 0xff];
        assert_eq!(encode(&bytes), "007fa5ff");
        assert_eq!(decode("007FA5ff").as_deref(), Some(&bytes[..]));
        assert_eq!(decode("abc"), None, "odd length");
        assert_eq!(decode("zz"), None, "not hex");
        assert_eq!(decode("é0"), None, "not ASCII");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
