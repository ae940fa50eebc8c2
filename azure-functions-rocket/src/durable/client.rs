//! The client an HTTP starter function gets from its `durableClient`
//! input: the Durable extension's HTTP management API, called over plain
//! HTTP/1.1.

use std::time::Duration;

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entity::EntityId;
use crate::error::Error;
use crate::http::HttpResponse;

/// How long one management call may take.
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// Replies larger than this are refused: statuses are small.
const REPLY_LIMIT: usize = 16 * 1024 * 1024;

/// A client for the orchestrations of the app's task hub, from a
/// `durableClient` input binding.
///
/// ```
/// use azure_functions_rocket::durable::DurableClient;
///
/// let binding = r#"{"taskHubName":"Hub","httpBaseUrl":"http://localhost:7071/runtime/webhooks/durabletask","requiredQueryStringParameters":"code=abc"}"#;
/// let client = DurableClient::from_binding(binding).unwrap();
/// let response = client.check_status_response("id-1");
/// assert_eq!(response.status, 202);
/// assert_eq!(
///     response.header("Location"),
///     Some("http://localhost:7071/runtime/webhooks/durabletask/instances/id-1?code=abc")
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableClient {
    /// The task hub's name.
    pub task_hub: String,
    /// The management API's base, e.g.
    /// `http://localhost:7071/runtime/webhooks/durabletask`.
    pub base_url: String,
    /// The query every call carries, usually `code=<system key>`.
    pub query: String,
}

/// An orchestration instance's status, as the management API reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    /// The orchestrator's name.
    #[serde(default)]
    pub name: String,
    /// The instance id.
    #[serde(default)]
    pub instance_id: String,
    /// `Pending`, `Running`, `Completed`, `Failed`, `Terminated`, ...
    #[serde(default)]
    pub runtime_status: String,
    /// Its input.
    #[serde(default)]
    pub input: Value,
    /// Its custom status.
    #[serde(default)]
    pub custom_status: Value,
    /// Its output, once done.
    #[serde(default)]
    pub output: Value,
    /// When it was created (ISO-8601).
    #[serde(default)]
    pub created_time: String,
    /// When it last changed (ISO-8601).
    #[serde(default)]
    pub last_updated_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Binding {
    #[serde(default)]
    task_hub_name: String,
    #[serde(default)]
    http_base_url: Option<String>,
    #[serde(default)]
    required_query_string_parameters: Option<String>,
}

/// A management call's reply: status and body.
struct ApiReply {
    status: u16,
    body: Vec<u8>,
}

impl DurableClient {
    /// Reads the binding's value: its JSON, inside as many JSON strings as
    /// the host wrapped it in.
    pub fn from_binding(value: &str) -> Result<DurableClient, Error> {
        let mut value: Value = serde_json::from_str(value)
            .map_err(|error| Error::invalid_json("durableClient binding", &error))?;
        while let Value::String(text) = &value {
            value = serde_json::from_str(text)
                .map_err(|error| Error::invalid_json("durableClient binding", &error))?;
        }
        let binding: Binding = serde_json::from_value(value)
            .map_err(|error| Error::invalid_json("durableClient binding", &error))?;
        let base_url = binding
            .http_base_url
            .filter(|url| !url.is_empty())
            .ok_or_else(|| Error::bad_request("the durableClient binding has no httpBaseUrl"))?;
        Ok(DurableClient {
            task_hub: binding.task_hub_name,
            base_url: base_url.trim_end_matches('/').to_owned(),
            query: binding.required_query_string_parameters.unwrap_or_default(),
        })
    }

    fn url(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut query: Vec<String> = Vec::new();
        if !self.query.is_empty() {
            query.push(self.query.clone());
        }
        for (name, value) in extra {
            query.push(format!("{name}={}", encode_component(value)));
        }
        if query.is_empty() {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}{path}?{}", self.base_url, query.join("&"))
        }
    }

    /// Starts orchestrator `name` with `input`, under `instance_id` or a
    /// new one: the instance id.
    pub async fn start_new<T: Serialize + ?Sized>(
        &self,
        name: &str,
        instance_id: Option<&str>,
        input: &T,
    ) -> Result<String, Error> {
        let path = match instance_id {
            Some(id) => format!(
                "/orchestrators/{}/{}",
                encode_component(name),
                encode_component(id)
            ),
            None => format!("/orchestrators/{}", encode_component(name)),
        };
        let body = serde_json::to_vec(input)
            .map_err(|error| Error::internal(format_args!("the input is not JSON: {error}")))?;
        let reply = call("POST", &self.url(&path, &[]), &body).await?;
        if reply.status != 202 {
            return Err(refused("start", &reply));
        }
        #[derive(Deserialize)]
        struct Started {
            id: String,
        }
        let started: Started = serde_json::from_slice(&reply.body)
            .map_err(|error| Error::invalid_json("start reply", &error))?;
        Ok(started.id)
    }

    /// The instance's status; `None` for an unknown id.
    pub async fn status(&self, instance_id: &str) -> Result<Option<InstanceStatus>, Error> {
        let path = format!("/instances/{}", encode_component(instance_id));
        let reply = call("GET", &self.url(&path, &[]), &[]).await?;
        match reply.status {
            404 => Ok(None),
            200 | 202 => serde_json::from_slice(&reply.body)
                .map(Some)
                .map_err(|error| Error::invalid_json("status reply", &error)),
            _ => Err(refused("status", &reply)),
        }
    }

    /// Raises event `name` with `data` on the instance.
    pub async fn raise_event<T: Serialize + ?Sized>(
        &self,
        instance_id: &str,
        name: &str,
        data: &T,
    ) -> Result<(), Error> {
        let path = format!(
            "/instances/{}/raiseEvent/{}",
            encode_component(instance_id),
            encode_component(name)
        );
        let body = serde_json::to_vec(data).map_err(|error| {
            Error::internal(format_args!("the event data is not JSON: {error}"))
        })?;
        let reply = call("POST", &self.url(&path, &[]), &body).await?;
        expect_accepted("raise event", &reply)
    }

    /// Terminates the instance, giving `reason`.
    pub async fn terminate(&self, instance_id: &str, reason: &str) -> Result<(), Error> {
        let path = format!("/instances/{}/terminate", encode_component(instance_id));
        let reply = call("POST", &self.url(&path, &[("reason", reason)]), &[]).await?;
        expect_accepted("terminate", &reply)
    }

    /// Deletes the instance's history: whether there was one.
    pub async fn purge(&self, instance_id: &str) -> Result<bool, Error> {
        let path = format!("/instances/{}", encode_component(instance_id));
        let reply = call("DELETE", &self.url(&path, &[]), &[]).await?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(refused("purge", &reply)),
        }
    }

    /// Signals `operation` on `entity` with `input` (none when it is
    /// `null`); the entity runs it later.
    pub async fn signal_entity<T: Serialize + ?Sized>(
        &self,
        entity: &EntityId,
        operation: &str,
        input: &T,
    ) -> Result<(), Error> {
        if entity.key().is_empty() {
            // The API reads `$` as the empty key only when reading state.
            return Err(Error::bad_request(
                "signal entity: the management API cannot address an entity with an empty key",
            ));
        }
        let path = entity_path(entity);
        let body = serde_json::to_vec(input)
            .map_err(|error| Error::internal(format_args!("the input is not JSON: {error}")))?;
        let body = if body == b"null" { Vec::new() } else { body };
        let reply = call("POST", &self.url(&path, &[("op", operation)]), &body).await?;
        match reply.status {
            200..=299 => Ok(()),
            _ => Err(refused("signal entity", &reply)),
        }
    }

    /// The entity's state as `T`; `None` when it has none.
    pub async fn read_entity_state<T: DeserializeOwned>(
        &self,
        entity: &EntityId,
    ) -> Result<Option<T>, Error> {
        let reply = call("GET", &self.url(&entity_path(entity), &[]), &[]).await?;
        match reply.status {
            404 => Ok(None),
            200 => serde_json::from_slice(&reply.body)
                .map(Some)
                .map_err(|error| Error::invalid_json("entity state", &error)),
            _ => Err(refused("read entity state", &reply)),
        }
    }

    /// The standard 202 "check status" response for the instance: its
    /// management URLs, `Location` and `Retry-After`.
    pub fn check_status_response(&self, instance_id: &str) -> HttpResponse {
        let id = encode_component(instance_id);
        let at = |suffix: &str| self.url(&format!("/instances/{id}{suffix}"), &[]);
        let body = serde_json::json!({
            "id": instance_id,
            "statusQueryGetUri": at(""),
            "sendEventPostUri": at("/raiseEvent/{eventName}"),
            "terminatePostUri": self.url(&format!("/instances/{id}/terminate"), &[]) + if self.query.is_empty() { "?reason={text}" } else { "&reason={text}" },
            "purgeHistoryDeleteUri": at(""),
            "restartPostUri": at("/restart"),
            "suspendPostUri": at("/suspend"),
            "resumePostUri": at("/resume"),
        });
        HttpResponse::new(202, body.to_string())
            .with_header("Content-Type", "application/json")
            .with_header("Location", at(""))
            .with_header("Retry-After", "10")
    }
}

/// `/entities/{name}/{key}`; an empty key is `$`, as the API reads it.
fn entity_path(entity: &EntityId) -> String {
    let key = if entity.key().is_empty() {
        "$".to_owned()
    } else {
        encode_component(entity.key())
    };
    format!("/entities/{}/{key}", encode_component(entity.name()))
}

fn expect_accepted(what: &str, reply: &ApiReply) -> Result<(), Error> {
    match reply.status {
        200..=299 => Ok(()),
        404 => Err(Error::not_found(format_args!("{what}: no such instance"))),
        _ => Err(refused(what, reply)),
    }
}

fn refused(what: &str, reply: &ApiReply) -> Error {
    let body = String::from_utf8_lossy(&reply.body);
    let body: String = body.chars().take(300).collect();
    let message = format!(
        "{what}: the management API answered {}: {body}",
        reply.status
    );
    match reply.status {
        400 => Error::BadRequest(message),
        404 => Error::NotFound(message),
        _ => Error::Unavailable(message),
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 request to an `http://` URL, the connection closed after.
async fn call(method: &str, url: &str, body: &[u8]) -> Result<ApiReply, Error> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        Error::unavailable(format_args!(
            "the management API is at {url}: only http:// URLs are supported"
        ))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&address).await?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut reply = Vec::new();
        (&mut stream)
            .take(u64::try_from(REPLY_LIMIT).unwrap_or(u64::MAX))
            .read_to_end(&mut reply)
            .await?;
        Ok::<_, std::io::Error>(reply)
    };
    let raw = rocket::tokio::time::timeout(CALL_LIMIT, exchange)
        .await
        .map_err(|_| {
            Error::unavailable(format_args!("{method} {url}: no reply in {CALL_LIMIT:?}"))
        })?
        .map_err(|error| Error::unavailable(format_args!("{method} {url}: {error}")))?;
    parse_reply(&raw)
        .ok_or_else(|| Error::unavailable(format_args!("{method} {url}: not an HTTP reply")))
}

/// The status and body of a whole HTTP/1.1 reply (length-delimited,
/// chunked, or up to the close).
fn parse_reply(raw: &[u8]) -> Option<ApiReply> {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value.trim().eq_ignore_ascii_case("chunked")
        {
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = rest;
        loop {
            let line_end = at.windows(2).position(|window| window == b"\r\n")?;
            let size_text = std::str::from_utf8(&at[..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at = at.get(line_end + 2..)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(at.get(..size)?);
            at = at.get(size + 2..)?;
        }
        body
    } else {
        match length {
            Some(length) => rest.get(..length)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(ApiReply { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_whatever_their_framing() {
        let reply =
            parse_reply(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (202, b"{}".as_slice())
        );
        let reply = parse_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (200, b"abcde".as_slice())
        );
        let reply = parse_reply(b"HTTP/1.1 404 Not Found\r\n\r\nnope").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (404, b"nope".as_slice())
        );
        assert!(parse_reply(b"garbage").is_none());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_none());
    }

    #[test]
    fn an_https_management_api_is_refused_with_the_reason() {
        let client = DurableClient {
            task_hub: "Hub".to_owned(),
            base_url: "https://app.example/runtime/webhooks/durabletask".to_owned(),
            query: "code=k".to_owned(),
        };
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime
            .block_on(client.start_new("chaining", None, &()))
            .unwrap_err();
        assert_eq!(error.status(), 503);
        assert!(
            error.message().contains("only http:// URLs are supported"),
            "{error:?}"
        );
    }

    #[test]
    fn the_binding_is_read_through_the_hosts_string_layers() {
        let inner = r#"{"taskHubName":"Hub","httpBaseUrl":"http://h:1/runtime/webhooks/durabletask/","requiredQueryStringParameters":""}"#;
        let wrapped = serde_json::to_string(&serde_json::to_string(inner).unwrap()).unwrap();
        let client = DurableClient::from_binding(&wrapped).unwrap();
        assert_eq!(client.base_url, "http://h:1/runtime/webhooks/durabletask");
        assert_eq!(client.task_hub, "Hub");
        let response = client.check_status_response("a b");
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(
            body["statusQueryGetUri"],
            "http://h:1/runtime/webhooks/durabletask/instances/a%20b"
        );
        assert_eq!(
            body["terminatePostUri"],
            "http://h:1/runtime/webhooks/durabletask/instances/a%20b/terminate?reason={text}"
        );
        assert_eq!(response.header("Retry-After"), Some("10"));
        assert!(DurableClient::from_binding(r#"{"taskHubName":"Hub"}"#).is_err());
        assert!(DurableClient::from_binding("not json").is_err());
    }
}
