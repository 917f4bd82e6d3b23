//! Upgrade requests written line by line: any method, version, header order, case or
//! repetition (RFC 6455 §4.1), so every row of spec/requirements.md §2.1 can be probed.

/// The RFC 6455 §1.3 / RFC 7118 §4.1 example key: its accept value is
/// `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
pub const EXAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Header lines in order, exactly as written.
    pub headers: Vec<(String, String)>,
}

impl UpgradeRequest {
    /// A valid SIP upgrade request for `host` (RFC 7118 §4.1): GET, HTTP/1.1, Host, Upgrade,
    /// Connection, the example key, version 13, `Sec-WebSocket-Protocol: sip`.
    pub fn sip(host: &str, target: &str) -> Self {
        UpgradeRequest {
            method: "GET".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: vec![
                ("Host".into(), host.into()),
                ("Upgrade".into(), "websocket".into()),
                ("Connection".into(), "Upgrade".into()),
                ("Sec-WebSocket-Key".into(), EXAMPLE_KEY.into()),
                ("Sec-WebSocket-Version".into(), "13".into()),
                ("Sec-WebSocket-Protocol".into(), "sip".into()),
            ],
        }
    }

    pub fn method(mut self, m: &str) -> Self {
        self.method = m.into();
        self
    }

    pub fn version(mut self, v: &str) -> Self {
        self.version = v.into();
        self
    }

    /// Remove every header with this name (case-insensitive).
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replace every header with this name by one line (or add it).
    pub fn set(self, name: &str, value: &str) -> Self {
        self.without(name).with(name, value)
    }

    /// Add a header line, keeping any existing ones (repetition on purpose).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.method, self.target, self.version);
        for (n, v) in &self.headers {
            s.push_str(n);
            s.push_str(": ");
            s.push_str(v);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipws_reference::ws::{OriginPolicy, Policy, ServerStep, accept_bytes};

    #[test]
    fn the_default_request_is_accepted_by_the_reference_rules() {
        let req = UpgradeRequest::sip("h", "/").to_bytes();
        let policy = Policy {
            origins: OriginPolicy::Any,
            ..Policy::default()
        };
        assert!(matches!(
            accept_bytes(&req, &policy),
            ServerStep::Accept { .. }
        ));
    }

    #[test]
    fn variations_are_written_as_asked() {
        let req = UpgradeRequest::sip("h", "/")
            .method("POST")
            .version("HTTP/1.0")
            .with("Sec-WebSocket-Key", "AAAA")
            .set("Sec-WebSocket-Protocol", "SIP");
        let text = String::from_utf8(req.to_bytes()).expect("ascii");
        assert!(text.starts_with("POST / HTTP/1.0\r\n"));
        assert_eq!(text.matches("Sec-WebSocket-Key").count(), 2);
        assert!(text.contains("Sec-WebSocket-Protocol: SIP\r\n"));
        assert!(!text.contains("Sec-WebSocket-Protocol: sip"));
    }
}
