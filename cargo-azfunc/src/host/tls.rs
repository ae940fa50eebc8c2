//! The front door over TLS, as `func start --useHttps` serves it: a
//! certificate made at start (a local CA and a `localhost` certificate it
//! signs), or the one `--cert` names (PKCS#12 or PEM). The handler is told to trust the local CA
//! through `SSL_CERT_FILE`, a bundle of that CA and the platform's roots,
//! so that its durableClient can call the management API over https (see
//! docs/durable.md, "Clients (`durableClient`)").

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::host::certificate_file::{self, CertifiedKey};

/// The environment variable rustls-native-certs (and OpenSSL) read a
/// bundle of trusted roots from.
pub const TRUST_VARIABLE: &str = "SSL_CERT_FILE";

/// What the front door serves TLS with.
#[derive(Clone)]
pub struct FrontDoorTls {
    pub(crate) acceptor: TlsAcceptor,
    /// With a certificate made at start: the bundle the handler is told to
    /// trust (the local CA, then the platform's roots).
    pub trust_file: Option<PathBuf>,
}

impl FrontDoorTls {
    /// A local CA and a certificate for `localhost` and `127.0.0.1` it
    /// signs, the bundle to trust written to the temporary directory.
    pub fn self_signed() -> Result<FrontDoorTls, String> {
        let failed = |e: rcgen::Error| format!("cannot make a certificate for --useHttps: {e}");
        let ca_key = rcgen::KeyPair::generate().map_err(failed)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "cargo-azfunc local CA");
        let ca = ca_params.self_signed(&ca_key).map_err(failed)?;
        let key = rcgen::KeyPair::generate().map_err(failed)?;
        let params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(failed)?;
        let cert = params.signed_by(&key, &ca, &ca_key).map_err(failed)?;

        let trust_file = trust_file_path();
        let mut bundle = ca.pem();
        // The handler's other https calls keep the roots they had.
        for root in rustls_native_certs::load_native_certs().certs {
            bundle.push_str(&pem("CERTIFICATE", &root));
        }
        std::fs::write(&trust_file, bundle)
            .map_err(|e| format!("cannot write {}: {e}", trust_file.display()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let chain = vec![cert.der().clone(), ca.der().clone()];
        Ok(FrontDoorTls {
            acceptor: acceptor(chain, key)?,
            trust_file: Some(trust_file),
        })
    }

    /// What the handler's environment gets: `SSL_CERT_FILE` naming the
    /// bundle, with a certificate made at start.
    pub fn handler_env(&self) -> Vec<(String, String)> {
        self.trust_file
            .iter()
            .map(|file| (TRUST_VARIABLE.to_owned(), file.display().to_string()))
            .collect()
    }

    /// The certificate chain and private key in the file `path`: PKCS#12
    /// opened with `password`, or PEM (see [`certificate_file::read`]).
    pub fn from_file(path: &Path, password: Option<&str>) -> Result<FrontDoorTls, String> {
        let CertifiedKey { chain, key } = certificate_file::read(path, password)?;
        let acceptor =
            acceptor(chain, key).map_err(|e| format!("--cert {}: {e}", path.display()))?;
        Ok(FrontDoorTls {
            acceptor,
            trust_file: None,
        })
    }
}

impl std::fmt::Debug for FrontDoorTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontDoorTls")
            .field("trust_file", &self.trust_file)
            .finish_non_exhaustive()
    }
}

/// Removes the trust bundle when `start` ends, however it ends.
pub struct TrustFileGuard(pub PathBuf);

impl Drop for TrustFileGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, String> {
    // ring, as in the library: it builds with no C toolchain but cc (and
    // musl-gcc), where aws-lc-rs wants more; rustls deprecates it for its
    // lack of post-quantum key exchange, which a local front door and a
    // test certificate do not need.
    #[allow(deprecated)]
    let provider = ring::default_provider();
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not serve TLS: {e}"))?;
    // The front door speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A file of its own for every certificate this process makes.
fn trust_file_path() -> PathBuf {
    static MADE: AtomicU32 = AtomicU32::new(0);
    let n = MADE.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("cargo-azfunc-{}-{n}-trust.pem", std::process::id()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = crate::dotnet::base64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::pki_types::pem::PemObject;

    #[test]
    fn the_bundle_is_pem_certificates_named_in_the_handlers_environment() {
        let tls = FrontDoorTls::self_signed().expect("a certificate");
        let file = tls.trust_file.clone().expect("a trust file");
        let _removed = TrustFileGuard(file.clone());
        let text = std::fs::read_to_string(&file).expect("written");
        let roots: Vec<_> = CertificateDer::pem_slice_iter(text.as_bytes())
            .collect::<Result<_, _>>()
            .expect("PEM certificates");
        assert!(!roots.is_empty());
        assert_eq!(
            tls.handler_env(),
            vec![(TRUST_VARIABLE.to_owned(), file.display().to_string())]
        );
        let again = FrontDoorTls::self_signed().expect("a certificate");
        let _also_removed = TrustFileGuard(again.trust_file.clone().expect("a file"));
        assert_ne!(again.trust_file, tls.trust_file);
    }

    #[test]
    fn a_given_pem_needs_both_a_certificate_and_its_key() {
        let dir = tempfile::tempdir().expect("a directory");
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("a certificate");
        let both = dir.path().join("both.pem");
        let cert_only = dir.path().join("cert.pem");
        let key_only = dir.path().join("key.pem");
        std::fs::write(&both, made.cert.pem() + &made.key_pair.serialize_pem()).expect("written");
        std::fs::write(&cert_only, made.cert.pem()).expect("written");
        std::fs::write(&key_only, made.key_pair.serialize_pem()).expect("written");

        let tls = FrontDoorTls::from_file(&both, None).expect("served");
        assert!(tls.handler_env().is_empty());
        let error = FrontDoorTls::from_file(&cert_only, None).expect_err("refused");
        assert!(error.contains("no private key"), "{error}");
        assert!(error.contains("cert.pem"), "{error}");
        let error = FrontDoorTls::from_file(&key_only, None).expect_err("refused");
        assert!(error.contains("no CERTIFICATE"), "{error}");
        let error =
            FrontDoorTls::from_file(&dir.path().join("missing.pem"), None).expect_err("refused");
        assert!(error.contains("missing.pem"), "{error}");
    }
}
