//! The location service: bindings from an address-of-record to contacts, each tied to the
//! flow it was registered over (RFC 3261 §10, RFC 5626 §6, §7; RFC 5627).
//!
//! Plain data with an injected clock ([`Time`]); the registrar fills it, the router reads it,
//! and the I/O shell reports closed flows so that no binding outlives its flow (5626-7-d).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::Time;
use crate::sip::{NameAddr, SipUri};
use crate::transport::{FlowId, Transport};

/// What makes two registrations the same binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BindingKey {
    /// RFC 5626 §6: AoR + instance-id + reg-id (Outbound).
    Outbound { instance: String, reg_id: u32 },
    /// An instance without Outbound (GRUU, RFC 5627): AoR + instance-id.
    Instance { instance: String },
    /// RFC 3261 §10.3 step 7: AoR + contact URI.
    Contact { uri: String },
}

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    pub key: BindingKey,
    /// The contact as registered (its `expires` parameter removed).
    pub contact: NameAddr,
    /// The flow the REGISTER arrived on; requests to this binding go over it (5626-7-c).
    pub flow: FlowId,
    pub transport: Transport,
    /// Registered with Outbound (reg-id, `Supported: outbound`): the flow is the only way in.
    pub outbound: bool,
    /// The Path vector stored with the binding (RFC 3327 §5.3).
    pub path: Vec<NameAddr>,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: Time,
    /// When this binding was last written: the most recent one is the one delivered to.
    pub updated_at: Time,
}

impl Binding {
    pub fn instance(&self) -> Option<&str> {
        match &self.key {
            BindingKey::Outbound { instance, .. } | BindingKey::Instance { instance } => {
                Some(instance)
            }
            BindingKey::Contact { .. } => None,
        }
    }

    /// Seconds left at `now`, rounded up (what the 200 OK's `expires` says).
    pub fn remaining(&self, now: Time) -> u32 {
        let ms = self.expires_at.0.saturating_sub(now.0);
        u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
    }
}

/// Normalized address-of-record: `sip:user@host` with the host lower-cased and no port or
/// parameters (RFC 3261 §10.3 step 5: the To URI canonicalized).
pub fn aor_of(uri: &SipUri) -> String {
    let host = uri.host.to_string().to_ascii_lowercase();
    match &uri.user {
        Some(u) => format!("sip:{u}@{host}"),
        None => format!("sip:{host}"),
    }
}

/// A set that remembers at most `limit` values, the latest ones: what the registrar
/// remembers of AoRs and instances without a binding must not grow with every AoR a peer ever
/// registered. Two generations of `limit / 2`: when the current one is full it becomes the
/// previous one and the old previous one is forgotten, so each value is stored once and at
/// least the latest `limit / 2` are always remembered.
#[derive(Debug)]
struct Remembered<T> {
    current: HashSet<T>,
    previous: HashSet<T>,
    half: usize,
}

impl<T: Eq + std::hash::Hash> Remembered<T> {
    fn new(limit: usize) -> Self {
        Remembered {
            current: HashSet::new(),
            previous: HashSet::new(),
            half: (limit / 2).max(1),
        }
    }

    fn contains(&self, v: &T) -> bool {
        self.current.contains(v) || self.previous.contains(v)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    fn insert(&mut self, v: T) {
        if self.contains(&v) {
            return;
        }
        if self.current.len() >= self.half {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(v);
    }
}

#[derive(Debug)]
pub struct Location {
    bindings: HashMap<String, Vec<Binding>>,
    by_flow: HashMap<FlowId, HashSet<String>>,
    /// AoRs registered since start, the latest [`Location::KNOWN_LIMIT`]: a request for one
    /// with no binding left gets 480 (3261-16.5-a), one never seen (or forgotten) gets 404.
    known: Remembered<String>,
    /// (AoR, instance) pairs that had a binding, the latest [`Location::KNOWN_LIMIT`]: their
    /// public GRUU stays valid after the contact is gone (480, 5627-5.3-a); a `gr` never
    /// registered (or forgotten) is unknown (404, 5627-6.1-a).
    known_instances: Remembered<(String, String)>,
}

impl Default for Location {
    fn default() -> Self {
        Location::with_known_limit(Location::KNOWN_LIMIT)
    }
}

impl Location {
    /// How many AoRs (and, separately, AoR instances) without a binding are remembered.
    /// An AoR with live bindings is found through them whatever this says.
    pub const KNOWN_LIMIT: usize = 65_536;

    pub fn new() -> Self {
        Self::default()
    }

    /// A location service remembering at most `limit` AoRs and instances beyond their
    /// bindings.
    pub fn with_known_limit(limit: usize) -> Self {
        Location {
            bindings: HashMap::new(),
            by_flow: HashMap::new(),
            known: Remembered::new(limit),
            known_instances: Remembered::new(limit),
        }
    }

    /// Live bindings of an AoR (expired ones are gone after [`Location::expire`]).
    pub fn bindings(&self, aor: &str) -> &[Binding] {
        self.bindings.get(aor).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn is_known(&self, aor: &str) -> bool {
        self.bindings.contains_key(aor) || self.known.contains(&aor.to_string())
    }

    /// Did this instance ever register for this AoR (so its public GRUU exists)?
    pub fn is_known_instance(&self, aor: &str, instance: &str) -> bool {
        self.bindings(aor)
            .iter()
            .any(|b| b.instance() == Some(instance))
            || self
                .known_instances
                .contains(&(aor.to_string(), instance.to_string()))
    }

    /// Bindings whose flow is `flow`, all AoRs together.
    pub fn flow_binding_count(&self, flow: FlowId) -> usize {
        self.by_flow.get(&flow).map_or(0, |aors| {
            aors.iter()
                .map(|a| self.bindings(a).iter().filter(|b| b.flow == flow).count())
                .sum()
        })
    }

    pub fn binding_count(&self) -> usize {
        self.bindings.values().map(Vec::len).sum()
    }

    pub fn aors(&self) -> impl Iterator<Item = &str> {
        self.bindings.keys().map(String::as_str)
    }

    /// Insert or replace the binding with the same key. A re-registration over another flow
    /// replaces the flow (5626-6-d).
    pub fn upsert(&mut self, aor: &str, binding: Binding) {
        self.known.insert(aor.to_string());
        if let Some(instance) = binding.instance() {
            self.known_instances
                .insert((aor.to_string(), instance.to_string()));
        }
        self.by_flow
            .entry(binding.flow)
            .or_default()
            .insert(aor.to_string());
        let list = self.bindings.entry(aor.to_string()).or_default();
        match list.iter_mut().find(|b| b.key == binding.key) {
            Some(existing) => {
                let old_flow = existing.flow;
                *existing = binding;
                self.unindex_if_unused(aor, old_flow);
            }
            None => list.push(binding),
        }
    }

    /// Remove one binding; true if it existed.
    pub fn remove(&mut self, aor: &str, key: &BindingKey) -> bool {
        let Some(list) = self.bindings.get_mut(aor) else {
            return false;
        };
        let Some(pos) = list.iter().position(|b| &b.key == key) else {
            return false;
        };
        let flow = list.remove(pos).flow;
        if list.is_empty() {
            self.bindings.remove(aor);
        }
        self.unindex_if_unused(aor, flow);
        true
    }

    /// Remove every binding of an AoR (`Contact: *`, RFC 3261 §10.3 step 6).
    pub fn remove_all(&mut self, aor: &str) {
        for b in self.bindings.remove(aor).unwrap_or_default() {
            self.unindex_if_unused(aor, b.flow);
        }
    }

    /// The flow is gone: invalidate every binding that uses it, whatever its AoR (5626-7-d).
    /// Returns how many bindings were removed.
    pub fn remove_flow(&mut self, flow: FlowId) -> usize {
        let mut removed = 0;
        for aor in self.by_flow.remove(&flow).unwrap_or_default() {
            if let Some(list) = self.bindings.get_mut(&aor) {
                let before = list.len();
                list.retain(|b| b.flow != flow);
                removed += before - list.len();
                if list.is_empty() {
                    self.bindings.remove(&aor);
                }
            }
        }
        removed
    }

    /// Drop bindings whose expiry is at or before `now`. Returns how many.
    pub fn expire(&mut self, now: Time) -> usize {
        let mut gone = Vec::new();
        for (aor, list) in &mut self.bindings {
            list.retain(|b| {
                let keep = b.expires_at > now;
                if !keep {
                    gone.push((aor.clone(), b.flow));
                }
                keep
            });
        }
        self.bindings.retain(|_, l| !l.is_empty());
        for (aor, flow) in &gone {
            self.unindex_if_unused(aor, *flow);
        }
        gone.len()
    }

    /// The earliest expiry, for the shell's timer.
    pub fn next_expiry(&self) -> Option<Time> {
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// A binding whose contact URI is `uri` (user, host and port compared as RFC 3261 §19.1.4
    /// does for those parts): how an in-dialog request whose Request-URI is a registered
    /// contact finds its flow.
    pub fn find_contact(&self, uri: &SipUri) -> Option<&Binding> {
        self.bindings.values().flatten().find(|b| {
            b.contact.sip_uri().is_some_and(|c| {
                c.user == uri.user && c.host.matches(&uri.host) && c.port == uri.port
            })
        })
    }

    fn unindex_if_unused(&mut self, aor: &str, flow: FlowId) {
        let still_used = self
            .bindings
            .get(aor)
            .is_some_and(|l| l.iter().any(|b| b.flow == flow));
        if !still_used && let Some(set) = self.by_flow.get_mut(&flow) {
            set.remove(aor);
            if set.is_empty() {
                self.by_flow.remove(&flow);
            }
        }
    }

    /// Internal consistency, for property tests: the flow index names exactly the flows that
    /// bindings use.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (aor, list) in &self.bindings {
            if list.is_empty() {
                return Err(format!("{aor} has an empty binding list"));
            }
            for b in list {
                if !self.by_flow.get(&b.flow).is_some_and(|s| s.contains(aor)) {
                    return Err(format!("{aor} binding on {} is not indexed", b.flow));
                }
            }
        }
        for (flow, aors) in &self.by_flow {
            for aor in aors {
                if !self.bindings(aor).iter().any(|b| b.flow == *flow) {
                    return Err(format!("{flow} indexes {aor} without a binding"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Uri;

    fn binding(key: BindingKey, flow: u64, expires_at: u64) -> Binding {
        Binding {
            key,
            contact: NameAddr::new(Uri::parse("sip:a@x.invalid;transport=ws").expect("valid")),
            flow: FlowId(flow),
            transport: Transport::Ws,
            outbound: true,
            path: Vec::new(),
            call_id: "c".into(),
            cseq: 1,
            expires_at: Time(expires_at),
            updated_at: Time(0),
        }
    }

    fn ob(instance: &str, reg_id: u32) -> BindingKey {
        BindingKey::Outbound {
            instance: instance.into(),
            reg_id,
        }
    }

    #[test]
    fn req_5626_6_d_reregistration_over_another_flow_replaces_the_flow() {
        let mut l = Location::new();
        l.upsert("sip:a@d", binding(ob("i", 1), 1, 1000));
        l.upsert("sip:a@d", binding(ob("i", 1), 2, 1000));
        assert_eq!(l.bindings("sip:a@d").len(), 1);
        assert_eq!(l.bindings("sip:a@d")[0].flow, FlowId(2));
        // Closing the old flow no longer touches the binding.
        assert_eq!(l.remove_flow(FlowId(1)), 0);
        assert_eq!(l.bindings("sip:a@d").len(), 1);
        l.check_invariants().expect("consistent");
    }

    #[test]
    fn req_5626_7_d_closing_a_flow_invalidates_every_binding_on_it() {
        let mut l = Location::new();
        l.upsert("sip:a@d", binding(ob("i", 1), 1, 1000));
        l.upsert("sip:b@d", binding(ob("j", 1), 1, 1000));
        l.upsert("sip:b@d", binding(ob("j", 2), 2, 1000));
        assert_eq!(l.remove_flow(FlowId(1)), 2);
        assert!(l.bindings("sip:a@d").is_empty());
        assert_eq!(l.bindings("sip:b@d").len(), 1);
        assert!(l.is_known("sip:a@d"));
        l.check_invariants().expect("consistent");
    }

    /// What is remembered beyond bindings is bounded: 10 AoRs registered and closed on a
    /// location that remembers 4 leave the latest known (480; here 3, after the live AoR took
    /// a place) and the rest unknown (404), while an AoR with a live binding stays known
    /// however old.
    #[test]
    fn memory_of_past_aors_is_bounded_and_live_ones_stay_known() {
        let mut l = Location::with_known_limit(4);
        l.upsert("sip:live@d", binding(ob("live", 1), 99, 1000));
        for i in 0..10 {
            let aor = format!("sip:u{i}@d");
            l.upsert(&aor, binding(ob(&format!("i{i}"), 1), i, 1000));
            l.remove_flow(FlowId(i));
            assert!(l.known.len() <= 4 && l.known_instances.len() <= 4);
        }
        let known: Vec<bool> = (0..10)
            .map(|i| l.is_known(&format!("sip:u{i}@d")))
            .collect();
        assert_eq!(
            known,
            [
                false, false, false, false, false, false, false, true, true, true
            ]
        );
        assert!(l.is_known_instance("sip:u9@d", "i9"));
        assert!(!l.is_known_instance("sip:u0@d", "i0"));
        assert!(l.is_known("sip:live@d"), "a live binding is always found");
        assert!(l.is_known_instance("sip:live@d", "live"));
        l.check_invariants().expect("consistent");
    }

    #[test]
    fn expiry_and_removal() {
        let mut l = Location::new();
        l.upsert("sip:a@d", binding(ob("i", 1), 1, 1000));
        l.upsert("sip:a@d", binding(ob("i", 2), 1, 3000));
        assert_eq!(l.next_expiry(), Some(Time(1000)));
        assert_eq!(l.expire(Time(1000)), 1);
        assert_eq!(l.bindings("sip:a@d").len(), 1);
        assert_eq!(l.bindings("sip:a@d")[0].remaining(Time(1500)), 2);
        assert!(l.remove("sip:a@d", &ob("i", 2)));
        assert!(!l.remove("sip:a@d", &ob("i", 2)));
        assert_eq!(l.binding_count(), 0);
        l.check_invariants().expect("consistent");
    }

    #[test]
    fn aor_is_normalized() {
        let u = SipUri::parse("sips:alice@EXAMPLE.com:5061;transport=ws").expect("valid");
        assert_eq!(aor_of(&u), "sip:alice@example.com");
    }
}
