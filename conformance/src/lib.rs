//! The conformance suite's library: the raw probe that speaks to a target byte for byte
//! ([`wire`]). The `sipws` binary is built on it.

pub mod wire;
