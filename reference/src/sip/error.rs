//! Typed parse errors: what went wrong and where (a byte offset into the parsed input).

use thiserror::Error;

/// What a parser refused, with the byte offset of the offending input.
///
/// Offsets count from the start of the buffer handed to the parser that failed: for
/// [`crate::sip::Message::parse`] that is the whole message; for the stand-alone value parsers
/// (URI, Via, name-addr, ...) it is the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    pub kind: ErrorKind,
    pub offset: usize,
}

impl ParseError {
    pub fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }

    /// Shift the offset by `base`: a value parser reports offsets inside its value, the message
    /// parser adds where that value starts in the message.
    pub fn at(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }

    /// Name the header whose value failed, so a report says `in Via: ...`.
    pub fn in_header(self, name: &str) -> Self {
        ParseError {
            kind: ErrorKind::InHeader {
                header: name.to_string(),
                inner: Box::new(self.kind),
            },
            offset: self.offset,
        }
    }
}

/// The reasons a parser refuses input. Each message names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("empty input")]
    Empty,
    #[error("message ends before the blank line that closes the header section (RFC 3261 §7)")]
    UnterminatedHead,
    #[error("bare LF: SIP lines end with CRLF (RFC 3261 §7)")]
    BareLf,
    #[error("bare CR: SIP lines end with CRLF (RFC 3261 §7)")]
    BareCr,
    #[error("start line and headers must be UTF-8 text (RFC 3261 §7.3.1, §25)")]
    NotUtf8,
    #[error("malformed start line: {0}")]
    StartLine(&'static str),
    #[error("malformed SIP version {0:?}: expected SIP/1*DIGIT.1*DIGIT (RFC 3261 §7.1)")]
    Version(String),
    #[error("status code {0:?} is not three digits 100-699 (RFC 3261 §7.2, §21)")]
    StatusCode(String),
    #[error("invalid method {0:?}: a method is a token (RFC 3261 §25.1)")]
    Method(String),
    #[error("header line without a colon (RFC 3261 §7.3.1)")]
    HeaderNoColon,
    #[error("header name {0:?} is not a token (RFC 3261 §7.3.1)")]
    HeaderName(String),
    #[error("line folding before the first header (RFC 3261 §7.3.1)")]
    FoldWithoutHeader,
    #[error("too many headers (limit {0})")]
    TooManyHeaders(usize),
    #[error("in {header}: {inner}")]
    InHeader {
        header: String,
        inner: Box<ErrorKind>,
    },
    #[error("empty value")]
    EmptyValue,
    #[error("unexpected character {found:?}, expected {expected}")]
    Unexpected { found: char, expected: &'static str },
    #[error("unexpected end of value, expected {0}")]
    UnexpectedEnd(&'static str),
    #[error("unterminated quoted string (RFC 3261 §25.1)")]
    UnterminatedQuote,
    #[error("'<' without matching '>' (RFC 3261 §20.10)")]
    UnterminatedAngle,
    #[error("bad %-escape: '%' must be followed by two hex digits (RFC 3261 §25.1)")]
    BadEscape,
    #[error("unsupported URI scheme {0:?} here; expected sip or sips (RFC 3261 §19.1)")]
    Scheme(String),
    #[error("invalid host {0:?} (RFC 3261 §25.1 hostport)")]
    Host(String),
    #[error("received={0:?} is not an IP address (RFC 3261 §25.1 via-received)")]
    NotAnIp(String),
    #[error("invalid port {0:?}: 1*DIGIT within 0-65535 (RFC 3261 §25.1)")]
    Port(String),
    #[error("{what} {value:?} out of range (max {max}) (RFC 3261 {clause})")]
    OutOfRange {
        what: &'static str,
        value: String,
        max: u64,
        clause: &'static str,
    },
    #[error("invalid number {0:?}")]
    Number(String),
    #[error("a single-value header holds a list (RFC 3261 §7.3.1)")]
    NotSingle,
    #[error("conflicting Content-Length values {0} and {1} (RFC 3261 §20.14)")]
    ConflictingContentLength(u64, u64),
    #[error(
        "Content-Length {declared} exceeds the {available} bytes of body present (RFC 3261 §18.3)"
    )]
    BodyTooShort { declared: u64, available: usize },
    #[error(
        "{0} bytes follow the message's Content-Length: one WebSocket message carries exactly one SIP message (RFC 7118 §5)"
    )]
    TrailingData(usize),
    #[error("Content-Length is required to delimit a message on a stream (RFC 3261 §18.3)")]
    MissingContentLength,
    #[error("Date must be an RFC 1123 date in GMT (RFC 3261 §20.17)")]
    Date,
    #[error("{0}")]
    Other(&'static str),
}

pub type Result<T> = std::result::Result<T, ParseError>;
