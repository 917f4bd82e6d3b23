//! Where a [`Target`] goes on the network, without DNS.
//!
//! The reference server resolves only what needs no lookup: IP literals, and `localhost`
//! (RFC 6761 §6.3: resolves to loopback without asking a name server; we use `127.0.0.1`).
//! Every other name is a delivery failure: no query ever leaves the machine, so a test never
//! depends on a resolver and a `.invalid` host (RFC 7118 Appendix B.1) is never looked up.
//! RFC 3263 (NAPTR/SRV) is out of scope for the reference server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use thiserror::Error;

use crate::proxy::Target;
use crate::sip::Host;

/// Why a target has no address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    #[error("host {0} would need DNS, which the reference server never uses")]
    NeedsDns(String),
}

/// The socket address of `target`: IP literals as they are, `localhost` as `127.0.0.1`.
pub fn resolve(target: &Target) -> Result<SocketAddr, ResolveError> {
    let ip = match &target.host {
        Host::Ipv4(a) => IpAddr::V4(*a),
        Host::Ipv6(a) => IpAddr::V6(*a),
        Host::Domain(d) => {
            let d = d.strip_suffix('.').unwrap_or(d);
            if d.eq_ignore_ascii_case("localhost") {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                return Err(ResolveError::NeedsDns(d.to_string()));
            }
        }
    };
    Ok(SocketAddr::new(ip, target.port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::Dialable;

    fn target(host: &str, port: u16) -> Target {
        Target {
            transport: Dialable::Udp,
            host: Host::parse(host).expect("test host parses"),
            port,
        }
    }

    #[test]
    fn literals_and_localhost_resolve() {
        assert_eq!(
            resolve(&target("192.0.2.1", 5060)),
            Ok("192.0.2.1:5060".parse().expect("literal"))
        );
        assert_eq!(
            resolve(&target("[::1]", 5070)),
            Ok("[::1]:5070".parse().expect("literal"))
        );
        assert_eq!(
            resolve(&target("LocalHost", 5060)),
            Ok("127.0.0.1:5060".parse().expect("literal"))
        );
        assert_eq!(
            resolve(&target("localhost.", 1)),
            Ok("127.0.0.1:1".parse().expect("literal"))
        );
    }

    #[test]
    fn req_7118_b_1_a_names_are_never_resolved() {
        for name in ["example.com", "df7jal23ls0d.invalid", "localhost.example"] {
            assert!(matches!(
                resolve(&target(name, 5060)),
                Err(ResolveError::NeedsDns(_))
            ));
        }
    }
}
