//! The inspectors: run one reference function on user input and print what it decided.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use sipws_reference::sip::{Message, SipUri};
use sipws_reference::transport::uri_target;
use sipws_reference::ws::{OriginPolicy, Policy, ServerStep, accept_bytes};

pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn print(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn parse(path: &Path, datagram: bool) -> Result<ExitCode> {
    let input = read_input(path)?;
    let parsed = if datagram {
        Message::parse_datagram(&input)
    } else {
        Message::parse(&input)
    };
    match parsed {
        Err(e) => {
            print(&json!({
                "result": "invalid",
                "stage": "parse",
                "error": e.to_string(),
                "offset": e.offset,
            }))?;
            Ok(ExitCode::from(1))
        }
        Ok(m) => match m.validate() {
            Err(e) => {
                print(&json!({
                    "result": "invalid",
                    "stage": "validate",
                    "error": e.to_string(),
                    "status": e.status(),
                    "message": m,
                }))?;
                Ok(ExitCode::from(1))
            }
            Ok(()) => {
                print(&json!({ "result": "valid", "message": m }))?;
                Ok(ExitCode::SUCCESS)
            }
        },
    }
}

pub fn uri(text: &str) -> Result<ExitCode> {
    match SipUri::parse(text) {
        Err(e) => {
            print(&json!({
                "result": "invalid",
                "error": e.to_string(),
                "offset": e.offset,
            }))?;
            Ok(ExitCode::from(1))
        }
        Ok(u) => {
            print(&json!({ "result": "valid", "uri": u, "target": uri_target(&u) }))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn handshake(path: &Path, paths: Vec<String>, origins: Vec<String>) -> Result<ExitCode> {
    let input = read_input(path)?;
    let policy = Policy {
        resource_paths: (!paths.is_empty()).then_some(paths),
        origins: if origins.is_empty() {
            OriginPolicy::Any
        } else {
            OriginPolicy::Only {
                origins,
                allow_absent: false,
            }
        },
        ..Policy::default()
    };
    match accept_bytes(&input, &policy) {
        ServerStep::NeedMore => {
            eprintln!("sipws: the request head is incomplete (no blank line ends it)");
            Ok(ExitCode::from(1))
        }
        ServerStep::Accept { accepted, .. } => {
            print!("{}", String::from_utf8_lossy(&accepted.to_bytes()));
            Ok(ExitCode::SUCCESS)
        }
        ServerStep::Reject(rejected) => {
            print!("{}", String::from_utf8_lossy(&rejected.to_bytes()));
            eprintln!(
                "sipws: refused ({}): {}",
                rejected.requirement(),
                rejected.reason().summary()
            );
            Ok(ExitCode::from(1))
        }
    }
}
