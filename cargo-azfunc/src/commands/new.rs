//! `new app` and `new function`: write an app, or add a function to one.

use std::process::ExitCode;

use cargo_azfunc::scaffold::{Library, NewApp, NewFunction, ScaffoldError, Trigger};

use super::cli::{New, NewAppArgs, NewFunctionArgs};
use super::finish;

pub fn run(new: New) -> ExitCode {
    scaffolded(match new {
        New::App(args) => cargo_azfunc::scaffold::new_app(&new_app(args)),
        New::Function(args) => cargo_azfunc::scaffold::new_function(&new_function(args)),
    })
}

fn new_app(args: NewAppArgs) -> NewApp {
    // clap lets at most one of the three through.
    let library = args
        .library_path
        .map(Library::Path)
        .or(args.library_version.map(Library::Version))
        .or(args.library_git.map(Library::Git));
    NewApp {
        dir: args.dir,
        name: args.name,
        library,
    }
}

fn new_function(args: NewFunctionArgs) -> NewFunction {
    // clap lets exactly one trigger through, with only its own options.
    let trigger = if let Some(queue) = args.queue {
        Trigger::Queue {
            queue,
            output_queue: args.output_queue,
        }
    } else if let Some(schedule) = args.timer {
        Trigger::Timer { schedule }
    } else {
        Trigger::Http {
            route: args.route,
            methods: args
                .methods
                .as_deref()
                .unwrap_or("get,post")
                .split(',')
                .map(|m| m.trim().to_ascii_lowercase())
                .filter(|m| !m.is_empty())
                .collect(),
        }
    };
    NewFunction {
        name: args.name,
        trigger,
        blob_output: args.blob_output,
        app: args.app.app,
    }
}

/// What `new` wrote, or why it refused (exit 2) or failed (exit 1).
fn scaffolded(result: Result<Vec<String>, ScaffoldError>) -> ExitCode {
    match result {
        Ok(lines) => {
            for line in lines {
                out!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(ScaffoldError::Refused(message)) => {
            err!("cargo-azfunc: error: {message}");
            ExitCode::from(2)
        }
        Err(ScaffoldError::Failed(message)) => finish(Err(message)),
    }
}
