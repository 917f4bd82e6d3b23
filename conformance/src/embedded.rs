//! The default target: the reference server, started in-process on loopback with ports the
//! OS picks.

use std::time::Duration;

use sipws_reference::net::{NetError, Server, ServerConfig, ServerHandle};

use crate::target::{Target, Trust, WsEndpoint};

/// Start the reference server and describe it as a target.
pub async fn start(timeout: Duration) -> Result<(ServerHandle, Target), NetError> {
    start_with(ServerConfig::loopback_ephemeral(), timeout).await
}

/// [`start`] with another configuration (its listeners should be loopback, port 0).
pub async fn start_with(
    config: ServerConfig,
    timeout: Duration,
) -> Result<(ServerHandle, Target), NetError> {
    let server = Server::bind(config).await?;
    let addrs = server.addrs();
    let endpoint = |secure: bool, addr: Option<std::net::SocketAddr>| {
        addr.and_then(|a| {
            let scheme = if secure { "wss" } else { "ws" };
            WsEndpoint::parse(&format!("{scheme}://{a}/")).ok()
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
        capabilities: vec!["outbound".into(), "two-users".into()],
    };
    Ok((server.spawn(), target))
}
