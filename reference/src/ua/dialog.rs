//! Dialog state (RFC 3261 §12) as plain data: built from a 2xx on the caller's side
//! (§12.1.2) or from the INVITE on the callee's side (§12.1.1), and turned into the
//! Request-URI and Route of the next in-dialog request (§12.2.1.1).

use super::build::Request;
use crate::sip::{Message, Method, NameAddr, Uri, Via};

/// One confirmed dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    /// Empty for an RFC 2543 peer that sent no From tag.
    pub remote_tag: String,
    /// Our From/To address, without tag.
    pub local: NameAddr,
    /// The peer's From/To address, without tag.
    pub remote: NameAddr,
    /// The peer's Contact URI (§12.1.1, §12.1.2).
    pub remote_target: Uri,
    /// Route set in the order requests carry it.
    pub route_set: Vec<NameAddr>,
    /// The CSeq number of our last request in the dialog (the INVITE's on the caller's side,
    /// 0 on the callee's until it sends one).
    pub local_seq: u32,
    pub remote_seq: Option<u32>,
}

fn without_tag(a: &NameAddr) -> NameAddr {
    let mut a = a.clone();
    a.params.remove("tag");
    a
}

impl Dialog {
    /// The caller's dialog from its INVITE and the 2xx (RFC 3261 §12.1.2): route set = the
    /// 2xx's Record-Route in reverse (3261-12.1.2-a), remote target = its Contact, remote tag
    /// = its To tag, local sequence = the INVITE's CSeq.
    pub fn from_2xx(invite: &Message, resp: &Message) -> Result<Dialog, &'static str> {
        let from = invite.from().ok_or("the INVITE has no From")?;
        let to = resp.to().ok_or("no To header")?;
        let remote_tag = to.tag().ok_or("no To tag (RFC 3261 §8.2.6.2)")?;
        let target = resp
            .contacts()
            .next()
            .ok_or("no Contact (RFC 3261 §12.1.1)")?;
        Ok(Dialog {
            call_id: invite
                .call_id()
                .ok_or("the INVITE has no Call-ID")?
                .to_string(),
            local_tag: from.tag().ok_or("the INVITE has no From tag")?.to_string(),
            remote_tag: remote_tag.to_string(),
            local: without_tag(from),
            remote: without_tag(to),
            remote_target: target.uri.clone(),
            route_set: {
                let mut rr: Vec<NameAddr> = resp.record_routes().cloned().collect();
                rr.reverse();
                rr
            },
            local_seq: invite.cseq().map_or(1, |c| c.seq),
            remote_seq: None,
        })
    }

    /// The callee's dialog from the INVITE (RFC 3261 §12.1.1): route set = Record-Route in
    /// order, remote target = the INVITE's Contact, remote sequence = its CSeq.
    pub fn from_request(invite: &Message, local_tag: &str) -> Result<Dialog, &'static str> {
        let from = invite.from().ok_or("no From header")?;
        let to = invite.to().ok_or("no To header")?;
        let target = invite
            .contacts()
            .next()
            .ok_or("an INVITE must carry a Contact (RFC 3261 §8.1.1.8)")?;
        Ok(Dialog {
            call_id: invite.call_id().ok_or("no Call-ID")?.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: from.tag().unwrap_or_default().to_string(),
            local: without_tag(to),
            remote: without_tag(from),
            remote_target: target.uri.clone(),
            route_set: invite.record_routes().cloned().collect(),
            local_seq: 0,
            remote_seq: invite.cseq().map(|c| c.seq),
        })
    }

    /// Is `req` (a request received) inside this dialog? Its To tag is our tag, its From tag
    /// the peer's (RFC 3261 §12.2.2).
    pub fn contains(&self, req: &Message) -> bool {
        req.call_id() == Some(self.call_id.as_str())
            && req.to().and_then(NameAddr::tag) == Some(self.local_tag.as_str())
            && req.from().and_then(NameAddr::tag).unwrap_or_default() == self.remote_tag
    }

    /// Request-URI and Route values of the next request (RFC 3261 §12.2.1.1): with a loose
    /// router first (`lr`), the remote target and the whole route set (3261-12.2.1.1-a); with
    /// a strict router, its URI as Request-URI and the remote target appended to the rest.
    pub fn target(&self) -> (Uri, Vec<NameAddr>) {
        match self.route_set.split_first() {
            None => (self.remote_target.clone(), Vec::new()),
            Some((first, _)) if first.sip_uri().is_some_and(|u| u.lr()) => {
                (self.remote_target.clone(), self.route_set.clone())
            }
            Some((first, rest)) => {
                let mut routes = rest.to_vec();
                routes.push(NameAddr::new(self.remote_target.clone()));
                (first.uri.clone(), routes)
            }
        }
    }

    /// A request in this dialog (RFC 3261 §12.2.1.1): remote target and route set, our From
    /// and the peer's To with their tags, the dialog's Call-ID and the current local CSeq.
    pub fn request(
        &self,
        method: Method,
        via: Via,
        supported: Option<&'static [&'static str]>,
    ) -> Message {
        let (uri, routes) = self.target();
        Request {
            method,
            uri,
            via,
            from: self.local_with_tag(),
            to: self.remote_with_tag(),
            call_id: self.call_id.clone(),
            cseq: self.local_seq,
            routes,
            supported,
            contact: None,
            extra: Vec::new(),
            body: None,
        }
        .build()
    }

    /// Our From address (with our tag) for a request in this dialog.
    pub fn local_with_tag(&self) -> NameAddr {
        let mut a = self.local.clone();
        a.params.set("tag", Some(&self.local_tag));
        a
    }

    /// The peer's To address (with its tag) for a request in this dialog.
    pub fn remote_with_tag(&self) -> NameAddr {
        let mut a = self.remote.clone();
        if !self.remote_tag.is_empty() {
            a.params.set("tag", Some(&self.remote_tag));
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message parses")
    }

    /// RFC 7118 §8.2 F1 and F5 (the 2xx Alice receives), joined where the RFC folds a URI.
    fn f1() -> Message {
        msg("INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks
From: sip:alice@example.com;tag=asdyka899
To: sip:bob@example.com
Call-ID: asidkj3ss
CSeq: 1 INVITE
Max-Forwards: 70
Supported: path, outbound, gruu
Route: <sip:proxy.example.com:443;transport=ws;lr>
Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>
Content-Type: application/sdp

")
    }

    fn f5() -> Message {
        msg("SIP/2.0 200 OK
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks
Record-Route: <sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>
From: sip:alice@example.com;tag=asdyka899
To: sip:bob@example.com;tag=bmqkjhsd
Call-ID: asidkj3ss
CSeq: 1 INVITE
Contact: <sip:bob@203.0.113.22:5060;transport=udp>
Content-Type: application/sdp

")
    }

    #[test]
    fn req_3261_12_1_2_a_caller_route_set_is_record_route_reversed_as_f6() {
        let d = Dialog::from_2xx(&f1(), &f5()).expect("dialog");
        let (ruri, routes) = d.target();
        // RFC 7118 §8.2 F6: R-URI = Bob's Contact; Route = Record-Route reversed.
        assert_eq!(ruri.to_string(), "sip:bob@203.0.113.22:5060;transport=udp");
        let routes: Vec<String> = routes.iter().map(ToString::to_string).collect();
        assert_eq!(
            routes,
            [
                "<sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
                "<sip:proxy.example.com;transport=udp;lr>"
            ]
        );
        assert_eq!(d.local_seq, 1);
        assert_eq!(d.local_with_tag().tag(), Some("asdyka899"));
        assert_eq!(d.remote_with_tag().tag(), Some("bmqkjhsd"));
    }

    #[test]
    fn req_3261_12_1_2_a_callee_route_set_is_record_route_in_order_as_f8() {
        let mut invite = f1();
        invite.headers.insert(
            0,
            crate::sip::Header::parse(
                "Record-Route",
                "<sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
            )
            .expect("valid"),
        );
        let d = Dialog::from_request(&invite, "bmqkjhsd").expect("dialog");
        let (ruri, routes) = d.target();
        // RFC 7118 §8.2 F8: R-URI = Alice's Contact (GRUU with ob); Route = RR in order.
        assert_eq!(
            ruri.to_string(),
            "sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob"
        );
        assert_eq!(
            routes[0].to_string(),
            "<sip:proxy.example.com;transport=udp;lr>"
        );
        assert_eq!(d.remote_seq, Some(1));
        assert_eq!(d.local_seq, 0);
        // A BYE from Bob in this dialog (F8's tags) is recognised on Alice's side too.
        let bye = msg("BYE sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKbiuiansd001
From: sip:bob@example.com;tag=bmqkjhsd
To: sip:alice@example.com;tag=asdyka899
Call-ID: asidkj3ss
CSeq: 1201 BYE

");
        let alice = Dialog::from_2xx(&f1(), &f5()).expect("dialog");
        assert!(alice.contains(&bye));
        assert!(
            !d.contains(&bye),
            "the tags are the other way round for Bob"
        );
    }

    #[test]
    fn strict_router_first_becomes_the_request_uri() {
        let resp = f5();
        let mut d = Dialog::from_2xx(&f1(), &resp).expect("dialog");
        d.route_set = vec![NameAddr::parse("<sip:strict.example.com>").expect("valid")];
        let (ruri, routes) = d.target();
        assert_eq!(ruri.to_string(), "sip:strict.example.com");
        assert_eq!(
            routes[0].uri.to_string(),
            "sip:bob@203.0.113.22:5060;transport=udp"
        );
    }

    #[test]
    fn malformed_2xx_is_refused_with_a_reason() {
        let mut resp = f5();
        resp.headers
            .retain(|h| h.name != crate::sip::HeaderName::Contact);
        assert_eq!(
            Dialog::from_2xx(&f1(), &resp),
            Err("no Contact (RFC 3261 §12.1.1)")
        );
    }
}
