//! Whole-wire invariants: rules every frame and SIP message the target sends must keep, in
//! every case, whatever the case's own steps look at. They are judged after a case over what
//! each connection sent and read, each with its own requirement ID, so a target that answers a
//! MESSAGE twice, or packs a 100 Trying and the final response into one WebSocket message,
//! fails the case in which it did so.

use std::collections::HashMap;

use sipws_reference::sip::ErrorKind;
use sipws_reference::sip::{Message, Method, Via};

use crate::judge::record_route::transport_of;
use crate::verdict::{Level, Violation};
use crate::wire::RawFrame;

fn must(req: &'static str, message: String) -> Violation {
    Violation {
        req,
        level: Level::Must,
        message,
    }
}

/// What one connection of a case carried.
pub struct Connection<'a> {
    pub name: &'a str,
    /// `wss://`: the target's own Via on requests it sends here says WSS (RFC 7118 §5.1).
    pub secure: bool,
    /// The frames the harness wrote, in order.
    pub sent: &'a [RawFrame],
    /// The frames the harness read from the target, in order.
    pub received: &'a [RawFrame],
}

/// Data messages of a frame sequence: (opcode of the first frame, payload), control frames
/// left out, fragments joined (RFC 6455 §5.4); an unfinished message at the end is dropped.
/// The flag says whether the fragmentation was irregular (a continuation with no message
/// started, or a new message inside a fragmented one).
fn messages(frames: &[RawFrame]) -> (Vec<(u8, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    let mut open: Option<(u8, Vec<u8>)> = None;
    let mut irregular = false;
    for f in frames {
        match f.opcode {
            0x1 | 0x2 => {
                irregular |= open.is_some();
                if f.fin {
                    out.push((f.opcode, f.payload.clone()));
                } else {
                    open = Some((f.opcode, f.payload.clone()));
                }
            }
            0x0 => match open.as_mut() {
                Some((_, p)) => {
                    p.extend_from_slice(&f.payload);
                    if f.fin {
                        out.extend(open.take());
                    }
                }
                None => irregular = true,
            },
            _ => {}
        }
    }
    (out, irregular)
}

/// A client transaction as a response names it: top Via branch and CSeq method (RFC 3261
/// §17.1.3).
type Transaction = (String, String);

fn keepalive(payload: &[u8]) -> bool {
    payload.iter().all(|b| *b == b'\r' || *b == b'\n')
}

/// Frame-level rules for what the target sent (RFC 6455 §5.1, §5.2, §7.4.1).
fn frame_rules(c: &Connection, out: &mut Vec<Violation>) {
    for f in c.received {
        if f.mask.is_some() {
            out.push(must(
                "6455-5.1-c",
                format!(
                    "a {} frame from the target on {} was masked",
                    f.describe(),
                    c.name
                ),
            ));
        }
        if f.rsv != 0 {
            out.push(must(
                "6455-5.2-a",
                format!(
                    "a frame from the target on {} set RSV bits {:#05b} with no extension negotiated",
                    c.name, f.rsv
                ),
            ));
        }
        if matches!(f.opcode, 0x3..=0x7 | 0xB..=0xF) {
            out.push(must(
                "6455-5.2-b",
                format!(
                    "the target sent a frame with the reserved opcode {:#x} on {}",
                    f.opcode, c.name
                ),
            ));
        }
        if f.opcode == 0x8 && f.payload.len() >= 2 {
            let code = u16::from_be_bytes([f.payload[0], f.payload[1]]);
            if matches!(code, 0..=999 | 1004..=1006 | 1015..=2999) {
                out.push(must(
                    "6455-7.4.1-a",
                    format!(
                        "the target's Close on {} carried {code}, a code no endpoint may send (RFC 6455 §7.4.1, §7.4.2)",
                        c.name
                    ),
                ));
            }
        }
    }
}

/// A Via as the transaction layer compares it: transport, sent-by and branch (a server may add
/// `received` and `rport`, RFC 3261 §18.2.1, RFC 3581).
fn via_key(v: &Via) -> String {
    format!(
        "{}/{}:{}/{}",
        v.transport.to_ascii_uppercase(),
        v.host.to_string().to_ascii_lowercase(),
        v.port.map(|p| p.to_string()).unwrap_or_default(),
        v.branch().unwrap_or_default()
    )
}

/// The requests the harness sent on a connection, by top Via branch and CSeq method, and
/// whether everything it sent was one well-formed SIP message per WebSocket message (when not,
/// a case is sending junk on purpose, and an answer may match nothing).
fn sent_requests(c: &Connection) -> (HashMap<Transaction, Vec<String>>, bool) {
    let mut by_branch = HashMap::new();
    let (sent, irregular) = messages(c.sent);
    let mut all_sip = !irregular;
    for (_, payload) in sent {
        if keepalive(&payload) {
            continue;
        }
        let Ok(m) = Message::parse(&payload) else {
            all_sip = false;
            continue;
        };
        if let (Some(method), Some(branch)) = (m.method(), m.top_via().and_then(Via::branch)) {
            let vias = m.vias().map(via_key).collect();
            by_branch.insert((branch.to_string(), method.to_string()), vias);
        }
    }
    (by_branch, all_sip)
}

/// Reads one data message from the target as SIP: one SIP message per WebSocket message
/// (RFC 7118 §5), nothing but SIP (§4.1), a Content-Length that tells the truth (RFC 3261
/// §20.14).
fn one_sip_message(name: &str, payload: &[u8], out: &mut Vec<Violation>) -> Option<Message> {
    let lenient = match Message::parse_datagram(payload) {
        Ok(m) => m,
        Err(e) if matches!(e.kind, ErrorKind::BodyTooShort { .. }) => {
            out.push(must(
                "3261-20.14-a",
                format!("a SIP message from the target on {name}: {}", e.kind),
            ));
            return None;
        }
        Err(e) => {
            out.push(must(
                "7118-4.1-e",
                format!(
                    "the target sent {name} a WebSocket message that is not a SIP message: {}",
                    e.kind
                ),
            ));
            return None;
        }
    };
    if let Err(e) = Message::parse(payload)
        && let ErrorKind::TrailingData(n) = e.kind
    {
        let tail = &payload[payload.len().saturating_sub(n)..];
        let trimmed = tail.trim_ascii_start();
        if Message::parse_datagram(trimmed).is_ok() {
            out.push(must(
                "7118-5-c",
                format!("the target put two SIP messages into one WebSocket message to {name}"),
            ));
        } else {
            out.push(must(
                "3261-20.14-a",
                format!(
                    "a SIP message from the target on {name} has {n} bytes past its Content-Length"
                ),
            ));
        }
    }
    Some(lenient)
}

/// Every rule over one connection.
pub fn check(c: &Connection) -> Vec<Violation> {
    let mut out = Vec::new();
    frame_rules(c, &mut out);
    let (requests, all_sip) = sent_requests(c);
    // The final statuses seen per transaction.
    let mut finals: HashMap<Transaction, Vec<u16>> = HashMap::new();
    for (opcode, payload) in messages(c.received).0 {
        if opcode == 0x1 && std::str::from_utf8(&payload).is_err() {
            out.push(must(
                "6455-5.6-a",
                format!(
                    "a text message from the target on {} is not valid UTF-8",
                    c.name
                ),
            ));
        }
        if keepalive(&payload) {
            continue;
        }
        let Some(m) = one_sip_message(c.name, &payload, &mut out) else {
            continue;
        };
        if m.is_request() {
            let want = if c.secure { "WSS" } else { "WS" };
            if let Some(top) = m.top_via()
                && !top.transport.eq_ignore_ascii_case(want)
            {
                out.push(must(
                    "7118-5.1-a",
                    format!(
                        "the target's Via on a request it sent over {} says SIP/2.0/{}",
                        want, top.transport
                    ),
                ));
            }
            if let Some(v) = facing_record_route(c.name, &m) {
                out.push(v);
            }
            continue;
        }
        response_rules(c.name, &m, &requests, all_sip, &mut finals, &mut out);
    }
    out
}

/// The top Record-Route value of a request the target sends over a WebSocket connection is
/// the target's own and faces that hop: its URI says `transport=ws` (RFC 7118 §5.2; with
/// `sips:` for WSS, spec/requirements.md A1). `transport=wss`, a variant some stacks use,
/// warns; another transport, or none (UDP by default, RFC 3261 §19.1.2), fails.
fn facing_record_route(name: &str, m: &Message) -> Option<Violation> {
    let top = m.record_routes().next()?;
    match transport_of(top).as_deref() {
        Some("ws") => None,
        Some("wss") => Some(Violation {
            req: "7118-5.2-a",
            level: Level::Should,
            message: format!(
                "the target's Record-Route {top} facing the WebSocket hop to {name} says transport=wss; RFC 7118 §5.2 defines transport=ws (WSS is sips: with transport=ws)"
            ),
        }),
        other => Some(must(
            "7118-5.2-a",
            format!(
                "the target's Record-Route {top} facing the WebSocket hop to {name} has {}; RFC 7118 §5.2 asks for transport=ws",
                other.map_or("no transport parameter".to_string(), |t| format!(
                    "transport={t}"
                ))
            ),
        )),
    }
}

fn response_rules(
    name: &str,
    m: &Message,
    requests: &HashMap<Transaction, Vec<String>>,
    all_sip: bool,
    finals: &mut HashMap<Transaction, Vec<u16>>,
    out: &mut Vec<Violation>,
) {
    let code = m.status_line().map(|s| s.code).unwrap_or_default();
    let branch = m
        .top_via()
        .and_then(Via::branch)
        .unwrap_or_default()
        .to_string();
    let method = m.cseq().map(|c| c.method.to_string()).unwrap_or_default();
    let key = (branch, method);
    let Some(sent_vias) = requests.get(&key) else {
        if all_sip {
            out.push(must(
                "3261-17.1.3-a",
                format!(
                    "the target sent {name} a {code} for branch {:?} and method {}, which no request it sent there carried",
                    key.0, key.1
                ),
            ));
        }
        return;
    };
    let got: Vec<String> = m.vias().map(via_key).collect();
    if &got != sent_vias {
        out.push(must(
            "3261-8.2.6-a",
            format!(
                "the {code} on {name} carries the Via values [{}], the request carried [{}]",
                got.join(", "),
                sent_vias.join(", ")
            ),
        ));
    }
    if code < 200 {
        return;
    }
    let seen = finals.entry(key.clone()).or_default();
    let invite = key.1 == Method::Invite.to_string();
    // RFC 3261 §13.3.1.4 and §16.7 step 5: 2xx to an INVITE repeat (retransmitted by the UAS,
    // or one per forked branch); anything else answers its transaction once.
    let allowed = seen.is_empty() || (invite && is_2xx(code) && seen.iter().all(|c| is_2xx(*c)));
    if !allowed {
        let before: Vec<String> = seen.iter().map(u16::to_string).collect();
        out.push(must(
            "3261-17.2-a",
            format!(
                "the target answered the {} of branch {:?} on {name} with {code} after a final {}",
                key.1,
                key.0,
                before.join(", ")
            ),
        ));
    }
    seen.push(code);
}

fn is_2xx(code: u16) -> bool {
    (200..300).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> RawFrame {
        RawFrame::text(s.replace('\n', "\r\n").into_bytes())
    }

    fn from_target(s: &str) -> RawFrame {
        let mut f = text(s);
        f.mask = None;
        f
    }

    const MESSAGE: &str = "MESSAGE sip:bob@d SIP/2.0\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:bob@d>\nCall-ID: c\nCSeq: 1 MESSAGE\nMax-Forwards: 70\nContent-Length: 0\n\n";
    const OK: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1;received=127.0.0.1\nFrom: <sip:a@d>;tag=1\nTo: <sip:bob@d>;tag=2\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n";
    const TRYING: &str = "SIP/2.0 100 Trying\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:bob@d>\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n";

    fn judge(sent: &[RawFrame], received: &[RawFrame]) -> Vec<&'static str> {
        check(&Connection {
            name: "alice",
            secure: false,
            sent,
            received,
        })
        .into_iter()
        .map(|v| v.req)
        .collect()
    }

    #[test]
    fn a_correct_exchange_breaks_nothing() {
        let sent = [text(MESSAGE)];
        assert!(judge(&sent, &[from_target(TRYING), from_target(OK)]).is_empty());
        // CRLF keep-alives are not SIP and not a fault.
        assert!(judge(&sent, &[from_target("\n"), from_target(OK)]).is_empty());
    }

    #[test]
    fn a_second_final_response_to_a_message_breaks_17_2() {
        let sent = [text(MESSAGE)];
        assert_eq!(
            judge(&sent, &[from_target(OK), from_target(OK)]),
            vec!["3261-17.2-a"]
        );
    }

    #[test]
    fn two_sip_messages_in_one_websocket_message_break_7118_5() {
        let sent = [text(MESSAGE)];
        let both = from_target(&format!("{TRYING}{OK}"));
        assert!(judge(&sent, &[both]).contains(&"7118-5-c"));
    }

    #[test]
    fn a_response_to_nothing_sent_or_with_other_vias_is_flagged() {
        let sent = [text(MESSAGE)];
        let stray = OK.replace("branch=z9hG4bK1", "branch=z9hG4bKother");
        assert_eq!(judge(&sent, &[from_target(&stray)]), vec!["3261-17.1.3-a"]);
        let extra_via = OK.replace(
            "Via: SIP/2.0/WS a.invalid",
            "Via: SIP/2.0/WS proxy.example;branch=z9hG4bKp\nVia: SIP/2.0/WS a.invalid",
        );
        // The top Via is now the proxy's: a response to no request of the harness.
        assert_eq!(
            judge(&sent, &[from_target(&extra_via)]),
            vec!["3261-17.1.3-a"]
        );
        let appended = OK.replace(
            "Content-Length: 0",
            "Via: SIP/2.0/UDP other.example;branch=z9hG4bKx\nContent-Length: 0",
        );
        assert_eq!(
            judge(&sent, &[from_target(&appended)]),
            vec!["3261-8.2.6-a"]
        );
        // When the harness itself sent junk, an unmatched answer is no fault.
        let junk = [RawFrame::text(b"not SIP".to_vec())];
        assert!(judge(&junk, &[from_target(&stray)]).is_empty());
        // Nor when it sent a request as a continuation of no message (a framing case).
        let orphan = [RawFrame::continuation(
            MESSAGE.replace('\n', "\r\n").into_bytes(),
        )];
        assert!(judge(&orphan, &[from_target(OK)]).is_empty());
    }

    #[test]
    fn frame_rules_and_text_rules() {
        let mut masked = from_target(OK);
        masked.mask = Some([1, 2, 3, 4]);
        assert!(judge(&[text(MESSAGE)], &[masked]).contains(&"6455-5.1-c"));
        let mut rsv = from_target(OK);
        rsv.rsv = 0b100;
        assert!(judge(&[text(MESSAGE)], &[rsv]).contains(&"6455-5.2-a"));
        let mut reserved_close = RawFrame::close(1005, "");
        reserved_close.mask = None;
        assert_eq!(judge(&[], &[reserved_close]), vec!["6455-7.4.1-a"]);
        let mut bad_utf8 = RawFrame::text(b"SIP/2.0 200 \xc0\xaf".to_vec());
        bad_utf8.mask = None;
        let got = judge(&[], &[bad_utf8]);
        assert!(got.contains(&"6455-5.6-a"), "{got:?}");
        assert!(judge(&[], &[from_target("hello")]).contains(&"7118-4.1-e"));
        let lying = OK.replace("Content-Length: 0", "Content-Length: 9");
        assert!(judge(&[text(MESSAGE)], &[from_target(&lying)]).contains(&"3261-20.14-a"));
    }

    #[test]
    fn repeated_2xx_to_an_invite_are_allowed_a_2xx_after_a_486_is_not() {
        let invite = MESSAGE
            .replace("MESSAGE sip", "INVITE sip")
            .replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE");
        let ok = OK.replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE");
        let busy = ok.replace("200 OK", "486 Busy Here");
        let sent = [text(&invite)];
        assert!(judge(&sent, &[from_target(&ok), from_target(&ok)]).is_empty());
        assert_eq!(
            judge(&sent, &[from_target(&busy), from_target(&ok)]),
            vec!["3261-17.2-a"]
        );
    }

    #[test]
    fn the_targets_record_route_facing_a_websocket_hop_says_ws() {
        let with_rr = |rr: &str| {
            from_target(&format!(
                "MESSAGE sip:a@a.invalid;transport=ws SIP/2.0\nVia: SIP/2.0/WS proxy.example;branch=z9hG4bKp\nRecord-Route: {rr}\nFrom: <sip:b@d>;tag=1\nTo: <sip:a@d>\nCall-ID: c2\nCSeq: 1 MESSAGE\nMax-Forwards: 69\nContent-Length: 0\n\n"
            ))
        };
        assert!(judge(&[], &[with_rr("<sip:tok@proxy.example;transport=ws;lr>")]).is_empty());
        let wss = check(&Connection {
            name: "alice",
            secure: false,
            sent: &[],
            received: &[with_rr("<sip:proxy.example;transport=wss;lr>")],
        });
        assert!(matches!(wss.as_slice(), [v] if v.level == Level::Should));
        assert_eq!(
            judge(&[], &[with_rr("<sip:proxy.example;transport=udp;lr>")]),
            vec!["7118-5.2-a"]
        );
        assert_eq!(
            judge(&[], &[with_rr("<sip:proxy.example;lr>")]),
            vec!["7118-5.2-a"]
        );
    }

    #[test]
    fn the_targets_own_via_names_the_websocket_transport() {
        let request = from_target(
            "MESSAGE sip:a@a.invalid;transport=ws SIP/2.0\nVia: SIP/2.0/TCP proxy.example;branch=z9hG4bKp\nFrom: <sip:b@d>;tag=1\nTo: <sip:a@d>\nCall-ID: c2\nCSeq: 1 MESSAGE\nMax-Forwards: 69\nContent-Length: 0\n\n",
        );
        assert_eq!(judge(&[], &[request]), vec!["7118-5.1-a"]);
    }
}
