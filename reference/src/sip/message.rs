//! SIP messages: start line, header section, body (RFC 3261 §7), with three framings:
//! - [`Message::parse`]: the input is exactly one message, as a WebSocket message is
//!   (RFC 7118 §5): the body is bounded by Content-Length when present, else it is the rest of
//!   the input; bytes beyond Content-Length are an error (two messages in one WS message);
//! - [`Message::parse_datagram`]: RFC 3261 §18.3 for UDP: octets beyond Content-Length are
//!   discarded;
//! - [`Message::parse_stream`]: RFC 3261 §18.3 for TCP/TLS: Content-Length is required and
//!   an incomplete message is `Ok(None)`.
//!
//! Every parsed message keeps the exact bytes it was parsed from ([`Message::raw`]) so that a
//! report can show the evidence.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use super::error::{ErrorKind, ParseError, Result};
use super::header::{Header, HeaderName, HeaderValue, parse_value};
use super::method::{CSeq, Method};
use super::name_addr::{Contact, NameAddr};
use super::scan::is_token;
use super::uri::{Uri, UriContext, parse_uri};
use super::via::Via;

/// More header lines than this is refused rather than buffered without bound.
pub const MAX_HEADERS: usize = 256;

/// `SIP/2.0`, kept as its two numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const SIP_2_0: Version = Version { major: 2, minor: 0 };
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLine {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusLine {
    pub version: Version,
    pub code: u16,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartLine {
    Request(RequestLine),
    Response(StatusLine),
}

impl fmt::Display for StartLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartLine::Request(r) => write!(f, "{} {} {}", r.method, r.uri, r.version),
            StartLine::Response(s) => write!(f, "{} {} {}", s.version, s.code, s.reason),
        }
    }
}

/// A SIP request or response.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    #[serde(serialize_with = "body_as_text")]
    pub body: Vec<u8>,
    #[serde(skip)]
    raw: Vec<u8>,
}

/// Two messages are equal when their parsed form is: the raw bytes are evidence, not content.
impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start && self.headers == other.headers && self.body == other.body
    }
}

impl Eq for Message {}

fn body_as_text<S: serde::Serializer>(body: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    match std::str::from_utf8(body) {
        Ok(t) => s.serialize_str(t),
        Err(_) => s.serialize_bytes(body),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    WholeMessage,
    Datagram,
    Stream,
}

impl Message {
    /// A message built in code (no raw bytes until serialized).
    pub fn new(start: StartLine, headers: Vec<Header>, body: Vec<u8>) -> Self {
        Message {
            start,
            headers,
            body,
            raw: Vec::new(),
        }
    }

    /// Parse exactly one SIP message from one WebSocket message (RFC 7118 §5).
    pub fn parse(input: &[u8]) -> Result<Message> {
        parse_framed(input, Framing::WholeMessage).map(|(m, _)| m)
    }

    /// Parse a UDP datagram: octets past Content-Length are discarded (RFC 3261 §18.3).
    pub fn parse_datagram(input: &[u8]) -> Result<Message> {
        parse_framed(input, Framing::Datagram).map(|(m, _)| m)
    }

    /// Parse the next message on a stream: `Ok(None)` until the head and the Content-Length
    /// bytes of body have arrived; otherwise the message and how many bytes it used.
    pub fn parse_stream(input: &[u8]) -> Result<Option<(Message, usize)>> {
        match parse_framed(input, Framing::Stream) {
            Ok((m, used)) => Ok(Some((m, used))),
            Err(e) if matches!(e.kind, ErrorKind::UnterminatedHead) => Ok(None),
            Err(e) if matches!(e.kind, ErrorKind::BodyTooShort { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bytes this message was parsed from; empty for a message built in code.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    pub fn request_line(&self) -> Option<&RequestLine> {
        match &self.start {
            StartLine::Request(r) => Some(r),
            StartLine::Response(_) => None,
        }
    }

    pub fn status_line(&self) -> Option<&StatusLine> {
        match &self.start {
            StartLine::Response(s) => Some(s),
            StartLine::Request(_) => None,
        }
    }

    pub fn method(&self) -> Option<&Method> {
        self.request_line().map(|r| &r.method)
    }

    /// Values of every header with this name, in order.
    pub fn values<'a>(
        &'a self,
        name: &HeaderName,
    ) -> impl Iterator<Item = &'a HeaderValue> + use<'a> {
        let name = name.clone();
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| &h.value)
    }

    /// The first value of a header.
    pub fn value(&self, name: &HeaderName) -> Option<&HeaderValue> {
        self.values(name).next()
    }

    /// The text of a header kept as text (unknown headers, Subject, User-Agent, ...); the
    /// name is matched case-insensitively and through compact forms.
    pub fn text(&self, name: &str) -> Option<&str> {
        let name = HeaderName::parse(name);
        self.values(&name).find_map(|v| match v {
            HeaderValue::Text(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// Every Via value, top first, across repeated Via header lines.
    pub fn vias(&self) -> impl Iterator<Item = &Via> {
        self.values(&HeaderName::Via).flat_map(|v| match v {
            HeaderValue::Via(l) => l.as_slice(),
            _ => &[],
        })
    }

    pub fn top_via(&self) -> Option<&Via> {
        self.vias().next()
    }

    fn address(&self, name: &HeaderName) -> Option<&NameAddr> {
        self.values(name).find_map(|v| match v {
            HeaderValue::Address(a) => Some(a),
            _ => None,
        })
    }

    pub fn from(&self) -> Option<&NameAddr> {
        self.address(&HeaderName::From)
    }

    pub fn to(&self) -> Option<&NameAddr> {
        self.address(&HeaderName::To)
    }

    pub fn call_id(&self) -> Option<&str> {
        self.values(&HeaderName::CallId).find_map(|v| match v {
            HeaderValue::CallId(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn cseq(&self) -> Option<&CSeq> {
        self.values(&HeaderName::CSeq).find_map(|v| match v {
            HeaderValue::CSeq(c) => Some(c),
            _ => None,
        })
    }

    fn number(&self, name: &HeaderName) -> Option<u32> {
        self.values(name).find_map(|v| match v {
            HeaderValue::Number(n) => Some(*n),
            _ => None,
        })
    }

    pub fn max_forwards(&self) -> Option<u32> {
        self.number(&HeaderName::MaxForwards)
    }

    pub fn content_length(&self) -> Option<u32> {
        self.number(&HeaderName::ContentLength)
    }

    pub fn expires(&self) -> Option<u32> {
        self.number(&HeaderName::Expires)
    }

    /// True when some Contact header is `*`.
    pub fn contact_star(&self) -> bool {
        self.values(&HeaderName::Contact)
            .any(|v| matches!(v, HeaderValue::Contact(Contact::Star)))
    }

    /// Every Contact address across header lines (`*` contributes none).
    pub fn contacts(&self) -> impl Iterator<Item = &NameAddr> {
        self.values(&HeaderName::Contact).flat_map(|v| match v {
            HeaderValue::Contact(Contact::List(l)) => l.as_slice(),
            _ => &[],
        })
    }

    /// Route, Record-Route or Path entries, in order across header lines.
    pub fn addresses<'a>(
        &'a self,
        name: &HeaderName,
    ) -> impl Iterator<Item = &'a NameAddr> + use<'a> {
        self.values(name).flat_map(|v| match v {
            HeaderValue::Addresses(l) => l.as_slice(),
            _ => &[],
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &NameAddr> {
        self.addresses(&HeaderName::Route)
    }

    pub fn record_routes(&self) -> impl Iterator<Item = &NameAddr> {
        self.addresses(&HeaderName::RecordRoute)
    }

    pub fn paths(&self) -> impl Iterator<Item = &NameAddr> {
        self.addresses(&HeaderName::Path)
    }

    /// Option tags of Supported, Require, Proxy-Require or Unsupported (or methods of Allow).
    pub fn tokens<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a str> + use<'a> {
        self.values(name).flat_map(|v| {
            match v {
                HeaderValue::Tokens(t) => t.as_slice(),
                _ => &[],
            }
            .iter()
            .map(String::as_str)
        })
    }

    /// `Supported` (or `Require`) lists the option tag, compared case-insensitively.
    pub fn supports(&self, tag: &str) -> bool {
        self.tokens(&HeaderName::Supported)
            .chain(self.tokens(&HeaderName::Require))
            .any(|t| t.eq_ignore_ascii_case(tag))
    }

    /// Serialize: start line, one line per header, blank line, body. Content-Length is written
    /// as stored, never recomputed here.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(self.start.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        for h in &self.headers {
            out.extend_from_slice(h.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// RFC 3261 checks beyond syntax that every element applies before it acts on a message:
    /// the mandatory headers (§8.1.1; RFC 4475 §3.3.1), single-valued headers present once
    /// (§7.3.1; RFC 4475 §3.3.8), a request's CSeq method equal to its method (§8.1.1.5,
    /// RFC 4475 §3.1.2.17), and version 2.0 (§8.2 handles others with 505; RFC 4475 §3.1.2.16).
    pub fn validate(&self) -> std::result::Result<(), Invalid> {
        let version = match &self.start {
            StartLine::Request(r) => r.version,
            StartLine::Response(s) => s.version,
        };
        if version != Version::SIP_2_0 {
            return Err(Invalid::Version(version));
        }
        let mut required = vec![
            HeaderName::To,
            HeaderName::From,
            HeaderName::CSeq,
            HeaderName::CallId,
            HeaderName::Via,
        ];
        // Max-Forwards is mandatory in requests an RFC 3261 UAC builds (§8.1.1), and such a UAC
        // marks its branch with the magic cookie (§8.1.1.7). Requests from RFC 2543 elements
        // (no cookie) may lack it: RFC 4475 §3.4.1 says to accept them, and RFC 3261 §16.3
        // item 3 / §16.6 item 3 handle a request without Max-Forwards ("Some existing UAs will
        // not provide a Max-Forwards header field in a request").
        if self.is_request() && self.top_via().is_some_and(Via::has_rfc3261_branch) {
            required.push(HeaderName::MaxForwards);
        }
        for name in required {
            if self.value(&name).is_none() {
                return Err(Invalid::Missing(name));
            }
        }
        for (i, h) in self.headers.iter().enumerate() {
            if h.name.is_single_valued() && self.headers[..i].iter().any(|e| e.name == h.name) {
                return Err(Invalid::Repeated(h.name.clone()));
            }
        }
        if let (Some(method), Some(cseq)) = (self.method(), self.cseq())
            && &cseq.method != method
        {
            return Err(Invalid::CSeqMethod {
                method: method.clone(),
                cseq: cseq.method.clone(),
            });
        }
        Ok(())
    }
}

/// Why [`Message::validate`] refused a well-formed message, and the answer it calls for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Invalid {
    #[error("unsupported version {0} (RFC 3261 §8.2: 505)")]
    Version(Version),
    #[error("missing mandatory header {0} (RFC 3261 §8.1.1)")]
    Missing(HeaderName),
    #[error("header {0} appears more than once but takes a single value (RFC 3261 §7.3.1)")]
    Repeated(HeaderName),
    #[error("CSeq method {cseq} differs from request method {method} (RFC 3261 §8.1.1.5)")]
    CSeqMethod { method: Method, cseq: Method },
}

impl Invalid {
    /// The response status a server sends for this fault.
    pub fn status(&self) -> u16 {
        match self {
            Invalid::Version(_) => 505,
            _ => 400,
        }
    }
}

/// Where a header's unfolded value came from: `(offset in value, offset in input)` per piece,
/// so an error inside a folded value still points at the right byte.
struct Pieces(Vec<(usize, usize)>);

impl Pieces {
    fn map(&self, off: usize) -> usize {
        let (v, r) = self
            .0
            .iter()
            .rev()
            .find(|(v, _)| *v <= off)
            .copied()
            .unwrap_or((0, 0));
        r + (off - v)
    }
}

fn parse_framed(input: &[u8], framing: Framing) -> Result<(Message, usize)> {
    if input.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, 0));
    }
    let head_end = find_blank_line(input)
        .ok_or_else(|| ParseError::new(ErrorKind::UnterminatedHead, input.len()))?;
    let head = std::str::from_utf8(&input[..head_end])
        .map_err(|e| ParseError::new(ErrorKind::NotUtf8, e.valid_up_to()))?;

    // Split into CRLF-terminated lines; a lone CR or LF is an error, not a line end.
    let mut lines: Vec<(usize, &str)> = Vec::with_capacity(16);
    let mut start = 0;
    let hb = head.as_bytes();
    let mut i = 0;
    while i < hb.len() {
        match hb[i] {
            b'\r' if hb.get(i + 1) == Some(&b'\n') => {
                lines.push((start, &head[start..i]));
                i += 2;
                start = i;
                continue;
            }
            b'\r' => return Err(ParseError::new(ErrorKind::BareCr, i)),
            b'\n' => return Err(ParseError::new(ErrorKind::BareLf, i)),
            _ => {}
        }
        i += 1;
    }
    lines.push((start, &head[start..]));

    let (sl_off, sl) = lines[0];
    let start_line = parse_start_line(sl).map_err(|e| e.at(sl_off))?;

    // Group folded continuation lines with their header (RFC 3261 §7.3.1).
    let mut headers: Vec<Header> = Vec::with_capacity(lines.len());
    let mut idx = 1;
    let mut content_length: Option<u64> = None;
    while idx < lines.len() {
        let (off, line) = lines[idx];
        if line.starts_with([' ', '\t']) {
            return Err(ParseError::new(ErrorKind::FoldWithoutHeader, off));
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::new(ErrorKind::TooManyHeaders(MAX_HEADERS), off));
        }
        let name_len = line.bytes().take_while(|b| is_token(*b)).count();
        let name = &line[..name_len];
        let after = line[name_len..].trim_start_matches([' ', '\t']);
        let Some(first) = after.strip_prefix(':') else {
            return Err(if name.is_empty() {
                ParseError::new(ErrorKind::HeaderName(line.chars().take(20).collect()), off)
            } else {
                ParseError::new(ErrorKind::HeaderNoColon, off + name_len)
            });
        };
        let first_trim = first.trim_start_matches([' ', '\t']);
        let first_off = off + (line.len() - first_trim.len());
        let mut value = String::from(first_trim);
        let mut pieces = Pieces(vec![(0, first_off)]);
        idx += 1;
        while idx < lines.len() && lines[idx].1.starts_with([' ', '\t']) {
            let (coff, cont) = lines[idx];
            let trimmed = cont.trim_start_matches([' ', '\t']);
            let trimmed_end = value.trim_end_matches([' ', '\t']).len();
            value.truncate(trimmed_end);
            if !value.is_empty() && !trimmed.is_empty() {
                value.push(' ');
            }
            pieces
                .0
                .push((value.len(), coff + (cont.len() - trimmed.len())));
            value.push_str(trimmed);
            idx += 1;
        }
        let value = value.trim_end_matches([' ', '\t']);
        let hname = HeaderName::parse(name);
        let compact = name.len() == 1 && hname.compact().is_some();
        let parsed = parse_value(&hname, value).map_err(|e| ParseError {
            offset: pieces.map(e.offset),
            ..e.in_header(hname.as_str())
        })?;
        if let (HeaderName::ContentLength, HeaderValue::Number(n)) = (&hname, &parsed) {
            let n = u64::from(*n);
            if let Some(prev) = content_length
                && prev != n
            {
                return Err(ParseError::new(
                    ErrorKind::ConflictingContentLength(prev, n),
                    off,
                ));
            }
            content_length = Some(n);
        }
        headers.push(Header {
            name: hname,
            compact,
            value: parsed,
        });
    }

    let body_start = head_end + 4;
    let available = input.len() - body_start;
    let body_len = match (content_length, framing) {
        (Some(cl), _) if cl > available as u64 => {
            return Err(ParseError::new(
                ErrorKind::BodyTooShort {
                    declared: cl,
                    available,
                },
                input.len(),
            ));
        }
        (Some(cl), Framing::WholeMessage) if (cl as usize) < available => {
            return Err(ParseError::new(
                ErrorKind::TrailingData(available - cl as usize),
                body_start + cl as usize,
            ));
        }
        (Some(cl), _) => cl as usize,
        (None, Framing::Stream) => {
            return Err(ParseError::new(ErrorKind::MissingContentLength, head_end));
        }
        (None, _) => available,
    };
    let end = body_start + body_len;
    Ok((
        Message {
            start: start_line,
            headers,
            body: input[body_start..end].to_vec(),
            raw: input[..end].to_vec(),
        },
        end,
    ))
}

/// Where the CRLF CRLF that ends the header section starts.
fn find_blank_line(hay: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == b'\r') {
        let at = from + p;
        if hay[at..].starts_with(b"\r\n\r\n") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP
/// Status-Code SP Reason-Phrase. Exactly one SP between elements (RFC 4475 §3.1.2.9, §3.1.2.10).
fn parse_start_line(line: &str) -> Result<StartLine> {
    if line.is_empty() {
        return Err(ParseError::new(ErrorKind::StartLine("empty start line"), 0));
    }
    // Compared as bytes: a multi-byte character may straddle byte 4 of hostile input.
    if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
        let sp = line.find(' ').ok_or(ParseError::new(
            ErrorKind::StartLine("no status code"),
            line.len(),
        ))?;
        let version = parse_version(&line[..sp])?;
        let rest = &line[sp + 1..];
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3
            || !code.bytes().all(|b| b.is_ascii_digit())
            || code.starts_with(['0', '7', '8', '9'])
        {
            return Err(ParseError::new(
                ErrorKind::StatusCode(code.to_string()),
                sp + 1,
            ));
        }
        // Three digits, checked above.
        let code: u16 = code
            .parse()
            .map_err(|_| ParseError::new(ErrorKind::StatusCode(code.to_string()), sp + 1))?;
        return Ok(StartLine::Response(StatusLine {
            version,
            code,
            reason: reason.to_string(),
        }));
    }
    let sp1 = line.find(' ').ok_or(ParseError::new(
        ErrorKind::StartLine("request line needs three elements"),
        line.len(),
    ))?;
    let method = Method::parse(&line[..sp1])?;
    let rest = &line[sp1 + 1..];
    let sp2 = rest.find(' ').ok_or(ParseError::new(
        ErrorKind::StartLine("request line needs three elements"),
        line.len(),
    ))?;
    let uri_text = &rest[..sp2];
    let uri_off = sp1 + 1;
    if uri_text.is_empty() {
        return Err(ParseError::new(
            ErrorKind::StartLine("empty Request-URI (one SP between elements)"),
            uri_off,
        ));
    }
    let mut c = super::scan::Cursor::new(uri_text);
    let uri = parse_uri(&mut c, UriContext::Whole).map_err(|e| e.at(uri_off))?;
    if !c.is_empty() {
        return Err(c.unexpected("SP after the Request-URI").at(uri_off));
    }
    if let Uri::Sip(u) = &uri
        && !u.headers.is_empty()
    {
        // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
        return Err(ParseError::new(
            ErrorKind::StartLine("URI headers are not allowed in a Request-URI (RFC 3261 §19.1.1)"),
            uri_off,
        ));
    }
    let version_off = uri_off + sp2 + 1;
    let version = parse_version(&rest[sp2 + 1..]).map_err(|e| e.at(version_off))?;
    Ok(StartLine::Request(RequestLine {
        method,
        uri,
        version,
    }))
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive, RFC 3261 §7.1).
fn parse_version(s: &str) -> Result<Version> {
    let bad = || ParseError::new(ErrorKind::Version(s.to_string()), 0);
    let rest = s
        .get(4..)
        .filter(|_| s[..4].eq_ignore_ascii_case("SIP/"))
        .ok_or_else(bad)?;
    let (maj, min) = rest.split_once('.').ok_or_else(bad)?;
    let num = |d: &str| {
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            d.parse::<u32>().ok()
        }
    };
    match (num(maj), num(min)) {
        (Some(major), Some(minor)) => Ok(Version { major, minor }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests;
