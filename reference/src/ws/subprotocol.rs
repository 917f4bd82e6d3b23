//! Subprotocol choice for SIP over WebSocket.
//!
//! - RFC 7118 §4.1: the client MUST offer `sip` in `Sec-WebSocket-Protocol`; the server's
//!   101 MUST carry `sip` in its `Sec-WebSocket-Protocol`.
//! - RFC 6455 §4.1 (10) and §4.3: the request value is `1#token` (ordered by preference).
//! - RFC 6455 §11.3.4: the header MAY repeat in a request; all its field lines form one list.
//! - RFC 6455 §4.2.2 (4) /subprotocol/: the server's value MUST be one of the offered values,
//!   a single token, never the empty string; with nothing agreed, no header is sent.
//! - RFC 7936 §2: subprotocol tokens are matched case-sensitively.
//!
//! Hence [`choose_sip`] answers `sip` only when the exact three bytes `sip` are one element of
//! the offered list: `SIP`, `Sip`, `gossip`, `sip2`, `sip/2.0` and `"sip"` are not `sip`. The
//! value returned is always borrowed from the offer, so it is by construction an offered token.
//!
//! List parsing decisions (documented once, applied by [`parse_offer`]):
//! - Several field lines are concatenated into one list, in wire order (§11.3.4).
//! - Empty elements (`sip,,foo`, a leading or trailing comma, an empty field line among
//!   non-empty ones) are tolerated and skipped, as RFC 7230 §7 requires of recipients.
//! - An element that is not a `token` (a quoted string, `a b`, `sip/2.0`, a `;`, non-ASCII) makes
//!   the whole value invalid: RFC 6455 §4.2.1 tells the server to stop on ABNF violations, so we
//!   refuse rather than guess, even when a valid `sip` is also present.
//! - Field line(s) present but holding no element at all break `1#token`: refused.
//! - Duplicate elements (`sip, sip`) violate the client-side MUST of §4.1 (10) but are not an
//!   ABNF violation; they are tolerated (the server-side description in §4.2.1 (8) asks for a
//!   list of values, nothing more).

use super::http::{is_tchar, list_elements};

/// The WebSocket subprotocol token registered for SIP (RFC 7118 §10.1).
pub const SIP: &str = "sip";

/// Why no subprotocol can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubprotocolError {
    /// No `Sec-WebSocket-Protocol` field: nothing offered, so `sip` cannot be answered.
    #[error("no Sec-WebSocket-Protocol header: the client did not offer \"sip\"")]
    Absent,
    /// The field(s) are present but hold no element (`1#token` needs one).
    #[error("Sec-WebSocket-Protocol holds no subprotocol (1#token needs at least one)")]
    EmptyList,
    /// An element is not a `token` (RFC 7230 §3.2.6 / RFC 2616 §2.2).
    #[error(
        "Sec-WebSocket-Protocol element {element:?} (field {field}, byte {offset}) is not a token"
    )]
    NotToken {
        /// The offending element, lossily decoded.
        element: String,
        /// Index of the field line among the `Sec-WebSocket-Protocol` lines.
        field: usize,
        /// Byte offset of the element in that field's value.
        offset: usize,
    },
    /// A valid list that does not contain the exact token `sip`.
    #[error("the offered subprotocols [{}] do not include the exact token \"sip\"", offered.join(", "))]
    SipNotOffered {
        /// The offered tokens, in order.
        offered: Vec<String>,
    },
}

impl SubprotocolError {
    /// The requirement row a server enforces when it refuses for this reason.
    pub fn requirement(&self) -> &'static str {
        match self {
            // 1#token violated: invalid handshake data.
            SubprotocolError::EmptyList | SubprotocolError::NotToken { .. } => "6455-10.7-a",
            // No `sip` to answer with: 7118 §4.1 plus 6455 §4.2.2 forbid a 101 (A3).
            SubprotocolError::Absent | SubprotocolError::SipNotOffered { .. } => "7118-4.1-c",
        }
    }

    /// Whether the refusal is a syntax fault (as opposed to "`sip` not offered").
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            SubprotocolError::EmptyList | SubprotocolError::NotToken { .. }
        )
    }

    /// An offered token equal to `sip` except for case (`SIP`, `Sip`, ...), if any: the
    /// RFC 7936 §2 near miss worth reporting, since it is still not `sip`.
    pub fn case_near_miss(&self) -> Option<&str> {
        match self {
            SubprotocolError::SipNotOffered { offered } => offered
                .iter()
                .map(String::as_str)
                .find(|t| t.eq_ignore_ascii_case(SIP)),
            _ => None,
        }
    }
}

/// Parses the values of every `Sec-WebSocket-Protocol` field line of a request (wire order)
/// into the offered tokens, in order (see the module docs for the list rules).
/// An empty `values` means the header is absent: [`SubprotocolError::Absent`].
pub fn parse_offer<'a>(values: &[&'a [u8]]) -> Result<Vec<&'a str>, SubprotocolError> {
    if values.is_empty() {
        return Err(SubprotocolError::Absent);
    }
    let mut offered = Vec::new();
    for el in list_elements(values) {
        let token = if el.bytes.iter().all(|&b| is_tchar(b)) {
            std::str::from_utf8(el.bytes).ok()
        } else {
            None
        };
        match token {
            Some(t) => offered.push(t),
            None => {
                return Err(SubprotocolError::NotToken {
                    element: String::from_utf8_lossy(el.bytes).into_owned(),
                    field: el.field,
                    offset: el.offset,
                });
            }
        }
    }
    if offered.is_empty() {
        return Err(SubprotocolError::EmptyList);
    }
    Ok(offered)
}

/// Chooses the subprotocol for a SIP WebSocket server: `sip` when offered exactly
/// (RFC 7118 §4.1, RFC 7936 §2), otherwise a typed refusal. The returned `&str` is the
/// offered element itself (RFC 6455 §4.2.2 (4): the value is one of the client's values).
pub fn choose_sip<'a>(values: &[&'a [u8]]) -> Result<&'a str, SubprotocolError> {
    let offered = parse_offer(values)?;
    match offered.iter().find(|t| **t == SIP) {
        Some(t) => Ok(t),
        None => Err(SubprotocolError::SipNotOffered {
            offered: offered.iter().map(|t| (*t).to_owned()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn choose(values: &[&str]) -> Result<String, SubprotocolError> {
        let v: Vec<&[u8]> = values.iter().map(|s| s.as_bytes()).collect();
        choose_sip(&v).map(str::to_owned)
    }

    #[test]
    fn req_7118_4_1_b_sip_chosen_alone() {
        assert_eq!(choose(&["sip"]).as_deref(), Ok("sip"));
    }

    #[test]
    fn req_7118_4_1_b_sip_chosen_from_foo_sip() {
        assert_eq!(choose(&["foo, sip"]).as_deref(), Ok("sip"));
    }

    #[test]
    fn req_7118_4_1_b_sip_chosen_from_sip_foo() {
        assert_eq!(choose(&["sip, foo"]).as_deref(), Ok("sip"));
    }

    #[test]
    fn req_6455_11_3_4_a_repeated_request_fields_form_one_list() {
        assert_eq!(choose(&["foo", "sip"]).as_deref(), Ok("sip"));
        assert_eq!(parse_offer(&[b"a, b", b"c"]), Ok(vec!["a", "b", "c"]));
    }

    #[test]
    fn req_7936_2_a_upper_case_sip_is_not_sip() {
        let err = choose(&["SIP"]).unwrap_err();
        assert_eq!(
            err,
            SubprotocolError::SipNotOffered {
                offered: vec!["SIP".into()]
            }
        );
        assert_eq!(err.case_near_miss(), Some("SIP"));
        assert_eq!(err.requirement(), "7118-4.1-c");
    }

    #[test]
    fn req_7936_2_a_mixed_case_sip_is_not_sip() {
        assert!(matches!(
            choose(&["Sip, sIP"]),
            Err(SubprotocolError::SipNotOffered { .. })
        ));
    }

    #[test]
    fn req_7936_2_a_exact_sip_chosen_among_case_variants() {
        assert_eq!(choose(&["SIP, sip"]).as_deref(), Ok("sip"));
    }

    #[test]
    fn req_6455_4_2_2_d_tokens_containing_sip_are_not_sip() {
        for offer in ["gossip", "sip2", "sips", "xsip", "sip-2"] {
            assert!(
                matches!(
                    choose(&[offer]),
                    Err(SubprotocolError::SipNotOffered { .. })
                ),
                "{offer}"
            );
        }
    }

    #[test]
    fn req_6455_4_2_2_d_quoted_sip_is_not_a_token() {
        let err = choose(&["\"sip\""]).unwrap_err();
        assert_eq!(
            err,
            SubprotocolError::NotToken {
                element: "\"sip\"".into(),
                field: 0,
                offset: 0
            }
        );
        assert!(err.is_malformed());
        assert_eq!(err.requirement(), "6455-10.7-a");
    }

    #[test]
    fn req_6455_4_2_2_d_non_token_elements_spoil_the_list() {
        assert!(matches!(
            choose(&["sip, a b"]),
            Err(SubprotocolError::NotToken { offset: 5, .. })
        ));
        assert!(matches!(
            choose(&["sip/2.0"]),
            Err(SubprotocolError::NotToken { .. })
        ));
        assert!(matches!(
            choose(&["sip;q=1"]),
            Err(SubprotocolError::NotToken { .. })
        ));
        assert!(matches!(
            choose(&["sip", "s\u{e9}p"]),
            Err(SubprotocolError::NotToken { field: 1, .. })
        ));
    }

    #[test]
    fn req_6455_4_2_2_d_empty_elements_are_tolerated() {
        assert_eq!(choose(&["foo,,sip"]).as_deref(), Ok("sip"));
        assert_eq!(choose(&[",sip,"]).as_deref(), Ok("sip"));
        assert_eq!(choose(&["", "sip"]).as_deref(), Ok("sip"));
    }

    #[test]
    fn req_6455_4_2_2_d_empty_list_is_refused() {
        assert_eq!(choose(&[""]), Err(SubprotocolError::EmptyList));
        assert_eq!(choose(&[" , ,"]), Err(SubprotocolError::EmptyList));
    }

    #[test]
    fn req_7118_4_1_c_absent_header_is_refused() {
        let err = choose(&[]).unwrap_err();
        assert_eq!(err, SubprotocolError::Absent);
        assert_eq!(err.requirement(), "7118-4.1-c");
    }

    #[test]
    fn req_7118_4_1_c_foo_only_is_refused() {
        assert_eq!(
            choose(&["foo"]),
            Err(SubprotocolError::SipNotOffered {
                offered: vec!["foo".into()]
            })
        );
    }

    #[test]
    fn duplicate_sip_is_tolerated() {
        assert_eq!(choose(&["sip, sip"]).as_deref(), Ok("sip"));
    }

    proptest! {
        /// Whatever the offer, a choice is an offered element and is exactly `sip`.
        #[test]
        fn choice_is_exact_offered_sip(a in "[ -~]{0,24}", b in proptest::option::of("[ -~]{0,24}")) {
            let values: Vec<&[u8]> = std::iter::once(a.as_bytes()).chain(b.as_deref().map(str::as_bytes)).collect();
            if let Ok(chosen) = choose_sip(&values) {
                prop_assert_eq!(chosen, SIP);
                let offered = parse_offer(&values).unwrap();
                prop_assert!(offered.contains(&"sip"));
            }
        }

        #[test]
        fn never_panics(a in proptest::collection::vec(any::<u8>(), 0..48)) {
            let _ = choose_sip(&[&a]);
        }
    }
}
