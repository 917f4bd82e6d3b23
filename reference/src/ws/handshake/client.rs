//! The client half of the opening handshake: [`ClientRequest`] builds the request
//! (RFC 6455 §4.1 handshake steps 1–10, RFC 7118 §4.1) and [`validate_response`] checks the
//! server's answer (RFC 6455 §4.1 validation steps 1–6, §11.3.3, §11.3.4), refusing a 101
//! without `sip`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{WEBSOCKET_VERSION, accept_key_for, header, is_valid_authority, lossy};
use crate::ws::extensions::{Extension, ExtensionError, parse_extensions};
use crate::ws::http::{
    HttpVersion, ResponseHead, is_token, is_valid_field_value, list_has_token_ci,
};
use crate::ws::subprotocol::SIP;

/// Header fields the client builds itself; callers may not add them again.
const CLIENT_OWN_HEADERS: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Origin",
];

/// Why a client request cannot be built (RFC 6455 §4.1 (1): invalid URI components fail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientRequestError {
    /// The host is empty or not a valid `uri-host`.
    #[error("invalid host {0:?}")]
    InvalidHost(String),
    /// The resource is not `path-abempty ["?" query]` of VCHARs.
    #[error("invalid resource name {0:?}")]
    InvalidResource(String),
    /// The resource carries a fragment (RFC 6455 §3: MUST NOT).
    #[error("resource name {0:?} carries a fragment")]
    Fragment(String),
    /// An offered subprotocol is not a token (RFC 6455 §4.1 (10)).
    #[error("subprotocol {0:?} is not a token")]
    InvalidProtocol(String),
    /// A subprotocol is offered twice (RFC 6455 §4.1 (10): unique).
    #[error("subprotocol {0:?} offered twice")]
    DuplicateProtocol(String),
    /// The origin is not a valid field-value.
    #[error("invalid origin {0:?}")]
    InvalidOrigin(String),
    /// An extra header has a non-token name or an invalid value.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// An extra header duplicates one the handshake builds itself.
    #[error("header {0:?} is built by the handshake itself")]
    ReservedHeader(String),
}

impl ClientRequestError {
    /// The requirement row the check serves.
    pub fn requirement(&self) -> &'static str {
        match self {
            ClientRequestError::InvalidHost(_)
            | ClientRequestError::InvalidResource(_)
            | ClientRequestError::Fragment(_) => "6455-3-a",
            ClientRequestError::InvalidProtocol(_) | ClientRequestError::DuplicateProtocol(_) => {
                "6455-4.1-b"
            }
            _ => "6455-4.1-a",
        }
    }
}

/// A client opening handshake (RFC 6455 §4.1, RFC 7118 §4.1), built from the components of a
/// ws/wss URI and an injected 16-byte nonce. `sip` is always offered exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    host: String,
    port: Option<u16>,
    secure: bool,
    resource: String,
    key: [u8; 16],
    origin: Option<String>,
    extra_protocols: Vec<String>,
    extra_headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `ws[s]://host/` with nonce `key` (which the caller MUST pick at random for
    /// every connection, RFC 6455 §4.1 (7)).
    pub fn new(host: &str, secure: bool, key: [u8; 16]) -> ClientRequest {
        ClientRequest {
            host: host.to_owned(),
            port: None,
            secure,
            resource: String::new(),
            key,
            origin: None,
            extra_protocols: Vec::new(),
            extra_headers: Vec::new(),
        }
    }
    /// The URI's port (`None` = the default: 80 for ws, 443 for wss, RFC 6455 §3).
    pub fn port(mut self, port: Option<u16>) -> Self {
        self.port = port;
        self
    }
    /// The resource name: path and optional `?query` (empty = `/`, RFC 6455 §3).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = resource.to_owned();
        self
    }
    /// The `Origin` to send (RFC 6455 §4.1 (8): browsers MUST, others MAY).
    pub fn origin(mut self, origin: Option<&str>) -> Self {
        self.origin = origin.map(str::to_owned);
        self
    }
    /// Further subprotocols to offer. `sip` comes first unless listed here, in which case
    /// this order (of preference) is kept; either way it is offered exactly once.
    pub fn extra_protocols(mut self, protocols: &[&str]) -> Self {
        self.extra_protocols = protocols.iter().map(|p| (*p).to_owned()).collect();
        self
    }
    /// Adds a header field (e.g. `Cookie`, `Authorization`, RFC 7118 §7).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra_headers.push(header(name, value));
        self
    }

    /// The `Sec-WebSocket-Key` value: base64 of the nonce (RFC 4648 §4).
    pub fn key(&self) -> String {
        BASE64.encode(self.key)
    }

    /// The subprotocols offered, in order.
    pub fn offered_protocols(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.extra_protocols.iter().map(String::as_str).collect();
        if !out.contains(&SIP) {
            out.insert(0, SIP);
        }
        out
    }

    /// The `Host` value: host, plus `:port` only when not the scheme's default (RFC 6455
    /// §4.1 (4)); an IPv6 address gets its brackets.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.secure { 443 } else { 80 };
        match self.port {
            Some(p) if p != default => format!("{host}:{p}"),
            _ => host,
        }
    }

    /// The request-target: the resource name, `/` when the path is empty (RFC 6455 §3).
    fn target(&self) -> Result<String, ClientRequestError> {
        let r = &self.resource;
        if r.contains('#') {
            return Err(ClientRequestError::Fragment(r.clone()));
        }
        if !r.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(ClientRequestError::InvalidResource(r.clone()));
        }
        match r.as_bytes().first() {
            None => Ok("/".to_owned()),
            Some(b'?') => Ok(format!("/{r}")),
            Some(b'/') => Ok(r.clone()),
            Some(_) => Err(ClientRequestError::InvalidResource(r.clone())),
        }
    }

    /// Renders the request bytes (RFC 6455 §4.1 handshake items 1–10), header order as in
    /// the RFC 7118 §4.1 example, extra headers last.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ClientRequestError> {
        let host = self.host_header();
        if !is_valid_authority(&host) {
            return Err(ClientRequestError::InvalidHost(self.host.clone()));
        }
        let target = self.target()?;
        let protocols = self.offered_protocols();
        for (i, p) in protocols.iter().enumerate() {
            if !is_token(p) {
                return Err(ClientRequestError::InvalidProtocol((*p).to_owned()));
            }
            if protocols[..i].contains(p) {
                return Err(ClientRequestError::DuplicateProtocol((*p).to_owned()));
            }
        }
        if let Some(o) = &self.origin
            && (o.is_empty() || !is_valid_field_value(o))
        {
            return Err(ClientRequestError::InvalidOrigin(o.clone()));
        }
        for (name, value) in &self.extra_headers {
            if CLIENT_OWN_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
            {
                return Err(ClientRequestError::ReservedHeader(name.clone()));
            }
            if !is_token(name) || !is_valid_field_value(value) {
                return Err(ClientRequestError::InvalidHeader(name.clone()));
            }
        }
        let mut out = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\n",
            self.key()
        );
        if let Some(o) = &self.origin {
            out.push_str(&format!("Origin: {o}\r\n"));
        }
        out.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(", ")
        ));
        out.push_str(&format!("Sec-WebSocket-Version: {WEBSOCKET_VERSION}\r\n"));
        for (name, value) in &self.extra_headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        Ok(out.into_bytes())
    }
}

/// Builds a client opening handshake (see [`ClientRequest`]).
pub fn client_request(
    url_host: &str,
    port: Option<u16>,
    secure: bool,
    path: &str,
    key: [u8; 16],
    origin: Option<&str>,
    extra_protocols: &[&str],
) -> Result<Vec<u8>, ClientRequestError> {
    ClientRequest::new(url_host, secure, key)
        .port(port)
        .resource(path)
        .origin(origin)
        .extra_protocols(extra_protocols)
        .to_bytes()
}

/// A validated 101: the connection is OPEN and speaks SIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccepted {
    /// The subprotocol in use (always `sip`).
    pub subprotocol: String,
    /// The extensions in use (each was offered).
    pub extensions: Vec<Extension>,
}

/// Why the client does not consider the connection established. Each variant names the
/// requirement row behind it ([`ClientRejected::requirement`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientRejected {
    /// Not 101: handle as HTTP (401 challenge, 3xx redirect, or a failure; RFC 6455 §4.1
    /// validation 1; RFC 7118 §4.1 note: a transaction error for the pending SIP request).
    #[error("HTTP status {code} instead of 101")]
    HttpStatus {
        /// The status received.
        code: u16,
    },
    /// A 101 on a version below HTTP/1.1 (101 does not exist there).
    #[error("101 received on {version}")]
    HttpVersion {
        /// The version of the status line.
        version: HttpVersion,
    },
    /// No `Upgrade` (validation 2).
    #[error("no Upgrade header")]
    MissingUpgrade,
    /// `Upgrade` is not exactly `websocket`, case-insensitively (validation 2).
    #[error("Upgrade is {value:?}, not websocket")]
    BadUpgrade {
        /// The value(s) received, joined with ", ".
        value: String,
    },
    /// No `Connection` (validation 3).
    #[error("no Connection header")]
    MissingConnection,
    /// `Connection` lacks the `upgrade` token (validation 3).
    #[error("Connection does not include Upgrade")]
    ConnectionWithoutUpgrade,
    /// No `Sec-WebSocket-Accept` (validation 4).
    #[error("no Sec-WebSocket-Accept header")]
    MissingAccept,
    /// More than one `Sec-WebSocket-Accept` (RFC 6455 §11.3.3).
    #[error("{count} Sec-WebSocket-Accept headers")]
    DuplicateAccept {
        /// How many were received.
        count: usize,
    },
    /// `Sec-WebSocket-Accept` differs from the value derived from our key (validation 4).
    #[error("Sec-WebSocket-Accept {got:?} differs from the expected {expected:?}")]
    AcceptMismatch {
        /// The value derived from the key sent.
        expected: String,
        /// The value received.
        got: String,
    },
    /// More than one `Sec-WebSocket-Extensions` in the response (RFC 6455 §11.3.2).
    #[error("{count} Sec-WebSocket-Extensions headers")]
    DuplicateExtensions {
        /// How many were received.
        count: usize,
    },
    /// `Sec-WebSocket-Extensions` is not an extension-list.
    #[error("{0}")]
    MalformedExtensions(ExtensionError),
    /// An extension we did not offer (validation 5).
    #[error("extension {name:?} was not offered")]
    UnrequestedExtension {
        /// Its name.
        name: String,
    },
    /// More than one `Sec-WebSocket-Protocol` in the response (RFC 6455 §11.3.4).
    #[error("{count} Sec-WebSocket-Protocol headers")]
    DuplicateProtocol {
        /// How many were received.
        count: usize,
    },
    /// The `Sec-WebSocket-Protocol` value is not a single token (RFC 6455 §4.2.2 (4)).
    #[error("Sec-WebSocket-Protocol {value:?} is not a single token")]
    MalformedSubprotocol {
        /// The value received (lossy).
        value: String,
    },
    /// A subprotocol we did not offer (validation 6; compared case-sensitively, RFC 7936 §2).
    #[error("subprotocol {value:?} was not offered")]
    UnrequestedSubprotocol {
        /// The value received.
        value: String,
    },
    /// The 101 does not select `sip` (RFC 7118 §4.1; recommended policy for A3).
    #[error("the 101 does not select sip (selected: {selected:?})")]
    NoSipSubprotocol {
        /// The subprotocol selected instead, if any.
        selected: Option<String>,
    },
}

impl ClientRejected {
    /// The requirement ID (spec/requirements.md) behind the refusal.
    pub fn requirement(&self) -> &'static str {
        match self {
            ClientRejected::DuplicateAccept { .. } => "6455-11.3.3-a",
            ClientRejected::DuplicateProtocol { .. } => "6455-11.3.4-a",
            ClientRejected::MalformedSubprotocol { .. } => "6455-4.2.2-d",
            ClientRejected::NoSipSubprotocol { .. } => "6455-4.1-g",
            _ => "6455-4.1-f",
        }
    }
}

/// Validates the server's answer to our handshake (RFC 6455 §4.1, validation steps 1–6,
/// §11.3.2–§11.3.4; RFC 7118 §4.1). `sent_key` is the `Sec-WebSocket-Key` value we sent;
/// `offered_protocols` and `offered_extensions` are what we offered (extension names).
pub fn validate_response(
    resp: &ResponseHead,
    sent_key: &str,
    offered_protocols: &[&str],
    offered_extensions: &[&str],
) -> Result<ClientAccepted, ClientRejected> {
    use ClientRejected as C;
    let h = resp.headers();

    // Step 1: anything but 101 is handled per HTTP by the caller.
    if resp.status() != 101 {
        return Err(C::HttpStatus {
            code: resp.status(),
        });
    }
    if resp.version() < HttpVersion::HTTP_1_1 {
        return Err(C::HttpVersion {
            version: resp.version(),
        });
    }

    // Step 2: Upgrade present and an ASCII case-insensitive match for "websocket".
    let upgrade = h.values("Upgrade");
    match upgrade.as_slice() {
        [] => return Err(C::MissingUpgrade),
        [v] if v.eq_ignore_ascii_case(b"websocket") => {}
        vs => {
            let value = vs.iter().map(|v| lossy(v)).collect::<Vec<_>>().join(", ");
            return Err(C::BadUpgrade { value });
        }
    }

    // Step 3: Connection present and holding the token "Upgrade" (case-insensitive).
    let connection = h.values("Connection");
    if connection.is_empty() {
        return Err(C::MissingConnection);
    }
    if list_has_token_ci(&connection, "upgrade", false) != Ok(true) {
        return Err(C::ConnectionWithoutUpgrade);
    }

    // Step 4 + §11.3.3: exactly one Sec-WebSocket-Accept, equal to the derived value
    // (leading/trailing whitespace already trimmed by the parser).
    let expected = accept_key_for(sent_key.trim().as_bytes());
    match h.values("Sec-WebSocket-Accept").as_slice() {
        [] => return Err(C::MissingAccept),
        [v] if *v == expected.as_bytes() => {}
        [v] => {
            return Err(C::AcceptMismatch {
                expected,
                got: lossy(v),
            });
        }
        many => return Err(C::DuplicateAccept { count: many.len() }),
    }

    // Step 5 + §11.3.2: at most one extensions field; every extension named was offered.
    let ext_values = h.values("Sec-WebSocket-Extensions");
    if ext_values.len() > 1 {
        return Err(C::DuplicateExtensions {
            count: ext_values.len(),
        });
    }
    let extensions = parse_extensions(&ext_values).map_err(C::MalformedExtensions)?;
    if let Some(e) = extensions
        .iter()
        .find(|e| !offered_extensions.contains(&e.name.as_str()))
    {
        return Err(C::UnrequestedExtension {
            name: e.name.clone(),
        });
    }

    // Step 6 + §11.3.4: at most one protocol field, a single token we offered (exact case).
    let selected = match h.values("Sec-WebSocket-Protocol").as_slice() {
        [] => None,
        [v] => match std::str::from_utf8(v) {
            Ok(s) if is_token(s) => Some(s.to_owned()),
            _ => return Err(C::MalformedSubprotocol { value: lossy(v) }),
        },
        many => return Err(C::DuplicateProtocol { count: many.len() }),
    };
    if let Some(s) = &selected
        && !offered_protocols.contains(&s.as_str())
    {
        return Err(C::UnrequestedSubprotocol { value: s.clone() });
    }

    // RFC 7118 §4.1: the 101 MUST carry "sip"; anything else is not a SIP connection (A3).
    match selected {
        Some(s) if s == SIP => Ok(ClientAccepted {
            subprotocol: s,
            extensions,
        }),
        other => Err(C::NoSipSubprotocol { selected: other }),
    }
}
