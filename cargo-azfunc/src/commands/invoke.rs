//! `invoke`: start the handler, send one function one invocation, report
//! it, and exit 0 when it succeeded.

use std::process::ExitCode;

use cargo_azfunc::host::envelope::{Sys, http_invocation, non_http_invocation};
use cargo_azfunc::host::invocation::{http_request_for_input, invoke, is_http, report};
use cargo_azfunc::ids::new_guid;
use cargo_azfunc::limits::{CALLER_BODY_LIMIT, read_file_capped};

use super::cli::InvokeArgs;
use super::{build_and_generate, console, load, start_handler};

pub async fn run(args: InvokeArgs) -> Result<ExitCode, String> {
    let app = load(&args.run)?;
    if !args.run.build && !app.awaits_indexing() && app.function(&args.name).is_none() {
        return Err(app.no_function(&args.name));
    }
    let input = input(&args)?;
    let console = console(&args.run);
    let (mut app, built) = build_and_generate(app, &args.run, &console).await?;
    let handler = start_handler(&app, &args.run, built, &console, Vec::new()).await?;
    // A worker that indexes its functions has declared them now.
    handler.adopt_functions(&mut app);
    let Some(function) = app.function(&args.name).cloned() else {
        handler.stop().await;
        return Err(app.no_function(&args.name));
    };
    let sys = Sys::new(&function);
    let body = if is_http(&function) {
        let (caller, params) =
            http_request_for_input(&function, &app.host.route_prefix, "localhost:7071", &input);
        http_invocation(&function, &caller, &params, &sys)
    } else {
        non_http_invocation(&function, &String::from_utf8_lossy(&input), &sys)
    };
    let invocation_id = new_guid();
    let outcome = invoke(&handler, &function, &body, &invocation_id).await;
    report(&console, &function, &invocation_id, &outcome);
    handler.stop().await;
    Ok(if outcome.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The trigger input: `--data TEXT`, or `--data-file` (`-` reads standard
/// input), at most the host's cap on a caller's body.
fn input(args: &InvokeArgs) -> Result<Vec<u8>, String> {
    if let Some(text) = &args.data {
        return Ok(text.clone().into_bytes());
    }
    let data_file = args.data_file.clone().unwrap_or_default();
    if data_file.as_os_str() == "-" {
        let mut input = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), CALLER_BODY_LIMIT as u64 + 1),
            &mut input,
        )
        .map_err(|e| format!("cannot read standard input (--data-file -): {e}"))?;
        if input.len() > CALLER_BODY_LIMIT {
            return Err(format!(
                "standard input (--data-file -) is larger than {}, the host's limit for a caller's body",
                cargo_azfunc::limits::size(CALLER_BODY_LIMIT)
            ));
        }
        return Ok(input);
    }
    read_file_capped(&data_file, CALLER_BODY_LIMIT).map_err(|e| format!("--data-file: {e}"))
}
