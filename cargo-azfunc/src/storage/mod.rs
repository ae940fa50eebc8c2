//! Azure Storage's queue and blob REST calls, signed with Shared Key, for
//! the storage an app's connection string names (Azurite's
//! `UseDevelopmentStorage=true` or an account's). Only plain-HTTP
//! endpoints: cargo-azfunc has no TLS client, so an `https` account is refused
//! with that reason.

pub mod queue_feed;
mod queues;
mod xml;

pub use queues::{Message, parse_messages};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;

use crate::dotnet::base64;
use crate::query::percent_encode;
use crate::timers::clock::{Civil, UtcTime};
use xml::tag;

/// Azurite's well-known development account.
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const VERSION: &str = "2021-08-06";

/// An account and where its queue and blob services listen.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    key: Vec<u8>,
    /// e.g. `http://127.0.0.1:10001/devstoreaccount1`, no trailing slash.
    pub queue_endpoint: String,
    pub blob_endpoint: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Account {
    /// Reads a storage connection string: `UseDevelopmentStorage=true`, or
    /// `AccountName=...;AccountKey=...` with `DefaultEndpointsProtocol` and
    /// `EndpointSuffix`, or explicit `QueueEndpoint`/`BlobEndpoint`.
    pub fn from_connection_string(text: &str) -> Result<Account, String> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not KEY=VALUE"))?;
            fields.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let development =
            get("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let (name, key) = if development {
            (DEV_ACCOUNT.to_owned(), DEV_KEY.to_owned())
        } else {
            (
                get("accountname").ok_or("the connection string has no AccountName")?,
                get("accountkey").ok_or("the connection string has no AccountKey")?,
            )
        };
        let key = base64::decode(&key).ok_or("its AccountKey is not base64")?;
        let endpoint = |service: &str, port: u16| -> String {
            if let Some(explicit) = get(&format!("{service}endpoint")) {
                return explicit.trim_end_matches('/').to_owned();
            }
            if development {
                let proxy = get("developmentstorageproxyuri")
                    .unwrap_or_else(|| "http://127.0.0.1".to_owned());
                return format!("{}:{port}/{DEV_ACCOUNT}", proxy.trim_end_matches('/'));
            }
            let protocol = get("defaultendpointsprotocol").unwrap_or_else(|| "https".into());
            let suffix = get("endpointsuffix").unwrap_or_else(|| "core.windows.net".into());
            format!("{protocol}://{name}.{service}.{suffix}")
        };
        let queue_endpoint = endpoint("queue", 10001);
        let blob_endpoint = endpoint("blob", 10000);
        for url in [&queue_endpoint, &blob_endpoint] {
            if !url.starts_with("http://") {
                return Err(format!(
                    "{url}: cargo-azfunc talks to storage over plain HTTP only (Azurite); use UseDevelopmentStorage=true"
                ));
            }
        }
        Ok(Account {
            name,
            key,
            queue_endpoint,
            blob_endpoint,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }
}

impl Account {
    /// Writes a block blob at `path` (`container/name`), creating the
    /// container if missing.
    pub async fn put_blob(&self, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        let (container, _) = path
            .split_once('/')
            .filter(|(c, n)| !c.is_empty() && !n.is_empty())
            .ok_or_else(|| format!("blob path {path:?} is not container/name"))?;
        let url = format!("{}/{}", self.blob_endpoint, percent_encode_path(path));
        let headers = [("x-ms-blob-type", "BlockBlob")];
        let (mut status, mut body) = self.call("PUT", &url, &headers, bytes.clone()).await?;
        if status == 404 {
            let container_url = format!("{}/{container}?restype=container", self.blob_endpoint);
            let (created, reply) = self.call("PUT", &container_url, &[], Vec::new()).await?;
            if created != 201 && created != 409 {
                return Err(failure("create container", container, created, &reply));
            }
            (status, body) = self.call("PUT", &url, &headers, bytes).await?;
        }
        if status == 201 {
            Ok(())
        } else {
            Err(failure("write blob", path, status, &body))
        }
    }

    /// The blob at `path`, or `None` when there is none.
    pub async fn get_blob(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{}/{}", self.blob_endpoint, percent_encode_path(path));
        let (status, body) = self.call("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(failure("read blob", path, status, &body)),
        }
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let (status, _, body) = self.call_with_headers(method, url, headers, body).await?;
        Ok((status, body))
    }

    /// [`Account::call`] with the answer's headers.
    async fn call_with_headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, hyper::HeaderMap, Vec<u8>), String> {
        let date = rfc1123(UtcTime::now());
        let mut ms_headers: Vec<(String, String)> = vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
        ];
        ms_headers.extend(
            headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned())),
        );
        ms_headers.sort();
        let content_type = if body.is_empty() {
            ""
        } else {
            "application/octet-stream"
        };
        let signature = self.sign(method, url, body.len(), content_type, &ms_headers)?;
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (name, value) in &ms_headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let request = request
            .header("content-length", body.len())
            .header(
                "authorization",
                format!("SharedKey {}:{signature}", self.name),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot make a request to {url}: {e}"))?;
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.client.request(request),
        )
        .await
        .map_err(|_| format!("{method} {url}: no answer within 30 s"))?
        .map_err(|e| format!("{method} {url}: {e} (is Azurite running?)"))?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("{method} {url}: cannot read the answer: {e}"))?
            .to_bytes()
            .to_vec();
        Ok((status, parts.headers, body))
    }

    /// The Shared Key signature of a request (2015-02-21 and later: an
    /// empty body has an empty Content-Length).
    fn sign(
        &self,
        method: &str,
        url: &str,
        length: usize,
        content_type: &str,
        ms_headers: &[(String, String)],
    ) -> Result<String, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| format!("{url} is not a URL: {e}"))?;
        let length = if length == 0 {
            String::new()
        } else {
            length.to_string()
        };
        let mut text = format!("{method}\n\n\n{length}\n\n{content_type}\n\n\n\n\n\n\n");
        for (name, value) in ms_headers {
            text.push_str(&format!("{name}:{value}\n"));
        }
        text.push_str(&format!("/{}{}", self.name, uri.path()));
        let mut query: Vec<(String, String)> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_ascii_lowercase(), percent_decode(v))
            })
            .collect();
        query.sort();
        for (key, value) in query {
            text.push_str(&format!("\n{key}:{value}"));
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|e| format!("cannot sign with the account key: {e}"))?;
        mac.update(text.as_bytes());
        Ok(base64::encode(&mac.finalize().into_bytes()))
    }
}

pub(super) fn failure(what: &str, target: &str, status: u16, body: &[u8]) -> String {
    let body = String::from_utf8_lossy(body);
    let code = tag(&body, "Code").unwrap_or_default();
    format!("cannot {what} {target}: storage answered {status} {code}")
}

/// `Mon, 30 Nov 2026 20:00:00 GMT`
pub fn rfc1123(time: UtcTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = time.civil();
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[time.weekday() as usize % 7],
        c.day,
        MONTHS[(c.month as usize + 11) % 12],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// Reads an RFC 1123 date back; `None` when it is not one.
pub fn parse_rfc1123(text: &str) -> Option<UtcTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, _] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    Some(UtcTime::from_civil(Civil {
        year: year.parse().ok()?,
        month,
        day: day.parse().ok()?,
        hour,
        minute,
        second,
    }))
}

fn percent_encode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| percent_encode(segment, b""))
        .collect::<Vec<_>>()
        .join("/")
}

fn percent_decode(text: &str) -> String {
    crate::query::path_decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let time = UtcTime {
            unix: 1_796_000_000,
        };
        let text = rfc1123(time);
        assert_eq!(parse_rfc1123(&text), Some(time), "{text}");
        assert_eq!(
            rfc1123(UtcTime { unix: 0 }),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn connection_strings() {
        let dev = Account::from_connection_string("UseDevelopmentStorage=true").expect("dev");
        assert_eq!(
            dev.queue_endpoint,
            "http://127.0.0.1:10001/devstoreaccount1"
        );
        assert_eq!(dev.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        let error = Account::from_connection_string("AccountName=a;AccountKey=AAAA")
            .err()
            .unwrap_or_default();
        assert!(error.contains("plain HTTP only"), "{error}");
        let error = Account::from_connection_string("nonsense")
            .err()
            .unwrap_or_default();
        assert!(error.contains("is not KEY=VALUE"), "{error}");
    }
}
