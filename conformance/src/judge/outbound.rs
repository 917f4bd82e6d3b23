//! Judgements of SIP Outbound (RFC 5626) and Path (RFC 3327) at the registrar and edge proxy:
//! the instance a 200 returns (RFC 5626 §6, §10; RFC 5627 §5.2), the option tags of `Require`
//! and `Supported` (RFC 5626 §6, RFC 3261 §20.32, §20.37), the Path values a 200 echoes
//! (RFC 3327 §5.3), and which of two flows of one instance a request reached (RFC 5626 §7).

use sipws_reference::sip::{Message, NameAddr};

use super::registration::{list_values, same_uri};
use crate::step::{StepError, StepResult};

/// `+sip.instance` is returned as registered (RFC 5627 §5.2), quoted with its `<...>`
/// (RFC 5626 §10).
pub fn check_instance(c: &NameAddr, urn: &str, who: &str) -> StepResult {
    let Some(raw) = c.params.value("+sip.instance") else {
        return Err(StepError::broken(format!(
            "the Contact for {who} lost its +sip.instance (RFC 5626 §6 stores every Contact \
             parameter; RFC 5627 §5.2 returns the instance): {c}"
        )));
    };
    if !(raw.starts_with("\"<") && raw.ends_with(">\"")) {
        return Err(StepError::broken(format!(
            "+sip.instance must be a quoted \"<urn>\" (RFC 5626 §10); got {raw}"
        )));
    }
    match c.instance() {
        Some(i) if i.eq_ignore_ascii_case(urn) => Ok(()),
        Some(i) => Err(StepError::broken(format!(
            "the Contact for {who} has the instance {i}, not {urn}"
        ))),
        None => Err(StepError::broken(format!(
            "the Contact for {who} has no instance, not {urn}"
        ))),
    }
}

/// Does the header list `token` (option tags compare case-insensitively, as
/// [`Message::supports`] does)?
pub fn check_list(resp: &Message, header: &str, token: &str, want: bool) -> StepResult {
    let values = list_values(resp, header);
    let has = values.iter().any(|v| v.eq_ignore_ascii_case(token));
    let shown = if values.is_empty() {
        "nothing".to_string()
    } else {
        values.join(", ")
    };
    match (want, has) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err(StepError::broken(format!(
            "the response's {header} does not list {token} (it lists {shown})"
        ))),
        (false, true) => Err(StepError::broken(format!(
            "the response's {header} lists {token} ({shown})"
        ))),
    }
}

/// RFC 3327 §5.3: the Path values come back in the 200, in order. A WebSocket server that
/// is an edge in front of the registrar inserts its own value on top before forwarding the
/// REGISTER (RFC 3327 §5.2), so the values sent are the last ones of the 200's Path, in order,
/// after any the target added.
pub fn check_path(resp: &Message, expected: &[NameAddr]) -> StepResult {
    let got: Vec<&NameAddr> = resp.paths().collect();
    let same = got.len() >= expected.len()
        && got[got.len() - expected.len()..]
            .iter()
            .zip(expected)
            .all(|(g, e)| same_uri(&g.uri, &e.uri));
    if same {
        Ok(())
    } else {
        let shown: Vec<String> = got.iter().map(|p| p.to_string()).collect();
        let want: Vec<String> = expected.iter().map(|p| p.to_string()).collect();
        Err(StepError::broken(format!(
            "the registrar copies the Path values into the 200 in order (RFC 3327 §5.3): \
             expected [{}], got [{}]",
            want.join(", "),
            shown.join(", ")
        )))
    }
}

/// Which of two devices got the request (RFC 5626 §7: never two contacts of one AoR and
/// instance in the target set at once).
pub fn judge_one_of(got: [Option<&Message>; 2], names: [&str; 2]) -> Result<usize, StepError> {
    for (m, name) in got.iter().zip(names) {
        if let Some(m) = m
            && m.method().map(|x| x.as_str()) != Some("MESSAGE")
        {
            return Err(StepError::broken(format!(
                "{name} received a {} where the MESSAGE was expected",
                m.method().map(|x| x.as_str()).unwrap_or("response")
            )));
        }
    }
    match got {
        [Some(_), None] => Ok(0),
        [None, Some(_)] => Ok(1),
        [Some(_), Some(_)] => Err(StepError::broken(format!(
            "both {} and {} received the MESSAGE: two contacts of one AoR and instance were in \
             the target set at once (RFC 5626 §7)",
            names[0], names[1]
        ))),
        [None, None] => Err(StepError::broken(format!(
            "neither {} nor {} received the MESSAGE",
            names[0], names[1]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use sipws_reference::sip::{Header, HeaderValue};

    use super::*;
    use crate::judge::registration::contact_for;
    use crate::judge::registration::fixtures::*;

    #[test]
    fn a_lost_or_unquoted_instance_is_broken() {
        let good = resp(GOOD_CONTACT);
        let c = contact_for(&good, "A.invalid", "alice").expect("found by host");
        assert_eq!(check_instance(c, "urn:uuid:1", "alice"), Ok(()));
        let bad = resp("Contact: <sip:alice@a.invalid;transport=ws>;reg-id=1\n");
        let c = contact_for(&bad, "a.invalid", "alice").expect("found");
        assert!(is_broken(&check_instance(c, "urn:uuid:1", "alice")));
        let c = altered(&[("+sip.instance", Some("urn:uuid:1"))]);
        assert!(is_broken(&check_instance(&c, "urn:uuid:1", "alice")));
        let c = altered(&[("+sip.instance", Some("\"<urn:uuid:2>\""))]);
        assert_eq!(
            check_instance(&c, "urn:uuid:1", "alice"),
            Err(StepError::broken(
                "the Contact for alice has the instance urn:uuid:2, not urn:uuid:1"
            ))
        );
    }

    #[test]
    fn missing_require_outbound_is_broken() {
        let with = resp("Require: outbound\nSupported: path, outbound\n");
        assert_eq!(check_list(&with, "Require", "outbound", true), Ok(()));
        assert_eq!(check_list(&with, "Supported", "gruu", false), Ok(()));
        let without = resp("Supported: outbound, gruu\n");
        assert!(is_broken(&check_list(
            &without, "Require", "outbound", true
        )));
        assert!(is_broken(&check_list(&without, "Supported", "gruu", false)));
        assert_eq!(check_list(&without, "Require", "outbound", false), Ok(()));
        assert_eq!(
            check_list(&without, "Supported", "gruu", false),
            Err(StepError::broken(
                "the response's Supported lists gruu (outbound, gruu)"
            ))
        );
        assert_eq!(
            check_list(&without, "Require", "outbound", true),
            Err(StepError::broken(
                "the response's Require does not list outbound (it lists nothing)"
            ))
        );
    }

    #[test]
    fn path_must_come_back_in_order() {
        let want = match Header::parse(
            "Path",
            "<sip:p1.example.net;lr;ob>, <sip:p2.example.net;lr>",
        )
        .map(|h| h.value)
        {
            Ok(HeaderValue::Addresses(l)) => l,
            other => panic!("a Path value: {other:?}"),
        };
        let same = resp("Path: <sip:p1.example.net;ob;lr>\nPath: <sip:P2.example.net;lr>\n");
        assert_eq!(check_path(&same, &want), Ok(()));
        let swapped = resp("Path: <sip:p2.example.net;lr>, <sip:p1.example.net;lr;ob>\n");
        assert!(is_broken(&check_path(&swapped, &want)));
        assert!(is_broken(&check_path(&resp(""), &want)));
        // An edge in front of the registrar puts its own value on top (RFC 3327 §5.2).
        let behind_an_edge = resp(
            "Path: <sip:tok@edge.example;lr;ob>\nPath: <sip:p1.example.net;ob;lr>, <sip:p2.example.net;lr>\n",
        );
        assert_eq!(check_path(&behind_an_edge, &want), Ok(()));
        let one_dropped = resp("Path: <sip:tok@edge.example;lr;ob>, <sip:p2.example.net;lr>\n");
        assert!(is_broken(&check_path(&one_dropped, &want)));
        let appended_below =
            resp("Path: <sip:p1.example.net;ob;lr>, <sip:p2.example.net;lr>, <sip:x.example;lr>\n");
        assert!(is_broken(&check_path(&appended_below, &want)));
    }

    #[test]
    fn one_device_at_a_time() {
        let m = msg("MESSAGE sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WS proxy.example.com;branch=z9hG4bKp1
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: m
CSeq: 1 MESSAGE
Max-Forwards: 69
Content-Length: 0

");
        let names = ["alice", "alice2"];
        assert_eq!(judge_one_of([Some(&m), None], names), Ok(0));
        assert_eq!(judge_one_of([None, Some(&m)], names), Ok(1));
        assert!(is_broken(
            &judge_one_of([Some(&m), Some(&m)], names).map(|_| ())
        ));
        assert!(is_broken(&judge_one_of([None, None], names).map(|_| ())));
        let register = msg(&format!(
            "REGISTER sip:example.com SIP/2.0\n{}",
            &HEAD["SIP/2.0 200 OK\n".len()..]
                .replace("CSeq: 1 REGISTER", "CSeq: 1 REGISTER\nMax-Forwards: 70\n")
        ));
        assert!(is_broken(
            &judge_one_of([Some(&register), None], names).map(|_| ())
        ));
    }
}
