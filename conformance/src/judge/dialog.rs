//! The dialog state a party of the harness keeps (RFC 3261 §12.1) and the in-dialog requests
//! it builds from it (§12.2.1.1), so that only the target's choices are judged: the route set
//! is the Record-Route of the INVITE in order for the callee (§12.1.1) and of the 2xx reversed
//! for the caller (§12.1.2), strict routers are handled as §12.2.1.1 says, and an ACK for a 2xx
//! carries the INVITE's CSeq (§13.2.2.4).
//!
//! These are pure functions over parsed messages and live here rather than in `wire`: a
//! message that cannot set up a dialog is a verdict on the target, and what they build is SIP
//! text for the world to render (`{branch}` is left for it), not bytes on a socket.

use sipws_reference::sip::response::response;
use sipws_reference::sip::{Header, HeaderName, Message, NameAddr};

use crate::step::{StepError, StepResult};

/// An in-dialog party's view (RFC 3261 §12.1.1 for a UAS, §12.1.2 for a UAC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    /// Our From in requests we send (with our tag).
    pub local: NameAddr,
    /// Our To in requests we send (with the peer's tag).
    pub remote: NameAddr,
    pub remote_target: String,
    pub route_set: Vec<NameAddr>,
    /// The CSeq number of the last request we sent in the dialog.
    pub cseq: u32,
    /// The INVITE's CSeq number (an ACK for a 2xx carries it).
    pub invite_cseq: u32,
}

impl Dialog {
    /// The CSeq number of the next request of `method`: one more than the last (RFC 3261
    /// §12.2.1.1), except an ACK, which carries the INVITE's (§13.2.2.4).
    pub fn next_cseq(&mut self, method: &str) -> u32 {
        if method == "ACK" {
            self.invite_cseq
        } else {
            self.cseq += 1;
            self.cseq
        }
    }
}

/// The dialog a UAC gets from the 2xx to its INVITE (RFC 3261 §12.1.2).
pub fn uac(resp: &Message) -> Result<Dialog, String> {
    let local = resp.from().cloned().ok_or("the 2xx has no From")?;
    let remote = resp.to().cloned().ok_or("the 2xx has no To")?;
    if remote.tag().is_none() {
        return Err("the 2xx To has no tag".into());
    }
    let remote_target = resp
        .contacts()
        .next()
        .map(|c| c.uri.to_string())
        .ok_or("the 2xx has no Contact")?;
    let mut route_set: Vec<NameAddr> = resp.record_routes().cloned().collect();
    route_set.reverse();
    let cseq = resp.cseq().map(|c| c.seq).ok_or("the 2xx has no CSeq")?;
    Ok(Dialog {
        call_id: resp.call_id().ok_or("the 2xx has no Call-ID")?.to_string(),
        local,
        remote,
        remote_target,
        route_set,
        cseq,
        invite_cseq: cseq,
    })
}

/// The dialog a UAS gets by answering an INVITE with `local_tag` (RFC 3261 §12.1.1).
pub fn uas(req: &Message, local_tag: &str) -> Result<Dialog, String> {
    let mut local = req.to().cloned().ok_or("the INVITE has no To")?;
    local.params.set("tag", Some(local_tag));
    let remote = req.from().cloned().ok_or("the INVITE has no From")?;
    let remote_target = req
        .contacts()
        .next()
        .map(|c| c.uri.to_string())
        .ok_or("the INVITE has no Contact")?;
    let invite_cseq = req.cseq().map(|c| c.seq).ok_or("the INVITE has no CSeq")?;
    Ok(Dialog {
        call_id: req
            .call_id()
            .ok_or("the INVITE has no Call-ID")?
            .to_string(),
        local,
        remote,
        remote_target,
        route_set: req.record_routes().cloned().collect(),
        // The UAS's own numbering starts anywhere (RFC 3261 §12.1.1).
        cseq: 1000,
        invite_cseq,
    })
}

/// Does answering `req` with `code` set up a dialog? A 2xx to an INVITE does (RFC 3261 §12.1).
pub fn sets_up(req: &Message, code: u16) -> bool {
    req.method().is_some_and(|m| m.to_string() == "INVITE") && (200..300).contains(&code)
}

/// The answer to `req` with `code` and To tag `tag`. When it sets up the dialog, the UAS
/// copies the Record-Route into it and names itself in `contact` (RFC 3261 §12.1.1).
pub fn answer(req: &Message, code: u16, tag: &str, contact: &str) -> Result<Message, StepError> {
    let mut extra = Vec::new();
    if sets_up(req, code) {
        extra.extend(
            req.headers
                .iter()
                .filter(|h| h.name == HeaderName::RecordRoute)
                .cloned(),
        );
        extra.push(
            Header::parse("Contact", contact)
                .map_err(|e| StepError::harness(format!("building the Contact: {e}")))?,
        );
    }
    Ok(response(req, code, tag, extra))
}

/// An in-dialog request (RFC 3261 §12.2.1.1), with `{branch}` left for the renderer. `via` is
/// the sent-protocol and sent-by (`SIP/2.0/WS {host}`).
pub fn request(d: &Dialog, method: &str, cseq: u32, via: &str, routes: &[NameAddr]) -> String {
    let (ruri, routes): (String, Vec<String>) = match routes.first() {
        None => (d.remote_target.clone(), Vec::new()),
        Some(first) if first.sip_uri().is_some_and(|u| u.lr()) => (
            d.remote_target.clone(),
            routes.iter().map(ToString::to_string).collect(),
        ),
        // A strict router: its URI becomes the Request-URI, the remote target the last Route.
        Some(first) => (
            first.uri.to_string(),
            routes[1..]
                .iter()
                .map(ToString::to_string)
                .chain([format!("<{}>", d.remote_target)])
                .collect(),
        ),
    };
    let mut text =
        format!("{method} {ruri} SIP/2.0\nVia: {via};branch={{branch}}\nMax-Forwards: 70\n");
    if !routes.is_empty() {
        text.push_str(&format!("Route: {}\n", routes.join(", ")));
    }
    text.push_str(&format!(
        "From: {}\nTo: {}\nCall-ID: {}\nCSeq: {cseq} {method}\nContent-Length: 0\n",
        d.local, d.remote, d.call_id
    ));
    text
}

/// Another alphanumeric character, so the token stays a legal user part.
pub fn flip_char(c: char) -> char {
    match c {
        '0' => '1',
        'a' => 'b',
        'A' => 'B',
        c if c.is_ascii_digit() => '0',
        c if c.is_ascii_lowercase() => 'a',
        c if c.is_ascii_uppercase() => 'A',
        _ => 'x',
    }
}

/// Change the last character of the flow token that routes the request: the user part of the
/// last route value that has one (RFC 5626 §5.2 leaves the token's encoding open; RFC 7118
/// §8.2 shows it as the user part). With a double Record-Route (RFC 5658) the route set holds
/// the proxy twice, the value facing the sender first: its token names the sender's own flow
/// and routes nothing, the last one names the flow the request goes out on.
/// Returns the old and new user parts, or `None` when no value has a user part.
pub fn flip_token(routes: &mut [NameAddr]) -> Option<(String, String)> {
    for v in routes.iter_mut().rev() {
        let Some(u) = v.uri.as_sip_mut() else {
            continue;
        };
        let Some(user) = u.user.clone() else {
            continue;
        };
        let last = user.chars().last()?;
        let mut changed: String = user.chars().take(user.chars().count() - 1).collect();
        changed.push(flip_char(last));
        u.user = Some(changed.clone());
        return Some((user, changed));
    }
    None
}

/// The final response to a request a party sent has the status the case expects.
pub fn final_status(got: u16, want: u16) -> StepResult {
    if got == want {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "expected a final {want}, got {got}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(values: &[&str]) -> Vec<NameAddr> {
        values
            .iter()
            .map(|v| NameAddr::parse(v).expect("test values parse"))
            .collect()
    }

    #[test]
    fn token_flip_changes_exactly_one_character_of_the_routing_user_part() {
        let mut routes = addrs(&[
            "<sip:p;transport=udp;lr>",
            "<sip:ft00ab@p:80;transport=ws;lr>",
        ]);
        let (old, new) = flip_token(&mut routes).expect("a user part");
        assert_eq!((old.as_str(), new.as_str()), ("ft00ab", "ft00aa"));
        assert_eq!(routes[1].to_string(), "<sip:ft00aa@p:80;transport=ws;lr>");
        assert_eq!(routes[0].to_string(), "<sip:p;transport=udp;lr>");
        // A double Record-Route between two WebSocket flows: the sender's own token first,
        // the one that routes to the callee last.
        let mut double = addrs(&[
            "<sip:ftbob1@p:80;transport=ws;lr>",
            "<sip:ftalice1@p:80;transport=ws;lr>",
        ]);
        let (old, _) = flip_token(&mut double).expect("a user part");
        assert_eq!(old, "ftalice1");
        assert_eq!(double[0].to_string(), "<sip:ftbob1@p:80;transport=ws;lr>");
        let mut none = addrs(&["<sip:p;lr>"]);
        assert_eq!(flip_token(&mut none), None);
        for c in ['0', '9', 'a', 'z', 'A', 'Z', '-'] {
            assert_ne!(flip_char(c), c);
            assert!(flip_char(c).is_ascii_alphanumeric());
        }
    }

    const INVITE_AT_BOB: &str = "INVITE sip:bob@203.0.113.22:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKhjhjqw32c\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n\
Record-Route: <sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>\r\n\
Max-Forwards: 69\r\n\
To: sip:bob@example.com\r\n\
From: sip:alice@example.com;tag=asdyka899\r\n\
Call-ID: asidkj3ss\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn rfc_7118_f8_bye_from_the_uas_dialog() {
        // RFC 7118 §8.2 F8: Bob's route set is the Record-Route in order, the Request-URI
        // Alice's Contact.
        let invite = Message::parse(INVITE_AT_BOB.as_bytes()).expect("the example parses");
        let d = uas(&invite, "bmqkjhsd").expect("a dialog");
        let bye = request(&d, "BYE", 1201, "SIP/2.0/UDP 203.0.113.22", &d.route_set);
        assert!(
            bye.starts_with("BYE sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob SIP/2.0\n")
        );
        assert!(bye.contains(
            "Route: <sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>\n"
        ));
        assert!(bye.contains("From: sip:bob@example.com;tag=bmqkjhsd\n"));
        assert!(bye.contains("To: sip:alice@example.com;tag=asdyka899\n"));
        assert!(bye.contains("CSeq: 1201 BYE\n"));
        // An INVITE without a Contact sets up no dialog.
        let no_contact = INVITE_AT_BOB.replace(
            "Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>\r\n",
            "",
        );
        assert!(uas(&Message::parse(no_contact.as_bytes()).expect("parses"), "t").is_err());
    }

    #[test]
    fn rfc_7118_f6_ack_from_the_uac_dialog_and_strict_routers() {
        let ok = INVITE_AT_BOB
            .replace("INVITE sip:bob@203.0.113.22:5060 SIP/2.0", "SIP/2.0 200 OK")
            .replace(
                "To: sip:bob@example.com",
                "To: sip:bob@example.com;tag=bmqkjhsd",
            )
            .replace(
                "Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>",
                "Contact: <sip:bob@203.0.113.22:5060;transport=udp>",
            );
        let resp = Message::parse(ok.as_bytes()).expect("the 200 parses");
        let d = uac(&resp).expect("a dialog");
        let ack = request(&d, "ACK", d.invite_cseq, "SIP/2.0/WSS {host}", &d.route_set);
        // F6: the route set is the Record-Route reversed; CSeq 1 ACK.
        assert!(ack.starts_with("ACK sip:bob@203.0.113.22:5060;transport=udp SIP/2.0\n"));
        assert!(ack.contains(
            "Route: <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>, <sip:proxy.example.com;transport=udp;lr>\n"
        ));
        assert!(ack.contains("CSeq: 1 ACK\n"));
        // A strict router first: its URI is the Request-URI, the remote target the last Route.
        let strict = addrs(&["<sip:strict.example.com>", "<sip:p;lr>"]);
        let req = request(&d, "BYE", 2, "SIP/2.0/WS {host}", &strict);
        assert!(req.starts_with("BYE sip:strict.example.com SIP/2.0\n"));
        assert!(req.contains("Route: <sip:p;lr>, <sip:bob@203.0.113.22:5060;transport=udp>\n"));
        // A 2xx without a To tag or Contact sets up no dialog.
        let untagged = ok.replace(";tag=bmqkjhsd", "");
        assert!(uac(&Message::parse(untagged.as_bytes()).expect("parses")).is_err());
    }

    #[test]
    fn an_ack_keeps_the_invite_cseq_other_requests_advance() {
        let invite = Message::parse(INVITE_AT_BOB.as_bytes()).expect("the example parses");
        let mut d = uas(&invite, "bmqkjhsd").expect("a dialog");
        assert_eq!(d.next_cseq("ACK"), 1);
        assert_eq!(d.next_cseq("BYE"), 1001);
        assert_eq!(d.next_cseq("INFO"), 1002);
        assert_eq!(d.next_cseq("ACK"), 1);
        assert_eq!(d.cseq, 1002);
    }

    #[test]
    fn a_2xx_to_an_invite_copies_the_record_route_and_names_the_callee() {
        let invite = Message::parse(INVITE_AT_BOB.as_bytes()).expect("the example parses");
        let contact = "<sip:bob@203.0.113.22:5060;transport=udp>";
        let ok = answer(&invite, 200, "bmqkjhsd", contact).expect("a 200");
        assert_eq!(ok.record_routes().count(), 2);
        assert_eq!(
            ok.contacts().next().map(|c| c.uri.to_string()).as_deref(),
            Some("sip:bob@203.0.113.22:5060;transport=udp")
        );
        assert_eq!(ok.to().and_then(NameAddr::tag), Some("bmqkjhsd"));
        // A failure response sets up nothing: no Record-Route, no Contact.
        let busy = answer(&invite, 486, "bmqkjhsd", contact).expect("a 486");
        assert_eq!(
            (busy.record_routes().count(), busy.contacts().count()),
            (0, 0)
        );
        assert!(matches!(
            answer(&invite, 200, "t", "<sip:bob@"),
            Err(StepError::Harness(_))
        ));
        assert!(sets_up(&invite, 200) && !sets_up(&invite, 180) && !sets_up(&ok, 200));
    }

    #[test]
    fn another_final_status_breaks() {
        assert_eq!(final_status(200, 200), Ok(()));
        assert_eq!(
            final_status(483, 200),
            Err(StepError::broken("expected a final 200, got 483"))
        );
    }
}
