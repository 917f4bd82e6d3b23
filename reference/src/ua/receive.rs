//! Everything received: WebSocket payloads, requests (RFC 3261 §8.2, §12.2.2, §9.2, §15.1.2)
//! and responses (§8.1.3, §17.1.3, §13.2.2.4, §10.2.4).

use crate::sip::{Header, HeaderName, HeaderValue, Host, Message, Method, NameAddr, Via};
use crate::ws::MessageKind;

use super::build::{self, SUPPORTED_OUTBOUND, allow_header, supported_header};
use super::dialog::Dialog;
use super::keepalive::PONG;
use super::registration::{OurContact, min_expires, read_register_2xx, retry_after_secs};
use super::{
    Call, CallHandle, CallState, ClientTx, EndCause, RegOp, TRANSACTION_TIMEOUT_MS, TxKind, Ua,
    UaError, UaEvent, content_type_of,
};

/// An endpoint treats 430 (Flow Failed) like 400 (5626-11.5-a): the status it acts on.
pub fn treated_as(status: u16) -> u16 {
    if status == 430 { 400 } else { status }
}

fn same_transaction(a: Option<&Via>, b: Option<&Via>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.branch().is_some()
                && a.branch() == b.branch()
                && a.host.matches(&b.host)
                && a.port == b.port
        }
        _ => false,
    }
}

impl Ua {
    /// One WebSocket data message as received, text or binary: both carry SIP alike
    /// (7118-4.2-a). A lone `\r\n` is a keep-alive pong; other runs of CR/LF are ignored as
    /// RFC 3261 §7.5 ignores CRLF between messages (a UA does not answer pings, 5626 §4.4.1).
    pub fn receive_payload(
        &mut self,
        payload: &[u8],
        kind: MessageKind,
        now_ms: u64,
    ) -> Vec<UaEvent> {
        if payload == PONG {
            self.pong_received(now_ms);
            return Vec::new();
        }
        if !payload.is_empty() && payload.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return Vec::new();
        }
        match Message::parse(payload) {
            Ok(msg) => self.receive(msg, now_ms),
            Err(error) => vec![UaEvent::Error(UaError::Unparsable { kind, error })],
        }
    }

    /// A parsed SIP message from the flow. The result holds the messages to send back
    /// ([`UaEvent::Send`]) and what happened.
    pub fn receive(&mut self, msg: Message, now_ms: u64) -> Vec<UaEvent> {
        let mut out = Vec::new();
        if msg.is_request() {
            self.on_request(msg, &mut out);
        } else {
            self.on_response(msg, now_ms, &mut out);
        }
        out
    }

    /// A response to `req` with a fresh To tag (for requests outside a dialog).
    fn reply(&mut self, req: &Message, code: u16, extra: Vec<Header>) -> Message {
        let tag = self.token(10);
        build::response(req, code, &tag, extra, None)
    }

    fn find_dialog(&self, req: &Message) -> Option<CallHandle> {
        self.calls
            .iter()
            .find(|(_, c)| c.dialog.as_ref().is_some_and(|d| d.contains(req)))
            .map(|(h, _)| *h)
    }

    fn on_request(&mut self, req: Message, out: &mut Vec<UaEvent>) {
        let Some(method) = req.method().cloned() else {
            return;
        };
        let is_ack = method == Method::Ack;
        if let Err(invalid) = req.validate() {
            // RFC 3261 §8.2: malformed requests get 400 (505 for the version); ACK never.
            if !is_ack {
                out.push(UaEvent::Send(self.reply(
                    &req,
                    invalid.status(),
                    Vec::new(),
                )));
            }
            out.push(UaEvent::Error(UaError::InvalidRequest { method, invalid }));
            return;
        }
        if !is_ack && method != Method::Cancel {
            // RFC 3261 §8.2.2.3: an extension we do not implement in Require gets 420.
            let unknown: Vec<String> = req
                .tokens(&HeaderName::Require)
                .filter(|t| !SUPPORTED_OUTBOUND.iter().any(|s| s.eq_ignore_ascii_case(t)))
                .map(str::to_string)
                .collect();
            if !unknown.is_empty() {
                let unsupported =
                    Header::new(HeaderName::Unsupported, HeaderValue::Tokens(unknown));
                out.push(UaEvent::Send(self.reply(&req, 420, vec![unsupported])));
                return;
            }
        }
        match method {
            Method::Ack => self.on_ack(&req, out),
            Method::Cancel => self.on_cancel(&req, out),
            Method::Invite => self.on_invite(req, out),
            Method::Bye => self.on_bye(&req, out),
            Method::Message => {
                out.push(UaEvent::Send(self.reply(&req, 200, Vec::new())));
                let content_type = content_type_of(&req);
                if let (Some(from), Some(to), Some(call_id)) = (req.from(), req.to(), req.call_id())
                {
                    out.push(UaEvent::MessageReceived {
                        from: from.clone(),
                        to: to.clone(),
                        call_id: call_id.to_string(),
                        content_type,
                        body: req.body,
                    });
                }
            }
            Method::Options => {
                let extra = vec![allow_header(), supported_header(self.supported())];
                out.push(UaEvent::Send(self.reply(&req, 200, extra)));
            }
            _ => {
                // RFC 3261 §8.2.1: a method we do not handle gets 405 with Allow.
                out.push(UaEvent::Send(self.reply(&req, 405, vec![allow_header()])));
            }
        }
    }

    fn on_invite(&mut self, req: Message, out: &mut Vec<UaEvent>) {
        if req.to().and_then(NameAddr::tag).is_some() {
            // A re-INVITE: the reference UA keeps its session as negotiated (488); one for no
            // dialog of ours gets 481 (RFC 3261 §12.2.2).
            let code = if self.find_dialog(&req).is_some() {
                488
            } else {
                481
            };
            out.push(UaEvent::Send(self.reply(&req, code, Vec::new())));
            return;
        }
        if req.contacts().next().is_none() {
            out.push(UaEvent::Send(self.reply(&req, 400, Vec::new())));
            out.push(UaEvent::Error(UaError::MalformedRequest {
                method: Method::Invite,
                why: "an INVITE must carry a Contact (RFC 3261 §8.1.1.8)",
            }));
            return;
        }
        if self
            .calls
            .values()
            .any(|c| !c.outgoing && same_transaction(c.invite.top_via(), req.top_via()))
        {
            // A retransmission of an INVITE we already handle: absorbed.
            return;
        }
        let call = CallHandle(self.next_call);
        self.next_call += 1;
        let local_tag = self.token(10);
        let (Some(from), Some(to)) = (req.from().cloned(), req.to().cloned()) else {
            return;
        };
        out.push(UaEvent::IncomingCall {
            call,
            from,
            to,
            content_type: content_type_of(&req),
            body: req.body.clone(),
        });
        self.calls.insert(
            call,
            Call {
                outgoing: false,
                state: CallState::Incoming,
                invite: req,
                local_tag,
                dialog: None,
                ack: None,
                retransmit: None,
            },
        );
    }

    /// RFC 3261 §9.2: a CANCEL matches the INVITE server transaction with the same top Via;
    /// 200 to the CANCEL and, if the INVITE has no final answer yet, 487 to it.
    fn on_cancel(&mut self, req: &Message, out: &mut Vec<UaEvent>) {
        let found = self
            .calls
            .iter()
            .find(|(_, c)| !c.outgoing && same_transaction(c.invite.top_via(), req.top_via()))
            .map(|(h, c)| (*h, c.state, c.local_tag.clone()));
        let Some((call, state, tag)) = found else {
            out.push(UaEvent::Send(self.reply(req, 481, Vec::new())));
            return;
        };
        out.push(UaEvent::Send(build::response(
            req,
            200,
            &tag,
            Vec::new(),
            None,
        )));
        if state == CallState::Incoming
            && let Some(c) = self.calls.remove(&call)
        {
            out.push(UaEvent::Send(build::response(
                &c.invite,
                487,
                &tag,
                Vec::new(),
                None,
            )));
            out.push(UaEvent::CallCancelled { call });
        }
    }

    /// RFC 3261 §15.1.2: a BYE in a dialog ends it (200); otherwise 481.
    fn on_bye(&mut self, req: &Message, out: &mut Vec<UaEvent>) {
        let Some(call) = self.find_dialog(req) else {
            out.push(UaEvent::Send(self.reply(req, 481, Vec::new())));
            return;
        };
        let seq = req.cseq().map_or(0, |c| c.seq);
        let tag = self
            .calls
            .get(&call)
            .map(|c| c.local_tag.clone())
            .unwrap_or_default();
        let out_of_order = self
            .calls
            .get(&call)
            .and_then(|c| c.dialog.as_ref())
            .and_then(|d| d.remote_seq)
            .is_some_and(|r| seq < r);
        if out_of_order {
            // RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
            out.push(UaEvent::Send(build::response(
                req,
                500,
                &tag,
                Vec::new(),
                None,
            )));
            return;
        }
        out.push(UaEvent::Send(build::response(
            req,
            200,
            &tag,
            Vec::new(),
            None,
        )));
        self.calls.remove(&call);
        out.push(UaEvent::CallEnded {
            call,
            cause: EndCause::RemoteBye,
        });
    }

    /// The ACK for our 2xx confirms the dialog and stops the retransmissions. An ACK for a
    /// non-2xx answer (its call is gone) or a repeated one is absorbed.
    fn on_ack(&mut self, req: &Message, out: &mut Vec<UaEvent>) {
        let Some(call) = self.find_dialog(req) else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&call)
            && c.state == CallState::WaitingAck
        {
            c.state = CallState::Confirmed;
            c.retransmit = None;
            out.push(UaEvent::AckReceived { call });
        }
    }

    fn on_response(&mut self, resp: Message, now_ms: u64, out: &mut Vec<UaEvent>) {
        let (status, reason) = resp
            .status_line()
            .map(|s| (s.code, s.reason.clone()))
            .unwrap_or_default();
        let unexpected = |why| {
            UaEvent::Error(UaError::UnexpectedResponse {
                status,
                reason: reason.clone(),
                why,
            })
        };
        let Some(via) = resp.top_via() else {
            out.push(unexpected("no Via"));
            return;
        };
        // RFC 3261 §18.1.2: a sent-by we do not insert means the response is not ours. Only
        // sent-by is checked: `received` (absent on WS, 7118-5.3-b) and `rport` are not.
        if !(via.host.matches(&Host::Domain(self.via_host.clone())) && via.port.is_none()) {
            out.push(UaEvent::Error(UaError::ForeignVia(format!(
                "{}{}",
                via.host,
                via.port.map(|p| format!(":{p}")).unwrap_or_default()
            ))));
            return;
        }
        if resp.vias().count() > 1 {
            out.push(unexpected("more than one Via (RFC 3261 §8.1.3.3)"));
            return;
        }
        let (Some(branch), Some(cseq)) = (via.branch(), resp.cseq()) else {
            out.push(unexpected("no branch or no CSeq"));
            return;
        };
        let key = (branch.to_string(), cseq.method.as_str().to_string());
        let matches = self.txs.get(&key).is_some_and(|t| t.cseq == cseq.seq);
        if !matches {
            self.on_stray_response(&resp, status, out, unexpected);
            return;
        }
        if status < 200 {
            if let Some(tx) = self.txs.get_mut(&key)
                && let TxKind::Invite(call) = tx.kind
            {
                // Timer B stops once the INVITE is proceeding (RFC 3261 §17.1.1.2).
                tx.deadline_ms = None;
                if let Some(c) = self.calls.get_mut(&call)
                    && c.state == CallState::Calling
                {
                    c.state = CallState::Proceeding;
                }
                out.push(UaEvent::CallProgress {
                    call,
                    status,
                    reason,
                });
            }
            return;
        }
        if let Some(tx) = self.txs.remove(&key) {
            self.on_final(tx, resp, status, reason, now_ms, out);
        }
    }

    /// No transaction: a retransmitted 2xx of an INVITE we have ACKed gets the ACK again
    /// (RFC 3261 §13.2.2.4); anything else is reported.
    fn on_stray_response(
        &mut self,
        resp: &Message,
        status: u16,
        out: &mut Vec<UaEvent>,
        unexpected: impl Fn(&'static str) -> UaEvent,
    ) {
        let is_invite_2xx =
            (200..300).contains(&status) && resp.cseq().is_some_and(|c| c.method == Method::Invite);
        if is_invite_2xx {
            let ack = self.calls.values().find_map(|c| {
                let d = c.dialog.as_ref()?;
                let same = c.outgoing
                    && resp.call_id() == Some(d.call_id.as_str())
                    && resp.from().and_then(NameAddr::tag) == Some(d.local_tag.as_str())
                    && resp.to().and_then(NameAddr::tag) == Some(d.remote_tag.as_str());
                if same { Some(c.ack.clone()) } else { None }
            });
            match ack {
                Some(Some(ack)) => {
                    out.push(UaEvent::Send(ack));
                    return;
                }
                // Not ACKed yet: the application's ack() will answer it.
                Some(None) => return,
                None => {}
            }
        }
        out.push(unexpected(
            "no client transaction matches its branch and CSeq (RFC 3261 §17.1.3)",
        ));
    }

    fn on_final(
        &mut self,
        tx: ClientTx,
        resp: Message,
        status: u16,
        mut reason: String,
        now_ms: u64,
        out: &mut Vec<UaEvent>,
    ) {
        let success = (200..300).contains(&status);
        if matches!(status, 401 | 407) && matches!(tx.kind, TxKind::Plain | TxKind::Invite(_)) {
            if let Some(again) = self.answer_challenge(&tx, &resp, status) {
                if let TxKind::Invite(call) = tx.kind {
                    // The 407 is ACKed first; the call goes on with the new INVITE (same
                    // Call-ID and From tag, CSeq+1, §22.2).
                    self.ack_non_2xx(call, &resp, out);
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.invite = again.clone();
                    }
                }
                let branch = again
                    .top_via()
                    .and_then(Via::branch)
                    .unwrap_or_default()
                    .to_string();
                self.start_tx(
                    &again,
                    branch.clone(),
                    tx.kind,
                    now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
                );
                let method = tx.method.as_str().to_string();
                if let Some(t) = self.txs.get_mut(&(branch, method)) {
                    t.auth_retries = tx.auth_retries + 1;
                }
                out.push(UaEvent::Send(again));
                return;
            }
            // Not answered: it fails like any other final error response, below.
            reason = self.challenge_failed_reason(reason, tx.auth_retries > 0);
        }
        match tx.kind {
            TxKind::Register(op) => self.on_register_final(op, &resp, status, reason, now_ms, out),
            TxKind::Invite(call) if success => {
                let Some(c) = self.calls.get_mut(&call) else {
                    return;
                };
                match Dialog::from_2xx(&c.invite, &resp) {
                    Ok(d) => {
                        c.dialog = Some(d);
                        c.state = CallState::Answered;
                        out.push(UaEvent::CallAnswered {
                            call,
                            status,
                            body: resp.body,
                        });
                    }
                    Err(why) => {
                        self.calls.remove(&call);
                        out.push(UaEvent::Error(UaError::MalformedResponse {
                            method: Method::Invite,
                            status,
                            why,
                        }));
                        out.push(UaEvent::CallFailed {
                            call,
                            status,
                            treated_as: 400,
                            reason: format!("malformed {status}: {why}"),
                        });
                    }
                }
            }
            TxKind::Invite(call) => {
                self.ack_non_2xx(call, &resp, out);
                self.tx_failed(tx, status, reason, out);
            }
            // A 2xx to CANCEL: the INVITE's 487 follows and ends the call.
            TxKind::Cancel(_) if success => {}
            TxKind::Bye(call) => {
                // RFC 3261 §15.1.1: the session ends whatever the BYE's answer.
                self.calls.remove(&call);
                out.push(UaEvent::CallEnded {
                    call,
                    cause: EndCause::LocalBye { status },
                });
            }
            TxKind::Plain if success => out.push(UaEvent::RequestCompleted {
                method: tx.method,
                call_id: tx.call_id,
                status,
                reason,
            }),
            TxKind::Cancel(_) | TxKind::Plain => self.tx_failed(tx, status, reason, out),
        }
    }

    /// RFC 3261 §17.1.1.3: the INVITE transaction ACKs a non-2xx final response itself.
    fn ack_non_2xx(&self, call: CallHandle, resp: &Message, out: &mut Vec<UaEvent>) {
        if let Some(ack) = self
            .calls
            .get(&call)
            .and_then(|c| build::ack_for_non_2xx(&c.invite, resp))
        {
            out.push(UaEvent::Send(ack));
        }
    }

    fn on_register_final(
        &mut self,
        op: RegOp,
        resp: &Message,
        status: u16,
        reason: String,
        now_ms: u64,
        out: &mut Vec<UaEvent>,
    ) {
        if matches!(status, 401 | 407) {
            if let Some(again) = self.answer_register_challenge(op, resp, status, now_ms) {
                out.push(UaEvent::Send(again));
                return;
            }
            self.reg.auth_retries = 0;
            let reason = self.challenge_failed_reason(reason, self.reg.sent_credentials);
            self.registration_failed(op, status, reason, None, out);
            return;
        }
        self.reg.auth_retries = 0;
        if (200..300).contains(&status) {
            if op != RegOp::Register {
                self.reg.current = None;
                self.keepalive.stop();
                out.push(UaEvent::Unregistered);
                return;
            }
            let uri = self.contact_uri();
            let ours = OurContact {
                uri: &uri,
                instance: Some(&self.config.instance),
                reg_id: self.config.outbound.then_some(self.config.reg_id),
            };
            match read_register_2xx(resp, &ours, self.reg.expires, now_ms) {
                Some(reg) => {
                    if reg.outbound && self.config.outbound {
                        // 5626-4.2.1-b: Outbound confirmed, keep-alives run; the flow counts
                        // as successful at the first pong (RFC 5626 §4.5).
                        let r = self.rand();
                        self.keepalive.start(reg.flow_timer, now_ms, r);
                    } else {
                        self.keepalive.stop();
                        self.flow.successful = true;
                        self.flow.failures = 0;
                    }
                    self.reg.current = Some(reg.clone());
                    out.push(UaEvent::Registered(reg));
                }
                None => {
                    out.push(UaEvent::Error(UaError::ContactNotRegistered));
                    self.registration_failed(
                        op,
                        status,
                        format!("{status} {reason} without our contact"),
                        None,
                        out,
                    );
                }
            }
            return;
        }
        if status == 423 && op == RegOp::Register {
            // RFC 3261 §10.2.8: retry with the registrar's minimum, once per raise.
            if let Some(min) = min_expires(resp)
                && self.reg.expires.is_none_or(|e| e < min)
            {
                self.reg.expires = Some(min);
                let again = self.send_register(RegOp::Register, now_ms);
                out.push(UaEvent::Send(again));
                return;
            }
        }
        if let Some(secs) = retry_after_secs(resp) {
            // 5626-4.2.2-a: a recoverable error keeps the flow (and the binding we still
            // have); the refresh is retried after Retry-After.
            let after = u64::from(secs) * 1000;
            self.reg.retry_at_ms = Some(now_ms.saturating_add(after));
            out.push(UaEvent::RegistrationFailed {
                status,
                treated_as: treated_as(status),
                reason,
                retry_after_ms: Some(after),
            });
            return;
        }
        self.registration_failed(op, status, reason, None, out);
    }

    pub(super) fn registration_failed(
        &mut self,
        op: RegOp,
        status: u16,
        reason: String,
        retry_after_ms: Option<u64>,
        out: &mut Vec<UaEvent>,
    ) {
        if op == RegOp::Register {
            self.reg.current = None;
            self.keepalive.stop();
        }
        out.push(UaEvent::RegistrationFailed {
            status,
            treated_as: treated_as(status),
            reason,
            retry_after_ms,
        });
    }

    /// A transaction ended without success: a final non-2xx, Timer B/F (408) or a failed
    /// flow (503).
    pub(super) fn tx_failed(
        &mut self,
        tx: ClientTx,
        status: u16,
        reason: String,
        out: &mut Vec<UaEvent>,
    ) {
        match tx.kind {
            TxKind::Register(op) => self.registration_failed(op, status, reason, None, out),
            TxKind::Invite(call) => {
                self.calls.remove(&call);
                out.push(UaEvent::CallFailed {
                    call,
                    status,
                    treated_as: treated_as(status),
                    reason,
                });
            }
            TxKind::Bye(call) => {
                self.calls.remove(&call);
                out.push(UaEvent::CallEnded {
                    call,
                    cause: EndCause::LocalBye { status },
                });
            }
            TxKind::Cancel(_) | TxKind::Plain => out.push(UaEvent::RequestFailed {
                method: tx.method,
                call_id: tx.call_id,
                status,
                treated_as: treated_as(status),
                reason,
            }),
        }
    }
}
