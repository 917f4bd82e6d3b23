//! The registrar (RFC 3261 §10.3) with Outbound (RFC 5626 §6), Path (RFC 3327 §5.3) and GRUU
//! (RFC 5627 §5): a pure function from a REGISTER, the flow it arrived on and the clock to the
//! response, updating the location service.

use super::auth::{AuthOutcome, Authenticator};
use super::location::{Binding, BindingKey, Location, aor_of};
use super::{Config, Time};
use crate::proxy::flow_token::FlowTokens;
use crate::sip::response::response;
use crate::sip::{Contact, Header, HeaderName, HeaderValue, Message, NameAddr, SipUri};
use crate::transport::Flow;

/// Option tags this registrar implements.
pub const SUPPORTED: [&str; 3] = ["path", "outbound", "gruu"];

/// Everything the registrar needs besides the request.
pub struct Registrar<'a> {
    pub config: &'a Config,
    pub tokens: &'a FlowTokens,
    pub location: &'a mut Location,
    /// Digest authentication (RFC 3261 §10.3 steps 3–4), when configured.
    pub auth: Option<&'a mut Authenticator>,
}

/// Is `contact` the AoR itself, or a GRUU of it (RFC 5627 §5.1: "equivalent" per RFC 3261
/// §19.1.4)? User, host and port must be the same, and the parameters §19.1.4 makes count
/// (transport, user, ttl, method, maddr) present on both or neither with equal values; `gr`
/// is ignored, since a GRUU is the AoR plus `gr`. So `sip:alice@127.0.0.1:5090;transport=ws`
/// is not the AoR `sip:alice@127.0.0.1`.
pub fn is_aor_or_its_gruu(contact: &SipUri, aor: &SipUri) -> bool {
    let param = |u: &SipUri, name: &str| u.params.get(name).map(|v| v.map(str::to_ascii_lowercase));
    contact.user == aor.user
        && contact.host.matches(&aor.host)
        && contact.port == aor.port
        && ["transport", "user", "ttl", "method", "maddr"]
            .iter()
            .all(|p| param(contact, p) == param(aor, p))
}

/// The public GRUU of an instance: the AoR with `gr=<instance>` (RFC 5627 §5.1, 5627-5.1-b).
pub fn pub_gruu(aor: &str, instance: &str) -> String {
    format!("{aor};gr={instance}")
}

/// The temporary GRUU of a registration: opaque, tied to the Call-ID so that a new Call-ID
/// invalidates the earlier ones (RFC 5627 §5.1).
pub fn temp_gruu(
    tokens: &FlowTokens,
    domain: &str,
    aor: &str,
    instance: &str,
    call_id: &str,
) -> String {
    format!(
        "sip:tgruu.{}@{domain};gr",
        tokens.opaque("temp-gruu", &[aor, instance, call_id])
    )
}

fn fail(req: &Message, to_tag: &str, code: u16, extra: Vec<Header>) -> Message {
    response(req, code, to_tag, extra)
}

impl Registrar<'_> {
    /// Handle a REGISTER whose Request-URI is ours.
    pub fn register(&mut self, req: &Message, ingress: &Flow, now: Time, to_tag: &str) -> Message {
        // RFC 3261 §10.3 step 2: Require must only name extensions we implement.
        let unsupported: Vec<String> = req
            .tokens(&HeaderName::Require)
            .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .map(str::to_string)
            .collect();
        if !unsupported.is_empty() {
            return fail(
                req,
                to_tag,
                420,
                vec![Header::new(
                    HeaderName::Unsupported,
                    HeaderValue::Tokens(unsupported),
                )],
            );
        }
        // Steps 3 and 4: authenticate, then check that the user may change this AoR.
        if let Some(refused) = self.authenticate(req, now, to_tag) {
            return refused;
        }
        // Step 5: the AoR must be a SIP URI of a domain we are responsible for.
        let Some(to_uri) = req.to().and_then(NameAddr::sip_uri) else {
            return fail(req, to_tag, 404, Vec::new());
        };
        if !self.config.is_our_domain(&to_uri.host) {
            return fail(req, to_tag, 404, Vec::new());
        }
        let aor = aor_of(to_uri);
        let domain = to_uri.host.to_string();

        let path: Vec<NameAddr> = req.paths().cloned().collect();
        // RFC 3327 §5.3: a Path the UA did not agree to is best refused (420).
        if !path.is_empty() && !req.supports("path") {
            return fail(
                req,
                to_tag,
                420,
                vec![Header::new(
                    HeaderName::Unsupported,
                    HeaderValue::Tokens(vec!["path".into()]),
                )],
            );
        }
        // RFC 5626 §6: Outbound applies when we are the first hop (no Path) or the first Path
        // URI carries `ob`; otherwise a REGISTER asking for it gets 439 (5626-6-a, 11.6-a).
        let first_hop = path
            .first()
            .map(|p| p.sip_uri().is_some_and(|u| u.params.has("ob")))
            .unwrap_or(true);
        let wants_outbound = req.supports("outbound");
        let has_reg_id = req
            .contacts()
            .any(|c| c.reg_id().is_some() && c.instance().is_some());
        if !first_hop && has_reg_id && wants_outbound {
            return fail(req, to_tag, 439, Vec::new());
        }
        let outbound = self.config.outbound && first_hop && wants_outbound;

        let header_expires = req.expires();
        if req.contact_star() {
            // Step 6: `Contact: *` only alone and with Expires: 0.
            if req.contacts().next().is_some() || header_expires != Some(0) {
                return fail(req, to_tag, 400, Vec::new());
            }
            self.location.remove_all(&aor);
            return self.ok(req, &aor, &domain, now, to_tag, false, &path);
        }

        let contacts: Vec<&NameAddr> = req.contacts().collect();
        // RFC 5626 §12: reg-id is 1 to 2^31-1.
        if contacts.iter().any(|c| {
            c.params.value("reg-id").is_some()
                && !c.reg_id().is_some_and(|r| (1..=0x7fff_ffff).contains(&r))
        }) {
            return fail(req, to_tag, 400, Vec::new());
        }
        let expiry_of = |c: &NameAddr| {
            c.expires()
                .or(header_expires)
                .unwrap_or(self.config.expires.default)
        };
        // 5626-6-b: more than one non-zero-expiry Contact with a reg-id is refused.
        if contacts
            .iter()
            .filter(|c| c.reg_id().is_some() && expiry_of(c) != 0)
            .count()
            > 1
        {
            return fail(req, to_tag, 400, Vec::new());
        }
        for c in &contacts {
            let e = expiry_of(c);
            if e != 0 && e < self.config.expires.min {
                // RFC 3261 §10.3 step 7: 423 with our minimum.
                return fail(
                    req,
                    to_tag,
                    423,
                    vec![Header::new(
                        HeaderName::MinExpires,
                        HeaderValue::Number(self.config.expires.min),
                    )],
                );
            }
            if c.instance().is_some() && e != 0 {
                // 5627-5.1-a: a Contact that is the AoR itself, one of its GRUUs, or not a SIP
                // URI cannot be registered with an instance.
                match c.sip_uri() {
                    None => return fail(req, to_tag, 403, Vec::new()),
                    Some(u) if is_aor_or_its_gruu(u, to_uri) => {
                        return fail(req, to_tag, 403, Vec::new());
                    }
                    Some(_) => {}
                }
            }
        }
        let Some(call_id) = req.call_id() else {
            return fail(req, to_tag, 400, Vec::new());
        };
        let cseq = req.cseq().map(|c| c.seq).unwrap_or(0);
        let keyed: Vec<(&NameAddr, u32, BindingKey)> = contacts
            .into_iter()
            .map(|c| {
                let key = match (c.instance(), c.reg_id()) {
                    (Some(i), Some(r)) if outbound => BindingKey::Outbound {
                        instance: i,
                        reg_id: r,
                    },
                    (Some(i), _) => BindingKey::Instance { instance: i },
                    (None, _) => BindingKey::Contact {
                        uri: c.uri.to_string(),
                    },
                };
                (c, expiry_of(c).min(self.config.expires.max), key)
            })
            .collect();
        if self.exceeds_limits(&aor, ingress, &keyed) {
            return fail(req, to_tag, 503, Vec::new());
        }
        let mut used_outbound = false;
        for (c, e, key) in keyed {
            used_outbound |= matches!(key, BindingKey::Outbound { .. });
            if let Some(existing) = self.location.bindings(&aor).iter().find(|b| b.key == key) {
                // Step 7: an older or repeated request must not overwrite a newer binding.
                if existing.call_id == call_id && existing.cseq >= cseq {
                    return fail(req, to_tag, 500, Vec::new());
                }
            }
            if e == 0 {
                self.location.remove(&aor, &key);
                continue;
            }
            let mut contact = c.clone();
            for p in ["expires", "pub-gruu", "temp-gruu"] {
                contact.params.remove(p);
            }
            self.location.upsert(
                &aor,
                Binding {
                    outbound: matches!(key, BindingKey::Outbound { .. }),
                    key,
                    contact,
                    flow: ingress.id,
                    transport: ingress.transport,
                    path: path.clone(),
                    call_id: call_id.to_string(),
                    cseq,
                    expires_at: Time(now.0.saturating_add(u64::from(e) * 1000)),
                    updated_at: now,
                },
            );
        }
        self.ok(req, &aor, &domain, now, to_tag, used_outbound, &path)
    }

    /// Would this REGISTER leave the AoR, or the flow it came on, with more bindings than
    /// [`super::BindingLimits`] allows? Checked before any change, so a refused REGISTER
    /// changes nothing (RFC 3261 §10.3: a registrar processes the Contacts all or none).
    fn exceeds_limits(
        &self,
        aor: &str,
        ingress: &Flow,
        keyed: &[(&NameAddr, u32, BindingKey)],
    ) -> bool {
        let current = self.location.bindings(aor);
        let mut added = 0usize;
        let mut removed = 0usize;
        let mut moved_here = 0usize;
        for (i, (_, e, key)) in keyed.iter().enumerate() {
            // A key listed twice counts once (the later Contact wins in the loop).
            if keyed[i + 1..].iter().any(|(_, _, k)| k == key) {
                continue;
            }
            match current.iter().find(|b| &b.key == key) {
                Some(b) if *e == 0 => removed += usize::from(b.flow == ingress.id),
                Some(b) => moved_here += usize::from(b.flow != ingress.id),
                None if *e == 0 => {}
                None => added += 1,
            }
        }
        let limits = self.config.bindings;
        let per_aor = current.len() + added;
        let per_flow = (self.location.flow_binding_count(ingress.id) + added + moved_here)
            .saturating_sub(removed);
        added > 0 && per_aor > limits.per_aor
            || (added + moved_here > 0 && per_flow > limits.per_flow)
    }

    /// RFC 3261 §10.3 step 3 (§22.4): without valid credentials for our realm, 401 with a
    /// challenge (`stale=true` when only the nonce expired); step 4: user U may only
    /// register or remove bindings of the AoR whose user is U in one of our domains, else 403
    /// (so nobody can register or unregister someone else's AoR). `None`: go on.
    fn authenticate(&mut self, req: &Message, now: Time, to_tag: &str) -> Option<Message> {
        let auth = self.auth.as_deref_mut()?;
        match auth.verify(req, &HeaderName::Authorization, now) {
            AuthOutcome::Authorized(user) => {
                let own = req.to().and_then(NameAddr::sip_uri).is_some_and(|u| {
                    u.user.as_deref() == Some(user.as_str()) && self.config.is_our_domain(&u.host)
                });
                (!own).then(|| fail(req, to_tag, 403, Vec::new()))
            }
            AuthOutcome::Challenge { stale, .. } => {
                let headers = auth.challenge(HeaderName::WwwAuthenticate, stale, now);
                Some(fail(req, to_tag, 401, headers))
            }
            AuthOutcome::BadRequest(_) => Some(fail(req, to_tag, 400, Vec::new())),
        }
    }

    /// The 200: every current binding with its remaining `expires` (JsSIP and SIP.js drop a
    /// 200 without it), GRUUs when asked for (5627-5.2-a), `Require: outbound` when Outbound
    /// was used (5626-6-c), the Path echoed (3327-5.3-a).
    #[allow(clippy::too_many_arguments)]
    fn ok(
        &self,
        req: &Message,
        aor: &str,
        domain: &str,
        now: Time,
        to_tag: &str,
        used_outbound: bool,
        path: &[NameAddr],
    ) -> Message {
        let gruu = self.config.gruu && req.supports("gruu");
        let call_id = req.call_id().unwrap_or_default();
        let contacts: Vec<NameAddr> = self
            .location
            .bindings(aor)
            .iter()
            .map(|b| {
                let mut c = b.contact.clone();
                c.params.set("expires", Some(&b.remaining(now).to_string()));
                if let (true, Some(instance)) = (gruu, b.instance()) {
                    c.params.set(
                        "pub-gruu",
                        Some(&format!("\"{}\"", pub_gruu(aor, instance))),
                    );
                    // Temporary GRUUs are only minted for this request's Call-ID (5627-5.1-b).
                    if b.call_id == call_id {
                        c.params.set(
                            "temp-gruu",
                            Some(&format!(
                                "\"{}\"",
                                temp_gruu(self.tokens, domain, aor, instance, call_id)
                            )),
                        );
                    }
                }
                c
            })
            .collect();
        let mut extra = Vec::new();
        if used_outbound {
            extra.push(Header::new(
                HeaderName::Require,
                HeaderValue::Tokens(vec!["outbound".into()]),
            ));
        }
        extra.push(Header::new(
            HeaderName::Supported,
            HeaderValue::Tokens(vec!["path".into(), "outbound".into()]),
        ));
        if !path.is_empty() {
            extra.push(Header::new(
                HeaderName::Path,
                HeaderValue::Addresses(path.to_vec()),
            ));
        }
        if !contacts.is_empty() {
            extra.push(Header::new(
                HeaderName::Contact,
                HeaderValue::Contact(Contact::List(contacts)),
            ));
        }
        response(req, 200, to_tag, extra)
    }
}

/// Parse a GRUU's `gr` parameter: `Some(instance)` for a public GRUU, `Some("")` for a
/// temporary one (valueless `gr`).
pub fn gruu_instance(uri: &SipUri) -> Option<&str> {
    uri.params.get("gr").map(|v| v.unwrap_or(""))
}

/// The instance a temporary GRUU names, found by recomputing the tags of the live bindings.
pub fn resolve_temp_gruu<'l>(
    tokens: &FlowTokens,
    location: &'l Location,
    uri: &SipUri,
) -> Option<(&'l str, &'l Binding)> {
    let user = uri.user.as_deref()?;
    let domain = uri.host.to_string();
    location.aors().find_map(|aor| {
        location.bindings(aor).iter().find_map(|b| {
            let instance = b.instance()?;
            let expected = temp_gruu(tokens, &domain, aor, instance, &b.call_id);
            let expected_user = SipUri::parse(expected.trim_end_matches(";gr"))
                .ok()
                .and_then(|u| u.user);
            (expected_user.as_deref() == Some(user)).then_some((aor, b))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> SipUri {
        SipUri::parse(s).expect("test URIs are valid")
    }

    #[test]
    fn req_5627_5_1_a_aor_equivalence_follows_rfc3261_19_1_4() {
        let aor = uri("sip:alice@127.0.0.1");
        assert!(is_aor_or_its_gruu(&uri("sip:alice@127.0.0.1"), &aor));
        assert!(is_aor_or_its_gruu(
            &uri("sip:alice@127.0.0.1;gr=urn:uuid:1"),
            &aor
        ));
        assert!(is_aor_or_its_gruu(
            &uri("sip:alice@EXAMPLE.com"),
            &uri("sip:alice@example.com")
        ));
        // A port or a transport on one side only makes another URI (§19.1.4).
        assert!(!is_aor_or_its_gruu(
            &uri("sip:alice@127.0.0.1:5090;transport=ws"),
            &aor
        ));
        assert!(!is_aor_or_its_gruu(
            &uri("sip:alice@127.0.0.1;transport=ws"),
            &aor
        ));
        assert!(!is_aor_or_its_gruu(&uri("sip:bob@127.0.0.1"), &aor));
        assert!(!is_aor_or_its_gruu(&uri("sip:Alice@127.0.0.1"), &aor));
    }
}
