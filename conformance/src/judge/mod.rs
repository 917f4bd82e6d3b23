//! Pure judgements: functions from what the target sent (parsed messages, frames, answers) to
//! a [`StepResult`](crate::step::StepResult), one module per domain concept, each tested on
//! fabricated bad input that must fail. No I/O, no world: the step functions fetch, the
//! judges decide.

pub mod auth;
pub mod close;
pub mod dialog;
pub mod forwarding;
pub mod frames;
pub mod gruu;
pub mod handshake;
pub mod invariants;
pub mod keepalive;
pub mod no_connect;
pub mod outbound;
pub mod profile;
pub mod record_route;
pub mod registration;
pub mod sip;
pub mod udp_side;
pub mod via;
pub mod ws_messages;
