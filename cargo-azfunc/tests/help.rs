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
            "--useHttps",
            "--cert <PATH>",
            "--password <PASSWORD|FILE>",
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

/// The option lines of a help text whose help is missing. An option's line
/// is indented at most 6 columns; its help follows its name and value on
/// the same line, or (on a narrow terminal) on the next, indented further.
fn options_without_help(help: &str) -> Vec<String> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let lines: Vec<&str> = help.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with('-') && indent(line) <= 6)
        .filter(|(at, line)| {
            let same_line = line
                .trim_start()
                .split_once("  ")
                .is_some_and(|(_, help)| !help.trim().is_empty());
            let next_line = lines
                .get(at + 1)
                .is_some_and(|next| indent(next) > 6 && !next.trim().is_empty());
            !same_line && !next_line
        })
        .map(|(_, line)| (*line).to_owned())
        .collect()
}

#[test]
fn every_command_and_option_has_help() {
    for (args, listed) in HELP {
        // As `cargo-azfunc ...` and as cargo runs `cargo azfunc ...`.
        for (form, columns) in [
            (args.to_vec(), "200"),
            ([&["azfunc"][..], args].concat(), "60"),
        ] {
            // Wide, and narrow enough that clap puts help below options.
            let output = Command::new(BIN)
                .args(&form)
                .env("COLUMNS", columns)
                .output()
                .expect("cargo-azfunc runs");
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
