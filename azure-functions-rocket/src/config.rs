//! Configuration: the port the Functions host gives us, and Rocket's own
//! settings (`ROCKET_*`, `Rocket.toml`) with defaults that suit the host.

use std::ffi::OsString;
use std::fmt;

use rocket::Config;
use rocket::config::{Ident, LogLevel, Shutdown};
use rocket::data::{ByteUnit, Limits, ToByteUnit};
use rocket::figment::Figment;
use rocket::figment::Profile;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

pub use function_app::environment::PORT_VARIABLES;

/// The port when no host is around, as in the original blog post.
pub const DEFAULT_PORT: u16 = 8080;

/// The largest invocation read, unless `limits.json` says otherwise. The
/// host escapes the caller's body into a JSON string and repeats its
/// top-level values in `Metadata`, so a 1 MiB caller body can arrive as an
/// envelope many times that size.
pub fn default_json_limit() -> ByteUnit {
    32.mebibytes()
}

/// Seconds Rocket waits for requests in flight after SIGTERM (`grace`),
/// then for connections to close (`mercy`). Loopback from the host carries
/// even a several-hundred-MiB envelope in about a second and this app's
/// functions take milliseconds, so 5 s finishes what is in flight; and
/// grace + mercy + Rocket's 1 s stays under the 10 s a container runtime
/// (`docker stop`, App Service) gives before SIGKILL, so that a dropped
/// invocation is still reported before the process is killed.
pub const SHUTDOWN_GRACE: u32 = 5;
pub const SHUTDOWN_MERCY: u32 = 2;

/// The handler's own limits, read like Rocket's settings (`ROCKET_*`
/// variables, `Rocket.toml`), e.g. `ROCKET_IDLE_TIMEOUT=60`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Hardening {
    /// Seconds a connection may stay open without a request in progress
    /// before it is closed. Longer than .NET's pooled-connection idle
    /// timeout (1 min), so that the host's client closes its idle
    /// connections first and never sends on one being closed.
    pub idle_timeout: u64,
    /// Seconds a request head may take once its first byte has arrived:
    /// the host sends a head in one write.
    pub header_timeout: u64,
    /// Seconds an invocation's body may go without a byte arriving.
    pub body_timeout: u64,
    /// Open connections at most; more are closed within a second, with a
    /// line on stderr the first time. Lowered at start-up to fit the file
    /// descriptor limit.
    pub max_connections: usize,
    /// Invocations over [`LARGE_INVOCATION`] bytes held at once; the rest
    /// wait for a turn, up to `body_timeout`, then get 503.
    pub large_invocations: usize,
}

/// From this size on, an invocation counts against `large_invocations`
/// and is parsed on a blocking thread. Envelopes of ordinary calls are a
/// few KiB.
pub const LARGE_INVOCATION: usize = 1024 * 1024;

impl Default for Hardening {
    fn default() -> Self {
        Hardening {
            idle_timeout: 120,
            header_timeout: 10,
            body_timeout: 30,
            max_connections: 1000,
            large_invocations: 2,
        }
    }
}

impl Hardening {
    /// The settings in `figment`; unreadable values are an error.
    pub fn from_figment(figment: &Figment) -> Result<Hardening, Box<rocket::figment::Error>> {
        figment.extract().map_err(Box::new)
    }
}

/// A port variable that holds something other than a port number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError {
    pub variable: &'static str,
    pub value: String,
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={} is not a port number (expected 1-65535)",
            self.variable,
            crate::text::quote(&self.value)
        )
    }
}

impl std::error::Error for PortError {}

/// The port the host gave, from the first of [`PORT_VARIABLES`] that is
/// set; `None` when none is: then the handler runs by hand, not under the
/// host.
pub fn host_port(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Option<u16>, PortError> {
    let Some((variable, value)) = PORT_VARIABLES
        .iter()
        .find_map(|&name| lookup(name).map(|value| (name, value)))
    else {
        return Ok(None);
    };
    let value = value.to_string_lossy();
    match value.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(PortError {
            variable,
            value: value.into_owned(),
        }),
    }
}

/// Rocket's configuration when run by hand (no port variable): as
/// [`figment`], but `ROCKET_PORT` may choose the port, 8080 by default.
pub fn figment_by_hand() -> Figment {
    base_figment().merge(Serialized::default("port", DEFAULT_PORT))
}

/// Rocket's configuration for serving on `port`.
///
/// Built as [`Config::figment()`] is, so `ROCKET_*` variables and
/// `Rocket.toml` keep working. Our defaults go in below anything the user
/// sets in the environment or in `Rocket.toml` (its `[default]` table too):
/// - no logging: the host turns every stdout line into a log record;
/// - no `Server: Rocket` header: the host ignores it, and it tells anyone
///   else what to attack;
/// - a `json` limit large enough for the envelopes of 1 MiB caller bodies;
/// - no signal handling by Rocket: [`crate::run`] does it, see
///   there why.
///
/// The port goes in at the global profile, above everything else: the
/// host only ever dials the port it chose.
pub fn figment(port: u16) -> Figment {
    base_figment().merge(Serialized::global("port", port))
}

/// Rocket's [`Config::figment()`] with our defaults between Rocket's and
/// the user's: merged after `Rocket.toml` they would override its
/// `[default]` table.
fn base_figment() -> Figment {
    Figment::from(defaults())
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            Config::DEFAULT_PROFILE,
        ))
}

/// Rocket's defaults with ours on top (see [`figment`]).
fn defaults() -> Config {
    Config {
        log_level: LogLevel::Off,
        cli_colors: false,
        ident: Ident::none(),
        limits: Limits::default().limit("json", default_json_limit()),
        shutdown: Shutdown {
            ctrlc: false,
            signals: Default::default(),
            grace: SHUTDOWN_GRACE,
            mercy: SHUTDOWN_MERCY,
            ..Shutdown::default()
        },
        ..Config::default()
    }
}

/// The handler's configuration, read once at start-up.
pub struct Settings {
    /// What Rocket reads its configuration from, [`Settings::rocket`]'s
    /// source.
    pub figment: Figment,
    pub rocket: Config,
    pub hardening: Hardening,
}

impl Settings {
    /// For serving on the host's `port`, or by hand when there is none
    /// (then as [`figment_by_hand`]).
    pub fn load(port: Option<u16>) -> Result<Settings, Box<rocket::figment::Error>> {
        if !anything_configures_rocket() {
            // Our defaults are the whole configuration then. Merging them
            // into a figment and reading them back was a quarter of the
            // start-up's instructions (`bench/profile`'s start-up count).
            let rocket = Config {
                port: port.unwrap_or(DEFAULT_PORT),
                ..defaults()
            };
            return Ok(Settings {
                figment: Figment::from(&rocket),
                rocket,
                hardening: Hardening::default(),
            });
        }
        let figment = match port {
            Some(port) => figment(port),
            None => figment_by_hand(),
        };
        Ok(Settings {
            rocket: figment.extract().map_err(Box::new)?,
            hardening: Hardening::from_figment(&figment)?,
            figment,
        })
    }
}

/// Whether a `ROCKET_*` variable or a `Rocket.toml` is there to be read:
/// figment matches the prefix in any case, after trimming the name, and
/// looks for the file in the working directory and each one above it.
fn anything_configures_rocket() -> bool {
    let variable = std::env::vars_os().any(|(name, _)| {
        let name = name.to_string_lossy();
        let name = name.trim_start().as_bytes();
        name.len() >= 7 && name[..7].eq_ignore_ascii_case(b"ROCKET_")
    });
    // An unknown working directory: let figment look as it does.
    variable
        || std::env::current_dir().map_or(true, |directory| {
            directory
                .ancestors()
                .any(|directory| directory.join("Rocket.toml").is_file())
        })
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail returns figment's large error.
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.into())
        }
    }

    #[test]
    fn port_comes_from_the_custom_handler_variable_first() {
        assert_eq!(host_port(lookup(&[])), Ok(None));
        assert_eq!(
            host_port(lookup(&[("FUNCTIONS_HTTPWORKER_PORT", "7000")])),
            Ok(Some(7000))
        );
        let both = [
            ("FUNCTIONS_HTTPWORKER_PORT", "7000"),
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "7001"),
        ];
        assert_eq!(host_port(lookup(&both)), Ok(Some(7001)));
    }

    #[test]
    fn a_bad_port_names_the_variable_and_the_value() {
        for bad in ["", "abc", "0", "65536", "-1", " 80", "80.0"] {
            let error = host_port(lookup(&[("FUNCTIONS_CUSTOMHANDLER_PORT", bad)])).unwrap_err();
            assert_eq!(error.variable, "FUNCTIONS_CUSTOMHANDLER_PORT");
            assert_eq!(error.value, bad);
            let message = error.to_string();
            assert!(
                message.starts_with("FUNCTIONS_CUSTOMHANDLER_PORT="),
                "{message}"
            );
        }
        let error = host_port(lookup(&[("FUNCTIONS_HTTPWORKER_PORT", "x")])).unwrap_err();
        assert_eq!(error.variable, "FUNCTIONS_HTTPWORKER_PORT");
    }

    #[test]
    fn defaults_are_quiet_and_listen_on_ipv4_loopback() {
        // In a jail too: the other test's variables must not leak in.
        rocket::figment::Jail::expect_with(|_| {
            let config: Config = figment(9000).extract()?;
            assert_eq!(config.port, 9000);
            assert_eq!(config.log_level, LogLevel::Off);
            assert!(config.ident.as_str().is_none());
            assert_eq!(config.address.to_string(), "127.0.0.1");
            assert_eq!(config.limits.get("json"), Some(default_json_limit()));
            assert!(!config.shutdown.ctrlc);
            assert!(config.shutdown.signals.is_empty());
            assert_eq!(
                (config.shutdown.grace, config.shutdown.mercy),
                (SHUTDOWN_GRACE, SHUTDOWN_MERCY)
            );
            assert_eq!(
                Hardening::from_figment(&figment(9000)).map_err(|e| *e)?,
                Hardening::default()
            );
            Ok(())
        });
    }

    #[test]
    fn rocket_settings_still_apply_but_the_hosts_port_wins() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.set_env("ROCKET_ADDRESS", "0.0.0.0");
            jail.set_env("ROCKET_LOG_LEVEL", "normal");
            jail.set_env("ROCKET_PORT", "1234");
            jail.set_env("ROCKET_LIMITS", "{json=\"2MiB\"}");
            let config: Config = figment(9000).extract()?;
            assert_eq!(config.address.to_string(), "0.0.0.0");
            assert_eq!(config.log_level, LogLevel::Normal);
            assert_eq!(config.port, 9000);
            assert_eq!(config.limits.get("json"), Some(2.mebibytes()));
            Ok(())
        });
    }

    #[test]
    fn the_handlers_own_limits_read_like_rockets_settings() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.create_file("Rocket.toml", "[default]\nidle_timeout = 7\n")?;
            jail.set_env("ROCKET_MAX_CONNECTIONS", "50");
            let hardening = Hardening::from_figment(&figment(9000)).map_err(|e| *e)?;
            assert_eq!((hardening.idle_timeout, hardening.max_connections), (7, 50));
            assert_eq!(hardening.body_timeout, Hardening::default().body_timeout);
            jail.set_env("ROCKET_BODY_TIMEOUT", "soon");
            assert!(Hardening::from_figment(&figment(9000)).is_err());
            Ok(())
        });
    }

    #[test]
    fn rocket_toml_default_table_overrides_our_defaults() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.create_file(
                "Rocket.toml",
                "[default]\nlimits = { json = \"2KiB\" }\nlog_level = \"normal\"\n",
            )?;
            let config: Config = figment(9000).extract()?;
            assert_eq!(config.limits.get("json"), Some(2.kibibytes()));
            assert_eq!(config.log_level, LogLevel::Normal);
            assert!(!config.shutdown.ctrlc);
            Ok(())
        });
    }

    /// With no `ROCKET_*` variable and no `Rocket.toml`, the settings are
    /// built without reading a figment; Rocket must see the same ones.
    #[test]
    fn with_nothing_to_read_the_settings_are_those_figment_reads() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.clear_env();
            for port in [Some(9000), None] {
                let read = match port {
                    Some(port) => figment(port),
                    None => figment_by_hand(),
                };
                let settings = Settings::load(port).map_err(|e| *e)?;
                let expected = Config::try_from(&read)?;
                assert_eq!(Config::try_from(&settings.figment)?, expected);
                assert_eq!(
                    Config {
                        profile: expected.profile.clone(),
                        ..settings.rocket
                    },
                    expected
                );
                assert_eq!(
                    settings.hardening,
                    Hardening::from_figment(&read).map_err(|e| *e)?
                );
            }
            Ok(())
        });
    }

    /// A variable in any case, or a `Rocket.toml` above the working
    /// directory, is read as figment reads it.
    #[test]
    fn settings_read_rocket_variables_in_any_case_and_rocket_toml_above() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("rocket_log_level", "normal");
            assert_eq!(
                Settings::load(Some(9000)).map_err(|e| *e)?.rocket.log_level,
                LogLevel::Normal
            );
            jail.clear_env();
            jail.create_file("Rocket.toml", "[default]\nidle_timeout = 7\n")?;
            jail.create_dir("app/bin")?;
            jail.change_dir("app/bin")?;
            let settings = Settings::load(Some(9000)).map_err(|e| *e)?;
            assert_eq!(settings.hardening.idle_timeout, 7);
            assert_eq!(settings.rocket.port, 9000);
            Ok(())
        });
    }

    #[test]
    fn by_hand_rocket_port_chooses_the_port_and_8080_is_the_default() {
        rocket::figment::Jail::expect_with(|jail| {
            assert_eq!(figment_by_hand().extract::<Config>()?.port, DEFAULT_PORT);
            jail.set_env("ROCKET_PORT", "1234");
            assert_eq!(figment_by_hand().extract::<Config>()?.port, 1234);
            assert_eq!(host_port(lookup(&[])), Ok(None));
            Ok(())
        });
    }

    #[test]
    fn longer_shutdown_periods_keep_rocket_off_the_signals() {
        rocket::figment::Jail::expect_with(|jail| {
            jail.set_env("ROCKET_SHUTDOWN", "{grace=10,mercy=5}");
            let config: Config = figment(9000).extract()?;
            assert_eq!((config.shutdown.grace, config.shutdown.mercy), (10, 5));
            assert!(!config.shutdown.ctrlc);
            assert!(config.shutdown.signals.is_empty());
            Ok(())
        });
    }
}
