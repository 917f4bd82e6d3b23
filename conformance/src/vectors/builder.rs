//! The one builder of the vector groups. Each group declares its tests as a table of
//! [`Row`]s — plain data, `const` wherever the input allows — in the group's own input type,
//! and [`cases`] turns any such table into the [`Case`]s whose `expected` [`super::build`]
//! computes. A group only says how its input is written as JSON; the id, requirement IDs,
//! flags, verdict and comment are carried over the same way for every group.

use serde_json::Value;

use super::{Case, Verdict};

/// One test as a group declares it, before its `expected` is computed. `I` is the group's
/// input type; a [`Case`] is a row whose input is already JSON.
#[derive(Debug, Clone)]
pub struct Row<I> {
    /// The short name; the id is `<group>/<name>`.
    pub name: &'static str,
    /// Requirement IDs (spec/requirements.md).
    pub reqs: &'static [&'static str],
    /// Ambiguity flags (spec/requirements.md §5, keys of the file's `notes`).
    pub flags: &'static [&'static str],
    pub input: I,
    /// What the RFCs say about `input`.
    pub result: Verdict,
    pub comment: &'static str,
}

/// The cases of a table, in table order (ids are names, never positions, but the files keep
/// the order the tests are written in): every row with its input written by `input`.
pub fn cases<I>(rows: &[Row<I>], input: impl Fn(&I) -> Value) -> Vec<Case> {
    rows.iter()
        .map(|row| Row {
            name: row.name,
            reqs: row.reqs,
            flags: row.flags,
            input: input(&row.input),
            result: row.result,
            comment: row.comment,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ROWS: &[Row<u8>] = &[
        Row {
            name: "two",
            reqs: &["6455-5.2-a"],
            flags: &["A18"],
            input: 2,
            result: Verdict::Invalid,
            comment: "second in the source",
        },
        Row {
            name: "one",
            reqs: &[],
            flags: &[],
            input: 1,
            result: Verdict::Valid,
            comment: "first by name",
        },
    ];

    #[test]
    fn rows_keep_their_order_and_fields_and_get_their_input_written() {
        let cases = cases(ROWS, |n| json!({ "n": n }));
        let names: Vec<_> = cases.iter().map(|c| c.name).collect();
        assert_eq!(names, ["two", "one"]);
        let first = &cases[0];
        assert_eq!(first.reqs, ["6455-5.2-a"]);
        assert_eq!(first.flags, ["A18"]);
        assert_eq!(first.input, json!({ "n": 2 }));
        assert_eq!(first.result, Verdict::Invalid);
        assert_eq!(first.comment, "second in the source");
    }
}
