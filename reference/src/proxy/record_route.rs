//! Record-Route entries (RFC 3261 §16.6 item 4; RFC 5658 double Record-Route; RFC 5626 §5.3.2
//! flow tokens) and the recognition of our own URIs in Route headers (RFC 3261 §16.4).

use super::Config;
use super::flow_token::FlowTokens;
use crate::sip::{Host, NameAddr, Params, SipUri, Uri};
use crate::transport::{Flow, Transport, transport_param_for};

/// One of our listeners as it is advertised in Via, Record-Route and Path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub transport: Transport,
    /// The host written into our URIs (an address or a name that resolves to us).
    pub host: Host,
    pub port: u16,
}

/// The URI that leads back to us over `transport`, with a flow token in the user part when
/// `token` is given; a `sips:` URI when `sips` (RFC 3261 §16.6 item 4, see [`record_route`]).
pub fn our_uri(
    config: &Config,
    transport: Transport,
    token: Option<String>,
    sips: bool,
) -> Option<SipUri> {
    let listener = config.listener(transport)?;
    let (secure, param) = transport_param_for(transport, config.wss_param_style);
    // `sips:` + `transport=ws` names WSS (the rule of the `transport` module docs), so a WSS
    // entry stays exact.
    let secure = secure || sips;
    let mut params = Params::new();
    if let Some(p) = param {
        params.set("transport", Some(p));
    }
    params.set("lr", None);
    Some(SipUri {
        secure,
        user: token,
        password: None,
        host: listener.host.clone(),
        port: Some(listener.port),
        params,
        headers: Vec::new(),
    })
}

/// The Record-Route entries a dialog-forming request gets when it enters on `ingress` and
/// leaves on `egress`, top first (the order they are inserted at the top of the request):
///
/// - same transport: one entry (RFC 3261 §16.6 item 4);
/// - different transports: two (RFC 5658 §6.2, requirement 5658-6.2-a), the top one facing the
///   egress side, the second the ingress side, each with its own transport (as RFC 7118 §8.2
///   F3: `<sip:proxy;transport=udp;lr>, <sip:TOKEN@proxy:443;transport=ws;lr>`).
///
/// An entry facing a connection-oriented flow carries that flow's token (RFC 5626 §5.3.2), so
/// an in-dialog request from the far side reaches that very connection. With one entry, it
/// carries the ingress flow's token: the egress side is reached through its Contact.
///
/// `sips`: the request's Request-URI or top Route is a `sips:` URI, so every entry must be one
/// too (RFC 3261 §16.6 item 4, requirement 3261-16.6-c).
pub fn record_route(
    config: &Config,
    tokens: &FlowTokens,
    ingress: &Flow,
    egress: Transport,
    egress_flow: Option<&Flow>,
    sips: bool,
) -> Vec<NameAddr> {
    let token_for = |flow: Option<&Flow>| {
        flow.filter(|f| f.transport.is_reliable())
            .map(|f| tokens.encode(f.id))
    };
    let entry = |t: Transport, token: Option<String>| {
        our_uri(config, t, token, sips).map(|u| NameAddr::new(Uri::Sip(u)))
    };
    let entries = if ingress.transport == egress {
        vec![entry(ingress.transport, token_for(Some(ingress)))]
    } else {
        vec![
            entry(egress, token_for(egress_flow)),
            entry(ingress.transport, token_for(Some(ingress))),
        ]
    };
    entries.into_iter().flatten().collect()
}

/// Is this URI one of ours (a Route value we put there, or our address)? Host equal to a
/// listener's host or one of our domains, and the port, explicit or implied, one we listen on.
pub fn is_ours(config: &Config, uri: &SipUri) -> bool {
    if !config.is_our_domain(&uri.host) {
        return false;
    }
    match uri.port {
        Some(p) => config.listeners.iter().any(|l| l.port == p),
        // No port: the URI's default port (5060, 5061, 80, 443) must be one we serve, or the
        // host is a domain we are authoritative for (a loose-route to our domain).
        None => {
            let t = crate::transport::uri_target(uri);
            config.listeners.iter().any(|l| l.port == t.port)
                || config
                    .domains
                    .iter()
                    .any(|d| Host::parse(d).is_ok_and(|h| h.matches(&uri.host)))
        }
    }
}
