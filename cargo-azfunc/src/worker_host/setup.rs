//! From the worker's StartStream to loaded functions, as the host's
//! GrpcWorkerChannel does it (docs/native-worker-host.md, "The stream"):
//! WorkerInitRequest, worker or host indexing, FunctionLoadRequest per
//! function or one collection.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use worker_proto::binding_info::{DataType, Direction as RpcDirection};
use worker_proto::streaming_message::Content;
use worker_proto::{
    BindingInfo, FunctionLoadRequest, FunctionLoadRequestCollection, FunctionsMetadataRequest,
    RpcFunctionMetadata, WorkerInitRequest,
};

use crate::app::{AppFolder, Binding, Direction, FunctionFolder};
use crate::console::Console;

use super::channel::{Channel, capability, failure_of};

/// What a worker's start-up needs besides its channel.
pub struct Setup<'a> {
    /// The host version the init request names.
    pub host_version: &'a str,
    pub worker_id: &'a str,
    pub worker_directory: &'a Path,
    pub app: &'a AppFolder,
    pub worker_indexing: bool,
    /// How long each answer may take.
    pub limit: Duration,
    pub console: &'a Console,
}

/// One function the worker was asked to load.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub id: String,
    /// Why the worker could not index or load it: its invocations fail
    /// with this, as the host replays load errors.
    pub error: Option<String>,
}

/// The functions after start-up.
#[derive(Clone, Debug, Default)]
pub struct Functions {
    /// With worker indexing: the functions the worker declared (they
    /// replace function.json's).
    pub indexed: Option<Vec<FunctionFolder>>,
    /// By function name.
    pub loaded: HashMap<String, Loaded>,
}

/// Runs start-up on `channel`; the reason when the worker cannot serve.
pub async fn initialize(channel: &mut Channel, setup: &Setup<'_>) -> Result<Functions, String> {
    let start = next_of(channel, setup, "StartStream", |c| match c {
        Content::StartStream(start) => Ok(start),
        other => Err(Box::new(other)),
    })
    .await?;
    if start.worker_id != setup.worker_id {
        setup.console.warning(format!(
            "[host] the worker's StartStream names worker {:?}, not {:?}, the id it was started with",
            start.worker_id, setup.worker_id
        ));
    }
    channel.send(Content::WorkerInitRequest(WorkerInitRequest {
        host_version: setup.host_version.to_owned(),
        capabilities: HashMap::new(),
        log_categories: HashMap::new(),
        worker_directory: setup.worker_directory.to_string_lossy().into_owned(),
        function_app_directory: setup.app.root.to_string_lossy().into_owned(),
    }));
    let init = next_of(channel, setup, "WorkerInitResponse", |c| match c {
        Content::WorkerInitResponse(init) => Ok(init),
        other => Err(Box::new(other)),
    })
    .await?;
    if let Some(failure) = failure_of(init.result.as_ref()) {
        return Err(format!("the worker failed to initialize: {failure}"));
    }
    channel.capabilities = init.capabilities;
    let mut advertised: Vec<_> = channel.capabilities.keys().cloned().collect();
    advertised.sort();
    setup.console.info(format!(
        "[host] worker initialized{}; capabilities: {}",
        init.worker_metadata
            .as_ref()
            .filter(|m| !m.runtime_name.is_empty())
            .map(worker_name)
            .unwrap_or_default(),
        if advertised.is_empty() {
            "none".into()
        } else {
            advertised.join(", ")
        }
    ));
    let mut functions = Functions::default();
    let mut requests = Vec::new();
    if setup.worker_indexing
        && let Some(indexed) = index(channel, setup).await?
    {
        let mut folders = Vec::new();
        for (folder, metadata, error) in indexed {
            let id = if metadata.function_id.is_empty() {
                crate::ids::new_guid()
            } else {
                metadata.function_id.clone()
            };
            requests.push(load_request(&id, &folder, &metadata));
            functions
                .loaded
                .insert(folder.name.clone(), Loaded { id, error });
            folders.push(folder);
        }
        folders.sort_by(|a, b| a.name.cmp(&b.name));
        functions.indexed = Some(folders);
    } else {
        for folder in &setup.app.functions {
            let id = crate::ids::new_guid();
            let metadata = host_metadata(&setup.app.root, folder);
            requests.push(load_request(&id, folder, &metadata));
            functions
                .loaded
                .insert(folder.name.clone(), Loaded { id, error: None });
        }
    }
    load(channel, setup, requests, &mut functions).await?;
    Ok(functions)
}

/// Waits for the message `pick` takes; others are set aside with a note,
/// as the host waits for one message type.
async fn next_of<T>(
    channel: &Channel,
    setup: &Setup<'_>,
    what: &str,
    pick: impl Fn(Content) -> Result<T, Box<Content>>,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + setup.limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let content = channel.next_control(left, what).await?;
        match pick(content) {
            Ok(found) => return Ok(found),
            Err(other) => setup.console.warning(format!(
                "[host] the worker sent {} while the host waited for {what}: ignored",
                content_name(&other)
            )),
        }
    }
}

fn content_name(content: &Content) -> String {
    let debug = format!("{content:?}");
    debug.split('(').next().unwrap_or("a message").to_owned()
}

/// FunctionsMetadataRequest; `None` when the worker says to read
/// function.json (use_default_metadata_indexing).
async fn index(
    channel: &Channel,
    setup: &Setup<'_>,
) -> Result<Option<Vec<(FunctionFolder, RpcFunctionMetadata, Option<String>)>>, String> {
    channel.send(Content::FunctionsMetadataRequest(
        FunctionsMetadataRequest {
            function_app_directory: setup.app.root.to_string_lossy().into_owned(),
        },
    ));
    let response = next_of(channel, setup, "FunctionMetadataResponse", |c| match c {
        Content::FunctionMetadataResponse(r) => Ok(r),
        other => Err(Box::new(other)),
    })
    .await?;
    if let Some(failure) = failure_of(response.result.as_ref()) {
        setup.console.error(format!(
            "[host] the worker failed to index functions: {failure}"
        ));
    }
    if response.use_default_metadata_indexing {
        setup.console.info(
            "[host] the worker asks for default indexing: the functions come from function.json",
        );
        return Ok(None);
    }
    let mut indexed = Vec::new();
    for metadata in response.function_metadata_results {
        match folder_of(&metadata) {
            Ok(folder) => {
                let error = metadata
                    .status
                    .as_ref()
                    .and_then(|status| failure_of(Some(status)));
                if let Some(error) = &error {
                    setup.console.error(format!(
                        "[host] the worker failed to index function {}: {error}",
                        metadata.name
                    ));
                }
                indexed.push((folder, metadata, error));
            }
            Err(why) => setup.console.error(format!(
                "[host] function {:?} from the worker is left out: {why}",
                metadata.name
            )),
        }
    }
    Ok(Some(indexed))
}

/// Who the worker says it is: its runtime and that runtime's version,
/// then its own version; empty parts left out (a compiled worker has no
/// runtime version of its own).
fn worker_name(metadata: &worker_proto::WorkerMetadata) -> String {
    let runtime = [&metadata.runtime_name, &metadata.runtime_version]
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    if metadata.worker_version.trim().is_empty() {
        format!(" ({runtime})")
    } else {
        format!(" ({runtime}, worker {})", metadata.worker_version)
    }
}

/// A worker-declared function as a function folder: its raw bindings are
/// function.json's bindings.
pub fn folder_of(metadata: &RpcFunctionMetadata) -> Result<FunctionFolder, String> {
    if metadata.name.trim().is_empty() {
        return Err("it has no name".into());
    }
    let bindings = metadata
        .raw_bindings
        .iter()
        .map(|raw| {
            serde_json::from_str::<Binding>(raw)
                .map_err(|e| format!("the raw binding {raw} is not a function.json binding: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let triggers = bindings.iter().filter(|b| b.is_trigger()).count();
    if triggers != 1 {
        return Err(format!(
            "it has {triggers} trigger bindings; a function needs exactly one"
        ));
    }
    Ok(FunctionFolder {
        name: metadata.name.clone(),
        bindings,
    })
}

/// What the host read from a function folder for the worker: its
/// directory, script file (against the folder) and entry point.
fn host_metadata(root: &Path, folder: &FunctionFolder) -> RpcFunctionMetadata {
    let directory = root.join(&folder.name);
    let json = crate::app::read_json(&directory.join("function.json")).unwrap_or(Value::Null);
    let text = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let script = text("scriptFile");
    RpcFunctionMetadata {
        name: folder.name.clone(),
        directory: directory.to_string_lossy().into_owned(),
        script_file: if script.is_empty() {
            String::new()
        } else {
            directory.join(script).to_string_lossy().into_owned()
        },
        entry_point: text("entryPoint"),
        ..RpcFunctionMetadata::default()
    }
}

/// The FunctionLoadRequest the host builds: the metadata's name,
/// directory, script and entry point, and each binding's type, direction
/// and dataType.
fn load_request(
    id: &str,
    folder: &FunctionFolder,
    metadata: &RpcFunctionMetadata,
) -> FunctionLoadRequest {
    let bindings = folder
        .bindings
        .iter()
        .map(|binding| (binding.name.clone(), binding_info(binding)))
        .collect();
    FunctionLoadRequest {
        function_id: id.to_owned(),
        metadata: Some(RpcFunctionMetadata {
            name: folder.name.clone(),
            directory: metadata.directory.clone(),
            script_file: metadata.script_file.clone(),
            entry_point: metadata.entry_point.clone(),
            bindings,
            is_proxy: false,
            properties: metadata.properties.clone(),
            ..RpcFunctionMetadata::default()
        }),
        managed_dependency_enabled: false,
    }
}

fn binding_info(binding: &Binding) -> BindingInfo {
    let direction = match binding.direction {
        Direction::In => RpcDirection::In,
        Direction::Out => RpcDirection::Out,
        Direction::InOut => RpcDirection::Inout,
    };
    let data_type = match binding
        .data_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("string") => DataType::String,
        Some("binary") => DataType::Binary,
        Some("stream") => DataType::Stream,
        _ => DataType::Undefined,
    };
    BindingInfo {
        r#type: binding.kind.clone(),
        direction: direction as i32,
        data_type: data_type as i32,
        properties: HashMap::new(),
    }
}

/// Sends the load requests (one collection when the worker advertised
/// SupportsLoadResponseCollection) and records each failure.
async fn load(
    channel: &Channel,
    setup: &Setup<'_>,
    requests: Vec<FunctionLoadRequest>,
    functions: &mut Functions,
) -> Result<(), String> {
    let count = requests.len();
    if count == 0 {
        return Ok(());
    }
    if channel.has(capability::SUPPORTS_LOAD_RESPONSE_COLLECTION) {
        channel.send(Content::FunctionLoadRequestCollection(
            FunctionLoadRequestCollection {
                function_load_requests: requests,
            },
        ));
    } else {
        for request in requests {
            channel.send(Content::FunctionLoadRequest(request));
        }
    }
    let mut answered = 0;
    while answered < count {
        let responses = next_of(channel, setup, "FunctionLoadResponse", |c| match c {
            Content::FunctionLoadResponse(r) => Ok(vec![r]),
            Content::FunctionLoadResponseCollection(c) => Ok(c.function_load_responses),
            other => Err(Box::new(other)),
        })
        .await?;
        for response in responses {
            answered += 1;
            let Some((name, loaded)) = functions
                .loaded
                .iter_mut()
                .find(|(_, loaded)| loaded.id.eq_ignore_ascii_case(&response.function_id))
            else {
                setup.console.warning(format!(
                    "[host] the worker answered the load of function id {}, which the host never sent",
                    response.function_id
                ));
                continue;
            };
            if let Some(failure) = failure_of(response.result.as_ref()) {
                setup.console.error(format!(
                    "[host] the worker failed to load function {name}: {failure}"
                ));
                loaded.error.get_or_insert(failure);
            }
        }
    }
    Ok(())
}
