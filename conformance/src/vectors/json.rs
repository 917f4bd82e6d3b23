//! The small helpers the groups share to read a test's input and write its answer.

use serde_json::Value;

/// Bytes as the vectors write them: lower-case hex (the one codec, `sipws_reference::hex`).
pub(super) fn hex(bytes: &[u8]) -> String {
    sipws_reference::hex::encode(bytes)
}

/// The bytes of a hex field of an input.
pub(super) fn unhex(s: &str) -> Result<Vec<u8>, String> {
    sipws_reference::hex::decode(s).ok_or_else(|| format!("bad hex {s:?}"))
}

/// Reads a string field of a test input.
pub(super) fn input_str<'a>(input: &'a Value, field: &str) -> Result<&'a str, String> {
    input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("input needs a string field {field:?}"))
}

/// The variant name of an enum value, from its `Debug` form: what the vectors name an error
/// class by (its fields are the reference's diagnostics, not part of the answer).
pub(super) fn variant<T: std::fmt::Debug>(v: &T) -> String {
    let debug = format!("{v:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // Only the Debug form of the fields is read.
    enum E {
        Unit,
        Tuple(u8),
        Named { x: u8 },
    }

    #[test]
    fn variant_is_the_name_without_fields() {
        assert_eq!(variant(&E::Unit), "Unit");
        assert_eq!(variant(&E::Tuple(1)), "Tuple");
        assert_eq!(variant(&E::Named { x: 1 }), "Named");
    }

    #[test]
    fn hex_round_trips_and_bad_hex_is_an_error() {
        assert_eq!(hex(b"\x00\xff"), "00ff");
        assert_eq!(unhex("00ff"), Ok(vec![0x00, 0xff]));
        assert!(unhex("0g").is_err());
    }
}
