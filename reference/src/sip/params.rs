//! Parameter lists: `;name[=value]` after URIs (uri-parameter) and after header values
//! (generic-param), RFC 3261 §25.1. Names and values are kept as written (escapes and quotes
//! included) so that serialization reproduces them; lookups ignore the case of names.

use std::fmt;

use serde::Serialize;

use super::error::{ErrorKind, ParseError, Result};
use super::scan::{Cursor, is_paramchar};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    pub name: String,
    /// `None` for a valueless parameter such as `lr` or `rport`.
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Params(pub Vec<Param>);

impl Params {
    pub fn new() -> Self {
        Params(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.0.iter()
    }

    /// `Some(None)` for a present valueless parameter, `Some(Some(v))` for `name=v`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// The value of `name=value`; `None` when absent or valueless.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Set `name` (replacing an existing one, keeping its position) or append it.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p.value = value,
            None => self.0.push(Param {
                name: name.to_string(),
                value,
            }),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            match &p.value {
                Some(v) => write!(f, ";{}={}", p.name, v)?,
                None => write!(f, ";{}", p.name)?,
            }
        }
        Ok(())
    }
}

/// `*( ";" uri-parameter )` inside a SIP URI: no whitespace, names and values are paramchars
/// or escapes (RFC 3261 §25.1 `other-param`).
pub(crate) fn parse_uri_params(c: &mut Cursor<'_>) -> Result<Params> {
    let mut params = Params::new();
    while c.eat(b';') {
        let name = c.escaped_run(is_paramchar, true, "a URI parameter name")?;
        let value = if c.eat(b'=') {
            Some(
                c.escaped_run(is_paramchar, true, "a URI parameter value")?
                    .to_string(),
            )
        } else {
            None
        };
        params.0.push(Param {
            name: name.to_string(),
            value,
        });
    }
    Ok(params)
}

/// `*( SEMI generic-param )` after a header value: `token [ EQUAL gen-value ]` with
/// gen-value = token / host / quoted-string; whitespace allowed around `;` and `=`.
///
/// `check` sees each parameter as it is parsed; its refusal is reported at the parameter.
pub(crate) fn parse_header_params(
    c: &mut Cursor<'_>,
    check: fn(&Param) -> std::result::Result<(), ErrorKind>,
) -> Result<Params> {
    header_params(c, check, false)
}

/// [`parse_header_params`] for a Via, where `received` is an IP address (RFC 3261 §25.1
/// via-received). Elsewhere `received` is an ordinary generic-param: registrars such as
/// Kamailio put `;received="sip:192.0.2.4:5060"` on Contact, a quoted-string gen-value.
pub(crate) fn parse_via_params(
    c: &mut Cursor<'_>,
    check: fn(&Param) -> std::result::Result<(), ErrorKind>,
) -> Result<Params> {
    header_params(c, check, true)
}

fn header_params(
    c: &mut Cursor<'_>,
    check: fn(&Param) -> std::result::Result<(), ErrorKind>,
    via: bool,
) -> Result<Params> {
    let mut params = Params::new();
    while c.eat_sep(b';') {
        let at = c.pos();
        let name = c.token("a parameter name")?;
        let value = if c.eat_sep(b'=') {
            if via && name.eq_ignore_ascii_case("received") {
                // via-received = "received" EQUAL (IPv4address / IPv6address): an IPv6
                // address is written without brackets and its colons are not token characters.
                Some(received_value(c)?.to_string())
            } else {
                Some(gen_value(c)?.to_string())
            }
        } else {
            None
        };
        let param = Param {
            name: name.to_string(),
            value,
        };
        check(&param).map_err(|kind| ParseError::new(kind, at))?;
        params.0.push(param);
    }
    Ok(params)
}

/// Accept any parameter (generic-param has no further constraints).
pub(crate) fn any_param(_: &Param) -> std::result::Result<(), ErrorKind> {
    Ok(())
}

fn received_value<'a>(c: &mut Cursor<'a>) -> Result<&'a str> {
    let v =
        c.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.' || b == b'[' || b == b']');
    if v.is_empty() {
        return Err(c.unexpected("an IP address"));
    }
    Ok(v)
}

fn gen_value<'a>(c: &mut Cursor<'a>) -> Result<&'a str> {
    match c.peek() {
        Some(b'"') => c.quoted_string(),
        Some(b'[') => {
            // host = IPv6reference; checked where the parameter's meaning is known (received).
            let start = c.pos();
            c.take_while(|b| b != b']' && b != b';' && b != b',' && b != b' ');
            c.expect(b']', "']' closing an IPv6 reference")?;
            Ok(c.slice(start))
        }
        _ => c.token("a parameter value"),
    }
}
