//! What the worker tells the host it does (`WorkerInitResponse`), each
//! capability checked against what the host does with it
//! (docs/native-worker.md, "Capabilities"). The host tests a capability
//! for a non-empty value, so each is sent as "true" or not at all.

use std::collections::HashMap;

use worker_proto::WorkerMetadata;

/// The capabilities, with `HttpUri` (the worker's own HTTP server, which
/// the host then proxies callers' requests to) when `http_uri` is given.
pub(crate) fn advertised(http_uri: Option<&str>) -> HashMap<String, String> {
    let mut capabilities: HashMap<String, String> = [
        // HTTP bodies as bytes, never re-encoded text.
        "RawHttpBodyBytes",
        // Lists (e.g. a batch of strings) as typed collections.
        "TypedDataCollection",
        // No `raw_body` copy of every HTTP body.
        "RpcHttpBodyOnly",
        // No HTTP request copied into the trigger metadata.
        "RpcHttpTriggerMetadataRemoved",
        // WorkerStatusRequest is answered.
        "WorkerStatus",
        // One FunctionLoadResponseCollection for a collection of loads.
        "SupportsLoadResponseCollection",
        // WorkerTerminate lets in-flight invocations finish.
        "HandlesWorkerTerminateMessage",
        // InvocationCancel stops the invocation, answered Cancelled.
        "HandlesInvocationCancelMessage",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), "true".to_owned()))
    .collect();
    if let Some(uri) = http_uri {
        capabilities.insert("HttpUri".to_owned(), uri.to_owned());
    }
    capabilities
}

/// Who the worker is, for the host's logs.
pub(crate) fn metadata() -> WorkerMetadata {
    let bitness = if cfg!(target_arch = "x86_64") {
        "X64"
    } else if cfg!(target_arch = "aarch64") {
        "Arm64"
    } else if cfg!(target_pointer_width = "32") {
        "X86"
    } else {
        std::env::consts::ARCH
    };
    WorkerMetadata {
        runtime_name: "rust".to_owned(),
        // The compiler's version (build.rs), as the Node worker sends
        // Node's: the host logs it with the runtime's name.
        runtime_version: env!("AZURE_FUNCTIONS_ROCKET_RUSTC_VERSION").to_owned(),
        worker_version: env!("CARGO_PKG_VERSION").to_owned(),
        worker_bitness: bitness.to_owned(),
        custom_properties: HashMap::from([(
            "library".to_owned(),
            env!("CARGO_PKG_NAME").to_owned(),
        )]),
    }
}
