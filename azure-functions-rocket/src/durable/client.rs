//! The client an HTTP starter function gets from its `durableClient`
//! input: the Durable extension's HTTP management API, at the binding's
//! base URL (`https://` needs the `durable-https` feature).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entity::EntityId;
use super::management_call::{ApiReply, call};
use crate::error::Error;
use crate::http::HttpResponse;

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
///     Some("http://localhost:7071/runtime/webhooks/durabletask/instances/id-1?taskHub=Hub&connection=Storage&code=abc")
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
    /// The task hub's connection setting, as the check-status URLs name
    /// it: the binding's `connectionName`, else `Storage`.
    pub connection: String,
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
    /// The management API's base in the extension's out-of-process payload.
    #[serde(default)]
    base_url: Option<String>,
    /// The same base in the extension's gRPC payload, and in older
    /// local-host builds.
    #[serde(default)]
    http_base_url: Option<String>,
    #[serde(default)]
    required_query_string_parameters: Option<String>,
    #[serde(default)]
    connection_name: Option<String>,
}

/// The connection the extension names when the binding names none.
const DEFAULT_CONNECTION: &str = "Storage";

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
        let base_url = [binding.base_url, binding.http_base_url]
            .into_iter()
            .flatten()
            .find(|url| !url.is_empty())
            .ok_or_else(|| {
                Error::bad_request("the durableClient binding has neither baseUrl nor httpBaseUrl")
            })?;
        Ok(DurableClient {
            task_hub: binding.task_hub_name,
            base_url: base_url.trim_end_matches('/').to_owned(),
            query: binding.required_query_string_parameters.unwrap_or_default(),
            connection: binding
                .connection_name
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| DEFAULT_CONNECTION.to_owned()),
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
        // As the extension builds them: the hub and the connection first,
        // then the binding's query; `reason` leads where it is taken.
        let mut suffix = format!(
            "taskHub={}&connection={}",
            encode_component(&self.task_hub),
            encode_component(&self.connection)
        );
        if !self.query.is_empty() {
            suffix = format!("{suffix}&{}", self.query);
        }
        let at = format!(
            "{}/instances/{}",
            self.base_url,
            encode_component(instance_id)
        );
        let status = format!("{at}?{suffix}");
        let body = serde_json::json!({
            "id": instance_id,
            "statusQueryGetUri": status,
            "sendEventPostUri": format!("{at}/raiseEvent/{{eventName}}?{suffix}"),
            "terminatePostUri": format!("{at}/terminate?reason={{text}}&{suffix}"),
            "purgeHistoryDeleteUri": format!("{at}?{suffix}"),
            "restartPostUri": format!("{at}/restart?{suffix}"),
            "suspendPostUri": format!("{at}/suspend?reason={{text}}&{suffix}"),
            "resumePostUri": format!("{at}/resume?reason={{text}}&{suffix}"),
        });
        HttpResponse::new(202, body.to_string())
            .with_header("Content-Type", "application/json")
            .with_header("Location", status)
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "http://h:1/runtime/webhooks/durabletask/instances/a%20b?taskHub=Hub&connection=Storage"
        );
        assert_eq!(
            body["terminatePostUri"],
            "http://h:1/runtime/webhooks/durabletask/instances/a%20b/terminate?reason={text}&taskHub=Hub&connection=Storage"
        );
        assert_eq!(response.header("Retry-After"), Some("10"));
        assert!(DurableClient::from_binding(r#"{"taskHubName":"Hub"}"#).is_err());
        assert!(DurableClient::from_binding(r#"{"taskHubName":"Hub","baseUrl":null}"#).is_err());
        assert!(DurableClient::from_binding("not json").is_err());
    }

    #[test]
    fn the_extensions_payload_is_read_by_its_base_url() {
        // Keys and nulls as the extension's out-of-process payload has them.
        let binding = r#"{"taskHubName":"Hub","connectionName":null,"creationUrls":{},"managementUrls":{},"baseUrl":"https://app.azurewebsites.net/runtime/webhooks/durabletask","requiredQueryStringParameters":"code=k","rpcBaseUrl":null}"#;
        let client = DurableClient::from_binding(binding).unwrap();
        assert_eq!(
            client.base_url,
            "https://app.azurewebsites.net/runtime/webhooks/durabletask"
        );
        assert_eq!(client.query, "code=k");
        assert_eq!(client.connection, "Storage");
        let response = client.check_status_response("i");
        assert_eq!(
            response.header("Location"),
            Some(
                "https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/i?taskHub=Hub&connection=Storage&code=k"
            )
        );
        let named = binding.replace(r#""connectionName":null"#, r#""connectionName":"My Store""#);
        let client = DurableClient::from_binding(&named).unwrap();
        let body: Value = serde_json::from_str(&client.check_status_response("i").body).unwrap();
        assert_eq!(
            body["suspendPostUri"],
            "https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/i/suspend?reason={text}&taskHub=Hub&connection=My%20Store&code=k"
        );
        // The gRPC payload names it httpBaseUrl, next to a null baseUrl.
        let grpc = r#"{"taskHubName":"Hub","connectionName":null,"baseUrl":null,"rpcBaseUrl":"http://127.0.0.1:4001","httpBaseUrl":"http://h:2/runtime/webhooks/durabletask","requiredQueryStringParameters":""}"#;
        let client = DurableClient::from_binding(grpc).unwrap();
        assert_eq!(client.base_url, "http://h:2/runtime/webhooks/durabletask");
    }
}
