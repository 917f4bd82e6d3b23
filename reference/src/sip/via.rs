//! The Via header (RFC 3261 §20.42, §25.1; RFC 3581 `rport`; RFC 5923 `alias`; RFC 6223 `keep`;
//! RFC 7118 §5.1 `WS`/`WSS` transport tokens).

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::error::{ErrorKind, Result};
use super::params::{Param, Params, parse_via_params};
use super::scan::Cursor;
use super::uri::{Host, parse_host, parse_port};

/// The magic cookie that marks an RFC 3261 branch (§8.1.1.7).
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// One via-parm: `SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    /// protocol-name, `SIP` in practice.
    pub protocol: String,
    /// protocol-version, `2.0` in practice.
    pub version: String,
    /// The transport token as written (`UDP`, `ws`, `WSS`, or an extension); case-insensitive
    /// (RFC 7118 §5.1 ABNF). [`crate::transport::Transport::from_via_token`] maps it.
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    /// Parse one via-parm (no comma list); see [`parse_via_list`] for a whole header value.
    pub fn parse(s: &str) -> Result<Via> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let via = parse_via(&mut c)?;
        c.skip_ws();
        if !c.is_empty() {
            return Err(c.unexpected("end of Via value"));
        }
        Ok(via)
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// True when the branch carries the RFC 3261 magic cookie (§8.1.1.7, §17.2.3).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_COOKIE))
    }

    pub fn received(&self) -> Option<&str> {
        self.params.value("received")
    }

    /// RFC 3581 `rport`: `Some(None)` when present without a value (a request asking for it),
    /// `Some(Some(port))` when filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// RFC 6223 `keep`: `Some(None)` when requested, `Some(Some(secs))` when granted.
    pub fn keep(&self) -> Option<Option<u32>> {
        self.params
            .get("keep")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// RFC 5923 `alias`.
    pub fn alias(&self) -> bool {
        self.params.has("alias")
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// A whole Via header value: `1#via-parm`.
pub fn parse_via_list(s: &str) -> Result<Vec<Via>> {
    let mut c = Cursor::new(s);
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        out.push(parse_via(&mut c)?);
        if !c.eat_sep(b',') {
            break;
        }
    }
    c.skip_ws();
    if !c.is_empty() {
        return Err(c.unexpected("',' or end of Via value"));
    }
    Ok(out)
}

pub(crate) fn parse_via(c: &mut Cursor<'_>) -> Result<Via> {
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport (SLASH = SWS "/" SWS)
    let protocol = c.token("a protocol name")?.to_string();
    if !c.eat_sep(b'/') {
        return Err(c.unexpected("'/' after the protocol name"));
    }
    let version = c.token("a protocol version")?.to_string();
    if !c.eat_sep(b'/') {
        return Err(c.unexpected("'/' after the protocol version"));
    }
    let transport = c.token("a transport")?.to_string();
    if !c.skip_ws() {
        return Err(c.unexpected("whitespace before sent-by"));
    }
    let host = parse_host(c)?;
    let port = if c.eat_sep(b':') {
        Some(parse_port(c)?)
    } else {
        None
    };
    let params = parse_via_params(c, check_via_param)?;
    Ok(Via {
        protocol,
        version,
        transport,
        host,
        port,
        params,
    })
}

/// Values RFC 3261 §25.1 (and RFC 3581, RFC 6223) constrain: received is an IP address, ttl is
/// 0-255, rport and keep are numbers when present with a value, branch is a token.
fn check_via_param(p: &Param) -> std::result::Result<(), ErrorKind> {
    let name = p.name.to_ascii_lowercase();
    let Some(v) = p.value.as_deref() else {
        return match name.as_str() {
            "received" | "branch" | "ttl" | "maddr" => {
                Err(ErrorKind::Other("Via parameter needs a value"))
            }
            _ => Ok(()),
        };
    };
    match name.as_str() {
        "received" => {
            let ip = v.trim_start_matches('[').trim_end_matches(']');
            if ip.parse::<IpAddr>().is_err() {
                return Err(ErrorKind::NotAnIp(v.to_string()));
            }
        }
        "ttl" if v.len() > 3 || v.parse::<u8>().is_err() => {
            return Err(ErrorKind::OutOfRange {
                what: "ttl",
                value: v.to_string(),
                max: 255,
                clause: "§25.1",
            });
        }
        "rport" if v.parse::<u16>().is_err() => return Err(ErrorKind::Port(v.to_string())),
        "keep" if v.parse::<u32>().is_err() => return Err(ErrorKind::Number(v.to_string())),
        "maddr" => {
            Host::parse(v).map_err(|e| e.kind)?;
        }
        "branch" if v.starts_with('"') => {
            return Err(ErrorKind::Other("branch is a token, not a quoted string"));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7118_via() {
        let v = Via::parse("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf").unwrap();
        assert_eq!(v.transport, "WSS");
        assert_eq!(v.host, Host::Domain("df7jal23ls0d.invalid".into()));
        assert_eq!(v.branch(), Some("z9hG4bKasudf"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(
            v.to_string(),
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf"
        );
    }

    #[test]
    fn spaces_around_slashes_and_params() {
        let v =
            Via::parse("SIP  /   2.0 / ws 192.0.2.2 : 5060 ;rport ; received = 192.0.2.9").unwrap();
        assert_eq!(v.transport, "ws");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("192.0.2.9"));
    }

    #[test]
    fn list_and_errors() {
        let l = parse_via_list("SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::9]:5070;received=2001:db8::7;alias;keep=30").unwrap();
        assert_eq!(l.len(), 2);
        assert!(l[1].alias());
        assert_eq!(l[1].keep(), Some(Some(30)));
        assert!(Via::parse("SIP/2.0/UDP h;received=notanip").is_err());
        assert!(Via::parse("SIP/2.0/UDP h;ttl=256").is_err());
        assert!(Via::parse("SIP/2.0/UDP h;rport=70000").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0 h").is_err());
    }
}
