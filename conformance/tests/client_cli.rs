//! End to end: `sipws serve` on OS-chosen loopback ports, and `sipws client` against it —
//! listen over wss, message and call over ws, the trace, and the exit statuses (0 success,
//! 1 SIP failure, 2 usage error or unreachable server).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn sipws() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sipws"))
}

/// A child whose stdout lines arrive on a channel, killed when dropped.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(args: &[&str]) -> Running {
        let mut child = sipws()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sipws starts");
        let out = child.stdout.take().expect("stdout was piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `pred` (bounded by [`WAIT`]).
    fn until(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no {what} within {WAIT:?}; output so far: {:#?}", self.seen),
            }
        }
    }

    /// Waits (bounded) for the child to exit; its status code and the rest of its stdout.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the client did not exit: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only the child this test started, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `sipws client ...` to completion, bounded by [`WAIT`].
fn client(args: &[&str]) -> Output {
    let child = sipws()
        .arg("client")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipws client starts");
    let (tx, rx) = mpsc::channel();
    let id = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("sipws client {args:?} (pid {id}) did not exit in time"))
        .expect("output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Served {
    _server: Running,
    ws: String,
    wss: String,
    ca: PathBuf,
}

fn serve() -> Served {
    // One file per server: tests run in parallel in one process, and a client trusting
    // another server's CA fails its TLS handshake.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ca = std::env::temp_dir().join(format!(
        "sipws-client-cli-ca-{}-{n}.pem",
        std::process::id()
    ));
    let ca_arg = ca.to_str().expect("UTF-8 temp path").to_string();
    let mut server = Running::spawn(&[
        "serve",
        "--ws",
        "127.0.0.1:0",
        "--wss",
        "127.0.0.1:0",
        "--udp",
        "off",
        "--tcp",
        "off",
        "--ca-out",
        &ca_arg,
    ]);
    let ws = server.until("the ws URL", |l| l.trim_start().starts_with("ws://"));
    let wss = server.until("the wss URL", |l| l.trim_start().starts_with("wss://"));
    server.until("the start-up banner's end", |l| l.starts_with("Stop with"));
    Served {
        _server: server,
        ws: ws.trim().to_string(),
        wss: wss.trim().to_string(),
        ca,
    }
}

#[test]
fn client_listens_messages_and_calls_against_sipws_serve() {
    let s = serve();
    let ca = s.ca.to_str().expect("UTF-8 path");

    // bob listens over wss, trusting the CA `serve` wrote.
    let mut bob = Running::spawn(&["client", &s.wss, "--ca", ca, "listen", "bob", "--for", "2"]);
    let registered = bob.until("registered", |l| l.starts_with("registered "));
    assert!(registered.contains("sip:bob@127.0.0.1"), "{registered}");
    bob.until("a pub-gruu line", |l| {
        l.contains("pub-gruu: sip:bob@127.0.0.1;gr=urn:uuid:")
    });

    // alice sends a MESSAGE over ws, with the trace on.
    let o = client(&[
        &s.ws,
        "--user",
        "alice",
        "--trace",
        "message",
        "bob",
        "héllo ☃",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(
        text(&o.stdout).contains("MESSAGE sip:bob@127.0.0.1: 200 OK"),
        "{}",
        text(&o.stdout)
    );
    let trace = text(&o.stderr);
    assert!(trace.contains(">>> sent text frame"), "{trace}");
    assert!(trace.contains("<<< received text frame"), "{trace}");
    assert!(
        trace.contains("    MESSAGE sip:bob@127.0.0.1 SIP/2.0"),
        "{trace}"
    );
    let got = bob.until("the MESSAGE", |l| l.starts_with("MESSAGE from"));
    assert!(
        got.contains("sip:alice@127.0.0.1") && got.ends_with("héllo ☃"),
        "{got}"
    );

    // alice calls bob: INVITE, 200, ACK, BYE.
    let o = client(&[
        &s.ws,
        "--user",
        "alice",
        "call",
        "bob",
        "--hangup-after",
        "100",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("answered: 200"), "{out}");
    assert!(out.contains("BYE: 200"), "{out}");
    bob.until("the answered call", |l| {
        l.starts_with("answered call-1 with 200")
    });
    bob.until("the end of the call", |l| {
        l.contains("ended: the other side hung up")
    });

    // A SIP failure: exit 1 with the status.
    let o = client(&[&s.ws, "message", "nobody", "hi"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("MESSAGE failed: 404"),
        "{}",
        text(&o.stderr)
    );

    let (code, out) = bob.finish();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("unregistered sip:bob@127.0.0.1"), "{out}");
    let _ = std::fs::remove_file(&s.ca);
}

#[test]
fn unreachable_servers_and_usage_errors_exit_2_naming_the_fault() {
    // A port nobody listens on: bind, note, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let o = client(&[&url, "register", "alice"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("ws://127.0.0.1:{port}/")) && err.contains("TCP connection"),
        "{err}"
    );

    let o = client(&["wss://127.0.0.1:1", "register", "alice"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--ca FILE"), "{}", text(&o.stderr));

    let o = client(&["http://127.0.0.1:1", "register"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("ws://"), "{}", text(&o.stderr));

    let o = client(&["ws://127.0.0.1:1", "listen", "alice", "--user", "bob"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("given twice"),
        "{}",
        text(&o.stderr)
    );

    let o = client(&["ws://127.0.0.1:1"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a missing command is a usage error"
    );
    let o = client(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    for cmd in [
        "register",
        "message",
        "options",
        "call",
        "listen",
        "--trace",
        "--insecure",
    ] {
        assert!(text(&o.stdout).contains(cmd), "--help lists {cmd}");
    }
}

/// The suite against the reference server as an external target (a separate `sipws serve`
/// process, WSS trusted through the CA it wrote), configured by a `--profile` file: every case
/// passes or is skipped for the capability the profile does not give (no UDP here).
#[test]
fn test_with_a_profile_against_sipws_serve_passes() {
    let s = serve();
    let dir = std::env::temp_dir().join(format!("sipws-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let profile = dir.join("target.toml");
    std::fs::write(
        &profile,
        format!(
            "ws = \"{}\"\nwss = \"{}\"\nca = \"{}\"\ndomain = \"127.0.0.1\"\n",
            s.ws,
            s.wss,
            s.ca.display()
        ),
    )
    .expect("profile written");
    let json = dir.join("report.json");
    let out = sipws()
        .args([
            "test",
            "--profile",
            profile.to_str().expect("UTF-8 path"),
            "--json",
            json.to_str().expect("UTF-8 path"),
        ])
        .output()
        .expect("sipws test runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("report written")).expect("JSON");
    assert_eq!(report["target"], s.ws.as_str());
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["error"], 0);
    assert!(report["summary"]["pass"].as_u64().is_some_and(|n| n > 150));
    // No UDP in the profile, and this server has no TCP listener to forward with: those cases
    // are skipped, saying why. Outbound and two users are probed, not declared.
    let skipped: Vec<&serde_json::Value> = report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .filter(|v| v["outcome"] == "skip")
        .collect();
    assert!(!skipped.is_empty());
    assert!(skipped.iter().all(|v| {
        let m = v["message"].as_str().unwrap_or_default();
        m.starts_with("needs udp: no SIP/UDP address was given")
            || m.contains("did not forward the request to the harness's TCP")
            || m.starts_with("needs auth: no credentials were given")
    }));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sipws serve --auth-credentials FILE` demands digest authentication (RFC 3261 §22), the
/// `auth` cases of `sipws test` pass against it with the user's credentials, and
/// `sipws client --password` registers with the right password and fails with a wrong one.
#[test]
fn serve_with_auth_credentials_against_test_and_client() {
    let dir = std::env::temp_dir().join(format!("sipws-auth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let users = dir.join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\nusername = \"alice\"\npassword = \"wonderland\"\n",
    )
    .expect("credentials written");
    let mut server = Running::spawn(&[
        "serve",
        "--ws",
        "127.0.0.1:0",
        "--wss",
        "off",
        "--udp",
        "off",
        "--tcp",
        "off",
        "--auth-credentials",
        users.to_str().expect("UTF-8 path"),
    ]);
    let ws = server.until("the ws URL", |l| l.trim_start().starts_with("ws://"));
    let ws = ws.trim().to_string();
    server.until("the start-up banner's end", |l| l.starts_with("Stop with"));

    let out = sipws()
        .args([
            "test",
            &ws,
            "--tag",
            "subject:auth",
            "--auth-user",
            "alice",
            "--auth-password",
            "wonderland",
        ])
        .output()
        .expect("sipws test runs");
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("5 passed"), "{report}");

    let ok = sipws()
        .args([
            "client",
            &ws,
            "--password",
            "wonderland",
            "register",
            "alice",
        ])
        .output()
        .expect("sipws client runs");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("registered sip:alice@"));

    let wrong = sipws()
        .args(["client", &ws, "--password", "guess", "register", "alice"])
        .output()
        .expect("sipws client runs");
    assert_eq!(wrong.status.code(), Some(1));
    let said = format!("{}{}", text(&wrong.stdout), text(&wrong.stderr));
    assert!(said.contains("401") && said.contains("refused"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
