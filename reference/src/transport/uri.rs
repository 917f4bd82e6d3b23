//! What a SIP URI names as a next hop: transport, security and port (RFC 3261 §19.1, §26.2.2;
//! RFC 3263 §4.1, §4.2; RFC 7118 §5.2, §5.5, §9.2; spec/requirements.md A1, A12).

use serde::Serialize;

use super::Transport;
use crate::sip::SipUri;

/// The transport a URI asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum UriTransport {
    /// The URI names exactly this transport.
    Exactly(Transport),
    /// `sip:` with `transport=ws`: one URI parameter for both WS and WSS (RFC 7118 §5.2 defines
    /// no `wss` value; its §8.2 example writes `sip:...:443;transport=ws` for a WSS hop). Which
    /// one is meant is resolved by the flow the URI leads to (a flow token, or our own WSS
    /// listener's port in a Record-Route we emitted): see [`UriTransport::resolve`].
    WsOrWss,
    /// No `transport` parameter: RFC 3263 §4.1 procedures apply (NAPTR/SRV, else UDP for
    /// `sip:` and TLS over TCP for `sips:`).
    Unspecified,
    /// A `transport` value we do not speak (`sctp`, an extension), as written.
    Unknown(String),
    /// A combination no element may use: `sips:` with `transport=udp` asks for TLS over a
    /// datagram transport (RFC 3261 §26.2.2 requires TLS for every SIPS hop).
    Invalid(&'static str),
}

impl UriTransport {
    /// Settle "WS or WSS" with the transport of the flow the URI resolved to: only a
    /// WebSocket flow settles it; any other flow means the URI does not lead there.
    pub fn resolve(&self, flow: Transport) -> Option<Transport> {
        match self {
            UriTransport::Exactly(t) => (*t == flow).then_some(flow),
            UriTransport::WsOrWss => flow.is_websocket().then_some(flow),
            UriTransport::Unspecified | UriTransport::Unknown(_) | UriTransport::Invalid(_) => None,
        }
    }

    /// Could a hop of this transport carry the URI's request?
    pub fn admits(&self, t: Transport) -> bool {
        self.resolve(t).is_some()
    }
}

/// Everything a URI says about its next hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UriTarget {
    pub transport: UriTransport,
    /// The URI is `sips:`: every hop must be TLS-protected, WS hops must be WSS
    /// (RFC 7118 §9.2, requirement 7118-9.2-a).
    pub secure: bool,
    /// The explicit port, else the default the URI implies.
    pub port: u16,
    pub port_explicit: bool,
}

/// Read a SIP URI as a next hop.
///
/// Default ports follow RFC 7118 §5.5 for WebSocket (`sip:` + `transport=ws` => 80, `sips:` +
/// `transport=ws` => 443; `transport=wss` => 443) and RFC 3261 §19.1.2 otherwise (5060, or
/// 5061 for `sips:`).
pub fn uri_target(uri: &SipUri) -> UriTarget {
    let secure = uri.secure;
    let transport = match uri.transport_param() {
        None => UriTransport::Unspecified,
        Some(p) if p.eq_ignore_ascii_case("ws") => {
            if secure {
                UriTransport::Exactly(Transport::Wss)
            } else {
                UriTransport::WsOrWss
            }
        }
        // Not defined by RFC 7118 but common in the field (spec/requirements.md A1): accepted, and it
        // can only mean WebSocket over TLS.
        Some(p) if p.eq_ignore_ascii_case("wss") => UriTransport::Exactly(Transport::Wss),
        Some(p) if p.eq_ignore_ascii_case("udp") => {
            if secure {
                UriTransport::Invalid("sips: requires TLS, which UDP cannot carry")
            } else {
                UriTransport::Exactly(Transport::Udp)
            }
        }
        // RFC 3261 §26.2.2: sips: with transport=tcp means TLS over TCP.
        Some(p) if p.eq_ignore_ascii_case("tcp") => UriTransport::Exactly(if secure {
            Transport::Tls
        } else {
            Transport::Tcp
        }),
        // Deprecated (RFC 5630 §3.1.3) but still seen: TLS over TCP.
        Some(p) if p.eq_ignore_ascii_case("tls") => UriTransport::Exactly(Transport::Tls),
        Some(p) => UriTransport::Unknown(p.to_string()),
    };
    let default_port = match &transport {
        UriTransport::Exactly(Transport::Wss) => 443,
        UriTransport::Exactly(t) => t.default_port(),
        UriTransport::WsOrWss => Transport::Ws.default_port(),
        _ if secure => Transport::Tls.default_port(),
        _ => Transport::Udp.default_port(),
    };
    UriTarget {
        transport,
        secure,
        port: uri.port.unwrap_or(default_port),
        port_explicit: uri.port.is_some(),
    }
}

/// How this implementation writes the transport of a WSS hop into the URIs it emits
/// (Record-Route, Path, Contact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WssParamStyle {
    /// RFC 7118 as published (§5.2, §8.2): `sip:` with `transport=ws` and the WSS port.
    #[default]
    Rfc7118,
    /// `transport=wss`, for peers that need it (spec/requirements.md A1).
    Wss,
}

/// The scheme (`true` = `sips:`) and `transport` parameter for a URI that must lead back to us
/// over `t`.
///
/// TLS is written as `sips:` without a transport parameter, never `transport=tls`
/// (RFC 5658 §6.2, RFC 5630 §3.1.3).
pub fn transport_param_for(t: Transport, style: WssParamStyle) -> (bool, Option<&'static str>) {
    match t {
        Transport::Udp => (false, Some("udp")),
        Transport::Tcp => (false, Some("tcp")),
        Transport::Tls => (true, None),
        Transport::Ws => (false, Some("ws")),
        Transport::Wss => match style {
            WssParamStyle::Rfc7118 => (false, Some("ws")),
            WssParamStyle::Wss => (false, Some("wss")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(s: &str) -> UriTarget {
        uri_target(&SipUri::parse(s).expect("test URIs are valid"))
    }

    #[test]
    fn req_7118_5_2_a_sip_transport_ws_names_ws_or_wss() {
        let t = target("sip:proxy.example.com;transport=ws");
        assert_eq!(t.transport, UriTransport::WsOrWss);
        assert!(!t.secure);
        assert_eq!(t.transport.resolve(Transport::Ws), Some(Transport::Ws));
        assert_eq!(t.transport.resolve(Transport::Wss), Some(Transport::Wss));
        assert_eq!(t.transport.resolve(Transport::Udp), None);
    }

    #[test]
    fn req_7118_5_2_a_transport_ws_any_case() {
        assert_eq!(
            target("sip:h;transport=WS").transport,
            UriTransport::WsOrWss
        );
        assert_eq!(
            target("sips:h;transport=Ws").transport,
            UriTransport::Exactly(Transport::Wss)
        );
    }

    #[test]
    fn req_7118_9_2_a_sips_with_ws_names_wss_only() {
        let t = target("sips:alice@example.com;transport=ws");
        assert_eq!(t.transport, UriTransport::Exactly(Transport::Wss));
        assert!(t.secure);
        assert!(!t.transport.admits(Transport::Ws));
        assert!(t.transport.admits(Transport::Wss));
    }

    #[test]
    fn a1_transport_wss_is_accepted_and_means_wss() {
        for uri in [
            "sip:h:443;transport=wss",
            "sips:h;transport=wss",
            "sip:h;transport=WSS",
        ] {
            let t = target(uri);
            assert_eq!(t.transport, UriTransport::Exactly(Transport::Wss), "{uri}");
            assert!(!t.transport.admits(Transport::Ws), "{uri}");
        }
    }

    #[test]
    fn req_7118_5_5_b_default_ports_for_ws_uris() {
        assert_eq!(target("sip:h;transport=ws").port, 80);
        assert_eq!(target("sips:h;transport=ws").port, 443);
        assert_eq!(target("sip:h;transport=wss").port, 443);
        let explicit = target("sip:proxy.example.com:443;transport=ws");
        assert_eq!((explicit.port, explicit.port_explicit), (443, true));
        assert!(!target("sip:h;transport=ws").port_explicit);
    }

    #[test]
    fn req_3263_4_1_a_transport_param_picks_the_transport() {
        assert_eq!(
            target("sip:h;transport=udp").transport,
            UriTransport::Exactly(Transport::Udp)
        );
        assert_eq!(
            target("sip:h;transport=TCP").transport,
            UriTransport::Exactly(Transport::Tcp)
        );
        assert_eq!(
            target("sips:h;transport=tcp").transport,
            UriTransport::Exactly(Transport::Tls)
        );
        assert_eq!(
            target("sip:h;transport=tls").transport,
            UriTransport::Exactly(Transport::Tls)
        );
        assert_eq!(
            target("sip:h;transport=sctp").transport,
            UriTransport::Unknown("sctp".into())
        );
        assert!(matches!(
            target("sips:h;transport=udp").transport,
            UriTransport::Invalid(_)
        ));
        let none = target("sip:h");
        assert_eq!(
            (none.transport, none.port),
            (UriTransport::Unspecified, 5060)
        );
        assert_eq!(target("sips:h").port, 5061);
    }

    #[test]
    fn emitted_params_follow_rfc7118_unless_configured() {
        assert_eq!(
            transport_param_for(Transport::Wss, WssParamStyle::Rfc7118),
            (false, Some("ws"))
        );
        assert_eq!(
            transport_param_for(Transport::Wss, WssParamStyle::Wss),
            (false, Some("wss"))
        );
        assert_eq!(
            transport_param_for(Transport::Ws, WssParamStyle::Wss),
            (false, Some("ws"))
        );
        // RFC 5658 §6.2: never transport=tls.
        assert_eq!(
            transport_param_for(Transport::Tls, WssParamStyle::Rfc7118),
            (true, None)
        );
    }

    #[test]
    fn emitted_params_read_back_as_the_same_transport() {
        for t in Transport::ALL {
            for style in [WssParamStyle::Rfc7118, WssParamStyle::Wss] {
                let (secure, param) = transport_param_for(t, style);
                let scheme = if secure { "sips" } else { "sip" };
                let uri = match param {
                    Some(p) => format!("{scheme}:proxy.example.com;transport={p};lr"),
                    None => format!("{scheme}:proxy.example.com;lr"),
                };
                let read = target(&uri);
                // Unspecified sips: is TLS over TCP (RFC 3263 §4.1) for our purposes.
                let admits = read.transport.admits(t)
                    || (read.transport == UriTransport::Unspecified
                        && read.secure
                        && t == Transport::Tls);
                assert!(admits, "{t:?} {style:?} => {uri} => {read:?}");
            }
        }
    }
}
