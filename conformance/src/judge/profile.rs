//! What a target's answers to the probe exchanges say it can do (the target profile): pure
//! readings of a REGISTER's answer and of a relayed request. Each returns a [`Finding`]: whether
//! the target has the capability, and in words what it did that says so, which is what a skip
//! names.

use sipws_reference::sip::{HeaderName, Message, NameAddr};

use crate::judge::sip::status_text;

pub use crate::profile::Finding;

/// The class of a REGISTER's final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// 2xx: the binding exists.
    Accepted,
    /// 401 or 407: the target demands digest authentication (RFC 3261 §22).
    Challenged(String),
    /// Any other final answer, in words.
    Refused(String),
}

/// Reads the final answer to a REGISTER (RFC 3261 §10.3).
pub fn registration(resp: &Message) -> Registration {
    match resp.status_line().map(|s| s.code) {
        Some(200..=299) => Registration::Accepted,
        Some(401 | 407) => Registration::Challenged(status_text(resp)),
        _ => Registration::Refused(status_text(resp)),
    }
}

/// RFC 5626 §6: a registrar that takes a REGISTER with `reg-id` and `+sip.instance` as an
/// Outbound registration MUST put the `outbound` option tag in the 2xx's Require.
pub fn outbound(resp: &Message, who: &str) -> Finding {
    let required = resp
        .tokens(&HeaderName::Require)
        .any(|t| t.eq_ignore_ascii_case("outbound"));
    if required {
        Finding::yes(format!(
            "the 2xx to {who}'s Outbound REGISTER carried Require: outbound"
        ))
    } else {
        Finding::no(format!(
            "the 2xx to {who}'s Outbound REGISTER (reg-id, +sip.instance, Supported: outbound) carried no Require: outbound (RFC 5626 §6)"
        ))
    }
}

/// RFC 5627 §5.1: a registrar that supports GRUU adds `pub-gruu` (and `temp-gruu`) to the
/// Contact of an instance that said `Supported: gruu`; independent of Outbound.
pub fn gruu(resp: &Message, contact_host: &str, who: &str) -> Finding {
    let own = resp.contacts().find(|c| {
        c.sip_uri()
            .is_some_and(|u| u.host.to_string().eq_ignore_ascii_case(contact_host))
    });
    match own {
        Some(c) if c.pub_gruu().is_some() || c.temp_gruu().is_some() => Finding::yes(format!(
            "the 2xx to {who}'s REGISTER (Supported: gruu, +sip.instance) gave a GRUU"
        )),
        Some(_) => Finding::no(format!(
            "the 2xx to {who}'s REGISTER (Supported: gruu, +sip.instance) gave no pub-gruu or temp-gruu (RFC 5627 §5.1)"
        )),
        None => Finding::no(format!(
            "the 2xx to {who}'s REGISTER did not list the contact it registered"
        )),
    }
}

/// RFC 3327 §5.3: a registrar that supports Path copies the Path of a REGISTER into its 2xx.
/// A REGISTER that carried `probe` as its Path: the 2xx lists it (an edge in front of the
/// registrar adds its own value too).
pub fn path(resp: &Message, probe: &NameAddr, who: &str) -> Finding {
    let listed = resp.paths().any(|p| p.uri == probe.uri);
    if listed {
        Finding::yes(format!(
            "the 2xx to {who}'s REGISTER with a Path value listed it back"
        ))
    } else {
        let got: Vec<String> = resp.paths().map(|p| p.to_string()).collect();
        Finding::no(if got.is_empty() {
            format!(
                "the 2xx to {who}'s REGISTER with Path: {probe} and Supported: path carried no Path (RFC 3327 §5.3)"
            )
        } else {
            format!(
                "the 2xx to {who}'s REGISTER with Path: {probe} listed Path {} without it",
                got.join(", ")
            )
        })
    }
}

/// RFC 5626 §5.2 leaves the flow token's encoding to the edge; RFC 7118 §8.2 shows it as the
/// user part of the Record-Route URI that faces the client. A relayed request whose
/// Record-Route values all lack a user part carries no token a case could tamper with.
pub fn flow_token(record_routes: &[NameAddr], who: &str) -> Finding {
    match record_routes
        .iter()
        .find(|r| r.sip_uri().is_some_and(|u| u.user.is_some()))
    {
        Some(r) => Finding::yes(format!(
            "the request relayed to {who} was record-routed with a user part (a flow token): {r}"
        )),
        None if record_routes.is_empty() => Finding::no(format!(
            "the INVITE relayed to {who} carried no Record-Route"
        )),
        None => Finding::no(format!(
            "no Record-Route value of the INVITE relayed to {who} has a user part to hold a flow token"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse_datagram(text.replace('\n', "\r\n").as_bytes()).expect("valid SIP")
    }

    fn ok(extra: &str) -> Message {
        msg(&format!(
            "SIP/2.0 200 OK\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:a@d>;tag=2\nCall-ID: c\nCSeq: 1 REGISTER\n{extra}Content-Length: 0\n\n"
        ))
    }

    #[test]
    fn a_register_answer_is_accepted_challenged_or_refused() {
        assert_eq!(registration(&ok("")), Registration::Accepted);
        let challenge = msg(
            "SIP/2.0 401 Unauthorized\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:a@d>;tag=2\nCall-ID: c\nCSeq: 1 REGISTER\nContent-Length: 0\n\n",
        );
        assert_eq!(
            registration(&challenge),
            Registration::Challenged("401 Unauthorized".into())
        );
        let refused = msg(
            "SIP/2.0 403 Forbidden\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:a@d>;tag=2\nCall-ID: c\nCSeq: 1 REGISTER\nContent-Length: 0\n\n",
        );
        assert_eq!(
            registration(&refused),
            Registration::Refused("403 Forbidden".into())
        );
    }

    #[test]
    fn outbound_needs_require_outbound_not_supported() {
        assert!(outbound(&ok("Require: outbound\n"), "alice").have);
        assert!(outbound(&ok("Require: path, Outbound\n"), "alice").have);
        let only_supported = outbound(&ok("Supported: outbound\n"), "alice");
        assert!(!only_supported.have);
        assert!(only_supported.how.contains("no Require: outbound"));
    }

    #[test]
    fn gruu_is_read_on_the_registering_contact_only() {
        let with = ok(
            "Contact: <sip:a@h.invalid;transport=ws>;expires=600;pub-gruu=\"sip:a@d;gr=urn:uuid:1\"\n",
        );
        assert!(gruu(&with, "h.invalid", "alice").have);
        let other = ok("Contact: <sip:a@other.invalid;transport=ws>;pub-gruu=\"sip:a@d;gr=x\"\n");
        assert!(!gruu(&other, "h.invalid", "alice").have);
        let without = ok("Contact: <sip:a@h.invalid;transport=ws>;expires=600\n");
        assert!(!gruu(&without, "h.invalid", "alice").have);
    }

    #[test]
    fn path_must_come_back_with_the_probe_value() {
        let probe = NameAddr::parse("<sip:path-probe.invalid;lr>").expect("valid");
        assert!(
            path(
                &ok("Path: <sip:edge.example;lr>, <sip:path-probe.invalid;lr>\n"),
                &probe,
                "alice"
            )
            .have
        );
        assert!(!path(&ok("Path: <sip:edge.example;lr>\n"), &probe, "alice").have);
        assert!(!path(&ok(""), &probe, "alice").have);
    }

    #[test]
    fn a_flow_token_needs_a_user_part_in_some_record_route() {
        let rr = |s: &str| NameAddr::parse(s).expect("valid");
        assert!(flow_token(&[rr("<sip:tok123@proxy.example;transport=ws;lr>")], "bob").have);
        assert!(!flow_token(&[rr("<sip:proxy.example;lr>")], "bob").have);
        assert!(!flow_token(&[], "bob").have);
    }
}
