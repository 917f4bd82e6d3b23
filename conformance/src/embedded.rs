//! The default target: the reference server, started in-process on loopback with ports the
//! OS picks; and a second one with digest authentication on, for the `@needs:auth` cases
//! (every other case expects a registrar that does not challenge).

use std::sync::Arc;
use std::time::Duration;

use sipws_reference::net::config::CredentialEntry;
use sipws_reference::net::{Listen, NetError, Server, ServerConfig, ServerHandle};

use crate::target::{Target, TargetAuth, Trust, parse_url};

/// The user of the embedded authenticating server (loopback only, gone with the run).
pub const AUTH_USER: &str = "sipws-auth";
pub const AUTH_PASSWORD: &str = "embedded-only";

/// The embedded servers of one run.
#[derive(Debug)]
pub struct Embedded {
    main: ServerHandle,
    auth: ServerHandle,
}

impl Embedded {
    /// Stops both servers and waits for their tasks.
    pub async fn shutdown(self) {
        self.main.shutdown().await;
        self.auth.shutdown().await;
    }
}

/// Start the reference server and describe it as a target; the `@needs:auth` cases go to a
/// second reference server, WS only, with authentication on and one user
/// ([`AUTH_USER`]/[`AUTH_PASSWORD`]).
///
/// The main server's handshake timeout is twice the suite's answer timeout (at least 2 s):
/// long enough for any legitimate upgrade, short enough that
/// `handshake/stalled-handshake-is-closed` sees the close within its bound of five timeouts
/// instead of waiting out the 5 s default.
pub async fn start(timeout: Duration) -> Result<(Embedded, Target), NetError> {
    let mut config = ServerConfig::loopback_ephemeral();
    let handshake = (2 * timeout).max(Duration::from_secs(2));
    config.websocket.handshake_timeout_ms =
        u64::try_from(handshake.as_millis()).unwrap_or(u64::MAX);
    let (main, mut target) = start_with(config, timeout).await?;
    let mut c = ServerConfig::loopback_ephemeral();
    c.listen.wss = Listen::Off;
    c.listen.udp = Listen::Off;
    c.listen.tcp = Listen::Off;
    c.auth.enabled = true;
    c.auth.users = vec![CredentialEntry::with_password(AUTH_USER, AUTH_PASSWORD)];
    let (auth, mut auth_target) = match start_with(c, timeout).await {
        Ok(s) => s,
        Err(e) => {
            main.shutdown().await;
            return Err(e);
        }
    };
    let credentials = TargetAuth {
        username: AUTH_USER.into(),
        password: AUTH_PASSWORD.into(),
        target: None,
    };
    auth_target.label = "embedded reference server with digest authentication".into();
    auth_target.auth = Some(credentials.clone());
    target.auth = Some(TargetAuth {
        target: Some(Arc::new(auth_target)),
        ..credentials
    });
    Ok((Embedded { main, auth }, target))
}

/// One reference server with this configuration (its listeners should be loopback, port 0),
/// described as a target without credentials.
pub async fn start_with(
    config: ServerConfig,
    timeout: Duration,
) -> Result<(ServerHandle, Target), NetError> {
    let server = Server::bind(config).await?;
    let addrs = server.addrs();
    let endpoint = |secure: bool, addr: Option<std::net::SocketAddr>| {
        addr.and_then(|a| {
            let scheme = if secure { "wss" } else { "ws" };
            parse_url(&format!("{scheme}://{a}/")).ok()
        })
    };
    let target = Target {
        label: "embedded reference server".into(),
        ws: endpoint(false, addrs.ws),
        wss: endpoint(true, addrs.wss),
        trust: server
            .ca_pem()
            .map(|p| Trust::CaPem(p.to_string()))
            .unwrap_or(Trust::InsecureAcceptAnyCertificate),
        domain: server
            .domains()
            .first()
            .cloned()
            .unwrap_or_else(|| "127.0.0.1".into()),
        udp: addrs.udp,
        timeout,
        capabilities: Vec::new(),
        auth: None,
    };
    Ok((server.spawn(), target))
}
