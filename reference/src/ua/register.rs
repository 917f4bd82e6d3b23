//! Sending REGISTER: registering, refreshing and removing our binding (RFC 3261 §10.2;
//! RFC 5626 §4.2; RFC 5627 §4.1), with credentials once the registrar has challenged
//! (RFC 3261 §22.3). Reading the registrar's answer is `registration.rs`.

use super::build::{self, Request};
use super::{RegOp, TRANSACTION_TIMEOUT_MS, TxKind, Ua, UaError};
use crate::sip::{Contact, Header, HeaderName, HeaderValue, Message, Method, NameAddr, Uri};

impl Ua {
    /// The initial REGISTER (and, after a flow failure, the one on the new flow: same
    /// Call-ID, next CSeq, same instance and reg-id, 5626-4.5-a).
    pub fn register(&mut self, now_ms: u64) -> Message {
        self.reg.wanted = true;
        self.send_register(RegOp::Register, now_ms)
    }

    /// A refresh: same Call-ID, CSeq+1, same instance and reg-id (5627-4.1-b, 5626-4.2.2-a).
    pub fn refresh(&mut self, now_ms: u64) -> Result<Message, UaError> {
        if !self.reg.started {
            return Err(UaError::NotRegistered);
        }
        self.reg.wanted = true;
        Ok(self.send_register(RegOp::Register, now_ms))
    }

    /// Remove our binding: our contact (instance and reg-id kept, so the registrar finds the
    /// binding) with `expires=0`.
    pub fn unregister(&mut self, now_ms: u64) -> Result<Message, UaError> {
        if !self.reg.started {
            return Err(UaError::NotRegistered);
        }
        self.reg.wanted = false;
        Ok(self.send_register(RegOp::Unregister, now_ms))
    }

    /// Remove every binding of the AoR: `Contact: *` and `Expires: 0`, without reg-id or
    /// instance (RFC 3261 §10.2.2; 5626-4.2.3-a).
    pub fn unregister_all(&mut self, now_ms: u64) -> Message {
        self.reg.wanted = false;
        self.send_register(RegOp::UnregisterAll, now_ms)
    }

    pub(super) fn send_register(&mut self, op: RegOp, now_ms: u64) -> Message {
        self.reg.cseq = self.reg.cseq.wrapping_add(1).max(1);
        self.reg.started = true;
        self.reg.retry_at_ms = None;
        let branch = self.new_branch();
        let (contact, extra) = match op {
            RegOp::Register => (
                Contact::List(vec![self.register_contact(self.reg.expires)]),
                Vec::new(),
            ),
            RegOp::Unregister => (
                Contact::List(vec![self.register_contact(Some(0))]),
                Vec::new(),
            ),
            RegOp::UnregisterAll => (
                Contact::Star,
                vec![Header::new(HeaderName::Expires, HeaderValue::Number(0))],
            ),
        };
        let mut extra = extra;
        self.reg.sent_credentials = false;
        if let Some((name, challenge, nc)) = self.reg.challenge.take() {
            let uri = Uri::Sip(self.config.registrar.clone());
            let header =
                self.credentials_header(name.clone(), &challenge, &Method::Register, &uri, nc + 1);
            self.reg.sent_credentials = header.is_some();
            extra.extend(header);
            self.reg.challenge = Some((name, challenge, nc + 1));
        }
        let msg = Request {
            method: Method::Register,
            uri: Uri::Sip(self.config.registrar.clone()),
            via: build::via(self.config.transport, &self.via_host, &branch),
            from: self.local_address(Some(&self.reg.from_tag)),
            to: self.local_address(None),
            call_id: self.reg.call_id.clone(),
            cseq: self.reg.cseq,
            routes: self.outbound_routes(),
            supported: Some(self.supported()),
            contact: Some(contact),
            extra,
            body: None,
        }
        .build();
        self.start_tx(
            &msg,
            branch,
            TxKind::Register(op),
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        msg
    }

    /// The REGISTER Contact: reg-id with Outbound (5626-4.2.1-a), `+sip.instance` always
    /// (5627-4.1-a), never `pub-gruu`/`temp-gruu`.
    fn register_contact(&self, expires: Option<u32>) -> NameAddr {
        let mut c = NameAddr::new(Uri::Sip(self.contact_uri()));
        if self.config.outbound {
            c.params
                .set("reg-id", Some(&self.config.reg_id.to_string()));
        }
        c.params.set(
            "+sip.instance",
            Some(&format!("\"<{}>\"", self.config.instance)),
        );
        if let Some(e) = expires {
            c.params.set("expires", Some(&e.to_string()));
        }
        c
    }
}
