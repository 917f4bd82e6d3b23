//! The UA's behaviours, each driven through parsed wire bytes. Test names carry the
//! requirement IDs of spec/requirements.md.

use super::*;
use crate::sip::response::response as server_response;
use crate::sip::{Header, StartLine, Via};

const INSTANCE: &str = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
const PUB_GRUU: &str = "sip:alice@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
const TEMP_GRUU: &str = "sip:87ash54=3dd.98a@example.com;gr";

fn config(t: WsTransport) -> UaConfig {
    UaConfig::new(
        "sip:alice@example.com",
        "sip:proxy.example.com",
        t,
        INSTANCE,
    )
    .expect("valid config")
}

fn ua_with(config: UaConfig) -> Ua {
    Ua::new(config, SplitMix64::new(1).into_source()).expect("valid config")
}

fn ua() -> Ua {
    ua_with(config(WsTransport::Wss))
}

fn msg(text: &str) -> Message {
    let crlf = text.replace('\n', "\r\n");
    Message::parse(crlf.as_bytes()).unwrap_or_else(|e| panic!("test message parses: {e}\n{text}"))
}

/// Deliver `m` as the shell would: serialized, framed, parsed again.
fn feed(ua: &mut Ua, m: &Message, now: u64) -> Vec<UaEvent> {
    let (bytes, kind) = wire(m);
    ua.receive_payload(&bytes, kind, now)
}

fn sent(events: &[UaEvent]) -> Vec<&Message> {
    events
        .iter()
        .filter_map(|e| match e {
            UaEvent::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn headers(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| Header::parse(n, v).expect("test header parses"))
        .collect()
}

/// What a server would answer: the request's Via/From/To/Call-ID/CSeq, a To tag, `extra`.
fn reply(req: &Message, code: u16, extra: &[(&str, &str)]) -> Message {
    server_response(req, code, "srvtag", headers(extra))
}

fn status(m: &Message) -> u16 {
    m.status_line().map_or(0, |s| s.code)
}

fn text(m: &Message, name: &str) -> String {
    m.value(&HeaderName::parse(name))
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A registrar's 2xx listing the REGISTER's own contact with `params` appended.
fn register_ok(req: &Message, params: &str, extra: &[(&str, &str)]) -> Message {
    let mut contact = req
        .contacts()
        .next()
        .expect("REGISTER has a contact")
        .clone();
    contact.params.remove("expires");
    let mut list = vec![("Contact", format!("{contact}{params}"))];
    list.extend(extra.iter().map(|(n, v)| (*n, v.to_string())));
    let list: Vec<(&str, &str)> = list.iter().map(|(n, v)| (*n, v.as_str())).collect();
    reply(req, 200, &list)
}

const GRUUS: &str = ";expires=600;pub-gruu=\"sip:alice@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6\";temp-gruu=\"sip:87ash54=3dd.98a@example.com;gr\"";

/// Register with Outbound confirmed and GRUUs; returns the events of the 2xx.
fn registered(ua: &mut Ua, now: u64, extra: &[(&str, &str)]) -> Vec<UaEvent> {
    let req = ua.register(now);
    let mut e = vec![("Require", "outbound")];
    e.extend_from_slice(extra);
    feed(ua, &register_ok(&req, GRUUS, &e), now)
}

fn parse_bytes(m: &Message) -> String {
    String::from_utf8_lossy(&m.to_bytes()).into_owned()
}

#[test]
fn req_7118_5_1_a_via_token_is_wss_on_wss() {
    let req = ua().register(0);
    let via = req.top_via().expect("Via");
    assert_eq!(via.transport, "WSS");
    assert_eq!(
        (via.protocol.as_str(), via.version.as_str()),
        ("SIP", "2.0")
    );
    assert!(via.host.is_invalid_tld(), "7118-B.1-a: {}", via.host);
    assert_eq!(via.port, None);
    assert!(via.has_rfc3261_branch());
    assert_eq!(via.rport(), None);
}

#[test]
fn req_7118_5_1_a_via_token_is_ws_on_ws() {
    let mut ua = ua_with(config(WsTransport::Ws));
    for m in [
        ua.register(0),
        ua.message("sip:bob@example.com", "text/plain", b"x".to_vec(), 0)
            .expect("valid"),
        ua.options("sip:bob@example.com", 0).expect("valid"),
        ua.invite("sip:bob@example.com", None, 0).expect("valid").1,
    ] {
        assert_eq!(m.top_via().map(|v| v.transport.as_str()), Some("WS"));
    }
}

#[test]
fn req_7118_8_1_f3_register_has_the_shape_of_the_rfc_example() {
    let mut c = config(WsTransport::Wss);
    c.via_host = Some("df7jal23ls0d.invalid".into());
    c.instance = "urn:uuid:f81-7dec-14a06cf1".into();
    c.expires = None;
    let req = ua_with(c).register(0);
    let branch = req
        .top_via()
        .and_then(Via::branch)
        .expect("branch")
        .to_string();
    let tag = req.from().and_then(NameAddr::tag).expect("tag").to_string();
    let call_id = req.call_id().expect("Call-ID").to_string();
    assert!(branch.starts_with("z9hG4bK") && branch.len() > 7);
    assert!(!tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(!call_id.is_empty() && call_id.bytes().all(|b| b.is_ascii_alphanumeric()));
    // RFC 7118 §8.1 F3 with this run's random values, line by line; we add Content-Length
    // (spec/requirements.md A6) and print the Contact parameters on one line.
    let f3 = format!(
        "REGISTER sip:proxy.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch={branch}\r\n\
From: sip:alice@example.com;tag={tag}\r\n\
To: sip:alice@example.com\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
Supported: path, outbound, gruu\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:f81-7dec-14a06cf1>\"\r\n\
Content-Length: 0\r\n\
\r\n"
    );
    assert_eq!(parse_bytes(&req), f3);
    assert_eq!(req.contacts().next().and_then(NameAddr::reg_id), Some(1));
    assert_eq!(
        req.contacts()
            .next()
            .and_then(NameAddr::instance)
            .as_deref(),
        Some("urn:uuid:f81-7dec-14a06cf1")
    );
    assert_eq!(req.validate(), Ok(()));
}

#[test]
fn req_5627_4_1_a_register_asks_for_gruu_without_gruu_params() {
    let req = ua().register(0);
    assert!(req.supports("gruu") && req.supports("outbound") && req.supports("path"));
    let c = req.contacts().next().expect("contact");
    assert_eq!(c.instance().as_deref(), Some(INSTANCE));
    assert!(c.pub_gruu().is_none() && c.temp_gruu().is_none());
    // The Contact is not the AoR: its host is the .invalid one.
    assert!(c.sip_uri().is_some_and(|u| u.host.is_invalid_tld()));
    assert_eq!(c.expires(), Some(DEFAULT_EXPIRES));
}

#[test]
fn req_5627_4_1_b_refresh_keeps_call_id() {
    let mut ua = ua();
    assert_eq!(ua.refresh(0), Err(UaError::NotRegistered));
    let first = ua.register(0);
    feed(&mut ua, &register_ok(&first, GRUUS, &[]), 1);
    let second = ua.refresh(2).expect("registered");
    let third = ua.refresh(3).expect("registered");
    for (a, b) in [(&first, &second), (&second, &third)] {
        assert_eq!(a.call_id(), b.call_id(), "5627-4.1-b: same Call-ID");
        assert_eq!(
            a.cseq().map(|c| c.seq + 1),
            b.cseq().map(|c| c.seq),
            "CSeq+1"
        );
        assert_eq!(
            a.from().and_then(NameAddr::tag),
            b.from().and_then(NameAddr::tag)
        );
        assert_ne!(
            a.top_via().and_then(Via::branch),
            b.top_via().and_then(Via::branch)
        );
    }
}

#[test]
fn req_5626_4_2_2_a_refresh_keeps_instance_and_reg_id() {
    let mut ua = ua();
    let first = ua.register(0);
    let again = ua.refresh(1).expect("started");
    let c1 = first.contacts().next().expect("contact");
    let c2 = again.contacts().next().expect("contact");
    assert_eq!(c1.instance(), c2.instance());
    assert_eq!(c1.reg_id(), c2.reg_id());
    assert_eq!(c1.uri, c2.uri);
}

#[test]
fn req_5626_4_2_3_a_unregister_all_has_no_reg_id() {
    let mut ua = ua();
    ua.register(0);
    let req = ua.unregister_all(1);
    assert!(req.contact_star());
    assert_eq!(req.expires(), Some(0));
    let wire = parse_bytes(&req);
    assert!(wire.contains("\r\nContact: *\r\n"), "{wire}");
    assert!(
        !wire.contains("reg-id") && !wire.contains("+sip.instance"),
        "{wire}"
    );
    let ev = feed(&mut ua, &reply(&req, 200, &[]), 2);
    assert_eq!(ev, [UaEvent::Unregistered]);
    assert_eq!(
        ua.next_refresh(3),
        None,
        "nothing to refresh after un-registering"
    );
}

#[test]
fn unregister_sends_expires_0_on_our_contact_and_forgets_the_gruu() {
    let mut ua = ua();
    assert_eq!(ua.unregister(0), Err(UaError::NotRegistered));
    registered(&mut ua, 0, &[]);
    let req = ua.unregister(1).expect("registered");
    let c = req.contacts().next().expect("contact");
    assert_eq!(c.expires(), Some(0));
    // The registrar finds the binding by instance and reg-id (RFC 5626 §6).
    assert_eq!(
        (c.instance().as_deref(), c.reg_id()),
        (Some(INSTANCE), Some(1))
    );
    assert_eq!(
        feed(&mut ua, &reply(&req, 200, &[]), 2),
        [UaEvent::Unregistered]
    );
    assert_eq!(ua.registration(), None);
    assert!(!ua.keepalive().is_active());
    let invite = ua.invite("sip:bob@example.com", None, 3).expect("valid").1;
    let contact = invite.contacts().next().expect("contact");
    assert!(
        contact.sip_uri().is_some_and(|u| u.host.is_invalid_tld()),
        "5627-4.4-a: no GRUU after un-registering"
    );
}

#[test]
fn req_5626_4_2_1_a_register_2xx_records_expires_gruus_and_require_outbound() {
    let mut ua = ua();
    let ev = registered(&mut ua, 7, &[("Flow-Timer", "30")]);
    let reg = Registration {
        expires: 600,
        pub_gruu: Some(PUB_GRUU.into()),
        temp_gruu: Some(TEMP_GRUU.into()),
        outbound: true,
        flow_timer: Some(30),
        at_ms: 7,
    };
    assert_eq!(ev, [UaEvent::Registered(reg.clone())]);
    assert_eq!(ua.registration(), Some(&reg));
    assert!(
        ua.keepalive().is_active(),
        "5626-4.2.1-b: keep-alives start"
    );
}

#[test]
fn req_5626_4_2_1_b_no_keepalive_without_require_outbound() {
    let mut ua = ua();
    let req = ua.register(0);
    let ev = feed(&mut ua, &register_ok(&req, GRUUS, &[]), 0);
    assert!(matches!(&ev[..], [UaEvent::Registered(r)] if !r.outbound));
    assert!(!ua.keepalive().is_active());
    assert_eq!(ua.keepalive_due(10_000_000), None);
}

#[test]
fn registration_matches_our_contact_among_other_bindings() {
    let mut ua = ua();
    let req = ua.register(0);
    let mut ours = req.contacts().next().expect("contact").clone();
    ours.params.remove("expires");
    let other = "<sip:alice@other.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:other>\";expires=50";
    let both = format!("{other}, {ours};expires=300");
    let ev = feed(&mut ua, &reply(&req, 200, &[("Contact", &both)]), 0);
    assert!(matches!(&ev[..], [UaEvent::Registered(r)] if r.expires == 300));
    // A 2xx that lists only someone else's binding is an error, not a registration.
    let req = ua.refresh(1).expect("started");
    let ev = feed(&mut ua, &reply(&req, 200, &[("Contact", other)]), 1);
    assert_eq!(ev[0], UaEvent::Error(UaError::ContactNotRegistered));
    assert!(matches!(
        ev[1],
        UaEvent::RegistrationFailed { status: 200, .. }
    ));
    assert_eq!(ua.registration(), None);
}

#[test]
fn req_7118_b_1_a_contact_before_registration_is_invalid_host_with_ob() {
    let mut ua = ua();
    let (_, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    let c = invite.contacts().next().expect("contact").to_string();
    assert_eq!(c, format!("<sip:alice@{};transport=ws;ob>", ua.via_host()));
}

#[test]
fn req_5627_4_4_a_dialog_contact_is_the_pub_gruu_with_ob() {
    let mut ua = ua();
    registered(&mut ua, 0, &[]);
    let (_, invite) = ua.invite("sip:bob@example.com", None, 1).expect("valid");
    // RFC 7118 §8.2 F1: Contact: <sip:alice@example.com;gr=urn:uuid:...;ob>
    assert_eq!(text(&invite, "Contact"), format!("<{PUB_GRUU};ob>"));
    assert_eq!(invite.validate(), Ok(()));
}

#[test]
fn req_5627_4_2_a_temp_gruu_alone_is_used_unchanged() {
    let mut ua = ua();
    let req = ua.register(0);
    let only_temp = format!(";expires=600;temp-gruu=\"{TEMP_GRUU}\"");
    feed(&mut ua, &register_ok(&req, &only_temp, &[]), 0);
    assert_eq!(ua.registration().and_then(|r| r.pub_gruu.clone()), None);
    assert_eq!(ua.dialog_contact().to_string(), format!("<{TEMP_GRUU};ob>"));
}

#[test]
fn req_5626_4_3_a_non_register_requests_support_outbound() {
    let mut ua = ua();
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"hi".to_vec(), 0)
        .expect("valid");
    let o = ua.options("sip:bob@example.com", 0).expect("valid");
    let (call, i) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    feed(
        &mut ua,
        &reply(
            &i,
            200,
            &[("Contact", "<sip:bob@b.invalid;transport=ws;ob>")],
        ),
        1,
    );
    ua.ack(call).expect("answered");
    let b = ua.bye(call, 2).expect("confirmed");
    for r in [&m, &o, &i, &b] {
        assert!(
            r.tokens(&HeaderName::Supported).any(|t| t == "outbound"),
            "{}",
            parse_bytes(r)
        );
    }
    // With Outbound off, no reg-id, no `ob`, no `outbound` tag.
    let mut c = config(WsTransport::Wss);
    c.outbound = false;
    let mut plain = ua_with(c);
    let reg = plain.register(0);
    assert_eq!(reg.contacts().next().and_then(NameAddr::reg_id), None);
    assert!(!reg.supports("outbound") && reg.supports("gruu"));
    assert!(!plain.dialog_contact().to_string().contains(";ob"));
}

#[test]
fn req_7118_5_3_b_response_without_received_completes() {
    let mut ua = ua();
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"hi".to_vec(), 0)
        .expect("valid");
    let ok = reply(&m, 200, &[]);
    assert_eq!(ok.top_via().and_then(Via::received), None);
    let ev = feed(&mut ua, &ok, 1);
    assert_eq!(
        ev,
        [UaEvent::RequestCompleted {
            method: Method::Message,
            call_id: m.call_id().expect("Call-ID").to_string(),
            status: 200,
            reason: "OK".into(),
        }]
    );
    assert_eq!(ua.pending_transactions(), 0);
}

#[test]
fn req_3261_18_1_2_a_response_with_a_foreign_sent_by_is_discarded() {
    let mut ua = ua();
    let m = ua.options("sip:bob@example.com", 0).expect("valid");
    let mut r = reply(&m, 200, &[]);
    for h in &mut r.headers {
        if let HeaderValue::Via(v) = &mut h.value {
            v[0].host = crate::sip::Host::Domain("attacker.example".into());
        }
    }
    let ev = feed(&mut ua, &r, 1);
    assert_eq!(
        ev,
        [UaEvent::Error(UaError::ForeignVia(
            "attacker.example".into()
        ))]
    );
    assert_eq!(
        ua.pending_transactions(),
        1,
        "the transaction is still open"
    );
}

#[test]
fn req_7118_4_2_a_text_and_binary_frames_are_accepted() {
    for kind in [MessageKind::Text, MessageKind::Binary] {
        let mut ua = ua();
        let m = ua.options("sip:bob@example.com", 0).expect("valid");
        let ev = ua.receive_payload(&reply(&m, 200, &[]).to_bytes(), kind, 1);
        assert!(
            matches!(&ev[..], [UaEvent::RequestCompleted { status: 200, .. }]),
            "{kind:?}: {ev:?}"
        );
    }
}

#[test]
fn req_7118_4_2_b_non_utf8_message_goes_in_a_binary_frame() {
    let mut ua = ua();
    let body = vec![0xff, 0xfe, 0x00, b'a', 0x80];
    let m = ua
        .message(
            "sip:bob@example.com",
            "application/octet-stream",
            body.clone(),
            0,
        )
        .expect("valid");
    assert_eq!(m.body, body);
    assert_eq!(m.content_length(), Some(5), "A6: Content-Length always set");
    let (bytes, kind) = wire(&m);
    assert_eq!(kind, MessageKind::Binary);
    assert!(bytes.ends_with(&body));
    let utf8 = ua
        .message(
            "sip:bob@example.com",
            "text/plain;charset=utf-8",
            "héllo ✓".into(),
            0,
        )
        .expect("valid");
    assert_eq!(wire(&utf8).1, MessageKind::Text);
    assert_eq!(utf8.content_length(), Some("héllo ✓".len() as u32));
    assert!(matches!(
        ua.message("sip:bob@example.com", "not a type", Vec::new(), 0),
        Err(UaError::BadContentType { .. })
    ));
}

#[test]
fn incoming_message_gets_200_and_its_body_bytes() {
    let mut ua = ua();
    let body: &[u8] = &[0xc3, 0x28, 0xff, b'\r', b'\n'];
    let mut raw = b"MESSAGE sip:alice@a.invalid;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKb1\r\n\
From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>\r\nCall-ID: m1\r\n\
CSeq: 4 MESSAGE\r\nMax-Forwards: 69\r\nContent-Type: application/octet-stream\r\n\
Content-Length: 5\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(body);
    let ev = ua.receive_payload(&raw, MessageKind::Binary, 0);
    let [
        UaEvent::Send(ok),
        UaEvent::MessageReceived {
            body: got,
            content_type,
            from,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(got, body);
    assert_eq!(content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(from.tag(), Some("b1"));
    assert_eq!(status(ok), 200);
    assert!(ok.to().and_then(NameAddr::tag).is_some(), "To tag added");
    assert_eq!(ok.vias().count(), 2, "both Vias echoed, unchanged");
    assert_eq!(ok.top_via().and_then(Via::received), None);
}

#[test]
fn incoming_options_gets_allow_and_supported() {
    let mut ua = ua();
    let ev = feed(
        &mut ua,
        &msg("OPTIONS sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WS proxy.example.com:80;branch=z9hG4bKo1
From: <sip:bob@example.com>;tag=b
To: <sip:alice@example.com>
Call-ID: o1
CSeq: 1 OPTIONS
Max-Forwards: 70

"),
        0,
    );
    let [UaEvent::Send(ok)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(status(ok), 200);
    let allow: Vec<&str> = ok.tokens(&HeaderName::Allow).collect();
    assert_eq!(allow, build::ALLOW);
    assert!(ok.supports("outbound"));
}

fn incoming_invite(call_id: &str, branch: &str) -> Message {
    msg(&format!(
        "INVITE sip:alice@a.invalid;transport=ws SIP/2.0
Via: SIP/2.0/WSS proxy.example.com:443;branch={branch}
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKbob
Record-Route: <sip:proxy.example.com;transport=udp;lr>, <sip:tok@proxy.example.com:443;transport=ws;lr>
From: <sip:bob@example.com>;tag=bobtag
To: <sip:alice@example.com>
Call-ID: {call_id}
CSeq: 7 INVITE
Max-Forwards: 69
Contact: <sip:bob@203.0.113.22:5060;transport=udp>
Content-Type: application/sdp
Content-Length: 5

v=0
"
    ))
}

fn incoming_call(ua: &mut Ua) -> (CallHandle, Message) {
    let invite = incoming_invite("in1", "z9hG4bKin1");
    let ev = feed(ua, &invite, 0);
    let [UaEvent::IncomingCall { call, body, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(body, b"v=0\r\n");
    (*call, invite)
}

#[test]
fn incoming_invite_answered_180_then_200_with_tag_contact_and_record_route() {
    let mut ua = ua();
    registered(&mut ua, 0, &[]);
    let (call, invite) = incoming_call(&mut ua);
    assert_eq!(ua.call_state(call), Some(CallState::Incoming));
    let ringing = ua.answer(call, 180, None, 1).expect("incoming");
    let ok = ua
        .answer(call, 200, Some(b"v=0 answer".to_vec()), 2)
        .expect("incoming");
    let tag = ringing.to().and_then(NameAddr::tag).expect("To tag on 180");
    assert_eq!(
        ok.to().and_then(NameAddr::tag),
        Some(tag),
        "same tag on 180 and 200"
    );
    for r in [&ringing, &ok] {
        assert_eq!(text(r, "Contact"), format!("<{PUB_GRUU};ob>"));
        let rr: Vec<String> = r.record_routes().map(ToString::to_string).collect();
        let orig: Vec<String> = invite.record_routes().map(ToString::to_string).collect();
        assert_eq!(rr, orig, "RFC 3261 §12.1.1: Record-Route copied");
        assert_eq!(r.vias().count(), 2);
    }
    assert_eq!(ok.body, b"v=0 answer");
    assert_eq!(text(&ok, "Content-Type"), "application/sdp");
    assert_eq!(ua.call_state(call), Some(CallState::WaitingAck));
    assert_eq!(
        ua.answer(call, 200, None, 3),
        Err(UaError::WrongState {
            call,
            action: "answer",
            state: CallState::WaitingAck
        })
    );
    assert_eq!(ua.answer(call, 99, None, 3), Err(UaError::BadStatus(99)));
    // The callee's route set is the Record-Route in order (3261-12.1.2-a).
    let d = ua.dialog(call).expect("dialog");
    assert_eq!(
        d.route_set[0].to_string(),
        "<sip:proxy.example.com;transport=udp;lr>"
    );
    assert_eq!(
        ua.bye(call, 3),
        Err(UaError::WrongState {
            call,
            action: "send BYE",
            state: CallState::WaitingAck
        }),
        "RFC 3261 §15: the callee waits for the ACK"
    );
    let ack = msg(&format!(
        "ACK sip:alice@example.com SIP/2.0
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKack
From: <sip:bob@example.com>;tag=bobtag
To: <sip:alice@example.com>;tag={tag}
Call-ID: in1
CSeq: 7 ACK
Max-Forwards: 69

"
    ));
    assert_eq!(feed(&mut ua, &ack, 4), [UaEvent::AckReceived { call }]);
    assert_eq!(feed(&mut ua, &ack, 5), [], "a repeated ACK is absorbed");
    assert_eq!(ua.call_state(call), Some(CallState::Confirmed));
    // Bob's BYE ends it.
    let bye = msg(&format!(
        "BYE sip:alice@example.com SIP/2.0
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKbye
From: <sip:bob@example.com>;tag=bobtag
To: <sip:alice@example.com>;tag={tag}
Call-ID: in1
CSeq: 8 BYE
Max-Forwards: 69

"
    ));
    let ev = feed(&mut ua, &bye, 6);
    let [UaEvent::Send(ok), UaEvent::CallEnded { call: ended, cause }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (status(ok), *ended, *cause),
        (200, call, EndCause::RemoteBye)
    );
    // Now the dialog is gone: the same BYE gets 481.
    let ev = feed(&mut ua, &bye, 7);
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [481]
    );
}

#[test]
fn incoming_invite_rejected_ends_the_call() {
    let mut ua = ua();
    let (call, _) = incoming_call(&mut ua);
    let busy = ua.answer(call, 486, None, 1).expect("incoming");
    assert_eq!(status(&busy), 486);
    assert_eq!(
        busy.status_line().map(|s| s.reason.as_str()),
        Some("Busy Here")
    );
    assert!(busy.contacts().next().is_none());
    assert_eq!(ua.call_state(call), None);
}

#[test]
fn incoming_cancel_gets_200_and_the_invite_487() {
    let mut ua = ua();
    let (call, invite) = incoming_call(&mut ua);
    ua.answer(call, 180, None, 1).expect("incoming");
    let cancel = msg("CANCEL sip:alice@a.invalid;transport=ws SIP/2.0
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKin1
From: <sip:bob@example.com>;tag=bobtag
To: <sip:alice@example.com>
Call-ID: in1
CSeq: 7 CANCEL
Max-Forwards: 69

");
    let ev = feed(&mut ua, &cancel, 2);
    let [
        UaEvent::Send(ok),
        UaEvent::Send(terminated),
        UaEvent::CallCancelled { call: c },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*c, call);
    assert_eq!(status(ok), 200);
    assert_eq!(ok.cseq().map(|c| c.method.clone()), Some(Method::Cancel));
    assert_eq!(status(terminated), 487);
    assert_eq!(terminated.cseq(), invite.cseq());
    assert_eq!(ua.call_state(call), None);
    // A CANCEL matching nothing gets 481.
    let ev = feed(&mut ua, &cancel, 3);
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [481]
    );
}

#[test]
fn reinvite_gets_488_and_unknown_dialog_481() {
    let mut ua = ua();
    let (call, _) = incoming_call(&mut ua);
    let ok = ua.answer(call, 200, None, 1).expect("incoming");
    let tag = ok.to().and_then(NameAddr::tag).expect("tag").to_string();
    let mut re = incoming_invite("in1", "z9hG4bKre");
    for h in &mut re.headers {
        if let HeaderValue::Address(a) = &mut h.value
            && h.name == HeaderName::To
        {
            a.params.set("tag", Some(&tag));
        }
    }
    let ev = feed(&mut ua, &re, 2);
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [488]
    );
    let mut stray = re.clone();
    for h in &mut stray.headers {
        if h.name == HeaderName::CallId {
            h.value = HeaderValue::CallId("other".into());
        }
    }
    let ev = feed(&mut ua, &stray, 3);
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [481]
    );
}

#[test]
fn unknown_method_405_unknown_require_420_invalid_400() {
    let mut ua = ua();
    let base = "SIP/2.0
Via: SIP/2.0/WS p.example.com:80;branch=z9hG4bKx
From: <sip:bob@example.com>;tag=b
To: <sip:alice@example.com>
Call-ID: x1
Max-Forwards: 70
";
    let ev = feed(
        &mut ua,
        &msg(&format!(
            "SUBSCRIBE sip:alice@a.invalid {base}CSeq: 1 SUBSCRIBE\n\n"
        )),
        0,
    );
    let [UaEvent::Send(r)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(status(r), 405);
    assert!(r.tokens(&HeaderName::Allow).any(|t| t == "MESSAGE"));
    let ev = feed(
        &mut ua,
        &msg(&format!(
            "MESSAGE sip:alice@a.invalid {base}CSeq: 1 MESSAGE\nRequire: 100rel, outbound\n\n"
        )),
        0,
    );
    let [UaEvent::Send(r)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(status(r), 420);
    assert_eq!(
        r.tokens(&HeaderName::Unsupported).collect::<Vec<_>>(),
        ["100rel"]
    );
    // CSeq method differs from the request method: 400 and an error event.
    let ev = feed(
        &mut ua,
        &msg(&format!(
            "MESSAGE sip:alice@a.invalid {base}CSeq: 1 INVITE\n\n"
        )),
        0,
    );
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [400]
    );
    assert!(matches!(
        ev[1],
        UaEvent::Error(UaError::InvalidRequest { .. })
    ));
    // An invalid ACK is never answered.
    let ev = feed(
        &mut ua,
        &msg(&format!("ACK sip:alice@a.invalid {base}CSeq: 1 INVITE\n\n")),
        0,
    );
    assert!(sent(&ev).is_empty());
    // An INVITE without Contact: 400.
    let ev = feed(
        &mut ua,
        &msg(&format!(
            "INVITE sip:alice@a.invalid {base}CSeq: 1 INVITE\n\n"
        )),
        0,
    );
    assert_eq!(
        sent(&ev).iter().map(|m| status(m)).collect::<Vec<_>>(),
        [400]
    );
}

/// Alice calls Bob through a double-record-routing proxy, as RFC 7118 §8.2.
fn answered_call(ua: &mut Ua) -> (CallHandle, Message, Message) {
    let (call, invite) = ua
        .invite("sip:bob@example.com", Some(b"v=0 offer".to_vec()), 0)
        .expect("valid");
    let trying = server_response(&invite, 100, "", Vec::new());
    assert_eq!(
        feed(ua, &trying, 1),
        [UaEvent::CallProgress {
            call,
            status: 100,
            reason: "Trying".into()
        }]
    );
    let ok = reply(
        &invite,
        200,
        &[
            (
                "Record-Route",
                "<sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
            ),
            ("Contact", "<sip:bob@203.0.113.22:5060;transport=udp>"),
        ],
    );
    let ev = feed(ua, &ok, 2);
    assert_eq!(
        ev,
        [UaEvent::CallAnswered {
            call,
            status: 200,
            body: Vec::new()
        }]
    );
    (call, invite, ok)
}

#[test]
fn req_3261_13_2_2_4_ack_for_2xx_as_rfc_7118_f6() {
    let mut ua = ua_with(
        config(WsTransport::Wss)
            .with_outbound_proxy("sip:proxy.example.com:443;transport=ws;lr")
            .expect("valid"),
    );
    let (call, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    // RFC 7118 §8.2 F1: the pre-loaded outbound-proxy Route.
    assert_eq!(
        text(&invite, "Route"),
        "<sip:proxy.example.com:443;transport=ws;lr>"
    );
    assert!(matches!(ua.ack(call), Err(UaError::WrongState { .. })));
    let ok = reply(
        &invite,
        200,
        &[
            (
                "Record-Route",
                "<sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
            ),
            ("Contact", "<sip:bob@203.0.113.22:5060;transport=udp>"),
        ],
    );
    feed(&mut ua, &ok, 1);
    let ack = ua.ack(call).expect("answered");
    let StartLine::Request(line) = &ack.start else {
        panic!("a request")
    };
    assert_eq!(line.method, Method::Ack);
    assert_eq!(
        line.uri.to_string(),
        "sip:bob@203.0.113.22:5060;transport=udp"
    );
    assert_eq!(
        text(&ack, "Route"),
        "<sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>, <sip:proxy.example.com;transport=udp;lr>"
    );
    assert_eq!(text(&ack, "CSeq"), "1 ACK");
    assert_ne!(
        ack.top_via().and_then(Via::branch),
        invite.top_via().and_then(Via::branch),
        "the ACK of a 2xx is a new transaction"
    );
    assert_eq!(ack.to().and_then(NameAddr::tag), Some("srvtag"));
    assert_eq!(ack.call_id(), invite.call_id());
    assert!(ack.contacts().next().is_none());
    assert_eq!(ack.validate(), Ok(()));
    assert_eq!(ua.call_state(call), Some(CallState::Confirmed));
    // A retransmitted 2xx gets the same ACK again (§13.2.2.4).
    let ev = feed(&mut ua, &ok, 2);
    assert_eq!(sent(&ev), [&ack]);
    assert_eq!(ua.ack(call), Ok(ack));
}

#[test]
fn req_3261_15_1_1_bye_uses_the_route_set_and_cseq_plus_1() {
    let mut ua = ua();
    let (call, _, _) = answered_call(&mut ua);
    ua.ack(call).expect("answered");
    let bye = ua.bye(call, 3).expect("confirmed");
    assert_eq!(
        bye.request_line().map(|r| r.uri.to_string()).as_deref(),
        Some("sip:bob@203.0.113.22:5060;transport=udp")
    );
    assert_eq!(text(&bye, "CSeq"), "2 BYE");
    assert_eq!(bye.routes().count(), 2);
    assert_eq!(bye.to().and_then(NameAddr::tag), Some("srvtag"));
    assert_eq!(ua.call_state(call), Some(CallState::Terminating));
    let ev = feed(&mut ua, &reply(&bye, 200, &[]), 4);
    assert_eq!(
        ev,
        [UaEvent::CallEnded {
            call,
            cause: EndCause::LocalBye { status: 200 }
        }]
    );
    assert_eq!(ua.bye(call, 5), Err(UaError::UnknownCall(call)));
}

#[test]
fn req_3261_17_1_3_responses_match_branch_and_method_cancel_then_487() {
    let mut ua = ua();
    let (call, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    assert_eq!(
        ua.cancel(call, 0),
        Err(UaError::CancelBeforeProvisional(call))
    );
    feed(&mut ua, &reply(&invite, 180, &[]), 1);
    assert_eq!(ua.call_state(call), Some(CallState::Proceeding));
    let cancel = ua.cancel(call, 2).expect("proceeding");
    assert_eq!(
        cancel.top_via(),
        invite.top_via(),
        "RFC 3261 §9.1: same Via"
    );
    assert_eq!(text(&cancel, "CSeq"), "1 CANCEL");
    assert_eq!(
        cancel.request_line().map(|r| &r.uri),
        invite.request_line().map(|r| &r.uri)
    );
    // Both responses carry the same branch; the CSeq method tells them apart.
    assert_eq!(feed(&mut ua, &reply(&cancel, 200, &[]), 3), []);
    assert_eq!(ua.call_state(call), Some(CallState::Proceeding));
    let ev = feed(&mut ua, &reply(&invite, 487, &[]), 4);
    let [
        UaEvent::Send(ack),
        UaEvent::CallFailed {
            status: 487,
            treated_as: 487,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    // RFC 3261 §17.1.1.3: the ACK of a non-2xx keeps the INVITE's branch.
    assert_eq!(ack.top_via(), invite.top_via());
    assert_eq!(text(ack, "CSeq"), "1 ACK");
    assert_eq!(ack.to().and_then(NameAddr::tag), Some("srvtag"));
    assert_eq!(ua.pending_transactions(), 0);
}

#[test]
fn req_5626_11_5_a_430_is_treated_as_400() {
    let run = |code: u16| {
        let mut ua = ua();
        registered(&mut ua, 0, &[]);
        let (call, invite) = ua.invite("sip:bob@example.com", None, 1).expect("valid");
        let ev = feed(&mut ua, &reply(&invite, code, &[]), 2);
        let m = ua
            .message("sip:bob@example.com", "text/plain", b"x".to_vec(), 3)
            .expect("valid");
        let ev2 = feed(&mut ua, &reply(&m, code, &[]), 4);
        (call, ev, ev2, ua)
    };
    let (call, ev430, msg430, ua430) = run(430);
    let (_, ev400, msg400, ua400) = run(400);
    assert!(matches!(
        &ev430[..],
        [UaEvent::Send(_), UaEvent::CallFailed { call: c, status: 430, treated_as: 400, .. }] if *c == call
    ));
    assert!(matches!(
        &msg430[..],
        [UaEvent::RequestFailed {
            status: 430,
            treated_as: 400,
            ..
        }]
    ));
    // The same behaviour as 400: same kinds of events, the flow and registration untouched.
    let kinds = |ev: &[UaEvent]| ev.iter().map(std::mem::discriminant).collect::<Vec<_>>();
    assert_eq!(kinds(&ev430), kinds(&ev400));
    assert_eq!(kinds(&msg430), kinds(&msg400));
    assert!(
        !ev430
            .iter()
            .any(|e| matches!(e, UaEvent::FlowFailed { .. }))
    );
    assert_eq!(
        ua430.registration().is_some(),
        ua400.registration().is_some()
    );
    assert!(ua430.registration().is_some());
    // REGISTER: 430 fails the registration like 400, no flow recovery.
    let mut ua = ua();
    let req = ua.register(0);
    let ev = feed(&mut ua, &reply(&req, 430, &[]), 1);
    assert_eq!(
        ev,
        [UaEvent::RegistrationFailed {
            status: 430,
            treated_as: 400,
            reason: "Flow Failed".into(),
            retry_after_ms: None
        }]
    );
}

#[test]
fn req_3261_17_a_timer_f_fails_a_request_as_408_without_retransmitting() {
    let mut ua = ua();
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"x".to_vec(), 1_000)
        .expect("valid");
    assert_eq!(ua.next_timer(1_000), Some(TRANSACTION_TIMEOUT_MS));
    for t in (1_000..33_000).step_by(250) {
        assert_eq!(ua.tick(t), [], "7118-5-a: nothing is retransmitted over WS");
    }
    let ev = ua.tick(33_000);
    let [
        UaEvent::RequestFailed {
            status: 408,
            treated_as: 408,
            call_id,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(Some(call_id.as_str()), m.call_id());
    // A late response matches nothing.
    let ev = feed(&mut ua, &reply(&m, 200, &[]), 34_000);
    assert!(matches!(
        &ev[..],
        [UaEvent::Error(UaError::UnexpectedResponse {
            status: 200,
            ..
        })]
    ));
}

#[test]
fn timer_b_stops_once_the_invite_is_proceeding() {
    let mut ua = ua();
    let (call, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    feed(&mut ua, &reply(&invite, 180, &[]), 1);
    assert_eq!(ua.tick(100_000), []);
    assert_eq!(ua.call_state(call), Some(CallState::Proceeding));
    let (call2, _) = ua.invite("sip:carol@example.com", None, 0).expect("valid");
    let ev = ua.tick(32_000);
    assert!(matches!(&ev[..], [UaEvent::CallFailed { call, status: 408, .. }] if *call == call2));
}

#[test]
fn req_3261_13_3_1_4_a_2xx_is_retransmitted_until_the_ack() {
    let mut ua = ua();
    let (call, _) = incoming_call(&mut ua);
    let ok = ua.answer(call, 200, None, 0).expect("incoming");
    let mut at = Vec::new();
    for t in (0..=10_000).step_by(50) {
        for e in ua.tick(t) {
            assert_eq!(e, UaEvent::Send(ok.clone()));
            at.push(t);
        }
    }
    // T1, then doubling to T2: 500, 1500, 3500, 7500 ms.
    assert_eq!(at, [500, 1_500, 3_500, 7_500]);
    let tag = ok.to().and_then(NameAddr::tag).expect("tag");
    let ack = msg(&format!(
        "ACK sip:alice@example.com SIP/2.0
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKack
From: <sip:bob@example.com>;tag=bobtag
To: <sip:alice@example.com>;tag={tag}
Call-ID: in1
CSeq: 7 ACK
Max-Forwards: 69

"
    ));
    assert_eq!(feed(&mut ua, &ack, 10_001), [UaEvent::AckReceived { call }]);
    assert_eq!(ua.tick(11_500), []);
    assert_eq!(ua.tick(40_000), []);
}

#[test]
fn no_ack_within_64_t1_ends_the_call_with_bye() {
    let mut ua = ua();
    let (call, _) = incoming_call(&mut ua);
    ua.answer(call, 200, None, 0).expect("incoming");
    let mut ev = Vec::new();
    for t in (0..=32_000).step_by(500) {
        ev = ua.tick(t);
    }
    let [UaEvent::Error(UaError::AckTimeout(c)), UaEvent::Send(bye)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(*c, call);
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert_eq!(
        bye.request_line().map(|r| r.uri.to_string()).as_deref(),
        Some("sip:bob@203.0.113.22:5060;transport=udp")
    );
    assert_eq!(text(bye, "CSeq"), "1 BYE");
}

#[test]
fn req_5626_4_4_a_keepalive_follows_the_flow_timer() {
    let mut ua = ua();
    registered(&mut ua, 0, &[("Flow-Timer", "30")]);
    let mut last = 0;
    let mut now = 0;
    for i in 0..20 {
        loop {
            if let Some(ping) = ua.keepalive_due(now) {
                assert_eq!(ping, b"\r\n\r\n");
                break;
            }
            now += 100;
        }
        let gap = now - last;
        assert!((24_000..=30_100).contains(&gap), "ping {i}: gap {gap}");
        assert_eq!(ua.keepalive_due(now + 50), None, "one ping outstanding");
        last = now;
        assert_eq!(ua.receive_payload(b"\r\n", MessageKind::Text, now + 30), []);
        assert_eq!(
            ua.tick(now + 10_000),
            [],
            "answered pings never fail the flow"
        );
    }
}

#[test]
fn req_5626_4_4_1_b_default_keepalive_is_95_to_120_s() {
    let mut ua = ua();
    registered(&mut ua, 0, &[]);
    assert_eq!(ua.keepalive_due(94_999), None);
    let next = ua.next_timer(0).expect("a ping is scheduled");
    assert!((95_000..=120_000).contains(&next), "{next}");
    assert!(ua.keepalive_due(next).is_some());
}

#[test]
fn req_5626_4_4_1_b_missing_pong_fails_the_flow() {
    let mut ua = ua();
    registered(&mut ua, 0, &[("Flow-Timer", "30")]);
    let t = ua.next_timer(0).expect("ping scheduled");
    assert!(ua.keepalive_due(t).is_some());
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"x".to_vec(), t)
        .expect("valid");
    assert_eq!(ua.next_timer(t), Some(10_000), "the pong deadline");
    assert_eq!(ua.tick(t + 9_999), []);
    let ev = ua.tick(t + 10_000);
    let UaEvent::FlowFailed {
        cause: FlowFailure::PongTimeout,
        reconnect_after_ms: Some(d),
    } = ev[0]
    else {
        panic!("{ev:?}")
    };
    // Registered but no pong ever: the flow was not successful (RFC 5626 §4.5), so this is
    // the first consecutive failure: 30-60 s.
    assert!((30_000..=60_000).contains(&d), "{d}");
    assert!(
        matches!(&ev[1..], [UaEvent::RequestFailed { status: 503, call_id, .. }] if Some(call_id.as_str()) == m.call_id())
    );
    assert_eq!(ua.consecutive_failures(), 1);
    assert_eq!(ua.registration(), None);
    assert!(!ua.keepalive().is_active());
    assert_eq!(ua.pending_transactions(), 0);
}

#[test]
fn req_5626_4_5_a_flow_recovery_reregisters_with_the_same_reg_id_and_backs_off() {
    let mut ua = ua();
    ua.connected(0);
    let first = ua.register(0);
    feed(
        &mut ua,
        &register_ok(&first, GRUUS, &[("Require", "outbound")]),
        1,
    );
    let t = ua.next_timer(1).expect("ping") + 1;
    assert!(ua.keepalive_due(t).is_some());
    ua.pong_received(t + 20);
    // A successful flow fails: reconnect at once (failures back to 0).
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"x".to_vec(), t + 30)
        .expect("valid");
    let ev = ua.disconnected(t + 40);
    assert_eq!(
        ev[0],
        UaEvent::FlowFailed {
            cause: FlowFailure::Closed,
            reconnect_after_ms: Some(0)
        }
    );
    assert!(
        matches!(&ev[1], UaEvent::RequestFailed { status: 503, call_id, .. } if Some(call_id.as_str()) == m.call_id())
    );
    assert!(!ua.is_connected());
    ua.connected(t + 50);
    let again = ua.register(t + 50);
    let (c1, c2) = (
        first.contacts().next().expect("contact"),
        again.contacts().next().expect("contact"),
    );
    assert_eq!(c2.reg_id(), Some(1), "5626-4.5-a: same reg-id");
    assert_eq!(c1.instance(), c2.instance());
    assert_eq!(first.call_id(), again.call_id());
    assert_eq!(again.cseq().map(|c| c.seq), Some(2));
    // The new flow fails before its registration succeeds: back-off grows per §4.5.
    let mut expected = [(30_000, 60_000), (60_000, 120_000), (120_000, 240_000)].into_iter();
    for _ in 0..3 {
        let ev = ua.disconnected(t + 60);
        let (lo, hi) = expected.next().expect("three rounds");
        assert!(
            matches!(ev[0], UaEvent::FlowFailed { cause: FlowFailure::Closed, reconnect_after_ms: Some(d) } if (lo..=hi).contains(&d)),
            "{ev:?}"
        );
    }
    assert_eq!(ua.consecutive_failures(), 3);
    // A registration without keep-alives resets the count.
    ua.connected(t + 70);
    let r = ua.register(t + 70);
    feed(&mut ua, &register_ok(&r, ";expires=600", &[]), t + 80);
    assert_eq!(ua.consecutive_failures(), 0);
    // After an un-REGISTER nobody wants a reconnect.
    let u = ua.unregister_all(t + 90);
    feed(&mut ua, &reply(&u, 200, &[]), t + 91);
    assert_eq!(
        ua.disconnected(t + 92)[0],
        UaEvent::FlowFailed {
            cause: FlowFailure::Closed,
            reconnect_after_ms: None
        }
    );
}

#[test]
fn flow_failure_ends_calls_and_fails_pending_invites() {
    let mut ua = ua();
    registered(&mut ua, 0, &[]);
    let (answered, _, _) = answered_call(&mut ua);
    let (pending, _) = ua.invite("sip:carol@example.com", None, 3).expect("valid");
    let ev = ua.disconnected(4);
    let rest: Vec<&UaEvent> = ev[1..].iter().collect();
    assert!(rest.contains(&&UaEvent::CallFailed {
        call: pending,
        status: 503,
        treated_as: 503,
        reason: "Service Unavailable: the flow failed before a response (RFC 3261 §8.1.3.1)".into()
    }));
    assert!(rest.contains(&&UaEvent::CallEnded {
        call: answered,
        cause: EndCause::FlowFailed
    }));
    assert_eq!(ua.call_state(answered), None);
    assert_eq!(ua.pending_transactions(), 0);
}

#[test]
fn next_refresh_is_at_90_percent_of_the_granted_lifetime() {
    let mut ua = ua();
    assert_eq!(ua.next_refresh(0), None);
    let req = ua.register(1_000);
    assert_eq!(ua.next_refresh(1_000), None, "in flight");
    feed(&mut ua, &register_ok(&req, ";expires=600", &[]), 1_000);
    assert_eq!(ua.next_refresh(1_000), Some(540_000));
    assert_eq!(ua.next_refresh(541_000), Some(0));
    assert_eq!(ua.next_refresh(900_000), Some(0));
    assert_eq!(ua.next_timer(1_000), Some(540_000));
    let refresh = ua.refresh(541_000).expect("registered");
    assert_eq!(ua.next_refresh(541_000), None);
    feed(
        &mut ua,
        &register_ok(&refresh, ";expires=100", &[]),
        542_000,
    );
    assert_eq!(ua.next_refresh(542_000), Some(90_000));
}

#[test]
fn req_5626_4_2_2_a_503_with_retry_after_keeps_the_flow_and_retries() {
    let mut ua = ua();
    registered(&mut ua, 0, &[]);
    let refresh = ua.refresh(540_000).expect("registered");
    let ev = feed(
        &mut ua,
        &reply(&refresh, 503, &[("Retry-After", "5")]),
        540_100,
    );
    assert_eq!(
        ev,
        [UaEvent::RegistrationFailed {
            status: 503,
            treated_as: 503,
            reason: "Service Unavailable".into(),
            retry_after_ms: Some(5_000)
        }]
    );
    assert!(ua.registration().is_some(), "the binding still stands");
    assert!(ua.keepalive().is_active(), "the flow stays up");
    assert_eq!(ua.next_refresh(540_100), Some(5_000));
    let again = ua.refresh(545_100).expect("registered");
    assert_eq!(again.call_id(), refresh.call_id());
}

#[test]
fn interval_too_brief_is_retried_with_min_expires() {
    let mut ua = ua();
    let req = ua.register(0);
    let ev = feed(&mut ua, &reply(&req, 423, &[("Min-Expires", "1800")]), 1);
    let [UaEvent::Send(again)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        again.contacts().next().and_then(NameAddr::expires),
        Some(1800)
    );
    assert_eq!(again.cseq().map(|c| c.seq), Some(2));
    // A second 423 with no higher minimum is a failure, not a loop.
    let ev = feed(&mut ua, &reply(again, 423, &[("Min-Expires", "1800")]), 2);
    assert!(matches!(
        &ev[..],
        [UaEvent::RegistrationFailed { status: 423, .. }]
    ));
}

#[test]
fn stray_and_malformed_responses_are_reported() {
    let mut ua = ua();
    let m = ua.options("sip:bob@example.com", 0).expect("valid");
    let mut other = reply(&m, 200, &[]);
    for h in &mut other.headers {
        if let HeaderValue::Via(v) = &mut h.value {
            v[0].params.set("branch", Some("z9hG4bKnotours"));
        }
    }
    assert!(matches!(
        &feed(&mut ua, &other, 1)[..],
        [UaEvent::Error(UaError::UnexpectedResponse { .. })]
    ));
    let mut two_vias = reply(&m, 200, &[]);
    two_vias.headers.insert(
        0,
        Header::parse("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bKz").expect("valid"),
    );
    assert!(matches!(
        &feed(&mut ua, &two_vias, 1)[..],
        [UaEvent::Error(UaError::ForeignVia(_))]
    ));
    // A 2xx to INVITE without Contact cannot build a dialog.
    let (call, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    let ev = feed(&mut ua, &reply(&invite, 200, &[]), 1);
    assert!(
        matches!(&ev[..], [UaEvent::Error(UaError::MalformedResponse { .. }), UaEvent::CallFailed { call: c, .. }] if *c == call)
    );
}

#[test]
fn config_is_validated() {
    let c = config(WsTransport::Wss);
    assert!(matches!(
        UaConfig::new(
            "sip:example.com",
            "sip:proxy.example.com",
            WsTransport::Wss,
            INSTANCE
        ),
        Err(UaError::AorWithoutUser(_))
    ));
    assert!(matches!(
        UaConfig::new("alice", "sip:proxy.example.com", WsTransport::Wss, INSTANCE),
        Err(UaError::BadUri { .. })
    ));
    assert!(matches!(
        UaConfig::new(
            "sip:alice@example.com",
            "sip:proxy.example.com",
            WsTransport::Wss,
            "f81d"
        ),
        Err(UaError::BadInstance(_))
    ));
    assert!(matches!(
        UaConfig::new(
            "sips:alice@example.com",
            "sips:proxy.example.com",
            WsTransport::Ws,
            INSTANCE
        ),
        Err(UaError::InsecureTransport(_))
    ));
    let mut bad = c.clone();
    bad.reg_id = 0;
    assert_eq!(bad.validate(), Err(UaError::BadRegId(0)));
    let mut bad = c.clone();
    bad.via_host = Some("1.2.3.4".into());
    assert!(Ua::new(bad, || 0).is_err());
    let mut bad = c.clone();
    bad.display_name = Some("A\nB".into());
    assert!(bad.validate().is_err());
    // 7118-9.2-a: a sips: target needs WSS.
    let mut ws = ua_with(config(WsTransport::Ws));
    assert!(matches!(
        ws.options("sips:bob@example.com", 0),
        Err(UaError::InsecureTransport(_))
    ));
    assert!(ua().options("sips:bob@example.com", 0).is_ok());
}

#[test]
fn display_name_is_quoted_in_from() {
    let mut c = config(WsTransport::Wss);
    c.display_name = Some("Alice \"A\" Liddell".into());
    let mut ua = ua_with(c);
    let m = ua.options("sip:bob@example.com", 0).expect("valid");
    assert_eq!(
        m.from().and_then(NameAddr::display_name).as_deref(),
        Some("Alice \"A\" Liddell")
    );
    assert_eq!(Message::parse(&m.to_bytes()).expect("re-parses"), m);
}

#[test]
fn keepalive_payloads_and_garbage_are_handled_without_panic() {
    let mut ua = ua();
    assert_eq!(ua.receive_payload(b"\r\n\r\n", MessageKind::Text, 0), []);
    assert_eq!(ua.receive_payload(b"\r\n", MessageKind::Text, 0), []);
    for junk in [
        &b""[..],
        b"\x00\xff",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/WS x.invalid\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\n\r\n",
        b"ACK sip:a@b SIP/2.0\r\n\r\n",
        b"CANCEL sip:a@b SIP/2.0\r\n\r\n",
        b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x;branch=z9hG4bK1\r\n\r\n",
        b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 99\r\n\r\nshort",
    ] {
        let ev = ua.receive_payload(junk, MessageKind::Binary, 0);
        assert!(
            ev.iter().any(|e| matches!(e, UaEvent::Error(_))),
            "{:?}: {ev:?}",
            String::from_utf8_lossy(junk)
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn seeds() -> Vec<Vec<u8>> {
        let mut ua = ua();
        let reg = ua.register(0);
        let (_, invite) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
        vec![
            register_ok(&reg, GRUUS, &[("Require", "outbound")]).to_bytes(),
            reply(
                &invite,
                200,
                &[
                    ("Contact", "<sip:b@b.invalid>"),
                    ("Record-Route", "<sip:p;lr>"),
                ],
            )
            .to_bytes(),
            incoming_invite("c", "z9hG4bKx").to_bytes(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        /// No received input panics the core, whatever its bytes (CONTRIBUTING.md: bad input never panics).
        #[test]
        fn arbitrary_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut ua = ua();
            ua.register(0);
            let _ = ua.receive_payload(&bytes, MessageKind::Binary, 1);
            let _ = ua.tick(100_000);
        }

        /// Valid messages with bytes flipped, cut or repeated: still no panic.
        #[test]
        fn mutated_messages_never_panic(
            which in 0usize..3,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut ua = ua();
            let seeds = seeds();
            let mut bytes = seeds[which].clone();
            for (i, b) in edits {
                let at = i.index(bytes.len());
                bytes[at] = b;
            }
            let keep = cut.index(bytes.len() + 1);
            bytes.truncate(keep.max(bytes.len() / 2));
            let _ = ua.receive_payload(&bytes, MessageKind::Binary, 1);
        }
    }
}
