//! Answering digest challenges (RFC 3261 §22.2, RFC 8760 §2.4) with the digest code the UA
//! shares with the registrar ([`crate::sip::digest`]): a 401 or 407 is answered once by
//! re-sending the request with credentials, again only when the new challenge says
//! `stale=true`, at most [`MAX_AUTH_RETRIES`] times in a row.

use super::{ClientTx, MAX_AUTH_RETRIES, RegOp, Ua};
use crate::sip::digest::{Challenge, pick_challenge};
use crate::sip::{Header, HeaderName, HeaderValue, Message, Method, Uri};

/// The header that answers a 401 (`Authorization`) or a 407 (`Proxy-Authorization`).
fn answer_header(status: u16) -> HeaderName {
    if status == 407 {
        HeaderName::ProxyAuthorization
    } else {
        HeaderName::Authorization
    }
}

impl Ua {
    /// The `Authorization`/`Proxy-Authorization` header answering `challenge` for a request
    /// with this method and Request-URI (RFC 3261 §22.2), with nonce-count `nc`.
    pub(super) fn credentials_header(
        &mut self,
        name: HeaderName,
        challenge: &Challenge,
        method: &Method,
        uri: &Uri,
        nc: u32,
    ) -> Option<Header> {
        let cnonce = self.token(16);
        let creds = self.config.credentials.as_ref()?;
        let answer = challenge.answer(
            &creds.username,
            &creds.password,
            method.as_str(),
            &uri.to_string(),
            nc,
            &cnonce,
        )?;
        Some(Header::new(
            name,
            HeaderValue::Text(answer.to_header_value()),
        ))
    }

    /// RFC 3261 §22.2: re-send the REGISTER with credentials for the challenge, unless the
    /// one that failed already carried credentials and the nonce was not merely stale (a
    /// wrong password then ends as the 401/407).
    pub(super) fn answer_register_challenge(
        &mut self,
        op: RegOp,
        resp: &Message,
        status: u16,
        now_ms: u64,
    ) -> Option<Message> {
        self.config.credentials.as_ref()?;
        let challenge = pick_challenge(resp)?;
        if (self.reg.sent_credentials && !challenge.stale)
            || self.reg.auth_retries >= MAX_AUTH_RETRIES
        {
            return None;
        }
        self.reg.auth_retries += 1;
        self.reg.challenge = Some((answer_header(status), challenge, 0));
        Some(self.send_register(op, now_ms))
    }

    /// A MESSAGE, OPTIONS or INVITE re-sent with credentials for the challenge (new branch,
    /// CSeq+1, RFC 3261 §22.2), under the same rule as [`Self::answer_register_challenge`].
    pub(super) fn answer_challenge(
        &mut self,
        tx: &ClientTx,
        resp: &Message,
        status: u16,
    ) -> Option<Message> {
        let mut req = tx.request.clone()?;
        let challenge = pick_challenge(resp)?;
        let name = answer_header(status);
        let sent = req.values(&name).next().is_some();
        if (sent && !challenge.stale) || tx.auth_retries >= MAX_AUTH_RETRIES {
            return None;
        }
        let branch = self.new_branch();
        req.headers.retain(|h| h.name != name);
        for h in &mut req.headers {
            match &mut h.value {
                HeaderValue::CSeq(c) => c.seq = c.seq.wrapping_add(1).max(1),
                HeaderValue::Via(list) if h.name == HeaderName::Via => {
                    if let Some(v) = list.first_mut() {
                        v.params.set("branch", Some(&branch));
                    }
                }
                _ => {}
            }
        }
        let line = req.request_line()?.clone();
        let uri: Uri = line.uri.clone();
        let header = self.credentials_header(name, &challenge, &line.method, &uri, 1)?;
        let at = req
            .headers
            .iter()
            .position(|h| h.name == HeaderName::ContentLength)
            .unwrap_or(req.headers.len());
        req.headers.insert(at, header);
        Some(req)
    }

    /// The reason of a final 401/407 that is not answered again: what was wrong.
    pub(super) fn challenge_failed_reason(&self, reason: String, sent_credentials: bool) -> String {
        match &self.config.credentials {
            None => format!("{reason} (authentication required and no password configured)"),
            Some(c) if sent_credentials => {
                format!(
                    "{reason} (the credentials of {:?} were refused)",
                    c.username
                )
            }
            Some(_) => format!(
                "{reason} (no Digest challenge this client can answer: MD5 or SHA-256, qop=auth)"
            ),
        }
    }
}
