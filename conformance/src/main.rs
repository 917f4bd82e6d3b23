//! `sipws`: the conformance suite and reference tools for SIP over WebSocket (RFC 7118).
//!
//! Subcommands: `serve` (the reference server), `client` (the reference client), `test` (the
//! conformance suite), `vectors` (test vectors for other implementations) and the codec and
//! rule inspectors (`parse`, `handshake`, `uri`).

mod client;
mod inspect;
mod serve;
mod test_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sipws",
    version,
    about = "Conformance suite and reference implementation for SIP over WebSocket (RFC 7118)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the reference server: registrar and record-routing proxy on WS, WSS, SIP/UDP and
    /// SIP/TCP (RFC 7118, RFC 3261, RFC 5626). Binds loopback only by default and prints the
    /// URLs it serves and the certificate WSS clients should trust.
    Serve(Box<serve::ServeArgs>),
    /// Run the reference client (a SIP WebSocket UA, RFC 7118 with Outbound and GRUU)
    /// against URL: register, message, options, call or listen.
    ///
    /// Exit status: 0 success, 1 the SIP operation failed (its status is printed), 2 usage
    /// error or the server unreachable (the URL and the reason are printed).
    Client(Box<client::ClientArgs>),
    /// Run the conformance suite against a target and print a verdict per case (pass, fail,
    /// warn, info, skip, error) with the requirement IDs it checks. Without a target URL the
    /// embedded reference server is started and tested.
    ///
    /// Exit status: 0 no failure, 1 at least one failure (or harness error), 2 usage error or
    /// target unreachable.
    Test(Box<test_cmd::TestArgs>),
    /// Parse a SIP message and print its parsed form as JSON, or the error and its byte offset.
    ///
    /// The input is framed as one WebSocket message (RFC 7118 §5) unless --datagram is given.
    /// Exit status: 0 parsed and valid, 1 refused (syntax or RFC 3261 checks), 2 usage error.
    Parse {
        /// File holding the message; `-` reads standard input.
        file: PathBuf,
        /// Frame as a UDP datagram: octets past Content-Length are discarded (RFC 3261 §18.3).
        #[arg(long)]
        datagram: bool,
    },
    /// Judge a WebSocket upgrade request as the reference server does (RFC 6455 §4.2,
    /// RFC 7118 §4.1) and print the exact HTTP answer: a 101 with `Sec-WebSocket-Protocol: sip`,
    /// or the refusal (400/403/404/426) and the requirement it enforces.
    ///
    /// Exit status: 0 accepted, 1 refused or incomplete, 2 usage error.
    Handshake {
        /// File holding the request head; `-` reads standard input.
        file: PathBuf,
        /// Serve only these resource paths (repeatable); others get 404.
        #[arg(long = "path")]
        paths: Vec<String>,
        /// Accept only these Origin values (repeatable); others get 403.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// Say what a SIP URI names as a next hop: transport, security, port, and whether it is
    /// the `transport=ws` "WS or WSS" case (RFC 7118 §5.2, §5.5).
    Uri {
        /// The URI, e.g. `sip:proxy.example.com:443;transport=ws;lr`.
        uri: String,
    },
    /// Generate or check the language-neutral JSON test vectors (one file per group),
    /// computed by the reference implementation's pure functions.
    Vectors(sipws::vectors::VectorsArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::serve(&args),
        Command::Client(args) => client::client(&args),
        Command::Test(args) => test_cmd::test(&args),
        Command::Parse { file, datagram } => inspect::parse(&file, datagram),
        Command::Handshake {
            file,
            paths,
            origins,
        } => inspect::handshake(&file, paths, origins),
        Command::Uri { uri } => inspect::uri(&uri),
        Command::Vectors(args) => Ok(sipws::vectors::run(&args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sipws: {e:#}");
            ExitCode::from(2)
        }
    }
}
