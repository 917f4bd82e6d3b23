//! `subprotocol-offers`: the `Sec-WebSocket-Protocol` values a client offers -> the server's
//! choice (RFC 7118 §4.1, RFC 6455 §4.2.2, §11.3.4, RFC 7936 §2), from
//! `sipws_reference::ws::subprotocol::choose_sip`.
//!
//! input: `{ "headers": [ <field value>, ... ] }`, one string per `Sec-WebSocket-Protocol`
//! field line in wire order (`[]` = header absent).
//! expected: `{ "selected": "sip" }` or `{ "refused": true, "reason": <requirement id> }`.

use serde_json::{Value, json};
use sipws_reference::ws::subprotocol::choose_sip;

use super::Verdict::{Acceptable, Invalid, Valid};
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "subprotocol-offers",
    description: "Sec-WebSocket-Protocol offers -> the subprotocol a SIP server selects, or the refusal",
    cases,
    compute,
};

fn compute(input: &Value) -> Result<Value, String> {
    let headers = input
        .get("headers")
        .and_then(Value::as_array)
        .ok_or("input needs an array field \"headers\"")?;
    let values = headers
        .iter()
        .map(|h| h.as_str().map(str::as_bytes))
        .collect::<Option<Vec<&[u8]>>>()
        .ok_or("every element of \"headers\" must be a string")?;
    Ok(match choose_sip(&values) {
        Ok(chosen) => json!({ "selected": chosen }),
        Err(e) => json!({ "refused": true, "reason": e.requirement() }),
    })
}

fn cases() -> Vec<Case> {
    builder::cases(ROWS, |headers| json!({ "headers": headers }))
}

/// The tests; an input is the offer, one `Sec-WebSocket-Protocol` field value per element
/// (`&[]`: no such field).
const ROWS: &[Row<&[&str]>] = &[
    Row {
        name: "sip",
        reqs: &["7118-4.1-b", "6455-4.2.2-d"],
        flags: &[],
        input: &["sip"],
        result: Valid,
        comment: "The single offer sip is selected.",
    },
    Row {
        name: "foo-sip",
        reqs: &["7118-4.1-b", "6455-4.2.2-d"],
        flags: &[],
        input: &["foo, sip"],
        result: Valid,
        comment: "sip is selected even when not first; never foo.",
    },
    Row {
        name: "sip-foo",
        reqs: &["7118-4.1-b", "6455-4.2.2-d"],
        flags: &[],
        input: &["sip, foo"],
        result: Valid,
        comment: "sip first in the list.",
    },
    Row {
        name: "two-headers",
        reqs: &["6455-11.3.4-a", "7118-4.1-b"],
        flags: &[],
        input: &["foo", "sip"],
        result: Valid,
        comment: "Repeated request fields form one list (RFC 6455 §11.3.4).",
    },
    Row {
        name: "two-headers-sip-first",
        reqs: &["6455-11.3.4-a", "7118-4.1-b"],
        flags: &[],
        input: &["sip", "foo"],
        result: Valid,
        comment: "Repeated request fields, sip in the first.",
    },
    Row {
        name: "upper-case",
        reqs: &["7936-2-a", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: &["SIP"],
        result: Invalid,
        comment: "SIP is not sip (case-sensitive match): nothing to select, the handshake is refused.",
    },
    Row {
        name: "mixed-case",
        reqs: &["7936-2-a", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: &["Sip"],
        result: Invalid,
        comment: "Sip is not sip.",
    },
    Row {
        name: "case-variants-and-sip",
        reqs: &["7936-2-a", "7118-4.1-b"],
        flags: &["A4"],
        input: &["SIP, sip"],
        result: Valid,
        comment: "The exact token is selected among case variants.",
    },
    Row {
        name: "gossip",
        reqs: &["6455-4.2.2-d", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: &["gossip"],
        result: Invalid,
        comment: "A token containing sip is not sip.",
    },
    Row {
        name: "sip2",
        reqs: &["6455-4.2.2-d", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: &["sip2"],
        result: Invalid,
        comment: "sip2 is another token.",
    },
    Row {
        name: "sips",
        reqs: &["6455-4.2.2-d", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: &["sips"],
        result: Invalid,
        comment: "sips is another token.",
    },
    Row {
        name: "quoted-sip",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &["\"sip\""],
        result: Invalid,
        comment: "A quoted string is not a token: 1#token is violated.",
    },
    Row {
        name: "slash-version",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &["sip/2.0"],
        result: Invalid,
        comment: "sip/2.0 is not a token ('/' is a separator).",
    },
    Row {
        name: "semicolon-param",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &["sip;q=1"],
        result: Invalid,
        comment: "Parameters are not part of the subprotocol grammar.",
    },
    Row {
        name: "non-token-beside-sip",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &["sip, a b"],
        result: Invalid,
        comment: "A non-token element spoils the whole list even when sip is present.",
    },
    Row {
        name: "non-ascii-second-header",
        reqs: &["6455-11.3.4-a", "6455-10.7-a"],
        flags: &[],
        input: &["sip", "s\u{e9}p"],
        result: Invalid,
        comment: "A non-ASCII element in a second field line spoils the list.",
    },
    Row {
        name: "empty-value",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &[""],
        result: Invalid,
        comment: "A field with no element breaks 1#token.",
    },
    Row {
        name: "only-commas",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: &[" , ,"],
        result: Invalid,
        comment: "Only empty elements: no element at all.",
    },
    Row {
        name: "empty-items",
        reqs: &["6455-4.2.2-d", "7118-4.1-b"],
        flags: &[],
        input: &["sip,,foo"],
        result: Valid,
        comment: "Empty list elements are skipped (RFC 7230 §7).",
    },
    Row {
        name: "leading-trailing-commas",
        reqs: &["6455-4.2.2-d", "7118-4.1-b"],
        flags: &[],
        input: &[",sip,"],
        result: Valid,
        comment: "Leading and trailing empty elements are skipped.",
    },
    Row {
        name: "empty-header-and-sip",
        reqs: &["6455-11.3.4-a", "7118-4.1-b"],
        flags: &[],
        input: &["", "sip"],
        result: Valid,
        comment: "An empty field line among non-empty ones adds no element.",
    },
    Row {
        name: "whitespace",
        reqs: &["7118-4.1-b"],
        flags: &[],
        input: &["  sip  ,\tfoo "],
        result: Valid,
        comment: "Optional whitespace around elements is ignored.",
    },
    Row {
        name: "duplicate-sip",
        reqs: &["7118-4.1-b", "6455-4.2.2-d"],
        flags: &[],
        input: &["sip, sip"],
        result: Acceptable,
        comment: "Duplicates break the client's uniqueness MUST but not the ABNF; the reference tolerates them.",
    },
    Row {
        name: "foo-only",
        reqs: &["7118-4.1-c"],
        flags: &["A3"],
        input: &["foo"],
        result: Invalid,
        comment: "sip not offered: no 101 may be sent.",
    },
    Row {
        name: "none",
        reqs: &["7118-4.1-c"],
        flags: &["A3"],
        input: &[],
        result: Invalid,
        comment: "No Sec-WebSocket-Protocol header: sip not offered.",
    },
];
