use clap::error::ErrorKind;

use super::*;

fn parse(line: &str) -> Result<Cli, clap::Error> {
    Cli::checked(std::iter::once("cargo-azfunc").chain(line.split_whitespace()))
}

/// The kind of error clap gives `line`, and its message.
fn error(line: &str) -> (ErrorKind, String) {
    match parse(line) {
        Ok(cli) => panic!("{line:?} parsed: {cli:?}"),
        Err(e) => (e.kind(), e.to_string()),
    }
}

#[test]
fn bad_command_lines_say_what_is_wrong() {
    let (kind, text) = error("start --port x");
    assert_eq!(kind, ErrorKind::ValueValidation);
    assert!(text.contains("'--port <N>'"), "{text}");
    for bad in ["1e20", "0", "-1", "NaN", "inf", "86400.5", "1e-12"] {
        let (_, text) = error(&format!("start --ready-timeout={bad}"));
        assert!(
            text.contains("not a number of seconds above 0 and at most 86400"),
            "{bad}: {text}"
        );
    }
    assert!(parse("start --ready-timeout 86400").is_ok());
    assert!(parse("start --ready-timeout 0.001").is_ok());
    assert_eq!(error("start -p x").0, ErrorKind::ValueValidation);
    assert_eq!(error("start -p 1 --port 2").0, ErrorKind::ArgumentConflict);
    assert_eq!(error("start --data-file f").0, ErrorKind::UnknownArgument);
    assert_eq!(
        error("invoke F --data x --data-file f").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(error("invoke F").0, ErrorKind::MissingRequiredArgument);
    assert_eq!(error("start --output yaml").0, ErrorKind::InvalidValue);
    assert_eq!(error("check --timers").0, ErrorKind::UnknownArgument);
    assert_eq!(error("check --app").0, ErrorKind::InvalidValue);
    assert_eq!(
        error("start --app a --app b").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(error("new thing").0, ErrorKind::InvalidSubcommand);
    assert_eq!(
        error("new function F --http --queue q").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        error("new function F").0,
        ErrorKind::MissingRequiredArgument
    );
    let (kind, text) = error("new function F --queue q --route r");
    assert_eq!(kind, ErrorKind::ArgumentConflict);
    assert!(text.contains("cannot be used with '--route <R>'"), "{text}");
    assert_eq!(
        error("new function F --timer t --methods get").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        error("new function F --http --output-queue q").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        error("new app d --library-path p --library-git g").0,
        ErrorKind::ArgumentConflict
    );
    assert_eq!(
        error("").0,
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
}

#[test]
fn commands_and_their_flags() {
    let Ok(Cli {
        command: Command::New(New::Function(function)),
    }) = parse("new function Squares --queue=sides --output-queue squares --app x")
    else {
        panic!("a new function");
    };
    assert_eq!(function.name, "Squares");
    assert_eq!(function.app.app, PathBuf::from("x"));
    assert_eq!(function.queue.as_deref(), Some("sides"));
    assert_eq!(function.output_queue.as_deref(), Some("squares"));
    let Ok(Cli {
        command: Command::Invoke(invoke),
    }) = parse("invoke F --data-file d --build")
    else {
        panic!("an invoke");
    };
    assert_eq!(invoke.name, "F");
    assert!(invoke.run.build);
    assert_eq!(invoke.run.ready_timeout, READY_TIMEOUT);
    assert!(matches!(
        parse("check --build"),
        Ok(Cli {
            command: Command::Check(CheckArgs { build: true, .. })
        })
    ));
    let Ok(Cli {
        command: Command::Start(start),
    }) = parse("start --functions A B,C --verbose --cors * --cors-credentials")
    else {
        panic!("a start");
    };
    assert_eq!(start.functions, ["A", "B", "C"]);
    assert!(start.run.verbose && start.cors_credentials);
    assert_eq!(start.cors.as_deref(), Some("*"));
    assert_eq!(start.port, None);
    let Ok(Cli {
        command: Command::Start(start),
    }) = parse("start --functions=A --timers -p 8080 --output json")
    else {
        panic!("a start");
    };
    assert_eq!(start.functions, ["A"]);
    assert!(start.timers);
    assert_eq!(start.port, Some(8080));
    assert_eq!(start.run.output, Output::Json);
}

#[test]
fn core_tools_options_say_what_is_wrong() {
    assert_eq!(error("start --functions").0, ErrorKind::InvalidValue);
    let (kind, text) = error("start --functions ,");
    assert_eq!(kind, ErrorKind::InvalidValue);
    assert!(
        text.contains("--functions needs at least one function NAME"),
        "{text}"
    );
    assert_eq!(
        error("start --cors-credentials").0,
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(error("check --verbose").0, ErrorKind::UnknownArgument);
    assert_eq!(
        error("invoke F --data x --cors *").0,
        ErrorKind::UnknownArgument
    );
}

#[test]
fn the_command_line_is_consistent() {
    // clap's own checks of the definitions: names, groups, `requires`.
    Cli::command().debug_assert();
}

use proptest::prelude::Strategy;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

    /// Any command line is a command or clap's message (exit 2): no panic.
    #[test]
    fn any_command_line_parses_or_says_why(words in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::sample::select(vec![
                "start", "invoke", "check", "new", "app", "function", "help", "--app",
                "--port", "--build", "--timers", "--ready-timeout", "--data-file", "--name",
                "--http", "--queue", "--timer", "--route", "--methods", "--output-queue",
                "--blob-output", "--library-path", "--library-git", "--library-version",
                "-h", "-", "--", "1e20", "65536", "-1", "NaN", "0", "=",
                "--functions", "--cors", "--cors-credentials", "--verbose", "*", ",",
            ]).prop_map(str::to_owned),
            "--[a-z-]{0,12}=.{0,8}",
            ".{0,12}",
        ],
        0..8,
    )) {
        let _ = Cli::checked(std::iter::once("cargo-azfunc".to_owned()).chain(words));
    }
}
