//! `sipws client URL <command>`: the reference client (`sipws_reference::net::client`) from
//! the command line — register, send a MESSAGE or OPTIONS, place a call, or listen and
//! answer — with every WebSocket message and its frame type on stderr under `--trace`.
//!
//! Exit status: 0 success; 1 the SIP operation failed (its status is printed); 2 usage
//! error, or the server could not be reached (the URL and the reason are printed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use sipws_reference::net::client::{
    Client, ClientError, ClientEvent, ClientOptions, RegisterReply, Timeouts, Trust, WsUrl,
};
use sipws_reference::sip::HeaderName;
use sipws_reference::ua::{CallHandle, EndCause, UaEvent};

/// Flags and command of `sipws client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's WebSocket URL: ws://host[:port][/path] or wss://host[:port][/path].
    pub url: String,
    #[command(subcommand)]
    pub command: ClientCommand,
    /// Our user name: the AoR is sip:USER@DOMAIN [default: sipws; register and listen also
    /// take it as an argument].
    #[arg(long, global = true)]
    pub user: Option<String>,
    /// The SIP domain of our AoR and of bare targets [default: the URL host].
    #[arg(long, global = true)]
    pub domain: Option<String>,
    /// wss://: trust the CA certificate(s) in this PEM file (e.g. the one `sipws serve`
    /// prints); the server certificate must chain to it and name the URL host.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// wss://: accept ANY server certificate, unchecked. For testing only: anyone on the path
    /// can read and change the traffic.
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Print every WebSocket message sent and received, with its frame type (text/binary),
    /// size and time, to stderr.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Send this Origin header in the opening handshake.
    #[arg(long, global = true)]
    pub origin: Option<String>,
    /// Our +sip.instance URN, to keep it across runs (RFC 5626 §4.1) [default: a new
    /// urn:uuid each run].
    #[arg(long, global = true, value_name = "URN")]
    pub instance: Option<String>,
    /// Registration lifetime to ask for, in seconds [default: 600].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub expires: Option<u32>,
    /// Answer 401/407 digest challenges as the user with this password (RFC 3261 §22.2;
    /// SHA-256 preferred over MD5, RFC 8760).
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Connecting (TCP, TLS and the opening handshake) must finish within this.
    #[arg(long, global = true, value_name = "MS", default_value_t = 5000)]
    pub connect_timeout_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// REGISTER (Outbound and GRUU: +sip.instance, reg-id, Supported: path, outbound, gruu),
    /// print the contacts and GRUUs of the 200, stay registered --for SECONDS (refreshes and
    /// CRLF keep-alives run), then unregister.
    Register {
        /// The user to register (same as --user).
        #[arg(value_name = "USER")]
        name: Option<String>,
        /// Stay registered this long before unregistering.
        #[arg(long = "for", value_name = "SECONDS", default_value_t = 0)]
        duration: u64,
    },
    /// Send a MESSAGE and print its final status.
    Message {
        /// Target: a user (bob), user@host, or a sip:/sips: URI.
        to: String,
        /// The body.
        text: String,
        #[arg(long, default_value = "text/plain;charset=utf-8")]
        content_type: String,
    },
    /// Send an OPTIONS and print its final status and the Allow/Supported it lists.
    Options {
        /// Target: a user (bob), user@host, or a sip:/sips: URI.
        to: String,
    },
    /// Call: INVITE (no SDP), ACK the 200, hang up with BYE after --hangup-after MS (or
    /// report the callee's BYE).
    Call {
        /// Target: a user (bob), user@host, or a sip:/sips: URI.
        to: String,
        /// Milliseconds between the answer and our BYE.
        #[arg(long, value_name = "MS", default_value_t = 1000)]
        hangup_after: u64,
        /// Give up (CANCEL) when the call is not answered within this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        ring_timeout: u64,
    },
    /// Register, then answer incoming MESSAGEs and INVITEs (200) and print them, --for
    /// SECONDS (default: until interrupted); then unregister.
    Listen {
        /// The user to register (same as --user).
        #[arg(value_name = "USER")]
        name: Option<String>,
        #[arg(long = "for", value_name = "SECONDS")]
        duration: Option<u64>,
    },
}

/// A failure that decides the exit status.
enum Failure {
    /// 1: the SIP operation failed.
    Sip(String),
    /// 2: usage, or the server could not be reached.
    Usage(anyhow::Error),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        if e.is_unreachable() {
            Failure::Usage(anyhow!(e))
        } else {
            Failure::Sip(e.to_string())
        }
    }
}

impl ClientArgs {
    fn positional_user(&self) -> Option<&str> {
        match &self.command {
            ClientCommand::Register { name, .. } | ClientCommand::Listen { name, .. } => {
                name.as_deref()
            }
            _ => None,
        }
    }

    fn user(&self) -> anyhow::Result<String> {
        match (self.positional_user(), self.user.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                bail!("the user is given twice, as {a:?} and --user {b:?}")
            }
            (Some(u), _) | (None, Some(u)) => Ok(u.to_string()),
            (None, None) => Ok("sipws".to_string()),
        }
    }

    fn domain(&self, url: &WsUrl) -> String {
        match &self.domain {
            Some(d) => d.clone(),
            None if url.host.contains(':') => format!("[{}]", url.host),
            None => url.host.clone(),
        }
    }

    /// The client's options; every error here is a usage error.
    fn options(&self) -> anyhow::Result<(ClientOptions, String)> {
        let url = WsUrl::parse(&self.url).map_err(|e| anyhow!("{:?}: {e}", self.url))?;
        let domain = self.domain(&url);
        let aor = format!("sip:{}@{domain}", self.user()?);
        let mut o = ClientOptions::new(&self.url, &aor)?;
        if let Some(urn) = &self.instance {
            o.ua.instance = urn.clone();
        }
        if self.expires.is_some() {
            o.ua.expires = self.expires;
        }
        if let Some(p) = &self.password {
            o.ua = o.ua.clone().with_password(p);
        }
        o.ua.validate()?;
        o.trust = match (&self.ca, self.insecure) {
            (Some(_), true) => bail!("--ca and --insecure exclude each other"),
            (Some(path), false) => Some(Trust::CaPem(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the CA file {}", path.display()))?,
            )),
            (None, true) => Some(Trust::InsecureAcceptAnyCertificate),
            (None, false) if url.secure => {
                bail!(
                    "{} is wss://: give the CA to trust with --ca FILE, or --insecure",
                    self.url
                )
            }
            (None, false) => None,
        };
        o.origin = self.origin.clone();
        let connect = Duration::from_millis(self.connect_timeout_ms.max(1));
        o.timeouts = Timeouts {
            connect,
            handshake: connect,
            ..Timeouts::default()
        };
        if self.trace {
            o.on_traffic = Some(Arc::new(|t| eprint!("{t}")));
        }
        Ok((o, domain))
    }
}

/// `bob` → `sip:bob@DOMAIN`; `bob@host` → `sip:bob@host`; URIs as they are.
pub fn target(to: &str, domain: &str) -> String {
    let lower = to.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        to.to_string()
    } else if to.contains('@') {
        format!("sip:{to}")
    } else {
        format!("sip:{to}@{domain}")
    }
}

pub fn client(args: &ClientArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match rt.block_on(run(args)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Failure::Sip(msg)) => {
            eprintln!("sipws client: {msg}");
            Ok(ExitCode::from(1))
        }
        Err(Failure::Usage(e)) => Err(e),
    }
}

async fn run(args: &ClientArgs) -> Result<(), Failure> {
    let (options, domain) = args.options().map_err(Failure::Usage)?;
    let client = Client::connect(options)
        .await
        .map_err(|e| Failure::Usage(anyhow!("cannot reach the server: {e}")))?;
    let result = match &args.command {
        ClientCommand::Register { duration, .. } => {
            register(&client, Some(Duration::from_secs(*duration)), false).await
        }
        ClientCommand::Listen { duration, .. } => {
            register(&client, duration.map(Duration::from_secs), true).await
        }
        ClientCommand::Message {
            to,
            text,
            content_type,
        } => {
            let to = target(to, &domain);
            let r = client.message(&to, content_type, text.as_bytes()).await?;
            println!("MESSAGE {to}: {} {}", r.status, r.reason);
            Ok(())
        }
        ClientCommand::Options { to } => {
            let to = target(to, &domain);
            let r = client.options(&to).await?;
            println!("OPTIONS {to}: {} {}", r.status, r.reason);
            if let Some(resp) = &r.response {
                for name in [HeaderName::Allow, HeaderName::Supported] {
                    let values: Vec<String> = resp.values(&name).map(|v| v.to_string()).collect();
                    if !values.is_empty() {
                        println!("  {name}: {}", values.join(", "));
                    }
                }
            }
            Ok(())
        }
        ClientCommand::Call {
            to,
            hangup_after,
            ring_timeout,
        } => {
            call(
                &client,
                &target(to, &domain),
                Duration::from_millis(*hangup_after),
                Duration::from_secs(*ring_timeout),
            )
            .await
        }
    };
    client.close().await;
    result
}

fn print_registration(client: &Client, reply: &RegisterReply) {
    let r = &reply.registration;
    println!(
        "registered {} for {} s (outbound: {}, flow-timer: {})",
        client.aor(),
        r.expires,
        if r.outbound { "yes" } else { "no" },
        r.flow_timer
            .map_or("none".to_string(), |t| format!("{t} s"))
    );
    if let Some(resp) = &reply.response {
        for c in resp.contacts() {
            println!("  contact: {c}");
        }
    }
    if let Some(g) = &r.pub_gruu {
        println!("  pub-gruu: {g}");
    }
    if let Some(g) = &r.temp_gruu {
        println!("  temp-gruu: {g}");
    }
}

/// Register, stay (answering calls when `answer`), unregister.
async fn register(client: &Client, stay: Option<Duration>, answer: bool) -> Result<(), Failure> {
    let reply = client.register().await?;
    print_registration(client, &reply);
    // What happened up to now (the connection opening, this registration) is printed.
    while let Some(event) = client.next_event(Duration::ZERO).await {
        if !matches!(
            event,
            ClientEvent::Opened { .. } | ClientEvent::Ua(UaEvent::Registered(_))
        ) {
            report(client, event, answer).await;
        }
    }
    let until = stay.map(|d| tokio::time::Instant::now() + d);
    loop {
        let wait = match until {
            Some(at) => {
                let left = at.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                left
            }
            None => Duration::from_secs(3600),
        };
        let Some(event) = client.next_event(wait).await else {
            continue;
        };
        report(client, event, answer).await;
    }
    client.unregister().await?;
    println!("unregistered {}", client.aor());
    Ok(())
}

/// Prints what a registered client sees; answers INVITEs with 200 when `answer`.
async fn report(client: &Client, event: ClientEvent, answer: bool) {
    match event {
        ClientEvent::Ua(UaEvent::MessageReceived {
            from,
            content_type,
            body,
            ..
        }) => {
            println!(
                "MESSAGE from {from} [{}, {} bytes]: {}",
                content_type.as_deref().unwrap_or("no Content-Type"),
                body.len(),
                String::from_utf8_lossy(&body)
            );
        }
        ClientEvent::Ua(UaEvent::IncomingCall { call, from, .. }) => {
            println!("INVITE from {from} ({call})");
            if answer {
                match client.answer(call, 200, None).await {
                    Ok(()) => println!("answered {call} with 200"),
                    Err(e) => println!("could not answer {call}: {e}"),
                }
            }
        }
        ClientEvent::Ua(UaEvent::AckReceived { call }) => println!("{call} confirmed (ACK)"),
        ClientEvent::Ua(UaEvent::CallCancelled { call }) => println!("{call} cancelled"),
        ClientEvent::Ua(UaEvent::CallEnded { call, cause }) => {
            println!("{call} ended: {}", end_cause(cause));
        }
        ClientEvent::Ua(UaEvent::Registered(r)) => {
            println!("registration refreshed: {} s", r.expires);
        }
        ClientEvent::Ua(UaEvent::RegistrationFailed { status, reason, .. }) => {
            println!("registration failed: {status} {reason}");
        }
        ClientEvent::Ua(UaEvent::Error(e)) => println!("warning: {e}"),
        ClientEvent::Closed {
            cause,
            reconnect_in,
            ..
        } => match reconnect_in {
            Some(d) => println!(
                "connection lost ({cause}); reconnecting in {} ms",
                d.as_millis()
            ),
            None => println!("connection closed ({cause})"),
        },
        ClientEvent::ConnectFailed {
            error,
            reconnect_in,
        } => println!(
            "reconnect failed: {error}{}",
            reconnect_in.map_or(String::new(), |d| format!(
                "; next try in {} ms",
                d.as_millis()
            ))
        ),
        ClientEvent::Opened { connection, peer } => {
            println!("connection {connection} open to {peer}");
        }
        _ => {}
    }
}

fn end_cause(cause: EndCause) -> String {
    match cause {
        EndCause::LocalBye { status } => format!("our BYE got {status}"),
        EndCause::RemoteBye => "the other side hung up (BYE)".to_string(),
        EndCause::FlowFailed => "the connection failed".to_string(),
    }
}

/// INVITE, wait for the answer, then BYE after `hangup_after`.
async fn call(
    client: &Client,
    to: &str,
    hangup_after: Duration,
    ring_timeout: Duration,
) -> Result<(), Failure> {
    let call = client.invite(to, None).await?;
    println!("INVITE {to} ({call})");
    let deadline = tokio::time::Instant::now() + ring_timeout;
    let mut cancelled = false;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = match client.next_event(left.max(Duration::from_millis(1))).await {
            Some(e) => e,
            None if !cancelled => {
                cancelled = true;
                println!("no answer within {} s: CANCEL", ring_timeout.as_secs());
                if let Err(e) = client.cancel(call).await {
                    return Err(Failure::Sip(format!(
                        "no answer, and no CANCEL possible: {e}"
                    )));
                }
                continue;
            }
            None => {
                return Err(Failure::Sip(
                    "no answer and no answer to CANCEL".to_string(),
                ));
            }
        };
        match event {
            ClientEvent::Ua(UaEvent::CallProgress {
                call: c,
                status,
                reason,
            }) if c == call => {
                println!("{status} {reason}");
            }
            ClientEvent::Ua(UaEvent::CallAnswered {
                call: c, status, ..
            }) if c == call => {
                println!("answered: {status} (ACK sent)");
                break;
            }
            ClientEvent::Ua(UaEvent::CallFailed {
                call: c,
                status,
                reason,
                ..
            }) if c == call => {
                return Err(Failure::Sip(format!("INVITE failed: {status} {reason}")));
            }
            _ => {}
        }
    }
    hang_up(client, call, hangup_after).await
}

async fn hang_up(client: &Client, call: CallHandle, after: Duration) -> Result<(), Failure> {
    let until = tokio::time::Instant::now() + after;
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        if let Some(ClientEvent::Ua(UaEvent::CallEnded { call: c, cause })) =
            client.next_event(left).await
            && c == call
        {
            println!("{call} ended: {}", end_cause(cause));
            return Ok(());
        }
    }
    let status = client.bye(call).await?;
    println!("BYE: {status}");
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Failure::Sip(format!("BYE failed: {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ClientArgs,
    }

    fn parse(args: &[&str]) -> Result<ClientArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("client").chain(args.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn targets_are_completed_with_the_domain() {
        assert_eq!(target("bob", "127.0.0.1"), "sip:bob@127.0.0.1");
        assert_eq!(target("bob@example.com", "x"), "sip:bob@example.com");
        assert_eq!(target("sips:bob@example.com", "x"), "sips:bob@example.com");
        assert_eq!(
            target("SIP:bob@h;transport=ws", "x"),
            "SIP:bob@h;transport=ws"
        );
    }

    #[test]
    fn the_user_comes_from_the_argument_or_the_flag_but_not_two_different_ones() {
        let a = parse(&["ws://127.0.0.1:8080", "register", "alice"]).expect("parses");
        assert_eq!(a.user().expect("one user"), "alice");
        let (o, domain) = a.options().expect("options");
        assert_eq!(o.ua.aor.to_string(), "sip:alice@127.0.0.1");
        assert_eq!(domain, "127.0.0.1");
        let a = parse(&["ws://h", "--user", "bob", "message", "carol", "hi"]).expect("parses");
        assert_eq!(a.user().expect("one user"), "bob");
        let a = parse(&["ws://h", "listen", "alice", "--user", "bob"]).expect("parses");
        assert!(a.user().is_err());
        let a = parse(&["ws://h", "options", "x"]).expect("parses");
        assert_eq!(a.user().expect("default"), "sipws");
        let a = parse(&["ws://[::1]:5", "options", "x"]).expect("parses");
        assert_eq!(a.options().expect("options").1, "[::1]");
    }

    #[test]
    fn password_gives_credentials_for_the_aor_user() {
        let a =
            parse(&["ws://h", "--password", "wonderland", "register", "alice"]).expect("parses");
        let (o, _) = a.options().expect("options");
        let c = o.ua.credentials.expect("credentials");
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "wonderland")
        );
        let (o, _) = parse(&["ws://h", "register", "alice"])
            .expect("parses")
            .options()
            .expect("options");
        assert!(o.ua.credentials.is_none());
    }

    #[test]
    fn wss_needs_a_trust_decision() {
        let a = parse(&["wss://127.0.0.1:1", "register", "alice"]).expect("parses");
        let e = a.options().expect_err("no trust given").to_string();
        assert!(e.contains("--ca") && e.contains("--insecure"), "{e}");
        let a = parse(&["wss://127.0.0.1:1", "--insecure", "register", "a"]).expect("parses");
        assert_eq!(
            a.options().expect("options").0.trust,
            Some(Trust::InsecureAcceptAnyCertificate)
        );
        let a = parse(&["wss://h", "--insecure", "--ca", "x.pem", "register"]).expect("parses");
        assert!(a.options().is_err());
        let a = parse(&["http://h", "register"]).expect("parses");
        assert!(
            a.options()
                .expect_err("bad URL")
                .to_string()
                .contains("ws://")
        );
    }
}
