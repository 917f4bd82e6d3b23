//! `subprotocol-offers`: the `Sec-WebSocket-Protocol` values a client offers -> the server's
//! choice (RFC 7118 §4.1, RFC 6455 §4.2.2, §11.3.4, RFC 7936 §2), from
//! `sipws_reference::ws::subprotocol::choose_sip`.
//!
//! input: `{ "headers": [ <field value>, ... ] }`, one string per `Sec-WebSocket-Protocol`
//! field line in wire order (`[]` = header absent).
//! expected: `{ "selected": "sip" }` or `{ "refused": true, "reason": <requirement id> }`.

use serde_json::{Value, json};
use sipws_reference::ws::subprotocol::choose_sip;

use super::{Case, Group, Verdict};

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

fn case(
    name: &'static str,
    reqs: &'static [&'static str],
    flags: &'static [&'static str],
    headers: &[&str],
    result: Verdict,
    comment: &'static str,
) -> Case {
    Case {
        name,
        reqs,
        comment,
        flags,
        input: json!({ "headers": headers }),
        result,
    }
}

fn cases() -> Vec<Case> {
    use Verdict::*;
    vec![
        case(
            "sip",
            &["7118-4.1-b", "6455-4.2.2-d"],
            &[],
            &["sip"],
            Valid,
            "The single offer sip is selected.",
        ),
        case(
            "foo-sip",
            &["7118-4.1-b", "6455-4.2.2-d"],
            &[],
            &["foo, sip"],
            Valid,
            "sip is selected even when not first; never foo.",
        ),
        case(
            "sip-foo",
            &["7118-4.1-b", "6455-4.2.2-d"],
            &[],
            &["sip, foo"],
            Valid,
            "sip first in the list.",
        ),
        case(
            "two-headers",
            &["6455-11.3.4-a", "7118-4.1-b"],
            &[],
            &["foo", "sip"],
            Valid,
            "Repeated request fields form one list (RFC 6455 §11.3.4).",
        ),
        case(
            "two-headers-sip-first",
            &["6455-11.3.4-a", "7118-4.1-b"],
            &[],
            &["sip", "foo"],
            Valid,
            "Repeated request fields, sip in the first.",
        ),
        case(
            "upper-case",
            &["7936-2-a", "7118-4.1-c"],
            &["A3", "A4"],
            &["SIP"],
            Invalid,
            "SIP is not sip (case-sensitive match): nothing to select, the handshake is refused.",
        ),
        case(
            "mixed-case",
            &["7936-2-a", "7118-4.1-c"],
            &["A3", "A4"],
            &["Sip"],
            Invalid,
            "Sip is not sip.",
        ),
        case(
            "case-variants-and-sip",
            &["7936-2-a", "7118-4.1-b"],
            &["A4"],
            &["SIP, sip"],
            Valid,
            "The exact token is selected among case variants.",
        ),
        case(
            "gossip",
            &["6455-4.2.2-d", "7118-4.1-c"],
            &["A3", "A4"],
            &["gossip"],
            Invalid,
            "A token containing sip is not sip.",
        ),
        case(
            "sip2",
            &["6455-4.2.2-d", "7118-4.1-c"],
            &["A3", "A4"],
            &["sip2"],
            Invalid,
            "sip2 is another token.",
        ),
        case(
            "sips",
            &["6455-4.2.2-d", "7118-4.1-c"],
            &["A3", "A4"],
            &["sips"],
            Invalid,
            "sips is another token.",
        ),
        case(
            "quoted-sip",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &["\"sip\""],
            Invalid,
            "A quoted string is not a token: 1#token is violated.",
        ),
        case(
            "slash-version",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &["sip/2.0"],
            Invalid,
            "sip/2.0 is not a token ('/' is a separator).",
        ),
        case(
            "semicolon-param",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &["sip;q=1"],
            Invalid,
            "Parameters are not part of the subprotocol grammar.",
        ),
        case(
            "non-token-beside-sip",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &["sip, a b"],
            Invalid,
            "A non-token element spoils the whole list even when sip is present.",
        ),
        case(
            "non-ascii-second-header",
            &["6455-11.3.4-a", "6455-10.7-a"],
            &[],
            &["sip", "s\u{e9}p"],
            Invalid,
            "A non-ASCII element in a second field line spoils the list.",
        ),
        case(
            "empty-value",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &[""],
            Invalid,
            "A field with no element breaks 1#token.",
        ),
        case(
            "only-commas",
            &["6455-4.2.2-d", "6455-10.7-a"],
            &[],
            &[" , ,"],
            Invalid,
            "Only empty elements: no element at all.",
        ),
        case(
            "empty-items",
            &["6455-4.2.2-d", "7118-4.1-b"],
            &[],
            &["sip,,foo"],
            Valid,
            "Empty list elements are skipped (RFC 7230 §7).",
        ),
        case(
            "leading-trailing-commas",
            &["6455-4.2.2-d", "7118-4.1-b"],
            &[],
            &[",sip,"],
            Valid,
            "Leading and trailing empty elements are skipped.",
        ),
        case(
            "empty-header-and-sip",
            &["6455-11.3.4-a", "7118-4.1-b"],
            &[],
            &["", "sip"],
            Valid,
            "An empty field line among non-empty ones adds no element.",
        ),
        case(
            "whitespace",
            &["7118-4.1-b"],
            &[],
            &["  sip  ,\tfoo "],
            Valid,
            "Optional whitespace around elements is ignored.",
        ),
        case(
            "duplicate-sip",
            &["7118-4.1-b", "6455-4.2.2-d"],
            &[],
            &["sip, sip"],
            Acceptable,
            "Duplicates break the client's uniqueness MUST but not the ABNF; the reference tolerates them.",
        ),
        case(
            "foo-only",
            &["7118-4.1-c"],
            &["A3"],
            &["foo"],
            Invalid,
            "sip not offered: no 101 may be sent.",
        ),
        case(
            "none",
            &["7118-4.1-c"],
            &["A3"],
            &[],
            Invalid,
            "No Sec-WebSocket-Protocol header: sip not offered.",
        ),
    ]
}
