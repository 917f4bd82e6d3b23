//! The server half of SIP digest authentication (RFC 3261 §22), sans-IO: the credential
//! store, self-validating nonces with a lifetime, nonce-count replay protection, issuing
//! challenges and verifying credentials. The half a user agent shares (header syntax, the
//! digest arithmetic, answering a challenge) is [`crate::sip::digest`].
//!
//! # Nonces
//! A nonce is 64 hex digits: a counter (8 bytes), the time it was issued on the proxy's
//! clock ([`Time`], 8 bytes) and 16 bytes of HMAC-SHA256 over both under the proxy's
//! per-start secret. A nonce that does not verify was not issued by this run: it gets a
//! fresh challenge. One older than the lifetime is stale: a correct digest over it gets a
//! challenge with `stale=true` (RFC 7616 §3.3), so the client retries without asking its user.
//!
//! # Replay protection
//! Every nonce issued is tracked with the highest nonce-count (`nc`, RFC 7616 §3.4) accepted
//! with it; a request whose `nc` is not above it is a replay and gets a fresh challenge. The
//! table holds at most [`AuthConfig::max_nonces`] entries: entries leave when their nonce
//! expires, and beyond the bound the oldest is evicted. An evicted nonce is then treated as
//! stale (never as unknown-but-acceptable), so eviction can cost a client one extra round
//! trip but can never let a replay through. Memory stays bounded whatever a peer sends:
//! about 40 bytes per entry.
//!
//! The policy of who is challenged lives with its callers: the registrar (401) and the proxy
//! (407), see the `proxy` module documentation.

use std::collections::BTreeMap;
use std::fmt;

use ring::hmac;

use super::Time;
use crate::hex;
use crate::sip::digest::{self, Credentials, DigestInput, ha1, parse_auth_params, response};
use crate::sip::{Header, HeaderName, HeaderValue, Message, Uri};

/// Nonces live this long unless configured otherwise (seconds).
pub const DEFAULT_NONCE_LIFETIME_SECS: u64 = 300;
/// Nonces tracked for replay protection unless configured otherwise.
pub const DEFAULT_MAX_NONCES: usize = 65_536;

/// One user's secrets: HA1 per algorithm, so plaintext passwords need not be stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserSecret {
    pub username: String,
    /// Lower-case hex of `MD5(username:realm:password)`.
    pub ha1_md5: Option<String>,
    /// Lower-case hex of `SHA-256(username:realm:password)`.
    pub ha1_sha256: Option<String>,
}

impl fmt::Debug for UserSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSecret")
            .field("username", &self.username)
            .field("ha1_md5", &self.ha1_md5.as_ref().map(|_| "<secret>"))
            .field("ha1_sha256", &self.ha1_sha256.as_ref().map(|_| "<secret>"))
            .finish()
    }
}

impl UserSecret {
    /// Both HA1 values from a password.
    pub fn from_password(username: &str, realm: &str, password: &str) -> UserSecret {
        UserSecret {
            username: username.to_string(),
            ha1_md5: Some(ha1(digest::Algorithm::Md5, username, realm, password)),
            ha1_sha256: Some(ha1(digest::Algorithm::Sha256, username, realm, password)),
        }
    }

    pub fn ha1(&self, alg: digest::Algorithm) -> Option<&str> {
        match alg {
            digest::Algorithm::Md5 => self.ha1_md5.as_deref(),
            digest::Algorithm::Sha256 => self.ha1_sha256.as_deref(),
        }
    }
}

/// Which requests are challenged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChallengeScope {
    /// REGISTER only (401).
    Register,
    /// REGISTER (401) and out-of-dialog requests from our domain's users (407).
    #[default]
    RegisterAndRequests,
}

/// Digest authentication settings, credentials loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub realm: String,
    pub users: Vec<UserSecret>,
    pub nonce_lifetime_secs: u64,
    pub scope: ChallengeScope,
    /// Nonces tracked for replay protection at most (see the module documentation).
    pub max_nonces: usize,
}

impl AuthConfig {
    /// Settings with the defaults: lifetime 300 s, registrar and proxy, 65536 nonces.
    pub fn new(realm: &str, users: Vec<UserSecret>) -> AuthConfig {
        AuthConfig {
            realm: realm.to_string(),
            users,
            nonce_lifetime_secs: DEFAULT_NONCE_LIFETIME_SECS,
            scope: ChallengeScope::default(),
            max_nonces: DEFAULT_MAX_NONCES,
        }
    }

    /// The algorithms offered: those every user has an HA1 for, strongest first, so a
    /// client that answers the first challenge can always be verified.
    pub fn offered(&self) -> Vec<digest::Algorithm> {
        digest::Algorithm::PREFERENCE
            .into_iter()
            .filter(|a| self.users.iter().all(|u| u.ha1(*a).is_some()))
            .collect()
    }
}

/// What the nonce of a credential turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonceStatus {
    /// Issued by us and still valid; its counter.
    Fresh(u64),
    /// Issued by us, past its lifetime (or evicted from the replay table).
    Stale,
    /// Not issued by this run: garbled, forged or from before a restart.
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct NonceEntry {
    issued_at: Time,
    /// The highest nc accepted with this nonce (0: none yet).
    last_nc: u32,
}

const NONCE_TAG_BYTES: usize = 16;
const NONCE_CONTEXT: &[u8] = b"sipws digest nonce";

/// Issues and checks nonces; tracks nonce-counts.
struct Nonces {
    key: hmac::Key,
    next: u64,
    /// Issued and neither expired nor evicted; a verified nonce missing here is stale.
    issued: BTreeMap<u64, NonceEntry>,
    lifetime_ms: u64,
    max: usize,
}

impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nonces")
            .field("tracked", &self.issued.len())
            .field("lifetime_ms", &self.lifetime_ms)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    fn tag(&self, counter: u64, issued_at: Time) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(NONCE_CONTEXT);
        ctx.update(&counter.to_be_bytes());
        ctx.update(&issued_at.0.to_be_bytes());
        ctx.sign()
    }

    fn expired(&self, issued_at: Time, now: Time) -> bool {
        now.0 >= issued_at.0.saturating_add(self.lifetime_ms)
    }

    /// Forget expired nonces; the table is ordered by counter, hence by issue time.
    fn purge(&mut self, now: Time) {
        while let Some((&c, e)) = self.issued.first_key_value() {
            if !self.expired(e.issued_at, now) {
                break;
            }
            self.issued.remove(&c);
        }
    }

    fn issue(&mut self, now: Time) -> String {
        self.purge(now);
        while self.issued.len() >= self.max.max(1) {
            // The bound: evict the oldest; its nonce now counts as stale (module docs).
            if self.issued.pop_first().is_none() {
                break;
            }
        }
        let counter = self.next;
        self.next += 1;
        self.issued.insert(
            counter,
            NonceEntry {
                issued_at: now,
                last_nc: 0,
            },
        );
        let tag = self.tag(counter, now);
        let mut s = String::with_capacity(2 * (16 + NONCE_TAG_BYTES));
        s.push_str(&hex::encode(&counter.to_be_bytes()));
        s.push_str(&hex::encode(&now.0.to_be_bytes()));
        s.push_str(&hex::encode(&tag.as_ref()[..NONCE_TAG_BYTES]));
        s
    }

    fn status(&self, nonce: &str, now: Time) -> NonceStatus {
        let Some(bytes) = hex::decode(nonce).filter(|b| b.len() == 16 + NONCE_TAG_BYTES) else {
            return NonceStatus::Unknown;
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[..8]);
        let counter = u64::from_be_bytes(word);
        word.copy_from_slice(&bytes[8..16]);
        let issued_at = Time(u64::from_be_bytes(word));
        let expected = self.tag(counter, issued_at);
        if !hex::constant_time_eq(&expected.as_ref()[..NONCE_TAG_BYTES], &bytes[16..]) {
            return NonceStatus::Unknown;
        }
        if self.expired(issued_at, now) || !self.issued.contains_key(&counter) {
            // Expired, or evicted from the bounded table: stale either way, never a replay.
            return NonceStatus::Stale;
        }
        NonceStatus::Fresh(counter)
    }

    /// Accept `nc` for the nonce if it is above every nc accepted with it (RFC 7616 §3.4:
    /// the server can detect replays by watching nc).
    fn accept_nc(&mut self, counter: u64, nc: u32) -> bool {
        match self.issued.get_mut(&counter) {
            Some(e) if nc > e.last_nc => {
                e.last_nc = nc;
                true
            }
            _ => false,
        }
    }
}

/// What a request's credentials amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Valid credentials of this user.
    Authorized(String),
    /// Challenge again; `stale` when only the nonce's age was wrong (RFC 7616 §3.3).
    Challenge { stale: bool, why: &'static str },
    /// Digest credentials for our realm that cannot be used as written: 400.
    BadRequest(&'static str),
}

/// The registrar's and proxy's authentication state: settings and nonces.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    offered: Vec<digest::Algorithm>,
    nonces: Nonces,
}

impl Authenticator {
    /// `secret` is the proxy's per-start key (the same as flow tokens', separated by a
    /// context label inside the HMAC input).
    pub fn new(config: AuthConfig, secret: &[u8]) -> Authenticator {
        let nonces = Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            next: 1,
            issued: BTreeMap::new(),
            lifetime_ms: config.nonce_lifetime_secs.saturating_mul(1000),
            max: config.max_nonces,
        };
        Authenticator {
            offered: config.offered(),
            config,
            nonces,
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub fn realm(&self) -> &str {
        &self.config.realm
    }

    /// Nonces tracked now (bounded by [`AuthConfig::max_nonces`]).
    pub fn tracked_nonces(&self) -> usize {
        self.nonces.issued.len()
    }

    /// Forget expired nonces.
    pub fn tick(&mut self, now: Time) {
        self.nonces.purge(now);
    }

    /// The challenge headers: one per algorithm offered, SHA-256 first (RFC 8760 §2.4), all
    /// with one fresh nonce and `qop="auth"`; `WWW-Authenticate` for a 401 (registrar,
    /// RFC 3261 §22.1), `Proxy-Authenticate` for a 407 (proxy, §22.3).
    pub fn challenge(&mut self, name: HeaderName, stale: bool, now: Time) -> Vec<Header> {
        let nonce = self.nonces.issue(now);
        self.offered
            .iter()
            .map(|a| {
                let c = digest::Challenge {
                    realm: self.config.realm.clone(),
                    nonce: nonce.clone(),
                    opaque: None,
                    algorithm: Some(a.name().to_string()),
                    qop: vec!["auth".into()],
                    stale,
                };
                Header::new(name.clone(), HeaderValue::Text(c.to_header_value()))
            })
            .collect()
    }

    /// Check the request's `name` (`Authorization` or `Proxy-Authorization`) credentials for
    /// our realm (RFC 3261 §22.4). Credentials of other schemes or realms are not ours and
    /// are ignored (§22.3).
    pub fn verify(&mut self, req: &Message, name: &HeaderName, now: Time) -> AuthOutcome {
        let mut ours = Vec::new();
        for v in req.values(name) {
            let HeaderValue::Text(t) = v else { continue };
            match parse_auth_params(t) {
                Ok(p) if p.is_digest() && p.get("realm") == Some(self.config.realm.as_str()) => {
                    ours.push(Credentials::from_params(&p));
                }
                // Another scheme or realm, or not even parameters: not for us.
                _ => {}
            }
        }
        let Some(first) = ours.into_iter().next() else {
            return AuthOutcome::Challenge {
                stale: false,
                why: "no credentials for our realm",
            };
        };
        let Ok(c) = first else {
            return AuthOutcome::BadRequest("malformed Digest credentials");
        };
        self.check(req, &c, now)
    }

    fn check(&mut self, req: &Message, c: &Credentials, now: Time) -> AuthOutcome {
        let challenge = |why| AuthOutcome::Challenge { stale: false, why };
        let Some(alg) = c
            .algorithm
            .as_deref()
            .map_or(Some(digest::Algorithm::Md5), digest::Algorithm::parse)
        else {
            return challenge("an algorithm we do not offer");
        };
        if !self.offered.contains(&alg) {
            return challenge("an algorithm we do not offer");
        }
        let qop_auth = match c.qop.as_deref() {
            Some(q) if q.eq_ignore_ascii_case("auth") => true,
            Some(_) => return challenge("a qop we do not offer"),
            // RFC 3261 §22.4 keeps RFC 2069 compatibility; only for MD5 (RFC 8760 §2.3
            // defines SHA-256 with qop only).
            None if alg == digest::Algorithm::Md5 => false,
            None => return challenge("SHA-256 without qop"),
        };
        // RFC 2617 §3.2.2.5: the digest-uri must name the Request-URI.
        let Some(line) = req.request_line() else {
            return AuthOutcome::BadRequest("not a request");
        };
        let ruri = line.uri.to_string();
        let same_uri = c.uri == ruri || Uri::parse(&c.uri).is_ok_and(|u| u.to_string() == ruri);
        if !same_uri {
            return AuthOutcome::BadRequest("the digest uri is not the Request-URI");
        }
        let nonce = self.nonces.status(&c.nonce, now);
        if nonce == NonceStatus::Unknown {
            return challenge("a nonce we did not issue");
        }
        let Some(user) = self.config.users.iter().find(|u| u.username == c.username) else {
            return challenge("an unknown user");
        };
        let Some(ha1) = user.ha1(alg) else {
            return challenge("no HA1 for that algorithm");
        };
        let expected = response(
            alg,
            ha1,
            &DigestInput {
                method: line.method.as_str(),
                uri: &c.uri,
                nonce: &c.nonce,
                qop_auth: qop_auth.then(|| {
                    (
                        c.nc.as_deref().unwrap_or(""),
                        c.cnonce.as_deref().unwrap_or(""),
                    )
                }),
            },
        );
        let given = c.response.to_ascii_lowercase();
        if given.len() != alg.hex_len()
            || !hex::constant_time_eq(expected.as_bytes(), given.as_bytes())
        {
            return challenge("a wrong digest response");
        }
        let counter = match nonce {
            NonceStatus::Fresh(counter) => counter,
            // The digest is right but the nonce too old: RFC 7616 §3.3 stale=true.
            _ => {
                return AuthOutcome::Challenge {
                    stale: true,
                    why: "an expired nonce",
                };
            }
        };
        // Without qop there is no nc: the nonce is good for one request (counted as nc 1).
        let nc = if qop_auth {
            c.nonce_count().unwrap_or(0)
        } else {
            1
        };
        if !self.nonces.accept_nc(counter, nc) {
            return challenge("a replayed nonce-count");
        }
        AuthOutcome::Authorized(c.username.clone())
    }
}

#[cfg(test)]
mod tests;
