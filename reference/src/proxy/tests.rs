//! The proxy's decisions, driven with parsed messages and fake flows. Test names carry the
//! requirement IDs of spec/requirements.md.

use std::net::SocketAddr;

use super::*;
use crate::proxy::flow_token::TokenCheck;
use crate::sip::response;
use crate::sip::{Contact, Header, Message};
use crate::transport::{Flow, Transport};

const ALICE_FLOW: FlowId = FlowId(1);
const BOB_FLOW: FlowId = FlowId(2);
const CAROL_FLOW: FlowId = FlowId(3);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test addresses are valid")
}

fn config() -> Config {
    Config::rfc7118_example(b"test secret, 32 bytes long......")
}

fn flow(id: FlowId, transport: Transport, remote: &str) -> Flow {
    let local = match transport {
        Transport::Wss => "192.0.2.10:443",
        Transport::Ws => "192.0.2.10:80",
        _ => "192.0.2.10:5060",
    };
    Flow {
        id,
        transport,
        local: addr(local),
        remote: addr(remote),
    }
}

/// Alice on WSS, Bob on UDP, Carol on plain WS.
fn proxy() -> Proxy {
    let mut p = Proxy::new(config());
    p.flow_opened(flow(ALICE_FLOW, Transport::Wss, "198.51.100.1:50000"));
    p.flow_opened(flow(BOB_FLOW, Transport::Udp, "203.0.113.22:5060"));
    p.flow_opened(flow(CAROL_FLOW, Transport::Ws, "198.51.100.3:50003"));
    p
}

fn msg(text: &str) -> Message {
    let crlf = text.replace('\n', "\r\n");
    Message::parse(crlf.as_bytes()).unwrap_or_else(|e| panic!("test message parses: {e}\n{text}"))
}

fn register(
    user: &str,
    host: &str,
    transport: &str,
    instance: &str,
    call_id: &str,
    cseq: u32,
) -> Message {
    msg(&format!(
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/{transport} {host};branch=z9hG4bKreg{call_id}{cseq}
From: <sip:{user}@example.com>;tag=f{user}
To: <sip:{user}@example.com>
Call-ID: {call_id}
CSeq: {cseq} REGISTER
Max-Forwards: 70
Supported: path, outbound, gruu
Contact: <sip:{user}@{host};transport=ws;ob>;reg-id=1;+sip.instance=\"<urn:uuid:{instance}>\"

"
    ))
}

fn register_alice(p: &mut Proxy, now: Time) -> Message {
    let req = register(
        "alice",
        "df7jal23ls0d.invalid",
        "WSS",
        "f81-7dec-14a06cf1",
        "reg-a",
        1,
    );
    let out = p.handle(req, ALICE_FLOW, now);
    only_send(&out, ALICE_FLOW).clone()
}

fn only_send(out: &[Action], flow: FlowId) -> &Message {
    match out {
        [Action::Send { flow: f, msg }] if *f == flow => msg,
        other => panic!("expected one Send on {flow}, got {other:#?}"),
    }
}

fn status(out: &[Action]) -> Option<u16> {
    match out {
        [Action::Send { msg, .. }] => msg.status_line().map(|s| s.code),
        _ => None,
    }
}

fn invite(ruri: &str, via: &str, call_id: &str) -> Message {
    msg(&format!(
        "INVITE {ruri} SIP/2.0
Via: {via}
From: <sip:bob@example.com>;tag=bob1
To: <{ruri}>
Call-ID: {call_id}
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:bob@203.0.113.22:5060;transport=udp>
Content-Type: application/sdp

v=0
"
    ))
}

fn bob_invite(ruri: &str) -> Message {
    invite(
        ruri,
        "SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKbob1",
        "call-1",
    )
}

/// The single request sent on `flow` (after the 100 Trying to the caller, if any).
fn delivered(out: &[Action], flow: FlowId) -> &Message {
    out.iter()
        .find_map(|a| match a {
            Action::Send { flow: f, msg } if *f == flow && msg.is_request() => Some(msg),
            _ => None,
        })
        .unwrap_or_else(|| panic!("nothing delivered on {flow}: {out:#?}"))
}

fn no_forward(out: &[Action]) {
    assert!(
        !out.iter().any(|a| matches!(a, Action::Forward { .. })),
        "no-connect: nothing may be dialled: {out:#?}"
    );
}

#[test]
fn req_5626_6_c_outbound_register_gets_require_outbound_and_every_contact_with_expires() {
    let mut p = proxy();
    let ok = register_alice(&mut p, Time(0));
    assert_eq!(ok.status_line().map(|s| s.code), Some(200));
    assert!(ok.tokens(&HeaderName::Require).any(|t| t == "outbound"));
    let c: Vec<_> = ok.contacts().collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].expires(), Some(3600));
    assert_eq!(c[0].reg_id(), Some(1));
    assert_eq!(
        c[0].instance().as_deref(),
        Some("urn:uuid:f81-7dec-14a06cf1")
    );
    assert!(ok.to().and_then(NameAddr::tag).is_some());
    let b = &p.location().bindings("sip:alice@example.com")[0];
    assert_eq!((b.flow, b.outbound), (ALICE_FLOW, true));
}

#[test]
fn req_5627_5_2_a_register_with_gruu_gets_pub_and_temp_gruu() {
    let mut p = proxy();
    let ok = register_alice(&mut p, Time(0));
    let c = ok.contacts().next().expect("one contact");
    assert_eq!(
        c.pub_gruu().as_deref(),
        Some("sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1")
    );
    let temp = c.temp_gruu().expect("temp-gruu");
    assert!(
        temp.starts_with("sip:tgruu.") && temp.ends_with("@example.com;gr"),
        "{temp}"
    );
    // 5627-5.2-a: gruu is not listed in Supported of the response.
    assert!(!ok.tokens(&HeaderName::Supported).any(|t| t == "gruu"));
}

#[test]
fn req_5626_6_c_plain_register_has_no_require_outbound() {
    let mut p = proxy();
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKr1
From: <sip:bob@example.com>;tag=1
To: <sip:bob@example.com>
Call-ID: r1
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: <sip:bob@203.0.113.22:5060>;expires=120

");
    let out = p.handle(req, BOB_FLOW, Time(0));
    let ok = only_send(&out, BOB_FLOW);
    assert_eq!(ok.status_line().map(|s| s.code), Some(200));
    assert_eq!(ok.tokens(&HeaderName::Require).count(), 0);
    assert_eq!(ok.contacts().next().and_then(NameAddr::expires), Some(120));
}

#[test]
fn req_5627_5_1_a_contact_equal_to_the_aor_with_an_instance_is_403() {
    let mut p = proxy();
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKr1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: r1
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: <sip:alice@example.com>;+sip.instance=\"<urn:uuid:1>\"

");
    assert_eq!(status(&p.handle(req, ALICE_FLOW, Time(0))), Some(403));
}

#[test]
fn req_5626_6_b_two_reg_id_contacts_are_400() {
    let mut p = proxy();
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKr1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: r1
CSeq: 1 REGISTER
Max-Forwards: 70
Supported: outbound
Contact: <sip:a@a.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:1>\", <sip:b@a.invalid;transport=ws>;reg-id=2;+sip.instance=\"<urn:uuid:1>\"

");
    assert_eq!(status(&p.handle(req, ALICE_FLOW, Time(0))), Some(400));
}

#[test]
fn req_5626_6_a_path_without_ob_and_reg_id_gets_439() {
    let mut p = proxy();
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP edge.example.net;branch=z9hG4bKr1
Via: SIP/2.0/WS a.invalid;branch=z9hG4bKr0
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: r1
CSeq: 1 REGISTER
Max-Forwards: 69
Supported: path, outbound
Path: <sip:edge.example.net;lr>
Contact: <sip:a@a.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:1>\"

");
    assert_eq!(status(&p.handle(req, BOB_FLOW, Time(0))), Some(439));
}

#[test]
fn req_3327_5_3_a_path_is_stored_and_echoed_and_preloaded() {
    let mut p = proxy();
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP edge.example.net;branch=z9hG4bKr1
Via: SIP/2.0/WS a.invalid;branch=z9hG4bKr0
From: <sip:dave@example.com>;tag=1
To: <sip:dave@example.com>
Call-ID: r1
CSeq: 1 REGISTER
Max-Forwards: 69
Supported: path
Path: <sip:tok@edge.example.net;lr;ob>
Contact: <sip:dave@a.invalid;transport=ws>

");
    let out = p.handle(req, BOB_FLOW, Time(0));
    let ok = only_send(&out, BOB_FLOW);
    assert_eq!(
        ok.paths().map(|p| p.uri.to_string()).collect::<Vec<_>>(),
        vec!["sip:tok@edge.example.net;lr;ob"]
    );
    // 3327-5.4-a: a request to the binding carries the Path as Route.
    let out = p.handle(bob_invite("sip:dave@example.com"), BOB_FLOW, Time(1));
    let fwd = delivered(&out, BOB_FLOW);
    assert_eq!(
        fwd.routes().next().map(|r| r.uri.to_string()).as_deref(),
        Some("sip:tok@edge.example.net;lr;ob")
    );
}

#[test]
fn req_3261_10_3_too_short_expiry_gets_423_with_min_expires() {
    let mut p = proxy();
    let mut req = register("alice", "a.invalid", "WSS", "1", "r", 1);
    req.headers
        .push(Header::new(HeaderName::Expires, HeaderValue::Number(5)));
    let out = p.handle(req, ALICE_FLOW, Time(0));
    let r = only_send(&out, ALICE_FLOW);
    assert_eq!(r.status_line().map(|s| s.code), Some(423));
    assert_eq!(
        r.value(&HeaderName::MinExpires),
        Some(&HeaderValue::Number(60))
    );
}

/// An open registrar is bounded: one AoR holds at most `per_aor` contacts and one flow at
/// most `per_flow` bindings; a REGISTER going beyond gets 503 and changes nothing, while
/// refreshes and removals within the limits still work.
#[test]
fn binding_limits_per_aor_and_per_flow_refuse_with_503_and_change_nothing() {
    let mut c = config();
    c.bindings = BindingLimits {
        per_aor: 2,
        per_flow: 3,
    };
    let mut p = Proxy::new(c);
    p.flow_opened(flow(ALICE_FLOW, Transport::Wss, "198.51.100.1:50000"));
    p.flow_opened(flow(CAROL_FLOW, Transport::Ws, "198.51.100.3:50003"));
    let mut t = 0;
    let mut reg = |p: &mut Proxy, user: &str, instance: &str, flow: FlowId| {
        t += 1;
        let req = register(
            user,
            "x.invalid",
            "WSS",
            instance,
            &format!("c-{user}-{instance}"),
            1,
        );
        status(&p.handle(req, flow, Time(t)))
    };
    // Per AoR: two instances of alice fit, a third does not.
    assert_eq!(reg(&mut p, "alice", "i1", ALICE_FLOW), Some(200));
    assert_eq!(reg(&mut p, "alice", "i2", CAROL_FLOW), Some(200));
    assert_eq!(reg(&mut p, "alice", "i3", CAROL_FLOW), Some(503));
    assert_eq!(p.location().bindings("sip:alice@example.com").len(), 2);
    // Per flow: alice's flow carries one binding; two more AoRs fit, a third does not.
    assert_eq!(reg(&mut p, "u1", "j1", ALICE_FLOW), Some(200));
    assert_eq!(reg(&mut p, "u2", "j2", ALICE_FLOW), Some(200));
    assert_eq!(reg(&mut p, "u3", "j3", ALICE_FLOW), Some(503));
    assert!(p.location().bindings("sip:u3@example.com").is_empty());
    assert_eq!(p.location().flow_binding_count(ALICE_FLOW), 3);
    // A refresh of an existing binding is not a new one.
    let refresh = register("u2", "x.invalid", "WSS", "j2", "c-u2-j2", 2);
    assert_eq!(status(&p.handle(refresh, ALICE_FLOW, Time(100))), Some(200));
    // Removing one makes room again.
    let mut bye = register("u1", "x.invalid", "WSS", "j1", "c-u1-j1", 2);
    bye.headers
        .push(Header::new(HeaderName::Expires, HeaderValue::Number(0)));
    assert_eq!(status(&p.handle(bye, ALICE_FLOW, Time(101))), Some(200));
    assert_eq!(reg(&mut p, "u3", "j3", ALICE_FLOW), Some(200));
    assert_eq!(p.location().flow_binding_count(ALICE_FLOW), 3);
}

/// The table of forwarded transactions is bounded: with `LIMIT` MESSAGEs to Alice
/// unanswered, the next request gets 503 and is not delivered; an answered one leaves the
/// table 32 s later, making room again; Timer C empties it.
#[test]
fn pending_transactions_are_bounded_503_beyond() {
    const LIMIT: usize = 200;
    let mut p = proxy().with_pending_limit(LIMIT);
    register_alice(&mut p, Time(0));
    let message = |n: usize| {
        msg(&format!(
            "MESSAGE sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKflood{n}
Max-Forwards: 70
From: <sip:bob@example.com>;tag=b
To: <sip:alice@example.com>
Call-ID: flood-{n}
CSeq: 1 MESSAGE
Content-Length: 0

"
        ))
    };
    let mut first = None;
    for n in 0..LIMIT {
        let out = p.handle(message(n), BOB_FLOW, Time(1));
        let m = delivered(&out, ALICE_FLOW);
        first.get_or_insert_with(|| m.clone());
    }
    assert_eq!(p.pending_count(), LIMIT);
    let out = p.handle(message(LIMIT), BOB_FLOW, Time(2));
    assert_eq!(status(&out), Some(503));
    no_forward(&out);
    assert!(
        !out.iter()
            .any(|a| matches!(a, Action::Send { flow, .. } if *flow == ALICE_FLOW))
    );
    // Alice answers the first: its transaction leaves the table 32 s later (kept for
    // retransmissions), and a new request fits again.
    let first = first.expect("one MESSAGE was delivered");
    let ok = response::response(&first, 200, "a", Vec::new());
    only_send(&p.handle(ok, ALICE_FLOW, Time(3)), BOB_FLOW);
    assert_eq!(p.pending_count(), LIMIT);
    let later = Time(3).plus_secs(AFTER_FINAL_SECS);
    p.tick(later);
    assert_eq!(p.pending_count(), LIMIT - 1);
    delivered(&p.handle(message(LIMIT + 1), BOB_FLOW, later), ALICE_FLOW);
    p.tick(later.plus_secs(TIMER_C_SECS));
    assert_eq!(p.pending_count(), 0);
}

#[test]
fn contact_star_with_expires_0_removes_every_binding() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let req = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKr9
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: reg-a
CSeq: 2 REGISTER
Max-Forwards: 70
Contact: *
Expires: 0

");
    let out = p.handle(req, ALICE_FLOW, Time(1));
    assert_eq!(status(&out), Some(200));
    assert!(p.location().bindings("sip:alice@example.com").is_empty());
}

#[test]
fn req_5626_7_c_invite_to_the_aor_goes_over_the_registered_flow() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    no_forward(&out);
    // RFC 3261 §16.2: 100 Trying to the caller first.
    assert!(
        matches!(&out[0], Action::Send { flow, msg } if *flow == BOB_FLOW && msg.status_line().map(|s| s.code) == Some(100))
    );
    let fwd = delivered(&out, ALICE_FLOW);
    // Retargeted to the registered contact (RFC 3261 §16.5).
    assert_eq!(
        fwd.request_line().map(|r| r.uri.to_string()).as_deref(),
        Some("sip:alice@df7jal23ls0d.invalid;transport=ws;ob")
    );
    assert_eq!(fwd.max_forwards(), Some(69));
    assert_eq!(fwd.content_length(), Some(5));
}

#[test]
fn req_7118_5_1_a_proxy_via_on_a_wss_hop_is_wss() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    let top = delivered(&out, ALICE_FLOW)
        .top_via()
        .expect("our Via")
        .clone();
    assert_eq!(top.transport, "WSS");
    assert_eq!(top.port, Some(443));
    assert!(top.has_rfc3261_branch());
}

#[test]
fn req_5658_6_2_a_udp_to_wss_gets_two_record_routes_with_the_token_on_the_ws_side() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    let rr: Vec<_> = delivered(&out, ALICE_FLOW)
        .record_routes()
        .cloned()
        .collect();
    assert_eq!(rr.len(), 2, "{rr:?}");
    let top = rr[0].sip_uri().expect("sip");
    let second = rr[1].sip_uri().expect("sip");
    // Top faces the egress (Alice, WSS: sip: + transport=ws + port 443, RFC 7118 §8.2 style).
    assert_eq!(top.transport_param(), Some("ws"));
    assert_eq!(top.port, Some(443));
    assert!(top.lr());
    assert_eq!(
        p.tokens().check(top.user.as_deref().unwrap_or_default()),
        TokenCheck::Valid(ALICE_FLOW)
    );
    // Second faces the ingress (Bob, UDP): no token on a datagram flow.
    assert_eq!(second.transport_param(), Some("udp"));
    assert_eq!(second.user, None);
}

#[test]
fn req_5658_6_2_a_same_transport_gets_one_record_route() {
    let mut p = proxy();
    p.flow_opened(flow(FlowId(9), Transport::Wss, "198.51.100.9:50009"));
    register_alice(&mut p, Time(0));
    let req = invite(
        "sip:alice@example.com",
        "SIP/2.0/WSS e.invalid;branch=z9hG4bKe1",
        "call-9",
    );
    let out = p.handle(req, FlowId(9), Time(1));
    let rr: Vec<_> = delivered(&out, ALICE_FLOW)
        .record_routes()
        .cloned()
        .collect();
    assert_eq!(rr.len(), 1);
    let u = rr[0].sip_uri().expect("sip");
    assert_eq!(
        p.tokens().check(u.user.as_deref().unwrap_or_default()),
        TokenCheck::Valid(FlowId(9))
    );
}

#[test]
fn req_5626_5_3_1_b_bye_from_the_far_side_reaches_the_ws_flow_by_token() {
    // RFC 7118 §8.2 F8 -> F9: Bob's BYE carries both Record-Route values as Route.
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    let rr: Vec<String> = delivered(&out, ALICE_FLOW)
        .record_routes()
        .map(|r| r.to_string())
        .collect();
    let bye = msg(&format!(
        "BYE sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKbiuiansd001
Route: {}
From: <sip:bob@example.com>;tag=bmqkjhsd
To: <sip:alice@example.com>;tag=asdyka899
Call-ID: call-1
CSeq: 1201 BYE
Max-Forwards: 70

",
        rr.iter().rev().cloned().collect::<Vec<_>>().join(", ")
    ));
    let out = p.handle(bye, BOB_FLOW, Time(2));
    no_forward(&out);
    let f9 = delivered(&out, ALICE_FLOW);
    // 5658-5-a: both of our Route values consumed at once; R-URI unchanged.
    assert_eq!(f9.routes().count(), 0);
    assert_eq!(
        f9.request_line().map(|r| r.uri.to_string()).as_deref(),
        Some("sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob")
    );
    assert_eq!(f9.top_via().map(|v| v.transport.as_str()), Some("WSS"));
}

#[test]
fn req_5626_5_3_1_b_token_of_a_closed_flow_gets_430_and_a_tampered_one_403() {
    let mut p = proxy();
    let token = p.tokens().encode(CAROL_FLOW);
    let bye = |user: &str| {
        msg(&format!(
            "BYE sip:carol@c.invalid;transport=ws SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKb{user}
Route: <sip:{user}@proxy.example.com:80;transport=ws;lr>
From: <sip:bob@example.com>;tag=b
To: <sip:carol@example.com>;tag=c
Call-ID: c
CSeq: 2 BYE
Max-Forwards: 70

"
        ))
    };
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('0') { '1' } else { '0' });
    assert_eq!(
        status(&p.handle(bye(&forged), BOB_FLOW, Time(0))),
        Some(403)
    );
    p.flow_closed(CAROL_FLOW);
    let out = p.handle(bye(&token), BOB_FLOW, Time(0));
    no_forward(&out);
    assert_eq!(status(&out), Some(430));
}

#[test]
fn req_5626_7_d_after_the_flow_closes_an_invite_gets_480_without_dialling() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    assert_eq!(p.flow_closed(ALICE_FLOW), 1);
    assert!(p.location().bindings("sip:alice@example.com").is_empty());
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    no_forward(&out);
    assert_eq!(status(&out), Some(480));
}

#[test]
fn req_3261_16_5_a_unknown_user_404_known_without_binding_480() {
    let mut p = proxy();
    assert_eq!(
        status(&p.handle(bob_invite("sip:nobody@example.com"), BOB_FLOW, Time(0))),
        Some(404)
    );
    register_alice(&mut p, Time(0));
    p.tick(Time(3_600_000));
    assert!(p.location().bindings("sip:alice@example.com").is_empty());
    assert_eq!(
        status(&p.handle(
            bob_invite("sip:alice@example.com"),
            BOB_FLOW,
            Time(3_600_001)
        )),
        Some(480)
    );
}

#[test]
fn req_7118_b_1_a_invalid_host_is_never_dialled() {
    let mut p = proxy();
    for ruri in [
        "sip:x@gone.invalid",
        "sip:x@ws.example.net;transport=ws",
        "sip:x@ws.example.net;transport=wss",
    ] {
        let out = p.handle(bob_invite(ruri), BOB_FLOW, Time(0));
        no_forward(&out);
        assert_eq!(status(&out), Some(480), "{ruri}");
    }
}

#[test]
fn foreign_udp_target_is_forwarded_with_content_length() {
    let mut p = proxy();
    let req = invite(
        "sip:bob@203.0.113.22:5060;transport=udp",
        "SIP/2.0/WSS a.invalid;branch=z9hG4bKa1",
        "call-2",
    );
    let out = p.handle(req, ALICE_FLOW, Time(0));
    let Some(Action::Forward { target, msg }) = out.last() else {
        panic!("expected a forward: {out:#?}");
    };
    assert_eq!(target.transport, Dialable::Udp);
    assert_eq!(target.port, 5060);
    assert_eq!(msg.top_via().map(|v| v.transport.as_str()), Some("UDP"));
    assert_eq!(msg.content_length(), Some(5));
}

#[test]
fn req_3261_18_2_2_a_response_goes_back_on_the_arrival_flow() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    let fwd = delivered(&out, ALICE_FLOW).clone();
    // Alice answers; the response's Vias say nothing reachable (`.invalid`, our own).
    let mut ok = response::response(&fwd, 200, "alice1", Vec::new());
    ok.headers.push(Header::new(
        HeaderName::Contact,
        HeaderValue::Contact(Contact::List(vec![
            NameAddr::parse("<sip:alice@df7jal23ls0d.invalid;transport=ws;ob>").expect("valid"),
        ])),
    ));
    let out = p.handle(ok, ALICE_FLOW, Time(2));
    let back = only_send(&out, BOB_FLOW);
    assert_eq!(back.status_line().map(|s| s.code), Some(200));
    // Our Via popped: Bob's is on top again.
    assert_eq!(back.top_via().and_then(Via::branch), Some("z9hG4bKbob1"));
    assert_eq!(back.vias().count(), 1);
}

#[test]
fn responses_for_unknown_branches_are_dropped() {
    let mut p = proxy();
    let resp = msg("SIP/2.0 200 OK
Via: SIP/2.0/WS x.invalid;branch=z9hG4bKunknown
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>;tag=2
Call-ID: x
CSeq: 1 MESSAGE

");
    assert!(p.handle(resp, CAROL_FLOW, Time(0)).is_empty());
}

#[test]
fn req_3261_16_3_max_forwards_zero_is_483_and_other_schemes_416() {
    let mut p = proxy();
    let mut req = bob_invite("sip:alice@example.com");
    for h in &mut req.headers {
        if h.name == HeaderName::MaxForwards {
            h.value = HeaderValue::Number(0);
        }
    }
    assert_eq!(status(&p.handle(req, BOB_FLOW, Time(0))), Some(483));
    let tel = msg("INVITE tel:+15550100 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKt
From: <sip:bob@example.com>;tag=1
To: <tel:+15550100>
Call-ID: t
CSeq: 1 INVITE
Max-Forwards: 70

");
    assert_eq!(status(&p.handle(tel, BOB_FLOW, Time(0))), Some(416));
}

#[test]
fn malformed_requests_get_400_and_acks_are_never_answered() {
    let mut p = proxy();
    let no_call_id = msg("MESSAGE sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKm
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
CSeq: 1 MESSAGE
Max-Forwards: 70

");
    assert_eq!(status(&p.handle(no_call_id, BOB_FLOW, Time(0))), Some(400));
    let ack = msg("ACK sip:nobody@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKack
From: <sip:bob@example.com>;tag=1
To: <sip:nobody@example.com>;tag=2
Call-ID: a
CSeq: 1 ACK
Max-Forwards: 70

");
    assert!(p.handle(ack, BOB_FLOW, Time(0)).is_empty());
}

#[test]
fn req_5627_6_1_a_gruus_route_to_their_instance_and_old_temp_gruus_expire() {
    let mut p = proxy();
    let ok = register_alice(&mut p, Time(0));
    let c = ok.contacts().next().expect("contact").clone();
    let pub_gruu = c.pub_gruu().expect("pub-gruu");
    let temp = c.temp_gruu().expect("temp-gruu");
    for target in [&pub_gruu, &temp] {
        let out = p.handle(bob_invite(target), BOB_FLOW, Time(1));
        delivered(&out, ALICE_FLOW);
    }
    // 5627-5.1-b: a refresh with a new Call-ID invalidates the earlier temporary GRUU.
    let req = register(
        "alice",
        "df7jal23ls0d.invalid",
        "WSS",
        "f81-7dec-14a06cf1",
        "reg-b",
        1,
    );
    only_send(&p.handle(req, ALICE_FLOW, Time(2)), ALICE_FLOW);
    assert_eq!(
        status(&p.handle(bob_invite(&temp), BOB_FLOW, Time(3))),
        Some(404)
    );
    delivered(
        &p.handle(bob_invite(&pub_gruu), BOB_FLOW, Time(3)),
        ALICE_FLOW,
    );
    // 5627-5.3-a: once the instance is gone its public GRUU gets 480; an unknown one 404.
    p.flow_closed(ALICE_FLOW);
    assert_eq!(
        status(&p.handle(bob_invite(&pub_gruu), BOB_FLOW, Time(4))),
        Some(480)
    );
    assert_eq!(
        status(&p.handle(
            bob_invite("sip:alice@example.com;gr=urn:uuid:nope"),
            BOB_FLOW,
            Time(4)
        )),
        Some(404)
    );
    assert_eq!(
        status(&p.handle(
            bob_invite("sip:zed@example.com;gr=urn:uuid:nope"),
            BOB_FLOW,
            Time(4)
        )),
        Some(404)
    );
}

#[test]
fn req_5626_6_d_reregistration_on_a_new_flow_moves_delivery() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let again = register(
        "alice",
        "df7jal23ls0d.invalid",
        "WS",
        "f81-7dec-14a06cf1",
        "reg-a",
        2,
    );
    only_send(&p.handle(again, CAROL_FLOW, Time(1)), CAROL_FLOW);
    p.flow_closed(ALICE_FLOW);
    delivered(
        &p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(2)),
        CAROL_FLOW,
    );
}

#[test]
fn req_7118_9_2_a_sips_request_never_leaves_over_plain_ws() {
    let mut p = proxy();
    let req = register("carol", "c.invalid", "WS", "c-1", "reg-c", 1);
    only_send(&p.handle(req, CAROL_FLOW, Time(0)), CAROL_FLOW);
    let sips = invite(
        "sips:carol@example.com",
        "SIP/2.0/WSS a.invalid;branch=z9hG4bKs1",
        "call-s",
    );
    let out = p.handle(sips, ALICE_FLOW, Time(1));
    no_forward(&out);
    assert_eq!(status(&out), Some(480));
    // Over WSS the same request is delivered.
    let req = register("alice", "a.invalid", "WSS", "a-1", "reg-x", 1);
    only_send(&p.handle(req, ALICE_FLOW, Time(0)), ALICE_FLOW);
    let sips = invite(
        "sips:alice@example.com",
        "SIP/2.0/WS c.invalid;branch=z9hG4bKs2",
        "call-t",
    );
    delivered(&p.handle(sips, CAROL_FLOW, Time(1)), ALICE_FLOW);
}

#[test]
fn req_7118_5_3_a_ws_via_gets_no_received_unless_rport_asks() {
    let mut p = proxy();
    let out = p.handle(
        register("alice", "a.invalid", "WSS", "1", "r1", 1),
        ALICE_FLOW,
        Time(0),
    );
    let v = only_send(&out, ALICE_FLOW).top_via().expect("via").clone();
    assert_eq!(v.received(), None);
    let mut req = register("alice", "a.invalid", "WSS", "1", "r2", 1);
    for h in &mut req.headers {
        if let HeaderValue::Via(v) = &mut h.value {
            v[0].params.set("rport", None);
        }
    }
    let out = p.handle(req, ALICE_FLOW, Time(0));
    let v = only_send(&out, ALICE_FLOW).top_via().expect("via").clone();
    // A8: RFC 3581 §4 wins when rport is asked for.
    assert_eq!(v.received(), Some("198.51.100.1"));
    assert_eq!(v.rport(), Some(Some(50000)));
}

#[test]
fn cancel_gets_the_branch_of_its_invite() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let inv = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(1));
    let inv_branch = delivered(&inv, ALICE_FLOW)
        .top_via()
        .and_then(Via::branch)
        .map(str::to_string);
    let cancel = msg("CANCEL sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKbob1
From: <sip:bob@example.com>;tag=bob1
To: <sip:alice@example.com>
Call-ID: call-1
CSeq: 1 CANCEL
Max-Forwards: 70

");
    let out = p.handle(cancel, BOB_FLOW, Time(2));
    let c = delivered(&out, ALICE_FLOW);
    assert_eq!(
        c.top_via().and_then(Via::branch).map(str::to_string),
        inv_branch
    );
}

#[test]
fn forward_failure_answers_503_upstream() {
    let mut p = proxy();
    let req = invite(
        "sip:bob@203.0.113.22:5060;transport=tcp",
        "SIP/2.0/WSS a.invalid;branch=z9hG4bKa1",
        "call-2",
    );
    let out = p.handle(req, ALICE_FLOW, Time(0));
    let Some(Action::Forward { msg: fwd, .. }) = out.last() else {
        panic!("expected a forward: {out:#?}");
    };
    let out = p.forward_failed(fwd.clone(), Time(1));
    let r = only_send(&out, ALICE_FLOW);
    assert_eq!(r.status_line().map(|s| s.code), Some(503));
    assert_eq!(r.top_via().and_then(Via::branch), Some("z9hG4bKa1"));
}

#[test]
fn options_to_the_server_itself_gets_200() {
    let mut p = proxy();
    let req = msg("OPTIONS sip:proxy.example.com SIP/2.0
Via: SIP/2.0/WS c.invalid;branch=z9hG4bKo
From: <sip:carol@example.com>;tag=1
To: <sip:proxy.example.com>
Call-ID: o
CSeq: 1 OPTIONS
Max-Forwards: 70

");
    assert_eq!(status(&p.handle(req, CAROL_FLOW, Time(0))), Some(200));
}

#[test]
fn our_host_on_a_port_we_do_not_serve_is_forwarded() {
    let mut p = proxy();
    let req = invite(
        "sip:phone@proxy.example.com:5070;transport=udp",
        "SIP/2.0/WSS a.invalid;branch=z9hG4bKa7",
        "call-7",
    );
    let out = p.handle(req, ALICE_FLOW, Time(0));
    let Some(Action::Forward { target, .. }) = out.last() else {
        panic!("expected a forward: {out:#?}");
    };
    assert_eq!((target.transport, target.port), (Dialable::Udp, 5070));
    // On a port we serve, the same user is ours: unknown, 404.
    let req = invite(
        "sip:phone@proxy.example.com:5060",
        "SIP/2.0/WSS a.invalid;branch=z9hG4bKa8",
        "call-8",
    );
    assert_eq!(status(&p.handle(req, ALICE_FLOW, Time(0))), Some(404));
}

mod record_route_property {
    use super::*;
    use crate::proxy::record_route::{is_ours, record_route};
    use crate::transport::{UriTransport, uri_target};
    use proptest::prelude::*;

    /// Does a Record-Route entry lead back to our listener of `t`?
    fn leads_to(p: &Proxy, entry: &NameAddr, t: Transport) -> bool {
        let Some(u) = entry.sip_uri() else {
            return false;
        };
        let target = uri_target(u);
        let listener = p
            .config()
            .listener(t)
            .expect("test config has every listener");
        let transport_ok = target.transport.admits(t)
            // TLS is written as sips: without a transport parameter (RFC 5658 §6.2).
            || (t == Transport::Tls && u.secure && target.transport == UriTransport::Unspecified);
        is_ours(p.config(), u) && transport_ok && target.port == listener.port
    }

    proptest! {
        #[test]
        fn req_5658_6_2_a_entries_resolve_back_to_the_right_listener_and_flow(
            tin in prop::sample::select(Transport::ALL.to_vec()),
            tout in prop::sample::select(Transport::ALL.to_vec()),
            in_id in 10u64..1_000_000,
            out_id in 1_000_000u64..2_000_000,
        ) {
            let mut p = Proxy::new(config());
            let ingress = flow(FlowId(in_id), tin, "198.51.100.7:40000");
            let egress = flow(FlowId(out_id), tout, "198.51.100.8:40001");
            p.flow_opened(ingress);
            p.flow_opened(egress);
            let rr = record_route(p.config(), p.tokens(), &ingress, tout, Some(&egress), false);
            let expected = if tin == tout { 1 } else { 2 };
            prop_assert_eq!(rr.len(), expected);
            // The side each entry faces, top first.
            let sides: Vec<&Flow> = if tin == tout { vec![&ingress] } else { vec![&egress, &ingress] };
            for (entry, side) in rr.iter().zip(&sides) {
                prop_assert!(leads_to(&p, entry, side.transport), "{} does not lead to {:?}", entry, side.transport);
                prop_assert!(entry.sip_uri().is_some_and(|u| u.lr()));
                let user = entry.sip_uri().and_then(|u| u.user.clone());
                if side.transport.is_reliable() {
                    prop_assert_eq!(user.map(|u| p.tokens().check(&u)), Some(TokenCheck::Valid(side.id)));
                } else {
                    prop_assert_eq!(user, None);
                }
            }
            // An in-dialog request from the far side, routed by the callee's route set (the
            // Record-Route in order), reaches the ingress flow when that flow is a connection.
            if tin.is_reliable() {
                let route = rr.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
                let bye = msg(&format!("BYE sip:caller@c.invalid;transport=ws SIP/2.0
Via: SIP/2.0/{} far.example.net;branch=z9hG4bKfar
Route: {route}
From: <sip:callee@example.com>;tag=b
To: <sip:caller@example.com>;tag=a
Call-ID: rr-prop
CSeq: 2 BYE
Max-Forwards: 70

", tout.via_token()));
                let out = p.handle(bye, egress.id, Time(0));
                let reached = out.iter().any(|a| matches!(a, Action::Send { flow, msg } if *flow == ingress.id && msg.is_request()));
                prop_assert!(reached, "{:?}->{:?}: {:#?}", tin, tout, out);
            }
        }
    }
}

#[test]
fn req_3261_16_6_c_a_sips_request_gets_sips_record_routes() {
    let mut p = proxy();
    p.flow_opened(flow(FlowId(9), Transport::Wss, "198.51.100.9:50009"));
    register_alice(&mut p, Time(0));
    let sips = invite(
        "sips:alice@example.com",
        "SIP/2.0/WSS e.invalid;branch=z9hG4bKs9",
        "call-s9",
    );
    let out = p.handle(sips, FlowId(9), Time(1));
    let rr: Vec<_> = delivered(&out, ALICE_FLOW)
        .record_routes()
        .cloned()
        .collect();
    assert!(!rr.is_empty());
    for e in &rr {
        let u = e.sip_uri().expect("sip");
        assert!(u.secure, "{e} must be a sips: URI");
        // sips: + transport=ws names WSS (the `transport` module docs), so the entry still
        // leads to our WSS port.
        assert_eq!((u.transport_param(), u.port), (Some("ws"), Some(443)));
    }
    // A plain sip: request keeps sip: entries.
    let plain = invite(
        "sip:alice@example.com",
        "SIP/2.0/WSS e.invalid;branch=z9hG4bKs10",
        "call-s10",
    );
    let out = p.handle(plain, FlowId(9), Time(2));
    assert!(
        delivered(&out, ALICE_FLOW)
            .record_routes()
            .all(|e| e.sip_uri().is_some_and(|u| !u.secure))
    );
}

#[test]
fn reg_id_out_of_range_gets_400_not_silence() {
    let mut p = proxy();
    for bad in ["0", "2147483648", "99999999999"] {
        let req = msg(&format!(
            "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WS a.invalid;branch=z9hG4bKr{bad}
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: r{bad}
CSeq: 1 REGISTER
Max-Forwards: 70
Supported: outbound
Contact: <sip:a@a.invalid;transport=ws>;reg-id={bad};+sip.instance=\"<urn:uuid:1>\"

"
        ));
        assert_eq!(
            status(&p.handle(req, CAROL_FLOW, Time(0))),
            Some(400),
            "reg-id={bad}"
        );
    }
}

#[test]
fn req_5626_7_b_a_430_moves_the_request_to_the_instance_s_other_flow() {
    let mut p = proxy();
    let reg = |reg_id: u32, call_id: &str| {
        let mut r = register("alice", "a.invalid", "WSS", "same-instance", call_id, 1);
        for h in &mut r.headers {
            if let HeaderValue::Contact(Contact::List(l)) = &mut h.value {
                l[0].params.set("reg-id", Some(&reg_id.to_string()));
            }
        }
        r
    };
    only_send(&p.handle(reg(1, "r1"), ALICE_FLOW, Time(0)), ALICE_FLOW);
    only_send(&p.handle(reg(2, "r2"), CAROL_FLOW, Time(1)), CAROL_FLOW);
    let message = msg("MESSAGE sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKm430
From: <sip:bob@example.com>;tag=b
To: <sip:alice@example.com>
Call-ID: m430
CSeq: 1 MESSAGE
Max-Forwards: 70

hi");
    let out = p.handle(message, BOB_FLOW, Time(2));
    // The newest binding (reg-id 2 on Carol's flow) gets it first.
    let first = delivered(&out, CAROL_FLOW).clone();
    let flow_failed = response::response(&first, 430, "x", Vec::new());
    let out = p.handle(flow_failed, CAROL_FLOW, Time(3));
    // Not relayed to Bob: tried on the other reg-id's flow instead.
    let second = delivered(&out, ALICE_FLOW).clone();
    assert!(
        out.iter()
            .all(|a| !matches!(a, Action::Send { flow, .. } if *flow == BOB_FLOW))
    );
    // That one fails too: no flow is left, so the 430 reaches Bob.
    let out = p.handle(
        response::response(&second, 430, "y", Vec::new()),
        ALICE_FLOW,
        Time(4),
    );
    assert_eq!(
        only_send(&out, BOB_FLOW).status_line().map(|s| s.code),
        Some(430)
    );
}

#[test]
fn req_5626_7_b_other_final_responses_are_not_retried() {
    let mut p = proxy();
    register_alice(&mut p, Time(0));
    let again = register("alice", "b.invalid", "WS", "other-instance", "reg-o", 1);
    only_send(&p.handle(again, CAROL_FLOW, Time(1)), CAROL_FLOW);
    let out = p.handle(bob_invite("sip:alice@example.com"), BOB_FLOW, Time(2));
    let inv = delivered(&out, CAROL_FLOW).clone();
    let busy = response::response(&inv, 486, "x", Vec::new());
    let out = p.handle(busy, CAROL_FLOW, Time(3));
    assert_eq!(
        only_send(&out, BOB_FLOW).status_line().map(|s| s.code),
        Some(486)
    );
}

mod auth;
