//! Via header values (RFC 3261 §20.42, §25.1 `via-parm`; RFC 7118 §5.1 `WS`/`WSS` tokens;
//! RFC 3581 `rport`, RFC 6223 `keep`), on text.
//!
//! Asserts:
//! - round trip: a parsed Via prints to text that parses to an equal Via, alone and as a list
//!   joined with commas (the form a proxy writes when it folds Via lines together);
//! - one `via-parm` parses the same alone and as a one-element list, and the Via header
//!   (`Header::parse("Via", ..)`, compact `v` too) holds exactly the list;
//! - the transport token maps to a transport exactly when it is one of UDP, TCP, TLS, WS, WSS,
//!   case-insensitively (RFC 5234 §2.3, row 7118-5.1-b), and maps back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_reference::sip::via::parse_via_list;
use sipws_reference::sip::{Header, HeaderValue, Via};
use sipws_reference::transport::Transport;

fuzz_target!(|data: &[u8]| {
    let owned;
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(_) => {
            owned = String::from_utf8_lossy(data).into_owned();
            &owned
        }
    };

    let single = Via::parse(text);
    if let Ok(v) = &single {
        check_one(v);
    }

    let list = parse_via_list(text);
    if let Ok(vias) = &list {
        assert!(!vias.is_empty(), "1#via-parm: at least one");
        for v in vias {
            check_one(v);
        }
        let printed = vias
            .iter()
            .map(Via::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(
            parse_via_list(&printed).as_ref(),
            Ok(vias),
            "Via list round trip: {text:?} printed as {printed:?}"
        );
        if let Ok(v) = &single {
            assert_eq!(vias.as_slice(), std::slice::from_ref(v));
        }
    }

    for name in ["Via", "v"] {
        match (Header::parse(name, text), &list) {
            (Ok(h), Ok(vias)) => assert_eq!(h.value, HeaderValue::Via(vias.clone())),
            (Ok(h), Err(e)) => panic!("{name}: header accepts {:?}, list refuses: {e}", h.value),
            (Err(_), _) => {}
        }
    }
});

fn check_one(v: &Via) {
    let printed = v.to_string();
    assert_eq!(
        Via::parse(&printed).as_ref(),
        Ok(v),
        "Via round trip: printed as {printed:?}"
    );
    match Transport::from_via_token(&v.transport) {
        Ok(t) => assert!(t.via_token().eq_ignore_ascii_case(&v.transport)),
        Err(_) => assert!(
            !["UDP", "TCP", "TLS", "WS", "WSS"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&v.transport)),
            "known token {:?} refused",
            v.transport
        ),
    }
    let _ = (v.branch(), v.has_rfc3261_branch(), v.received());
    let _ = (v.rport(), v.keep(), v.alias());
}
