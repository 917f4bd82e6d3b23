//! Routing decisions of the reference server, sans-IO (no socket, no clock): a registrar
//! and record-routing proxy that is fed parsed messages with the flow they arrived on and the
//! time, and answers with [`Action`]s for the I/O shell (`reference/src/net`).
//!
//! Policies (spec/requirements.md §5), each tested by name:
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
mod config;
pub mod flow_token;
mod forward;
pub mod location;
pub mod record_route;
pub mod registrar;
mod target_set;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use crate::sip::digest::parse_auth_params;
use crate::sip::response::response;
use crate::sip::{HeaderName, HeaderValue, Host, Message, Method, NameAddr, StartLine, Via};
use crate::transport::{Flow, FlowId};
use auth::{AuthOutcome, Authenticator, ChallengeScope};
pub use config::{BindingLimits, Config, Expiry};
use flow_token::FlowTokens;
use forward::strip_our_via;
use location::Location;
pub use record_route::Listener;
use registrar::Registrar;
pub use target_set::{Decision, Dialable, Target};

/// Milliseconds on the shell's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    pub fn plus_secs(self, secs: u64) -> Time {
        Time(self.0.saturating_add(secs * 1000))
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send on a live flow.
    Send { flow: FlowId, msg: Message },
    /// Send to a target over UDP/TCP/TLS, connecting if needed.
    Forward { target: Target, msg: Message },
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
                self.forward_to(req, ingress, target, retarget, now)
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
