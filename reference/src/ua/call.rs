//! Calls, our side of them: INVITE, its ACK and CANCEL, BYE (RFC 3261 §9.1, §13.2, §15.1)
//! and answering an incoming INVITE (§13.3, §12.1.1). Incoming requests and responses of a
//! call are handled in `receive.rs`, its timers in `timers.rs`.

use super::build::{self, allow_header, supported_header};
use super::{
    Call, CallHandle, CallState, Dialog, Retransmit, T1_MS, TRANSACTION_TIMEOUT_MS, TxKind, Ua,
    UaError,
};
use crate::sip::{Contact, Header, HeaderName, HeaderValue, Message, Method, NameAddr};

impl Ua {
    /// An INVITE with an optional SDP offer; the handle names the call in later events.
    pub fn invite(
        &mut self,
        to: &str,
        sdp: Option<Vec<u8>>,
        now_ms: u64,
    ) -> Result<(CallHandle, Message), UaError> {
        let target = self.parse_target(to)?;
        let call = CallHandle(self.next_call);
        self.next_call += 1;
        let contact = Contact::List(vec![self.dialog_contact()]);
        let (msg, branch) = self.out_of_dialog(
            Method::Invite,
            target,
            Some(contact),
            vec![allow_header()],
            sdp.map(|b| ("application/sdp".to_string(), b)),
        );
        self.start_tx(
            &msg,
            branch,
            TxKind::Invite(call),
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        let local_tag = msg
            .from()
            .and_then(NameAddr::tag)
            .unwrap_or_default()
            .to_string();
        self.calls.insert(
            call,
            Call {
                outgoing: true,
                state: CallState::Calling,
                invite: msg.clone(),
                local_tag,
                dialog: None,
                ack: None,
                retransmit: None,
            },
        );
        Ok((call, msg))
    }

    fn wrong_state(&self, call: CallHandle, action: &'static str) -> UaError {
        match self.calls.get(&call) {
            Some(c) => UaError::WrongState {
                call,
                action,
                state: c.state,
            },
            None => UaError::UnknownCall(call),
        }
    }

    /// The ACK for the 2xx of our INVITE (RFC 3261 §13.2.2.4): new branch, the INVITE's CSeq
    /// number with method ACK, Request-URI = remote target, Route = route set. Asking again
    /// returns the same ACK.
    pub fn ack(&mut self, call: CallHandle) -> Result<Message, UaError> {
        let branch = self.new_branch();
        let via = build::via(self.config.transport, &self.via_host, &branch);
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(UaError::UnknownCall(call))?;
        if let Some(ack) = &c.ack {
            return Ok(ack.clone());
        }
        let (true, CallState::Answered, Some(d)) = (c.outgoing, c.state, &c.dialog) else {
            return Err(self.wrong_state(call, "send ACK"));
        };
        let msg = d.request(Method::Ack, via, None);
        c.ack = Some(msg.clone());
        c.state = CallState::Confirmed;
        Ok(msg)
    }

    /// A BYE in the call's dialog (RFC 3261 §15.1.1): remote target, route set, CSeq+1.
    /// The callee must wait for the ACK of its 2xx first (§15).
    pub fn bye(&mut self, call: CallHandle, now_ms: u64) -> Result<Message, UaError> {
        let branch = self.new_branch();
        let via = build::via(self.config.transport, &self.via_host, &branch);
        let supported = self.supported();
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(UaError::UnknownCall(call))?;
        let (CallState::Answered | CallState::Confirmed, Some(d)) = (c.state, &mut c.dialog) else {
            return Err(self.wrong_state(call, "send BYE"));
        };
        d.local_seq = d.local_seq.wrapping_add(1);
        let msg = d.request(Method::Bye, via, Some(supported));
        c.state = CallState::Terminating;
        c.retransmit = None;
        self.start_tx(
            &msg,
            branch,
            TxKind::Bye(call),
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        Ok(msg)
    }

    /// A CANCEL of our pending INVITE (RFC 3261 §9.1): only after a provisional response.
    pub fn cancel(&mut self, call: CallHandle, now_ms: u64) -> Result<Message, UaError> {
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall(call))?;
        match (c.outgoing, c.state) {
            (true, CallState::Proceeding) => {}
            (true, CallState::Calling) => return Err(UaError::CancelBeforeProvisional(call)),
            _ => return Err(self.wrong_state(call, "send CANCEL")),
        }
        let branch = c
            .invite
            .top_via()
            .and_then(|v| v.branch())
            .map(str::to_string);
        let (Some(msg), Some(branch)) = (build::cancel_for(&c.invite), branch) else {
            return Err(self.wrong_state(call, "send CANCEL"));
        };
        self.start_tx(
            &msg,
            branch,
            TxKind::Cancel(call),
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        Ok(msg)
    }

    /// Answer an incoming call: 101–199 provisional, 2xx final (with our Contact, the
    /// Record-Route copied, §12.1.1; retransmitted until the ACK, §13.3.1.4), 3xx–6xx final.
    /// Every answer carries our To tag. `sdp` is the body (`application/sdp`).
    pub fn answer(
        &mut self,
        call: CallHandle,
        code: u16,
        sdp: Option<Vec<u8>>,
        now_ms: u64,
    ) -> Result<Message, UaError> {
        if !(101..=699).contains(&code) {
            return Err(UaError::BadStatus(code));
        }
        let contact = self.dialog_contact();
        let supported = self.supported();
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall(call))?;
        if c.outgoing || c.state != CallState::Incoming {
            return Err(self.wrong_state(call, "answer"));
        }
        let mut extra = Vec::new();
        if code < 300 {
            extra.extend(build::record_route_copies(&c.invite));
            extra.push(Header::new(
                HeaderName::Contact,
                HeaderValue::Contact(Contact::List(vec![contact])),
            ));
            extra.push(supported_header(supported));
        }
        if (200..300).contains(&code) {
            extra.push(allow_header());
        }
        let resp = build::response(
            &c.invite,
            code,
            &c.local_tag,
            extra,
            sdp.map(|b| ("application/sdp".to_string(), b)),
        );
        if (200..300).contains(&code) {
            // The INVITE's Contact was checked when it arrived, so this succeeds.
            let dialog = Dialog::from_request(&c.invite, &c.local_tag)
                .map_err(|_| self.wrong_state(call, "answer"))?;
            if let Some(c) = self.calls.get_mut(&call) {
                c.dialog = Some(dialog);
                c.state = CallState::WaitingAck;
                c.retransmit = Some(Retransmit {
                    msg: resp.clone(),
                    next_at: now_ms.saturating_add(T1_MS),
                    interval: T1_MS,
                    give_up_at: now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
                });
            }
        } else if code >= 300 {
            self.calls.remove(&call);
        }
        Ok(resp)
    }
}
