//! Where a request goes, decided before it is rewritten: route information preprocessing
//! (RFC 3261 §16.4, RFC 5658 §5 for a double Record-Route, RFC 5626 §5.3 for flow tokens) and
//! the target set (RFC 3261 §16.5): a live flow of a registered binding, a network target, or
//! an answer of our own. No forking: an AoR's target is its most recently refreshed live
//! binding (5626-7-a).
//!
//! No-connect (RFC 7118 §5, Appendix B): a network target is [`Dialable`], UDP, TCP or TLS
//! only, so no decision can open a connection towards a WebSocket client; a contact reachable
//! only over a flow that is gone gets 480 (the target set is empty, 3261-16.5-a).

use serde::Serialize;

use super::Proxy;
use super::flow_token::TokenCheck;
use super::location::{Binding, aor_of};
use super::record_route::is_ours;
use super::registrar::{gruu_instance, resolve_temp_gruu};
use crate::sip::{HeaderName, HeaderValue, Host, Message, Method, NameAddr, SipUri, Uri};
use crate::transport::{Flow, FlowId, Transport, UriTransport, uri_target};

/// A transport the server may open a connection with. WebSocket is not one: the type makes the
/// no-connect rule impossible to break (RFC 7118 §5, Appendix B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialable {
    Udp,
    Tcp,
    Tls,
}

impl Dialable {
    pub fn transport(self) -> Transport {
        match self {
            Dialable::Udp => Transport::Udp,
            Dialable::Tcp => Transport::Tcp,
            Dialable::Tls => Transport::Tls,
        }
    }

    pub fn from_transport(t: Transport) -> Option<Dialable> {
        match t {
            Transport::Udp => Some(Dialable::Udp),
            Transport::Tcp => Some(Dialable::Tcp),
            Transport::Tls => Some(Dialable::Tls),
            Transport::Ws | Transport::Wss => None,
        }
    }
}

/// Where a forwarded request goes when no flow carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub transport: Dialable,
    pub host: Host,
    pub port: u16,
}

/// Where a request goes, decided before it is rewritten for forwarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// Over this live flow.
    Deliver {
        flow: FlowId,
        /// The binding's contact replaces the Request-URI (RFC 3261 §16.5), or `None` to keep it.
        #[serde(skip_serializing_if = "Option::is_none")]
        retarget: Option<String>,
        #[serde(skip)]
        preload: Vec<NameAddr>,
    },
    /// To a network target over UDP/TCP/TLS.
    Forward {
        target: Target,
        #[serde(skip_serializing_if = "Option::is_none")]
        retarget: Option<String>,
    },
    /// Answered by us with this status.
    Respond { status: u16 },
    /// A REGISTER for our domain: the registrar answers.
    Register,
    /// Nothing to send (an ACK we cannot route, a response to drop).
    Drop,
}

impl Proxy {
    /// Decide where a request goes. Consumes the Route values that name us (RFC 3261 §16.4,
    /// RFC 5658 §5: both of a double Record-Route at once).
    pub fn decide(&self, req: &mut Message, ingress: &Flow) -> Decision {
        self.decide_avoiding(req, ingress, &[])
    }

    /// [`Proxy::decide`], never choosing a binding on one of the `avoid` flows (those that
    /// already answered 430 for this request).
    pub(super) fn decide_avoiding(
        &self,
        req: &mut Message,
        ingress: &Flow,
        avoid: &[FlowId],
    ) -> Decision {
        let is_ack = req.method() == Some(&Method::Ack);
        let respond = |status| {
            if is_ack {
                Decision::Drop
            } else {
                Decision::Respond { status }
            }
        };
        let ruri = match req.request_line().map(|r| &r.uri) {
            Some(Uri::Sip(u)) => u.clone(),
            // RFC 3261 §16.3 item 2 / RFC 4475 §3.3.2: a scheme we do not route.
            _ => return respond(416),
        };
        if req.max_forwards() == Some(0) {
            // RFC 3261 §16.3 item 3.
            return respond(483);
        }

        // Loose routing: strip our own Route values, collecting flow tokens.
        let mut token_flows = Vec::new();
        while let Some(first) = first_route(req) {
            let Some(uri) = first.sip_uri().filter(|u| is_ours(&self.config, u)) else {
                break;
            };
            if let Some(user) = uri.user.as_deref() {
                match self.tokens.check(user) {
                    TokenCheck::Valid(f) => token_flows.push(f),
                    // 5626-5.3.1-b: a token that does not verify.
                    TokenCheck::Tampered => return respond(403),
                    TokenCheck::NotAToken => {}
                }
            }
            pop_route(req);
        }
        // RFC 5626 §5.3: a token naming the flow the request came from marks it outgoing;
        // any other names the flow to send it on.
        if let Some(&flow) = token_flows.iter().find(|f| **f != ingress.id) {
            return if self.flows.contains_key(&flow) {
                self.check_sips(&ruri, flow).unwrap_or(Decision::Deliver {
                    flow,
                    retarget: None,
                    preload: Vec::new(),
                })
            } else {
                respond(430)
            };
        }
        if let Some(next) = first_route(req) {
            // Another hop's Route: send it there, Request-URI untouched.
            return match next.sip_uri() {
                Some(u) => self.toward_uri(u, None, is_ack),
                None => respond(416),
            };
        }
        if req.method() == Some(&Method::Register) && self.config.is_our_domain(&ruri.host) {
            return Decision::Register;
        }
        if let Some(b) = self.location.find_contact(&ruri) {
            return self.to_binding(b, &ruri, false, is_ack);
        }
        // Our host with a port we do not listen on is another element on the same host (a
        // phone at 127.0.0.1:5070, say): forwarded, not answered as our domain.
        if self.config.is_our_domain(&ruri.host)
            && ruri
                .port
                .is_none_or(|p| self.config.listeners.iter().any(|l| l.port == p))
        {
            return self.for_our_domain(req, &ruri, is_ack, avoid);
        }
        self.toward_uri(&ruri, None, is_ack)
    }

    fn for_our_domain(
        &self,
        req: &Message,
        ruri: &SipUri,
        is_ack: bool,
        avoid: &[FlowId],
    ) -> Decision {
        let respond = |status| {
            if is_ack {
                Decision::Drop
            } else {
                Decision::Respond { status }
            }
        };
        if ruri.user.is_none() {
            // Addressed to the server itself.
            return match req.method() {
                Some(Method::Options) => respond(200),
                _ => respond(405),
            };
        }
        if let Some(gr) = gruu_instance(ruri) {
            // RFC 5627 §6.1: unknown GRUU 404; valid but no contact 480.
            let aor = aor_of(ruri);
            if gr.is_empty() {
                return match resolve_temp_gruu(&self.tokens, &self.location, ruri) {
                    Some((_, b)) => self.to_binding(b, ruri, true, is_ack),
                    None => respond(404),
                };
            }
            let live = self
                .location
                .bindings(&aor)
                .iter()
                .filter(|b| b.instance() == Some(gr) && !avoid.contains(&b.flow))
                .max_by_key(|b| b.updated_at);
            return match live {
                Some(b) => self.to_binding(b, ruri, true, is_ack),
                None if self.location.is_known_instance(&aor, gr) => respond(480),
                None => respond(404),
            };
        }
        let aor = aor_of(ruri);
        match self
            .location
            .bindings(&aor)
            .iter()
            .filter(|b| !avoid.contains(&b.flow))
            .max_by_key(|b| b.updated_at)
        {
            Some(b) => self.to_binding(b, ruri, true, is_ack),
            // 3261-16.5-a: the target set is empty.
            None if self.location.is_known(&aor) => respond(480),
            None => respond(404),
        }
    }

    /// 7118-9.2-a: a `sips:` request never leaves over a plain hop.
    fn check_sips(&self, ruri: &SipUri, flow: FlowId) -> Option<Decision> {
        let secure_hop = self
            .flows
            .get(&flow)
            .is_some_and(|f| f.transport.is_secure());
        (ruri.secure && !secure_hop).then_some(Decision::Respond { status: 480 })
    }

    fn to_binding(&self, b: &Binding, ruri: &SipUri, retarget: bool, is_ack: bool) -> Decision {
        let retarget = retarget.then(|| b.contact.uri.to_string());
        let alive = self.flows.contains_key(&b.flow);
        if alive {
            if let Some(d) = self.check_sips(ruri, b.flow) {
                return if is_ack { Decision::Drop } else { d };
            }
            return Decision::Deliver {
                flow: b.flow,
                retarget,
                preload: b.path.clone(),
            };
        }
        if b.outbound || b.transport.is_websocket() {
            // No-connect: the flow was the only way to this contact.
            return if is_ack {
                Decision::Drop
            } else {
                Decision::Respond { status: 480 }
            };
        }
        match b.contact.sip_uri() {
            Some(u) => self.toward_uri(u, retarget, is_ack),
            None => Decision::Respond { status: 480 },
        }
    }

    /// A URI that is not ours and not a registered contact: a network target.
    fn toward_uri(&self, uri: &SipUri, retarget: Option<String>, is_ack: bool) -> Decision {
        let respond = |status| {
            if is_ack {
                Decision::Drop
            } else {
                Decision::Respond { status }
            }
        };
        if uri.host.is_invalid_tld() {
            // RFC 7118 Appendix B.1: never resolvable, never looked up.
            return respond(480);
        }
        let target = uri_target(uri);
        let transport = match target.transport {
            UriTransport::Exactly(t) => t,
            UriTransport::Unspecified if uri.secure => Transport::Tls,
            UriTransport::Unspecified => Transport::Udp,
            // A WebSocket peer that is not one of our live flows: we never dial it.
            UriTransport::WsOrWss => return respond(480),
            UriTransport::Unknown(_) => return respond(503),
            UriTransport::Invalid(_) => return respond(400),
        };
        match Dialable::from_transport(transport) {
            Some(d) => Decision::Forward {
                target: Target {
                    transport: d,
                    host: uri.host.clone(),
                    port: target.port,
                },
                retarget,
            },
            None => respond(480),
        }
    }
}

fn first_route(m: &Message) -> Option<&NameAddr> {
    m.routes().next()
}

fn pop_route(m: &mut Message) {
    if let Some(pos) = m.headers.iter().position(|h| h.name == HeaderName::Route) {
        if let HeaderValue::Addresses(list) = &mut m.headers[pos].value
            && list.len() > 1
        {
            list.remove(0);
            return;
        }
        m.headers.remove(pos);
    }
}
