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
//! wss_param = "ws"             # or "wss" (spec/requirements.md A1)
//! max_bindings_per_aor = 32    # a REGISTER going beyond either limit changes nothing: 503
//! max_bindings_per_flow = 1000
//!
//! [auth]                       # SIP digest authentication (RFC 3261 §22, RFC 8760)
//! enabled = false
//! # realm = "127.0.0.1"        # default: the first domain
//! # credentials = "users.toml" # [[user]] entries, see AuthSection; relative to the working directory
//! nonce_lifetime_s = 300
//! challenge_requests = "all"   # "register": REGISTER only (401); "all": also out-of-dialog
//!                              # requests from our domain's users (407)
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

/// How a WSS hop is written in URIs we emit (spec/requirements.md A1).
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
    /// Contacts one AoR may have; a REGISTER going beyond gets 503.
    pub max_bindings_per_aor: usize,
    /// Bindings one connection (or UDP peer) may carry, all AoRs together; beyond: 503.
    pub max_bindings_per_flow: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        let e = crate::proxy::Expiry::default();
        let b = crate::proxy::BindingLimits::default();
        RegistrarConfig {
            default_expires: e.default,
            min_expires: e.min,
            max_expires: e.max,
            outbound: true,
            gruu: true,
            wss_param: WssParam::Ws,
            max_bindings_per_aor: b.per_aor,
            max_bindings_per_flow: b.per_flow,
        }
    }
}

/// Which requests are challenged (`[auth] challenge_requests`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChallengeRequests {
    /// REGISTER only, with 401.
    Register,
    /// REGISTER (401) and out-of-dialog requests from our domain's users (407).
    #[default]
    All,
}

/// One `[[user]]` of a credentials file: a password, or the HA1 hashes so that no plaintext
/// password needs to be stored.
///
/// ```toml
/// [[user]]
/// username = "alice"
/// password = "wonderland"
///
/// [[user]]
/// username = "bob"
/// realm = "example.com"        # optional; when given it must be the server's realm
/// ha1_md5 = "…"                # hex MD5("bob:example.com:<password>")
/// ha1_sha256 = "…"             # hex SHA-256("bob:example.com:<password>")
/// ```
///
/// Only algorithms every user has an HA1 for are offered (a password gives both).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialEntry {
    pub username: String,
    pub realm: Option<String>,
    pub password: Option<String>,
    pub ha1_md5: Option<String>,
    pub ha1_sha256: Option<String>,
}

impl fmt::Debug for CredentialEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialEntry")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl CredentialEntry {
    /// A user with a password (tests, the embedded conformance target).
    pub fn with_password(username: &str, password: &str) -> CredentialEntry {
        CredentialEntry {
            username: username.to_string(),
            password: Some(password.to_string()),
            ..CredentialEntry::default()
        }
    }

    fn secret(&self, realm: &str) -> Result<crate::proxy::auth::UserSecret, String> {
        use crate::proxy::auth::UserSecret;
        let who = format!("user {:?}", self.username);
        if self.username.is_empty() || self.username.chars().any(char::is_control) {
            return Err(format!(
                "{who}: a username is required (no control characters)"
            ));
        }
        if let Some(r) = &self.realm
            && r != realm
        {
            return Err(format!(
                "{who}: realm {r:?} is not the server's realm {realm:?} (HA1 hashes depend on it)"
            ));
        }
        let hex = |name: &str, v: &Option<String>, len: usize| match v {
            Some(h) if h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Some(h.to_ascii_lowercase()))
            }
            Some(_) => Err(format!("{who}: {name} must be {len} hex digits")),
            None => Ok(None),
        };
        let md5 = hex("ha1_md5", &self.ha1_md5, 32)?;
        let sha = hex("ha1_sha256", &self.ha1_sha256, 64)?;
        match (&self.password, md5.is_some() || sha.is_some()) {
            (Some(p), false) => Ok(UserSecret::from_password(&self.username, realm, p)),
            (None, true) => Ok(UserSecret {
                username: self.username.clone(),
                ha1_md5: md5,
                ha1_sha256: sha,
            }),
            (Some(_), true) => Err(format!("{who}: give a password or HA1 hashes, not both")),
            (None, false) => Err(format!("{who}: needs a password, ha1_md5 or ha1_sha256")),
        }
    }
}

/// The credentials file: `[[user]]` entries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    #[serde(default)]
    user: Vec<CredentialEntry>,
}

/// SIP digest authentication (`[auth]`, RFC 3261 §22); off by default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSection {
    pub enabled: bool,
    /// The realm of the challenges; default: the first domain.
    pub realm: Option<String>,
    /// A TOML file of `[[user]]` entries ([`CredentialEntry`]).
    pub credentials: Option<PathBuf>,
    /// Seconds a nonce is accepted; older ones are answered `stale=true`.
    pub nonce_lifetime_s: u64,
    pub challenge_requests: ChallengeRequests,
    /// Users given in code, besides the file's (never read from TOML).
    #[serde(skip)]
    pub users: Vec<CredentialEntry>,
}

impl Default for AuthSection {
    fn default() -> Self {
        AuthSection {
            enabled: false,
            realm: None,
            credentials: None,
            nonce_lifetime_s: crate::proxy::auth::DEFAULT_NONCE_LIFETIME_SECS,
            challenge_requests: ChallengeRequests::All,
            users: Vec::new(),
        }
    }
}

impl AuthSection {
    /// The proxy's settings with the credentials loaded, or `None` when auth is off.
    /// `domains` are the served domains (the default realm is the first).
    pub fn load(
        &self,
        domains: &[String],
    ) -> Result<Option<crate::proxy::auth::AuthConfig>, NetError> {
        use crate::proxy::auth::{AuthConfig, ChallengeScope};
        if !self.enabled {
            return Ok(None);
        }
        let bad = |m: String| NetError::Config(format!("auth: {m}"));
        let realm = match (&self.realm, domains.first()) {
            (Some(r), _) => r.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => return Err(bad("no realm and no domain to default it to".into())),
        };
        if realm.is_empty() || realm.contains(['"', '\\']) || realm.chars().any(char::is_control) {
            return Err(bad(format!(
                "realm {realm:?} cannot be written in a challenge"
            )));
        }
        if self.nonce_lifetime_s == 0 {
            return Err(bad("nonce_lifetime_s must be above 0".into()));
        }
        let mut entries = self.users.clone();
        let mut source = String::from("the configuration");
        if let Some(path) = &self.credentials {
            let text = std::fs::read_to_string(path).map_err(|source| NetError::Read {
                path: path.clone(),
                source,
            })?;
            let file: CredentialsFile = toml::from_str(&text).map_err(|e| {
                NetError::Config(format!("auth credentials {}: {e}", path.display()))
            })?;
            entries.extend(file.user);
            source = path.display().to_string();
        }
        let in_source = |m: String| NetError::Config(format!("auth credentials {source}: {m}"));
        if entries.is_empty() {
            return Err(if self.credentials.is_none() {
                bad("enabled without credentials: set auth.credentials to a file of [[user]] entries".into())
            } else {
                in_source("no [[user]] entry".into())
            });
        }
        let mut users = Vec::with_capacity(entries.len());
        for e in &entries {
            if users
                .iter()
                .any(|u: &crate::proxy::auth::UserSecret| u.username == e.username)
            {
                return Err(in_source(format!("user {:?} appears twice", e.username)));
            }
            users.push(e.secret(&realm).map_err(in_source)?);
        }
        let mut config = AuthConfig::new(&realm, users);
        if config.offered().is_empty() {
            return Err(in_source(
                "the users have no algorithm in common (give every user a password, or the same \
                 ha1_* kinds)"
                    .into(),
            ));
        }
        config.nonce_lifetime_secs = self.nonce_lifetime_s;
        config.scope = match self.challenge_requests {
            ChallengeRequests::Register => ChallengeScope::Register,
            ChallengeRequests::All => ChallengeScope::RegisterAndRequests,
        };
        Ok(Some(config))
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
    pub auth: AuthSection,
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

    fn write_credentials(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sipws-auth-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write credentials");
        path
    }

    fn auth_with(file: &Path) -> AuthSection {
        AuthSection {
            enabled: true,
            credentials: Some(file.to_path_buf()),
            ..AuthSection::default()
        }
    }

    #[test]
    fn auth_is_off_by_default_and_loads_passwords_and_ha1_hashes() {
        use crate::proxy::auth::ChallengeScope;
        use crate::sip::digest::{Algorithm, ha1};
        assert_eq!(
            ServerConfig::default().auth.load(&["d".into()]).ok(),
            Some(None)
        );
        let bob_md5 = ha1(Algorithm::Md5, "bob", "example.com", "builder");
        let bob_sha = ha1(Algorithm::Sha256, "bob", "example.com", "builder");
        let file = write_credentials(
            "good.toml",
            &format!(
                "[[user]]\nusername = \"alice\"\npassword = \"wonderland\"\n\n\
                 [[user]]\nusername = \"bob\"\nrealm = \"example.com\"\n\
                 ha1_md5 = \"{bob_md5}\"\nha1_sha256 = \"{}\"\n",
                bob_sha.to_uppercase()
            ),
        );
        let c = ServerConfig::from_toml(&format!(
            "domains = [\"example.com\"]\n[auth]\nenabled = true\ncredentials = {:?}\n\
             nonce_lifetime_s = 60\nchallenge_requests = \"register\"\n",
            file.display().to_string()
        ))
        .expect("parses");
        let a = c.auth.load(&c.domains).expect("loads").expect("auth is on");
        assert_eq!(a.realm, "example.com");
        assert_eq!(a.nonce_lifetime_secs, 60);
        assert_eq!(a.scope, ChallengeScope::Register);
        assert_eq!(a.offered(), vec![Algorithm::Sha256, Algorithm::Md5]);
        assert_eq!(a.users[1].ha1_sha256.as_deref(), Some(bob_sha.as_str()));
        assert_eq!(
            a.users[0].ha1_md5.as_deref(),
            Some(ha1(Algorithm::Md5, "alice", "example.com", "wonderland").as_str())
        );
        assert!(
            !format!("{:?}", c.auth).contains("wonderland"),
            "no password in Debug"
        );
    }

    #[test]
    fn bad_credentials_are_clear_errors() {
        let domains = vec!["example.com".to_string()];
        let err = |text: &str| {
            let file = write_credentials("bad.toml", text);
            let e = auth_with(&file)
                .load(&domains)
                .expect_err("refused")
                .to_string();
            let _ = std::fs::remove_file(&file);
            e
        };
        assert!(err("").contains("no [[user]] entry"));
        assert!(err("[[user]]\nusername = \"a\"\n").contains("needs a password"));
        assert!(err("[[user]]\nusername = \"a\"\nha1_md5 = \"xyz\"\n").contains("32 hex digits"));
        assert!(
            err("[[user]]\nusername = \"a\"\npassword = \"p\"\nrealm = \"other\"\n")
                .contains("not the server's realm")
        );
        assert!(
            err("[[user]]\nusername = \"a\"\npassword = \"p\"\n[[user]]\nusername = \"a\"\npassword = \"q\"\n")
                .contains("twice")
        );
        assert!(err("[[user]]\nname = \"a\"\n").contains("unknown field"));
        let md5_only = format!(
            "[[user]]\nusername = \"a\"\nha1_md5 = \"{}\"\n",
            "0".repeat(32)
        );
        let sha_only = format!(
            "[[user]]\nusername = \"b\"\nha1_sha256 = \"{}\"\n",
            "0".repeat(64)
        );
        assert!(err(&format!("{md5_only}{sha_only}")).contains("no algorithm in common"));
        let missing = auth_with(Path::new("/nonexistent/sipws-users.toml")).load(&domains);
        assert!(matches!(missing, Err(NetError::Read { .. })));
        let no_file = AuthSection {
            enabled: true,
            ..AuthSection::default()
        };
        assert!(
            no_file
                .load(&domains)
                .expect_err("refused")
                .to_string()
                .contains("auth.credentials")
        );
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
