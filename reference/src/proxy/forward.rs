//! Forwarding a request (RFC 3261 §16.6) once its target is known: the new Request-URI
//! (item 2), the pre-loaded Route of a Path (RFC 3327 §5.4), Max-Forwards (item 3),
//! Record-Route (item 4; RFC 5658 for two transports, flow tokens of RFC 5626 §5.3), our Via
//! and branch (item 8, §16.11 for CANCEL and ACK), Content-Length (item 9, 3261-16.6-a), and
//! the way back kept for Timer C (item 11). An INVITE is answered with 100 at once (§16.2).

use std::hash::{DefaultHasher, Hash, Hasher};

use super::record_route::{Listener, record_route};
use super::{Action, Pending, Proxy, Retry, TIMER_C_SECS, Target, Time};
use crate::sip::response::response;
use crate::sip::{Header, HeaderName, HeaderValue, Message, Method, NameAddr, StartLine, Uri, Via};
#[cfg(feature = "mutants")]
use crate::transport::Transport;
use crate::transport::{Flow, FlowId};

/// The egress side of a forwarded request.
struct Hop {
    listener: Listener,
    flow: Option<Flow>,
    retarget: Option<String>,
    preload: Vec<NameAddr>,
}

fn is_dialog_forming(m: &Method) -> bool {
    matches!(m, Method::Invite | Method::Subscribe | Method::Refer)
}

impl Proxy {
    /// Forward a request to a network target over UDP, TCP or TLS, which the shell connects
    /// to if needed; 503 when we have no listener of that transport to send from.
    pub(super) fn forward_to(
        &mut self,
        req: Message,
        ingress: &Flow,
        target: Target,
        retarget: Option<String>,
        now: Time,
    ) -> Vec<Action> {
        let Some(listener) = self.config.listener(target.transport.transport()).cloned() else {
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

    /// Forward a request over a live flow; `retry` keeps what a 430 needs to try another.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn deliver(
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
}

/// Remove the top Via value (ours).
pub(super) fn strip_our_via(mut m: Message) -> Message {
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
