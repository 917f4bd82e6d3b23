//! Shared helpers for the cross-crate integration tests in `tests/tests/`.

use std::path::PathBuf;

/// A file under `tests/data/` (the RFC 4475 torture messages, the RFC 7118 examples).
pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(relative)
}

pub mod interop;
pub mod verdicts;
