//! Kamailio (Debian's packages, configured by tests/interop/kamailio/kamailio.cfg) as a real
//! peer: the whole conformance suite against it over ws and wss, and two reference clients
//! registering and exchanging MESSAGEs through it.
//!
//! The suite's verdicts are Kamailio's, not ours to tune: the test asserts that the run
//! completes without harness errors, that every `fail` and `warn` carries the evidence
//! (the bytes exchanged) that backs it, and that every verdict is the one pinned in
//! `tests/verdicts/kamailio.tsv`. The full report goes to `target/interop/`
//! (`kamailio-suite.json`, `kamailio-suite.txt`) and the README's interop matrix row to
//! `target/interop/matrix/`.
//!
//! Skipped with a loud message when Kamailio is not installed (tests/interop/install.sh);
//! a failure instead with `SIPWS_INTEROP=required`.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sipws::report::{console, write_json};
use sipws::runner::{RunOptions, run};
use sipws::suite::load;
use sipws::target::{Target, Trust, parse_url};
use sipws::verdict::{Outcome, Report, Tally, Verdict};
use sipws_reference::net::client::{Client, ClientOptions};
use sipws_reference::net::tls::generate_pem;
use sipws_reference::ua::UaEvent;
use sipws_tests::interop::{
    executable, file_tail, free_tcp_port, interop_dir, kill_process_group, report_dir, require,
    write_matrix_rows,
};

/// Where Debian's amd64 packages put the modules (the configuration's `mpath`).
const MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";
/// The SIP domain the configuration serves (`alias`).
const DOMAIN: &str = "127.0.0.1";
/// How long Kamailio may take to open its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Any single SIP exchange through Kamailio.
const WAIT: Duration = Duration::from_secs(5);

/// The kamailio binary, with the modules the configuration loads.
fn find_kamailio() -> Result<PathBuf, String> {
    let bin = executable("kamailio", "-v")?;
    for module in ["websocket.so", "tls.so", "xhttp.so", "nathelper.so"] {
        let path = Path::new(MODULES).join(module);
        if !path.is_file() {
            return Err(format!(
                "{} is missing (packages kamailio-websocket-modules, kamailio-tls-modules)",
                path.display()
            ));
        }
    }
    Ok(bin)
}

/// A Kamailio started in the foreground on free loopback ports, stopped on drop.
struct Kamailio {
    child: Child,
    dir: PathBuf,
    udp: u16,
    ws: u16,
    wss: u16,
    ca_pem: String,
}

impl Kamailio {
    /// Start with fresh ports; a port taken between choosing and binding it makes Kamailio
    /// exit at once, so a failed start is retried twice with other ports.
    fn start(bin: &Path, name: &str) -> Kamailio {
        let mut last = String::new();
        for attempt in 0..3 {
            match Kamailio::try_start(bin, &format!("{name}-{attempt}")) {
                Ok(k) => return k,
                Err(e) => last = e,
            }
        }
        panic!("Kamailio does not start: {last}");
    }

    fn try_start(bin: &Path, name: &str) -> Result<Kamailio, String> {
        let dir = report_dir().join(format!("kamailio-{name}-{}", std::process::id()));
        let run_dir = dir.join("run");
        std::fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
        let pem = generate_pem(&[]).map_err(|e| e.to_string())?;
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok::<PathBuf, String>(path)
        };
        let cert = write("cert.pem", &pem.cert_pem)?;
        let key = write("key.pem", &pem.key_pem)?;
        // The tls module's own file format; the server side only (clients are ours).
        let tls_cfg = write(
            "tls.cfg",
            &format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n\
                 require_certificate = no\nprivate_key = {}\ncertificate = {}\n",
                key.display(),
                cert.display()
            ),
        )?;
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|s| s.local_addr())
            .map_err(|e| format!("no free UDP port: {e}"))?
            .port();
        let ws = free_tcp_port().map_err(|e| format!("no free TCP port: {e}"))?;
        let wss = free_tcp_port().map_err(|e| format!("no free TCP port: {e}"))?;
        let log_path = dir.join("kamailio.log");
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("-DD") // foreground: the test owns the process and stops it by its pid
            .arg("-E") // log to stderr, into kamailio.log
            .arg("-f")
            .arg(interop_dir().join("kamailio/kamailio.cfg"))
            .arg("-Y")
            .arg(&run_dir)
            .arg("-P")
            .arg(run_dir.join("kamailio.pid"))
            .args(["-m", "64", "-M", "8"])
            .arg("-A")
            .arg(format!("UDP_PORT={udp}"))
            .arg("-A")
            .arg(format!("WS_PORT={ws}"))
            .arg("-A")
            .arg(format!("WSS_PORT={wss}"))
            .arg("-A")
            .arg(format!("TLS_CFG=\"{}\"", tls_cfg.display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: the workers it forks are stopped with it.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut k = Kamailio {
            child,
            dir,
            udp,
            ws,
            wss,
            ca_pem: pem.ca_pem,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = k.child.try_wait() {
                return Err(format!("kamailio exited with {status}:\n{}", k.log_tail()));
            }
            let up = |port| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok();
            if up(ws) && up(wss) {
                return Ok(k);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no listener on {ws}/{wss} after {START_TIMEOUT:?}:\n{}",
                    k.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        file_tail(&self.dir.join("kamailio.log"), 30)
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws)
    }

    fn wss_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.wss)
    }
}

impl Drop for Kamailio {
    /// SIGTERM to the main process (it stops its workers), then SIGKILL to the whole group
    /// for anything left.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_process_group(self.child.id());
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A fail or warn is backed by evidence: the bytes exchanged, or the answer observed.
fn has_evidence(v: &Verdict) -> bool {
    v.evidence.iter().any(|t| !t.0.is_empty()) || v.observed.is_some()
}

/// One README interop-matrix row with the suite's counts.
fn matrix_row(row: &str, t: &Tally) -> String {
    format!(
        "| {row} | the suite runs to the end | {} | {} | {} | {} | {} |",
        t.pass, t.fail, t.warn, t.info, t.skip
    )
}

/// The whole suite against Kamailio (ws for most cases, wss for the `@needs:wss` ones, UDP
/// for the cross-transport ones), given only the URLs and the domain: what Kamailio can do
/// is probed (registration is open, so two users register; its packages here have no
/// Outbound module configured, so the `@needs:outbound` cases are skipped, saying so).
#[test]
fn interop_kamailio_conformance_suite_over_ws_and_wss() {
    let Some(bin) = require("interop_kamailio_conformance_suite", find_kamailio()) else {
        return;
    };
    let k = Kamailio::start(&bin, "suite");
    let target = Target {
        label: format!("Kamailio 5.6 ({} and {})", k.ws_url(), k.wss_url()),
        ws: Some(parse_url(&k.ws_url()).expect("a ws URL")),
        wss: Some(parse_url(&k.wss_url()).expect("a wss URL")),
        trust: Trust::CaPem(k.ca_pem.clone()),
        domain: DOMAIN.to_string(),
        udp: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, k.udp))),
        timeout: Duration::from_secs(1),
        capabilities: Vec::new(),
        auth: None,
    };
    let cases = load().expect("the features load");
    let started = Instant::now();
    let run = runtime().block_on(run(cases, Arc::new(target.clone()), RunOptions::default()));
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = Report::new(target.label.clone(), elapsed, run.verdicts)
        .with_profile(run.profile)
        .with_notes(run.notes);

    let dir = report_dir();
    let mut json = Vec::new();
    write_json(&report, &mut json).expect("the JSON report serialises");
    std::fs::write(dir.join("kamailio-suite.json"), &json).expect("write the JSON report");
    let mut text = Vec::new();
    console::write(&report, true, &mut text).expect("the summary renders");
    std::fs::write(dir.join("kamailio-suite.txt"), &text).expect("write the summary");
    print!("{}", String::from_utf8_lossy(&text));

    // Rows per transport: the cases that need WSS make the wss row, the rest the ws row.
    let mut ws = Tally::default();
    let mut wss = Tally::default();
    for v in &report.verdicts {
        if v.case.needs.iter().any(|n| n == "wss") {
            wss.add(v.outcome);
        } else {
            ws.add(v.outcome);
        }
    }
    write_matrix_rows(
        "kamailio-suite",
        &[
            matrix_row("Kamailio 5.6 as target, ws (`sipws test`)", &ws),
            matrix_row("Kamailio 5.6 as target, wss (`@needs:wss` cases)", &wss),
        ],
    );

    let errors: Vec<String> = report
        .verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Error)
        .map(|v| format!("{}: {}", v.case.id, v.message))
        .collect();
    assert!(
        errors.is_empty(),
        "harness errors against Kamailio:\n{}",
        errors.join("\n")
    );
    let unbacked: Vec<&str> = report
        .verdicts
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Fail | Outcome::Warn) && !has_evidence(v))
        .map(|v| v.case.id.as_str())
        .collect();
    assert!(
        unbacked.is_empty(),
        "fail/warn verdicts without evidence: {unbacked:?}"
    );
    assert!(
        report.summary.pass > 0,
        "Kamailio passed nothing: the run did not reach it"
    );
    // Every verdict on this real server is pinned (tests/verdicts/kamailio.tsv): a change of
    // the suite that flips one fails here until the table, and the reason, are updated.
    if let Err(diff) = sipws_tests::verdicts::check("kamailio.tsv", &report.verdicts) {
        panic!("{diff}");
    }
}

async fn client(url: &str, user: &str, ca: &str) -> Client {
    let mut o = ClientOptions::new(url, &format!("sip:{user}@{DOMAIN}")).expect("valid options");
    if url.starts_with("wss:") {
        o.trust = Some(Trust::CaPem(ca.to_string()));
    }
    Client::connect(o).await.expect("the client connects")
}

async fn received_message(c: &Client) -> Vec<u8> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match c.next_event(left).await {
            Some(sipws_reference::net::client::ClientEvent::Ua(UaEvent::MessageReceived {
                body,
                ..
            })) => return body,
            Some(_) => continue,
            None => panic!("{}: no MESSAGE within {WAIT:?}", c.aor()),
        }
    }
}

/// Two reference clients register through Kamailio, exchange MESSAGEs with non-ASCII
/// bodies both ways, and unregister (RFC 7118 §4.2, §5).
async fn two_clients_through(url: &str, ca: &str) {
    let alice = client(url, "alice", ca).await;
    let bob = client(url, "bob", ca).await;
    for c in [&alice, &bob] {
        tokio::time::timeout(WAIT, c.register())
            .await
            .expect("REGISTER answered in time")
            .unwrap_or_else(|e| panic!("{}: register through Kamailio: {e}", c.aor()));
    }
    for (from, to, text) in [
        (&alice, &bob, "Grüße an Bob, 東京 ✓"),
        (&bob, &alice, "¡Hola, Alice! ☎"),
    ] {
        let reply = tokio::time::timeout(
            WAIT,
            from.message(to.aor(), "text/plain;charset=utf-8", text),
        )
        .await
        .expect("MESSAGE answered in time")
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", from.aor(), to.aor()));
        assert_eq!(reply.status, 200, "{} -> {}", from.aor(), to.aor());
        assert_eq!(
            received_message(to).await,
            text.as_bytes(),
            "the body arrives byte for byte"
        );
    }
    for c in [&alice, &bob] {
        tokio::time::timeout(WAIT, c.unregister())
            .await
            .expect("unREGISTER answered in time")
            .unwrap_or_else(|e| panic!("{}: unregister: {e}", c.aor()));
    }
    alice.close().await;
    bob.close().await;
}

fn clients_row(transport: &str) -> String {
    format!(
        "| Kamailio 5.6 as proxy for two `sipws client`s, {transport} | register, MESSAGE both \
         ways (UTF-8 bodies intact), unregister | – | – | – | – | – |"
    )
}

#[test]
fn interop_kamailio_reference_clients_register_and_message_over_ws() {
    let Some(bin) = require("interop_kamailio_reference_clients_ws", find_kamailio()) else {
        return;
    };
    let k = Kamailio::start(&bin, "clients-ws");
    runtime().block_on(two_clients_through(&k.ws_url(), &k.ca_pem));
    write_matrix_rows("kamailio-clients-ws", &[clients_row("ws")]);
}

#[test]
fn interop_kamailio_reference_clients_register_and_message_over_wss() {
    let Some(bin) = require("interop_kamailio_reference_clients_wss", find_kamailio()) else {
        return;
    };
    let k = Kamailio::start(&bin, "clients-wss");
    runtime().block_on(two_clients_through(&k.wss_url(), &k.ca_pem));
    write_matrix_rows("kamailio-clients-wss", &[clients_row("wss")]);
}
