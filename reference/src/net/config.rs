//! The server's configuration: Rust defaults, a TOML file, and the CLI's flags on top.
//!
//! Every key is optional; the defaults bind loopback only (ws `127.0.0.1:8080`, wss
//! `127.0.0.1:8443`, udp and tcp `127.0.0.1:5060`) and serve the listen address as the SIP
//! domain, so `sip:alice@127.0.0.1` works out of the box. A listener is switched off with
//! `"off"`; port 0 lets the OS choose (the real ports are in [`super::ServerAddrs`]).
//!
//! ```toml
//! domains = ["127.0.0.1"]      # default: the advertised host
//! advertise = "127.0.0.1"      # host written in Via, Record-Route, Path; default: the ws/wss/tcp/udp bind IP
//!
//! [listen]
//! ws = "127.0.0.1:8080"
//! wss = "127.0.0.1:8443"
//! udp = "127.0.0.1:5060"
//! tcp = "127.0.0.1:5060"       # "off" to disable a listener
//!
//! [tls]
//! # cert = "server-chain.pem"  # PEM chain and key; without them a CA and a certificate for
//! # key = "server-key.pem"     # localhost and 127.0.0.1 are made at start-up
//! generated_ca = "/tmp/sipws-ca.pem"   # where that CA certificate is written for clients
//!
//! [websocket]
//! paths = []                   # resource paths served (others 404); empty = any
//! origins = []                 # allowed Origin values (others 403); empty = any
//! allow_missing_origin = true  # with an origin list: accept non-browser clients
//! handshake_timeout_ms = 5000
//! max_message = 65536          # larger WebSocket messages fail with 1009
//!
//! [limits]
//! max_connections = 10000      # TCP connections of every kind, in and out
//! flow_queue_bytes = 1048576   # bytes queued towards one connection; beyond, it is closed
//! max_udp_peers = 10000        # UDP flow table size
//! max_stream_buffer = 65536    # bytes of an incomplete SIP message on a TCP connection
//! connect_timeout_ms = 3000
//! write_timeout_ms = 10000
//!
//! [registrar]
//! default_expires = 3600
//! min_expires = 60
//! max_expires = 86400
//! outbound = true
//! gruu = true
//! wss_param = "ws"             # or "wss" (REQUIREMENTS A1)
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::NetError;

/// A listener's address, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Off,
    At(SocketAddr),
}

impl Listen {
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            Listen::Off => None,
            Listen::At(a) => Some(a),
        }
    }

    fn loopback(port: u16) -> Listen {
        Listen::At(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))
    }
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Listen::Off);
        }
        s.parse::<SocketAddr>().map(Listen::At).map_err(|_| {
            format!(
                "{s:?} is neither \"off\" nor an IP address with a port (127.0.0.1:8080, [::1]:0)"
            )
        })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::At(a) => a.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The listeners.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    pub ws: Listen,
    pub wss: Listen,
    pub udp: Listen,
    pub tcp: Listen,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            ws: Listen::loopback(8080),
            wss: Listen::loopback(8443),
            udp: Listen::loopback(5060),
            tcp: Listen::loopback(5060),
        }
    }
}

impl ListenConfig {
    /// Every listener on `127.0.0.1:0` (OS-chosen ports): what tests use.
    pub fn loopback_ephemeral() -> Self {
        ListenConfig {
            ws: Listen::loopback(0),
            wss: Listen::loopback(0),
            udp: Listen::loopback(0),
            tcp: Listen::loopback(0),
        }
    }
}

/// The WSS certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first. With `key`; without both, one is generated.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Where the generated CA certificate (PEM) is written for clients to trust; `None`
    /// keeps it in memory only ([`super::Server::ca_pem`]).
    pub generated_ca: Option<PathBuf>,
}

/// The WebSocket handshake and framing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Resource paths served (RFC 6455 §4.2.2 /resource name/); empty = every path.
    pub paths: Vec<String>,
    /// Allowed `Origin` values (RFC 6455 §10.2); empty = any.
    pub origins: Vec<String>,
    /// With `origins`, also accept a handshake without `Origin` (a non-browser client).
    pub allow_missing_origin: bool,
    /// TCP (and TLS) connection to completed upgrade, at most; then the connection is dropped.
    pub handshake_timeout_ms: u64,
    /// Largest WebSocket message (RFC 6455 §10.4); larger fails the connection with 1009.
    pub max_message: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            paths: Vec::new(),
            origins: Vec::new(),
            allow_missing_origin: true,
            handshake_timeout_ms: 5000,
            max_message: crate::ws::codec::Limits::DEFAULT_MAX_MESSAGE,
        }
    }
}

/// Resource limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Open TCP connections (ws, wss, tcp, in and out) at once; more are closed at accept.
    pub max_connections: usize,
    /// Bytes of SIP messages waiting to be written to one connection; a peer that lets its
    /// queue exceed this (it does not read) has its connection closed.
    pub flow_queue_bytes: usize,
    /// UDP peers remembered as flows; the least recently heard is evicted beyond this.
    pub max_udp_peers: usize,
    /// Bytes of an incomplete SIP message held for a TCP connection; beyond, it is closed.
    pub max_stream_buffer: usize,
    pub connect_timeout_ms: u64,
    /// One write to a peer, at most; a peer that does not read is closed after it.
    pub write_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 10_000,
            flow_queue_bytes: 1024 * 1024,
            max_udp_peers: 10_000,
            max_stream_buffer: 64 * 1024,
            connect_timeout_ms: 3000,
            write_timeout_ms: 10_000,
        }
    }
}

/// How a WSS hop is written in URIs we emit (REQUIREMENTS A1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WssParam {
    /// `transport=ws`, as RFC 7118 §5.2 and §8.2.
    #[default]
    Ws,
    /// `transport=wss`.
    Wss,
}

/// The registrar.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrarConfig {
    pub default_expires: u32,
    pub min_expires: u32,
    pub max_expires: u32,
    /// RFC 5626 Outbound.
    pub outbound: bool,
    /// RFC 5627 GRUU.
    pub gruu: bool,
    pub wss_param: WssParam,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        let e = crate::proxy::Expiry::default();
        RegistrarConfig {
            default_expires: e.default,
            min_expires: e.min,
            max_expires: e.max,
            outbound: true,
            gruu: true,
            wss_param: WssParam::Ws,
        }
    }
}

/// Everything [`super::Server::bind`] needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// SIP domains we are registrar and home proxy for; empty = the advertised host.
    pub domains: Vec<String>,
    /// The host written into our Via, Record-Route and Path; default: the IP the first
    /// listener binds (127.0.0.1 when that is a wildcard address).
    pub advertise: Option<String>,
    pub listen: ListenConfig,
    pub tls: TlsConfig,
    pub websocket: WebSocketConfig,
    pub limits: LimitsConfig,
    pub registrar: RegistrarConfig,
    /// One deliberately broken policy (tests of the suite only; never read from TOML).
    #[cfg(feature = "mutants")]
    #[serde(skip)]
    pub mutation: Option<crate::mutation::Mutation>,
}

impl ServerConfig {
    /// Every listener on `127.0.0.1:0`, everything else default: what tests use.
    pub fn loopback_ephemeral() -> Self {
        ServerConfig {
            listen: ListenConfig::loopback_ephemeral(),
            ..ServerConfig::default()
        }
    }

    /// Parses a TOML configuration (see the module documentation).
    pub fn from_toml(text: &str) -> Result<ServerConfig, NetError> {
        toml::from_str(text).map_err(|e| NetError::Config(e.to_string()))
    }

    /// Reads and parses a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<ServerConfig, NetError> {
        let text = std::fs::read_to_string(path).map_err(|source| NetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ServerConfig::from_toml(&text).map_err(|e| match e {
            NetError::Config(m) => NetError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.websocket.handshake_timeout_ms)
    }

    /// Refuses settings the server cannot run with.
    pub fn check(&self) -> Result<(), NetError> {
        let bad = |m: &str| Err(NetError::Config(m.to_string()));
        let l = &self.listen;
        if [l.ws, l.wss, l.udp, l.tcp]
            .iter()
            .all(|x| *x == Listen::Off)
        {
            return bad("every listener is off");
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return bad("tls.cert and tls.key go together");
        }
        if self.websocket.max_message == 0 || self.limits.max_stream_buffer == 0 {
            return bad("message size limits must be above 0");
        }
        if self.limits.flow_queue_bytes == 0 || self.limits.max_connections == 0 {
            return bad("limits.flow_queue_bytes and limits.max_connections must be above 0");
        }
        let r = &self.registrar;
        if !(r.min_expires <= r.default_expires && r.default_expires <= r.max_expires) {
            return bad("registrar: min_expires <= default_expires <= max_expires");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_loopback_only() {
        let c = ServerConfig::default();
        assert_eq!(c.listen.ws, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(c.listen.wss, "127.0.0.1:8443".parse().expect("addr"));
        assert_eq!(c.listen.udp, "127.0.0.1:5060".parse().expect("addr"));
        assert_eq!(c.listen.tcp, "127.0.0.1:5060".parse().expect("addr"));
        assert_eq!(c.websocket.handshake_timeout_ms, 5000);
        assert_eq!(c.websocket.max_message, 64 * 1024);
        assert!(c.check().is_ok());
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let start = doc.find("//! ```toml").expect("example present");
        let example: String = doc[start..]
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.strip_prefix("//! ").unwrap_or("").to_string() + "\n")
            .collect();
        let c = ServerConfig::from_toml(&example).expect("example parses");
        assert_eq!(c.domains, vec!["127.0.0.1".to_string()]);
        assert_eq!(c.tls.generated_ca, Some(PathBuf::from("/tmp/sipws-ca.pem")));
        assert_eq!(c.registrar.wss_param, WssParam::Ws);
        assert!(c.check().is_ok());
    }

    #[test]
    fn listeners_can_be_off_and_unknown_keys_are_refused() {
        let c =
            ServerConfig::from_toml("[listen]\nwss = \"off\"\nws = \"[::1]:0\"\n").expect("parses");
        assert_eq!(c.listen.wss, Listen::Off);
        assert_eq!(c.listen.ws, "[::1]:0".parse().expect("addr"));
        assert!(ServerConfig::from_toml("[listen]\nws = \"localhost:80\"\n").is_err());
        assert!(ServerConfig::from_toml("colour = 1\n").is_err());
        assert!(ServerConfig::from_toml("[limits]\nmax_conections = 1\n").is_err());
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let mut c = ServerConfig::default();
        c.tls.cert = Some("a.pem".into());
        assert!(c.check().is_err());
        let c = ServerConfig {
            listen: ListenConfig {
                ws: Listen::Off,
                wss: Listen::Off,
                udp: Listen::Off,
                tcp: Listen::Off,
            },
            ..ServerConfig::default()
        };
        assert!(c.check().is_err());
    }
}
