//! [`Server`]: binds every listener, then runs the accept loops, the UDP loop and the proxy
//! actor until [`ServerHandle::shutdown`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use super::actor::Actor;
use super::config::{Listen, ServerConfig, WssParam};
use super::shared::{Event, Limits, Shared, Stats};
use super::tls::load_or_generate;
use super::{NetError, sip_conn, udp, ws_conn};
use crate::proxy::{self, BindingLimits, Expiry, Listener, Proxy};
use crate::sip::Host;
use crate::transport::{Transport, WssParamStyle};
use crate::ws::handshake::{OriginPolicy, Policy};

/// Capacity of the actor's event channel; senders wait when it is full.
const EVENT_QUEUE: usize = 1024;

/// The addresses the server listens on (real ports, also when port 0 was asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerAddrs {
    pub ws: Option<SocketAddr>,
    pub wss: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
}

/// A bound, not yet running server.
pub struct Server {
    config: ServerConfig,
    advertised: Host,
    domains: Vec<String>,
    addrs: ServerAddrs,
    ws: Option<TcpListener>,
    wss: Option<(TcpListener, TlsAcceptor)>,
    udp: Option<Arc<UdpSocket>>,
    tcp: Option<TcpListener>,
    ca_pem: Option<String>,
    ca_path: Option<PathBuf>,
    /// The key of flow tokens and temporary GRUUs: 32 random bytes per start.
    secret: Vec<u8>,
    /// Digest authentication, credentials loaded at bind (`[auth]`).
    auth: Option<proxy::auth::AuthConfig>,
    start: Instant,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addrs", &self.addrs)
            .field("domains", &self.domains)
            .finish_non_exhaustive()
    }
}

async fn bind_tcp(transport: &'static str, addr: SocketAddr) -> Result<TcpListener, NetError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| NetError::Bind {
            transport,
            addr,
            source,
        })
}

fn local(
    transport: &'static str,
    addr: SocketAddr,
    r: std::io::Result<SocketAddr>,
) -> Result<SocketAddr, NetError> {
    r.map_err(|source| NetError::Bind {
        transport,
        addr,
        source,
    })
}

/// The advertised host: the configured one, or the first listener's IP (loopback when it is
/// a wildcard address, which names no host).
fn advertised_host(config: &ServerConfig) -> Result<Host, NetError> {
    if let Some(a) = &config.advertise {
        if let Ok(ip) = a.parse::<IpAddr>() {
            return Ok(host_of(ip));
        }
        return Host::parse(a).map_err(|e| NetError::Config(format!("advertise = {a:?}: {e}")));
    }
    let l = &config.listen;
    let ip = [l.ws, l.wss, l.tcp, l.udp]
        .into_iter()
        .find_map(Listen::addr)
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    Ok(host_of(ip))
}

fn host_of(ip: IpAddr) -> Host {
    match ip {
        IpAddr::V4(a) => Host::Ipv4(a),
        IpAddr::V6(a) => Host::Ipv6(a),
    }
}

impl Server {
    /// Binds every configured listener and prepares the WSS certificate. Nothing is served
    /// until [`Server::spawn`] or [`Server::run`].
    pub async fn bind(config: ServerConfig) -> Result<Server, NetError> {
        config.check()?;
        let advertised = advertised_host(&config)?;
        let domains = if config.domains.is_empty() {
            vec![advertised.to_string()]
        } else {
            config.domains.clone()
        };
        let auth = config.auth.load(&domains)?;
        let mut addrs = ServerAddrs::default();

        let ws = match config.listen.ws.addr() {
            Some(a) => {
                let l = bind_tcp("ws", a).await?;
                addrs.ws = Some(local("ws", a, l.local_addr())?);
                Some(l)
            }
            None => None,
        };
        let (wss, ca_pem, ca_path) = match config.listen.wss.addr() {
            Some(a) => {
                let mut names = domains.clone();
                names.push(advertised.to_string());
                let material = load_or_generate(&config.tls, &names)?;
                let l = bind_tcp("wss", a).await?;
                addrs.wss = Some(local("wss", a, l.local_addr())?);
                let mut path = None;
                if material.generated {
                    if let Some(p) = &config.tls.generated_ca {
                        std::fs::write(p, &material.ca_pem).map_err(|source| NetError::Write {
                            path: p.clone(),
                            source,
                        })?;
                        path = Some(p.clone());
                    }
                } else {
                    path = config.tls.cert.clone();
                }
                let acceptor = TlsAcceptor::from(material.server_config);
                (Some((l, acceptor)), Some(material.ca_pem), path)
            }
            None => (None, None, None),
        };
        let udp = match config.listen.udp.addr() {
            Some(a) => {
                let s = UdpSocket::bind(a).await.map_err(|source| NetError::Bind {
                    transport: "udp",
                    addr: a,
                    source,
                })?;
                addrs.udp = Some(local("udp", a, s.local_addr())?);
                Some(Arc::new(s))
            }
            None => None,
        };
        let tcp = match config.listen.tcp.addr() {
            Some(a) => {
                // UDP and TCP on one port, as SIP has them (5060), also when the OS picks it.
                let same_as_udp = config.listen.udp.addr() == Some(a) && a.port() == 0;
                let paired = match (same_as_udp, addrs.udp) {
                    (true, Some(u)) => TcpListener::bind(u).await.ok(),
                    _ => None,
                };
                let l = match paired {
                    Some(l) => l,
                    None => bind_tcp("tcp", a).await?,
                };
                addrs.tcp = Some(local("tcp", a, l.local_addr())?);
                Some(l)
            }
            None => None,
        };
        let mut secret = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| NetError::Random)?;
        Ok(Server {
            secret,
            auth,
            config,
            advertised,
            domains,
            addrs,
            ws,
            wss,
            udp,
            tcp,
            ca_pem,
            ca_path,
            start: Instant::now(),
        })
    }

    pub fn addrs(&self) -> ServerAddrs {
        self.addrs
    }

    /// The SIP domains served (AoR hosts).
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// The digest authentication realm, when `[auth]` is on.
    pub fn auth_realm(&self) -> Option<&str> {
        self.auth.as_ref().map(|a| a.realm.as_str())
    }

    /// The host written into our Via, Record-Route and Path.
    pub fn advertised_host(&self) -> &Host {
        &self.advertised
    }

    /// PEM of the certificate WSS clients should trust (with a WSS listener).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Where that certificate is on disk: the generated CA's file, or the configured chain.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// The URLs and URIs served: `ws://…`, `wss://…`, `sip:…;transport=udp|tcp`.
    pub fn urls(&self) -> Vec<String> {
        let h = &self.advertised;
        let mut out = Vec::new();
        if let Some(a) = self.addrs.ws {
            out.push(format!("ws://{h}:{}", a.port()));
        }
        if let Some(a) = self.addrs.wss {
            out.push(format!("wss://{h}:{}", a.port()));
        }
        if let Some(a) = self.addrs.udp {
            out.push(format!("sip:{h}:{};transport=udp", a.port()));
        }
        if let Some(a) = self.addrs.tcp {
            out.push(format!("sip:{h}:{};transport=tcp", a.port()));
        }
        out
    }

    fn proxy_config(&self) -> proxy::Config {
        let mut listeners = Vec::new();
        let a = self.addrs;
        for (t, addr) in [
            (Transport::Ws, a.ws),
            (Transport::Wss, a.wss),
            (Transport::Udp, a.udp),
            (Transport::Tcp, a.tcp),
        ] {
            if let Some(addr) = addr {
                listeners.push(Listener {
                    transport: t,
                    host: self.advertised.clone(),
                    port: addr.port(),
                });
            }
        }
        let r = &self.config.registrar;
        proxy::Config {
            domains: self.domains.clone(),
            listeners,
            wss_param_style: match r.wss_param {
                WssParam::Ws => WssParamStyle::Rfc7118,
                WssParam::Wss => WssParamStyle::Wss,
            },
            expires: Expiry {
                default: r.default_expires,
                min: r.min_expires,
                max: r.max_expires,
            },
            bindings: BindingLimits {
                per_aor: r.max_bindings_per_aor,
                per_flow: r.max_bindings_per_flow,
            },
            secret: self.secret.clone(),
            outbound: r.outbound,
            gruu: r.gruu,
            auth: self.auth.clone(),
        }
    }

    fn ws_policy(&self) -> Policy {
        let w = &self.config.websocket;
        Policy {
            resource_paths: (!w.paths.is_empty()).then(|| w.paths.clone()),
            origins: if w.origins.is_empty() {
                OriginPolicy::Any
            } else {
                OriginPolicy::Only {
                    origins: w.origins.clone(),
                    allow_absent: w.allow_missing_origin,
                }
            },
            authorities: None,
            #[cfg(feature = "mutants")]
            mutation: self.config.mutation,
        }
    }

    /// Starts serving on the current tokio runtime.
    pub fn spawn(self) -> ServerHandle {
        let proxy = Proxy::new(self.proxy_config());
        let c = &self.config;
        #[cfg(feature = "mutants")]
        let proxy = proxy.with_mutation(c.mutation);
        let limits = Limits {
            handshake_timeout: c.handshake_timeout(),
            write_timeout: Duration::from_millis(c.limits.write_timeout_ms),
            connect_timeout: Duration::from_millis(c.limits.connect_timeout_ms),
            flow_queue_bytes: c.limits.flow_queue_bytes,
            max_message: c.websocket.max_message,
            max_stream_buffer: c.limits.max_stream_buffer,
        };
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let shared = Arc::new(Shared::new(
            events_tx.clone(),
            c.limits.max_connections,
            limits,
            self.ws_policy(),
        ));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let udp = self.udp.clone().zip(self.addrs.udp);
        let actor = Actor::new(
            proxy,
            self.start,
            shared.clone(),
            udp.clone(),
            c.limits.max_udp_peers,
        );
        tasks.spawn(actor.run(events_rx, shutdown_rx.clone()));
        if let Some((socket, _)) = udp {
            tasks.spawn(udp::receive(socket, shared.clone(), shutdown_rx.clone()));
        }
        if let Some(l) = self.ws {
            tasks.spawn(accept_loop(
                l,
                Kind::Ws,
                shared.clone(),
                shutdown_rx.clone(),
            ));
        }
        if let Some((l, acceptor)) = self.wss {
            let kind = Kind::Wss(acceptor);
            tasks.spawn(accept_loop(l, kind, shared.clone(), shutdown_rx.clone()));
        }
        if let Some(l) = self.tcp {
            tasks.spawn(accept_loop(
                l,
                Kind::Tcp,
                shared.clone(),
                shutdown_rx.clone(),
            ));
        }
        let task = tokio::spawn(async move { while tasks.join_next().await.is_some() {} });
        ServerHandle {
            addrs: self.addrs,
            events: events_tx,
            shutdown: shutdown_tx,
            task,
        }
    }

    /// Serves until the process ends (the CLI's `sipws serve`): the server's tasks only
    /// stop on [`ServerHandle::shutdown`], which nobody holds here.
    pub async fn run(self) -> Result<(), NetError> {
        let handle = self.spawn();
        let _ = handle.task.await;
        Ok(())
    }
}

/// What an accepted connection speaks.
enum Kind {
    Ws,
    Wss(TlsAcceptor),
    Tcp,
}

/// Accepts connections until shutdown; each gets a connection permit (or is closed at once)
/// and a task; at shutdown every connection task is stopped.
async fn accept_loop(
    listener: TcpListener,
    kind: Kind,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let Ok(local) = listener.local_addr() else {
        return;
    };
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept() => match r {
                Ok((tcp, remote)) => {
                    let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
                        warn!(%local, %remote, "connection limit reached; connection closed");
                        drop(tcp);
                        continue;
                    };
                    let _ = tcp.set_nodelay(true);
                    let shared = shared.clone();
                    match &kind {
                        Kind::Ws => {
                            conns.spawn(ws_conn::serve_ws(tcp, local, remote, shared, permit));
                        }
                        Kind::Wss(acceptor) => {
                            let tls = acceptor.clone();
                            conns.spawn(ws_conn::serve_wss(tcp, tls, local, remote, shared, permit));
                        }
                        Kind::Tcp => {
                            conns.spawn(sip_conn::serve(tcp, local, remote, shared, permit));
                        }
                    }
                }
                Err(error) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    debug!(%local, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    conns.shutdown().await;
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    addrs: ServerAddrs,
    events: mpsc::Sender<Event>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    pub fn addrs(&self) -> ServerAddrs {
        self.addrs
    }

    /// Counters from the proxy actor; all zero once it has stopped.
    pub async fn stats(&self) -> Stats {
        let (tx, rx) = oneshot::channel();
        if self.events.send(Event::Stats(tx)).await.is_err() {
            return Stats::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Bindings in the location service.
    pub async fn binding_count(&self) -> usize {
        self.stats().await.bindings
    }

    /// Stops every listener and connection and waits until all of the server's tasks ended.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}
