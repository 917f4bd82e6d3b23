//! JsSIP and SIP.js as real peers of the reference server: a JsSIP UA (alice) and
//! a SIP.js UA (bob) register, exchange MESSAGEs with a non-ASCII body both ways, make four
//! calls (INVITE/180/200/ACK, then BYE; each library calls, each end hangs up once) and
//! unregister, through one `sipws` server running in this process over ws and over wss.
//!
//! - In Node (`tests/interop/js/node.mjs`): the `ws` package is the WebSocket, stand-in SDP
//!   handlers make and check the offer/answer (Node has no WebRTC). Over wss the server's
//!   generated CA is trusted for real (the `ws` TLS `ca` option), not switched off.
//! - In headless Chromium (`tests/interop/js/browser.mjs`, playwright-core driving
//!   `/usr/bin/chromium`, the page served from 127.0.0.1): the browser's own WebSocket stack
//!   (it sends `Origin` and offers permessage-deflate) and real WebRTC with fake devices, up
//!   to ICE and DTLS connecting. Over wss the script verifies the certificate against the CA, then
//!   lets Chromium accept that one key (`--ignore-certificate-errors-spki-list`).
//!
//! The scripts (tests/interop/js/flow.mjs) fail a step on its timeout or when any WebSocket
//! closes during it (both libraries reconnect silently, which would hide a drop); they
//! print `PASS <step>` per step and `DONE`. This test checks every expected step passed in
//! order and that the location service is empty afterwards. Output and SIP traces go to
//! `target/interop/js-<test>.{log,stderr.log}`.
//!
//! Requirements exercised end to end: 7118-4.1-b (101 selects `sip`), 6455-4.2.2-e (the
//! browser's and `ws`'s permessage-deflate offers are declined), 7118-A.1-a (any Origin is
//! accepted by default), 7118-4.2-b (UTF-8 messages travel as text frames: JsSIP and SIP.js
//! read them as text), 7118-5-b, 7118-B.2-b and 3261-12.1.2-a (Record-Route keeps the proxy
//! in both directions of every dialog), 5626-5.1-a (Outbound flows to the WS clients).
//!
//! Skipped with a loud message when node, the pinned Node packages
//! (tests/interop/install-node.sh) or, for the browser tests, /usr/bin/chromium are absent;
//! a failure instead with `SIPWS_INTEROP=required`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sipws_reference::net::{Listen, Server, ServerConfig, ServerHandle};
use sipws_tests::interop::{
    executable, file_tail, interop_dir, kill_process_group, report_dir, require, write_matrix_rows,
};

/// The system Chromium (Debian's package); playwright-core never downloads one.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole script, at most; the scripts' own limits are shorter (45 s Node, 60 s browser)
/// and every step's is 10 s, so this only catches a script that hangs outside them.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);
/// The AoR domain: the server's default, its advertised address.
const DOMAIN: &str = "127.0.0.1";

/// The steps every run must pass, in order (flow.mjs names them).
const FLOW_STEPS: &[&str] = &[
    "jssip alice registers (200 accepted by JsSIP)",
    "sipjs bob registers (200 accepted by SIP.js)",
    "MESSAGE jssip->sipjs arrives with its UTF-8 body intact",
    "MESSAGE sipjs->jssip arrives with its UTF-8 body intact",
    "call jssip->sipjs (caller hangs up): INVITE, 180, 200, ACK",
    "call jssip->sipjs (caller hangs up): media connects (ICE, DTLS)",
    "call jssip->sipjs (caller hangs up): BYE from the caller, jssip",
    "call jssip->sipjs (callee hangs up): INVITE, 180, 200, ACK",
    "call jssip->sipjs (callee hangs up): media connects (ICE, DTLS)",
    "call jssip->sipjs (callee hangs up): BYE from the callee, sipjs",
    "call sipjs->jssip (caller hangs up): INVITE, 180, 200, ACK",
    "call sipjs->jssip (caller hangs up): media connects (ICE, DTLS)",
    "call sipjs->jssip (caller hangs up): BYE from the caller, sipjs",
    "call sipjs->jssip (callee hangs up): INVITE, 180, 200, ACK",
    "call sipjs->jssip (callee hangs up): media connects (ICE, DTLS)",
    "call sipjs->jssip (callee hangs up): BYE from the callee, jssip",
    "jssip alice unregisters",
    "sipjs bob unregisters",
    "nothing unexpected arrived and no WebSocket was reopened",
];

/// Only in the browser: the handshake check on what Chromium's network stack sent.
const BROWSER_HANDSHAKE_STEP: &str =
    "browser handshakes: Origin sent, permessage-deflate offered and declined, sip selected";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Node,
    Chromium,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Ws,
    Wss,
}

/// `node`, with tests/interop/node_modules holding exactly the pinned packages.
fn find_node() -> Result<PathBuf, String> {
    let node = executable("node", "--version")?;
    let out = Command::new(&node)
        .arg(interop_dir().join("js/check-install.mjs"))
        .output()
        .map_err(|e| format!("{}: {e}", node.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the pinned Node packages are not installed: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(node)
}

/// What a run needs, or why it is skipped.
fn find_peers(runtime: Runtime) -> Result<PathBuf, String> {
    let node = find_node()?;
    if runtime == Runtime::Chromium {
        executable(CHROMIUM, "--version")?;
    }
    Ok(node)
}

/// The reference server on 127.0.0.1, ws and wss on OS-chosen ports, default domain.
struct RunningServer {
    rt: tokio::runtime::Runtime,
    handle: ServerHandle,
    url: String,
    ca: Option<PathBuf>,
}

fn start_server(
    scheme: Scheme,
    name: &str,
    tweak: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the server");
    let mut config = ServerConfig::loopback_ephemeral();
    config.listen.udp = Listen::Off;
    config.listen.tcp = Listen::Off;
    tweak(&mut config);
    let server = rt
        .block_on(Server::bind(config))
        .expect("the reference server binds 127.0.0.1:0");
    assert_eq!(
        server.domains(),
        [DOMAIN.to_string()],
        "the default domain is the advertised address"
    );
    let addrs = server.addrs();
    let (url, ca) = match scheme {
        Scheme::Ws => {
            let a = addrs.ws.expect("ws listener on by default");
            (format!("ws://{DOMAIN}:{}", a.port()), None)
        }
        Scheme::Wss => {
            let a = addrs.wss.expect("wss listener on by default");
            let pem = server.ca_pem().expect("a generated CA with a wss listener");
            let path = report_dir().join(format!("js-{name}-ca.pem"));
            std::fs::write(&path, pem).expect("write the CA for the scripts");
            (format!("wss://{DOMAIN}:{}", a.port()), Some(path))
        }
    };
    let handle = {
        let _guard = rt.enter();
        server.spawn()
    };
    RunningServer {
        rt,
        handle,
        url,
        ca,
    }
}

/// What the script printed on stdout, and how it ended.
struct Run {
    lines: Vec<String>,
    success: bool,
    status: String,
    stderr_log: PathBuf,
}

/// Runs `node <script> --url … --domain … [--ca …]` in tests/interop, streaming its stdout
/// into `target/interop/js-<name>.log`; kills its process group (node and the Chromium it
/// started) if it outlives RUN_TIMEOUT.
fn run_script(node: &Path, script: &str, name: &str, server: &RunningServer) -> Run {
    let dir = report_dir();
    let stderr_log = dir.join(format!("js-{name}.stderr.log"));
    let stderr = File::create(&stderr_log).expect("create the stderr log");
    let mut cmd = Command::new(node);
    cmd.current_dir(interop_dir())
        .arg(format!("js/{script}"))
        .args(["--url", &server.url, "--domain", DOMAIN])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        // Its own process group: a timeout stops Chromium with it.
        .process_group(0);
    if let Some(ca) = &server.ca {
        cmd.arg("--ca").arg(ca);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start {}: {e}", node.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let mut lines = Vec::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                eprintln!("[{name}] {line}");
                lines.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                kill_process_group(child.id());
                break;
            }
        }
    }
    let status = child.wait().expect("wait for the script");
    let _ = reader.join();
    let log = dir.join(format!("js-{name}.log"));
    std::fs::write(&log, lines.join("\n") + "\n").expect("write the run log");
    Run {
        success: status.success() && !timed_out,
        status: if timed_out {
            format!("killed after {RUN_TIMEOUT:?}")
        } else {
            status.to_string()
        },
        lines,
        stderr_log,
    }
}

/// The steps a run must pass, in order.
fn expected_steps(runtime: Runtime) -> Vec<&'static str> {
    let mut steps: Vec<&str> = FLOW_STEPS
        .iter()
        .copied()
        .filter(|s| runtime == Runtime::Chromium || !s.ends_with("media connects (ICE, DTLS)"))
        .collect();
    if runtime == Runtime::Chromium {
        steps.push(BROWSER_HANDSHAKE_STEP);
    }
    steps
}

fn interop(runtime: Runtime, scheme: Scheme, name: &str) {
    let Some(node) = require(name, find_peers(runtime)) else {
        return;
    };
    let started = Instant::now();
    let server = start_server(scheme, name, |_| {});
    let script = match runtime {
        Runtime::Node => "node.mjs",
        Runtime::Chromium => "browser.mjs",
    };
    let run = run_script(&node, script, name, &server);
    let failure = run.lines.iter().find(|l| l.starts_with("FAIL "));
    assert!(
        run.success && failure.is_none(),
        "{name}: {script} ended with {}: {}\n--- last lines of {} (SIP traces) ---\n{}",
        run.status,
        failure.map_or("no FAIL line", String::as_str),
        run.stderr_log.display(),
        file_tail(&run.stderr_log, 60)
    );
    let passed: Vec<&str> = run
        .lines
        .iter()
        .filter_map(|l| l.strip_prefix("PASS "))
        .collect();
    assert_eq!(
        passed,
        expected_steps(runtime),
        "{name}: the steps passed are not the expected ones"
    );
    assert_eq!(
        run.lines.last().map(String::as_str),
        Some("DONE"),
        "{name}: the script did not finish"
    );
    // Both libraries reported their un-REGISTER answered: the location service is empty.
    let bindings = server.rt.block_on(server.handle.binding_count());
    assert_eq!(bindings, 0, "{name}: bindings left after both unregistered");
    server.rt.block_on(server.handle.shutdown());
    eprintln!("{name}: passed in {:?}", started.elapsed());
    let (place, transport) = match (runtime, scheme) {
        (Runtime::Node, Scheme::Ws) => ("Node 20 + ws", "ws"),
        (Runtime::Node, Scheme::Wss) => ("Node 20 + ws", "wss"),
        (Runtime::Chromium, Scheme::Ws) => ("Chromium (WebRTC)", "ws"),
        (Runtime::Chromium, Scheme::Wss) => ("Chromium (WebRTC)", "wss"),
    };
    let media = if runtime == Runtime::Chromium {
        "ICE and DTLS up, "
    } else {
        "stand-in SDP, "
    };
    write_matrix_rows(
        &format!("js-{name}"),
        &[format!(
            "| JsSIP 3.13.8 and SIP.js 0.21.2 in {place} against `sipws serve`, {transport} | \
             register, MESSAGE both ways (UTF-8 intact), 4 calls ({media}BYE from either \
             end), unregister, no reconnect | – | – | – | – | – |"
        )],
    );
}

/// A run that must fail: `FAIL step "<step>" failed: <why…>`, nothing passed after it.
fn interop_fails(
    name: &str,
    scheme: Scheme,
    tweak: impl FnOnce(&mut ServerConfig),
    drop_ca: bool,
    step: &str,
    why: &str,
) {
    let Some(node) = require(name, find_peers(Runtime::Node)) else {
        return;
    };
    let mut server = start_server(scheme, name, tweak);
    if drop_ca {
        server.ca = None;
    }
    let run = run_script(&node, "node.mjs", name, &server);
    let expected = format!("FAIL step \"{step}\" failed: {why}");
    assert!(
        !run.success,
        "{name}: the script succeeded; it must fail at {step:?}"
    );
    assert!(
        run.lines.last().is_some_and(|l| l.starts_with(&expected)),
        "{name}: the last line must start with {expected:?}; got:\n{}",
        run.lines.join("\n")
    );
    assert!(
        !run.lines
            .iter()
            .any(|l| l.strip_prefix("PASS ") == Some(step)),
        "{name}: {step:?} passed"
    );
    server.rt.block_on(server.handle.shutdown());
}

/// The harness has teeth: over wss without the CA, `ws` refuses the certificate (TLS
/// verification is on), the connection drops, and the first step fails naming the drop.
#[test]
fn node_wss_without_the_ca_fails_the_first_step_on_the_drop() {
    interop_fails(
        "node-wss-untrusted",
        Scheme::Wss,
        |_| {},
        true,
        FLOW_STEPS[0],
        "WebSocket dropped: WebSocket #1 to wss://",
    );
}

/// The harness has teeth: a server that takes one connection only closes SIP.js's at
/// accept; SIP.js would retry silently, but its step fails on the drop.
#[test]
fn node_ws_second_connection_dropped_fails_the_sipjs_step() {
    interop_fails(
        "node-ws-one-connection",
        Scheme::Ws,
        |c| c.limits.max_connections = 1,
        false,
        FLOW_STEPS[1],
        "WebSocket dropped: ",
    );
}

/// JsSIP and SIP.js in Node, over ws.
#[test]
fn jssip_sipjs_node_ws_register_message_call_7118_4_1_b_7118_b_2_b() {
    interop(Runtime::Node, Scheme::Ws, "node-ws");
}

/// JsSIP and SIP.js in Node, over wss with the generated CA trusted.
#[test]
fn jssip_sipjs_node_wss_register_message_call_7118_4_1_b_7118_b_2_b() {
    interop(Runtime::Node, Scheme::Wss, "node-wss");
}

/// JsSIP and SIP.js in headless Chromium with WebRTC, over ws: Origin and
/// permessage-deflate from a real browser (7118-A.1-a, 6455-4.2.2-e).
#[test]
fn jssip_sipjs_chromium_ws_register_message_call_6455_4_2_2_e_7118_a_1_a() {
    interop(Runtime::Chromium, Scheme::Ws, "chromium-ws");
}

/// JsSIP and SIP.js in headless Chromium with WebRTC, over wss.
#[test]
fn jssip_sipjs_chromium_wss_register_message_call_6455_4_2_2_e_7118_a_1_a() {
    interop(Runtime::Chromium, Scheme::Wss, "chromium-wss");
}
