//! What a `wss://` client trusts (RFC 6455 §4.1 connection step 5; RFC 7118 §9.1, rows
//! 6455-4.1-d and 7118-9.1-b): the server certificate is checked by the WebSocket (HTTPS)
//! rules — chain to a trusted CA, name = the URL host — never by RFC 5922 SIP-domain rules.
//!
//! The reference client carries no system trust store: it trusts the CA certificates it is
//! given ([`Trust::CaPem`], `--ca FILE`, e.g. the CA `sipws serve` generates). For a quick
//! look at a server whose certificate cannot be checked there is
//! [`Trust::InsecureAcceptAnyCertificate`] (`--insecure`), which skips the certificate check
//! (handshake signatures are still verified, so the TLS session itself is sound) and must
//! never be a default.
//!
//! TLS is rustls with the ring provider (no aws-lc-sys), ALPN `http/1.1` (the opening
//! handshake is HTTP/1.1), SNI = the URL host when it is a name (rustls sends no SNI for an
//! IP literal, RFC 6066 §3).

use std::fmt;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::error::ClientError;

/// Which server certificates a `wss://` client accepts.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// Certificates that chain to one of these CA certificates (PEM, one or more
    /// `CERTIFICATE` blocks) and name the URL host.
    CaPem(String),
    /// Any certificate at all (`sipws client --insecure`). For looking at a server whose
    /// certificate you cannot check; anyone on the path can read and change the traffic.
    InsecureAcceptAnyCertificate,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::CaPem(pem) => write!(f, "CaPem({} bytes)", pem.len()),
            Trust::InsecureAcceptAnyCertificate => f.write_str("InsecureAcceptAnyCertificate"),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for `trust` (also what the conformance probe uses, so the
/// suite and the client trust the same way).
pub fn client_config(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let tls = |e: rustls::Error| ClientError::Config(format!("TLS configuration: {e}"));
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    let mut config = match trust {
        Trust::CaPem(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| {
                    ClientError::Config(format!("the CA file is not PEM certificates: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    ClientError::Config(format!("a CA certificate cannot be a trust anchor: {e}"))
                })?;
            }
            if roots.is_empty() {
                return Err(ClientError::Config(
                    "the CA file holds no CERTIFICATE block".to_string(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::InsecureAcceptAnyCertificate => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InsecureAcceptAnyCertificate {
                provider: provider(),
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The server name for SNI and the certificate check: the URL host.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, ClientError> {
    ServerName::try_from(host.to_string())
        .map_err(|e| ClientError::Config(format!("{host:?} cannot be a TLS server name: {e}")))
}

/// Accepts every server certificate, whatever its issuer, name or dates. Only
/// [`Trust::InsecureAcceptAnyCertificate`] installs it. The handshake signatures are still
/// verified with the certificate's key, so the peer does hold the key of the certificate it
/// shows — it is just not known to be the server we asked for.
#[derive(Debug)]
struct InsecureAcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for InsecureAcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_a_configuration_error() {
        for pem in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let e = client_config(&Trust::CaPem(pem.to_string()));
            assert!(matches!(e, Err(ClientError::Config(_))), "{pem:?}: {e:?}");
        }
    }

    #[test]
    fn a_generated_ca_and_insecure_mode_build_configs_with_alpn() {
        let m =
            crate::net::tls::load_or_generate(&Default::default(), &[]).expect("a CA is generated");
        let c = client_config(&Trust::CaPem(m.ca_pem)).expect("trusts the CA");
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let c = client_config(&Trust::InsecureAcceptAnyCertificate).expect("builds");
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(format!("{:?}", Trust::CaPem("x".into())).contains("1 bytes"));
    }

    #[test]
    fn server_names_come_from_the_url_host() {
        assert!(matches!(
            server_name("sip.example.test"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("::1"), Ok(ServerName::IpAddress(_))));
        assert!(server_name("bad name").is_err());
    }
}
