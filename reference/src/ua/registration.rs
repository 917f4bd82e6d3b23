//! Reading the registrar's answer (RFC 3261 §10.2.4; RFC 5626 §4.2.1; RFC 5627 §4.2) and
//! deciding when to refresh, as pure functions.

use crate::sip::{HeaderName, HeaderValue, Message, NameAddr, SipUri};

/// The registrar's default when a 2xx names no lifetime at all (RFC 3261 §10.2.1.1).
pub const FALLBACK_EXPIRES: u32 = 3600;
/// Refresh when this share of the granted lifetime has passed. A documented choice: RFC 3261
/// §10.2.4 only says "before it expires"; 90 % leaves a minute for a 600 s registration and
/// keeps refreshes rare.
pub const REFRESH_PERCENT: u64 = 90;

/// What the registrar granted our contact, as of `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Seconds granted to OUR contact (its `expires` parameter, else the `Expires` header).
    pub expires: u32,
    /// RFC 5627 `pub-gruu`, unquoted and otherwise unchanged (5627-4.2-a).
    pub pub_gruu: Option<String>,
    /// RFC 5627 `temp-gruu`, unquoted and otherwise unchanged (5627-4.2-a).
    pub temp_gruu: Option<String>,
    /// The 2xx carried `Require: outbound`: Outbound is in use and keep-alives start
    /// (5626-4.2.1-a, 4.2.1-b).
    pub outbound: bool,
    /// RFC 5626 `Flow-Timer` from the 2xx: the keep-alive period the server expects.
    pub flow_timer: Option<u32>,
    /// When the 2xx was processed (the shell's clock, ms).
    pub at_ms: u64,
}

impl Registration {
    /// When the refresh REGISTER is due: [`REFRESH_PERCENT`] of the lifetime after `at_ms`.
    pub fn refresh_at_ms(&self) -> u64 {
        self.at_ms
            .saturating_add(u64::from(self.expires) * 10 * REFRESH_PERCENT)
    }

    /// When the binding lapses at the registrar.
    pub fn expires_at_ms(&self) -> u64 {
        self.at_ms.saturating_add(u64::from(self.expires) * 1000)
    }
}

/// How our binding is recognised among the Contacts of a REGISTER 2xx (which lists every
/// binding of the AoR, RFC 3261 §10.3 step 8).
#[derive(Debug, Clone, Copy)]
pub struct OurContact<'a> {
    pub uri: &'a SipUri,
    pub instance: Option<&'a str>,
    pub reg_id: Option<u32>,
}

impl OurContact<'_> {
    /// Ours when the `+sip.instance` matches and the reg-id does (or the registrar dropped
    /// it, not doing Outbound); without an instance on either side, when the URI matches
    /// (scheme, user, host, port — RFC 3261 §19.1.4 without the parameter rules).
    pub fn matches(&self, c: &NameAddr) -> bool {
        if let (Some(ours), Some(theirs)) = (self.instance, c.instance()) {
            return ours == theirs
                && match (self.reg_id, c.reg_id()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
        }
        c.sip_uri().is_some_and(|u| {
            u.secure == self.uri.secure
                && u.user == self.uri.user
                && u.host.matches(&self.uri.host)
                && u.port == self.uri.port
        })
    }
}

/// Read a REGISTER 2xx: `None` when our contact is not listed or is listed with `expires=0`.
pub fn read_register_2xx(
    resp: &Message,
    ours: &OurContact<'_>,
    requested: Option<u32>,
    now_ms: u64,
) -> Option<Registration> {
    let c = resp.contacts().find(|c| ours.matches(c))?;
    let expires = c
        .expires()
        .or(resp.expires())
        .or(requested)
        .unwrap_or(FALLBACK_EXPIRES);
    if expires == 0 {
        return None;
    }
    Some(Registration {
        expires,
        pub_gruu: c.pub_gruu(),
        temp_gruu: c.temp_gruu(),
        outbound: resp
            .tokens(&HeaderName::Require)
            .any(|t| t.eq_ignore_ascii_case("outbound")),
        flow_timer: resp.values(&HeaderName::FlowTimer).find_map(|v| match v {
            HeaderValue::Number(n) => Some(*n),
            _ => None,
        }),
        at_ms: now_ms,
    })
}

/// `Retry-After: 5` (RFC 3261 §20.33: delta-seconds, optionally a comment and parameters).
pub fn retry_after_secs(resp: &Message) -> Option<u32> {
    let text = resp.text("Retry-After")?.trim_start();
    let digits: &str = &text[..text.bytes().take_while(u8::is_ascii_digit).count()];
    digits.parse().ok()
}

/// `Min-Expires` of a 423 (RFC 3261 §10.2.8).
pub fn min_expires(resp: &Message) -> Option<u32> {
    resp.values(&HeaderName::MinExpires).find_map(|v| match v {
        HeaderValue::Number(n) => Some(*n),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7118 §8.1 F4, with `Require: outbound` and a `Flow-Timer` added (A14) and a second
    /// binding of another instance listed first.
    const F4: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com;tag=12isjljn8\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Require: outbound\r\n\
Flow-Timer: 25\r\n\
Supported: outbound, gruu\r\n\
Contact: <sip:alice@other.invalid;transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:other>\";expires=100\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n\
\x20;reg-id=1\r\n\
\x20;+sip.instance=\"<urn:uuid:f81-7dec-14a06cf1>\"\r\n\
\x20;pub-gruu=\"sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1\"\r\n\
\x20;temp-gruu=\"sip:87ash54=3dd.98a@example.com;gr\"\r\n\
\x20;expires=3600\r\n\
\r\n";

    fn uri() -> SipUri {
        SipUri::parse("sip:alice@df7jal23ls0d.invalid;transport=ws").expect("valid")
    }

    #[test]
    fn req_5627_4_2_a_reads_our_binding_among_others_with_gruus_unchanged() {
        let resp = Message::parse(F4.as_bytes()).expect("F4 parses");
        let u = uri();
        let ours = OurContact {
            uri: &u,
            instance: Some("urn:uuid:f81-7dec-14a06cf1"),
            reg_id: Some(1),
        };
        let r = read_register_2xx(&resp, &ours, Some(600), 5).expect("our binding is listed");
        assert_eq!(r.expires, 3600);
        assert_eq!(
            r.pub_gruu.as_deref(),
            Some("sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1")
        );
        assert_eq!(
            r.temp_gruu.as_deref(),
            Some("sip:87ash54=3dd.98a@example.com;gr")
        );
        assert!(r.outbound, "5626-4.2.1-a: Require: outbound recorded");
        assert_eq!(r.flow_timer, Some(25));
        assert_eq!(r.refresh_at_ms(), 5 + 3_240_000);
        assert_eq!(r.expires_at_ms(), 5 + 3_600_000);
    }

    #[test]
    fn another_reg_id_of_our_instance_is_not_ours() {
        let resp = Message::parse(F4.as_bytes()).expect("F4 parses");
        let u = uri();
        let ours = OurContact {
            uri: &u,
            instance: Some("urn:uuid:f81-7dec-14a06cf1"),
            reg_id: Some(2),
        };
        assert_eq!(read_register_2xx(&resp, &ours, None, 0), None);
    }

    #[test]
    fn without_instance_the_uri_matches_and_header_expires_applies() {
        let text = F4
            .replace(";expires=3600", "")
            .replace("Require: outbound\r\n", "Expires: 120\r\n");
        let resp = Message::parse(text.as_bytes()).expect("parses");
        let u = uri();
        let ours = OurContact {
            uri: &u,
            instance: None,
            reg_id: None,
        };
        let r = read_register_2xx(&resp, &ours, Some(600), 0).expect("matched by URI");
        assert_eq!(r.expires, 120);
        assert!(!r.outbound);
    }

    #[test]
    fn retry_after_and_min_expires() {
        let resp = Message::parse(
            b"SIP/2.0 503 Service Unavailable\r\nRetry-After: 5 (maintenance);duration=60\r\nMin-Expires: 900\r\n\r\n",
        )
        .expect("parses");
        assert_eq!(retry_after_secs(&resp), Some(5));
        assert_eq!(min_expires(&resp), Some(900));
    }
}
