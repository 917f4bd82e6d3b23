//! Property tests of the SIP codec: printing a parsed value and parsing it again gives the same
//! value (URIs, Via, name-addr, whole messages), and no input, however broken, panics a parser.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use sipws_reference::sip::header::parse_value;
use sipws_reference::sip::{
    AbsoluteUri, CSeq, Contact, Header, HeaderName, HeaderValue, Host, Message, Method, NameAddr,
    Param, Params, RequestLine, SipUri, StartLine, StatusLine, Uri, Version, Via,
};

fn label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,6}[a-z0-9])?"
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        vec(label(), 1..4).prop_map(|l| Host::Domain(l.join("."))),
        any::<u32>().prop_map(|a| Host::Ipv4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| Host::Ipv6(Ipv6Addr::from(a))),
    ]
}

fn escape() -> impl Strategy<Value = String> {
    "%[0-9A-Fa-f]{2}"
}

/// A run of `chars` with %-escapes mixed in.
fn escaped(chars: &'static str) -> impl Strategy<Value = String> {
    vec(prop_oneof![4 => chars.prop_map(|s| s), 1 => escape()], 1..4).prop_map(|v| v.concat())
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.!%*_+`'~-]{1,10}"
}

fn uri_params() -> impl Strategy<Value = Params> {
    vec(
        (
            escaped("[a-zA-Z0-9_.!~*'()\\[\\]/:&+$-]{1,6}"),
            option::of(escaped("[a-zA-Z0-9_.!~*'()\\[\\]/:&+$-]{1,6}")),
        ),
        0..4,
    )
    .prop_map(|v| {
        Params(
            v.into_iter()
                .map(|(name, value)| Param { name, value })
                .collect(),
        )
    })
}

fn sip_uri(bare: bool) -> impl Strategy<Value = SipUri> {
    // A bare addr-spec cannot carry ';' ',' '?' in its user part, nor parameters or headers
    // (RFC 3261 §20): those need <...>.
    let user = if bare {
        escaped("[a-zA-Z0-9_.!~*'()&=+$/-]{1,8}").boxed()
    } else {
        escaped("[a-zA-Z0-9_.!~*'()&=+$,;?/-]{1,8}").boxed()
    };
    let params = if bare {
        Just(Params::new()).boxed()
    } else {
        uri_params().boxed()
    };
    let password = if bare {
        escaped("[a-zA-Z0-9_.!~*'()&=+$-]{1,6}").boxed()
    } else {
        escaped("[a-zA-Z0-9_.!~*'()&=+$,-]{1,6}").boxed()
    };
    let headers = if bare {
        Just(Vec::new()).boxed()
    } else {
        vec(
            (
                escaped("[a-zA-Z0-9_.!~*'()\\[\\]/?:+$-]{1,6}"),
                "[a-zA-Z0-9_.!~*'()\\[\\]/?:+$-]{0,6}",
            ),
            0..3,
        )
        .boxed()
    };
    (
        any::<bool>(),
        option::of((user, option::of(password))),
        host(),
        option::of(any::<u16>()),
        params,
        headers,
    )
        .prop_map(|(secure, userinfo, host, port, params, headers)| SipUri {
            secure,
            user: userinfo.as_ref().map(|(u, _)| u.clone()),
            password: userinfo.and_then(|(_, p)| p),
            host,
            port,
            params,
            headers,
        })
}

fn uri(bare: bool) -> impl Strategy<Value = Uri> {
    let other_rest = if bare {
        "[a-zA-Z0-9_.!~*'()/:@&=+$-]{1,12}"
    } else {
        "[a-zA-Z0-9_.!~*'();/?:@&=+$,-]{1,12}"
    };
    prop_oneof![
        4 => sip_uri(bare).prop_map(Uri::Sip),
        1 => ("(tel|urn|x-[a-z]{1,4})", other_rest).prop_map(|(scheme, rest)| Uri::Other(AbsoluteUri { scheme, rest })),
    ]
}

/// Header parameters; names are prefixed so they never collide with the ones whose values are
/// constrained (received, ttl, expires, reg-id, ...), which get their own generators.
fn header_params() -> impl Strategy<Value = Vec<Param>> {
    vec(
        (
            "x[a-z0-9.-]{0,6}",
            option::of(prop_oneof![
                token(),
                "\"[a-zA-Z0-9 ,;:<>@=/]{0,10}\"".prop_map(|s| s),
            ]),
        )
            .prop_map(|(name, value)| Param { name, value }),
        0..3,
    )
}

fn via() -> impl Strategy<Value = Via> {
    let transport = prop_oneof![
        Just("UDP".to_string()),
        Just("TCP".to_string()),
        Just("TLS".to_string()),
        Just("WS".to_string()),
        Just("WSS".to_string()),
        Just("ws".to_string()),
        Just("wss".to_string()),
        Just("SCTP".to_string()),
        token(),
    ];
    let known = (
        option::of(token().prop_map(|t| format!("z9hG4bK{t}"))),
        option::of(any::<Ipv4Addr>().prop_map(|a| a.to_string())),
        option::of(option::of(any::<u16>())),
        any::<bool>(),
        option::of(option::of(any::<u32>())),
    );
    (
        transport,
        host(),
        option::of(any::<u16>()),
        known,
        header_params(),
    )
        .prop_map(
            |(transport, host, port, (branch, received, rport, alias, keep), extra)| {
                let mut params = Params::new();
                if let Some(b) = branch {
                    params.set("branch", Some(&b));
                }
                if let Some(r) = received {
                    params.set("received", Some(&r));
                }
                if let Some(r) = rport {
                    params.set("rport", r.map(|p| p.to_string()).as_deref());
                }
                if alias {
                    params.set("alias", None);
                }
                if let Some(k) = keep {
                    params.set("keep", k.map(|p| p.to_string()).as_deref());
                }
                params.0.extend(extra);
                Via {
                    protocol: "SIP".into(),
                    version: "2.0".into(),
                    transport,
                    host,
                    port,
                    params,
                }
            },
        )
}

fn display() -> impl Strategy<Value = Option<String>> {
    option::of(prop_oneof![
        "[A-Za-z0-9]{1,6}( [A-Za-z0-9.-]{1,6}){0,2}",
        "\"([a-zA-Z0-9 ,;:<>@=/]|\\\\\"){0,12}\"",
        "\"[a-zé ü]{0,6}\"",
    ])
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    let contact_params = (
        option::of(0u32..=u32::MAX),
        option::of(1u32..=0x7fff_ffff),
        option::of("[a-f0-9-]{1,12}"),
        option::of("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?"),
        option::of(token()),
    );
    (any::<bool>(), display(), contact_params, header_params())
        .prop_flat_map(|(bracketed, display, cp, extra)| {
            let bracketed = bracketed || display.is_some();
            (Just((bracketed, display, cp, extra)), uri(!bracketed))
        })
        .prop_map(
            |((bracketed, display, (expires, reg_id, instance, q, tag), extra), uri)| {
                let mut params = Params::new();
                if let Some(t) = tag {
                    params.set("tag", Some(&t));
                }
                if let Some(e) = expires {
                    params.set("expires", Some(&e.to_string()));
                }
                if let Some(r) = reg_id {
                    params.set("reg-id", Some(&r.to_string()));
                }
                if let Some(i) = instance {
                    params.set("+sip.instance", Some(&format!("\"<urn:uuid:{i}>\"")));
                }
                if let Some(q) = q {
                    params.set("q", Some(&q));
                }
                params.0.extend(extra);
                NameAddr {
                    display,
                    uri,
                    bracketed,
                    params,
                }
            },
        )
}

fn route_list() -> impl Strategy<Value = Vec<NameAddr>> {
    vec(
        (display(), sip_uri(false), header_params()).prop_map(|(display, uri, extra)| NameAddr {
            display,
            uri: Uri::Sip(uri),
            bracketed: true,
            params: Params(extra),
        }),
        1..4,
    )
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Bye),
        Just(Method::Register),
        Just(Method::Message),
        Just(Method::Options),
        "[A-Za-z][a-zA-Z0-9.!%*_+`'~-]{0,8}"
            .prop_map(|m| Method::parse(&m).expect("generated methods are tokens")),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    let h = |name: HeaderName, value: HeaderValue| Header::new(name, value);
    prop_oneof![
        vec(via(), 1..3).prop_map(move |v| h(HeaderName::Via, HeaderValue::Via(v))),
        name_addr().prop_map(move |a| h(HeaderName::From, HeaderValue::Address(a))),
        name_addr().prop_map(move |a| h(HeaderName::To, HeaderValue::Address(a))),
        "[a-zA-Z0-9.!%*_+`'~()<>:\\\\\"/\\[\\]?{}-]{1,10}(@[a-z0-9.]{1,8})?"
            .prop_map(move |c| h(HeaderName::CallId, HeaderValue::CallId(c))),
        (any::<u32>(), method()).prop_map(move |(seq, method)| h(
            HeaderName::CSeq,
            HeaderValue::CSeq(CSeq { seq, method })
        )),
        (0u32..=255).prop_map(move |n| h(HeaderName::MaxForwards, HeaderValue::Number(n))),
        any::<u32>().prop_map(move |n| h(HeaderName::Expires, HeaderValue::Number(n))),
        prop_oneof![
            1 => Just(Contact::Star),
            6 => vec(name_addr(), 1..3).prop_map(Contact::List),
        ]
        .prop_map(move |c| h(HeaderName::Contact, HeaderValue::Contact(c))),
        route_list().prop_map(move |r| h(HeaderName::Route, HeaderValue::Addresses(r))),
        route_list().prop_map(move |r| h(HeaderName::RecordRoute, HeaderValue::Addresses(r))),
        route_list().prop_map(move |r| h(HeaderName::Path, HeaderValue::Addresses(r))),
        vec(token(), 0..4).prop_map(move |t| h(HeaderName::Supported, HeaderValue::Tokens(t))),
        vec(token(), 1..3).prop_map(move |t| h(HeaderName::Require, HeaderValue::Tokens(t))),
        ("X-[A-Za-z0-9-]{1,8}", "([!-~]([ -~]{0,18}[!-~])?)?")
            .prop_map(move |(n, v)| h(HeaderName::Other(n), HeaderValue::Text(v))),
        "[!-~]([ -~]{0,18}[!-~])?".prop_map(move |v| h(HeaderName::Subject, HeaderValue::Text(v))),
    ]
    .prop_flat_map(|h| {
        let can_compact = h.name.compact().is_some();
        (Just(h), any::<bool>()).prop_map(move |(mut h, c)| {
            h.compact = c && can_compact;
            h
        })
    })
}

fn message() -> impl Strategy<Value = Message> {
    let start = prop_oneof![
        (method(), sip_uri(false)).prop_map(|(method, mut u)| {
            // RFC 3261 §19.1.1: no headers in a Request-URI.
            u.headers.clear();
            StartLine::Request(RequestLine {
                method,
                uri: Uri::Sip(u),
                version: Version::SIP_2_0,
            })
        }),
        (100u16..=699, "[ -~]{0,20}").prop_map(|(code, reason)| StartLine::Response(StatusLine {
            version: Version::SIP_2_0,
            code,
            reason,
        })),
    ];
    (
        start,
        vec(header(), 0..12),
        vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
        .prop_map(|(start, mut headers, body, with_length)| {
            if with_length {
                headers.push(Header::new(
                    HeaderName::ContentLength,
                    HeaderValue::Number(body.len() as u32),
                ));
            }
            Message::new(start, headers, body)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn uri_round_trips(u in uri(false)) {
        let printed = u.to_string();
        prop_assert_eq!(Uri::parse(&printed).map_err(|e| e.to_string()), Ok(u), "{}", printed);
    }

    #[test]
    fn via_round_trips(v in via()) {
        let printed = v.to_string();
        prop_assert_eq!(Via::parse(&printed).map_err(|e| e.to_string()), Ok(v), "{}", printed);
    }

    #[test]
    fn name_addr_round_trips(a in name_addr()) {
        let printed = a.to_string();
        prop_assert_eq!(NameAddr::parse(&printed).map_err(|e| e.to_string()), Ok(a), "{}", printed);
    }

    #[test]
    fn message_round_trips(m in message()) {
        let bytes = m.to_bytes();
        let parsed = Message::parse(&bytes);
        prop_assert_eq!(
            parsed.as_ref().map_err(|e| e.to_string()),
            Ok(&m),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        // The raw bytes are kept as evidence, exactly.
        prop_assert_eq!(parsed.map(|p| p.raw().to_vec()).ok(), Some(bytes));
    }

    #[test]
    fn message_round_trips_on_a_stream_with_content_length(m in message()) {
        let mut m = m;
        m.headers.retain(|h| h.name != HeaderName::ContentLength);
        m.headers.push(Header::new(HeaderName::ContentLength, HeaderValue::Number(m.body.len() as u32)));
        let mut bytes = m.to_bytes();
        let len = bytes.len();
        bytes.extend_from_slice(b"OPTIONS sip:next SIP/2.0\r\n");
        let (parsed, used) = Message::parse_stream(&bytes).expect("valid").expect("complete");
        prop_assert_eq!(used, len);
        prop_assert_eq!(parsed, m);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = Message::parse(&bytes);
        let _ = Message::parse_datagram(&bytes);
        let _ = Message::parse_stream(&bytes);
        if let Ok(m) = Message::parse(&bytes) {
            let _ = m.validate();
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = Uri::parse(&text);
        let _ = Via::parse(&text);
        let _ = NameAddr::parse(&text);
        let _ = Host::parse(&text);
        for name in ["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Route",
                     "Record-Route", "Path", "Content-Length", "Content-Type", "Expires",
                     "Supported", "Date", "X-Other"] {
            let _ = parse_value(&HeaderName::parse(name), &text);
        }
    }

    #[test]
    fn random_sip_like_text_never_panics(
        text in "[ \t\r\n<>\"\\\\;,:=@%?&/\\[\\]a-zA-Z0-9.*+~-]{0,200}"
    ) {
        let framed = format!("INVITE sip:a@b SIP/2.0\r\nVia: {text}\r\nContact: {text}\r\nTo: {text}\r\n\r\n");
        let _ = Message::parse(framed.as_bytes());
        let _ = Uri::parse(&text);
        let _ = Via::parse(&text);
        let _ = NameAddr::parse(&text);
        for name in ["Via", "From", "Contact", "Route", "CSeq", "Call-ID", "Supported", "Content-Type", "Date"] {
            let _ = parse_value(&HeaderName::parse(name), &text);
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        m in message(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = m.to_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = Message::parse(&bytes);
        let _ = Message::parse_datagram(&bytes);
        let _ = Message::parse_stream(&bytes);
        let _ = Message::parse_stream(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
