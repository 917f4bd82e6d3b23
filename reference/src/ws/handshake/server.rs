//! The server half of the opening handshake: [`accept`] and [`accept_bytes`] decide a
//! client's request (RFC 6455 §4.2.1, §4.2.2, §11.3; RFC 7118 §4.1) under a [`Policy`]. The
//! order of the checks and the policy decisions are in the `ws::handshake` module docs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{WEBSOCKET_VERSION, accept_key_for, header, is_valid_authority, lossy};
use crate::ws::extensions::{ExtensionError, parse_extensions};
use crate::ws::http::{
    HttpError, HttpVersion, Parsed, RequestHead, is_valid_field_value, list_has_token_ci,
    parse_request, render_response,
};
use crate::ws::subprotocol::{self, SubprotocolError};

/// Which `Origin` values a server accepts (RFC 6455 §4.2.2 (4) /origin/, §10.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Any origin, and none (the default; RFC 7118 Appendix A.1 website-agnostic server).
    #[default]
    Any,
    /// Only the listed serialized origins (e.g. `https://www.example.com`), compared ASCII
    /// case-insensitively.
    Only {
        /// Accepted origins.
        origins: Vec<String>,
        /// Also accept requests without `Origin` (non-browser clients, RFC 6455 §4.2.1 (7)).
        allow_absent: bool,
    },
}

/// What a server accepts beyond the protocol rules. `Default` accepts any path, any origin
/// (or none) and any valid `Host`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Resource paths served (RFC 6455 §4.2.2 (4) /resource name/), e.g. `["/ws"]`;
    /// `None` = every path. Others get 404.
    pub resource_paths: Option<Vec<String>>,
    /// Accepted origins; others get 403.
    pub origins: OriginPolicy,
    /// Accepted `Host` authorities (RFC 6455 §4.2.1 (2) "the server's authority"), compared
    /// ASCII case-insensitively; `None` = any valid, non-empty authority.
    pub authorities: Option<Vec<String>>,
    /// One deliberately broken rule (the suite's own tests, feature `mutants`).
    #[cfg(feature = "mutants")]
    pub mutation: Option<crate::mutation::Mutation>,
}

/// Why `Sec-WebSocket-Key` is not acceptable (RFC 6455 §4.2.1 (5); A17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFault {
    /// Not base64 (bad character, bad length, bad or missing padding).
    #[error("not base64")]
    NotBase64,
    /// Base64 whose pad bits are not zero (e.g. the RFC 6455 §4.1 example key): refused.
    #[error("non-canonical base64 (non-zero pad bits)")]
    NonCanonical,
    /// Well-formed base64 that decodes to this many bytes instead of 16.
    #[error("decodes to {0} bytes, not 16")]
    WrongLength(usize),
}

/// Why a server refused a handshake. Each variant names, via [`RejectReason::requirement`],
/// the requirement row (spec/requirements.md) it enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP request: {0}")]
    Malformed(HttpError),
    /// Method other than `GET`.
    #[error("method {method:?} is not GET")]
    MethodNotGet {
        /// The method sent.
        method: String,
    },
    /// HTTP version below 1.1.
    #[error("{version} is older than HTTP/1.1")]
    HttpVersionTooOld {
        /// The version sent.
        version: HttpVersion,
    },
    /// The request-target is not a resource name (origin-form or absolute http/https URI).
    #[error("request-target {target:?} is not a WebSocket resource name")]
    BadRequestTarget {
        /// The target sent.
        target: String,
    },
    /// No `Host`.
    #[error("no Host header")]
    MissingHost,
    /// More than one `Host` (RFC 7230 §5.4).
    #[error("{count} Host headers")]
    DuplicateHost {
        /// How many were sent.
        count: usize,
    },
    /// `Host` is not `uri-host [":" port]`.
    #[error("Host {value:?} is not a valid authority")]
    InvalidHost {
        /// The value sent (lossy).
        value: String,
    },
    /// `Host` (or an absolute-form authority) not in [`Policy::authorities`].
    #[error("authority {host:?} is not served here")]
    HostNotAllowed {
        /// The authority sent.
        host: String,
    },
    /// No `Upgrade`.
    #[error("no Upgrade header")]
    MissingUpgrade,
    /// `Upgrade` is not a list of protocols.
    #[error("Upgrade header is not a protocol list")]
    MalformedUpgrade,
    /// `Upgrade` lacks `websocket`.
    #[error("Upgrade header does not name websocket")]
    UpgradeNotWebSocket,
    /// No `Connection`.
    #[error("no Connection header")]
    MissingConnection,
    /// `Connection` is not a token list.
    #[error("Connection header is not a token list")]
    MalformedConnection,
    /// `Connection` lacks `upgrade`.
    #[error("Connection header does not include the upgrade option")]
    ConnectionWithoutUpgrade,
    /// More than one `Sec-WebSocket-Version` in a request.
    #[error("{count} Sec-WebSocket-Version headers")]
    DuplicateVersion {
        /// How many were sent.
        count: usize,
    },
    /// No `Sec-WebSocket-Version`.
    #[error("no Sec-WebSocket-Version header")]
    MissingVersion,
    /// `Sec-WebSocket-Version` other than 13.
    #[error("Sec-WebSocket-Version {version:?} is not 13")]
    UnsupportedVersion {
        /// The value sent (lossy).
        version: String,
    },
    /// More than one `Sec-WebSocket-Key`.
    #[error("{count} Sec-WebSocket-Key headers")]
    DuplicateKey {
        /// How many were sent.
        count: usize,
    },
    /// No `Sec-WebSocket-Key`.
    #[error("no Sec-WebSocket-Key header")]
    MissingKey,
    /// `Sec-WebSocket-Key` is not base64 of 16 bytes.
    #[error("Sec-WebSocket-Key is invalid: {0}")]
    InvalidKey(KeyFault),
    /// The resource path is not served.
    #[error("resource {path:?} is not served here")]
    ResourceNotFound {
        /// The path requested.
        path: String,
    },
    /// `Origin` missing or not allowed.
    #[error("origin {origin:?} is not allowed")]
    OriginNotAllowed {
        /// The origin sent, if any.
        origin: Option<String>,
    },
    /// Several `Origin` fields while origins are checked.
    #[error("{count} Origin headers")]
    DuplicateOrigin {
        /// How many were sent.
        count: usize,
    },
    /// `Sec-WebSocket-Extensions` is not an extension-list.
    #[error("{0}")]
    MalformedExtensions(ExtensionError),
    /// `Sec-WebSocket-Protocol` is not a `1#token` list.
    #[error("{0}")]
    MalformedSubprotocols(SubprotocolError),
    /// `sip` not offered (absent header, or a list without the exact token `sip`).
    #[error("{0}")]
    NoSipSubprotocol(SubprotocolError),
    /// HTTP authentication demanded (a [`Rejected::unauthorized`] built by the caller).
    #[error("HTTP authentication required")]
    Unauthorized,
    /// Redirected (a [`Rejected::redirect`] built by the caller).
    #[error("redirected to {location:?}")]
    Redirect {
        /// The `Location` sent.
        location: String,
    },
}

impl RejectReason {
    /// The requirement ID (spec/requirements.md) this refusal enforces.
    pub fn requirement(&self) -> &'static str {
        use RejectReason::*;
        match self {
            Malformed(_) | MalformedExtensions(_) => "6455-10.7-a",
            MethodNotGet { .. } | HttpVersionTooOld { .. } | BadRequestTarget { .. } => {
                "6455-4.2.1-a"
            }
            MissingHost | DuplicateHost { .. } | InvalidHost { .. } | HostNotAllowed { .. } => {
                "6455-4.2.1-b"
            }
            MissingUpgrade | MalformedUpgrade | UpgradeNotWebSocket => "6455-4.2.1-c",
            MissingConnection | MalformedConnection | ConnectionWithoutUpgrade => "6455-4.2.1-d",
            DuplicateVersion { .. } => "6455-11.3.5-a",
            MissingVersion => "6455-4.2.1-f",
            UnsupportedVersion { .. } => "6455-4.2.2-a",
            DuplicateKey { .. } => "6455-11.3.1-a",
            MissingKey | InvalidKey(_) => "6455-4.2.1-e",
            ResourceNotFound { .. } => "6455-4.2.2-c",
            OriginNotAllowed { .. } | DuplicateOrigin { .. } => "6455-4.2.2-b",
            MalformedSubprotocols(e) | NoSipSubprotocol(e) => e.requirement(),
            Unauthorized | Redirect { .. } => "6455-4.2.2-h",
        }
    }

    /// A fixed, data-free sentence for the response body (request data is never reflected).
    pub fn summary(&self) -> &'static str {
        use RejectReason::*;
        match self {
            Malformed(_) => "the request is not a valid HTTP/1.1 message",
            MethodNotGet { .. } => "a WebSocket handshake must be a GET request",
            HttpVersionTooOld { .. } => "a WebSocket handshake needs HTTP/1.1 or later",
            BadRequestTarget { .. } => "the request-target is not a WebSocket resource name",
            MissingHost | DuplicateHost { .. } | InvalidHost { .. } => {
                "exactly one valid Host header is required"
            }
            HostNotAllowed { .. } => "this authority is not served here",
            MissingUpgrade | MalformedUpgrade | UpgradeNotWebSocket => {
                "Upgrade must include websocket"
            }
            MissingConnection | MalformedConnection | ConnectionWithoutUpgrade => {
                "Connection must include Upgrade"
            }
            DuplicateVersion { .. } => "Sec-WebSocket-Version must appear exactly once",
            MissingVersion => "Sec-WebSocket-Version is required",
            UnsupportedVersion { .. } => "only WebSocket version 13 is supported",
            DuplicateKey { .. } => "Sec-WebSocket-Key must appear exactly once",
            MissingKey | InvalidKey(_) => {
                "Sec-WebSocket-Key must be the base64 encoding of 16 bytes"
            }
            ResourceNotFound { .. } => "no WebSocket service at this resource",
            OriginNotAllowed { .. } | DuplicateOrigin { .. } => "origin not allowed",
            MalformedExtensions(_) => "Sec-WebSocket-Extensions is malformed",
            MalformedSubprotocols(_) => "Sec-WebSocket-Protocol must be a list of tokens",
            NoSipSubprotocol(_) => "Sec-WebSocket-Protocol must offer sip (RFC 7118 section 4.1)",
            Unauthorized => "authentication required",
            Redirect { .. } => "moved",
        }
    }
}

/// A refused handshake: the HTTP status, reason phrase and reason-specific header fields,
/// plus the typed reason. [`Rejected::to_bytes`] renders the exact response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {reason_phrase}: {reason} [{}]", reason.requirement())]
pub struct Rejected {
    status: u16,
    reason_phrase: &'static str,
    extra_headers: Vec<(String, String)>,
    reason: RejectReason,
}

/// A caller-supplied header value that cannot be sent (empty, or holding CR/LF/controls).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseBuildError {
    /// The status is not one this constructor may send.
    #[error("status {0} is not allowed here")]
    Status(u16),
    /// The value is empty or not a valid field-value.
    #[error("invalid header value {0:?}")]
    Value(String),
}

fn reason_phrase_of(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

impl Rejected {
    /// The refusal for `reason`, with the status and headers this module sends for it.
    fn new(reason: RejectReason) -> Rejected {
        use RejectReason::*;
        let (status, extra_headers) = match &reason {
            Malformed(e) => (e.status(), vec![]),
            // RFC 6455 §4.2.2 (4) /version/ and §4.4: name the version(s) we speak.
            DuplicateVersion { .. } | MissingVersion => (
                400,
                vec![header("Sec-WebSocket-Version", WEBSOCKET_VERSION)],
            ),
            // A5: 426, which RFC 7231 §6.5.15 says MUST carry Upgrade.
            UnsupportedVersion { .. } => (
                426,
                vec![
                    header("Sec-WebSocket-Version", WEBSOCKET_VERSION),
                    header("Upgrade", "websocket"),
                ],
            ),
            ResourceNotFound { .. } => (404, vec![]),
            OriginNotAllowed { .. } | DuplicateOrigin { .. } => (403, vec![]),
            Unauthorized => (401, vec![]),
            Redirect { location } => (302, vec![header("Location", location)]),
            _ => (400, vec![]),
        };
        Rejected {
            status,
            reason_phrase: reason_phrase_of(status),
            extra_headers,
            reason,
        }
    }

    /// The answer to a head that did not parse (row 6455-10.7-a: a suitable 4xx, never 101).
    pub fn from_http_error(error: HttpError) -> Rejected {
        Rejected::new(RejectReason::Malformed(error))
    }

    /// A 401 carrying one `WWW-Authenticate` field per challenge (RFC 6455 §4.2.2 (2),
    /// RFC 7118 §7). The challenges come from the caller's authentication layer.
    pub fn unauthorized(challenges: &[&str]) -> Result<Rejected, ResponseBuildError> {
        if challenges.is_empty() {
            return Err(ResponseBuildError::Value(String::new()));
        }
        let mut extra_headers = Vec::new();
        for c in challenges {
            if c.is_empty() || !is_valid_field_value(c) {
                return Err(ResponseBuildError::Value((*c).to_owned()));
            }
            extra_headers.push(header("WWW-Authenticate", c));
        }
        Ok(Rejected {
            status: 401,
            reason_phrase: reason_phrase_of(401),
            extra_headers,
            reason: RejectReason::Unauthorized,
        })
    }

    /// A 3xx redirect (301, 302, 303, 307 or 308) to `location` (RFC 6455 §4.2.2 (3)).
    pub fn redirect(status: u16, location: &str) -> Result<Rejected, ResponseBuildError> {
        if !matches!(status, 301 | 302 | 303 | 307 | 308) {
            return Err(ResponseBuildError::Status(status));
        }
        if location.is_empty() || !is_valid_field_value(location) {
            return Err(ResponseBuildError::Value(location.to_owned()));
        }
        Ok(Rejected {
            status,
            reason_phrase: reason_phrase_of(status),
            extra_headers: vec![header("Location", location)],
            reason: RejectReason::Redirect {
                location: location.to_owned(),
            },
        })
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The reason phrase of the status line.
    pub fn reason_phrase(&self) -> &'static str {
        self.reason_phrase
    }
    /// Header fields specific to this refusal (`Sec-WebSocket-Version`, `Upgrade`,
    /// `WWW-Authenticate`, `Location`), before the framing fields added by [`Rejected::headers`].
    pub fn extra_headers(&self) -> &[(String, String)] {
        &self.extra_headers
    }
    /// The typed reason.
    pub fn reason(&self) -> &RejectReason {
        &self.reason
    }
    /// The requirement ID the refusal enforces.
    pub fn requirement(&self) -> &'static str {
        self.reason.requirement()
    }
    /// The response body: one fixed line naming the fault and the requirement ID.
    pub fn body(&self) -> String {
        format!(
            "{} {}: {} [{}]\n",
            self.status,
            self.reason_phrase,
            self.reason.summary(),
            self.requirement()
        )
    }
    /// Every header field of the response, in order: the extra fields, then `Connection`
    /// (`Upgrade, close` when `Upgrade` is sent, RFC 7230 §6.7; else `close`),
    /// `Content-Type` and `Content-Length`.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut all = self.extra_headers.clone();
        let upgrade = self
            .extra_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Upgrade"));
        all.push(header(
            "Connection",
            if upgrade { "Upgrade, close" } else { "close" },
        ));
        all.push(header("Content-Type", "text/plain; charset=utf-8"));
        all.push(header("Content-Length", &self.body().len().to_string()));
        all
    }
    /// The exact response bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        render_response(
            self.status,
            self.reason_phrase,
            &self.headers(),
            self.body().as_bytes(),
        )
    }
}

/// An accepted handshake: what the 101 says and what was agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    key: String,
    accept: String,
    subprotocol: String,
    target: String,
    path: String,
    host: String,
    origin: Option<String>,
}

impl Accepted {
    /// `Sec-WebSocket-Key` as sent (OWS-trimmed).
    pub fn key(&self) -> &str {
        &self.key
    }
    /// `Sec-WebSocket-Accept` (RFC 6455 §4.2.2 (5) item 4).
    pub fn accept_key(&self) -> &str {
        &self.accept
    }
    /// The subprotocol in use: always `sip`, and always an element the client offered.
    pub fn subprotocol(&self) -> &str {
        &self.subprotocol
    }
    /// The request-target as sent (path and query).
    pub fn target(&self) -> &str {
        &self.target
    }
    /// The resource path (request-target without the query).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The `Host` value.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The `Origin` value, if sent.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }
    /// The 101's header fields, in the order of the RFC 7118 §4.1 example. Never
    /// `Sec-WebSocket-Extensions` (row 6455-4.2.2-e); exactly one `Sec-WebSocket-Accept`
    /// (6455-11.3.3-a) and one `Sec-WebSocket-Protocol: sip` (7118-4.1-b, 6455-11.3.4-a).
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            header("Upgrade", "websocket"),
            header("Connection", "Upgrade"),
            header("Sec-WebSocket-Accept", &self.accept),
            header("Sec-WebSocket-Protocol", &self.subprotocol),
        ]
    }
    /// The exact 101 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        render_response(101, reason_phrase_of(101), &self.headers(), b"")
    }
}

/// What an I/O shell does next with the bytes it holds ([`accept_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// The head is not complete yet: read more.
    NeedMore,
    /// Write `accepted.to_bytes()`; the first `consumed` bytes were the handshake, the rest
    /// is WebSocket frames.
    Accept {
        /// The agreement.
        accepted: Accepted,
        /// Bytes taken by the request head.
        consumed: usize,
    },
    /// Write `rejected.to_bytes()` and close.
    Reject(Rejected),
}

/// Parses the request head at the start of `buf` and decides it ([`accept`]).
pub fn accept_bytes(buf: &[u8], policy: &Policy) -> ServerStep {
    match parse_request(buf) {
        Ok(Parsed::Incomplete) => ServerStep::NeedMore,
        Ok(Parsed::Complete { head, consumed }) => match accept(&head, policy) {
            Ok(accepted) => ServerStep::Accept { accepted, consumed },
            Err(rejected) => ServerStep::Reject(rejected),
        },
        Err(e) => ServerStep::Reject(Rejected::from_http_error(e)),
    }
}

/// The resource path and, for absolute-form, the authority of a request-target
/// (RFC 6455 §4.2.1 (1): a resource name, or an absolute http/https URI holding one).
fn split_target(target: &str) -> Option<(&str, Option<&str>)> {
    // RFC 6455 §3: fragment identifiers MUST NOT be used (and `#` is not in request-target).
    if target.contains('#') {
        return None;
    }
    if target.starts_with('/') {
        let path = target.split('?').next().unwrap_or(target);
        return Some((path, None));
    }
    let (scheme, rest) = target.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(auth_end);
    if !is_valid_authority(authority) {
        return None;
    }
    let path = path_query.split('?').next().unwrap_or("");
    Some((if path.is_empty() { "/" } else { path }, Some(authority)))
}

/// Decodes and checks a `Sec-WebSocket-Key` value (RFC 6455 §4.2.1 (5); A17: canonical only).
pub fn check_key(value: &[u8]) -> Result<[u8; 16], KeyFault> {
    match BASE64.decode(value) {
        Ok(bytes) => {
            <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| KeyFault::WrongLength(bytes.len()))
        }
        Err(base64::DecodeError::InvalidLastSymbol(..)) => Err(KeyFault::NonCanonical),
        Err(_) => Err(KeyFault::NotBase64),
    }
}

/// Decides a client's opening handshake (RFC 6455 §4.2.1, §4.2.2; RFC 7118 §4.1). See the
/// module docs for the order of the checks and the policy decisions.
pub fn accept(req: &RequestHead, policy: &Policy) -> Result<Accepted, Rejected> {
    use RejectReason as R;
    let reject = |r: RejectReason| Err(Rejected::new(r));
    let h = req.headers();

    // RFC 6455 §4.2.1 (1): "An HTTP/1.1 or higher GET request". Methods are case-sensitive.
    if req.method() != "GET" {
        return reject(R::MethodNotGet {
            method: req.method().to_owned(),
        });
    }
    if req.version() < HttpVersion::HTTP_1_1 {
        return reject(R::HttpVersionTooOld {
            version: req.version(),
        });
    }
    // RFC 6455 §4.2.1 (1): the Request-URI is a /resource name/ or an absolute http(s) URI.
    let Some((path, target_authority)) = split_target(req.target()) else {
        return reject(R::BadRequestTarget {
            target: req.target().to_owned(),
        });
    };

    // RFC 6455 §4.2.1 (2): a Host header with the server's authority; RFC 7230 §5.4: exactly one.
    let hosts = h.values("Host");
    let host = match hosts.as_slice() {
        [] => return reject(R::MissingHost),
        [one] => *one,
        many => return reject(R::DuplicateHost { count: many.len() }),
    };
    let host = match std::str::from_utf8(host) {
        Ok(s) if is_valid_authority(s) => s,
        _ => return reject(R::InvalidHost { value: lossy(host) }),
    };
    if let Some(allowed) = &policy.authorities {
        for authority in std::iter::once(host).chain(target_authority) {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(authority)) {
                return reject(R::HostNotAllowed {
                    host: authority.to_owned(),
                });
            }
        }
    }

    // RFC 6455 §4.2.1 (3): Upgrade contains "websocket", ASCII case-insensitive.
    let upgrade = h.values("Upgrade");
    if upgrade.is_empty() {
        return reject(R::MissingUpgrade);
    }
    match list_has_token_ci(&upgrade, "websocket", true) {
        Ok(true) => {}
        Ok(false) => return reject(R::UpgradeNotWebSocket),
        Err(_) => return reject(R::MalformedUpgrade),
    }

    // RFC 6455 §4.2.1 (4): Connection includes the token "Upgrade", ASCII case-insensitive.
    let connection = h.values("Connection");
    if connection.is_empty() {
        return reject(R::MissingConnection);
    }
    match list_has_token_ci(&connection, "upgrade", false) {
        Ok(true) => {}
        Ok(false) => return reject(R::ConnectionWithoutUpgrade),
        Err(_) => return reject(R::MalformedConnection),
    }

    // RFC 6455 §11.3.5: at most once in a request; §4.2.1 (6): present, value 13;
    // §4.2.2 (4) /version/: otherwise an error naming the versions we speak.
    let versions = h.values("Sec-WebSocket-Version");
    match versions.as_slice() {
        [] => return reject(R::MissingVersion),
        [v] if *v == WEBSOCKET_VERSION.as_bytes() => {}
        #[cfg(feature = "mutants")]
        [_] if policy.mutation == Some(crate::mutation::Mutation::AcceptAnyVersion) => {}
        [v] => return reject(R::UnsupportedVersion { version: lossy(v) }),
        many => return reject(R::DuplicateVersion { count: many.len() }),
    }

    // RFC 6455 §11.3.1: at most once; §4.2.1 (5): base64 of exactly 16 bytes.
    let keys = h.values("Sec-WebSocket-Key");
    let key = match keys.as_slice() {
        [] => return reject(R::MissingKey),
        [k] => *k,
        many => return reject(R::DuplicateKey { count: many.len() }),
    };
    if let Err(fault) = check_key(key) {
        return reject(R::InvalidKey(fault));
    }

    // RFC 6455 §4.2.2 (4) /resource name/: unavailable service => 404.
    if let Some(paths) = &policy.resource_paths
        && !paths.iter().any(|p| p == path)
    {
        return reject(R::ResourceNotFound {
            path: path.to_owned(),
        });
    }

    // RFC 6455 §4.2.2 (4) /origin/ and §10.2: a restricted server refuses others with 403.
    let origins = h.values("Origin");
    let origin = origins.first().map(|o| lossy(o));
    if let OriginPolicy::Only {
        origins: allowed,
        allow_absent,
    } = &policy.origins
    {
        match origins.as_slice() {
            // RFC 6455 §4.2.1 (7): no Origin means "not a browser".
            [] if *allow_absent => {}
            [] => return reject(R::OriginNotAllowed { origin: None }),
            [o] => {
                if !allowed.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(o)) {
                    return reject(R::OriginNotAllowed {
                        origin: Some(lossy(o)),
                    });
                }
            }
            many => return reject(R::DuplicateOrigin { count: many.len() }),
        }
    }

    // RFC 6455 §4.2.1: an ABNF violation stops the handshake. We support no extension, so
    // nothing from this header is ever echoed (§4.2.2 (4) /extensions/).
    if let Err(e) = parse_extensions(&h.values("Sec-WebSocket-Extensions")) {
        return reject(R::MalformedExtensions(e));
    }

    // RFC 7118 §4.1 + RFC 6455 §4.2.2 (4) /subprotocol/ + RFC 7936 §2.
    let offered = h.values("Sec-WebSocket-Protocol");
    let chosen = match subprotocol::choose_sip(&offered) {
        #[cfg(feature = "mutants")]
        _ if policy.mutation == Some(crate::mutation::Mutation::EchoAnySubprotocol) => {
            first_offered(&offered)
        }
        Ok(token) => token.to_owned(),
        Err(e) if e.is_malformed() => return reject(R::MalformedSubprotocols(e)),
        Err(e) => return reject(R::NoSipSubprotocol(e)),
    };

    // check_key succeeded, so the key is base64 text: ASCII, hence UTF-8.
    let key_text = lossy(key);
    Ok(Accepted {
        accept: accept_key_for(key),
        key: key_text,
        subprotocol: chosen,
        target: req.target().to_owned(),
        path: path.to_owned(),
        host: host.to_owned(),
        origin,
    })
}

/// [`crate::mutation::Mutation::EchoAnySubprotocol`]: the first offered element, token or not.
#[cfg(feature = "mutants")]
fn first_offered(values: &[&[u8]]) -> String {
    match subprotocol::parse_offer(values) {
        Ok(offered) => offered.first().map(|t| (*t).to_owned()).unwrap_or_default(),
        Err(_) => values
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default(),
    }
}
