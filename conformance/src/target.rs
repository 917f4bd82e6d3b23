//! The target under test: its WebSocket endpoints, how to trust its certificate, its SIP
//! domain and optional UDP address; and the embedded reference server, the default target.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
pub use sipws_reference::net::client::Trust;
use sipws_reference::net::client::client_config;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::wire::{Probe, ProbeError};

#[derive(Debug, Error)]
pub enum TargetError {
    #[error("{url}: {problem}")]
    Url { url: String, problem: &'static str },
    #[error("{url}: cannot resolve {host}: {source}")]
    Resolve {
        url: String,
        host: String,
        source: std::io::Error,
    },
    #[error("{url}: {source}")]
    Connect { url: String, source: ProbeError },
    #[error("{url}: TLS handshake failed: {source}")]
    Tls { url: String, source: std::io::Error },
    #[error("TLS trust: {0}")]
    Trust(String),
}

/// A `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsEndpoint {
    pub url: String,
    pub secure: bool,
    pub host: String,
    pub port: u16,
    /// Resource name with query, `/` when the URL has none (RFC 6455 §3).
    pub path: String,
}

impl WsEndpoint {
    pub fn parse(url: &str) -> Result<WsEndpoint, TargetError> {
        let bad = |problem| TargetError::Url {
            url: url.to_string(),
            problem,
        };
        let (secure, rest) = if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else {
            return Err(bad("expected a ws:// or wss:// URL"));
        };
        if rest.contains('#') {
            return Err(bad("a WebSocket URL has no fragment (RFC 6455 §3)"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("invalid port"))?,
            None if secure => 443,
            None => 80,
        };
        Ok(WsEndpoint {
            url: url.to_string(),
            secure,
            host,
            port,
            path: path.to_string(),
        })
    }

    /// The `Host` header value: the port only when it is not the default (RFC 6455 §4.1).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    pub async fn resolve(&self) -> Result<SocketAddr, TargetError> {
        let mut addrs = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|source| TargetError::Resolve {
                url: self.url.clone(),
                host: self.host.clone(),
                source,
            })?;
        addrs.next().ok_or_else(|| TargetError::Url {
            url: self.url.clone(),
            problem: "the host resolves to no address",
        })
    }
}

/// Digest credentials of one user of the target, for the `@needs:auth` cases (RFC 3261 §22).
#[derive(Clone)]
pub struct TargetAuth {
    /// The user name; the cases register `sip:<username>@<domain>`.
    pub username: String,
    pub password: String,
    /// Run the `@needs:auth` cases against this target instead: the embedded run starts a
    /// second reference server with authentication on, the first one has it off.
    pub target: Option<Arc<Target>>,
}

impl fmt::Debug for TargetAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetAuth")
            .field("username", &self.username)
            .field("target", &self.target.as_ref().map(|t| t.label.as_str()))
            .finish_non_exhaustive()
    }
}

/// Everything the suite knows of its target.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the reports call it.
    pub label: String,
    pub ws: Option<WsEndpoint>,
    pub wss: Option<WsEndpoint>,
    pub trust: Trust,
    /// The SIP domain of the test users (`sip:alice@<domain>`).
    pub domain: String,
    pub udp: Option<SocketAddr>,
    /// The one timeout knob: how long to wait for any single answer.
    pub timeout: Duration,
    /// Capabilities the target declares (`outbound`, `two-users`) for `@needs:` tags that
    /// cannot be probed.
    pub capabilities: Vec<String>,
    /// The target demands digest authentication and these are a user's credentials
    /// (`@needs:auth`); `None`: those cases are skipped.
    pub auth: Option<TargetAuth>,
}

impl Target {
    /// Open a raw probe connection to the ws (or, with `secure`, the wss) endpoint.
    pub async fn connect(&self, secure: bool) -> Result<Option<Probe>, TargetError> {
        let Some(ep) = (if secure { &self.wss } else { &self.ws }) else {
            return Ok(None);
        };
        let addr = ep.resolve().await?;
        if !secure {
            return Probe::connect(addr)
                .await
                .map(Some)
                .map_err(|source| TargetError::Connect {
                    url: ep.url.clone(),
                    source,
                });
        }
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| TargetError::Connect {
                url: ep.url.clone(),
                source: ProbeError::Connect { addr, source: e },
            })?;
        let config = client_config(&self.trust).map_err(|e| TargetError::Trust(e.to_string()))?;
        let connector = TlsConnector::from(config);
        let name = ServerName::try_from(ep.host.clone()).map_err(|_| TargetError::Url {
            url: ep.url.clone(),
            problem: "the host is not a valid TLS server name",
        })?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|source| TargetError::Tls {
                url: ep.url.clone(),
                source,
            })?;
        Ok(Some(Probe::over(Box::new(tls))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = WsEndpoint::parse("ws://127.0.0.1:8080/ws?x=1").expect("valid");
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 8080, "/ws?x=1")
        );
        assert_eq!(e.authority(), "127.0.0.1:8080");
        let e = WsEndpoint::parse("wss://example.com").expect("valid");
        assert_eq!(
            (e.port, e.path.as_str(), e.authority().as_str()),
            (443, "/", "example.com")
        );
        let e = WsEndpoint::parse("ws://[::1]:9/").expect("valid");
        assert_eq!(
            (e.host.as_str(), e.authority().as_str()),
            ("::1", "[::1]:9")
        );
        assert!(WsEndpoint::parse("http://x").is_err());
        assert!(WsEndpoint::parse("ws://x/#frag").is_err());
        assert!(WsEndpoint::parse("ws://x:99999").is_err());
        assert!(WsEndpoint::parse("ws://:80").is_err());
    }
}
