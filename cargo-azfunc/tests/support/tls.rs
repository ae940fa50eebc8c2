//! A caller of the front door over TLS that trusts only the roots it is
//! given, as a browser trusts a development certificate once installed.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// A reply over TLS, and the certificate the server showed.
pub struct TlsReply {
    pub status: u16,
    pub body: String,
    pub certificate: Vec<u8>,
}

/// `GET path` on `localhost:port` over TLS, trusting the PEM certificates
/// in `trust`; the error if the connection, the handshake or the exchange
/// fails.
pub async fn get(trust: &Path, port: u16, path: &str) -> Result<TlsReply, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(trust).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    #[allow(deprecated)]
    let provider = tokio_rustls::rustls::crypto::ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("the handshake failed: {e}"))?;
    let certificate = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| cert.to_vec())
        .unwrap_or_default();
    let head =
        format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    // A server that closes without close_notify still sent its reply.
    let _ = tls.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no whole reply: {reply:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    Ok(TlsReply {
        status,
        body: body.to_owned(),
        certificate,
    })
}

/// [`get`] again and again until it answers `200`, at most `limit`.
pub async fn get_when_up(
    trust: &Path,
    port: u16,
    path: &str,
    limit: Duration,
) -> Result<TlsReply, String> {
    let started = Instant::now();
    loop {
        let last = match tokio::time::timeout(Duration::from_secs(30), get(trust, port, path)).await
        {
            Ok(Ok(reply)) if reply.status == 200 => return Ok(reply),
            Ok(Ok(reply)) => format!("{} {}", reply.status, reply.body),
            Ok(Err(e)) => e,
            Err(_) => "no reply in 30 s".to_owned(),
        };
        if started.elapsed() > limit {
            return Err(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
