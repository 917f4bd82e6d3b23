//! The handle's commands, carried out on the UA: each becomes a request (or an answer, an
//! ACK, a raw message) in the outbox, and its reply waits for the outcome the UA reports.

use tokio::sync::oneshot;

use super::Task;
use crate::net::client::error::ClientError;
use crate::net::client::{RegisterReply, RequestReply};
use crate::sip::Message;
use crate::ua::{CallHandle, wire};
use crate::ws::codec::MessageKind;

/// Messages waiting for the connection at most; more requests are refused with
/// [`ClientError::Busy`] until it opens (or fails them).
pub(crate) const OUTBOX_LIMIT: usize = 256;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, ClientError>>;

/// What the handle asks of the task.
pub(crate) enum Command {
    Register(Reply<RegisterReply>),
    Unregister(Reply<()>),
    Message {
        to: String,
        content_type: String,
        body: Vec<u8>,
        reply: Reply<RequestReply>,
    },
    Options {
        to: String,
        reply: Reply<RequestReply>,
    },
    Invite {
        to: String,
        sdp: Option<Vec<u8>>,
        reply: Reply<CallHandle>,
    },
    Answer {
        call: CallHandle,
        code: u16,
        sdp: Option<Vec<u8>>,
        reply: Reply<()>,
    },
    Ack {
        call: CallHandle,
        reply: Reply<()>,
    },
    Bye {
        call: CallHandle,
        reply: Reply<u16>,
    },
    Cancel {
        call: CallHandle,
        reply: Reply<()>,
    },
    Raw {
        kind: MessageKind,
        bytes: Vec<u8>,
        reply: Reply<()>,
    },
    Close(oneshot::Sender<()>),
}

impl Task {
    /// Carries out one command; true when it queued a request that needs a connection.
    pub(super) fn command(&mut self, c: Command) -> bool {
        let now = self.now_ms();
        let full = self.outbox.len() >= OUTBOX_LIMIT;
        macro_rules! refuse_when_full {
            ($reply:expr) => {
                if full {
                    let _ = $reply.send(Err(ClientError::Busy));
                    return false;
                }
            };
        }
        match c {
            Command::Register(reply) => {
                refuse_when_full!(reply);
                self.reregister = false;
                let m = self.ua.register(now);
                self.outbox.push_back(wire(&m));
                self.reg_waiters.push(reply);
                true
            }
            Command::Unregister(reply) => {
                refuse_when_full!(reply);
                match self.ua.unregister(now) {
                    Ok(m) => {
                        self.reregister = false;
                        self.outbox.push_back(wire(&m));
                        self.unreg_waiters.push(reply);
                        true
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                        false
                    }
                }
            }
            Command::Message {
                to,
                content_type,
                body,
                reply,
            } => {
                refuse_when_full!(reply);
                match self.ua.message(&to, &content_type, body, now) {
                    Ok(m) => self.plain_request(m, reply),
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                        false
                    }
                }
            }
            Command::Options { to, reply } => {
                refuse_when_full!(reply);
                match self.ua.options(&to, now) {
                    Ok(m) => self.plain_request(m, reply),
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                        false
                    }
                }
            }
            Command::Invite { to, sdp, reply } => {
                refuse_when_full!(reply);
                match self.ua.invite(&to, sdp, now) {
                    Ok((call, m)) => {
                        self.outbox.push_back(wire(&m));
                        let _ = reply.send(Ok(call));
                        true
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                        false
                    }
                }
            }
            Command::Answer {
                call,
                code,
                sdp,
                reply,
            } => {
                let r = self.ua.answer(call, code, sdp, now).map(|m| {
                    self.outbox.push_back(wire(&m));
                });
                let _ = reply.send(r.map_err(ClientError::from));
                false
            }
            Command::Ack { call, reply } => {
                let r = self.ua.ack(call).map(|m| self.outbox.push_back(wire(&m)));
                let _ = reply.send(r.map_err(ClientError::from));
                false
            }
            Command::Bye { call, reply } => match self.ua.bye(call, now) {
                Ok(m) => {
                    self.outbox.push_back(wire(&m));
                    self.bye_waiters.insert(call, reply);
                    false
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                    false
                }
            },
            Command::Cancel { call, reply } => {
                let r = self
                    .ua
                    .cancel(call, now)
                    .map(|m| self.outbox.push_back(wire(&m)));
                let _ = reply.send(r.map_err(ClientError::from));
                false
            }
            Command::Raw { kind, bytes, reply } => {
                refuse_when_full!(reply);
                self.outbox.push_back((bytes, kind));
                let _ = reply.send(Ok(()));
                true
            }
            // The phases handle Close themselves.
            Command::Close(done) => {
                let _ = done.send(());
                false
            }
        }
    }

    fn plain_request(&mut self, m: Message, reply: Reply<RequestReply>) -> bool {
        let call_id = m.call_id().unwrap_or_default().to_string();
        self.outbox.push_back(wire(&m));
        self.req_waiters.insert(call_id, reply);
        true
    }
}
