//! `sipws serve`: the reference server (registrar + record-routing proxy) on WS, WSS, UDP and
//! TCP, configured by a TOML file and/or flags (flags win).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use sipws_reference::net::{Listen, Server, ServerConfig};

/// Flags of `sipws serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see the reference crate's `net::config` docs); flags override it.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Plain WebSocket listener address, or `off` [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR|off")]
    pub ws: Option<Listen>,
    /// WebSocket over TLS listener address, or `off` [default: 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR|off")]
    pub wss: Option<Listen>,
    /// SIP over UDP listener address, or `off` [default: 127.0.0.1:5060].
    #[arg(long, value_name = "ADDR|off")]
    pub udp: Option<Listen>,
    /// SIP over TCP listener address, or `off` [default: 127.0.0.1:5060].
    #[arg(long, value_name = "ADDR|off")]
    pub tcp: Option<Listen>,
    /// SIP domain served as registrar (repeatable) [default: the advertised host, so
    /// `sip:alice@127.0.0.1` works out of the box].
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Host written into our Via, Record-Route and Path [default: the listen IP].
    #[arg(long)]
    pub advertise: Option<String>,
    /// PEM certificate chain for WSS (with --key). Without it, a CA and a certificate for
    /// localhost and 127.0.0.1 are generated at start-up.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key for --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where to write the generated CA certificate for clients to trust
    /// [default: <temp dir>/sipws-ca.pem].
    #[arg(long, value_name = "PATH")]
    pub ca_out: Option<PathBuf>,
    /// Serve only this WebSocket resource path (repeatable); others get 404.
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Accept only this Origin (repeatable); others get 403.
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub origins: Vec<String>,
    /// Drop a connection whose WebSocket handshake is not done after this many milliseconds
    /// [default: 5000].
    #[arg(long, value_name = "MS")]
    pub handshake_timeout_ms: Option<u64>,
    /// Largest WebSocket message in bytes; larger ones close the connection with 1009
    /// [default: 65536].
    #[arg(long, value_name = "BYTES")]
    pub max_message: Option<usize>,
    /// Most TCP connections (WS, WSS, TCP) at once [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Turn on SIP digest authentication (RFC 3261 §22, MD5 and SHA-256 per RFC 8760) with
    /// the users of this TOML file (`[[user]] username = "alice" password = "..."`, or
    /// `ha1_md5`/`ha1_sha256` instead of the password): REGISTER gets 401, out-of-dialog
    /// requests from our users 407.
    #[arg(long, value_name = "FILE")]
    pub auth_credentials: Option<PathBuf>,
    /// The realm of the challenges [default: the first domain].
    #[arg(long, value_name = "REALM")]
    pub auth_realm: Option<String>,
}

impl ServeArgs {
    /// The configuration: defaults, then the file, then the flags.
    fn config(&self) -> anyhow::Result<ServerConfig> {
        let mut c = match &self.config {
            Some(path) => ServerConfig::from_file(path)?,
            None => ServerConfig::default(),
        };
        let l = &mut c.listen;
        for (flag, slot) in [
            (self.ws, &mut l.ws),
            (self.wss, &mut l.wss),
            (self.udp, &mut l.udp),
            (self.tcp, &mut l.tcp),
        ] {
            if let Some(v) = flag {
                *slot = v;
            }
        }
        if !self.domains.is_empty() {
            c.domains = self.domains.clone();
        }
        if let Some(a) = &self.advertise {
            c.advertise = Some(a.clone());
        }
        if self.cert.is_some() {
            c.tls.cert = self.cert.clone();
            c.tls.key = self.key.clone();
        }
        c.tls.generated_ca = self
            .ca_out
            .clone()
            .or(c.tls.generated_ca)
            .or_else(|| Some(std::env::temp_dir().join("sipws-ca.pem")));
        if !self.paths.is_empty() {
            c.websocket.paths = self.paths.clone();
        }
        if !self.origins.is_empty() {
            c.websocket.origins = self.origins.clone();
        }
        if let Some(ms) = self.handshake_timeout_ms {
            c.websocket.handshake_timeout_ms = ms;
        }
        if let Some(n) = self.max_message {
            c.websocket.max_message = n;
        }
        if let Some(n) = self.max_connections {
            c.limits.max_connections = n;
        }
        if let Some(path) = &self.auth_credentials {
            c.auth.enabled = true;
            c.auth.credentials = Some(path.clone());
        }
        if let Some(r) = &self.auth_realm {
            c.auth.realm = Some(r.clone());
        }
        Ok(c)
    }
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let server = Server::bind(config).await?;
        println!("sipws reference server listening:");
        for url in server.urls() {
            println!("  {url}");
        }
        println!(
            "SIP domain: {} (register e.g. sip:alice@{})",
            server.domains().join(", "),
            server.domains().first().map(String::as_str).unwrap_or("")
        );
        if let Some(realm) = server.auth_realm() {
            println!("digest authentication on, realm \"{realm}\" (SHA-256 and MD5)");
        }
        match (server.ca_path(), server.ca_pem()) {
            (Some(path), _) => println!("WSS clients should trust: {}", path.display()),
            (None, Some(_)) => println!("WSS certificate kept in memory only"),
            (None, None) => {}
        }
        println!("Stop with Ctrl-C.");
        server.run().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(args: &[&str]) -> ServerConfig {
        let cli = Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .expect("flags parse");
        cli.args.config().expect("config builds")
    }

    #[test]
    fn defaults_are_loopback_and_the_ca_goes_to_the_temp_dir() {
        let c = parse(&[]);
        assert_eq!(c.listen.ws, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(c.listen.wss, "127.0.0.1:8443".parse().expect("addr"));
        assert_eq!(
            c.tls.generated_ca,
            Some(std::env::temp_dir().join("sipws-ca.pem"))
        );
        assert!(
            c.domains.is_empty(),
            "the domain defaults to the advertised host"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("sipws-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("serve.toml");
        std::fs::write(
            &file,
            "domains = [\"file.example\"]\n[listen]\nws = \"127.0.0.1:9000\"\nudp = \"off\"\n\
             [websocket]\nhandshake_timeout_ms = 1000\n",
        )
        .expect("write");
        let c = parse(&[
            "--config",
            file.to_str().expect("UTF-8 path"),
            "--ws",
            "127.0.0.1:0",
            "--domain",
            "flag.example",
            "--handshake-timeout-ms",
            "300",
            "--wss",
            "off",
        ]);
        assert_eq!(c.listen.ws, "127.0.0.1:0".parse().expect("addr"));
        assert_eq!(c.listen.udp, Listen::Off, "from the file");
        assert_eq!(c.listen.wss, Listen::Off, "from the flag");
        assert_eq!(c.domains, vec!["flag.example".to_string()]);
        assert_eq!(c.websocket.handshake_timeout_ms, 300);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn auth_flags_turn_authentication_on() {
        let c = parse(&[]);
        assert!(!c.auth.enabled);
        let c = parse(&[
            "--auth-credentials",
            "users.toml",
            "--auth-realm",
            "example.com",
        ]);
        assert!(c.auth.enabled);
        assert_eq!(c.auth.credentials, Some(PathBuf::from("users.toml")));
        assert_eq!(c.auth.realm.as_deref(), Some("example.com"));
    }

    #[test]
    fn bad_addresses_are_usage_errors() {
        assert!(
            Cli::try_parse_from(["serve", "--ws", "localhost:80"]).is_err(),
            "names are not resolved"
        );
        assert!(Cli::try_parse_from(["serve", "--cert", "a.pem"]).is_err());
    }
}
