//! Header names (with RFC 3261 §7.3.3 compact forms) and typed header values.
//!
//! The headers this codec understands are parsed into typed values when the message is
//! parsed, so a malformed Via or CSeq is an error with its offset, not a surprise later;
//! every other header is kept as text (unfolded, trimmed).

use std::fmt;

use serde::Serialize;

use super::error::{ErrorKind, ParseError, Result};
use super::method::{CSeq, parse_u32};
use super::name_addr::{
    AddrRule, Contact, NameAddr, parse_contact, parse_list, parse_single, write_list,
};
use super::params::{any_param, parse_header_params};
use super::scan::{Cursor, is_word};
use super::via::{Via, parse_via_list};

macro_rules! header_names {
    ($( $variant:ident => $canonical:literal $(, $compact:literal)? ; )*) => {
        /// A header name. Known names are matched case-insensitively, compact forms included;
        /// anything else is [`HeaderName::Other`] with its spelling kept.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $( $variant, )*
            Other(String),
        }

        impl HeaderName {
            /// Look a name up (case-insensitive; single letters are compact forms).
            pub fn parse(name: &str) -> HeaderName {
                $(
                    if name.eq_ignore_ascii_case($canonical) $(|| name.eq_ignore_ascii_case($compact))? {
                        return HeaderName::$variant;
                    }
                )*
                HeaderName::Other(name.to_string())
            }

            /// The canonical spelling (`Call-ID`, `CSeq`, `WWW-Authenticate`).
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $canonical, )*
                    HeaderName::Other(s) => s,
                }
            }

            /// The compact form, where one is registered.
            pub fn compact(&self) -> Option<&'static str> {
                match self {
                    $( $( HeaderName::$variant => Some($compact), )? )*
                    _ => None,
                }
            }
        }
    };
}

header_names! {
    Via => "Via", "v";
    From => "From", "f";
    To => "To", "t";
    CallId => "Call-ID", "i";
    CSeq => "CSeq";
    MaxForwards => "Max-Forwards";
    Contact => "Contact", "m";
    Route => "Route";
    RecordRoute => "Record-Route";
    Path => "Path";
    ContentLength => "Content-Length", "l";
    ContentType => "Content-Type", "c";
    ContentEncoding => "Content-Encoding", "e";
    Expires => "Expires";
    MinExpires => "Min-Expires";
    Supported => "Supported", "k";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Unsupported => "Unsupported";
    Allow => "Allow";
    Date => "Date";
    Subject => "Subject", "s";
    Event => "Event", "o";
    ReferTo => "Refer-To", "r";
    ReferredBy => "Referred-By", "b";
    AllowEvents => "Allow-Events", "u";
    SessionExpires => "Session-Expires", "x";
    Identity => "Identity", "y";
    RequestDisposition => "Request-Disposition", "d";
    AcceptContact => "Accept-Contact", "a";
    RejectContact => "Reject-Contact", "j";
    IdentityInfo => "Identity-Info", "n";
    FlowTimer => "Flow-Timer";
    WwwAuthenticate => "WWW-Authenticate";
    Authorization => "Authorization";
    ProxyAuthenticate => "Proxy-Authenticate";
    ProxyAuthorization => "Proxy-Authorization";
    UserAgent => "User-Agent";
    Server => "Server";
}

impl HeaderName {
    /// Headers that RFC 3261 §7.3.1 allows only once (their grammar is not a comma list).
    pub fn is_single_valued(&self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
                | HeaderName::MinExpires
                | HeaderName::Date
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HeaderName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A typed header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum HeaderValue {
    /// Via: `1#via-parm`.
    Via(Vec<Via>),
    /// From, To, Refer-To, Referred-By: one name-addr or addr-spec with parameters.
    Address(NameAddr),
    Contact(Contact),
    /// Route, Record-Route, Path: `1#name-addr` with parameters.
    Addresses(Vec<NameAddr>),
    CallId(String),
    CSeq(CSeq),
    /// Max-Forwards, Content-Length, Expires, Min-Expires, Flow-Timer.
    Number(u32),
    /// Supported, Require, Proxy-Require, Unsupported, Allow: `#token` (may be empty).
    Tokens(Vec<String>),
    /// Everything else: unfolded, trimmed text (Date and Content-Type are checked first).
    Text(String),
}

impl fmt::Display for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderValue::Via(v) => write_list(f, v),
            HeaderValue::Address(a) => a.fmt(f),
            HeaderValue::Contact(c) => c.fmt(f),
            HeaderValue::Addresses(a) => write_list(f, a),
            HeaderValue::CallId(s) | HeaderValue::Text(s) => f.write_str(s),
            HeaderValue::CSeq(c) => c.fmt(f),
            HeaderValue::Number(n) => n.fmt(f),
            HeaderValue::Tokens(t) => write_list(f, t),
        }
    }
}

/// One header line: its name (and whether it was written in compact form) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub name: HeaderName,
    /// Printed with the compact form (`v:` rather than `Via:`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compact: bool,
    pub value: HeaderValue,
}

impl Header {
    pub fn new(name: HeaderName, value: HeaderValue) -> Self {
        Header {
            name,
            compact: false,
            value,
        }
    }

    /// A header of any name from text, parsed as [`parse_value`] would.
    pub fn parse(name: &str, value: &str) -> Result<Header> {
        let name_t = HeaderName::parse(name);
        let compact = name.len() == 1 && name_t.compact().is_some();
        let value = parse_value(&name_t, value)?;
        Ok(Header {
            name: name_t,
            compact,
            value,
        })
    }

    pub fn spelled(&self) -> &str {
        match (self.compact, self.name.compact()) {
            (true, Some(c)) => c,
            _ => self.name.as_str(),
        }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.spelled(), self.value)
    }
}

/// Parse a header value (already unfolded) according to its name.
pub fn parse_value(name: &HeaderName, v: &str) -> Result<HeaderValue> {
    Ok(match name {
        HeaderName::Via => HeaderValue::Via(parse_via_list(v)?),
        HeaderName::From | HeaderName::To | HeaderName::ReferTo | HeaderName::ReferredBy => {
            HeaderValue::Address(parse_single(v)?)
        }
        HeaderName::Contact => HeaderValue::Contact(parse_contact(v)?),
        HeaderName::Route | HeaderName::RecordRoute | HeaderName::Path => {
            HeaderValue::Addresses(parse_list(v, AddrRule::NameAddrOnly)?)
        }
        HeaderName::CallId => HeaderValue::CallId(parse_call_id(v)?),
        HeaderName::CSeq => HeaderValue::CSeq(CSeq::parse(v)?),
        HeaderName::MaxForwards => HeaderValue::Number(parse_number(v, "Max-Forwards", 255)?),
        HeaderName::ContentLength
        | HeaderName::Expires
        | HeaderName::MinExpires
        | HeaderName::FlowTimer => HeaderValue::Number(parse_number(v, name_str(name), u32::MAX)?),
        HeaderName::Supported
        | HeaderName::Require
        | HeaderName::ProxyRequire
        | HeaderName::Unsupported
        | HeaderName::Allow => HeaderValue::Tokens(parse_tokens(v)?),
        HeaderName::Date => {
            check_date(v)?;
            HeaderValue::Text(v.trim().to_string())
        }
        HeaderName::ContentType => {
            check_media_type(v)?;
            HeaderValue::Text(v.trim().to_string())
        }
        _ => HeaderValue::Text(v.trim().to_string()),
    })
}

fn name_str(name: &HeaderName) -> &'static str {
    match name {
        HeaderName::ContentLength => "Content-Length",
        HeaderName::Expires => "Expires",
        HeaderName::MinExpires => "Min-Expires",
        _ => "Flow-Timer",
    }
}

/// `1*DIGIT` within `max` (Max-Forwards 0-255, RFC 3261 §20.22; the others 32 bits, §20.19,
/// §20.14).
fn parse_number(v: &str, what: &'static str, max: u32) -> Result<u32> {
    let mut c = Cursor::new(v);
    c.skip_ws();
    let start = c.pos();
    let n = parse_u32(&mut c, what, "§20")?;
    if n > max {
        return Err(ParseError::new(
            ErrorKind::OutOfRange {
                what,
                value: c.slice(start).to_string(),
                max: max as u64,
                clause: "§20.22",
            },
            start,
        ));
    }
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("end of number"));
    }
    Ok(n)
}

/// callid = word [ "@" word ] (RFC 3261 §25.1).
fn parse_call_id(v: &str) -> Result<String> {
    let mut c = Cursor::new(v);
    c.skip_ws();
    let start = c.pos();
    if c.take_while(is_word).is_empty() {
        return Err(c.unexpected("a Call-ID word"));
    }
    if c.eat(b'@') && c.take_while(is_word).is_empty() {
        return Err(c.unexpected("a word after '@'"));
    }
    let id = c.slice(start).to_string();
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("end of Call-ID"));
    }
    Ok(id)
}

/// `#token`: an empty value is an empty list.
fn parse_tokens(v: &str) -> Result<Vec<String>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::new();
    c.skip_ws();
    if c.is_empty() {
        return Ok(out);
    }
    loop {
        out.push(c.token("a token")?.to_string());
        if !c.eat_sep(b',') {
            break;
        }
    }
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("',' or end of list"));
    }
    Ok(out)
}

/// media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 §20.15).
fn check_media_type(v: &str) -> Result<()> {
    let mut c = Cursor::new(v);
    c.skip_ws();
    c.token("a media type")?;
    if !c.eat_sep(b'/') {
        return Err(c.unexpected("'/' in the media type"));
    }
    c.token("a media subtype")?;
    parse_header_params(&mut c, any_param)?;
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("';' or end of media type"));
    }
    Ok(())
}

/// rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17, §25.1).
fn check_date(v: &str) -> Result<()> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let v = v.trim();
    let err = || ParseError::new(ErrorKind::Date, 0);
    let b = v.as_bytes();
    // "Sat, 13 Nov 2010 23:29:00 GMT" is exactly 29 bytes.
    if b.len() != 29 || !v.is_ascii() {
        return Err(err());
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = DAYS.contains(&&v[0..3])
        && &v[3..5] == ", "
        && digits(5..7)
        && b[7] == b' '
        && MONTHS.contains(&&v[8..11])
        && b[11] == b' '
        && digits(12..16)
        && b[16] == b' '
        && digits(17..19)
        && b[19] == b':'
        && digits(20..22)
        && b[22] == b':'
        && digits(23..25)
        && &v[25..] == " GMT";
    if ok { Ok(()) } else { Err(err()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_forms() {
        for (c, n) in [
            ("v", "Via"),
            ("f", "From"),
            ("t", "To"),
            ("i", "Call-ID"),
            ("m", "Contact"),
            ("l", "Content-Length"),
            ("c", "Content-Type"),
            ("k", "Supported"),
            ("s", "Subject"),
            ("e", "Content-Encoding"),
            ("o", "Event"),
            ("r", "Refer-To"),
            ("u", "Allow-Events"),
            ("x", "Session-Expires"),
            ("y", "Identity"),
            ("b", "Referred-By"),
            ("d", "Request-Disposition"),
        ] {
            assert_eq!(HeaderName::parse(c).as_str(), n);
            assert_eq!(HeaderName::parse(&c.to_uppercase()).as_str(), n);
            assert_eq!(HeaderName::parse(n).compact(), Some(c));
        }
        assert_eq!(HeaderName::parse("cAlL-iD"), HeaderName::CallId);
        assert_eq!(
            HeaderName::parse("X-Foo"),
            HeaderName::Other("X-Foo".into())
        );
    }

    #[test]
    fn numbers_have_ranges() {
        assert_eq!(
            parse_value(&HeaderName::MaxForwards, " 70 ").unwrap(),
            HeaderValue::Number(70)
        );
        assert!(parse_value(&HeaderName::MaxForwards, "256").is_err());
        assert!(parse_value(&HeaderName::ContentLength, "-999").is_err());
        assert!(parse_value(&HeaderName::Expires, "4294967296").is_err());
        assert!(parse_value(&HeaderName::Expires, "10 20").is_err());
    }

    #[test]
    fn call_id_and_tokens_and_date() {
        assert!(parse_call_id("a84b4c76e66710@pc33.atlanta.com").is_ok());
        assert!(parse_call_id("a b").is_err());
        assert!(parse_call_id("a@").is_err());
        assert_eq!(
            parse_tokens("path, outbound ,gruu").unwrap(),
            vec!["path", "outbound", "gruu"]
        );
        assert_eq!(parse_tokens("  ").unwrap(), Vec::<String>::new());
        assert!(parse_tokens("a b").is_err());
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(check_media_type("application/sdp").is_ok());
        assert!(check_media_type("multipart/mixed;boundary=unique-boundary-1").is_ok());
        assert!(check_media_type("sdp").is_err());
    }
}
