//! Pure judgements: functions from what the target sent (parsed messages, frames, answers) to
//! a [`StepResult`](crate::step::StepResult), one module per domain concept, each tested on
//! fabricated bad input that must fail. No I/O, no world: the step functions fetch, the
//! judges decide.

pub mod close;
pub mod frames;
pub mod handshake;
pub mod keepalive;
pub mod sip;
pub mod ws_messages;
