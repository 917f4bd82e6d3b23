//! The proxy's configuration: the domains it is registrar and home proxy for, the listeners
//! it advertises (Via, Record-Route, Path), registration lifetimes (RFC 3261 §10.3 step 7),
//! bounds on the bindings it keeps, the flow-token secret (RFC 5626 §5.2), the Outbound
//! (RFC 5626) and GRUU (RFC 5627) switches and digest authentication (RFC 3261 §22).

use super::Listener;
use super::auth::AuthConfig;
use crate::sip::Host;
use crate::transport::{Transport, WssParamStyle};

/// Registration lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Used when the REGISTER gives none.
    pub default: u32,
    /// Shorter non-zero requests get 423 (RFC 3261 §10.3 step 7).
    pub min: u32,
    /// Longer requests are shortened to this.
    pub max: u32,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            default: 3600,
            min: 60,
            max: 86400,
        }
    }
}

/// How many bindings the registrar holds, so that an open registrar cannot be made to grow
/// without bound by one peer. A REGISTER that would exceed a limit changes nothing and gets
/// 503 (the registrar cannot take more now; RFC 3261 §21.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingLimits {
    /// Contacts of one AoR.
    pub per_aor: usize,
    /// Bindings, of any AoRs, whose flow is one connection (or one UDP peer).
    pub per_flow: usize,
}

impl Default for BindingLimits {
    fn default() -> Self {
        BindingLimits {
            per_aor: 32,
            per_flow: 1000,
        }
    }
}

/// The proxy's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Domains we are the registrar and home proxy for (AoR hosts).
    pub domains: Vec<String>,
    /// Our listeners, as advertised in Via, Record-Route and Path.
    pub listeners: Vec<Listener>,
    /// How a WSS hop is written in URIs we emit (RFC 7118 `transport=ws` by default).
    pub wss_param_style: WssParamStyle,
    pub expires: Expiry,
    pub bindings: BindingLimits,
    /// The key of flow tokens and temporary GRUUs: random at every start.
    pub secret: Vec<u8>,
    pub outbound: bool,
    pub gruu: bool,
    /// SIP digest authentication (RFC 3261 §22), credentials loaded; `None`: off.
    pub auth: Option<AuthConfig>,
}

impl Config {
    /// The deployment of the RFC 7118 §8 examples: `proxy.example.com`, serving the domain
    /// `example.com`, UDP and TCP on 5060, TLS on 5061, WS on 80, WSS on 443, WSS hops written
    /// `transport=ws` as RFC 7118 does. With a fixed `secret` its flow tokens are reproducible,
    /// which the tests and the test vectors rely on.
    pub fn rfc7118_example(secret: &[u8]) -> Config {
        let l = |transport, port| Listener {
            transport,
            host: Host::Domain("proxy.example.com".into()),
            port,
        };
        Config {
            domains: vec!["example.com".into()],
            listeners: vec![
                l(Transport::Udp, 5060),
                l(Transport::Tcp, 5060),
                l(Transport::Tls, 5061),
                l(Transport::Ws, 80),
                l(Transport::Wss, 443),
            ],
            wss_param_style: WssParamStyle::Rfc7118,
            expires: Expiry::default(),
            bindings: BindingLimits::default(),
            secret: secret.to_vec(),
            outbound: true,
            gruu: true,
            auth: None,
        }
    }

    pub fn listener(&self, t: Transport) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.transport == t)
    }

    /// A host we answer for: one of our domains or a listener's host.
    pub fn is_our_domain(&self, host: &Host) -> bool {
        // Domains are compared as hosts, so `127.0.0.1` as a domain matches an IPv4 host.
        self.domains
            .iter()
            .any(|d| Host::parse(d).is_ok_and(|h| h.matches(host)))
            || self.listeners.iter().any(|l| l.host.matches(host))
    }
}
