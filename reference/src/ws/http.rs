//! HTTP/1.x message heads, as far as the WebSocket opening handshake needs them.
//!
//! RFC 6455 §4.1 (handshake 1) and §4.2.1 require the handshake to be a valid HTTP request;
//! the grammar applied here is RFC 7230 §3 (start-line, header fields) and §7 (`#rule` lists).
//! The parser is sans-IO: it is handed the bytes received so far and answers
//! [`Parsed::Incomplete`] (read more), [`Parsed::Complete`] (the head and how many bytes it
//! consumed: whatever follows belongs to the WebSocket stream), or a typed [`HttpError`] that
//! names the fault and its byte offset. It never panics, whatever the input.
//!
//! Strictness, decided once for the reference implementation:
//! - Line terminators are CRLF only. A bare LF or a CR not followed by LF is an error
//!   (RFC 7230 §3.5 lets a recipient *choose* to accept a bare LF; we do not).
//! - Empty lines before the start-line are skipped (RFC 7230 §3.5 SHOULD).
//! - Obsolete line folding, and whitespace between the start-line and the first header field,
//!   are rejected (RFC 7230 §3 and §3.2.4 allow rejecting; folding is deprecated).
//! - Whitespace between a field-name and its colon is rejected (RFC 7230 §3.2.4 MUST).
//! - Field values are `*( SP / HTAB / VCHAR / obs-text )`; any other control byte (NUL, a bare
//!   CR, DEL, ...) is an error. Leading and trailing OWS is trimmed from each value.
//! - The request-target is `1*VCHAR` here; its interpretation (origin-form, absolute-form) is
//!   the handshake's business (RFC 6455 §4.2.1 (1)).
//! - HTTP-version is `HTTP/DIGIT.DIGIT` with the case-sensitive name `HTTP` (RFC 7230 §2.6).
//! - At most [`MAX_HEADERS`] header fields and [`MAX_HEAD_LEN`] bytes of head by default
//!   ([`Limits`]); past them the error maps to 431 (RFC 6585 §5).

use std::fmt;

/// Default bound on the number of header fields in one head.
pub const MAX_HEADERS: usize = 64;
/// Default bound on the size of one head, in bytes, terminating blank line included.
pub const MAX_HEAD_LEN: usize = 16 * 1024;

/// Resource bounds applied while parsing (hostile peers must not make us buffer forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most header fields accepted; one more is [`HttpError::TooManyHeaders`].
    pub max_headers: usize,
    /// Most bytes a head may take; an incomplete head this long is [`HttpError::HeadTooLarge`].
    pub max_head_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_headers: MAX_HEADERS,
            max_head_len: MAX_HEAD_LEN,
        }
    }
}

/// `HTTP/major.minor` (RFC 7230 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpVersion {
    /// The digit before the dot.
    pub major: u8,
    /// The digit after the dot.
    pub minor: u8,
}

impl HttpVersion {
    /// HTTP/1.0.
    pub const HTTP_1_0: HttpVersion = HttpVersion { major: 1, minor: 0 };
    /// HTTP/1.1, the least version that may carry a WebSocket handshake (RFC 6455 §4.1 (2)).
    pub const HTTP_1_1: HttpVersion = HttpVersion { major: 1, minor: 1 };
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

/// One header field as received: the name in its original spelling, the value with the
/// surrounding OWS trimmed, and the byte offset of the field line in the parsed buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: Vec<u8>,
    offset: usize,
}

impl Header {
    /// The field-name as spelled on the wire (a token, so always ASCII).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field-value, OWS-trimmed, raw bytes (obs-text may make it non-UTF-8).
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The field-value as text, or `None` when it holds obs-text that is not UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }

    /// Byte offset of this field line in the buffer given to the parser.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether this field is named `name`, ASCII case-insensitively (RFC 7230 §3.2).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// All header fields of a head, in wire order, duplicates kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<Header>,
}

impl Headers {
    /// Every field in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.list.iter()
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// No field lines at all.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every field named `name` (case-insensitive), in wire order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.list.iter().filter(move |h| h.is(name))
    }

    /// The first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Header> {
        self.list.iter().find(|h| h.is(name))
    }

    /// How many field lines are named `name` (case-insensitive).
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// The values of every field named `name`, in wire order.
    pub fn values<'a>(&'a self, name: &'a str) -> Vec<&'a [u8]> {
        self.get_all(name).map(Header::value).collect()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// A parsed request head (request-line and header fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    raw: Vec<u8>,
    method: String,
    target: String,
    version: HttpVersion,
    headers: Headers,
}

impl RequestHead {
    /// Parses a complete request head; a convenience over [`parse_request`] for callers that
    /// hold the whole head (incomplete input is reported as [`HttpError::Truncated`]).
    pub fn parse(buf: &[u8]) -> Result<RequestHead, HttpError> {
        match parse_request(buf)? {
            Parsed::Complete { head, .. } => Ok(head),
            Parsed::Incomplete => Err(HttpError::Truncated { offset: buf.len() }),
        }
    }

    /// The bytes of the head exactly as received, up to and including the blank line.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// The method token, case preserved (methods are case-sensitive, RFC 7231 §4.1).
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The request-target as sent.
    pub fn target(&self) -> &str {
        &self.target
    }
    /// The HTTP-version of the request-line.
    pub fn version(&self) -> HttpVersion {
        self.version
    }
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

/// A parsed response head (status-line and header fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    raw: Vec<u8>,
    version: HttpVersion,
    status: u16,
    reason: Vec<u8>,
    headers: Headers,
}

impl ResponseHead {
    /// Parses a complete response head (see [`RequestHead::parse`]).
    pub fn parse(buf: &[u8]) -> Result<ResponseHead, HttpError> {
        match parse_response(buf)? {
            Parsed::Complete { head, .. } => Ok(head),
            Parsed::Incomplete => Err(HttpError::Truncated { offset: buf.len() }),
        }
    }

    /// The bytes of the head exactly as received, up to and including the blank line.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// The HTTP-version of the status-line.
    pub fn version(&self) -> HttpVersion {
        self.version
    }
    /// The three-digit status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The reason-phrase bytes (possibly empty; carries no semantics, RFC 7230 §3.1.2).
    pub fn reason(&self) -> &[u8] {
        &self.reason
    }
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

/// Result of feeding bytes to a head parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// The head is complete; `consumed` bytes belong to it (bytes after it are not HTTP).
    Complete {
        /// The parsed head.
        head: T,
        /// Bytes taken by the head, blank line included (`== head.raw().len()`).
        consumed: usize,
    },
    /// Every byte so far is a valid prefix of a head: read more and call again.
    Incomplete,
}

/// A malformed head: what is wrong, and where (byte offset into the buffer given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The method is not a token followed by one SP (RFC 7230 §3.1.1).
    #[error("invalid method token at byte {offset}")]
    Method {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// The request-target is empty, holds a non-VCHAR byte, or is not followed by one SP.
    #[error("invalid request-target at byte {offset}")]
    RequestTarget {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// Not `HTTP/DIGIT.DIGIT` (RFC 7230 §2.6).
    #[error("invalid HTTP-version at byte {offset} (expected HTTP/DIGIT.DIGIT)")]
    Version {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// The status-code is not three digits followed by SP or CRLF (RFC 7230 §3.1.2).
    #[error("invalid status-code at byte {offset} (expected 3 digits)")]
    StatusCode {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// A byte not allowed in a reason-phrase (RFC 7230 §3.1.2).
    #[error("invalid reason-phrase byte at {offset}")]
    ReasonPhrase {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// A field-name is empty or holds a non-token byte (RFC 7230 §3.2).
    #[error("invalid header field-name at byte {offset}")]
    HeaderName {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// Whitespace between a field-name and the colon (RFC 7230 §3.2.4: MUST reject).
    #[error("whitespace between header field-name and colon at byte {offset}")]
    SpaceBeforeColon {
        /// Offset of the whitespace.
        offset: usize,
    },
    /// A byte not allowed in a field-value (a control character).
    #[error("invalid header field-value byte at {offset}")]
    HeaderValue {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// A line starting with SP/HTAB: obs-fold, or whitespace before the first field
    /// (RFC 7230 §3, §3.2.4; rejected here).
    #[error("line starting with whitespace (obsolete folding) at byte {offset}")]
    ObsFold {
        /// Offset of the whitespace.
        offset: usize,
    },
    /// A CR not followed by LF.
    #[error("CR not followed by LF at byte {offset}")]
    BareCr {
        /// Offset of the CR.
        offset: usize,
    },
    /// An LF not preceded by CR (CRLF is required, see the module docs).
    #[error("LF without CR at byte {offset}")]
    BareLf {
        /// Offset of the LF.
        offset: usize,
    },
    /// More header fields than [`Limits::max_headers`].
    #[error("more than {limit} header fields (field at byte {offset})")]
    TooManyHeaders {
        /// The limit that was applied.
        limit: usize,
        /// Offset of the first field past the limit.
        offset: usize,
    },
    /// No blank line within [`Limits::max_head_len`] bytes.
    #[error("message head longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit that was applied.
        limit: usize,
    },
    /// The input ended inside the head (only from [`RequestHead::parse`] /
    /// [`ResponseHead::parse`], which are given the whole head).
    #[error("message head truncated at byte {offset}")]
    Truncated {
        /// Length of the input.
        offset: usize,
    },
}

impl HttpError {
    /// Byte offset of the fault, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            HttpError::Method { offset }
            | HttpError::RequestTarget { offset }
            | HttpError::Version { offset }
            | HttpError::StatusCode { offset }
            | HttpError::ReasonPhrase { offset }
            | HttpError::HeaderName { offset }
            | HttpError::SpaceBeforeColon { offset }
            | HttpError::HeaderValue { offset }
            | HttpError::ObsFold { offset }
            | HttpError::BareCr { offset }
            | HttpError::BareLf { offset }
            | HttpError::TooManyHeaders { offset, .. }
            | HttpError::Truncated { offset } => Some(offset),
            HttpError::HeadTooLarge { .. } => None,
        }
    }

    /// The HTTP status a server answers this fault with: 431 for the size limits
    /// (RFC 6585 §5), 400 otherwise (RFC 6455 §4.2.1, §10.7; RFC 7230 §3.2.4).
    pub fn status(&self) -> u16 {
        match self {
            HttpError::TooManyHeaders { .. } | HttpError::HeadTooLarge { .. } => 431,
            _ => 400,
        }
    }
}

/// Internal parse failure: either "need more bytes" or a real error.
enum Fail {
    Incomplete,
    Bad(HttpError),
}

impl From<HttpError> for Fail {
    fn from(e: HttpError) -> Self {
        Fail::Bad(e)
    }
}

/// `tchar` of RFC 7230 §3.2.6 (identical to RFC 2616's token characters used by RFC 6455).
pub fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z')
}

/// `token = 1*tchar` (RFC 7230 §3.2.6).
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn is_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// field-vchar / SP / HTAB (RFC 7230 §3.2; obs-text included).
fn is_field_byte(b: u8) -> bool {
    b == b' ' || b == b'\t' || is_vchar(b) || b >= 0x80
}

/// The index of the first byte at or after `pos` that fails `pred` (or `buf.len()`).
fn scan(buf: &[u8], pos: usize, pred: impl Fn(u8) -> bool) -> usize {
    buf.get(pos..)
        .and_then(|rest| rest.iter().position(|&b| !pred(b)))
        .map_or(buf.len(), |n| pos + n)
}

/// Expects CRLF at `pos`; `other` builds the error for any other byte there.
fn expect_crlf(buf: &[u8], pos: usize, other: impl Fn(usize) -> HttpError) -> Result<usize, Fail> {
    match buf.get(pos) {
        None => Err(Fail::Incomplete),
        Some(b'\r') => match buf.get(pos + 1) {
            None => Err(Fail::Incomplete),
            Some(b'\n') => Ok(pos + 2),
            Some(_) => Err(HttpError::BareCr { offset: pos }.into()),
        },
        Some(b'\n') => Err(HttpError::BareLf { offset: pos }.into()),
        Some(_) => Err(other(pos).into()),
    }
}

/// Skips empty lines before a start-line (RFC 7230 §3.5: SHOULD ignore at least one).
fn skip_leading_crlf(buf: &[u8]) -> Result<usize, Fail> {
    let mut pos = 0;
    loop {
        match buf.get(pos) {
            Some(b'\r') | Some(b'\n') => {
                pos = expect_crlf(buf, pos, |o| HttpError::BareCr { offset: o })?
            }
            _ => return Ok(pos),
        }
    }
}

/// `HTTP/DIGIT.DIGIT` at `pos` (RFC 7230 §2.6); returns the version and the next position.
fn parse_version(buf: &[u8], pos: usize) -> Result<(HttpVersion, usize), Fail> {
    const NAME: &[u8] = b"HTTP/";
    for (i, &want) in NAME.iter().enumerate() {
        match buf.get(pos + i) {
            None => return Err(Fail::Incomplete),
            Some(&b) if b == want => {}
            Some(_) => return Err(HttpError::Version { offset: pos + i }.into()),
        }
    }
    let mut p = pos + NAME.len();
    let digit = |p: &mut usize| -> Result<u8, Fail> {
        match buf.get(*p) {
            None => Err(Fail::Incomplete),
            Some(&b) if b.is_ascii_digit() => {
                *p += 1;
                Ok(b - b'0')
            }
            Some(_) => Err(HttpError::Version { offset: *p }.into()),
        }
    };
    let major = digit(&mut p)?;
    match buf.get(p) {
        None => return Err(Fail::Incomplete),
        Some(b'.') => p += 1,
        Some(_) => return Err(HttpError::Version { offset: p }.into()),
    }
    let minor = digit(&mut p)?;
    Ok((HttpVersion { major, minor }, p))
}

/// Header fields from `pos` up to and including the terminating blank line.
fn parse_headers(buf: &[u8], mut pos: usize, limits: &Limits) -> Result<(Headers, usize), Fail> {
    let mut list = Vec::new();
    loop {
        match buf.get(pos) {
            None => return Err(Fail::Incomplete),
            Some(b'\r') | Some(b'\n') => {
                let end = expect_crlf(buf, pos, |o| HttpError::BareCr { offset: o })?;
                return Ok((Headers { list }, end));
            }
            // RFC 7230 §3 (whitespace before the first field) and §3.2.4 (obs-fold): reject.
            Some(b' ') | Some(b'\t') => return Err(HttpError::ObsFold { offset: pos }.into()),
            Some(_) => {}
        }
        if list.len() >= limits.max_headers {
            return Err(HttpError::TooManyHeaders {
                limit: limits.max_headers,
                offset: pos,
            }
            .into());
        }
        let line = pos;
        let name_end = scan(buf, pos, is_tchar);
        match buf.get(name_end) {
            None => return Err(Fail::Incomplete),
            Some(b':') if name_end > pos => {}
            // RFC 7230 §3.2.4: no whitespace is allowed between field-name and colon.
            Some(b' ') | Some(b'\t') if name_end > pos => {
                return Err(HttpError::SpaceBeforeColon { offset: name_end }.into());
            }
            Some(_) => return Err(HttpError::HeaderName { offset: name_end }.into()),
        }
        let value_start = name_end + 1;
        let value_end = scan(buf, value_start, is_field_byte);
        pos = expect_crlf(buf, value_end, |o| HttpError::HeaderValue { offset: o })?;
        let value = buf.get(value_start..value_end).unwrap_or_default();
        let value = trim_ows(value);
        let name =
            String::from_utf8_lossy(buf.get(line..name_end).unwrap_or_default()).into_owned();
        list.push(Header {
            name,
            value: value.to_vec(),
            offset: line,
        });
    }
}

/// Trims OWS (SP / HTAB) at both ends (RFC 7230 §3.2.3).
pub fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}

fn parse_request_inner(buf: &[u8], limits: &Limits) -> Result<(RequestHead, usize), Fail> {
    let start = skip_leading_crlf(buf)?;
    // request-line = method SP request-target SP HTTP-version CRLF (RFC 7230 §3.1.1)
    let method_end = scan(buf, start, is_tchar);
    match buf.get(method_end) {
        None => return Err(Fail::Incomplete),
        Some(b' ') if method_end > start => {}
        Some(_) => return Err(HttpError::Method { offset: method_end }.into()),
    }
    let target_start = method_end + 1;
    let target_end = scan(buf, target_start, is_vchar);
    match buf.get(target_end) {
        None => return Err(Fail::Incomplete),
        Some(b' ') if target_end > target_start => {}
        Some(_) => return Err(HttpError::RequestTarget { offset: target_end }.into()),
    }
    let (version, after_version) = parse_version(buf, target_end + 1)?;
    let headers_start = expect_crlf(buf, after_version, |o| HttpError::Version { offset: o })?;
    let (headers, end) = parse_headers(buf, headers_start, limits)?;
    let text = |a: usize, b: usize| {
        String::from_utf8_lossy(buf.get(a..b).unwrap_or_default()).into_owned()
    };
    let head = RequestHead {
        raw: buf.get(..end).unwrap_or_default().to_vec(),
        method: text(start, method_end),
        target: text(target_start, target_end),
        version,
        headers,
    };
    Ok((head, end))
}

fn parse_response_inner(buf: &[u8], limits: &Limits) -> Result<(ResponseHead, usize), Fail> {
    let start = skip_leading_crlf(buf)?;
    // status-line = HTTP-version SP status-code SP reason-phrase CRLF (RFC 7230 §3.1.2)
    let (version, mut pos) = parse_version(buf, start)?;
    match buf.get(pos) {
        None => return Err(Fail::Incomplete),
        Some(b' ') => pos += 1,
        Some(_) => return Err(HttpError::Version { offset: pos }.into()),
    }
    let mut status: u16 = 0;
    for _ in 0..3 {
        match buf.get(pos) {
            None => return Err(Fail::Incomplete),
            Some(&b) if b.is_ascii_digit() => {
                status = status * 10 + u16::from(b - b'0');
                pos += 1;
            }
            Some(_) => return Err(HttpError::StatusCode { offset: pos }.into()),
        }
    }
    // Tolerated: a status-line ending right after the code (no SP). RFC 7230 §3.1.2 requires
    // the SP, but the reason-phrase carries no semantics and a client should ignore it.
    let (reason_start, reason_end) = match buf.get(pos) {
        None => return Err(Fail::Incomplete),
        Some(b' ') => {
            let r = pos + 1;
            (r, scan(buf, r, is_field_byte))
        }
        Some(b'\r') | Some(b'\n') => (pos, pos),
        Some(_) => return Err(HttpError::StatusCode { offset: pos }.into()),
    };
    let headers_start = expect_crlf(buf, reason_end, |o| HttpError::ReasonPhrase { offset: o })?;
    let (headers, end) = parse_headers(buf, headers_start, limits)?;
    let head = ResponseHead {
        raw: buf.get(..end).unwrap_or_default().to_vec(),
        version,
        status,
        reason: buf
            .get(reason_start..reason_end)
            .unwrap_or_default()
            .to_vec(),
        headers,
    };
    Ok((head, end))
}

/// A head parser over a bounded window: the head and the bytes it took, or why not.
type InnerParser<T> = fn(&[u8], &Limits) -> Result<(T, usize), Fail>;

/// Applies the head-size bound around an inner parser.
fn bounded<T>(buf: &[u8], limits: &Limits, inner: InnerParser<T>) -> Result<Parsed<T>, HttpError> {
    let window = buf.get(..limits.max_head_len).unwrap_or(buf);
    match inner(window, limits) {
        Ok((head, consumed)) => Ok(Parsed::Complete { head, consumed }),
        Err(Fail::Bad(e)) => Err(e),
        Err(Fail::Incomplete) if buf.len() >= limits.max_head_len => Err(HttpError::HeadTooLarge {
            limit: limits.max_head_len,
        }),
        Err(Fail::Incomplete) => Ok(Parsed::Incomplete),
    }
}

/// Parses a request head from the start of `buf` with the default [`Limits`].
pub fn parse_request(buf: &[u8]) -> Result<Parsed<RequestHead>, HttpError> {
    parse_request_with(buf, &Limits::default())
}

/// Parses a request head from the start of `buf` with explicit [`Limits`].
pub fn parse_request_with(buf: &[u8], limits: &Limits) -> Result<Parsed<RequestHead>, HttpError> {
    bounded(buf, limits, parse_request_inner)
}

/// Parses a response head from the start of `buf` with the default [`Limits`].
pub fn parse_response(buf: &[u8]) -> Result<Parsed<ResponseHead>, HttpError> {
    parse_response_with(buf, &Limits::default())
}

/// Parses a response head from the start of `buf` with explicit [`Limits`].
pub fn parse_response_with(buf: &[u8], limits: &Limits) -> Result<Parsed<ResponseHead>, HttpError> {
    bounded(buf, limits, parse_response_inner)
}

/// One non-empty element of a `#rule` list, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListElement<'a> {
    /// The element, OWS-trimmed, never empty.
    pub bytes: &'a [u8],
    /// Index of the header field (among those passed in) that held it.
    pub field: usize,
    /// Byte offset of the element inside that field's value.
    pub offset: usize,
}

/// Splits the values of a list-valued field (all its field lines, which together form one
/// list, RFC 7230 §3.2.2) into its non-empty elements. Empty elements (`a,,b`, a leading or
/// trailing comma, an empty field line) are skipped as RFC 7230 §7 requires of recipients.
/// Commas are not special inside anything here: callers whose grammar has quoted-strings
/// must not use this (see `extensions.rs`); for token lists a quote is an error anyway.
pub fn list_elements<'a>(values: &[&'a [u8]]) -> Vec<ListElement<'a>> {
    let mut out = Vec::new();
    for (field, value) in values.iter().enumerate() {
        let mut start = 0;
        for piece in value.split(|&b| b == b',') {
            let lead = piece
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let trimmed = trim_ows(piece);
            if !trimmed.is_empty() {
                out.push(ListElement {
                    bytes: trimmed,
                    field,
                    offset: start + lead,
                });
            }
            start += piece.len() + 1;
        }
    }
    out
}

/// Whether the list formed by `values` holds `token`, compared ASCII case-insensitively
/// (for `Connection` and `Upgrade`, whose tokens are case-insensitive: RFC 6455 §4.2.1 (3),
/// (4); RFC 7230 §6.1, §6.7). Returns `Err(offset)` when an element is not a token
/// (for `Upgrade`, `protocol-name ["/" protocol-version]`).
pub(crate) fn list_has_token_ci(
    values: &[&[u8]],
    token: &str,
    allow_slash: bool,
) -> Result<bool, (usize, usize)> {
    let mut found = false;
    for el in list_elements(values) {
        let ok = if allow_slash {
            let mut parts = el.bytes.splitn(2, |&b| b == b'/');
            let name_ok = parts
                .next()
                .is_some_and(|p| !p.is_empty() && p.iter().all(|&b| is_tchar(b)));
            let ver_ok = parts
                .next()
                .is_none_or(|p| !p.is_empty() && p.iter().all(|&b| is_tchar(b)));
            name_ok && ver_ok
        } else {
            el.bytes.iter().all(|&b| is_tchar(b))
        };
        if !ok {
            return Err((el.field, el.offset));
        }
        if el.bytes.eq_ignore_ascii_case(token.as_bytes()) {
            found = true;
        }
    }
    Ok(found)
}

/// Renders a response head and body: `HTTP/1.1 <status> <reason>`, the header fields in the
/// order given, the blank line, then `body`. Callers pass names that are tokens and values
/// free of CR, LF and other controls (every value built in this module is; values from
/// configuration are checked where they enter, e.g. `Rejected::redirect`).
pub fn render_response(
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status:03} {reason}\r\n").as_bytes());
    for (name, value) in headers {
        debug_assert!(is_token(name), "header name {name:?} is not a token");
        debug_assert!(
            value.bytes().all(is_field_byte),
            "header value {value:?} holds a control byte"
        );
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Whether `value` may be sent as a field-value (no CR, LF or other control bytes).
pub fn is_valid_field_value(value: &str) -> bool {
    value.bytes().all(is_field_byte) && trim_ows(value.as_bytes()).len() == value.len()
}

#[cfg(test)]
mod tests;
