//! Step definitions: patterns and thin step functions, one module per domain concept. A step
//! function fetches what it judges from the [`World`], hands it to a pure judgement of
//! [`crate::judge`] and records what it observed; I/O lives in [`crate::wire`]. No step module
//! imports another: what two concepts share lives in the world, the wire or the judges.

pub mod close;
pub mod handshake;
pub mod keepalive;
pub mod registrar;
pub mod routing;
pub mod sip_exchange;
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
        registrar::STEPS,
        routing::STEPS,
    ])
}

/// Transitional, until the last modules read their captures by name: the captures
/// `p0`, `p1`, ... of a pattern in order, empty where a group did not take part.
pub(crate) fn positional(a: &crate::step::Args) -> Vec<String> {
    (0..10)
        .map(|i| a.get(&format!("p{i}")).unwrap_or_default().to_string())
        .collect()
}

/// Transitional: a definition over a step function that still takes its arguments by position.
#[macro_export]
macro_rules! legacy_step {
    ($pattern:expr, $function:path) => {
        $crate::step::StepDef {
            pattern: $pattern,
            run: |w, a, s| $function(w, $crate::steps::positional(&a), s),
        }
    };
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
