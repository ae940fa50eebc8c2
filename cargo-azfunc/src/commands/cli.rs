//! The command line, on clap: the commands, their options and their help.
//! The option names are Core Tools' (`func start --port/-p`, `--cors`,
//! `--cors-credentials`, `--functions`, `--verbose`) where `func` has one.
//! A command line that is not one gets clap's message and exit 2.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use cargo_azfunc::console::Format;
use cargo_azfunc::handler::client::READY_TIMEOUT;

/// The longest `--ready-timeout`: a day.
const MAX_READY_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

#[derive(Parser, Debug)]
#[command(
    name = "cargo-azfunc",
    bin_name = "cargo azfunc",
    version,
    about = "Azure Functions custom handlers in Rust: create an app, check it, and run it locally on a stand-in for the Functions host",
    after_help = "Exit codes: 0 done; 1 failed (an error line says why); 2 a bad command line, or a `new` request refused (nothing written).",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the app on 127.0.0.1 until Ctrl-C or SIGTERM, as `func start`
    /// does: HTTP functions on their routes, every other function through
    /// `POST /admin/functions/{name}`, queue functions from Azurite.
    Start(StartArgs),
    /// Start the handler, send function NAME one invocation with the given
    /// trigger input, print its logs, outputs and warnings, and exit 0 when
    /// it succeeded.
    Invoke(InvokeArgs),
    /// Report the host.json, local.settings.json and function.json settings
    /// the host or the handler would mishandle, then run the handler's own
    /// check of its functions; exit 0 when all is well, 1 when something
    /// needs changing.
    Check(CheckArgs),
    /// Write the function folders the handler's registry declares (each
    /// <Function>/function.json), as `start --build` does: missing ones
    /// written, ones cargo azfunc wrote refreshed, hand-kept ones never
    /// touched.
    Generate(CheckArgs),
    /// Create an app, or add a function to one.
    #[command(subcommand)]
    New(New),
}

#[derive(Subcommand, Debug)]
pub enum New {
    /// Write a ready app on azure-functions-rocket into the new folder DIR:
    /// Cargo.toml, src/main.rs, the HTTP function Hello, host.json,
    /// local.settings.json, .funcignore, .gitignore, .cargo/config.toml and
    /// README.md.
    App(NewAppArgs),
    /// Add function NAME to an app: src/<name>.rs, NAME/function.json, and
    /// its `mod` and registry lines. Exactly one trigger option.
    Function(NewFunctionArgs),
}

/// The app folder, for every command that reads one.
#[derive(Args, Debug)]
pub struct AppArg {
    /// The app folder (with host.json).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub app: PathBuf,
}

/// How the handler runs and how its output is shown (`start`, `invoke`).
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub app: AppArg,
    /// Build the app's package with cargo first and run the binary from
    /// cargo's target folder (not copied into the app folder), after
    /// writing the function folders its registry declares.
    #[arg(long)]
    pub build: bool,
    /// How long the handler may take to answer its first request, in
    /// seconds (above 0, at most a day).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = ready_timeout)]
    pub ready_timeout: Duration,
    /// text: timestamped lines, coloured on a terminal unless NO_COLOR is
    /// set; json: one JSON object per line on stdout (an invocation's end
    /// carries function, invocationId, durationMs and outcome).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Output::Text)]
    pub output: Output,
    /// Also show each envelope sent to the handler and each reply (the
    /// first 16 KiB of each).
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// The port to listen on [default: local.settings.json's
    /// Host.LocalHttpPort, else 7071].
    #[arg(long, short = 'p', value_name = "N")]
    pub port: Option<u16>,
    /// Build like --build, then rebuild on every change to the app's package,
    /// its function folders, host.json and local.settings.json, and serve
    /// each good build on the same port (after a failed build the last good
    /// one keeps answering).
    #[arg(long)]
    pub watch: bool,
    /// Fire timer functions on their schedules.
    #[arg(long)]
    pub timers: bool,
    /// Serve only the functions named (space- or comma-separated), as Core
    /// Tools' --functions loads a subset.
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',')]
    pub functions: Vec<String>,
    /// Answer cross-origin requests from ORIGINS (comma-separated
    /// scheme://host[:port], or *) and their preflight OPTIONS, as Core
    /// Tools does [default: local.settings.json's Host.CORS].
    #[arg(long, value_name = "ORIGINS")]
    pub cors: Option<String>,
    /// With --cors: allow cookies and Authorization [default:
    /// local.settings.json's Host.CORSCredentials].
    #[arg(long, requires = "cors")]
    pub cors_credentials: bool,
    /// Serve over HTTPS, as Core Tools' --useHttps does, with a certificate
    /// for localhost made at start (signed by a local CA the handler is told
    /// to trust through SSL_CERT_FILE), or the one --cert names. With
    /// --watch, every build is served behind the same certificate.
    #[arg(long = "useHttps")]
    pub use_https: bool,
    /// With --useHttps: a .pfx (PKCS#12) file with the certificate and its
    /// private key, as Core Tools takes; or a PEM file with the chain and
    /// its key.
    #[arg(long, value_name = "PATH", requires = "use_https")]
    pub cert: Option<std::path::PathBuf>,
    /// With --cert: the .pfx's password, or a file holding it (as Core
    /// Tools reads it) [default: the empty password].
    #[arg(long, value_name = "PASSWORD|FILE", requires = "cert")]
    pub password: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("input").required(true).args(["data", "data_file"])))]
pub struct InvokeArgs {
    /// The function to invoke (any case).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The trigger input, as text.
    #[arg(long, value_name = "TEXT")]
    pub data: Option<String>,
    /// The trigger input, read from FILE (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub app: AppArg,
    /// Build the app's package with cargo first (writing the function
    /// folders its registry declares), so that the handler's own check runs
    /// too; `generate`: the handler whose registry is read.
    #[arg(long)]
    pub build: bool,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("library").args(["library_path", "library_version", "library_git"])))]
pub struct NewAppArgs {
    /// The folder to create.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The package name [default: the folder's name, made a crate name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Take azure-functions-rocket from PATH [default: this workspace's
    /// copy, by path].
    #[arg(long, value_name = "PATH")]
    pub library_path: Option<PathBuf>,
    /// Take azure-functions-rocket from crates.io, version VER.
    #[arg(long, value_name = "VER")]
    pub library_version: Option<String>,
    /// Take azure-functions-rocket from the git repository URL.
    #[arg(long, value_name = "URL")]
    pub library_git: Option<String>,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("trigger").required(true).args(["http", "queue", "timer"])))]
pub struct NewFunctionArgs {
    /// The function's name (its folder's name).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// An HTTP-triggered function.
    #[arg(long)]
    pub http: bool,
    /// With --http: its route template [default: the function's name].
    // Conflicts, not `requires`: clap lets `requires` of a trigger through
    // (the group of triggers is satisfied) and any conflict of an option
    // with a default value.
    #[arg(long, value_name = "R", conflicts_with_all = ["queue", "timer"])]
    pub route: Option<String>,
    /// With --http: the methods it answers, comma-separated [default:
    /// get,post].
    #[arg(long, value_name = "get,post", conflicts_with_all = ["queue", "timer"])]
    pub methods: Option<String>,
    /// A queue-triggered function, on queue QUEUE.
    #[arg(long, value_name = "QUEUE")]
    pub queue: Option<String>,
    /// With --queue: a queue output to queue Q.
    #[arg(long, value_name = "Q", conflicts_with_all = ["http", "timer"])]
    pub output_queue: Option<String>,
    /// A timer-triggered function, on this NCRONTAB schedule (quoted, e.g.
    /// "0 */5 * * * *").
    #[arg(long, value_name = "NCRONTAB")]
    pub timer: Option<String>,
    /// A blob output to PATH, e.g. `results/{rand-guid}.json`.
    #[arg(long, value_name = "PATH")]
    pub blob_output: Option<String>,
    #[command(flatten)]
    pub app: AppArg,
}

/// `--output`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

impl From<Output> for Format {
    fn from(output: Output) -> Format {
        match output {
            Output::Text => Format::Text,
            Output::Json => Format::Json,
        }
    }
}

/// `--ready-timeout SECONDS`: above 0 and at most a day.
fn ready_timeout(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= MAX_READY_TIMEOUT.as_secs_f64())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!(
                "not a number of seconds above 0 and at most {}",
                MAX_READY_TIMEOUT.as_secs()
            )
        })
}

impl Cli {
    /// The command line, or clap's message and exit 2.
    pub fn from_args() -> Cli {
        match Cli::checked(args()) {
            Ok(cli) => cli,
            Err(error) => error.exit(),
        }
    }

    /// [`Cli::try_parse_from`], and `--functions` names trimmed, empty
    /// ones left out (as Core Tools does), and at least one left.
    pub fn checked(
        args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
    ) -> Result<Cli, clap::Error> {
        let mut cli = Cli::try_parse_from(args)?;
        if let Command::Start(start) = &mut cli.command
            && !start.functions.is_empty()
        {
            start.functions = start
                .functions
                .iter()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect();
            if start.functions.is_empty() {
                return Err(Cli::command().error(
                    clap::error::ErrorKind::InvalidValue,
                    "--functions needs at least one function NAME",
                ));
            }
        }
        Ok(cli)
    }
}

/// The arguments after the program's name, without the `azfunc` cargo puts
/// first when it runs `cargo azfunc ...` as `cargo-azfunc azfunc ...`.
pub fn args() -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = std::env::args_os().collect();
    if args.get(1).is_some_and(|first| first == "azfunc") {
        args.remove(1);
    }
    args
}

// `--ready-timeout`'s default, written out for its help, is the client's.
const _: () = assert!(READY_TIMEOUT.as_secs() == 30 && READY_TIMEOUT.subsec_nanos() == 0);

#[cfg(test)]
mod tests;
