//! The raw probe: hand-built upgrade requests, frames with any mask, RSV bits, opcode or length
//! encoding, splits across TCP writes, and a transcript of every byte sent and received.
//!
//! Libraries refuse to send the bytes negative tests need (unmasked client frames, invalid
//! UTF-8 in a text frame, reserved opcodes, a length that lies): this module is the one place
//! that writes them. Everything read back is parsed leniently and recorded, so a verdict can
//! show its evidence.

pub mod frame;
pub mod listener;
pub mod log;
pub mod payload;
pub mod phone;
pub mod probe;
pub mod recorder;
pub mod upgrade;

pub use crate::evidence::{Direction, Entry, Transcript};
pub use frame::{Length, RawFrame};
pub use probe::{Probe, ProbeError, Received, describe};
pub use upgrade::UpgradeRequest;
