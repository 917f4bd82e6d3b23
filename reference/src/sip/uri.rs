//! SIP and SIPS URIs (RFC 3261 §19.1, §25.1) and other absolute URIs (`tel:`, `urn:`, ...).
//!
//! Components are kept as written (escapes included), so printing reproduces the input up to
//! the case of the scheme; comparisons that RFC 3261 §19.1.4 makes case-insensitive are done by
//! the accessors, not by rewriting the data.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::Serialize;

use super::error::{ErrorKind, ParseError, Result};
use super::params::{Params, parse_uri_params};
use super::scan::{Cursor, is_hnv, is_password, is_unreserved, is_user};

/// The host part of a SIP URI or Via sent-by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Host {
    /// A host name as written (compare with `eq_ignore_ascii_case`).
    Domain(String),
    Ipv4(Ipv4Addr),
    /// Written `[addr]` in URIs and Via.
    Ipv6(Ipv6Addr),
}

impl Host {
    /// Parse `hostname / IPv4address / IPv6reference` (RFC 3261 §25.1) from the whole string.
    pub fn parse(s: &str) -> Result<Host> {
        let mut c = Cursor::new(s);
        let h = parse_host(&mut c)?;
        if !c.is_empty() {
            return Err(c.unexpected("end of host"));
        }
        Ok(h)
    }

    /// True for a host name under the `.invalid` TLD (RFC 2606), as WebSocket clients use in
    /// Via and Contact (RFC 7118 Appendix B.1): never resolvable, never to be looked up.
    pub fn is_invalid_tld(&self) -> bool {
        match self {
            Host::Domain(d) => {
                let d = d.strip_suffix('.').unwrap_or(d);
                d.len() >= 8 && d[d.len() - 8..].eq_ignore_ascii_case(".invalid")
                    || d.eq_ignore_ascii_case("invalid")
            }
            _ => false,
        }
    }

    /// Host equality as RFC 3261 §19.1.4 compares hosts (names case-insensitively).
    pub fn matches(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

pub(crate) fn parse_host(c: &mut Cursor<'_>) -> Result<Host> {
    let start = c.pos();
    if c.eat(b'[') {
        let inner = c.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !c.eat(b']') {
            return Err(c.unexpected("']' closing an IPv6 reference"));
        }
        return Ipv6Addr::from_str(inner)
            .map(Host::Ipv6)
            .map_err(|_| ParseError::new(ErrorKind::Host(c.slice(start).to_string()), start));
    }
    let text = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if text.is_empty() {
        return Err(c.unexpected("a host"));
    }
    let bad = || ParseError::new(ErrorKind::Host(text.to_string()), start);
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // All digits and dots: only an IPv4address can look like this (a toplabel starts with
        // ALPHA). std's parser refuses leading zeros and out-of-range octets.
        return Ipv4Addr::from_str(text).map(Host::Ipv4).map_err(|_| bad());
    }
    // hostname = *( domainlabel "." ) toplabel [ "." ]
    let labels: Vec<&str> = text.strip_suffix('.').unwrap_or(text).split('.').collect();
    for label in &labels {
        let b = label.as_bytes();
        if b.is_empty() || b[0] == b'-' || b[b.len() - 1] == b'-' {
            return Err(bad());
        }
    }
    let top = labels.last().map(|l| l.as_bytes()[0]).unwrap_or(b'-');
    if !top.is_ascii_alphabetic() {
        return Err(bad());
    }
    Ok(Host::Domain(text.to_string()))
}

pub(crate) fn parse_port(c: &mut Cursor<'_>) -> Result<u16> {
    let start = c.pos();
    let digits = c.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err(c.unexpected("a port number"));
    }
    digits
        .parse::<u16>()
        .map_err(|_| ParseError::new(ErrorKind::Port(digits.to_string()), start))
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SipUri {
    /// `sips:` (RFC 3261 §19.1: every hop over TLS) rather than `sip:`.
    pub secure: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `?name=value&...` headers, as written.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// A URI with just a host: `sip:host`.
    pub fn new(secure: bool, host: Host) -> Self {
        SipUri {
            secure,
            user: None,
            password: None,
            host,
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// Parse a whole string as a SIP or SIPS URI.
    pub fn parse(s: &str) -> Result<SipUri> {
        match Uri::parse(s)? {
            Uri::Sip(u) => Ok(u),
            Uri::Other(o) => Err(ParseError::new(ErrorKind::Scheme(o.scheme), 0)),
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.secure { "sips" } else { "sip" }
    }

    /// The `transport` URI parameter as written (RFC 3261 §19.1.1), if any.
    pub fn transport_param(&self) -> Option<&str> {
        self.params.value("transport")
    }

    /// The `lr` parameter marks a loose router (RFC 3261 §19.1.1).
    pub fn lr(&self) -> bool {
        self.params.has("lr")
    }

    /// The user part with %-escapes resolved (RFC 3261 §19.1.4 compares unescaped).
    pub fn user_unescaped(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(unescape)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())?;
        f.write_str(":")?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(pw) = &self.password {
                write!(f, ":{pw}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{name}={value}")?;
        }
        Ok(())
    }
}

/// Any other absolute URI (RFC 3261 §25.1 `absoluteURI`), kept opaque: `tel:+1555`,
/// `urn:service:sos`, `nobodyKnowsThisScheme:totallyopaquecontent` (RFC 4475 §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbsoluteUri {
    pub scheme: String,
    /// Everything after the first colon, as written.
    pub rest: String,
}

impl fmt::Display for AbsoluteUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.rest)
    }
}

/// A Request-URI or the URI of a name-addr: SIP/SIPS, or another scheme kept opaque.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Uri {
    Sip(SipUri),
    Other(AbsoluteUri),
}

impl Uri {
    /// Parse a whole string as a URI.
    pub fn parse(s: &str) -> Result<Uri> {
        let mut c = Cursor::new(s);
        let uri = parse_uri(&mut c, UriContext::Whole)?;
        if !c.is_empty() {
            return Err(c.unexpected("end of URI"));
        }
        Ok(uri)
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other(_) => None,
        }
    }

    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other(_) => None,
        }
    }

    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) => u.scheme(),
            Uri::Other(o) => &o.scheme,
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Other(o) => o.fmt(f),
        }
    }
}

/// Where a URI sits decides where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UriContext {
    /// The whole input (stand-alone parse, Request-URI once the line is split).
    Whole,
    /// Inside `<...>`: ends at `>`.
    Angle,
    /// A bare addr-spec in a header: ends at `;`, `,`, `?` or whitespace, because RFC 3261 §20
    /// gives parameters after a bare URI to the header, not to the URI.
    AddrSpec,
}

/// `uric` of RFC 2396 (reserved / unreserved / escaped), for opaque absolute URIs.
fn is_uric(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
        )
}

pub(crate) fn parse_uri(c: &mut Cursor<'_>, ctx: UriContext) -> Result<Uri> {
    let start = c.pos();
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let scheme = c.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if scheme.is_empty() || !scheme.as_bytes()[0].is_ascii_alphabetic() {
        c.set_pos(start);
        return Err(c.unexpected("a URI scheme"));
    }
    c.expect(b':', "':' after the URI scheme")?;
    let secure = if scheme.eq_ignore_ascii_case("sip") {
        false
    } else if scheme.eq_ignore_ascii_case("sips") {
        true
    } else {
        let class = |b: u8| match ctx {
            UriContext::AddrSpec => is_uric(b) && !matches!(b, b';' | b',' | b'?'),
            _ => is_uric(b),
        };
        let rest = c.escaped_run(class, true, "URI characters")?;
        return Ok(Uri::Other(AbsoluteUri {
            scheme: scheme.to_string(),
            rest: rest.to_string(),
        }));
    };

    // userinfo is present when an '@' comes before the end of this URI.
    let end = match ctx {
        UriContext::Whole => c.rest().len(),
        UriContext::Angle => c.rest().find('>').unwrap_or(c.rest().len()),
        UriContext::AddrSpec => c
            .rest()
            .find([';', ',', '?', ' ', '\t'])
            .unwrap_or(c.rest().len()),
    };
    let (mut user, mut password) = (None, None);
    if c.rest()[..end].contains('@') {
        // In an addr-spec the user part cannot hold ';' etc. (RFC 3261 §20: such URIs need <>).
        let u = c.escaped_run(is_user, true, "a user part")?;
        user = Some(u.to_string());
        if c.eat(b':') {
            password = Some(c.escaped_run(is_password, false, "a password")?.to_string());
        }
        c.expect(b'@', "'@' after the user part")?;
    }
    let host = parse_host(c)?;
    let port = if c.eat(b':') {
        Some(parse_port(c)?)
    } else {
        None
    };
    let (params, headers) = if ctx == UriContext::AddrSpec {
        (Params::new(), Vec::new())
    } else {
        let params = parse_uri_params(c)?;
        let mut headers = Vec::new();
        if c.eat(b'?') {
            loop {
                let name = c.escaped_run(is_hnv, true, "a URI header name")?;
                c.expect(b'=', "'=' in a URI header")?;
                let value = c.escaped_run(is_hnv, false, "a URI header value")?;
                headers.push((name.to_string(), value.to_string()));
                if !c.eat(b'&') {
                    break;
                }
            }
        }
        (params, headers)
    };
    Ok(Uri::Sip(SipUri {
        secure,
        user,
        password,
        host,
        port,
        params,
        headers,
    }))
}

/// Resolve %-escapes. Input produced by the parsers has only valid escapes; any other '%' is
/// kept as it is.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sip_uri() {
        let u = SipUri::parse("sips:alice:pw@[2001:db8::1]:5061;transport=ws;lr?subject=x&a=b")
            .unwrap();
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(u.host, Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.transport_param(), Some("ws"));
        assert!(u.lr());
        assert_eq!(u.headers.len(), 2);
        assert_eq!(
            u.to_string(),
            "sips:alice:pw@[2001:db8::1]:5061;transport=ws;lr?subject=x&a=b"
        );
    }

    #[test]
    fn user_with_semicolon_and_escape() {
        // RFC 4475 §3.1.1.9: ';' is legal in the user part of a Request-URI.
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.user_unescaped().unwrap(), b"user;par=u@example.net");
        assert!(u.params.is_empty());
    }

    #[test]
    fn hosts() {
        assert_eq!(
            Host::parse("192.0.2.1").unwrap(),
            Host::Ipv4("192.0.2.1".parse().unwrap())
        );
        assert!(Host::parse("192.0.2.300").is_err());
        assert!(Host::parse("1.2.3").is_err());
        assert!(Host::parse("-a.example").is_err());
        assert!(Host::parse("a..example").is_err());
        assert!(Host::parse("example.com.").is_ok());
        assert!(Host::parse("[::1").is_err());
        assert!(
            Host::parse("df7jal23ls0d.invalid")
                .unwrap()
                .is_invalid_tld()
        );
        assert!(!Host::parse("example.com").unwrap().is_invalid_tld());
    }

    #[test]
    fn other_schemes_are_opaque() {
        let u = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(u.scheme(), "nobodyKnowsThisScheme");
        assert_eq!(u.to_string(), "nobodyKnowsThisScheme:totallyopaquecontent");
        assert!(Uri::parse("tel:+1-201-555-0123").is_ok());
    }

    #[test]
    fn bad_uris_say_where() {
        let e = SipUri::parse("sip:alice@exa mple.com").unwrap_err();
        assert_eq!(e.offset, 13);
        assert_eq!(
            SipUri::parse("sip:alice@host:99999").unwrap_err().kind,
            ErrorKind::Port("99999".into())
        );
        assert!(matches!(
            SipUri::parse("sip:a%zz@h").unwrap_err().kind,
            ErrorKind::BadEscape
        ));
        assert!(SipUri::parse(":x").is_err());
        assert!(SipUri::parse("").is_err());
    }

    #[test]
    fn unescape_resolves_only_valid_escapes() {
        assert_eq!(unescape("a%41%4"), b"aA%4");
        assert_eq!(unescape("%00"), vec![0u8]);
    }
}
