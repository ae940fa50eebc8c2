//! The certificate and private key that `start --useHttps --cert PATH`
//! serves: a PKCS#12 (.pfx) file opened with `--password`, as Core Tools
//! takes, or a PEM file with the chain and its key. The two are told apart
//! by content, not by the file's name (see docs/core-tools.md, "HTTPS").

use std::io::Read;
use std::path::Path;

use p12_keystore::error::Error as Pkcs12Error;
use p12_keystore::{Certificate, CertificateBag, Pkcs12Archive, PrivateKeyBag};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate chain, the server's own first, and its private key.
pub struct CertifiedKey {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// What `--password VALUE` stands for, as Core Tools reads it: the text of
/// the file VALUE names, trimmed, when there is such a file; else VALUE.
pub fn password(value: &str) -> Result<String, String> {
    let path = Path::new(value);
    if !path.is_file() {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| format!("--password {value}: cannot read the file: {e}"))
}

/// The chain and key in the file `path`: PEM when it holds a `-----BEGIN`
/// line, else PKCS#12 opened with `password` (none: the empty one).
pub fn read(path: &Path, password: Option<&str>) -> Result<CertifiedKey, String> {
    let shown = path.display();
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(LARGEST + 1).read_to_end(&mut data))
        .map_err(|e| format!("--cert {shown}: cannot read it: {e}"))?;
    if data.len() as u64 > LARGEST {
        return Err(format!(
            "--cert {shown}: over {LARGEST} bytes, which no certificate file is"
        ));
    }
    if data.windows(PEM_START.len()).any(|w| w == PEM_START) {
        if password.is_some() {
            return Err(format!(
                "--cert {shown}: a PEM file, which --password does not open: give its key unencrypted, or a .pfx"
            ));
        }
        return from_pem(&data).map_err(|e| format!("--cert {shown}: {e}"));
    }
    from_pkcs12(&data, password).map_err(|e| format!("--cert {shown}: {e}"))
}

const PEM_START: &[u8] = b"-----BEGIN ";

/// A certificate file's largest size: a long chain in PEM is some tens of
/// kilobytes; a larger file is the wrong one, and is not read whole.
const LARGEST: u64 = 16 * 1024 * 1024;

fn from_pem(data: &[u8]) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no CERTIFICATE in it".to_owned());
    }
    let key =
        PrivateKeyDer::from_pem_slice(data).map_err(|e| format!("no private key in it ({e})"))?;
    Ok(CertifiedKey { chain, key })
}

fn from_pkcs12(data: &[u8], password: Option<&str>) -> Result<CertifiedKey, String> {
    let archive = Pkcs12Archive::from_pkcs12(data, password.unwrap_or(""))
        .map_err(|e| pkcs12_error(&e, password.is_some()))?;
    if archive.keys.is_empty() {
        return Err("no private key in this PKCS#12 file".to_owned());
    }
    let (key, leaf) = matched(&archive)
        .ok_or_else(|| "no certificate for its private key in this PKCS#12 file".to_owned())?;
    Ok(CertifiedKey {
        chain: chain(leaf, &archive.certs)
            .into_iter()
            .map(|cert| CertificateDer::from(cert.as_der().to_vec()))
            .collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key.as_der().to_vec())),
    })
}

/// A key and its certificate: the two with the same local key id, as
/// openssl and .NET mark them; else a lone key and a lone certificate
/// (rustls checks that they belong together).
fn matched(archive: &Pkcs12Archive) -> Option<(&PrivateKeyBag, &Certificate)> {
    let by_id = archive.keys.iter().find_map(|key| {
        let id = key.local_key_id.as_ref()?;
        let cert = archive
            .certs
            .iter()
            .find(|cert| cert.local_key_id.as_deref() == Some(id.as_ref()))?;
        Some((key, &cert.cert))
    });
    match (by_id, archive.keys.as_slice(), archive.certs.as_slice()) {
        (Some(pair), _, _) => Some(pair),
        (None, [key], [cert]) => Some((key, &cert.cert)),
        _ => None,
    }
}

/// `leaf`, then its issuers among `certs` as far as they go.
fn chain<'a>(leaf: &'a Certificate, certs: &'a [CertificateBag]) -> Vec<&'a Certificate> {
    let mut chain = vec![leaf];
    let mut last = leaf;
    while last.issuer() != last.subject() {
        let issuer = certs
            .iter()
            .map(|bag| &bag.cert)
            .find(|cert| cert.subject() == last.issuer() && !chain.contains(cert));
        let Some(issuer) = issuer else { break };
        chain.push(issuer);
        last = issuer;
    }
    chain
}

fn pkcs12_error(error: &Pkcs12Error, password_given: bool) -> String {
    let hint = if password_given {
        ""
    } else {
        " (give its password with --password)"
    };
    match error {
        // The integrity check is keyed with the password.
        Pkcs12Error::MacError(_) => format!("the password does not open it{hint}"),
        // A file with no integrity check, decrypted with a wrong password.
        Pkcs12Error::UnpadError => format!("cannot decrypt it with this password{hint}"),
        Pkcs12Error::UnsupportedEncryptionScheme | Pkcs12Error::UnsupportedMacAlgorithm => {
            format!("{error}: export it again with `openssl pkcs12 -export` (AES-256)")
        }
        _ => format!("neither PEM nor a PKCS#12 (.pfx) file cargo azfunc can read ({error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};

    #[test]
    fn a_password_is_the_text_of_the_file_it_names_else_itself() {
        let dir = tempfile::tempdir().expect("a directory");
        let file = dir.path().join("password.txt");
        std::fs::write(&file, "  in a file \n").expect("written");
        let named = file.display().to_string();
        assert_eq!(password(&named).expect("read"), "in a file");
        let missing = dir.path().join("nothing-here").display().to_string();
        assert_eq!(password(&missing).expect("as given"), missing);
        assert_eq!(password("plain").expect("as given"), "plain");
    }

    #[test]
    fn the_chain_served_is_the_keys_certificate_then_its_issuers() {
        let ca_key = rcgen::KeyPair::generate().expect("a key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test CA");
        let ca = ca_params.self_signed(&ca_key).expect("a CA");
        let key = rcgen::KeyPair::generate().expect("a key");
        let params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
        let leaf = params.signed_by(&key, &ca, &ca_key).expect("a certificate");

        let certs = [leaf.der(), ca.der()]
            .map(|der| p12_keystore::Certificate::from_der(der).expect("a certificate"));
        let chain = PrivateKeyChain::new(
            b"id".as_slice(),
            PrivateKey::from_der(&key.serialize_der()).expect("PKCS#8"),
            certs,
        );
        let mut store = KeyStore::new();
        store.add_entry("localhost", KeyStoreEntry::PrivateKeyChain(chain));
        let pfx = store.writer("pw").write().expect("PKCS#12");

        let read = from_pkcs12(&pfx, Some("pw")).expect("read");
        let served: Vec<&[u8]> = read.chain.iter().map(|cert| cert.as_ref()).collect();
        assert_eq!(served, [leaf.der().as_ref(), ca.der().as_ref()]);
        assert_eq!(read.key.secret_der(), key.serialize_der().as_slice());
        let Err(error) = from_pkcs12(&pfx, Some("other")) else {
            panic!("a wrong password opened it");
        };
        assert_eq!(error, "the password does not open it");
    }
}
