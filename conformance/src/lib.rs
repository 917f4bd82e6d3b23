//! The conformance suite's library: the raw probe that speaks to a target byte for byte
//! ([`wire`]), the verdict model ([`verdict`]) and the report writers ([`report`]). The `sipws`
//! binary is built on it.

pub mod catalogue;
pub mod discover;
pub mod embedded;
pub mod evidence;
pub mod judge;
pub mod profile;
pub mod report;
pub mod runner;
pub mod step;
pub mod steps;
pub mod suite;
pub mod target;
pub mod vectors;
pub mod verdict;
pub mod wire;
pub mod world;
