//! The command line as users meet it: `--help` for the tool and for every
//! command, each option listed with its help; clap's error and exit 2 for
//! a bad option; and the `cargo azfunc ...` form, in which cargo passes
//! `azfunc` first.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::fake_app;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("cargo-azfunc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each command's `--help` and what it must list. Every option of today's
/// command line is here, under Core Tools' names where `func` has one.
const HELP: [(&[&str], &[&str]); 7] = [
    (
        &["--help"],
        &[
            "Usage: cargo azfunc <COMMAND>",
            "start",
            "invoke",
            "check",
            "new",
            "--version",
        ],
    ),
    (
        &["start", "--help"],
        &[
            "Usage: cargo azfunc start [OPTIONS]",
            "-p, --port <N>",
            "--watch",
            "--timers",
            "--functions <NAME>...",
            "--cors <ORIGINS>",
            "--cors-credentials",
            "--app <DIR>",
            "--build",
            "--ready-timeout <SECONDS>",
            "--output <FORMAT>",
            "--verbose",
        ],
    ),
    (
        &["invoke", "--help"],
        &[
            "Usage: cargo azfunc invoke [OPTIONS] <--data <TEXT>|--data-file <FILE>> <NAME>",
            "--data <TEXT>",
            "--data-file <FILE>",
            "--app <DIR>",
            "--build",
            "--ready-timeout <SECONDS>",
            "--output <FORMAT>",
            "--verbose",
        ],
    ),
    (
        &["check", "--help"],
        &[
            "Usage: cargo azfunc check [OPTIONS]",
            "--app <DIR>",
            "--build",
        ],
    ),
    (
        &["new", "--help"],
        &["Usage: cargo azfunc new <COMMAND>", "app", "function"],
    ),
    (
        &["new", "app", "--help"],
        &[
            "Usage: cargo azfunc new app [OPTIONS] <DIR>",
            "--name <NAME>",
            "--library-path <PATH>",
            "--library-version <VER>",
            "--library-git <URL>",
        ],
    ),
    (
        &["new", "function", "--help"],
        &[
            "--http",
            "--route <R>",
            "--methods <get,post>",
            "--queue <QUEUE>",
            "--output-queue <Q>",
            "--timer <NCRONTAB>",
            "--blob-output <PATH>",
            "--app <DIR>",
        ],
    ),
];

/// The option lines of a help text whose help is missing: an option's
/// line must go on past its name and value.
fn options_without_help(help: &str) -> Vec<String> {
    help.lines()
        .filter(|line| line.trim_start().starts_with('-'))
        .filter(|line| {
            let option = line.trim_start();
            // Name and value, then at least two spaces and the help.
            !option.contains("  ") || option.split("  ").last().unwrap_or("").trim().is_empty()
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_and_option_has_help() {
    for (args, listed) in HELP {
        // As `cargo-azfunc ...` and as cargo runs `cargo azfunc ...`.
        for form in [args.to_vec(), [&["azfunc"][..], args].concat()] {
            let output = run(&form);
            let out = text(&output.stdout);
            assert_eq!(output.status.code(), Some(0), "{form:?}: {out}");
            assert_eq!(text(&output.stderr), "", "{form:?}");
            for wanted in listed {
                assert!(out.contains(wanted), "{form:?} lacks {wanted:?}:\n{out}");
            }
            assert_eq!(
                options_without_help(&out),
                Vec::<String>::new(),
                "{form:?}:\n{out}"
            );
        }
    }
}

#[test]
fn a_bad_option_gets_clap_s_error_and_exit_2() {
    for form in [
        &["start", "--bogus"][..],
        &["azfunc", "start", "--bogus"],
        &["check", "--port", "1"],
        &["invoke", "F"],
        &["new", "function", "F", "--queue", "q", "--route", "r"],
        &["start", "--output", "yaml"],
        &[],
        &["azfunc"],
    ] {
        let output = run(form);
        let err = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{form:?}: {err}");
        assert_eq!(text(&output.stdout), "", "{form:?}");
        // clap's message and its pointer to --help (no args: the help).
        assert!(
            err.starts_with("error: ") && err.contains("For more information, try '--help'.")
                || form.len() <= 1 && err.contains("Usage: cargo azfunc <COMMAND>"),
            "{form:?}: {err}"
        );
    }
    let err = text(&run(&["start", "--bogus"]).stderr);
    assert!(
        err.starts_with("error: unexpected argument '--bogus' found"),
        "{err}"
    );
}

#[test]
fn the_cargo_form_runs_the_command() {
    let dir = fake_app();
    let app = dir.path().to_str().expect("UTF-8 temp path");
    let output = run(&["azfunc", "invoke", "Queue", "--data", "7", "--app", app]);
    let out = text(&output.stdout);
    assert!(output.status.success(), "{out}\n{}", text(&output.stderr));
    assert!(out.contains("] Succeeded"), "{out}");
}

/// cargo itself finds the binary on PATH and runs `cargo azfunc ...` as
/// `cargo-azfunc azfunc ...`.
#[test]
fn cargo_runs_it_as_a_subcommand() {
    let bin_dir = Path::new(BIN).parent().expect("the binary's folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let output = Command::new(env!("CARGO"))
        .args(["azfunc", "check", "--help"])
        .env("PATH", path)
        .output()
        .expect("cargo runs");
    let out = text(&output.stdout);
    assert!(output.status.success(), "{out}\n{}", text(&output.stderr));
    assert!(out.contains("Usage: cargo azfunc check [OPTIONS]"), "{out}");
}
