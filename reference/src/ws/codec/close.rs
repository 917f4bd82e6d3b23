//! Close status codes (RFC 6455 §7.4): the codes a Close frame may carry, as a type that
//! cannot hold the others.

use std::fmt;

/// A status code that may be sent in a Close frame (RFC 6455 §7.4): 1000–1003, 1007–1014,
/// 3000–4999. 1005, 1006 and 1015 are for local reporting only and "MUST NOT be set as a
/// status code in a Close control frame" (row 6455-7.4.1-a); 1004 and 1016–2999 are reserved
/// or unassigned, 0–999 unused (§7.4.2). 1012–1014 were registered with IANA after RFC 6455.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

/// A status code that may not appear in a Close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("status code {code} may not be sent in a Close frame (RFC 6455 §7.4)")]
pub struct CloseCodeError {
    /// The refused code.
    pub code: u16,
}

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: going away (server shutting down).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: data inconsistent with the message type (e.g. non-UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: (client) a required extension was not negotiated.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: (server) unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// The code, if it may be sent in a Close frame.
    pub const fn new(code: u16) -> Result<CloseCode, CloseCodeError> {
        if is_sendable_close_code(code) {
            Ok(CloseCode(code))
        } else {
            Err(CloseCodeError { code })
        }
    }

    /// The numeric code.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// May `code` appear in a Close frame? (RFC 6455 §7.4.1, §7.4.2; see [`CloseCode`].)
pub const fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
