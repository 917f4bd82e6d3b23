//! Judgements of SIP digest authentication at the registrar (RFC 3261 §22, RFC 8760): that a
//! challenge carries its header (§22.1, §22.3), that a REGISTER without credentials is
//! challenged with a Digest challenge holding realm and nonce (§22.4), and that SHA-256 is
//! offered (RFC 8760 §2.4). RFC 7118 §7 lets a WebSocket registrar demand SIP authentication.

use sipws_reference::sip::digest::{Algorithm, Challenge};
use sipws_reference::sip::{HeaderName, Message};

use super::sip::status;
use crate::step::StepError;

/// RFC 7118 §7 lets the registrar demand SIP authentication; a challenge must carry its
/// header (RFC 3261 §22.1, §22.3).
pub fn judge_auth(resp: &Message) -> Result<String, StepError> {
    let has = |h: &str| resp.value(&HeaderName::parse(h)).is_some();
    match status(resp) {
        Some(200) => Ok("registered without a SIP challenge".into()),
        Some(401) if has("WWW-Authenticate") => Ok("challenged with 401".into()),
        Some(407) if has("Proxy-Authenticate") => Ok("challenged with 407".into()),
        Some(401) => Err(StepError::broken(
            "a 401 MUST carry WWW-Authenticate (RFC 3261 §22.1)",
        )),
        Some(407) => Err(StepError::broken(
            "a 407 MUST carry Proxy-Authenticate (RFC 3261 §22.3)",
        )),
        Some(code) => Err(StepError::broken(format!(
            "expected 200, 401 or 407; got {code}"
        ))),
        None => Err(StepError::broken("expected 200, 401 or 407; got a request")),
    }
}

/// Is this a proxy's challenge (407, answered with Proxy-Authorization, RFC 3261 §22.3) rather
/// than a registrar's (401, answered with Authorization, §22.1)?
pub fn is_proxy_challenge(resp: &Message) -> bool {
    status(resp) == Some(407)
}

/// Digest challenges of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`).
fn challenges_of(resp: &Message) -> Vec<Challenge> {
    let name = if is_proxy_challenge(resp) {
        HeaderName::ProxyAuthenticate
    } else {
        HeaderName::WwwAuthenticate
    };
    resp.values(&name)
        .filter_map(|v| Challenge::parse(&v.to_string()).ok())
        .collect()
}

/// RFC 3261 §22.1, §22.3, §22.4: a REGISTER without credentials to a target that demands
/// authentication gets 401 with WWW-Authenticate (or 407 with Proxy-Authenticate) carrying
/// a Digest challenge with realm and nonce.
pub fn judge_challenge(resp: &Message) -> Result<String, StepError> {
    let code = status(resp).unwrap_or(0);
    if code < 300 {
        return Err(StepError::broken(format!(
            "a REGISTER without credentials was answered {code}: the target demands no \
             authentication although the profile gives credentials"
        )));
    }
    if code != 401 && code != 407 {
        return Err(StepError::broken(format!(
            "expected a 401 or 407 challenge, got {code}"
        )));
    }
    let offered = challenges_of(resp);
    if offered.is_empty() {
        return Err(StepError::broken(format!(
            "the {code} carries no Digest challenge with realm and nonce in {} (RFC 3261 §22.1, §22.4)",
            if code == 401 {
                "WWW-Authenticate"
            } else {
                "Proxy-Authenticate"
            }
        )));
    }
    let algs: Vec<String> = offered
        .iter()
        .map(|c| {
            c.algorithm
                .clone()
                .unwrap_or_else(|| "MD5 (implied)".into())
        })
        .collect();
    Ok(format!(
        "challenged with {code} offering {}",
        algs.join(", ")
    ))
}

/// RFC 8760 §2.4: SHA-256 should be offered (MD5 alone is a warning).
pub fn judge_sha256(resp: &Message) -> Result<(), StepError> {
    if challenges_of(resp)
        .iter()
        .any(|c| c.algorithm() == Some(Algorithm::Sha256))
    {
        Ok(())
    } else {
        Err(StepError::should(
            "the challenge offers only MD5; RFC 8760 §2.4 has servers offer SHA-256 too (a \
             header per algorithm, the preferred first)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::registration::fixtures::*;

    #[test]
    fn challenges_need_their_header() {
        assert!(judge_auth(&resp("")).is_ok());
        let c401 = |extra: &str| {
            msg(&format!(
                "{}{extra}\n",
                HEAD.replace("200 OK", "401 Unauthorized")
            ))
        };
        assert!(judge_auth(&c401("WWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\n")).is_ok());
        assert!(is_broken(&judge_auth(&c401("")).map(|_| ())));
        let forbidden = msg(&format!("{}\n", HEAD.replace("200 OK", "403 Forbidden")));
        assert_eq!(
            judge_auth(&forbidden),
            Err(StepError::broken("expected 200, 401 or 407; got 403"))
        );
    }

    #[test]
    fn digest_challenges_are_judged() {
        assert!(is_broken(&judge_challenge(&resp("")).map(|_| ())));
        assert!(is_broken(&judge_challenge(&challenge_401("")).map(|_| ())));
        assert!(is_broken(
            &judge_challenge(&challenge_401("WWW-Authenticate: Basic realm=\"x\"\n")).map(|_| ())
        ));
        let forbidden = msg(&format!("{}\n", HEAD.replace("200 OK", "403 Forbidden")));
        assert!(is_broken(&judge_challenge(&forbidden).map(|_| ())));
        let md5 = challenge_401("WWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\n");
        assert_eq!(
            judge_challenge(&md5),
            Ok("challenged with 401 offering MD5 (implied)".into())
        );
        assert!(is_should(&judge_sha256(&md5)));
        let both = challenge_401(
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=SHA-256, qop=\"auth\"\n\
             WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=MD5, qop=\"auth\"\n",
        );
        assert_eq!(judge_sha256(&both), Ok(()));
        assert!(!is_proxy_challenge(&both));
    }
}
