//! End-to-end tests of the `sipws` binary's inspectors: exit codes and output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sipws(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sipws binary was built by cargo for this test");
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(stdin)
        .expect("writing to sipws");
    child.wait_with_output().expect("sipws runs to completion")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const REGISTER: &[u8] = b"REGISTER sip:proxy.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:f81-7dec-14a06cf1>\"\r\n\
\r\n";

#[test]
fn help_lists_the_subcommands_that_exist() {
    let o = sipws(&["--help"], b"");
    assert!(o.status.success());
    let out = stdout(&o);
    for cmd in ["parse", "handshake", "uri"] {
        assert!(out.contains(cmd), "--help should list {cmd}: {out}");
    }
}

#[test]
fn parse_prints_the_parsed_message_as_json() {
    let o = sipws(&["parse", "-"], REGISTER);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["result"], "valid");
    assert_eq!(v["message"]["start"]["request"]["method"], "REGISTER");
}

#[test]
fn parse_reports_the_error_and_its_offset_with_exit_1() {
    let o = sipws(
        &["parse", "-"],
        b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: x OPTIONS\r\n\r\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["result"], "invalid");
    assert_eq!(v["stage"], "parse");
    assert_eq!(v["offset"], 31);
    assert!(v["error"].as_str().unwrap_or_default().contains("CSeq"));
}

#[test]
fn parse_reports_rfc3261_checks_with_the_status_they_call_for() {
    let o = sipws(
        &["parse", "-"],
        b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["stage"], "validate");
    assert_eq!(v["status"], 400);
}

#[test]
fn parse_datagram_discards_trailing_octets_but_ws_framing_refuses_them() {
    let msg = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: sip:a@b\r\nFrom: sip:c@d;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\nextra";
    assert_eq!(
        sipws(&["parse", "--datagram", "-"], msg).status.code(),
        Some(0)
    );
    let o = sipws(&["parse", "-"], msg);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("one WebSocket message carries exactly one SIP message"));
}

#[test]
fn parse_of_a_missing_file_is_a_usage_error() {
    let o = sipws(&["parse", "/nonexistent/sipws-test-file"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/sipws-test-file"));
}

#[test]
fn req_7118_4_1_b_handshake_accepts_the_rfc_example() {
    let req = b"GET / HTTP/1.1\r\nHost: sip-ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://www.example.com\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let o = sipws(&["handshake", "-"], req);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
    );
}

#[test]
fn req_7936_2_a_handshake_refuses_upper_case_sip_naming_the_requirement() {
    let req = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SIP\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let o = sipws(&["handshake", "-"], req);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("HTTP/1.1 400 "));
    assert!(!stdout(&o).contains("Sec-WebSocket-Protocol: sip"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("7118-4.1-c"));
}

#[test]
fn req_6455_4_2_2_c_handshake_policy_flags() {
    let req = b"GET /other HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let o = sipws(&["handshake", "--path", "/ws", "-"], req);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("HTTP/1.1 404 "));
}

#[test]
fn req_7118_5_2_a_uri_reports_the_ws_or_wss_ambiguity() {
    let o = sipws(&["uri", "sip:proxy.example.com:443;transport=ws;lr"], b"");
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["target"]["transport"]["kind"], "ws-or-wss");
    assert_eq!(v["target"]["port"], 443);
    let o = sipws(&["uri", "sips:h;transport=ws"], b"");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["target"]["transport"]["value"], "wss");
    assert_eq!(v["target"]["port"], 443);
    assert_eq!(sipws(&["uri", "sip:bad host"], b"").status.code(), Some(1));
}

#[test]
fn test_runs_the_suite_against_the_embedded_server_and_passes() {
    let dir = std::env::temp_dir().join(format!("sipws-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("report.json");
    let junit = dir.join("report.xml");
    let o = sipws(
        &[
            "test",
            "--json",
            json.to_str().expect("utf-8 path"),
            "--junit",
            junit.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("PASS  subprotocol/upper-case-sip-only"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("valid JSON");
    assert_eq!(v["summary"]["fail"], 0);
    assert!(v["verdicts"].as_array().is_some_and(|a| !a.is_empty()));
    // Each requirement cited comes with its clause and text, in both reports.
    let text = &sipws::catalogue::lookup("7936-2-a")
        .expect("7936-2-a is in the catalogue")
        .text;
    assert_eq!(v["requirements"]["7936-2-a"]["clause"], "RFC 7936 §2");
    assert_eq!(v["requirements"]["7936-2-a"]["text"], text.as_str());
    let cited: std::collections::BTreeSet<&str> = v["verdicts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["reqs"].as_array().into_iter().flatten())
        .filter_map(|r| r.as_str())
        .collect();
    for id in &cited {
        assert!(
            v["requirements"][id]["text"].is_string(),
            "{id} has no text in the JSON report"
        );
    }
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("<testsuites name=\"sipws\""));
    assert!(
        xml.contains("<property name=\"requirement\" value=\"7936-2-a — RFC 7936 §2: "),
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_with_no_matching_case_is_a_usage_error() {
    let o = sipws(&["test", "--case", "no-such-subject/"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no case matches"));
}

#[test]
fn test_against_an_unreachable_target_exits_2_naming_the_url() {
    // Bind and drop a listener: its port is then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback port")
        .port();
    let url = format!("ws://127.0.0.1:{port}/");
    let o = sipws(&["test", &url], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&url));
}

#[test]
fn test_list_shows_the_selected_cases() {
    let o = sipws(&["test", "--list", "--tag", "req:7936-2-a"], b"");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("subprotocol/upper-case-sip-only"));
    assert!(!out.contains("handshake/post-is-refused"));
}

#[test]
fn test_list_names_each_requirement_with_its_clause_and_text() {
    let o = sipws(&["test", "--list", "--case", "subprotocol/sip-alone"], b"");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let text = &sipws::catalogue::lookup("7118-4.1-b")
        .expect("7118-4.1-b is in the catalogue")
        .text;
    assert!(!text.is_empty());
    assert!(
        out.lines()
            .any(|l| l == format!("    7118-4.1-b — RFC 7118 §4.1: {text}")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("    6455-4.2.2-d — RFC 6455 §4.2.2 (4 /subprotocol/), 4.3: ")),
        "{out}"
    );
    assert!(!out.contains("not in the requirement catalogue"), "{out}");
}

#[test]
fn a_mistyped_capability_is_a_usage_error_naming_the_known_ones() {
    // Port 9 of loopback: the run must stop before any connection is tried.
    let o = sipws(
        &["test", "ws://127.0.0.1:9/", "--capability", "outbond"],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown capability \"outbond\"") && err.contains("flow-token"),
        "{err}"
    );
}
