//! `ws://` and `wss://` URLs (RFC 6455 §3), parsed into what the opening handshake and the
//! TCP connect need. Pure: no resolution happens here.

use std::fmt;
use std::net::IpAddr;

use thiserror::Error;

/// A parsed WebSocket URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss://` (WebSocket over TLS).
    pub secure: bool,
    /// The host as written, without the brackets of an IPv6 literal: what `Host`, SNI and
    /// certificate checks use (RFC 6455 §4.1 (4); connection step 5).
    pub host: String,
    /// The port: the URL's, or the scheme's default (80 for ws, 443 for wss, RFC 6455 §3).
    pub port: u16,
    /// Was the port written in the URL?
    pub explicit_port: bool,
    /// Path and query: the resource name (`/` when the path is empty, RFC 6455 §3).
    pub resource: String,
}

/// Why a string is not a usable WebSocket URL (RFC 6455 §3; row 6455-3-a).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    #[error("the scheme must be ws:// or wss://")]
    Scheme,
    #[error("a WebSocket URL carries no fragment (RFC 6455 §3)")]
    Fragment,
    #[error("no host")]
    NoHost,
    #[error("user information (user@host) is not supported")]
    UserInfo,
    #[error("the port {0:?} is not a number from 1 to 65535")]
    Port(String),
    #[error("the IPv6 literal {0:?} is not valid")]
    Ipv6(String),
    #[error("the host {0:?} contains characters a host name cannot hold")]
    Host(String),
    #[error("the path holds a space or a control character")]
    Path,
}

impl WsUrl {
    /// Parses `ws[s]://host[:port][/path][?query]`. The scheme is case-insensitive; a
    /// fragment, user information or an empty host is refused (RFC 6455 §3).
    pub fn parse(url: &str) -> Result<WsUrl, UrlError> {
        let (secure, rest) = if let Some(r) = strip_prefix_ci(url, "wss://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(url, "ws://") {
            (false, r)
        } else {
            return Err(UrlError::Scheme);
        };
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some(end) = v6.find(']') else {
                return Err(UrlError::Ipv6(authority.to_string()));
            };
            let literal = &v6[..end];
            if !matches!(literal.parse::<IpAddr>(), Ok(IpAddr::V6(_))) {
                return Err(UrlError::Ipv6(literal.to_string()));
            }
            let after = &v6[end + 1..];
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(UrlError::Port(p.to_string()))?),
            };
            (literal.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        if !host.contains(':')
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(UrlError::Host(host));
        }
        let explicit_port = port.is_some();
        let port = match port {
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(UrlError::Port(p.to_string())),
            },
        };
        if resource.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::Path);
        }
        let resource = match resource.as_bytes().first() {
            None => "/".to_string(),
            Some(b'?') => format!("/{resource}"),
            Some(_) => resource.to_string(),
        };
        Ok(WsUrl {
            secure,
            host: host.to_ascii_lowercase(),
            port,
            explicit_port,
            resource,
        })
    }

    /// The `Host` header value: the host (bracketed when IPv6), with the port only when it is
    /// not the scheme's default (RFC 6455 §4.1 (4)).
    pub fn authority(&self) -> String {
        let host = self.bracketed_host();
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The host as an IP address, when it is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        let host = self.bracketed_host();
        if self.explicit_port {
            write!(f, "{scheme}://{host}:{}{}", self.port, self.resource)
        } else {
            write!(f, "{scheme}://{host}{}", self.resource)
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> WsUrl {
        WsUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn req_6455_3_a_default_ports_and_resource() {
        let u = ok("ws://h");
        assert_eq!((u.secure, u.host.as_str(), u.port), (false, "h", 80));
        assert_eq!(u.resource, "/");
        assert!(!u.explicit_port);
        let u = ok("WSS://Proxy.Example.com");
        assert_eq!(
            (u.secure, u.host.as_str(), u.port),
            (true, "proxy.example.com", 443)
        );
        let u = ok("ws://127.0.0.1:8080/sip?x=1");
        assert_eq!((u.port, u.resource.as_str()), (8080, "/sip?x=1"));
        assert_eq!(u.to_string(), "ws://127.0.0.1:8080/sip?x=1");
        assert_eq!(ok("ws://h?q").resource, "/?q");
        let u = ok("wss://[::1]:7443/");
        assert_eq!((u.host.as_str(), u.port), ("::1", 7443));
        assert_eq!(u.ip(), Some("::1".parse().expect("literal")));
        assert_eq!(u.to_string(), "wss://[::1]:7443/");
        assert_eq!(ok("ws://[::1]").port, 80);
        assert_eq!(ok("ws://127.0.0.1:8080/ws").authority(), "127.0.0.1:8080");
        assert_eq!(ok("wss://example.com:443").authority(), "example.com");
        assert_eq!(ok("ws://[::1]:9/").authority(), "[::1]:9");
    }

    #[test]
    fn req_6455_3_a_bad_urls_are_refused_with_the_reason() {
        for (s, e) in [
            ("http://h/", UrlError::Scheme),
            ("ws:/h", UrlError::Scheme),
            ("ws://h/#frag", UrlError::Fragment),
            ("ws://", UrlError::NoHost),
            ("ws://:80/", UrlError::NoHost),
            ("ws://u@h/", UrlError::UserInfo),
            ("ws://h:0/", UrlError::Port("0".into())),
            ("ws://h:99999/", UrlError::Port("99999".into())),
            ("ws://h:/", UrlError::Port(String::new())),
            ("ws://h:+80/", UrlError::Port("+80".into())),
            ("ws://[::1/", UrlError::Ipv6("[::1".into())),
            ("ws://[1.2.3.4]/", UrlError::Ipv6("1.2.3.4".into())),
            ("ws://[::1]x/", UrlError::Port("x".into())),
            ("ws://h%20x/", UrlError::Host("h%20x".into())),
            ("ws://h/a b", UrlError::Path),
        ] {
            assert_eq!(WsUrl::parse(s), Err(e), "{s}");
        }
    }
}
