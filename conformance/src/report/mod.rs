//! Report writers: console (one line per case and a summary), JSON (schema in
//! `conformance/report.schema.json`), JUnit XML (for CI).

pub mod console;
pub mod junit;

use std::io::Write;

use crate::verdict::Report;

/// The JSON report, pretty-printed.
pub fn write_json(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
