//! Where everything the host would log goes: the handler's stdout and
//! stderr, each invocation's `Logs`, its outputs and the warnings. The
//! command line prints it (as text with timestamps, coloured on a
//! terminal, or one JSON object per line); tests read it back.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::terminal::visible;
use crate::timers::clock::UtcTime;

/// How many lines a quiet console keeps (the newest).
pub const KEPT_LINES: usize = 10_000;

/// How much of an envelope `--verbose` shows: enough for any envelope a
/// person reads, and a 100 MiB body does not flood the terminal.
pub const ENVELOPE_SHOWN: usize = 16 * 1024;

/// How printed lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `[2026-11-30T20:59:21.123Z] text`, coloured on a terminal unless
    /// `NO_COLOR` is set.
    #[default]
    Text,
    /// One JSON object per line, on stdout.
    Json,
}

/// One invocation's end, as [`Console::finished`] records it.
#[derive(Clone, Copy, Debug)]
pub struct Finished<'a> {
    pub function: &'a str,
    pub invocation_id: &'a str,
    pub duration: Duration,
    /// `Succeeded`, `Failed` or `NeverCompletes`.
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub level: Level,
    pub text: String,
}

/// A shared, cloneable log. A printing console (the command line) prints
/// each line, info to stdout, warnings and errors to stderr, and keeps
/// none: what is printed is the history. A quiet one (tests) prints
/// nothing and keeps the newest [`KEPT_LINES`] lines to read back.
#[derive(Clone, Debug, Default)]
pub struct Console {
    lines: Arc<Mutex<VecDeque<Line>>>,
    echo: bool,
    format: Format,
    colour_out: bool,
    colour_err: bool,
    verbose: bool,
}

impl Console {
    /// Keeps lines without printing them (for tests).
    pub fn quiet() -> Console {
        Console::default()
    }

    /// Prints lines as text and keeps none (for the command line).
    pub fn printing() -> Console {
        Console::printing_as(Format::Text)
    }

    /// Prints lines in `format` and keeps none; text is coloured only on a
    /// terminal and without `NO_COLOR` (https://no-color.org).
    pub fn printing_as(format: Format) -> Console {
        let colour =
            format == Format::Text && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Console {
            echo: true,
            format,
            colour_out: colour && std::io::stdout().is_terminal(),
            colour_err: colour && std::io::stderr().is_terminal(),
            ..Console::default()
        }
    }

    /// This console, showing envelopes ([`Console::envelope`]) when
    /// `verbose`.
    pub fn verbose(mut self, verbose: bool) -> Console {
        self.verbose = verbose;
        self
    }

    /// With `--verbose`, logs what went over the wire to or from the
    /// handler as `{tag} {what}: {bytes}`, cut after [`ENVELOPE_SHOWN`]
    /// bytes with the full length said.
    pub fn envelope(&self, tag: &str, what: &str, bytes: &[u8]) {
        if !self.verbose {
            return;
        }
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(ENVELOPE_SHOWN)]);
        let cut = if bytes.len() > ENVELOPE_SHOWN {
            format!(" ... (first {ENVELOPE_SHOWN} of {} bytes)", bytes.len())
        } else {
            String::new()
        };
        self.info(format!("{tag} {what}: {shown}{cut}"));
    }

    /// Logs `text`, its control and escape characters written out
    /// ([`visible`]): much of it comes from the handler or from callers.
    pub fn log(&self, level: Level, text: impl Into<String>) {
        let text = shown(text.into());
        if self.echo {
            match self.format {
                Format::Text => self.print_text(level, &text, None),
                Format::Json => out(format_args!("{}", Value::Object(json_fields(level, &text)))),
            }
            return;
        }
        self.keep(level, text);
    }

    fn keep(&self, level: Level, text: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(Line { level, text });
    }

    fn print_text(&self, level: Level, text: &str, outcome: Option<&str>) {
        let stamp = timestamp();
        let colour = match level {
            Level::Info => self.colour_out,
            _ => self.colour_err,
        };
        let (start, end) = match (colour, level, outcome) {
            (false, ..) => ("", ""),
            (true, Level::Info, Some(_)) => ("\x1b[32m", "\x1b[0m"),
            (true, Level::Info, None) => ("", ""),
            (true, Level::Warning, _) => ("\x1b[33m", "\x1b[0m"),
            (true, Level::Error, _) => ("\x1b[31m", "\x1b[0m"),
        };
        let stamp = if colour {
            format!("\x1b[2m[{stamp}]\x1b[0m")
        } else {
            format!("[{stamp}]")
        };
        match level {
            Level::Info => out(format_args!("{stamp} {start}{text}{end}")),
            Level::Warning => err(format_args!("{stamp} {start}warning: {text}{end}")),
            Level::Error => err(format_args!("{stamp} {start}error: {text}{end}")),
        }
    }

    /// Records an invocation's end: the line `[F id] Succeeded` (or
    /// `Failed: reason`, `Never completes: reason`), printed with its
    /// duration, or as a JSON event with `durationMs` and `outcome`.
    pub fn finished(&self, end: Finished<'_>) {
        let tag = shown(format!("[{} {}]", end.function, end.invocation_id));
        let reason = end.reason.map(|reason| shown(reason.to_owned()));
        let end = Finished {
            reason: reason.as_deref(),
            ..end
        };
        let (level, verdict) = match end.outcome {
            "Succeeded" => (Level::Info, "Succeeded"),
            "Failed" => (Level::Error, "Failed"),
            _ => (Level::Error, "Never completes"),
        };
        let text = match end.reason {
            Some(reason) => format!("{tag} {verdict}: {reason}"),
            None => format!("{tag} {verdict}"),
        };
        let millis = end.duration.as_secs_f64() * 1000.0;
        if self.echo {
            match self.format {
                Format::Text => {
                    let shown = match end.reason {
                        Some(reason) => format!("{tag} {verdict} in {millis:.0} ms: {reason}"),
                        None => format!("{tag} {verdict} in {millis:.0} ms"),
                    };
                    self.print_text(level, &shown, Some(end.outcome));
                }
                Format::Json => {
                    let mut fields = json_fields(level, &text);
                    fields.insert("event".into(), json!("invocation"));
                    fields.insert(
                        "durationMs".into(),
                        json!((millis * 1000.0).round() / 1000.0),
                    );
                    fields.insert("outcome".into(), json!(end.outcome));
                    if let Some(reason) = end.reason {
                        fields.insert("reason".into(), json!(reason));
                    }
                    out(format_args!("{}", Value::Object(fields)));
                }
            }
            return;
        }
        self.keep(level, text);
    }

    pub fn info(&self, text: impl Into<String>) {
        self.log(Level::Info, text);
    }

    pub fn warning(&self, text: impl Into<String>) {
        self.log(Level::Warning, text);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.log(Level::Error, text);
    }

    /// The lines kept: the newest [`KEPT_LINES`] of a quiet console, none
    /// of a printing one.
    pub fn lines(&self) -> Vec<Line> {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether any line so far contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.text.contains(needle))
    }
}

/// `text` with its control and escape characters written out.
fn shown(text: String) -> String {
    match visible(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(shown) => shown,
    }
}

/// A line to stdout. A closed stdout (`cargo azfunc start | head`) must not
/// stop cargo-azfunc: what cannot be printed is dropped.
fn out(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A line to stderr, likewise.
fn err(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Now, as `2026-11-30T20:59:21.123Z`.
pub fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let iso = UtcTime {
        unix: now.as_secs() as i64,
    }
    .iso();
    format!("{}.{:03}Z", iso.trim_end_matches('Z'), now.subsec_millis())
}

/// A line's JSON fields: timestamp, level, message, and the function and
/// invocation id of a line tagged `[Function id]`.
fn json_fields(level: Level, text: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("timestamp".into(), json!(timestamp()));
    let level = match level {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    };
    fields.insert("level".into(), json!(level));
    let tag = text
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(tag, _)| tag.split_once(' '))
        .filter(|(_, id)| !id.contains(' '));
    if let Some((function, id)) = tag {
        fields.insert("function".into(), json!(function));
        fields.insert("invocationId".into(), json!(id));
    }
    fields.insert("message".into(), json!(text));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_name_the_function_and_invocation() {
        let fields = json_fields(Level::Info, "[Area abc-1] radius=2");
        assert_eq!(fields["function"], "Area");
        assert_eq!(fields["invocationId"], "abc-1");
        assert_eq!(fields["level"], "info");
        let fields = json_fields(Level::Warning, "[host] something");
        assert!(fields.get("function").is_none());
        let stamp = timestamp();
        assert_eq!(stamp.len(), "2026-11-30T20:59:21.123Z".len(), "{stamp}");
    }

    #[test]
    fn lines_are_kept_as_shown() {
        let console = Console::quiet();
        console.info("[handler] \u{1b}]0;pwned\u{7}\nforged");
        assert_eq!(
            console.lines()[0].text,
            "[handler] \\x1b]0;pwned\\x07\\nforged"
        );
    }

    #[test]
    fn envelopes_show_only_when_verbose_and_only_their_start() {
        let console = Console::quiet();
        console.envelope("[F 1]", "sent", b"{}");
        assert!(console.lines().is_empty());
        let console = Console::quiet().verbose(true);
        console.envelope("[F 1]", "sent", b"{\"Data\":{}}");
        let big = vec![b'x'; 100 * 1024 * 1024];
        console.envelope("[F 1]", "reply 200", &big);
        let lines = console.lines();
        assert_eq!(lines[0].text, "[F 1] sent: {\"Data\":{}}");
        let expected_end = format!(" ... (first {ENVELOPE_SHOWN} of {} bytes)", big.len());
        assert!(
            lines[1].text.ends_with(&expected_end),
            "{}",
            &lines[1].text[..80]
        );
        assert_eq!(
            lines[1].text.len(),
            "[F 1] reply 200: ".len() + ENVELOPE_SHOWN + expected_end.len()
        );
    }

    #[test]
    fn a_printing_console_keeps_nothing() {
        let console = Console::printing();
        for n in 0..3 {
            console.info(format!("line {n}"));
        }
        assert!(console.lines().is_empty());
    }

    #[test]
    fn a_quiet_console_keeps_the_newest_lines_only() {
        let console = Console::quiet();
        for n in 0..=KEPT_LINES {
            console.info(format!("line {n}"));
        }
        let lines = console.lines();
        assert_eq!(lines.len(), KEPT_LINES);
        assert_eq!(lines[0].text, "line 1");
        assert_eq!(lines[KEPT_LINES - 1].text, format!("line {KEPT_LINES}"));
    }
}
