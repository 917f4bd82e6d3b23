//! What the UA reports, delivered: its `Send`s go to the outbox, its outcomes to the API calls
//! waiting for them, and every event (those too) to the application.

use super::Task;
use crate::net::client::error::ClientError;
use crate::net::client::{ClientEvent, RegisterReply, RequestReply};
use crate::sip::Message;
use crate::ua::{EndCause, FlowFailure, UaEvent, wire};

impl Task {
    /// Acts on what the UA reported: `Send`s go to the outbox, outcomes to the waiting API
    /// calls, everything else (and those too) to the application's events. `trigger` is the
    /// received payload that caused them; `cause`, why the flow failed, when it did.
    pub(super) fn on_ua_events(
        &mut self,
        evs: Vec<UaEvent>,
        trigger: Option<&[u8]>,
        cause: Option<&str>,
    ) {
        let response = || trigger.and_then(|b| Message::parse(b).ok());
        for mut ev in evs {
            if let Some(cause) = cause {
                // The UA says "the flow failed" (503); say which connection failed and how.
                if let UaEvent::RegistrationFailed { reason, .. }
                | UaEvent::RequestFailed { reason, .. }
                | UaEvent::CallFailed { reason, .. } = &mut ev
                {
                    reason.push_str(": ");
                    reason.push_str(cause);
                }
            }
            match &ev {
                UaEvent::Send(m) => {
                    self.outbox.push_back(wire(m));
                    continue;
                }
                UaEvent::Registered(reg) => {
                    self.registered_here = true;
                    self.failures = 0;
                    let reply = RegisterReply {
                        registration: reg.clone(),
                        response: response(),
                    };
                    for w in self.reg_waiters.drain(..) {
                        let _ = w.send(Ok(reply.clone()));
                    }
                }
                UaEvent::Unregistered => {
                    for w in self.unreg_waiters.drain(..) {
                        let _ = w.send(Ok(()));
                    }
                }
                UaEvent::RegistrationFailed {
                    status,
                    treated_as,
                    reason,
                    ..
                } => {
                    let err = ClientError::Request {
                        method: "REGISTER".to_string(),
                        status: *status,
                        treated_as: *treated_as,
                        reason: reason.clone(),
                    };
                    for w in self.reg_waiters.drain(..) {
                        let _ = w.send(Err(err.clone()));
                    }
                    for w in self.unreg_waiters.drain(..) {
                        let _ = w.send(Err(err.clone()));
                    }
                }
                UaEvent::RequestCompleted {
                    call_id,
                    status,
                    reason,
                    ..
                } => {
                    if let Some(w) = self.req_waiters.remove(call_id) {
                        let _ = w.send(Ok(RequestReply {
                            status: *status,
                            reason: reason.clone(),
                            response: response(),
                        }));
                    }
                }
                UaEvent::RequestFailed {
                    method,
                    call_id,
                    status,
                    treated_as,
                    reason,
                } => {
                    if let Some(w) = self.req_waiters.remove(call_id) {
                        let _ = w.send(Err(ClientError::Request {
                            method: method.to_string(),
                            status: *status,
                            treated_as: *treated_as,
                            reason: reason.clone(),
                        }));
                    }
                }
                UaEvent::CallAnswered { call, .. } if self.s.auto_ack => match self.ua.ack(*call) {
                    Ok(ack) => self.outbox.push_back(wire(&ack)),
                    Err(e) => self.emit(ClientEvent::Ua(UaEvent::Error(e))),
                },
                UaEvent::CallEnded {
                    call,
                    cause: EndCause::LocalBye { status },
                } => {
                    if let Some(w) = self.bye_waiters.remove(call) {
                        let _ = w.send(Ok(*status));
                    }
                }
                UaEvent::FlowFailed {
                    cause,
                    reconnect_after_ms,
                } => {
                    self.reregister = reconnect_after_ms.is_some();
                    if *cause == FlowFailure::PongTimeout {
                        self.pong_timeout = true;
                    }
                }
                _ => {}
            }
            self.emit(ClientEvent::Ua(ev));
        }
    }
}
