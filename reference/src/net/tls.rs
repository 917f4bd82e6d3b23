//! The WSS certificate: loaded from PEM files, or made at start-up.
//!
//! Without `tls.cert`/`tls.key`, a throw-away CA ("sipws reference CA") is generated and signs
//! a server certificate for `localhost`, `127.0.0.1`, `::1` and the advertised host. Clients
//! trust the CA certificate ([`TlsMaterial::ca_pem`], optionally written to a file). A CA
//! rather than a lone self-signed leaf, because WebPKI verifiers (rustls, browsers) refuse a
//! CA certificate used as an end-entity and some refuse a leaf as a trust anchor.
//!
//! TLS is rustls with the ring provider (no aws-lc-sys), TLS 1.2 and 1.3, ALPN `http/1.1`
//! (the WebSocket handshake is HTTP/1.1, RFC 6455 §4.1). Nothing is weakened: the protocol
//! versions are rustls's safe defaults (`with_safe_default_protocol_versions`: no SSL, no TLS
//! 1.0/1.1), the cipher suites and key exchange groups those of the ring provider, no client
//! certificates are asked for.
//!
//! **Reload.** The certificate and key are read once, at start-up; there is no reload on a
//! signal. Renewing a certificate means restarting the server (`sipws serve` with the same
//! `--cert/--key`): connections open at that moment are closed (Close 1001) and clients
//! reconnect and re-register (RFC 5626 §4.4 flow recovery).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::NetError;
use super::config::TlsConfig;

/// What the WSS listener serves and what clients should trust.
pub struct TlsMaterial {
    pub server_config: Arc<rustls::ServerConfig>,
    /// PEM of the certificate clients should trust: the generated CA, or the given chain's
    /// last certificate.
    pub ca_pem: String,
    /// Was the certificate generated here?
    pub generated: bool,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

/// Loads the configured certificate or generates one for `names` (plus the loopback names).
pub fn load_or_generate(cfg: &TlsConfig, names: &[String]) -> Result<TlsMaterial, NetError> {
    let (chain, key, ca_pem, generated) = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| NetError::Certificate(format!("{}: {e}", cert.display())))?;
            let Some(last) = chain.last() else {
                return Err(NetError::Certificate(format!(
                    "{}: no CERTIFICATE in the file",
                    cert.display()
                )));
            };
            let ca_pem = pem_encode("CERTIFICATE", last.as_ref());
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| NetError::Certificate(format!("{}: {e}", key.display())))?;
            (chain, key, ca_pem, false)
        }
        (None, None) => {
            let g = generate(names)?;
            (vec![g.leaf], g.key, g.ca_pem, true)
        }
        _ => {
            return Err(NetError::Config(
                "tls.cert and tls.key go together".to_string(),
            ));
        }
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        server_config: Arc::new(config),
        ca_pem,
        generated,
    })
}

struct Generated {
    leaf: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    ca_pem: String,
}

fn cert_error(e: rcgen::Error) -> NetError {
    NetError::Certificate(e.to_string())
}

/// A fresh CA and a server certificate it signs, for the loopback names and `names`.
fn generate(names: &[String]) -> Result<Generated, NetError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "sipws reference CA (generated)");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut sans = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for n in names {
        let n = n.trim_start_matches('[').trim_end_matches(']').to_string();
        if !sans.iter().any(|s| s.eq_ignore_ascii_case(&n)) {
            sans.push(n);
        }
    }
    let mut leaf_params = CertificateParams::new(sans).map_err(cert_error)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "sipws reference server");
    leaf_params.distinguished_name = dn;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(cert_error)?;
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(cert_error)?;
    Ok(Generated {
        leaf: leaf.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        ca_pem: ca_cert.pem(),
    })
}

/// A generated CA and the server certificate and key it signed, as PEM text.
#[derive(Clone)]
pub struct GeneratedPem {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// The certificate `sipws serve` makes for itself, as PEM files' contents, for another
/// server to use (the interop tests give it to Kamailio) while our clients trust `ca_pem`.
pub fn generate_pem(names: &[String]) -> Result<GeneratedPem, NetError> {
    let g = generate(names)?;
    Ok(GeneratedPem {
        ca_pem: g.ca_pem,
        cert_pem: pem_encode("CERTIFICATE", g.leaf.as_ref()),
        key_pem: pem_encode("PRIVATE KEY", g.key.secret_der()),
    })
}

/// RFC 7468 textual encoding.
fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // The base64 alphabet is ASCII, so every chunk is UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_builds_a_server_config_and_a_trustable_ca() {
        let m = load_or_generate(&TlsConfig::default(), &["sip.example.test".into()])
            .expect("generation works");
        assert!(m.generated);
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let ca = CertificateDer::from_pem_slice(m.ca_pem.as_bytes()).expect("CA PEM parses");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).expect("the CA is a valid trust anchor");
    }

    #[test]
    fn generated_pem_is_a_loadable_pair_under_its_ca() {
        let g = generate_pem(&[]).expect("generation works");
        let dir = std::env::temp_dir().join(format!("sipws-tls-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &g.cert_pem).expect("write");
        std::fs::write(&key, &g.key_pem).expect("write");
        let cfg = TlsConfig {
            cert: Some(cert),
            key: Some(key),
            generated_ca: None,
        };
        let m = load_or_generate(&cfg, &[]);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(m.is_ok(), "the key matches the certificate");
        let ca = CertificateDer::from_pem_slice(g.ca_pem.as_bytes()).expect("CA PEM parses");
        assert_ne!(
            ca.as_ref(),
            CertificateDer::from_pem_slice(g.cert_pem.as_bytes())
                .expect("parses")
                .as_ref()
        );
    }

    /// An in-memory handshake with a client limited to `version`; the version agreed.
    fn handshake_with(
        m: &TlsMaterial,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> Option<rustls::ProtocolVersion> {
        let ca = CertificateDer::from_pem_slice(m.ca_pem.as_bytes()).expect("CA PEM");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).expect("a trust anchor");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .expect("the version")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
        let mut client = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let mut server = rustls::ServerConnection::new(m.server_config.clone()).expect("server");
        // Bounded: a TLS handshake takes a few flights.
        for _ in 0..10 {
            let mut buf = Vec::new();
            client.write_tls(&mut buf).ok()?;
            server.read_tls(&mut buf.as_slice()).ok()?;
            server.process_new_packets().ok()?;
            let mut buf = Vec::new();
            server.write_tls(&mut buf).ok()?;
            client.read_tls(&mut buf.as_slice()).ok()?;
            client.process_new_packets().ok()?;
            if !client.is_handshaking() && !server.is_handshaking() {
                return server.protocol_version();
            }
        }
        None
    }

    #[test]
    fn tls_1_2_and_1_3_clients_are_served_with_http_1_1_alpn() {
        let m = load_or_generate(&TlsConfig::default(), &[]).expect("generation works");
        assert_eq!(
            handshake_with(&m, &rustls::version::TLS13),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        assert_eq!(
            handshake_with(&m, &rustls::version::TLS12),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        assert_eq!(m.server_config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn pem_encoding_round_trips() {
        for der in [&b""[..], b"a", b"ab", b"abc", &[0xFF; 100]] {
            let pem = pem_encode("CERTIFICATE", der);
            let back = CertificateDer::from_pem_slice(pem.as_bytes());
            if der.is_empty() {
                continue;
            }
            assert_eq!(back.expect("parses").as_ref(), der);
        }
    }

    #[test]
    fn files_are_loaded_and_half_a_pair_is_refused() {
        let g = generate(&[]).expect("generation works");
        let dir = std::env::temp_dir().join(format!("sipws-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, pem_encode("CERTIFICATE", g.leaf.as_ref())).expect("write");
        std::fs::write(&key, pem_encode("PRIVATE KEY", g.key.secret_der())).expect("write");
        let cfg = TlsConfig {
            cert: Some(cert.clone()),
            key: Some(key),
            generated_ca: None,
        };
        let m = load_or_generate(&cfg, &[]).expect("loads");
        assert!(!m.generated);
        assert_eq!(
            m.ca_pem,
            pem_encode("CERTIFICATE", g.leaf.as_ref()),
            "the chain's last certificate is what clients trust"
        );
        let half = TlsConfig {
            cert: Some(cert),
            key: None,
            generated_ca: None,
        };
        assert!(load_or_generate(&half, &[]).is_err());
        let missing = TlsConfig {
            cert: Some(dir.join("nope.pem")),
            key: Some(dir.join("nope.key")),
            generated_ca: None,
        };
        assert!(matches!(
            load_or_generate(&missing, &[]),
            Err(NetError::Certificate(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
