//! Step definitions: patterns and thin step functions, one module per domain concept. A step
//! function fetches what it judges from the [`World`], hands it to a pure judgement of
//! [`crate::judge`] and records what it observed; I/O lives in [`crate::wire`]. No step module
//! imports another: what two concepts share lives in the world, the wire or the judges.

pub mod auth;
pub mod close;
pub mod dialog;
pub mod gruu;
pub mod handshake;
pub mod keepalive;
pub mod listener;
pub mod no_connect;
pub mod outbound;
pub mod record_route;
pub mod registration;
pub mod routed_send;
pub mod sip_exchange;
pub mod udp_side;
pub mod via;
pub mod ws_frames;
pub mod ws_messages;

use crate::step::{PatternError, Registry};
use crate::world::World;

/// Every step definition of the server role (`sipws test`: the harness plays the clients).
pub fn registry() -> Result<Registry<World>, PatternError> {
    Registry::new(&[
        handshake::STEPS,
        sip_exchange::STEPS,
        ws_frames::STEPS,
        close::STEPS,
        keepalive::STEPS,
        ws_messages::STEPS,
        udp_side::STEPS,
        listener::STEPS,
        routed_send::STEPS,
        no_connect::STEPS,
        dialog::STEPS,
        record_route::STEPS,
        registration::STEPS,
        outbound::STEPS,
        gruu::STEPS,
        auth::STEPS,
        via::STEPS,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_and_every_feature_step_matches_exactly_one() {
        let reg = match registry() {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        for case in crate::suite::load().expect("features load") {
            for s in &case.steps {
                if let Err(e) = reg.find(&s.text) {
                    panic!(
                        "{} line {}: {:?} for {:?}",
                        case.info.location, s.line, e, s.text
                    );
                }
            }
        }
    }
}
