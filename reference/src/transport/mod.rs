//! Transports and the rules that tie them to Via tokens and URIs (RFC 7118 §5, RFC 3261 §18,
//! §19.1, RFC 3263 §4), including how this implementation settles the `transport=ws`
//! ambiguity:
//!
//! - parse leniently: `transport=ws` and `transport=wss`, any case;
//! - a URI names WSS when its scheme is `sips:` with `transport=ws`, or when it carries
//!   `transport=wss`; a `sip:` URI with `transport=ws` names "WS or WSS", resolved by the flow;
//! - emit per RFC 7118 (`sip:` + `transport=ws`, as in its §8.2 example) unless configured to
//!   emit `transport=wss`;
//! - Via tokens are exact: `WS` on ws, `WSS` on wss (RFC 7118 §5.1).

mod flow;
mod uri;

pub use flow::{Flow, FlowId};
pub use uri::{UriTarget, UriTransport, WssParamStyle, transport_param_for, uri_target};

use std::fmt;

use serde::Serialize;
use thiserror::Error;

/// The transports the reference implementation speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    /// WebSocket over plain TCP (RFC 7118).
    Ws,
    /// WebSocket over TLS (RFC 7118).
    Wss,
}

/// A Via transport token that names no transport of ours (SCTP, TLS-SCTP, an extension).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("transport {0:?} is not one of UDP, TCP, TLS, WS, WSS")]
pub struct UnknownTransport(pub String);

impl Transport {
    pub const ALL: [Transport; 5] = [
        Transport::Udp,
        Transport::Tcp,
        Transport::Tls,
        Transport::Ws,
        Transport::Wss,
    ];

    /// Map a Via transport token. ABNF literals are case-insensitive (RFC 5234 §2.3), so
    /// `ws`, `Ws` and `WS` are the same token (RFC 7118 §5.1 ABNF, requirement 7118-5.1-b).
    pub fn from_via_token(token: &str) -> Result<Transport, UnknownTransport> {
        Transport::ALL
            .into_iter()
            .find(|t| t.via_token().eq_ignore_ascii_case(token))
            .ok_or_else(|| UnknownTransport(token.to_string()))
    }

    /// The token this implementation writes in its own Via (RFC 7118 §5.1: `WS` on plain
    /// WebSocket, `WSS` on WebSocket over TLS; RFC 3261 §18 for the others).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// Protected by TLS: what a `sips:` hop requires (RFC 3261 §26.2.2, RFC 7118 §9.2).
    pub fn is_secure(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }

    pub fn is_websocket(self) -> bool {
        matches!(self, Transport::Ws | Transport::Wss)
    }

    /// Connection-oriented: responses go back on the request's connection (RFC 3261 §18.2.2),
    /// no retransmissions (RFC 7118 §5: WS follows the reliable-transport rules).
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// May a server open a connection of this transport towards a client? Never for
    /// WebSocket: a WS server cannot connect to a WS client (RFC 7118 §5, Appendix B), so a
    /// request for a WS/WSS target with no live flow must fail, not dial.
    pub fn server_may_connect(self) -> bool {
        !self.is_websocket()
    }

    /// Default port of the transport (RFC 3261 §19.1.2 5060/5061; RFC 7118 §5.5: 80 for
    /// plain WS, 443 for secure WS).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_7118_5_1_a_via_tokens_are_ws_and_wss() {
        assert_eq!(Transport::Ws.via_token(), "WS");
        assert_eq!(Transport::Wss.via_token(), "WSS");
        assert_eq!(Transport::Udp.via_token(), "UDP");
        assert_eq!(Transport::Tcp.via_token(), "TCP");
        assert_eq!(Transport::Tls.via_token(), "TLS");
    }

    #[test]
    fn req_7118_5_1_b_via_tokens_are_case_insensitive() {
        for (token, t) in [
            ("ws", Transport::Ws),
            ("Ws", Transport::Ws),
            ("WS", Transport::Ws),
            ("wss", Transport::Wss),
            ("wSs", Transport::Wss),
            ("udp", Transport::Udp),
            ("Tcp", Transport::Tcp),
            ("tls", Transport::Tls),
        ] {
            assert_eq!(Transport::from_via_token(token), Ok(t), "{token}");
        }
        assert_eq!(
            Transport::from_via_token("SCTP"),
            Err(UnknownTransport("SCTP".into()))
        );
        assert!(Transport::from_via_token("W S").is_err());
        assert!(Transport::from_via_token("").is_err());
    }

    #[test]
    fn via_token_round_trips_for_every_transport() {
        for t in Transport::ALL {
            assert_eq!(Transport::from_via_token(t.via_token()), Ok(t));
        }
    }

    #[test]
    fn req_7118_9_2_a_only_tls_transports_are_secure() {
        assert!(Transport::Wss.is_secure());
        assert!(Transport::Tls.is_secure());
        assert!(!Transport::Ws.is_secure());
        assert!(!Transport::Tcp.is_secure());
        assert!(!Transport::Udp.is_secure());
    }

    #[test]
    fn no_connect_a_server_never_dials_a_websocket_client() {
        assert!(!Transport::Ws.server_may_connect());
        assert!(!Transport::Wss.server_may_connect());
        assert!(Transport::Udp.server_may_connect());
        assert!(Transport::Tcp.server_may_connect());
        assert!(Transport::Tls.server_may_connect());
    }

    #[test]
    fn req_7118_5_5_b_default_ports() {
        assert_eq!(Transport::Ws.default_port(), 80);
        assert_eq!(Transport::Wss.default_port(), 443);
        assert_eq!(Transport::Udp.default_port(), 5060);
        assert_eq!(Transport::Tcp.default_port(), 5060);
        assert_eq!(Transport::Tls.default_port(), 5061);
    }

    #[test]
    fn reliability() {
        assert!(!Transport::Udp.is_reliable());
        assert!(Transport::Ws.is_reliable() && Transport::Wss.is_reliable());
    }
}
