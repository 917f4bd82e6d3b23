//! name-addr and addr-spec values with their header parameters: From, To, Contact, Route,
//! Record-Route, Path (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39, §25.1; RFC 3327;
//! RFC 5626 `reg-id`, `+sip.instance`, `ob`; RFC 5627 `pub-gruu`, `temp-gruu`, `gr`).

use std::fmt;

use serde::Serialize;

use super::error::{ErrorKind, ParseError, Result};
use super::params::{Param, Params, parse_header_params};
use super::scan::{Cursor, is_token, unquote};
use super::uri::{SipUri, Uri, UriContext, parse_uri};

/// A URI with an optional display name and the header parameters that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameAddr {
    /// The display name as written: a quoted-string (quotes kept) or a run of tokens.
    pub display: Option<String>,
    pub uri: Uri,
    /// Written as `<uri>` (name-addr) rather than a bare addr-spec.
    pub bracketed: bool,
    /// Header parameters after the URI (`tag`, `expires`, `reg-id`, `lr` never: that one is a
    /// URI parameter inside the brackets).
    pub params: Params,
}

impl NameAddr {
    /// `<uri>` with no display name and no parameters.
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            bracketed: true,
            params: Params::new(),
        }
    }

    /// Parse one value (no comma list) from a whole string.
    pub fn parse(s: &str) -> Result<NameAddr> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let v = parse_name_addr(&mut c, false)?;
        c.skip_ws();
        if !c.is_empty() {
            return Err(c.unexpected("end of value"));
        }
        Ok(v)
    }

    /// The display name with quotes and quoted-pairs resolved.
    pub fn display_name(&self) -> Option<String> {
        self.display.as_deref().map(unquote)
    }

    pub fn sip_uri(&self) -> Option<&SipUri> {
        self.uri.as_sip()
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// Contact `expires` (RFC 3261 §20.10), checked to fit 32 bits when parsed.
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| v.parse().ok())
    }

    /// Contact `q` as written (`0.5`).
    pub fn q(&self) -> Option<&str> {
        self.params.value("q")
    }

    /// RFC 5626 §4.2 `reg-id`.
    pub fn reg_id(&self) -> Option<u32> {
        self.params.value("reg-id").and_then(|v| v.parse().ok())
    }

    /// RFC 5626 §4.1 `+sip.instance`, unquoted and without its `<...>`: `urn:uuid:...`.
    pub fn instance(&self) -> Option<String> {
        self.params.value("+sip.instance").map(|v| {
            let v = unquote(v);
            v.strip_prefix('<')
                .and_then(|s| s.strip_suffix('>'))
                .map(str::to_string)
                .unwrap_or(v)
        })
    }

    /// RFC 5627 §5.2 `pub-gruu`, unquoted.
    pub fn pub_gruu(&self) -> Option<String> {
        self.params.value("pub-gruu").map(unquote)
    }

    /// RFC 5627 §5.2 `temp-gruu`, unquoted.
    pub fn temp_gruu(&self) -> Option<String> {
        self.params.value("temp-gruu").map(unquote)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{d} ")?;
        }
        if self.bracketed || self.display.is_some() {
            write!(f, "<{}>", self.uri)?;
        } else {
            write!(f, "{}", self.uri)?;
        }
        write!(f, "{}", self.params)
    }
}

/// The Contact header value: `*` or a list (RFC 3261 §20.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "contacts", rename_all = "lowercase")]
pub enum Contact {
    /// `Contact: *`, only valid in a REGISTER with `Expires: 0` (RFC 3261 §10.2.2).
    Star,
    List(Vec<NameAddr>),
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Star => f.write_str("*"),
            Contact::List(l) => write_list(f, l),
        }
    }
}

pub(crate) fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// How strict a header is about its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrRule {
    /// From, To, Contact: name-addr or addr-spec.
    Either,
    /// Route, Record-Route, Path: name-addr only (RFC 3261 §25.1 `rec-route`, `route-param`).
    NameAddrOnly,
}

/// Parse a single name-addr/addr-spec with its parameters (From, To).
pub fn parse_single(s: &str) -> Result<NameAddr> {
    let mut c = Cursor::new(s);
    c.skip_ws();
    let v = parse_name_addr(&mut c, false)?;
    c.skip_ws();
    if c.peek() == Some(b',') {
        return Err(c.err(ErrorKind::NotSingle));
    }
    if !c.is_empty() {
        return Err(c.unexpected("';' or end of value"));
    }
    Ok(v)
}

/// Parse `1#(name-addr / addr-spec) *(SEMI param)`.
pub(crate) fn parse_list(s: &str, rule: AddrRule) -> Result<Vec<NameAddr>> {
    let mut c = Cursor::new(s);
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        out.push(parse_name_addr(&mut c, rule == AddrRule::NameAddrOnly)?);
        if !c.eat_sep(b',') {
            break;
        }
    }
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("',' or end of value"));
    }
    Ok(out)
}

/// Parse a Contact header value.
pub fn parse_contact(s: &str) -> Result<Contact> {
    if s.trim() == "*" {
        return Ok(Contact::Star);
    }
    parse_list(s, AddrRule::Either).map(Contact::List)
}

/// Contact and GRUU parameters whose syntax RFC 3261, 5626 and 5627 fix.
fn check_param(p: &Param) -> std::result::Result<(), ErrorKind> {
    let name = p.name.to_ascii_lowercase();
    match (name.as_str(), p.value.as_deref()) {
        ("expires", Some(x)) => {
            // delta-seconds (RFC 3261 §20.10): values past 2^32-1 are refused, as RFC 4475
            // §3.1.2.4 expects of overlarge scalars.
            if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ErrorKind::Number(x.to_string()));
            }
            if x.parse::<u32>().is_err() {
                return Err(ErrorKind::OutOfRange {
                    what: "expires",
                    value: x.to_string(),
                    max: u32::MAX as u64,
                    clause: "§20.10",
                });
            }
        }
        ("q", Some(x)) if !is_qvalue(x) => return Err(ErrorKind::Number(x.to_string())),
        // RFC 5626 §12: reg-id = 1*DIGIT. Its range (1 to 2^31-1) is the registrar's to
        // enforce with a 400, so a REGISTER carrying reg-id=0 still parses and gets an answer.
        ("reg-id", Some(x)) if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(ErrorKind::Number(x.to_string()));
        }
        ("+sip.instance" | "pub-gruu" | "temp-gruu", Some(x)) if !x.starts_with('"') => {
            return Err(ErrorKind::Other(
                "+sip.instance, pub-gruu and temp-gruu are quoted strings (RFC 5626 §4.1, RFC 5627 §7)",
            ));
        }
        ("expires" | "q" | "reg-id" | "tag", None) => {
            return Err(ErrorKind::Other("parameter needs a value"));
        }
        _ => {}
    }
    Ok(())
}

/// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
fn is_qvalue(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let frac_ok = |f: Option<&str>, only_zero: bool| match f {
        None => true,
        Some(f) => {
            f.len() <= 3
                && f.bytes().all(|b| {
                    if only_zero {
                        b == b'0'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        }
    };
    match int {
        "0" => frac_ok(frac, false),
        "1" => frac_ok(frac, true),
        _ => false,
    }
}

pub(crate) fn parse_name_addr(c: &mut Cursor<'_>, require_brackets: bool) -> Result<NameAddr> {
    let start = c.pos();
    let mut display = None;
    match c.peek() {
        Some(b'"') => {
            display = Some(c.quoted_string()?.to_string());
            c.skip_ws();
        }
        Some(b'<') => {}
        _ => {
            // display-name = *(token LWS): a run of tokens counts as a display name only when
            // a '<' follows it (RFC 4475 §3.1.1.6: no LWS is needed before the '<').
            let mut end = start;
            loop {
                let t = c.take_while(is_token);
                if t.is_empty() {
                    break;
                }
                end = c.pos();
                c.skip_ws();
            }
            if c.peek() == Some(b'<') && end > start {
                display = Some(c.rest_from(start, end).to_string());
            } else {
                c.set_pos(start);
            }
        }
    }
    let bracketed = c.peek() == Some(b'<');
    let uri = if bracketed {
        c.expect(b'<', "'<'")?;
        let open = c.pos() - 1;
        let uri = parse_uri(c, UriContext::Angle)?;
        if !c.eat(b'>') {
            if c.rest().contains('>') {
                return Err(c.unexpected("'>' closing the URI"));
            }
            return Err(ParseError::new(ErrorKind::UnterminatedAngle, open));
        }
        uri
    } else if require_brackets {
        return Err(c.unexpected("'<' (a name-addr is required here)"));
    } else if display.is_some() {
        return Err(c.unexpected("'<' after the display name"));
    } else {
        parse_uri(c, UriContext::AddrSpec)?
    };
    let params = parse_header_params(c, check_param)?;
    Ok(NameAddr {
        display,
        uri,
        bracketed,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::Host;

    #[test]
    fn rfc7118_register_contact() {
        let c = parse_contact(
            r#"<sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:f81-7dec-14a06cf1>""#,
        )
        .unwrap();
        let Contact::List(l) = c else {
            panic!("list expected")
        };
        assert_eq!(l[0].reg_id(), Some(1));
        assert_eq!(
            l[0].instance().as_deref(),
            Some("urn:uuid:f81-7dec-14a06cf1")
        );
        assert_eq!(l[0].sip_uri().unwrap().transport_param(), Some("ws"));
    }

    #[test]
    fn gruu_params() {
        let v = NameAddr::parse(r#"<sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:f81-7dec-14a06cf1>";pub-gruu="sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1";temp-gruu="sip:87ash54=3dd.98a@example.com;gr";expires=3600"#).unwrap();
        assert_eq!(
            v.pub_gruu().as_deref(),
            Some("sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1")
        );
        assert_eq!(
            v.temp_gruu().as_deref(),
            Some("sip:87ash54=3dd.98a@example.com;gr")
        );
        assert_eq!(v.expires(), Some(3600));
        let gruu = SipUri::parse(&v.pub_gruu().unwrap()).unwrap();
        assert_eq!(gruu.params.value("gr"), Some("urn:uuid:f81-7dec-14a06cf1"));
    }

    #[test]
    fn display_names() {
        let v = NameAddr::parse(r#""Bell, \"A\"" <sip:a@b>;tag=1"#).unwrap();
        assert_eq!(v.display_name().as_deref(), Some(r#"Bell, "A""#));
        assert_eq!(v.tag(), Some("1"));
        let v = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(v.display.as_deref(), Some("caller"));
        let v = NameAddr::parse("J Rosenberg   <sip:j@example.com>").unwrap();
        assert_eq!(v.display.as_deref(), Some("J Rosenberg"));
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let v = parse_single("sip:alice@example.com;tag=65bnmj.34asd").unwrap();
        assert!(!v.bracketed);
        assert_eq!(v.tag(), Some("65bnmj.34asd"));
        assert!(v.sip_uri().unwrap().params.is_empty());
        assert_eq!(
            v.sip_uri().unwrap().host,
            Host::Domain("example.com".into())
        );
    }

    #[test]
    fn lists_split_around_quotes_and_angles() {
        let l = parse_list(
            r#""a, b" <sip:x@y;lr>, <sip:p@q>;expires=5 , sip:r@s"#,
            AddrRule::Either,
        )
        .unwrap();
        assert_eq!(l.len(), 3);
        assert!(parse_list("sip:r@s", AddrRule::NameAddrOnly).is_err());
    }

    #[test]
    fn contact_param_checks() {
        assert!(parse_contact("<sip:a@b>;expires=4294967296").is_err());
        assert!(parse_contact("<sip:a@b>;q=1.5").is_err());
        assert!(parse_contact("<sip:a@b>;q=0.75").is_ok());
        assert!(parse_contact("<sip:a@b>;reg-id=x").is_err());
        // Out of range but well-formed: parsed, refused by the registrar (5626 §12).
        assert_eq!(
            parse_contact("<sip:a@b>;reg-id=0")
                .map(|c| matches!(c, Contact::List(l) if l[0].reg_id() == Some(0))),
            Ok(true)
        );
        assert!(parse_contact("<sip:a@b>;+sip.instance=urn").is_err());
        assert_eq!(parse_contact(" * ").unwrap(), Contact::Star);
    }

    /// Kamailio's registrar answers with `;received="sip:…"` on each Contact: an ordinary
    /// contact-extension whose gen-value is a quoted-string (RFC 3261 §25.1), unlike the
    /// Via's received, which is an IP address.
    #[test]
    fn contact_received_is_a_generic_param() {
        let c = parse_contact(
            "<sip:alice@127.0.0.1:40000;transport=ws>;expires=600;received=\"sip:127.0.0.1:40000;transport=ws\"",
        )
        .expect("a quoted received is a valid contact-extension");
        let Contact::List(l) = c else {
            panic!("not a list")
        };
        assert_eq!(
            l[0].params.value("received"),
            Some("\"sip:127.0.0.1:40000;transport=ws\"")
        );
    }

    #[test]
    fn single_value_refuses_a_list() {
        assert_eq!(
            parse_single("<sip:a@b>, <sip:c@d>").unwrap_err().kind,
            ErrorKind::NotSingle
        );
        assert!(parse_single("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43").is_err());
        assert_eq!(
            parse_single("<sip:a@b").unwrap_err().kind,
            ErrorKind::UnterminatedAngle
        );
    }
}
