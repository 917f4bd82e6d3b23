//! The target under test: its WebSocket endpoints, how to trust its certificate, its SIP
//! domain and optional UDP address; and the embedded reference server, the default target.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
pub use sipws_reference::net::client::Trust;
use sipws_reference::net::client::client_config;
pub use sipws_reference::ws::url::{UrlError, WsUrl};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::wire::{Probe, ProbeError};

#[derive(Debug, Error)]
pub enum TargetError {
    #[error("{url}: {problem}")]
    Url { url: String, problem: &'static str },
    #[error("{url}: {source}")]
    BadUrl { url: String, source: UrlError },
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

/// Where a target's WebSocket endpoint resolves to.
pub async fn resolve(url: &WsUrl) -> Result<SocketAddr, TargetError> {
    let mut addrs = tokio::net::lookup_host((url.host.as_str(), url.port))
        .await
        .map_err(|source| TargetError::Resolve {
            url: url.to_string(),
            host: url.host.clone(),
            source,
        })?;
    addrs.next().ok_or_else(|| TargetError::Url {
        url: url.to_string(),
        problem: "the host resolves to no address",
    })
}

/// A `ws://` or `wss://` URL the user gave (RFC 6455 §3), with the reason when it is not one.
pub fn parse_url(url: &str) -> Result<WsUrl, TargetError> {
    WsUrl::parse(url).map_err(|source| TargetError::BadUrl {
        url: url.to_string(),
        source,
    })
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
    pub ws: Option<WsUrl>,
    pub wss: Option<WsUrl>,
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
        let addr = resolve(ep).await?;
        if !secure {
            return Probe::connect(addr)
                .await
                .map(Some)
                .map_err(|source| TargetError::Connect {
                    url: ep.to_string(),
                    source,
                });
        }
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| TargetError::Connect {
                url: ep.to_string(),
                source: ProbeError::Connect { addr, source: e },
            })?;
        let config = client_config(&self.trust).map_err(|e| TargetError::Trust(e.to_string()))?;
        let connector = TlsConnector::from(config);
        let name = ServerName::try_from(ep.host.clone()).map_err(|_| TargetError::Url {
            url: ep.to_string(),
            problem: "the host is not a valid TLS server name",
        })?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|source| TargetError::Tls {
                url: ep.to_string(),
                source,
            })?;
        Ok(Some(Probe::over(Box::new(tls))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_names_the_reason() {
        let e = parse_url("http://x").expect_err("not ws");
        assert_eq!(
            e.to_string(),
            "http://x: the scheme must be ws:// or wss://"
        );
        assert!(parse_url("ws://x/#frag").is_err());
        assert!(parse_url("WS://127.0.0.1:8080/ws?x=1").is_ok());
    }
}
