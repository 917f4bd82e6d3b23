//! Flow tokens (RFC 5626 §5.2): a flow's identity written into the user part of a Path or
//! Record-Route URI, so that a request carrying it back can be sent on that flow. The token
//! must not be forgeable: it carries an HMAC-SHA256 tag under a key the server picks at start.

use ring::hmac;

use crate::hex;
use crate::transport::FlowId;

/// What a Route user part turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// A genuine token for this flow (which may since have closed: 430, 5626-5.3.1-b).
    Valid(FlowId),
    /// Shaped like a token but the tag does not verify: tampered or forged (403).
    Tampered,
    /// Not a flow token at all (no user part, or something else).
    NotAToken,
}

/// Prefix that marks our tokens, so an ordinary user part is never mistaken for a forgery.
const PREFIX: &str = "ft";
const TAG_BYTES: usize = 10;

/// Issues and checks flow tokens under one key.
pub struct FlowTokens {
    key: hmac::Key,
}

impl std::fmt::Debug for FlowTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowTokens { key: <secret> }")
    }
}

impl FlowTokens {
    /// `secret` should be at least 32 random bytes chosen at start (the shell's job).
    pub fn new(secret: &[u8]) -> Self {
        FlowTokens {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// `ft` + 16 hex digits of the flow id + 20 hex digits of tag: only alphanumerics, legal
    /// in a SIP URI user part.
    pub fn encode(&self, flow: FlowId) -> String {
        let id = flow.0.to_be_bytes();
        let tag = hmac::sign(&self.key, &id);
        let mut s = String::with_capacity(PREFIX.len() + 2 * (8 + TAG_BYTES));
        s.push_str(PREFIX);
        s.push_str(&hex::encode(&id));
        s.push_str(&hex::encode(&tag.as_ref()[..TAG_BYTES]));
        s
    }

    /// An opaque, unforgeable label for `data` under the same key (24 hex digits): used for
    /// temporary GRUUs (RFC 5627 §5.1), which must not reveal the AoR or the instance.
    pub fn opaque(&self, context: &str, data: &[&str]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(context.as_bytes());
        for d in data {
            ctx.update(&[0]);
            ctx.update(d.as_bytes());
        }
        let tag = ctx.sign();
        hex::encode(&tag.as_ref()[..12])
    }

    pub fn check(&self, user: &str) -> TokenCheck {
        let Some(digits) = user.strip_prefix(PREFIX) else {
            return TokenCheck::NotAToken;
        };
        let Some(bytes) = hex::decode(digits) else {
            return TokenCheck::Tampered;
        };
        if bytes.len() != 8 + TAG_BYTES {
            return TokenCheck::Tampered;
        }
        let (id, tag) = bytes.split_at(8);
        let expected = hmac::sign(&self.key, id);
        // Constant-time comparison of the truncated tag.
        if hex::constant_time_eq(&expected.as_ref()[..TAG_BYTES], tag) {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(id);
            TokenCheck::Valid(FlowId(u64::from_be_bytes(raw)))
        } else {
            TokenCheck::Tampered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_5626_5_2_a_tokens_verify_and_name_their_flow() {
        let t = FlowTokens::new(b"0123456789abcdef0123456789abcdef");
        let tok = t.encode(FlowId(42));
        assert!(tok.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(t.check(&tok), TokenCheck::Valid(FlowId(42)));
    }

    #[test]
    fn req_5626_5_2_a_any_changed_character_is_tampering() {
        let t = FlowTokens::new(b"0123456789abcdef0123456789abcdef");
        let tok = t.encode(FlowId(7));
        for i in PREFIX.len()..tok.len() {
            let mut b = tok.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let forged = String::from_utf8(b).expect("ascii");
            assert_eq!(t.check(&forged), TokenCheck::Tampered, "position {i}");
        }
        assert_eq!(t.check("ftzz"), TokenCheck::Tampered);
        assert_eq!(t.check("ft"), TokenCheck::Tampered);
    }

    #[test]
    fn another_key_does_not_verify() {
        let a = FlowTokens::new(b"key-a-key-a-key-a-key-a-key-a-ke");
        let b = FlowTokens::new(b"key-b-key-b-key-b-key-b-key-b-ke");
        assert_eq!(b.check(&a.encode(FlowId(1))), TokenCheck::Tampered);
    }

    #[test]
    fn ordinary_user_parts_are_not_tokens() {
        let t = FlowTokens::new(b"k");
        assert_eq!(t.check("alice"), TokenCheck::NotAToken);
        assert_eq!(t.check("h7kjh12s"), TokenCheck::NotAToken);
    }
}
