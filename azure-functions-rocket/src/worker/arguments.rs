//! The arguments the host starts a language worker with
//! (docs/native-worker.md, "Start"): the current set
//! (`--functions-uri --functions-worker-id --functions-request-id
//! --functions-grpc-max-message-length`) and the legacy one (`--host --port
//! --workerId --requestId --grpcMaxMessageLength`). The host passes both;
//! the current set wins where both give a value.

use std::ffi::OsString;

use super::FLAGS;

/// What the worker needs from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkerArguments {
    /// The host's gRPC server, e.g. `http://127.0.0.1:5000/`.
    pub uri: String,
    /// Named in `StartStream`.
    pub worker_id: String,
    /// The id of the host's request that started this worker.
    pub request_id: String,
    /// The largest gRPC message, either way, in bytes.
    pub max_message_length: usize,
}

/// Reads the worker arguments from `args` (the program name first); one
/// message naming every flag that is missing or bad.
pub(crate) fn parse(args: &[OsString]) -> Result<WorkerArguments, String> {
    let mut values: Vec<(&str, String)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let Some(arg) = arg.to_str() else {
            continue;
        };
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg, None),
        };
        let Some(&flag) = FLAGS.iter().find(|known| **known == flag) else {
            // The host may pass arguments of its own worker configuration.
            continue;
        };
        let value = match inline {
            Some(value) => Some(value),
            None => rest
                .next()
                .map(|value| value.to_string_lossy().into_owned()),
        };
        match value {
            Some(value) if !value.is_empty() && !value.starts_with("--") => {
                values.push((flag, value));
            }
            _ => problems.push(format!("{flag} has no value")),
        }
    }
    let get = |flag: &str| {
        values
            .iter()
            .rev()
            .find(|(name, _)| *name == flag)
            .map(|(_, value)| value.clone())
    };
    let either = |current: &str, legacy: &str, problems: &mut Vec<String>| {
        let value = get(current).or_else(|| get(legacy));
        if value.is_none() && !problems.iter().any(|p| p.starts_with(current)) {
            problems.push(format!("{current} (or {legacy}) is missing"));
        }
        value
    };
    let uri = match get("--functions-uri") {
        Some(uri) => match checked_uri(&uri) {
            Ok(uri) => Some(uri),
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        None => legacy_uri(get("--host"), get("--port"), &mut problems),
    };
    let worker_id = either("--functions-worker-id", "--workerId", &mut problems);
    let request_id = either("--functions-request-id", "--requestId", &mut problems);
    let length = either(
        "--functions-grpc-max-message-length",
        "--grpcMaxMessageLength",
        &mut problems,
    );
    let max_message_length = length.and_then(|text| match text.parse::<u64>() {
        Ok(length) if length > 0 => Some(usize::try_from(length).unwrap_or(usize::MAX)),
        _ => {
            problems.push(format!(
                "the gRPC max message length is not a positive whole number: {}",
                crate::text::quote(&text)
            ));
            None
        }
    });
    match (uri, worker_id, request_id, max_message_length) {
        (Some(uri), Some(worker_id), Some(request_id), Some(max_message_length))
            if problems.is_empty() =>
        {
            Ok(WorkerArguments {
                uri,
                worker_id,
                request_id,
                max_message_length,
            })
        }
        _ => Err(format!(
            "invalid language-worker arguments: {}",
            problems.join("; ")
        )),
    }
}

/// `--functions-uri`, which must be an `http://` or `https://` URI with a
/// host and a port.
fn checked_uri(uri: &str) -> Result<String, String> {
    let problem = || {
        format!(
            "--functions-uri is not an http:// URI with a host and a port: {}",
            crate::text::quote(uri)
        )
    };
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        .ok_or_else(problem)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority.rsplit_once(':').ok_or_else(problem)?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |port| port == 0) {
        return Err(problem());
    }
    Ok(uri.to_owned())
}

/// The URI from the legacy `--host` and `--port`.
fn legacy_uri(
    host: Option<String>,
    port: Option<String>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let (Some(host), Some(port)) = (host, port) else {
        problems.push("--functions-uri (or --host and --port) is missing".to_owned());
        return None;
    };
    match port.parse::<u16>() {
        Ok(number) if number > 0 => {
            // An IPv6 address goes in brackets.
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host
            };
            Some(format!("http://{host}:{number}/"))
        }
        _ => {
            problems.push(format!(
                "--port is not a port number: {}",
                crate::text::quote(&port)
            ));
            None
        }
    }
}
