//! Azure Storage's queue and blob REST calls, signed with Shared Key, for
//! the storage an app's connection string names (Azurite's
//! `UseDevelopmentStorage=true` or an account's). Only plain-HTTP
//! endpoints: cargo-azfunc has no TLS client, so an `https` account is refused
//! with that reason.

pub mod queue_feed;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;

use crate::dotnet::base64;
use crate::host::query::percent_encode;
use crate::timers::clock::{Civil, UtcTime};

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

/// One message as Get Messages returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub pop_receipt: String,
    pub dequeue_count: u32,
    pub insertion_time: UtcTime,
    pub expiration_time: UtcTime,
    pub next_visible_time: UtcTime,
    /// As stored (base64 when the writer encoded it).
    pub text: String,
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

    /// Creates `queue` unless it exists.
    pub async fn create_queue(&self, queue: &str) -> Result<(), String> {
        let url = format!("{}/{queue}", self.queue_endpoint);
        let (status, body) = self.call("PUT", &url, &[], Vec::new()).await?;
        match status {
            201 | 204 | 409 => Ok(()),
            _ => Err(failure("create queue", queue, status, &body)),
        }
    }

    /// Puts `text` (already encoded) on `queue`, creating it if missing.
    pub async fn put_message(&self, queue: &str, text: &str) -> Result<(), String> {
        let url = format!("{}/{queue}/messages", self.queue_endpoint);
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            xml_escape(text)
        );
        let (mut status, mut reply) = self
            .call("POST", &url, &[], body.clone().into_bytes())
            .await?;
        if status == 404 {
            self.create_queue(queue).await?;
            (status, reply) = self.call("POST", &url, &[], body.into_bytes()).await?;
        }
        if status == 201 {
            Ok(())
        } else {
            Err(failure("put a message on", queue, status, &reply))
        }
    }

    /// Gets up to `count` (1..=32) messages, hiding them for
    /// `visibility_seconds`; `None` when the queue does not exist.
    pub async fn get_messages(
        &self,
        queue: &str,
        count: u32,
        visibility_seconds: u64,
    ) -> Result<Option<Vec<Message>>, String> {
        let url = format!(
            "{}/{queue}/messages?numofmessages={}&visibilitytimeout={}",
            self.queue_endpoint,
            count.clamp(1, 32),
            visibility_seconds.max(1)
        );
        let (status, body) = self.call("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => parse_messages(&String::from_utf8_lossy(&body)).map(Some),
            404 => Ok(None),
            _ => Err(failure("get messages from", queue, status, &body)),
        }
    }

    /// How many messages `queue` holds, hidden ones included (the
    /// service's approximate count); `None` when it does not exist.
    pub async fn message_count(&self, queue: &str) -> Result<Option<u64>, String> {
        let url = format!("{}/{queue}?comp=metadata", self.queue_endpoint);
        let (status, headers, body) = self.call_with_headers("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => headers
                .get("x-ms-approximate-messages-count")
                .and_then(|count| count.to_str().ok())
                .and_then(|count| count.parse().ok())
                .map(Some)
                .ok_or_else(|| format!("queue {queue}'s metadata has no message count")),
            404 => Ok(None),
            _ => Err(failure("read the metadata of", queue, status, &body)),
        }
    }

    /// Reads up to 32 messages without dequeuing them.
    pub async fn peek_messages(&self, queue: &str) -> Result<Vec<Message>, String> {
        let url = format!(
            "{}/{queue}/messages?numofmessages=32&peekonly=true",
            self.queue_endpoint
        );
        let (status, body) = self.call("GET", &url, &[], Vec::new()).await?;
        match status {
            200 => parse_messages(&String::from_utf8_lossy(&body)),
            404 => Ok(Vec::new()),
            _ => Err(failure("peek at", queue, status, &body)),
        }
    }

    pub async fn delete_message(&self, queue: &str, message: &Message) -> Result<(), String> {
        let url = format!(
            "{}/{queue}/messages/{}?popreceipt={}",
            self.queue_endpoint,
            message.id,
            percent_encode(&message.pop_receipt, b"")
        );
        let (status, body) = self.call("DELETE", &url, &[], Vec::new()).await?;
        match status {
            204 | 404 => Ok(()),
            _ => Err(failure("delete a message from", queue, status, &body)),
        }
    }

    /// Makes a dequeued message visible again after `visibility_seconds`.
    pub async fn release_message(
        &self,
        queue: &str,
        message: &Message,
        visibility_seconds: u64,
    ) -> Result<(), String> {
        self.update_visibility(queue, message, visibility_seconds)
            .await
            .map(|_| ())
    }

    /// Update Message: hides a dequeued message for `visibility_seconds`
    /// from now. Storage answers with a new pop receipt that replaces the
    /// old one for every later call on the message; `None` when the message
    /// is gone.
    pub async fn update_visibility(
        &self,
        queue: &str,
        message: &Message,
        visibility_seconds: u64,
    ) -> Result<Option<String>, String> {
        let url = format!(
            "{}/{queue}/messages/{}?popreceipt={}&visibilitytimeout={visibility_seconds}",
            self.queue_endpoint,
            message.id,
            percent_encode(&message.pop_receipt, b"")
        );
        let (status, headers, body) = self.call_with_headers("PUT", &url, &[], Vec::new()).await?;
        match status {
            204 => headers
                .get("x-ms-popreceipt")
                .and_then(|value| value.to_str().ok())
                .map(|receipt| Some(receipt.to_owned()))
                .ok_or_else(|| {
                    format!("cannot update the visibility of a message on {queue}: storage answered 204 without a new pop receipt")
                }),
            404 => Ok(None),
            _ => Err(failure(
                "update the visibility of a message on",
                queue,
                status,
                &body,
            )),
        }
    }

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

fn failure(what: &str, target: &str, status: u16, body: &[u8]) -> String {
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

/// The text of the first `<name>` element in `xml`, unescaped.
fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..end]))
}

/// The messages of a Get or Peek Messages answer.
pub fn parse_messages(xml: &str) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    for chunk in xml.split("<QueueMessage>").skip(1) {
        let field = |name: &str| {
            tag(chunk, name).ok_or_else(|| format!("a queue message without {name}: {chunk}"))
        };
        let time = |name: &str| -> Result<UtcTime, String> {
            match tag(chunk, name) {
                None => Ok(UtcTime::now()),
                Some(text) => {
                    parse_rfc1123(&text).ok_or_else(|| format!("{name} {text:?} is not a date"))
                }
            }
        };
        messages.push(Message {
            id: field("MessageId")?,
            // Peeked messages have no pop receipt.
            pop_receipt: tag(chunk, "PopReceipt").unwrap_or_default(),
            dequeue_count: field("DequeueCount")?
                .parse()
                .map_err(|_| "a DequeueCount that is not a number".to_owned())?,
            insertion_time: time("InsertionTime")?,
            expiration_time: time("ExpirationTime")?,
            next_visible_time: time("TimeNextVisible")?,
            text: field("MessageText")?,
        });
    }
    Ok(messages)
}

pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn percent_encode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| percent_encode(segment, b""))
        .collect::<Vec<_>>()
        .join("/")
}

fn percent_decode(text: &str) -> String {
    crate::host::query::path_decode(text)
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

    #[test]
    fn messages_from_xml() {
        let xml = "<?xml version=\"1.0\"?><QueueMessagesList><QueueMessage><MessageId>m1</MessageId><InsertionTime>Thu, 01 Jan 1970 00:00:10 GMT</InsertionTime><ExpirationTime>Thu, 01 Jan 1970 00:01:00 GMT</ExpirationTime><PopReceipt>p/1</PopReceipt><TimeNextVisible>Thu, 01 Jan 1970 00:00:40 GMT</TimeNextVisible><DequeueCount>3</DequeueCount><MessageText>a &amp; &lt;b&gt;</MessageText></QueueMessage></QueueMessagesList>";
        let messages = parse_messages(xml).expect("parses");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].text, "a & <b>");
        assert_eq!(messages[0].dequeue_count, 3);
        assert_eq!(messages[0].insertion_time, UtcTime { unix: 10 });
        assert_eq!(messages[0].pop_receipt, "p/1");
    }
}
