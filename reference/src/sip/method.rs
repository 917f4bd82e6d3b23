//! Methods (RFC 3261 §7.1, §27.4 and the extensions in common use) and CSeq (§20.16).

use std::fmt;

use serde::{Serialize, Serializer};

use super::error::{ErrorKind, ParseError, Result};
use super::scan::{Cursor, is_token};

/// A request method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an extension
/// method, not INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Message,
    Notify,
    Subscribe,
    Prack,
    Update,
    Refer,
    Publish,
    Extension(String),
}

impl Method {
    /// Parse a method token.
    pub fn parse(s: &str) -> Result<Method> {
        if s.is_empty() || !s.bytes().all(is_token) {
            return Err(ParseError::new(ErrorKind::Method(s.to_string()), 0));
        }
        Ok(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "MESSAGE" => Method::Message,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            "PUBLISH" => Method::Publish,
            other => Method::Extension(other.to_string()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `CSeq: 1 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CSeq {
    /// Expressible as a 32-bit unsigned integer (RFC 3261 §8.1.1.5).
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let seq = parse_u32(&mut c, "CSeq number", "§8.1.1.5")?;
        if !c.skip_ws() {
            return Err(c.unexpected("whitespace after the CSeq number"));
        }
        let at = c.pos();
        let m = c.token("a method")?;
        let method = Method::parse(m).map_err(|e| e.at(at))?;
        c.skip_ws();
        if !c.is_empty() {
            return Err(c.unexpected("end of CSeq"));
        }
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// `1*DIGIT` that must fit in 32 bits; overlarge values are refused (RFC 4475 §3.1.2.4).
pub(crate) fn parse_u32(
    c: &mut Cursor<'_>,
    what: &'static str,
    clause: &'static str,
) -> Result<u32> {
    let start = c.pos();
    let digits = c.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err(c.unexpected("digits"));
    }
    digits.parse::<u32>().map_err(|_| {
        ParseError::new(
            ErrorKind::OutOfRange {
                what,
                value: digits.to_string(),
                max: u32::MAX as u64,
                clause,
            },
            start,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE").unwrap(), Method::Invite);
        assert_eq!(
            Method::parse("invite").unwrap(),
            Method::Extension("invite".into())
        );
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("").is_err());
    }

    #[test]
    fn cseq() {
        assert_eq!(
            CSeq::parse("  1201 BYE ").unwrap(),
            CSeq {
                seq: 1201,
                method: Method::Bye
            }
        );
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse("4294967295 INVITE").is_ok());
        assert!(CSeq::parse("1INVITE").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
    }
}
