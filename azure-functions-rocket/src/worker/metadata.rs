//! What the worker tells the host about its functions (worker indexing:
//! `FunctionsMetadataRequest`, docs/native-worker.md, "Functions"), and
//! what it learns back when the host loads each one.

use std::collections::HashMap;

use function_app::{Binding, Direction, FunctionJson};
use serde_json::{Map, Value};
use worker_proto::binding_info;
use worker_proto::{BindingInfo, RpcFunctionMetadata};

use crate::registry::Function;

/// A function's id: a name-based UUID (version 5) of its name, so that
/// the same app always gives the same ids, run after run and worker
/// after worker, as the host expects of ids it indexed once.
pub(crate) fn function_id(name: &str) -> String {
    // A namespace of this library's own: the ids are its alone.
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x4d1c_5a7e_93b2_4f0e_a1c6_7b2e_8f3d_9c10);
    uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// The metadata of `function` as the host reads it from a worker that
/// indexes its own functions: its bindings as function.json would hold
/// them (`raw_bindings`), in `directory` (the app's).
pub(crate) fn describe(
    function: &Function,
    json: &FunctionJson,
    directory: &str,
) -> RpcFunctionMetadata {
    let language =
        std::env::var("FUNCTIONS_WORKER_RUNTIME").unwrap_or_else(|_| "native".to_owned());
    RpcFunctionMetadata {
        name: function.name().to_owned(),
        function_id: function_id(function.name()),
        directory: directory.to_owned(),
        script_file: script_file(),
        entry_point: function.name().to_owned(),
        language,
        raw_bindings: json.bindings.iter().map(raw_binding).collect(),
        bindings: json
            .bindings
            .iter()
            .map(|binding| (binding.name.clone(), binding_info(binding)))
            .collect(),
        is_proxy: false,
        ..RpcFunctionMetadata::default()
    }
}

/// This binary's file name: the "script" every function runs in.
fn script_file() -> String {
    std::env::current_exe()
        .ok()
        .as_deref()
        .and_then(std::path::Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".to_owned())
}

/// One binding as its function.json object: `type`, `direction`, `name`
/// and its settings, exactly as written.
pub(crate) fn raw_binding(binding: &Binding) -> String {
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::from(binding.kind.clone()));
    object.insert(
        "direction".to_owned(),
        Value::from(binding.direction.as_str()),
    );
    object.insert("name".to_owned(), Value::from(binding.name.clone()));
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            object.insert(key.to_owned(), value);
        }
    };
    set("route", binding.route.clone().map(Value::from));
    set("methods", binding.methods.clone().map(Value::from));
    set("authLevel", binding.auth_level.clone().map(Value::from));
    set("schedule", binding.schedule.clone().map(Value::from));
    set("queueName", binding.queue_name.clone().map(Value::from));
    set("dataType", binding.data_type.clone().map(Value::from));
    for (key, value) in &binding.extra {
        object.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(object).to_string()
}

fn binding_info(binding: &Binding) -> BindingInfo {
    let direction = match binding.direction {
        Direction::In => binding_info::Direction::In,
        Direction::Out => binding_info::Direction::Out,
        Direction::InOut => binding_info::Direction::Inout,
    };
    let data_type = match binding
        .data_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("string") => binding_info::DataType::String,
        Some("binary") => binding_info::DataType::Binary,
        Some("stream") => binding_info::DataType::Stream,
        _ => binding_info::DataType::Undefined,
    };
    BindingInfo {
        r#type: binding.kind.clone(),
        direction: direction as i32,
        data_type: data_type as i32,
        properties: HashMap::new(),
    }
}

/// Takes what the host loaded `function` with, as a custom handler takes
/// a hand-kept function.json: the binding names its line leaves to their
/// defaults, and `dataType`. The host sends each binding's name, type,
/// direction and data type (`bindings`; `GetFunctionLoadRequest` sends no
/// raw bindings): for functions the worker indexed they say what the line
/// does, for functions the host read from function.json they may say
/// more. Metadata without bindings leaves the declaration as it is.
pub(crate) fn follow(function: &mut Function, metadata: &RpcFunctionMetadata) {
    if metadata.bindings.is_empty() {
        return;
    }
    let mut bindings: Vec<Value> = metadata
        .bindings
        .iter()
        .map(|(name, info)| {
            let direction = match binding_info::Direction::try_from(info.direction) {
                Ok(binding_info::Direction::Out) => "out",
                Ok(binding_info::Direction::Inout) => "inout",
                _ => "in",
            };
            let mut binding = serde_json::json!({
                "type": info.r#type,
                "direction": direction,
                "name": name,
            });
            let data_type = match binding_info::DataType::try_from(info.data_type) {
                Ok(binding_info::DataType::String) => Some("string"),
                Ok(binding_info::DataType::Binary) => Some("binary"),
                Ok(binding_info::DataType::Stream) => Some("stream"),
                _ => None,
            };
            if let Some(data_type) = data_type {
                binding["dataType"] = Value::from(data_type);
            }
            binding
        })
        .collect();
    // The map has no order; names sort it so every load reads the same.
    bindings.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let text = serde_json::json!({ "bindings": bindings }).to_string();
    if let Ok(json) = FunctionJson::parse(&text) {
        function.followed = Some(function.follow(&json));
    }
}
