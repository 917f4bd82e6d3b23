//! SIP URIs (RFC 3261 §19.1, §25.1), name-addrs (§20.10, §25.1), hosts, and what a URI names as
//! a next hop (RFC 7118 §5.2, §5.5; `transport::uri_target`), on text.
//!
//! Asserts the print/parse round trip the codec promises (`sip` module docs) for `Uri`,
//! `SipUri`, `NameAddr` and `Host`: whatever parses prints to text that parses to an equal
//! value. For `uri_target`: the port is the explicit one or the transport's default, and a URI
//! naming exactly one transport admits that transport.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_reference::sip::name_addr::parse_contact;
use sipws_reference::sip::{Host, NameAddr, SipUri, Uri};
use sipws_reference::transport::{Transport, UriTransport, uri_target};

fuzz_target!(|data: &[u8]| {
    // The parsers take `&str` (a SIP message head is UTF-8-checked before any header is
    // parsed); invalid UTF-8 still exercises them through the lossy form.
    let owned;
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(_) => {
            owned = String::from_utf8_lossy(data).into_owned();
            &owned
        }
    };

    if let Ok(u) = Uri::parse(text) {
        let printed = u.to_string();
        assert_eq!(
            Uri::parse(&printed).as_ref(),
            Ok(&u),
            "URI round trip: {text:?} printed as {printed:?}"
        );
        assert_eq!(SipUri::parse(text).ok().as_ref(), u.as_sip());
        if let Uri::Sip(sip) = &u {
            next_hop(sip);
        }
    }

    if let Ok(a) = NameAddr::parse(text) {
        let printed = a.to_string();
        assert_eq!(
            NameAddr::parse(&printed).as_ref(),
            Ok(&a),
            "name-addr round trip: {text:?} printed as {printed:?}"
        );
        let _ = (a.tag(), a.expires(), a.q(), a.reg_id(), a.instance());
        let _ = (a.pub_gruu(), a.temp_gruu(), a.display_name());
    }

    if let Ok(c) = parse_contact(text) {
        let printed = c.to_string();
        assert_eq!(
            parse_contact(&printed).as_ref(),
            Ok(&c),
            "Contact round trip: {text:?} printed as {printed:?}"
        );
    }

    if let Ok(h) = Host::parse(text) {
        let printed = h.to_string();
        let again = Host::parse(&printed);
        assert_eq!(
            again.as_ref(),
            Ok(&h),
            "host round trip: {text:?} as {printed:?}"
        );
        assert!(h.matches(&h), "a host matches itself");
        let _ = h.is_invalid_tld();
    }
});

/// `uri_target` (RFC 7118 §5.5 default ports; spec/requirements.md A1 for `transport=ws`/`wss`).
fn next_hop(uri: &SipUri) {
    let target = uri_target(uri);
    assert_eq!(target.secure, uri.secure);
    assert_eq!(target.port_explicit, uri.port.is_some());
    if let Some(p) = uri.port {
        assert_eq!(target.port, p);
    }
    if let UriTransport::Exactly(t) = &target.transport {
        assert!(target.transport.admits(*t));
        assert!(target.port_explicit || target.port == t.default_port());
        // 7118-9.2-a: a sips: URI never names a transport without TLS.
        if uri.secure {
            assert!(t.is_secure(), "sips: URI {uri} names {t}");
        }
    }
    for t in Transport::ALL {
        let _ = target.transport.resolve(t);
    }
    let _ = (uri.lr(), uri.user_unescaped(), uri.transport_param());
}
