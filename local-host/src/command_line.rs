//! local-host's command line: the commands, their flags, and a message for
//! every command line that is not one (exit 2).

use std::path::PathBuf;
use std::time::Duration;

use local_host::client::READY_TIMEOUT;
use local_host::console::Format;
use local_host::scaffold::{Library, NewApp, NewFunction, Trigger};

pub const USAGE: &str = "\
local-host: a local stand-in for the Azure Functions host, for custom handlers

Usage:
  local-host start [--app DIR] [--port N | -p N] [--build | --watch] [--timers] [--ready-timeout SECONDS]
                   [--functions NAME...] [--cors ORIGINS [--cors-credentials]] [--output text|json] [--verbose]
  local-host invoke NAME (--data TEXT | --data-file FILE|-) [--app DIR] [--build]
                   [--ready-timeout SECONDS] [--output text|json] [--verbose]
  local-host check [--app DIR] [--build]
  local-host new app DIR [--name NAME] [--library-path PATH | --library-version VER | --library-git URL]
  local-host new function NAME (--http [--route R] [--methods get,post] | --queue QUEUE [--output-queue Q]
                                | --timer \"NCRONTAB\") [--blob-output PATH] [--app DIR]

start     serves the app in DIR (default: the current folder) on 127.0.0.1:N
          (default 7071) until Ctrl-C or SIGTERM; --timers fires timer
          functions on their schedules.
invoke    starts the handler, sends function NAME one invocation whose trigger
          input is TEXT, or FILE's content (`-`: standard input), prints the
          logs, outputs and warnings, and exits 0 when the invocation
          succeeded.
--output  (start, invoke) text (the default: timestamped lines, coloured on
          a terminal unless NO_COLOR is set) or json (one JSON object per
          line on stdout; an invocation's end carries function,
          invocationId, durationMs and outcome).
--verbose (start, invoke) also shows each envelope sent to the handler and
          each reply, the first 16 KiB of each.
--functions  (start) serves only the functions named (space- or
          comma-separated), as Core Tools' --functions loads a subset.
--cors    (start) answers cross-origin requests from ORIGINS (comma-separated
          scheme://host[:port], or *) and their preflight OPTIONS, as Core
          Tools does; --cors-credentials allows cookies and Authorization.
          local.settings.json's Host.CORS and Host.CORSCredentials apply
          when --cors is not given; Host.LocalHttpPort when --port is not.
check     reports the host.json and local.settings.json settings the host or
          the handler would mishandle, then runs the handler's own check of
          its functions against their folders; exits 0 when all is well, 1
          when something needs changing.
--watch   (start) builds like --build, then rebuilds on every change to the
          app's package or its function folders, host.json and
          local.settings.json, and serves each good build on the same port;
          after a failed build the last good one keeps answering.
--build   (start, invoke, check) builds the app's package with cargo first and
          runs the binary from cargo's target folder; nothing is written into
          the app folder.
new app   writes a ready app on azure-functions-rocket into the new folder DIR:
          Cargo.toml (package NAME, default: the folder's name), src/main.rs,
          the HTTP function Hello, host.json, local.settings.json, .funcignore,
          .gitignore, .cargo/config.toml and README.md. The library comes by
          default from this local-host's workspace, by path.
new function  adds function NAME to the app in DIR (default: the current
          folder): src/<name>.rs, NAME/function.json, and its `mod` and
          registry lines in src/main.rs. Exactly one trigger flag.

Exit codes: 0 done; 1 failed (an error line says why); 2 a bad command line,
or a `new` request refused (nothing written).";

/// The longest `--ready-timeout`: a day.
const MAX_READY_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

pub struct Options {
    pub app: PathBuf,
    pub port: u16,
    pub build: bool,
    pub timers: bool,
    pub ready_limit: Duration,
    pub data_file: Option<PathBuf>,
    /// `invoke --data TEXT`.
    pub data: Option<String>,
    pub output: Format,
    /// `start --watch`.
    pub watch: bool,
    /// Whether `--port` was given (else local.settings.json's
    /// `Host.LocalHttpPort` applies).
    pub port_given: bool,
    /// `start --functions`: the subset to serve; empty for all.
    pub functions: Vec<String>,
    /// `start --cors ORIGINS` (over local.settings.json's `Host.CORS`).
    pub cors: Option<String>,
    pub cors_credentials: bool,
    /// `--verbose`: the envelopes too.
    pub verbose: bool,
}

pub enum Command {
    Start(Options),
    Invoke(String, Options),
    Check { app: PathBuf, build: bool },
    NewApp(NewApp),
    NewFunction(NewFunction),
    Help,
}

/// Flags that take a value.
const VALUE_FLAGS: [&str; 18] = [
    "--cors",
    "--functions",
    "--app",
    "--output",
    "--data",
    "--port",
    "--ready-timeout",
    "--data-file",
    "--name",
    "--library-path",
    "--library-version",
    "--library-git",
    "--route",
    "--methods",
    "--queue",
    "--output-queue",
    "--timer",
    "--blob-output",
];

/// Flags that stand alone.
const SWITCHES: [&str; 6] = [
    "--build",
    "--timers",
    "--http",
    "--watch",
    "--verbose",
    "--cors-credentials",
];

/// A command line split into positionals and flags, in order.
struct Words {
    positionals: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

impl Words {
    fn split(args: &[String]) -> Result<Words, String> {
        let mut words = Words {
            positionals: Vec::new(),
            flags: Vec::new(),
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if !arg.starts_with('-') || arg == "-" {
                words.positionals.push(arg.clone());
                continue;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            // Core Tools' short form.
            let flag = if flag == "-p" { "--port" } else { flag };
            if flag == "-h" || flag == "--help" {
                words.flags.push(("--help".into(), None));
            } else if VALUE_FLAGS.contains(&flag) {
                let mut value = match inline {
                    Some(value) => value,
                    None => rest
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("{flag} needs a value"))?,
                };
                // Core Tools' `--functions A B`: the names up to the next flag.
                if flag == "--functions" {
                    while let Some(name) = rest.as_slice().first().filter(|w| !w.starts_with('-')) {
                        value = format!("{value},{name}");
                        rest.next();
                    }
                }
                if words.flags.iter().any(|(f, _)| f == flag) {
                    return Err(format!("{flag} is given twice"));
                }
                words.flags.push((flag.to_owned(), Some(value)));
            } else if SWITCHES.contains(&flag) && inline.is_none() {
                words.flags.push((flag.to_owned(), None));
            } else {
                return Err(format!("unknown option {arg}"));
            }
        }
        Ok(words)
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }

    fn value(&self, flag: &str) -> Option<String> {
        self.flags
            .iter()
            .find(|(f, _)| f == flag)
            .and_then(|(_, v)| v.clone())
    }

    /// Refuses any flag `command` does not take.
    fn only(&self, command: &str, allowed: &[&str]) -> Result<(), String> {
        match self
            .flags
            .iter()
            .find(|(f, _)| !allowed.contains(&f.as_str()))
        {
            Some((flag, _)) => Err(format!("{flag} is not an option of {command}")),
            None => Ok(()),
        }
    }

    fn app(&self) -> PathBuf {
        PathBuf::from(self.value("--app").unwrap_or_else(|| ".".into()))
    }
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let words = Words::split(args)?;
    if words.has("--help") {
        return Ok(Command::Help);
    }
    let positionals: Vec<&str> = words.positionals.iter().map(String::as_str).collect();
    match positionals.as_slice() {
        [] => Err("missing command: start, invoke, check or new".into()),
        ["help"] => Ok(Command::Help),
        ["start", rest @ ..] => {
            if let Some(extra) = rest.first() {
                return Err(format!("unexpected argument {extra:?}"));
            }
            if words.has("--data-file") || words.has("--data") {
                return Err("--data and --data-file belong to invoke".into());
            }
            words.only(
                "start",
                &[
                    "--app",
                    "--port",
                    "--build",
                    "--timers",
                    "--ready-timeout",
                    "--output",
                    "--watch",
                    "--functions",
                    "--cors",
                    "--cors-credentials",
                    "--verbose",
                ],
            )?;
            if words.has("--cors-credentials") && !words.has("--cors") {
                return Err("--cors-credentials goes with --cors ORIGINS".into());
            }
            Ok(Command::Start(options(&words)?))
        }
        ["invoke", rest @ ..] => {
            let name = function_name("invoke", rest)?;
            words.only(
                "invoke",
                &[
                    "--app",
                    "--data-file",
                    "--data",
                    "--build",
                    "--ready-timeout",
                    "--output",
                    "--verbose",
                ],
            )?;
            match (words.has("--data"), words.has("--data-file")) {
                (false, false) => {
                    return Err("invoke needs its input: --data TEXT or --data-file FILE (- for standard input)".into());
                }
                (true, true) => return Err("give --data or --data-file, not both".into()),
                _ => {}
            }
            Ok(Command::Invoke(name, options(&words)?))
        }
        ["check", rest @ ..] => {
            if let Some(extra) = rest.first() {
                return Err(format!("unexpected argument {extra:?}"));
            }
            words.only("check", &["--app", "--build"])?;
            Ok(Command::Check {
                app: words.app(),
                build: words.has("--build"),
            })
        }
        ["new", "app", rest @ ..] => {
            let dir = match rest {
                [] => return Err("new app needs a folder DIR".into()),
                [dir] => PathBuf::from(dir),
                [_, extra, ..] => return Err(format!("unexpected argument {extra:?}")),
            };
            words.only(
                "new app",
                &[
                    "--name",
                    "--library-path",
                    "--library-version",
                    "--library-git",
                ],
            )?;
            let mut libraries = Vec::new();
            if let Some(path) = words.value("--library-path") {
                libraries.push(Library::Path(PathBuf::from(path)));
            }
            if let Some(version) = words.value("--library-version") {
                libraries.push(Library::Version(version));
            }
            if let Some(url) = words.value("--library-git") {
                libraries.push(Library::Git(url));
            }
            if libraries.len() > 1 {
                return Err(
                    "give at most one of --library-path, --library-version and --library-git"
                        .into(),
                );
            }
            Ok(Command::NewApp(NewApp {
                dir,
                name: words.value("--name"),
                library: libraries.pop(),
            }))
        }
        ["new", "function", rest @ ..] => {
            let name = function_name("new function", rest)?;
            words.only(
                "new function",
                &[
                    "--http",
                    "--route",
                    "--methods",
                    "--queue",
                    "--output-queue",
                    "--timer",
                    "--blob-output",
                    "--app",
                ],
            )?;
            Ok(Command::NewFunction(NewFunction {
                name,
                trigger: trigger(&words)?,
                blob_output: words.value("--blob-output"),
                app: words.app(),
            }))
        }
        ["new", ..] => Err("new needs what to create: new app DIR, or new function NAME".into()),
        [other, ..] => Err(format!(
            "unknown command {other:?}: start, invoke, check or new"
        )),
    }
}

fn options(words: &Words) -> Result<Options, String> {
    let mut options = Options {
        app: words.app(),
        port: 7071,
        build: words.has("--build"),
        timers: words.has("--timers"),
        ready_limit: READY_TIMEOUT,
        data_file: words.value("--data-file").map(PathBuf::from),
        data: words.value("--data"),
        output: Format::Text,
        watch: words.has("--watch"),
        port_given: words.has("--port"),
        functions: words
            .value("--functions")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
        cors: words.value("--cors"),
        cors_credentials: words.has("--cors-credentials"),
        verbose: words.has("--verbose"),
    };
    if words.has("--functions") && options.functions.is_empty() {
        return Err("--functions needs at least one function NAME".into());
    }
    match words.value("--output").as_deref() {
        None | Some("text") => {}
        Some("json") => options.output = Format::Json,
        Some(other) => return Err(format!("--output {other:?} is not text or json")),
    }
    if let Some(text) = words.value("--port") {
        options.port = text
            .parse()
            .map_err(|_| format!("--port {text:?} is not a port number"))?;
    }
    if let Some(text) = words.value("--ready-timeout") {
        options.ready_limit = text
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s <= MAX_READY_TIMEOUT.as_secs_f64())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!(
                    "--ready-timeout {text:?} is not a number of seconds above 0 and at most {}",
                    MAX_READY_TIMEOUT.as_secs()
                )
            })?;
    }
    Ok(options)
}

/// The one trigger of `new function`, with the flags that belong to it.
fn trigger(words: &Words) -> Result<Trigger, String> {
    let given: Vec<&str> = ["--http", "--queue", "--timer"]
        .into_iter()
        .filter(|f| words.has(f))
        .collect();
    if given.len() != 1 {
        return Err(format!(
            "new function needs exactly one trigger: --http, --queue QUEUE or --timer \"NCRONTAB\"{}",
            if given.is_empty() {
                String::new()
            } else {
                format!(" (got {})", given.join(" and "))
            }
        ));
    }
    let belongs = |flag: &str, trigger: &str| {
        if words.has(flag) && given[0] != trigger {
            Err(format!("{flag} belongs to {trigger}"))
        } else {
            Ok(())
        }
    };
    belongs("--route", "--http")?;
    belongs("--methods", "--http")?;
    belongs("--output-queue", "--queue")?;
    Ok(match given[0] {
        "--http" => Trigger::Http {
            route: words.value("--route"),
            methods: words
                .value("--methods")
                .unwrap_or_else(|| "get,post".into())
                .split(',')
                .map(|m| m.trim().to_ascii_lowercase())
                .filter(|m| !m.is_empty())
                .collect(),
        },
        "--queue" => Trigger::Queue {
            queue: words.value("--queue").unwrap_or_default(),
            output_queue: words.value("--output-queue"),
        },
        _ => Trigger::Timer {
            schedule: words.value("--timer").unwrap_or_default(),
        },
    })
}

/// The one function NAME a command takes.
fn function_name(command: &str, rest: &[&str]) -> Result<String, String> {
    match rest {
        [] => Err(format!("{command} needs a function NAME")),
        [name] => Ok((*name).to_owned()),
        [_, extra, ..] => Err(format!("unexpected argument {extra:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Command, String> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let error = |line: &str| parse_words(line).err().unwrap_or_default();
        assert_eq!(error("start --port x"), "--port \"x\" is not a port number");
        for bad in ["1e20", "0", "-1", "NaN", "inf", "86400.5", "1e-12"] {
            assert_eq!(
                error(&format!("start --ready-timeout {bad}")),
                format!(
                    "--ready-timeout {bad:?} is not a number of seconds above 0 and at most 86400"
                )
            );
        }
        assert!(parse_words("start --ready-timeout 86400").is_ok());
        assert!(parse_words("start --ready-timeout 0.001").is_ok());
        assert_eq!(error("start -p x"), "--port \"x\" is not a port number");
        assert_eq!(error("start -p 1 --port 2"), "--port is given twice");
        assert_eq!(
            error("start --data-file f"),
            "--data and --data-file belong to invoke"
        );
        assert_eq!(
            error("invoke F --data x --data-file f"),
            "give --data or --data-file, not both"
        );
        assert_eq!(
            error("start --output yaml"),
            "--output \"yaml\" is not text or json"
        );
        assert_eq!(
            error("check --timers"),
            "--timers is not an option of check"
        );
        assert_eq!(error("check --app"), "--app needs a value");
        assert_eq!(error("start --app a --app b"), "--app is given twice");
        assert_eq!(
            error("new thing"),
            "new needs what to create: new app DIR, or new function NAME"
        );
        assert_eq!(
            error("new function F --http --queue q"),
            "new function needs exactly one trigger: --http, --queue QUEUE or --timer \"NCRONTAB\" (got --http and --queue)"
        );
        assert_eq!(
            error("new function F --queue q --route r"),
            "--route belongs to --http"
        );
        assert_eq!(
            error("new app d --library-path p --library-git g"),
            "give at most one of --library-path, --library-version and --library-git"
        );
    }

    #[test]
    fn commands_and_their_flags() {
        let Ok(Command::NewFunction(function)) =
            parse_words("new function Squares --queue=sides --output-queue squares --app x")
        else {
            panic!("a new function");
        };
        assert_eq!(function.name, "Squares");
        assert_eq!(function.app, PathBuf::from("x"));
        assert_eq!(
            function.trigger,
            Trigger::Queue {
                queue: "sides".into(),
                output_queue: Some("squares".into())
            }
        );
        let Ok(Command::Invoke(name, options)) = parse_words("invoke F --data-file d --build")
        else {
            panic!("an invoke");
        };
        assert_eq!(name, "F");
        assert!(options.build);
        assert!(matches!(
            parse_words("check --build"),
            Ok(Command::Check { build: true, .. })
        ));
        let Ok(Command::Start(options)) =
            parse_words("start --functions A B,C --verbose --cors * --cors-credentials")
        else {
            panic!("a start");
        };
        assert_eq!(options.functions, ["A", "B", "C"]);
        assert!(options.verbose && options.cors_credentials);
        assert_eq!(options.cors.as_deref(), Some("*"));
        let Ok(Command::Start(options)) = parse_words("start --functions=A --timers") else {
            panic!("a start");
        };
        assert_eq!(options.functions, ["A"]);
        assert!(options.timers);
    }

    #[test]
    fn core_tools_options_say_what_is_wrong() {
        let error = |line: &str| parse_words(line).err().unwrap_or_default();
        assert_eq!(error("start --functions"), "--functions needs a value");
        assert_eq!(
            error("start --functions ,"),
            "--functions needs at least one function NAME"
        );
        assert_eq!(
            error("start --cors-credentials"),
            "--cors-credentials goes with --cors ORIGINS"
        );
        assert_eq!(
            error("check --verbose"),
            "--verbose is not an option of check"
        );
        assert_eq!(
            error("invoke F --data x --cors *"),
            "--cors is not an option of invoke"
        );
    }

    use proptest::prelude::Strategy;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Any command line is a command or a message (exit 2): no panic.
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
            let _ = parse(&words);
        }
    }
}
