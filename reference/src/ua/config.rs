//! The user agent's configuration: who it is, where it registers, over which WebSocket
//! transport, and the Outbound/GRUU identity it keeps across restarts.

use crate::sip::{Host, SipUri};
use crate::transport::{Transport, WssParamStyle};

use super::event::UaError;

/// The two transports a SIP WebSocket client speaks (RFC 7118 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsTransport {
    /// `ws://`: Via token `WS`.
    Ws,
    /// `wss://` (WebSocket over TLS): Via token `WSS`.
    Wss,
}

impl WsTransport {
    pub fn transport(self) -> Transport {
        match self {
            WsTransport::Ws => Transport::Ws,
            WsTransport::Wss => Transport::Wss,
        }
    }

    /// The Via transport token, exactly `WS` or `WSS` (7118-5.1-a).
    pub fn via_token(self) -> &'static str {
        self.transport().via_token()
    }
}

/// Digest credentials (RFC 3261 §22.2): the password is never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct UaCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for UaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UaCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Registration lifetime asked for when the configuration does not say (seconds).
pub const DEFAULT_EXPIRES: u32 = 600;

/// Everything a [`super::Ua`] needs to know before it sends anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaConfig {
    /// The address-of-record, `sip:alice@example.com`: From and To of REGISTER, From of
    /// every request; its user part is the Contact user.
    pub aor: SipUri,
    /// The REGISTER Request-URI: the registrar or domain (`sip:proxy.example.com` in RFC 7118
    /// §8.1 F3).
    pub registrar: SipUri,
    pub transport: WsTransport,
    /// The `+sip.instance` URN (`urn:uuid:...`), generated once with
    /// [`super::random::instance_urn`] and persisted by the caller (7118-B.1-b, 5626-4.1-a).
    pub instance: String,
    /// RFC 5626 `reg-id` of our one flow: 1 unless configured, the same across reboots and
    /// flow recoveries (5626-4.2.1-a, 4.5-a).
    pub reg_id: u32,
    /// Use Outbound (RFC 5626): `reg-id` in REGISTER, `outbound` in Supported, `;ob` on
    /// dialog Contacts, keep-alives. On by default.
    pub outbound: bool,
    /// `expires` asked for in REGISTER, `None` to leave it to the registrar (as RFC 7118 §8.1
    /// F3 does).
    pub expires: Option<u32>,
    pub display_name: Option<String>,
    /// A pre-loaded Route for requests outside a dialog: the outbound proxy, e.g.
    /// `sip:proxy.example.com:443;transport=ws;lr` as in RFC 7118 §8.2 F1.
    pub outbound_proxy: Option<SipUri>,
    /// The Via sent-by / Contact host. `None`: a random `<token>.invalid` chosen when the UA is
    /// created (RFC 7118 Appendix B.1).
    pub via_host: Option<String>,
    /// How the Contact URI names a WSS hop: `transport=ws` per RFC 7118 §5.2 (default) or
    /// `transport=wss` for peers that need it (spec/requirements.md A1).
    pub wss_param_style: WssParamStyle,
    /// Answer 401/407 challenges with these (RFC 3261 §22.2); `None`: a challenge fails the
    /// request.
    pub credentials: Option<UaCredentials>,
}

fn parse_uri(what: &'static str, text: &str) -> Result<SipUri, UaError> {
    SipUri::parse(text).map_err(|source| UaError::BadUri {
        what,
        text: text.to_string(),
        source,
    })
}

impl UaConfig {
    /// A configuration with the defaults: reg-id 1, Outbound on, expires 600, no display
    /// name, no outbound proxy, a random `.invalid` host, RFC 7118 `transport=ws`.
    pub fn new(
        aor: &str,
        registrar: &str,
        transport: WsTransport,
        instance: impl Into<String>,
    ) -> Result<UaConfig, UaError> {
        let config = UaConfig {
            aor: parse_uri("AoR", aor)?,
            registrar: parse_uri("registrar", registrar)?,
            transport,
            instance: instance.into(),
            reg_id: 1,
            outbound: true,
            expires: Some(DEFAULT_EXPIRES),
            display_name: None,
            outbound_proxy: None,
            via_host: None,
            wss_param_style: WssParamStyle::default(),
            credentials: None,
        };
        config.validate()?;
        Ok(config)
    }

    /// Pre-load this Route (the outbound proxy) on requests outside a dialog.
    pub fn with_outbound_proxy(mut self, uri: &str) -> Result<UaConfig, UaError> {
        self.outbound_proxy = Some(parse_uri("outbound proxy", uri)?);
        Ok(self)
    }

    /// Answer challenges with the AoR's user name and this password.
    pub fn with_password(mut self, password: &str) -> UaConfig {
        self.credentials = Some(UaCredentials {
            username: self.aor.user.clone().unwrap_or_default(),
            password: password.to_string(),
        });
        self
    }

    /// Check what the fields must hold; [`super::Ua::new`] calls it too.
    pub fn validate(&self) -> Result<(), UaError> {
        if self.aor.user.is_none() {
            return Err(UaError::AorWithoutUser(self.aor.to_string()));
        }
        // RFC 5626 §12: reg-id = 1*DIGIT, 1 to 2^31-1 (row 5626-10-a).
        if !(1..=0x7fff_ffff).contains(&self.reg_id) {
            return Err(UaError::BadRegId(self.reg_id));
        }
        // RFC 5626 §4.1: the instance is a URN, written inside `"<...>"`.
        let urn_ok = self
            .instance
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
            && self.instance.len() > 4
            && !self
                .instance
                .bytes()
                .any(|b| matches!(b, b'<' | b'>' | b'"' | b'\\') || b <= b' ' || b >= 0x7f);
        if !urn_ok {
            return Err(UaError::BadInstance(self.instance.clone()));
        }
        if let Some(h) = &self.via_host
            && !matches!(Host::parse(h), Ok(Host::Domain(_)))
        {
            return Err(UaError::BadViaHost(h.clone()));
        }
        if let Some(d) = &self.display_name
            && d.chars().any(char::is_control)
        {
            return Err(UaError::BadDisplayName(d.clone()));
        }
        // RFC 7118 §9.2 (7118-9.2-a): a sips: identity needs every hop secure.
        if (self.aor.secure || self.registrar.secure) && self.transport == WsTransport::Ws {
            return Err(UaError::InsecureTransport(self.registrar.to_string()));
        }
        Ok(())
    }
}
