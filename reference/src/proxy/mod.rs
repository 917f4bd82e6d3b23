//! Routing decisions of the reference server, sans-IO (DESIGN.md "Sans-IO core"): a registrar
//! and record-routing proxy that is fed parsed messages with the flow they arrived on and the
//! time, and answers with [`Action`]s for the I/O shell (`reference/src/net`).
//!
//! Policies (REQUIREMENTS §5), each tested by name:
//! - **No-connect (A9):** a request for a target reachable only over a WS/WSS flow is sent on
//!   that flow or not at all. [`Action::Forward`] can only name UDP, TCP or TLS ([`Dialable`]),
//!   so no decision can open a connection towards a WebSocket client. When no live flow is
//!   left the answer is **480** (empty target set, 3261-16.5-a); a request addressed by the
//!   flow token of a closed flow gets **430** (5626-5.3.1-b); a tampered token **403**. A
//!   request for a `.invalid` host is never resolved: 480.
//! - **Responses** go back on the flow their request arrived on, whatever the Via says
//!   (3261-18.2.2-a); if that flow is gone the response is dropped (3261-18.2.2-b).
//! - **Record-Route:** one entry when ingress and egress transports are equal, two (RFC 5658)
//!   when they differ; entries facing a connection-oriented flow carry its flow token.
//! - **received/rport on WS (A8):** `received` is not added for WS/WSS (RFC 7118 §5.3 MAY) unless
//!   the Via asks for `rport` (RFC 3581 §4 then requires both); on UDP/TCP RFC 3261 §18.2.1
//!   applies.
//! - **No forking:** a request for an AoR goes to the most recently refreshed live binding
//!   (never two bindings of one instance at once, 5626-7-a).
//! - **Digest authentication (RFC 3261 §22, RFC 8760), only with [`Config::auth`]:**
//!   - A REGISTER for our domain without valid `Authorization` for our realm gets **401** with
//!     one `WWW-Authenticate` per algorithm, SHA-256 first then MD5, `qop="auth"`
//!     ([`auth`]); `stale=true` when only the nonce had expired. Valid credentials of user U
//!     may only change the bindings of the AoR whose user is U in our domain (RFC 3261 §10.3
//!     step 4): anything else, registering or removing, is **403** and changes nothing.
//!   - With [`ChallengeScope::RegisterAndRequests`] (the default): a request outside a dialog
//!     (no To tag), other than REGISTER for our domain, ACK and CANCEL, whose From is a user
//!     of one of our domains gets **407** with `Proxy-Authenticate` unless its
//!     `Proxy-Authorization` is valid for the From user (valid credentials of another user:
//!     **403**). Whatever flow or transport it arrived on: a From in our domain claims to be
//!     one of our users, and only the credentials prove it. The credentials of our realm are
//!     consumed (removed) before forwarding (§22.3). Requests from other domains' users (from
//!     other proxies, to our users) are never challenged; neither are in-dialog requests,
//!     ACK and CANCEL, which cannot be challenged (§22.1).
//!   - Challenges come before routing decisions, so a 404 or 480 never tells an
//!     unauthenticated client whether a user exists; an ACK for one of our own non-2xx
//!     answers (our To tag) is absorbed rather than routed (RFC 3261 §17.2.1).
//!   - Credentials that cannot be read or whose `uri` is not the Request-URI: **400**.
//!   - Without [`Config::auth`] nothing of this applies (the default).

pub mod auth;
pub mod flow_token;
pub mod location;
pub mod record_route;
pub mod registrar;

/// Where the response builder used to live; it is [`crate::sip::response`] now.
pub mod response {
    // Old path, kept until the suite's imports move.
    pub use crate::sip::response::response;
}

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use crate::sip::digest::parse_auth_params;
use crate::sip::response::response;
use crate::sip::{
    Header, HeaderName, HeaderValue, Host, Message, Method, NameAddr, SipUri, StartLine, Uri, Via,
};
use crate::transport::{Flow, FlowId, Transport, UriTransport, WssParamStyle, uri_target};
use auth::{AuthConfig, AuthOutcome, Authenticator, ChallengeScope};
use flow_token::{FlowTokens, TokenCheck};
use location::{Binding, Location, aor_of};
pub use record_route::Listener;
use record_route::{is_ours, record_route};
use registrar::{Registrar, gruu_instance, resolve_temp_gruu};

/// Milliseconds on the shell's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    pub fn plus_secs(self, secs: u64) -> Time {
        Time(self.0.saturating_add(secs * 1000))
    }
}

/// Registration lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Used when the REGISTER gives none.
    pub default: u32,
    /// Shorter non-zero requests get 423 (RFC 3261 §10.3 step 7).
    pub min: u32,
    /// Longer requests are shortened to this.
    pub max: u32,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            default: 3600,
            min: 60,
            max: 86400,
        }
    }
}

/// How many bindings the registrar holds, so that an open registrar cannot be made to grow
/// without bound by one peer. A REGISTER that would exceed a limit changes nothing and gets
/// 503 (the registrar cannot take more now; RFC 3261 §21.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingLimits {
    /// Contacts of one AoR.
    pub per_aor: usize,
    /// Bindings, of any AoRs, whose flow is one connection (or one UDP peer).
    pub per_flow: usize,
}

impl Default for BindingLimits {
    fn default() -> Self {
        BindingLimits {
            per_aor: 32,
            per_flow: 1000,
        }
    }
}

/// The proxy's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Domains we are the registrar and home proxy for (AoR hosts).
    pub domains: Vec<String>,
    /// Our listeners, as advertised in Via, Record-Route and Path.
    pub listeners: Vec<Listener>,
    /// How a WSS hop is written in URIs we emit (RFC 7118 `transport=ws` by default).
    pub wss_param_style: WssParamStyle,
    pub expires: Expiry,
    pub bindings: BindingLimits,
    /// The key of flow tokens and temporary GRUUs: random at every start.
    pub secret: Vec<u8>,
    pub outbound: bool,
    pub gruu: bool,
    /// SIP digest authentication (RFC 3261 §22), credentials loaded; `None`: off.
    pub auth: Option<AuthConfig>,
}

impl Config {
    /// The deployment of the RFC 7118 §8 examples: `proxy.example.com`, serving the domain
    /// `example.com`, UDP and TCP on 5060, TLS on 5061, WS on 80, WSS on 443, WSS hops written
    /// `transport=ws` as RFC 7118 does. With a fixed `secret` its flow tokens are reproducible,
    /// which the tests and the test vectors rely on.
    pub fn rfc7118_example(secret: &[u8]) -> Config {
        let l = |transport, port| Listener {
            transport,
            host: Host::Domain("proxy.example.com".into()),
            port,
        };
        Config {
            domains: vec!["example.com".into()],
            listeners: vec![
                l(Transport::Udp, 5060),
                l(Transport::Tcp, 5060),
                l(Transport::Tls, 5061),
                l(Transport::Ws, 80),
                l(Transport::Wss, 443),
            ],
            wss_param_style: WssParamStyle::Rfc7118,
            expires: Expiry::default(),
            bindings: BindingLimits::default(),
            secret: secret.to_vec(),
            outbound: true,
            gruu: true,
            auth: None,
        }
    }

    pub fn listener(&self, t: Transport) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.transport == t)
    }

    /// A host we answer for: one of our domains or a listener's host.
    pub fn is_our_domain(&self, host: &Host) -> bool {
        // Domains are compared as hosts, so `127.0.0.1` as a domain matches an IPv4 host.
        self.domains
            .iter()
            .any(|d| Host::parse(d).is_ok_and(|h| h.matches(host)))
            || self.listeners.iter().any(|l| l.host.matches(host))
    }
}

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

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send on a live flow.
    Send { flow: FlowId, msg: Message },
    /// Send to a target over UDP/TCP/TLS, connecting if needed.
    Forward { target: Target, msg: Message },
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

/// The egress side of a forwarded request.
struct Hop {
    listener: Listener,
    flow: Option<Flow>,
    retarget: Option<String>,
    preload: Vec<NameAddr>,
}

#[derive(Debug, Clone)]
struct Pending {
    ingress: FlowId,
    expires_at: Time,
    /// For a request delivered to a registered binding: the request as it arrived (before
    /// our rewriting) and the flows tried, so a 430 can move it to another flow (5626-7-b).
    retry: Option<Box<Retry>>,
}

#[derive(Debug, Clone)]
struct Retry {
    original: Message,
    tried: Vec<FlowId>,
}

/// How long a forwarded transaction's way back is kept: Timer C (RFC 3261 §16.6 item 11).
const TIMER_C_SECS: u64 = 180;

/// Forwarded transactions remembered at once, by default ([`Proxy::with_pending_limit`]).
/// Each is kept until Timer C, or for [`AFTER_FINAL_SECS`] after its final response (so about
/// 2,000 transactions a second can be sustained), and an unanswered one delivered to a binding
/// holds the request itself in case a 430 moves it to another flow: without a bound, a flood
/// towards a callee that never answers would grow the proxy for 180 s. Beyond it new requests
/// get 503 (RFC 3261 §21.5.4) until transactions end.
pub const MAX_PENDING: usize = 65_536;
/// After a final response: 64*T1, enough for retransmissions over UDP (RFC 3261 §17).
pub const AFTER_FINAL_SECS: u64 = 32;

/// The registrar and proxy state machine.
#[derive(Debug)]
pub struct Proxy {
    config: Config,
    tokens: FlowTokens,
    location: Location,
    flows: HashMap<FlowId, Flow>,
    pending: HashMap<String, Pending>,
    /// At most this many `pending` (503 beyond).
    pending_limit: usize,
    /// Digest authentication state, with [`Config::auth`].
    auth: Option<Authenticator>,
    /// One deliberately broken rule (the suite's own tests, feature `mutants`).
    #[cfg(feature = "mutants")]
    mutation: Option<crate::mutation::Mutation>,
}

fn is_dialog_forming(m: &Method) -> bool {
    matches!(m, Method::Invite | Method::Subscribe | Method::Refer)
}

impl Proxy {
    pub fn new(config: Config) -> Self {
        Proxy {
            tokens: FlowTokens::new(&config.secret),
            auth: config
                .auth
                .clone()
                .map(|a| Authenticator::new(a, &config.secret)),
            config,
            location: Location::new(),
            flows: HashMap::new(),
            pending: HashMap::new(),
            pending_limit: MAX_PENDING,
            #[cfg(feature = "mutants")]
            mutation: None,
        }
    }

    /// This proxy with one rule broken on purpose (feature `mutants`).
    #[cfg(feature = "mutants")]
    pub fn with_mutation(mut self, mutation: Option<crate::mutation::Mutation>) -> Self {
        self.mutation = mutation;
        self
    }

    #[cfg(feature = "mutants")]
    pub fn mutation(&self) -> Option<crate::mutation::Mutation> {
        self.mutation
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn tokens(&self) -> &FlowTokens {
        &self.tokens
    }

    /// The authentication state, with [`Config::auth`].
    pub fn authenticator(&self) -> Option<&Authenticator> {
        self.auth.as_ref()
    }

    pub fn is_alive(&self, flow: FlowId) -> bool {
        self.flows.contains_key(&flow)
    }

    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// Remember at most `limit` forwarded transactions instead of [`MAX_PENDING`].
    pub fn with_pending_limit(mut self, limit: usize) -> Self {
        self.pending_limit = limit;
        self
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// A connection (or UDP peer) the shell now serves.
    pub fn flow_opened(&mut self, flow: Flow) {
        self.flows.insert(flow.id, flow);
    }

    /// The flow is gone: forget it and invalidate every binding on it (5626-7-d).
    pub fn flow_closed(&mut self, flow: FlowId) -> usize {
        #[cfg(feature = "mutants")]
        if self.mutation == Some(crate::mutation::Mutation::DeadFlowTreatedAsLive) {
            return 0;
        }
        self.flows.remove(&flow);
        self.location.remove_flow(flow)
    }

    /// Expire bindings and forgotten transactions.
    pub fn tick(&mut self, now: Time) {
        self.location.expire(now);
        self.pending.retain(|_, p| p.expires_at > now);
        if let Some(a) = &mut self.auth {
            a.tick(now);
        }
    }

    /// The next time [`Proxy::tick`] has work.
    pub fn next_deadline(&self) -> Option<Time> {
        let pending = self.pending.values().map(|p| p.expires_at).min();
        match (self.location.next_expiry(), pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A parsed message arrived on `ingress`.
    pub fn handle(&mut self, msg: Message, ingress: FlowId, now: Time) -> Vec<Action> {
        let Some(flow) = self.flows.get(&ingress).copied() else {
            return Vec::new();
        };
        match msg.start {
            StartLine::Request(_) => self.on_request(msg, &flow, now),
            StartLine::Response(_) => self.on_response(msg, now),
        }
    }

    fn to_tag(&self, req: &Message) -> String {
        let mut h = DefaultHasher::new();
        self.config.secret.hash(&mut h);
        req.call_id().hash(&mut h);
        req.from().and_then(NameAddr::tag).hash(&mut h);
        format!("sws{:x}", h.finish())
    }

    fn respond(&self, req: &Message, ingress: &Flow, code: u16) -> Vec<Action> {
        if req.method() == Some(&Method::Ack) {
            // RFC 3261 §17: an ACK is never answered.
            return Vec::new();
        }
        vec![Action::Send {
            flow: ingress.id,
            msg: response(req, code, &self.to_tag(req), Vec::new()),
        }]
    }

    fn on_request(&mut self, mut req: Message, ingress: &Flow, now: Time) -> Vec<Action> {
        if let Err(invalid) = req.validate() {
            return self.respond(&req, ingress, invalid.status());
        }
        stamp_top_via(&mut req, ingress);
        let original = req.clone();
        let decision = self.decide_avoiding(&mut req, ingress, &[]);
        if let Some(out) = self.authorize_request(&mut req, ingress, &decision, now) {
            return out;
        }
        let remembered = matches!(
            decision,
            Decision::Deliver { .. } | Decision::Forward { .. }
        ) && req.method() != Some(&Method::Ack);
        if remembered && self.pending.len() >= self.pending_limit {
            return self.respond(&req, ingress, 503);
        }
        match decision {
            Decision::Respond { status } => self.respond(&req, ingress, status),
            Decision::Drop => Vec::new(),
            Decision::Register => {
                let to_tag = self.to_tag(&req);
                let mut registrar = Registrar {
                    config: &self.config,
                    tokens: &self.tokens,
                    location: &mut self.location,
                    auth: self.auth.as_mut(),
                };
                let resp = registrar.register(&req, ingress, now, &to_tag);
                vec![Action::Send {
                    flow: ingress.id,
                    msg: resp,
                }]
            }
            Decision::Deliver {
                flow,
                retarget,
                preload,
            } => {
                // Only a binding found in the location service has other flows to try.
                let retry = retarget.is_some().then(|| Retry {
                    original,
                    tried: Vec::new(),
                });
                self.deliver(req, ingress, flow, retarget, preload, retry, now)
            }
            Decision::Forward { target, retarget } => {
                let Some(listener) = self.config.listener(target.transport.transport()).cloned()
                else {
                    return self.respond(&req, ingress, 503);
                };
                let hop = Hop {
                    listener,
                    flow: None,
                    retarget,
                    preload: Vec::new(),
                };
                let (msg, mut out) = self.forward(req, ingress, hop, now);
                out.push(Action::Forward { target, msg });
                out
            }
        }
    }

    /// The proxy half of the authentication policy (module docs): `Some(answer)` when the
    /// request is not to be routed (407, 403, 400, or an absorbed ACK), `None` to go on.
    fn authorize_request(
        &mut self,
        req: &mut Message,
        ingress: &Flow,
        decision: &Decision,
        now: Time,
    ) -> Option<Vec<Action>> {
        let auth = self.auth.as_ref()?;
        let method = req.method()?.clone();
        let to_tag = req.to().and_then(NameAddr::tag);
        if method == Method::Ack && to_tag == Some(self.to_tag(req).as_str()) {
            // RFC 3261 §17.2.1: the ACK of our own non-2xx answer (a 407, say) ends our
            // server transaction; it is not routed on.
            return Some(Vec::new());
        }
        if matches!(decision, Decision::Register | Decision::Drop)
            || auth.config().scope != ChallengeScope::RegisterAndRequests
            || matches!(method, Method::Ack | Method::Cancel)
            || to_tag.is_some()
        {
            return None;
        }
        let from = req.from().and_then(NameAddr::sip_uri)?;
        if !self.config.is_our_domain(&from.host) {
            return None;
        }
        let from_user = from.user.clone();
        let realm = auth.realm().to_string();
        let verdict = self
            .auth
            .as_mut()?
            .verify(req, &HeaderName::ProxyAuthorization, now);
        let code = match verdict {
            AuthOutcome::Authorized(user) if from_user.as_deref() == Some(user.as_str()) => {
                // RFC 3261 §22.3: our realm's credentials are consumed here, others' kept.
                strip_credentials(req, &HeaderName::ProxyAuthorization, &realm);
                return None;
            }
            // RFC 3261 §22.3 / §10.3 step 4 by analogy: authenticated, not as the From user.
            AuthOutcome::Authorized(_) => 403,
            AuthOutcome::BadRequest(_) => 400,
            AuthOutcome::Challenge { stale, .. } => {
                let headers =
                    self.auth
                        .as_mut()?
                        .challenge(HeaderName::ProxyAuthenticate, stale, now);
                return Some(vec![Action::Send {
                    flow: ingress.id,
                    msg: response(req, 407, &self.to_tag(req), headers),
                }]);
            }
        };
        Some(self.respond(req, ingress, code))
    }

    /// Decide where a request goes. Consumes the Route values that name us (RFC 3261 §16.4,
    /// RFC 5658 §5: both of a double Record-Route at once).
    pub fn decide(&self, req: &mut Message, ingress: &Flow) -> Decision {
        self.decide_avoiding(req, ingress, &[])
    }

    /// Forward a request over a live flow; `retry` keeps what a 430 needs to try another.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        req: Message,
        ingress: &Flow,
        flow: FlowId,
        retarget: Option<String>,
        preload: Vec<NameAddr>,
        retry: Option<Retry>,
        now: Time,
    ) -> Vec<Action> {
        let Some(egress) = self.flows.get(&flow).copied() else {
            return self.respond(&req, ingress, 480);
        };
        let Some(listener) = self.config.listener(egress.transport).cloned() else {
            return self.respond(&req, ingress, 503);
        };
        let hop = Hop {
            listener,
            flow: Some(egress),
            retarget,
            preload,
        };
        let (msg, mut out) = self.forward(req, ingress, hop, now);
        if let (Some(mut retry), Some(branch)) = (
            retry,
            msg.top_via().and_then(Via::branch).map(str::to_string),
        ) {
            retry.tried.push(flow);
            if let Some(p) = self.pending.get_mut(&branch) {
                p.retry = Some(Box::new(retry));
            }
        }
        out.push(Action::Send { flow, msg });
        out
    }

    /// [`Proxy::decide`], never choosing a binding on one of the `avoid` flows (those that
    /// already answered 430 for this request).
    fn decide_avoiding(&self, req: &mut Message, ingress: &Flow, avoid: &[FlowId]) -> Decision {
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

    /// Rewrite a request for forwarding (RFC 3261 §16.6): Request-URI, pre-loaded Route,
    /// Max-Forwards, Record-Route, our Via, Content-Length. Returns the request and, for an
    /// INVITE, the 100 Trying to send back.
    fn forward(
        &mut self,
        mut req: Message,
        ingress: &Flow,
        hop: Hop,
        now: Time,
    ) -> (Message, Vec<Action>) {
        let Hop {
            listener,
            flow: egress_flow,
            retarget,
            preload,
        } = hop;
        let egress = listener.transport;
        let method = req.method().cloned();
        // RFC 3261 §16.6 item 4: a sips: Request-URI or top Route makes the Record-Route
        // sips:. Read before retargeting: a SIPS request stays SIPS for the dialog it forms
        // even when the registered contact it is sent to is written sip:.
        let sips = matches!(req.request_line().map(|r| &r.uri), Some(Uri::Sip(u)) if u.secure)
            || req
                .routes()
                .next()
                .and_then(NameAddr::sip_uri)
                .is_some_and(|u| u.secure)
            || preload
                .first()
                .and_then(NameAddr::sip_uri)
                .is_some_and(|u| u.secure);
        if let (Some(uri), StartLine::Request(line)) = (retarget, &mut req.start)
            && let Ok(u) = Uri::parse(&uri)
        {
            line.uri = u;
        }
        if !preload.is_empty() {
            // RFC 3327 §5.4: the stored Path goes in front as Route values.
            req.headers.insert(
                0,
                Header::new(HeaderName::Route, HeaderValue::Addresses(preload)),
            );
        }
        // Max-Forwards: decremented, or 70 for an RFC 2543 request that had none (§16.6 item 3).
        let mf = req
            .max_forwards()
            .map(|m| m.saturating_sub(1))
            .unwrap_or(70);
        req.headers.retain(|h| h.name != HeaderName::MaxForwards);
        req.headers.insert(
            0,
            Header::new(HeaderName::MaxForwards, HeaderValue::Number(mf)),
        );
        let in_dialog = req.to().and_then(NameAddr::tag).is_some();
        if method.as_ref().is_some_and(is_dialog_forming) && !in_dialog {
            let rr = record_route(
                &self.config,
                &self.tokens,
                ingress,
                egress,
                egress_flow.as_ref(),
                sips,
            );
            #[cfg(feature = "mutants")]
            let rr = match self.mutation {
                // The last entry is the ingress side's, the one a same-transport hop gets.
                Some(crate::mutation::Mutation::SingleRecordRoute) => {
                    rr.into_iter().last().into_iter().collect()
                }
                _ => rr,
            };
            if !rr.is_empty() {
                req.headers.insert(
                    0,
                    Header::new(HeaderName::RecordRoute, HeaderValue::Addresses(rr)),
                );
            }
        }
        let branch = self.branch(&req, ingress);
        let mut via = Via {
            protocol: "SIP".into(),
            version: "2.0".into(),
            transport: egress.via_token().into(),
            host: listener.host.clone(),
            port: Some(listener.port),
            params: Default::default(),
        };
        via.params.set("branch", Some(&branch));
        #[cfg(feature = "mutants")]
        if self.mutation == Some(crate::mutation::Mutation::WsViaOnWss) && egress == Transport::Wss
        {
            via.transport = Transport::Ws.via_token().into();
        }
        req.headers
            .insert(0, Header::new(HeaderName::Via, HeaderValue::Via(vec![via])));
        // Content-Length always, so the message is framed on a stream too (3261-16.6-a).
        req.headers.retain(|h| h.name != HeaderName::ContentLength);
        req.headers.push(Header::new(
            HeaderName::ContentLength,
            HeaderValue::Number(u32::try_from(req.body.len()).unwrap_or(u32::MAX)),
        ));
        let mut out = Vec::new();
        if method != Some(Method::Ack) {
            self.pending.insert(
                branch,
                Pending {
                    ingress: ingress.id,
                    expires_at: now.plus_secs(TIMER_C_SECS),
                    retry: None,
                },
            );
        }
        if method == Some(Method::Invite) {
            // A stateful proxy answers an INVITE with 100 at once (RFC 3261 §16.2), so the
            // client stops waiting; RFC 7118 §8.2 F2.
            out.push(Action::Send {
                flow: ingress.id,
                msg: response(&strip_our_via(req.clone()), 100, "", Vec::new()),
            });
        }
        (req, out)
    }

    /// Our branch: derived from the client's branch and the ingress flow, so that a CANCEL and
    /// the ACK of a non-2xx final response get the branch of their INVITE (RFC 3261 §16.11).
    fn branch(&self, req: &Message, ingress: &Flow) -> String {
        let mut h = DefaultHasher::new();
        self.config.secret.hash(&mut h);
        ingress.id.hash(&mut h);
        // The request has our new Via not yet, so the top Via is the client's.
        match req.top_via() {
            Some(v) if v.has_rfc3261_branch() => {
                v.branch().hash(&mut h);
                v.host.to_string().hash(&mut h);
                v.port.hash(&mut h);
            }
            _ => {
                // RFC 2543 client: the transaction is its Call-ID, tags, CSeq number, R-URI.
                req.call_id().hash(&mut h);
                req.from().and_then(NameAddr::tag).hash(&mut h);
                req.cseq().map(|c| c.seq).hash(&mut h);
                req.request_line().map(|r| r.uri.to_string()).hash(&mut h);
            }
        }
        format!("z9hG4bKsws{:016x}", h.finish())
    }

    /// The shell could not deliver a [`Action::Forward`] (connection refused, no route, TLS
    /// unsupported): answer the request's sender with 503 (RFC 3261 §16.7 item 6 treats a
    /// transport error like a 503 from the target), on the flow it came in on.
    pub fn forward_failed(&mut self, req: Message, now: Time) -> Vec<Action> {
        if !req.is_request() || req.method() == Some(&Method::Ack) {
            return Vec::new();
        }
        let Some(branch) = req.top_via().and_then(Via::branch).map(str::to_string) else {
            return Vec::new();
        };
        let Some(p) = self.pending.get_mut(&branch) else {
            return Vec::new();
        };
        p.expires_at = p.expires_at.min(now.plus_secs(AFTER_FINAL_SECS));
        let ingress = p.ingress;
        if !self.flows.contains_key(&ingress) {
            return Vec::new();
        }
        let original = strip_our_via(req);
        let to_tag = self.to_tag(&original);
        vec![Action::Send {
            flow: ingress,
            msg: response(&original, 503, &to_tag, Vec::new()),
        }]
    }

    /// A response: pop our Via and send it on the flow the request came in on (3261-18.2.2-a).
    fn on_response(&mut self, resp: Message, now: Time) -> Vec<Action> {
        let Some(branch) = resp.top_via().and_then(Via::branch).map(str::to_string) else {
            return Vec::new();
        };
        let Some(p) = self.pending.get_mut(&branch) else {
            return Vec::new();
        };
        let code = resp.status_line().map(|s| s.code).unwrap_or(0);
        if code >= 200 {
            p.expires_at = p.expires_at.min(now.plus_secs(AFTER_FINAL_SECS));
        }
        let ingress = p.ingress;
        // After a final response the request is no longer needed: a 430 moves it on, any
        // other ends it (5626-7-b); only the way back stays, for retransmissions.
        let retry = if code >= 200 { p.retry.take() } else { None }.filter(|_| code == 430);
        let Some(ingress_flow) = self.flows.get(&ingress).copied() else {
            // 3261-18.2.2-b: the connection is gone; a WS client cannot be reached otherwise.
            return Vec::new();
        };
        if let Some(retry) = retry {
            // 5626-7-b: a 430 says that flow failed; try the next binding before answering.
            let mut req = retry.original.clone();
            if let Decision::Deliver {
                flow,
                retarget,
                preload,
            } = self.decide_avoiding(&mut req, &ingress_flow, &retry.tried)
            {
                let mut out = self.deliver(
                    req,
                    &ingress_flow,
                    flow,
                    retarget,
                    preload,
                    Some(*retry),
                    now,
                );
                // The client already had its 100 Trying.
                out.retain(|a| !matches!(a, Action::Send { msg, .. } if !msg.is_request()));
                return out;
            }
        }
        vec![Action::Send {
            flow: ingress,
            msg: strip_our_via(resp),
        }]
    }
}

/// Remove the credentials of `realm` from `name` headers (RFC 3261 §22.3: a proxy consumes
/// only its own realm's).
fn strip_credentials(m: &mut Message, name: &HeaderName, realm: &str) {
    m.headers.retain(|h| {
        h.name != *name
            || !matches!(&h.value, HeaderValue::Text(t)
                if parse_auth_params(t).is_ok_and(|p| p.get("realm") == Some(realm)))
    });
}

/// Remove the top Via value (ours).
fn strip_our_via(mut m: Message) -> Message {
    if let Some(pos) = m.headers.iter().position(|h| h.name == HeaderName::Via) {
        if let HeaderValue::Via(list) = &mut m.headers[pos].value
            && list.len() > 1
        {
            list.remove(0);
            return m;
        }
        m.headers.remove(pos);
    }
    m
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

/// RFC 3261 §18.2.1 and RFC 3581 §4 on the top Via of a request we received; RFC 7118 §5.3
/// for WebSocket (see the module docs, A8).
fn stamp_top_via(req: &mut Message, ingress: &Flow) {
    let Some(h) = req.headers.iter_mut().find(|h| h.name == HeaderName::Via) else {
        return;
    };
    let HeaderValue::Via(list) = &mut h.value else {
        return;
    };
    let Some(via) = list.first_mut() else {
        return;
    };
    let src = ingress.remote.ip();
    let wants_rport = via.rport() == Some(None);
    let sent_by_is_src = match &via.host {
        Host::Ipv4(a) => std::net::IpAddr::V4(*a) == src,
        Host::Ipv6(a) => std::net::IpAddr::V6(*a) == src,
        Host::Domain(_) => false,
    };
    if wants_rport {
        via.params
            .set("rport", Some(&ingress.remote.port().to_string()));
        via.params.set("received", Some(&src.to_string()));
    } else if !ingress.transport.is_websocket() && !sent_by_is_src {
        via.params.set("received", Some(&src.to_string()));
    }
}

#[cfg(test)]
mod tests;
