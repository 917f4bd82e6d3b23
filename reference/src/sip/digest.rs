//! The half of SIP digest authentication (RFC 3261 §22) that a user agent and a server
//! share, sans-IO: reading `WWW-Authenticate` / `Proxy-Authenticate` challenges and
//! `Authorization` / `Proxy-Authorization` credentials (RFC 3261 §25.1, RFC 7616 §3.3–3.4
//! syntax), the digest arithmetic with MD5 and SHA-256 (RFC 7616 §3.4.1, RFC 8760 §2),
//! writing the credentials that answer a challenge (RFC 3261 §22.2) and choosing which of a
//! 401's or 407's challenges to answer (RFC 8760 §2.4).
//!
//! The user agent answers challenges with it (`crate::ua`); the registrar and proxy issue
//! and verify them (`crate::proxy::auth`: nonces, the credential store, verification).

use std::fmt;

use md5::{Digest, Md5};
use thiserror::Error;

use crate::hex;
use crate::sip::error::ErrorKind;
use crate::sip::scan::{Cursor, is_token, quote, unquote};
use crate::sip::{HeaderName, HeaderValue, Message};

/// A digest algorithm (RFC 8760 §2.1 names; `-sess` variants are not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    /// RFC 8760 §2.2: SHA-256 in SIP.
    Sha256,
}

impl Algorithm {
    /// Offered in this order: the strongest first (RFC 8760 §2.4).
    pub const PREFERENCE: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Md5];

    /// The `algorithm` token.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// The token, case-insensitively (RFC 7616 §3.3); `-sess` and others are `None`.
    pub fn parse(token: &str) -> Option<Algorithm> {
        [Algorithm::Md5, Algorithm::Sha256]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(token))
    }

    /// `H(data)` as lower-case hex (RFC 7616 §3.4.1).
    pub fn hex(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => {
                hex::encode(ring::digest::digest(&ring::digest::SHA256, data.as_bytes()).as_ref())
            }
        }
    }

    /// Length of the hex digest: what a well-formed `response` has.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha256 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `HA1 = H(username ":" realm ":" password)` (RFC 7616 §3.4.2, RFC 3261 §22.4).
pub fn ha1(alg: Algorithm, username: &str, realm: &str, password: &str) -> String {
    alg.hex(&format!("{username}:{realm}:{password}"))
}

/// What the `response` of a Digest credential is computed over besides HA1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestInput<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub nonce: &'a str,
    /// `Some((nc, cnonce))` with `qop=auth`; `None` for the RFC 2069 form without qop.
    pub qop_auth: Option<(&'a str, &'a str)>,
}

/// The `response` value (RFC 7616 §3.4.1; RFC 2617 §3.2.2.1 without qop):
/// `KD(HA1, nonce:nc:cnonce:auth:H(method:uri))`, or `KD(HA1, nonce:H(method:uri))`.
pub fn response(alg: Algorithm, ha1: &str, input: &DigestInput<'_>) -> String {
    let ha2 = alg.hex(&format!("{}:{}", input.method, input.uri));
    match input.qop_auth {
        Some((nc, cnonce)) => alg.hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", input.nonce)),
        None => alg.hex(&format!("{ha1}:{}:{ha2}", input.nonce)),
    }
}

/// Why a Digest header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("no authentication scheme")]
    NoScheme,
    #[error("expected a parameter name at byte {0}")]
    ExpectedName(usize),
    #[error("expected '=' after {0:?}")]
    ExpectedEquals(String),
    #[error("unterminated quoted string after {0:?}")]
    Unterminated(String),
    #[error(
        "the quoted value of {name:?} has a character a quoted-string cannot hold, at byte {at}"
    )]
    BadQuoted { name: String, at: usize },
    #[error("expected ',' between parameters at byte {0}")]
    ExpectedComma(usize),
    #[error("parameter {0:?} appears twice")]
    Duplicate(String),
    #[error("the Digest parameter {0:?} is missing")]
    Missing(&'static str),
    #[error("the Digest parameter {name} has an invalid value {value:?}")]
    Invalid { name: &'static str, value: String },
}

/// A challenge or credential: its scheme and its parameters (names lower-cased, values
/// unquoted), in order (RFC 7616 §3.3 `auth-param`, RFC 3261 §25.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl AuthParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// [`parse_auth_params`] for a Digest challenge or credential: another scheme is
    /// [`AuthError::Invalid`] on `scheme`.
    fn parse_digest(text: &str) -> Result<AuthParams, AuthError> {
        let p = parse_auth_params(text)?;
        if p.is_digest() {
            Ok(p)
        } else {
            Err(AuthError::Invalid {
                name: "scheme",
                value: p.scheme,
            })
        }
    }

    /// A parameter the syntax requires.
    fn required(&self, name: &'static str) -> Result<String, AuthError> {
        self.optional(name).ok_or(AuthError::Missing(name))
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }
}

/// Parse `scheme param=value, param="quoted \"value\"", ...`. Names are case-insensitive;
/// values may be tokens or quoted strings with `\` escapes (RFC 3261 §25.1 `quoted-pair`).
/// Line ends count as blanks, so the multi-line examples of RFC 7616 parse as printed.
pub fn parse_auth_params(text: &str) -> Result<AuthParams, AuthError> {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut c = Cursor::new(text);
    c.take_while(blank);
    let scheme = c.take_while(is_token).to_string();
    if scheme.is_empty() {
        return Err(AuthError::NoScheme);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        c.take_while(blank);
        if c.is_empty() {
            break;
        }
        let name = c.take_while(is_token).to_ascii_lowercase();
        if name.is_empty() {
            return Err(AuthError::ExpectedName(c.pos()));
        }
        c.take_while(blank);
        if !c.eat(b'=') {
            return Err(AuthError::ExpectedEquals(name));
        }
        c.take_while(blank);
        let value = if c.peek() == Some(b'"') {
            match c.quoted_string() {
                Ok(q) => unquote(q),
                Err(e) if e.kind == ErrorKind::UnterminatedQuote => {
                    return Err(AuthError::Unterminated(name));
                }
                Err(e) => return Err(AuthError::BadQuoted { name, at: e.offset }),
            }
        } else {
            c.take_while(|b| b != b',' && !blank(b)).to_string()
        };
        if params.iter().any(|(n, _)| *n == name) {
            return Err(AuthError::Duplicate(name));
        }
        params.push((name, value));
        c.take_while(blank);
        if !c.is_empty() && !c.eat(b',') {
            return Err(AuthError::ExpectedComma(c.pos()));
        }
    }
    Ok(AuthParams { scheme, params })
}

/// Digest credentials (RFC 3261 §22.4, RFC 7616 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    /// As written; absent means MD5 (RFC 7616 §3.4).
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
    pub qop: Option<String>,
    pub nc: Option<String>,
}

impl Credentials {
    /// Parse `Digest username="...", realm="...", ...`. Another scheme is
    /// [`AuthError::Invalid`] on `scheme`.
    pub fn parse(text: &str) -> Result<Credentials, AuthError> {
        Credentials::from_params(&AuthParams::parse_digest(text)?)
    }

    /// The credentials of parsed Digest parameters.
    pub(crate) fn from_params(p: &AuthParams) -> Result<Credentials, AuthError> {
        let c = Credentials {
            username: p.required("username")?,
            realm: p.required("realm")?,
            nonce: p.required("nonce")?,
            uri: p.required("uri")?,
            response: p.required("response")?,
            algorithm: p.optional("algorithm"),
            cnonce: p.optional("cnonce"),
            opaque: p.optional("opaque"),
            qop: p.optional("qop"),
            nc: p.optional("nc"),
        };
        if c.qop.is_some() && (c.cnonce.is_none() || c.nc.is_none()) {
            // RFC 7616 §3.4: with qop, cnonce and nc MUST be present.
            return Err(AuthError::Missing(if c.cnonce.is_none() {
                "cnonce"
            } else {
                "nc"
            }));
        }
        if let Some(nc) = &c.nc
            && !(nc.len() == 8 && nc.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            // RFC 7616 §3.4: nc is 8LHEX.
            return Err(AuthError::Invalid {
                name: "nc",
                value: nc.clone(),
            });
        }
        Ok(c)
    }

    /// The nonce-count as a number (`None` without qop).
    pub fn nonce_count(&self) -> Option<u32> {
        self.nc
            .as_deref()
            .and_then(|n| u32::from_str_radix(n, 16).ok())
    }

    /// The header value, as a UA writes it (RFC 7616 §3.4 order).
    pub fn to_header_value(&self) -> String {
        let mut s = format!(
            "Digest username={}, realm={}, nonce={}, uri={}, response={}",
            quote(&self.username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(&self.uri),
            quote(&self.response)
        );
        if let Some(a) = &self.algorithm {
            s.push_str(&format!(", algorithm={a}"));
        }
        if let Some(c) = &self.cnonce {
            s.push_str(&format!(", cnonce={}", quote(c)));
        }
        if let Some(o) = &self.opaque {
            s.push_str(&format!(", opaque={}", quote(o)));
        }
        if let Some(q) = &self.qop {
            s.push_str(&format!(", qop={q}"));
        }
        if let Some(n) = &self.nc {
            s.push_str(&format!(", nc={n}"));
        }
        s
    }
}

/// A Digest challenge (RFC 3261 §22.4, RFC 7616 §3.3, RFC 8760 §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `None` when the challenge names none (MD5, RFC 7616 §3.3).
    pub algorithm: Option<String>,
    /// The `qop` options offered (`auth`, `auth-int`); empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    pub stale: bool,
}

impl Challenge {
    /// Parse `Digest realm="...", nonce="...", ...`; another scheme is an error.
    pub fn parse(text: &str) -> Result<Challenge, AuthError> {
        let p = AuthParams::parse_digest(text)?;
        Ok(Challenge {
            realm: p.required("realm")?,
            nonce: p.required("nonce")?,
            opaque: p.optional("opaque"),
            algorithm: p.optional("algorithm"),
            qop: p
                .get("qop")
                .map(|q| {
                    q.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            stale: p
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The algorithm, `None` when it is one we do not implement.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.algorithm {
            None => Some(Algorithm::Md5),
            Some(a) => Algorithm::parse(a),
        }
    }

    /// The header value (RFC 8760 §2.4 example order).
    pub fn to_header_value(&self) -> String {
        let mut s = format!(
            "Digest realm={}, nonce={}",
            quote(&self.realm),
            quote(&self.nonce)
        );
        if let Some(o) = &self.opaque {
            s.push_str(&format!(", opaque={}", quote(o)));
        }
        if let Some(a) = &self.algorithm {
            s.push_str(&format!(", algorithm={a}"));
        }
        if !self.qop.is_empty() {
            s.push_str(&format!(", qop={}", quote(&self.qop.join(","))));
        }
        if self.stale {
            s.push_str(", stale=true");
        }
        s
    }

    /// Credentials answering this challenge for `method` and `uri` (RFC 3261 §22.2):
    /// `qop=auth` when offered (else the RFC 2069 form), `nc` and `cnonce` as given.
    /// `None` when the algorithm is not one we implement or only `auth-int` is offered.
    pub fn answer(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> Option<Credentials> {
        let alg = self.algorithm()?;
        let qop_auth = self.qop.iter().any(|q| q == "auth");
        if !self.qop.is_empty() && !qop_auth {
            return None;
        }
        let nc_text = format!("{nc:08x}");
        let ha1 = ha1(alg, username, &self.realm, password);
        let response = response(
            alg,
            &ha1,
            &DigestInput {
                method,
                uri,
                nonce: &self.nonce,
                qop_auth: qop_auth.then_some((nc_text.as_str(), cnonce)),
            },
        );
        Some(Credentials {
            username: username.to_string(),
            realm: self.realm.clone(),
            nonce: self.nonce.clone(),
            uri: uri.to_string(),
            response,
            algorithm: self.algorithm.clone(),
            cnonce: qop_auth.then(|| cnonce.to_string()),
            opaque: self.opaque.clone(),
            qop: qop_auth.then(|| "auth".to_string()),
            nc: qop_auth.then_some(nc_text),
        })
    }
}

/// The challenge to answer among a 401's or 407's headers: Digest, an algorithm we
/// implement, preferring SHA-256 (RFC 8760 §2.4), `qop=auth` or none.
pub fn pick_challenge(resp: &Message) -> Option<Challenge> {
    let name = match resp.status_line().map(|s| s.code) {
        Some(401) => HeaderName::WwwAuthenticate,
        Some(407) => HeaderName::ProxyAuthenticate,
        _ => return None,
    };
    let usable: Vec<(Algorithm, Challenge)> = resp
        .values(&name)
        .filter_map(|v| match v {
            HeaderValue::Text(t) => Challenge::parse(t).ok(),
            _ => None,
        })
        .filter(|c| c.qop.is_empty() || c.qop.iter().any(|q| q == "auth"))
        .filter_map(|c| c.algorithm().map(|a| (a, c)))
        .collect();
    Algorithm::PREFERENCE.into_iter().find_map(|want| {
        usable
            .iter()
            .find(|(a, _)| *a == want)
            .map(|(_, c)| c.clone())
    })
}

#[cfg(test)]
mod tests;
