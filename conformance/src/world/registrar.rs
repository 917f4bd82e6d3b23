//! The registrar side of a case's world: what the registration, Outbound, GRUU and digest steps
//! learn in one step and use in a later one, the REGISTERs they send, and the reads they share.
//!
//! - [`Learned`] holds the GRUUs each device's 200 gave (RFC 5627 §5.2), by connection name,
//!   and fills the GRUU placeholders of a message written in a feature
//!   ([`Learned::fill_gruus`]): `{pub-gruu:alice}`, `{temp-gruu:alice}` (the latest temporary
//!   GRUU) and `{previous-temp-gruu:alice}` (the one before it, to check that a new Call-ID
//!   invalidated it). After a request forked over the flows of one instance it also holds
//!   which device received it (RFC 5626 §7).
//! - [`AuthExchange`] holds each connection's REGISTER and the last digest challenge
//!   (RFC 3261 §22); [`with_credentials`] builds the REGISTER that answers it (§22.2) with the
//!   challenge the reference client would pick (SHA-256 first, RFC 8760).
//! - Waits are those of [`World::next_response`] / [`World::next_request`] or, for the polls
//!   that accept silence, the target's timeout.

use std::collections::HashMap;

use sipws_reference::sip::digest::pick_challenge;
use sipws_reference::sip::{Header, HeaderName, HeaderValue, Message};

use super::World;
use crate::judge::auth::is_proxy_challenge;
use crate::step::StepError;
use crate::wire::{Received, describe};

/// GRUUs a 200 gave one connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Gruus {
    pub public: Option<String>,
    /// The temporary GRUU of every 200 read, oldest first: a registrar that hands out the
    /// same one again after a new Call-ID shows here as a repeat (RFC 5627 §5.1).
    pub temp: Vec<String>,
    /// Which 200 (Call-ID and CSeq) the GRUUs were last read from: two steps reading the same
    /// 200 record its temporary GRUU once.
    read_from: Option<String>,
}

impl Gruus {
    /// The latest temporary GRUU.
    pub fn latest_temp(&self) -> Option<&String> {
        self.temp.last()
    }
}

/// What the registrar steps learned, in the [`World`] (through [`World::ext`]).
#[derive(Debug, Default)]
pub struct Learned {
    gruus: HashMap<String, Gruus>,
    /// After `exactly one of "a" and "b" receives the MESSAGE`: (the device that received it
    /// last, the other one).
    devices: Option<(String, String)>,
}

impl Learned {
    /// Remember the GRUUs the 200 `resp` gave `name`; the same 200 read again adds nothing.
    pub fn remember(
        &mut self,
        name: &str,
        resp: &Message,
        public: Option<String>,
        temp: Option<String>,
    ) {
        let g = self.gruus.entry(name.to_string()).or_default();
        let key = format!(
            "{} {}",
            resp.call_id().unwrap_or_default(),
            resp.cseq().map(|c| c.seq).unwrap_or_default()
        );
        if g.read_from.as_deref() == Some(key.as_str()) {
            return;
        }
        g.read_from = Some(key);
        if public.is_some() {
            g.public = public;
        }
        if let Some(t) = temp {
            g.temp.push(t);
        }
    }

    /// The GRUUs learned for a connection, when a 200 for it was read.
    pub fn gruus(&self, name: &str) -> Option<&Gruus> {
        self.gruus.get(name)
    }

    /// Replace `{pub-gruu:x}`, `{temp-gruu:x}` and `{previous-temp-gruu:x}` with what was
    /// learned. A placeholder that cannot be filled is a `Skip` when the device registered but
    /// the target's 200 gave no such GRUU (it lacks GRUU support, judged by the GRUU cases),
    /// `Harness` when no earlier step registered that device at all (the scenario is written
    /// wrong).
    pub fn fill_gruus(&self, text: &str) -> Result<String, StepError> {
        const KINDS: [&str; 3] = ["pub-gruu", "temp-gruu", "previous-temp-gruu"];
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let hit = KINDS.iter().find_map(|kind| {
                let inner = tail
                    .strip_prefix('{')?
                    .strip_prefix(kind)?
                    .strip_prefix(':')?;
                let end = inner.find('}')?;
                let name = &inner[..end];
                let valid = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                valid.then(|| (*kind, name, kind.len() + name.len() + 3))
            });
            let Some((kind, name, used)) = hit else {
                out.push('{');
                rest = &tail[1..];
                continue;
            };
            let g = self.gruus.get(name);
            let value = match kind {
                "pub-gruu" => g.and_then(|g| g.public.clone()),
                "temp-gruu" => g.and_then(|g| g.temp.last().cloned()),
                _ => g.and_then(|g| g.temp.iter().rev().nth(1).cloned()),
            };
            let Some(value) = value else {
                return Err(match g {
                    Some(_) => StepError::Skip(format!(
                        "the target's 200 gave {name} no {kind} to fill {{{kind}:{name}}} with"
                    )),
                    None => StepError::harness(format!(
                        "{{{kind}:{name}}}: no earlier step read a 200 for {name:?}"
                    )),
                });
            };
            out.push_str(&value);
            rest = &tail[used..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Record which device received the forked request and which did not.
    pub fn set_devices(&mut self, got: String, other: String) {
        self.devices = Some((got, other));
    }

    /// (the device that received the forked request last, the other one).
    pub fn devices(&self) -> Result<(String, String), StepError> {
        self.devices.clone().ok_or_else(|| {
            StepError::harness("no earlier step saw which device received the MESSAGE")
        })
    }
}

/// The digest exchange of each connection (`@needs:auth` steps).
#[derive(Debug, Default)]
pub struct AuthExchange {
    /// The REGISTER last sent, to be answered with credentials.
    pub sent: HashMap<String, Message>,
    /// The last challenge received (401 or 407).
    pub challenge: Option<Message>,
}

/// The request re-sent with credentials for `resp`'s challenge (RFC 3261 §22.2): CSeq+1, the
/// new `branch`, Authorization (401) or Proxy-Authorization (407).
pub fn with_credentials(
    sent: &Message,
    resp: &Message,
    username: &str,
    password: &str,
    branch: &str,
    cnonce: &str,
) -> Result<Message, StepError> {
    let challenge = pick_challenge(resp).ok_or_else(|| {
        StepError::broken(
            "no challenge a SIP client must be able to answer (Digest with MD5 or SHA-256, \
             qop=auth or none; RFC 3261 §22.4, RFC 8760)",
        )
    })?;
    let mut req = sent.clone();
    let line = req
        .request_line()
        .cloned()
        .ok_or_else(|| StepError::harness("the message sent is not a request"))?;
    let creds = challenge
        .answer(
            username,
            password,
            line.method.as_str(),
            &line.uri.to_string(),
            1,
            cnonce,
        )
        .ok_or_else(|| StepError::harness("the chosen challenge cannot be answered"))?;
    let name = if is_proxy_challenge(resp) {
        HeaderName::ProxyAuthorization
    } else {
        HeaderName::Authorization
    };
    req.headers.retain(|h| h.name != name);
    for h in &mut req.headers {
        match &mut h.value {
            HeaderValue::CSeq(c) => c.seq += 1,
            HeaderValue::Via(list) => {
                if let Some(v) = list.first_mut() {
                    v.params.set("branch", Some(branch));
                }
            }
            _ => {}
        }
    }
    let at = req
        .headers
        .iter()
        .position(|h| h.name == HeaderName::ContentLength)
        .unwrap_or(req.headers.len());
    req.headers.insert(
        at,
        Header::new(name, HeaderValue::Text(creds.to_header_value())),
    );
    Ok(req)
}

/// A stable instance URN for a device of a scenario (the AoR is unique per scenario, so the
/// same device name may use the same instance in every scenario).
pub fn instance_of(name: &str) -> String {
    // FNV-1a: a spread of the name over 48 bits, nothing cryptographic.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "urn:uuid:00000000-0000-4000-8000-{:012x}",
        h & 0xffff_ffff_ffff
    )
}

/// The Outbound REGISTER of device `name` over `transport` (`WS` or `WSS`, the Via token of
/// RFC 7118 §5.1): its own user, reg-id 1 and its stable instance (RFC 5626 §4.2), asking for
/// Path, Outbound and GRUUs (RFC 3327 §5, RFC 5627 §4.1).
pub fn device_register_text(w: &mut World, name: &str, transport: &str) -> String {
    let user = w.user(name);
    w.render(
        &format!(
            "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/{transport} {{host}};branch={{branch}}
From: <sip:{user}@{{domain}}>;tag={{tag}}
To: <sip:{user}@{{domain}}>
Call-ID: reg-{{call-id}}-{name}
CSeq: {{n}} REGISTER
Max-Forwards: 70
Supported: path, outbound, gruu
Contact: <sip:{user}@{{host}};transport=ws>;reg-id=1;+sip.instance=\"<{instance}>\"
Content-Length: 0
",
            instance = instance_of(name),
        ),
        name,
    )
}

/// A plain REGISTER of `user` from connection `conn`, without credentials (RFC 3261 §10.2),
/// for the digest exchange.
pub fn auth_register_text(w: &mut World, conn: &str, user: &str) -> String {
    let transport = if w.is_secure(conn) { "WSS" } else { "WS" };
    let template = format!(
        "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/{transport} {{host}};branch={{branch}}
From: <sip:{user}@{{domain}}>;tag={{tag}}
To: <sip:{user}@{{domain}}>
Call-ID: auth-{{call-id}}-{conn}
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: <sip:{user}@{{host}};transport=ws>
Expires: 600
Content-Length: 0
"
    );
    w.render(&template, conn)
}

/// The last request a connection received, or a harness error when none was.
pub fn last_request<'w>(w: &'w World, conn: &str) -> Result<&'w Message, StepError> {
    w.last_request
        .get(conn)
        .ok_or_else(|| StepError::harness(format!("{conn} has received no request yet")))
}

/// The next SIP message of the wanted kind on a connection, or `None` when nothing came within
/// the timeout. Reads the wire directly (like `nothing arrives on ...`), so use it on a
/// connection whose earlier messages were all consumed.
async fn poll_message(
    w: &mut World,
    conn: &str,
    want_request: bool,
) -> Result<Option<Message>, StepError> {
    let timeout = w.target.timeout;
    let probe = w.probe(conn)?;
    let deadline = tokio::time::Instant::now() + timeout;
    let what = if want_request { "request" } else { "response" };
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match probe
            .read_message(left)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?
        {
            Received::Timeout => return Ok(None),
            Received::Frame(f) if f.opcode == 0x1 || f.opcode == 0x2 => {
                // A CRLF keep-alive answer (RFC 5626 §3.5.1) is no SIP message.
                if f.payload.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    continue;
                }
                let m = Message::parse_datagram(&f.payload).map_err(|e| {
                    StepError::broken(format!(
                        "{conn} received a WebSocket message that is not SIP: {e}"
                    ))
                })?;
                if m.is_request() != want_request {
                    return Err(StepError::broken(format!(
                        "expected a SIP {what} or nothing on {conn}, got the other kind"
                    )));
                }
                return Ok(Some(m));
            }
            other => {
                return Err(StepError::broken(format!(
                    "expected a SIP {what} or nothing on {conn}, got {}",
                    describe(&other)
                )));
            }
        }
    }
}

/// The next request on a connection, or `None` when nothing came within the timeout.
pub async fn poll_request(w: &mut World, conn: &str) -> Result<Option<Message>, StepError> {
    poll_message(w, conn, true).await
}

/// The next response on a connection, or `None` when nothing came within the timeout.
pub async fn poll_response(w: &mut World, conn: &str) -> Result<Option<Message>, StepError> {
    poll_message(w, conn, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::registration::fixtures::*;

    /// The answer the steps build is accepted by the reference registrar's verifier, and a
    /// wrong password is not.
    #[test]
    fn answers_verify_against_the_reference() {
        use sipws_reference::proxy::Time;
        use sipws_reference::proxy::auth::{AuthConfig, AuthOutcome, Authenticator, UserSecret};
        use sipws_reference::sip::response::response;
        let mut server = Authenticator::new(
            AuthConfig::new(
                "example.com",
                vec![UserSecret::from_password("alice", "example.com", "pw")],
            ),
            b"conformance step test secret....",
        );
        let register = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: c
CSeq: 1 REGISTER
Max-Forwards: 70
Content-Length: 0

");
        let challenge = response(
            &register,
            401,
            "t",
            server.challenge(HeaderName::WwwAuthenticate, false, Time(0)),
        );
        let ok = with_credentials(&register, &challenge, "alice", "pw", "z9hG4bK2", "cn")
            .expect("answerable");
        assert_eq!(ok.cseq().map(|c| c.seq), Some(2));
        assert!(
            ok.value(&HeaderName::Authorization)
                .is_some_and(|v| v.to_string().contains("algorithm=SHA-256"))
        );
        assert_eq!(
            server.verify(&ok, &HeaderName::Authorization, Time(1)),
            AuthOutcome::Authorized("alice".into())
        );
        let wrong = with_credentials(&register, &challenge, "alice", "no", "z9hG4bK3", "cn")
            .expect("answerable");
        assert!(matches!(
            server.verify(&wrong, &HeaderName::Authorization, Time(1)),
            AuthOutcome::Challenge { .. }
        ));
        let unusable = challenge_401(
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=SHA-512-256\n",
        );
        assert!(is_broken(
            &with_credentials(&register, &unusable, "a", "b", "z9hG4bK4", "c").map(|_| ())
        ));
    }

    #[test]
    fn gruu_placeholders() {
        let ok = |call_id: &str, cseq: u32| {
            Message::parse_datagram(
                format!(
                    "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS h.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@d>;tag=1\r\nTo: <sip:a@d>;tag=2\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContent-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            )
            .expect("a valid 200")
        };
        let mut learned = Learned::default();
        let first = ok("first", 1);
        learned.remember(
            "alice",
            &first,
            Some("sip:a@d;gr=1".into()),
            Some("sip:t1@d;gr".into()),
        );
        // The same 200 read by a second step adds nothing.
        learned.remember("alice", &first, None, Some("sip:t1@d;gr".into()));
        learned.remember("alice", &ok("second", 2), None, Some("sip:t2@d;gr".into()));
        assert_eq!(
            learned.fill_gruus(
                "MESSAGE {pub-gruu:alice} / {temp-gruu:alice} / {previous-temp-gruu:alice} {n}"
            ),
            Ok("MESSAGE sip:a@d;gr=1 / sip:t2@d;gr / sip:t1@d;gr {n}".into())
        );
        assert!(matches!(
            learned.fill_gruus("{pub-gruu:bob}"),
            Err(StepError::Harness(_))
        ));
        learned.remember("carol", &ok("c", 1), None, None);
        assert!(matches!(
            learned.fill_gruus("{temp-gruu:carol}"),
            Err(StepError::Skip(_))
        ));
        assert!(matches!(
            learned.fill_gruus("{previous-temp-gruu:alice}"),
            Ok(t) if t == "sip:t1@d;gr"
        ));
        assert_eq!(learned.fill_gruus("{pub-gruu:}"), Ok("{pub-gruu:}".into()));
        // A registrar that repeats the temporary GRUU after a new Call-ID: the previous one is
        // that same GRUU, so the case sends to it and judges the answer instead of skipping.
        let mut repeat = Learned::default();
        repeat.remember("alice", &ok("first", 1), None, Some("sip:t1@d;gr".into()));
        repeat.remember("alice", &ok("second", 2), None, Some("sip:t1@d;gr".into()));
        assert_eq!(
            repeat.fill_gruus("{previous-temp-gruu:alice}"),
            Ok("sip:t1@d;gr".into())
        );
        assert_ne!(instance_of("alice"), instance_of("alice2"));
    }

    #[test]
    fn devices_are_known_only_once_seen() {
        let mut learned = Learned::default();
        assert!(matches!(learned.devices(), Err(StepError::Harness(_))));
        learned.set_devices("alice".into(), "alice2".into());
        assert_eq!(
            learned.devices(),
            Ok(("alice".to_string(), "alice2".to_string()))
        );
    }
}
