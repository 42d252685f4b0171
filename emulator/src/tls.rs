//! HTTPS for `--tls DIR`: a test CA made at start-up (written to `DIR/ca.pem`, for clients to
//! trust) and a certificate for `localhost` and `127.0.0.1` signed by it. Both live a day; the
//! keys never leave the process.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Makes the CA and the server certificate, writes the CA to `dir/ca.pem`, and returns the
/// acceptor that serves with the server certificate.
pub fn acceptor(dir: &Path) -> Result<TlsAcceptor, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("--tls {}: {what}: {e}", dir.display());
    let now = time::OffsetDateTime::now_utc();
    let valid = (now - time::Duration::hours(1), now + time::Duration::days(1));

    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA parameters", &e))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "storetasks-emulator test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (ca.not_before, ca.not_after) = valid;
    let ca_key = KeyPair::generate().map_err(|e| fail("CA key", &e))?;
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| fail("CA certificate", &e))?;

    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| fail("server certificate parameters", &e))?;
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    (leaf.not_before, leaf.not_after) = valid;
    let leaf_key = KeyPair::generate().map_err(|e| fail("server key", &e))?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).map_err(|e| fail("server certificate", &e))?;

    std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the folder", &e))?;
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).map_err(|e| fail("cannot write ca.pem", &e))?;

    let chain = vec![CertificateDer::from(leaf_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| fail("server certificate", &e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
