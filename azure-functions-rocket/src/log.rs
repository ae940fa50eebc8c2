//! The `Logs` of one invocation, written by the function through free
//! functions, as `log` or `tracing` users expect: `log::field("radius", r)`.
//!
//! The layer opens a log for every invocation; the function adds fields to
//! the line the layer writes at the end, or whole lines of its own. Every
//! line names the level, the function and the invocation, and quotes every
//! text value the same way, so a caller cannot forge `key=value` tokens.
//! With the `tracing` feature, `tracing` events inside the function are
//! lines of the same log, naming their target as `category`.
//!
//! ```
//! use azure_functions_rocket::{Error, QueueMessage, log};
//!
//! async fn count(message: QueueMessage) -> Result<(), Error> {
//!     log::field("length", message.text.len());
//!     log::field("retry", message.dequeue_count.unwrap_or(1) > 1);
//!     if message.text.is_empty() {
//!         log::warn("an empty message");
//!     }
//!     Ok(())
//! }
//! // Its last line: [INFO] Count invocation="<id>" length=5 retry=false status=200
//! ```

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::future::Future;

use rocket::tokio;

use crate::text::{Number, quote_at_most, quote_id, quote_message};

/// How many characters of a text field a line keeps: a timestamp or a
/// name whole, never a whole body.
const FIELD_CHARS: usize = 128;

/// A value in a log line: numbers as people write them, text quoted.
///
/// ```
/// use azure_functions_rocket::log::FieldValue;
///
/// assert_eq!(FieldValue::from(3usize).to_string(), "3");
/// assert_eq!(FieldValue::from(u64::MAX).to_string(), "18446744073709551615");
/// assert_eq!(FieldValue::from(-2i8).to_string(), "-2");
/// assert_eq!(FieldValue::from(true).to_string(), "true");
/// assert_eq!(FieldValue::from(2.5).to_string(), "2.5");
/// assert_eq!(FieldValue::from("a b").to_string(), "\"a b\"");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A floating-point number.
    Number(f64),
    /// A signed integer, exactly.
    Integer(i128),
    /// An unsigned integer, exactly.
    Unsigned(u128),
    /// `true` or `false`.
    Bool(bool),
    /// Text, always quoted.
    Text(String),
}

impl From<f64> for FieldValue {
    fn from(value: f64) -> Self {
        FieldValue::Number(value)
    }
}

impl From<f32> for FieldValue {
    fn from(value: f32) -> Self {
        FieldValue::Number(value.into())
    }
}

impl From<bool> for FieldValue {
    fn from(value: bool) -> Self {
        FieldValue::Bool(value)
    }
}

macro_rules! integers {
    ($variant:ident as $wide:ty: $($int:ty),*) => {
        $(impl From<$int> for FieldValue {
            fn from(value: $int) -> Self {
                FieldValue::$variant(value as $wide)
            }
        })*
    };
}

integers!(Integer as i128: i8, i16, i32, i64, i128, isize);
integers!(Unsigned as u128: u8, u16, u32, u64, u128, usize);

impl From<&str> for FieldValue {
    fn from(value: &str) -> Self {
        FieldValue::Text(value.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(value: String) -> Self {
        FieldValue::Text(value)
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Number(value) => Number(*value).fmt(f),
            FieldValue::Integer(value) => value.fmt(f),
            FieldValue::Unsigned(value) => value.fmt(f),
            FieldValue::Bool(value) => value.fmt(f),
            FieldValue::Text(text) => f.write_str(&quote_at_most(text, FIELD_CHARS)),
        }
    }
}

/// A line's severity. The host logs every `Logs` line at Information
/// level; the bracketed prefix is how users filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `[INFO]`: what happened.
    Info,
    /// `[WARN]`: something to look at.
    Warn,
    /// `[ERROR]`: something failed.
    Error,
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::Info => "[INFO]",
            Level::Warn => "[WARN]",
            Level::Error => "[ERROR]",
        }
    }
}

/// One line a function logged: its own ([`info`] and the like) or a
/// `tracing` event's, which names its category (the event's target) and
/// may carry fields of its own.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) level: Level,
    #[cfg(feature = "tracing")]
    pub(crate) category: Option<&'static str>,
    pub(crate) message: Option<String>,
    #[cfg(feature = "tracing")]
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
}

impl Line {
    /// What follows the line's head: ` message="..."`, then its fields as
    /// ` key=value`, every text quoted.
    fn write_body(&self, out: &mut String) {
        if let Some(message) = &self.message {
            // Quoted and escaped whole, as every text in a line: a caller's
            // text inside cannot end the line, add a token or reach a
            // terminal as an escape sequence.
            out.push_str(" message=");
            out.push_str(&quote_message(message));
        }
        #[cfg(feature = "tracing")]
        for (name, value) in &self.fields {
            out.push(' ');
            write_key(out, name);
            // Writing to a String cannot fail.
            let _ = write!(out, "={value}");
        }
    }

    fn write_category(&self, out: &mut String) {
        if let Some(category) = self.category() {
            out.push_str(" category=");
            out.push_str(&quote_at_most(category, FIELD_CHARS));
        }
    }

    /// The event's target; `None` for the function's own lines.
    fn category(&self) -> Option<&'static str> {
        #[cfg(feature = "tracing")]
        return self.category;
        #[cfg(not(feature = "tracing"))]
        None
    }

    /// The line on the process's own output, for an event outside any
    /// invocation: `[INFO] category="..." message="..."`.
    #[cfg(feature = "tracing")]
    pub(crate) fn print(&self) {
        let mut line = String::from(self.level.prefix());
        self.write_category(&mut line);
        self.write_body(&mut line);
        emit_on_process_output(self.level, &line);
    }
}

/// `body` without the space its writer puts before every item.
fn unspaced(mut body: String) -> String {
    if body.starts_with(' ') {
        body.remove(0);
    }
    body
}

/// The names a line's head uses: a field of the same name is written
/// `_name`, so that a reader finds the head's value under it.
#[cfg(feature = "tracing")]
const HEAD_KEYS: [&str; 3] = ["invocation", "category", "status"];

/// `name` as a logfmt key: anything but letters, digits, `_`, `.` and `-`
/// becomes `_`, so that no name can add a token or end the line.
#[cfg(feature = "tracing")]
fn write_key(out: &mut String, name: &str) {
    if name.is_empty() || HEAD_KEYS.contains(&name) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            c
        } else {
            '_'
        }
    }));
}

/// One write per line, so that concurrent invocations' lines never
/// interleave: information on stdout, warnings and errors on stderr, which
/// the host logs as warnings (the line holds "WARN") and errors. A closed
/// stream loses the line only.
fn emit_on_process_output(level: Level, line: &str) {
    use std::io::Write as _;
    let _ = match level {
        Level::Info => writeln!(std::io::stdout().lock(), "{line}"),
        Level::Warn | Level::Error => writeln!(std::io::stderr().lock(), "{line}"),
    };
}

/// One record of an invocation's log, for a channel that carries the
/// level, the category and the invocation apart from the text (the native
/// worker's `RpcLog`): `message` is the line without its head.
// Read by the native worker, which sends each as an `RpcLog`.
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) level: Level,
    /// The event's target for a `tracing` event; `Function.<name>.User`,
    /// the host's own category for a function's logs, for the rest.
    pub(crate) category: String,
    pub(crate) message: String,
}

/// What a function logged during one invocation.
#[derive(Debug, Default)]
pub(crate) struct InvocationLog {
    fields: Vec<(&'static str, FieldValue)>,
    lines: Vec<Line>,
}

impl InvocationLog {
    /// The `Logs` of the invocation: the function's own lines, then one
    /// line with its fields and the outcome (`status`, and `error` if any).
    pub fn lines(
        self,
        function: &str,
        invocation_id: Option<&str>,
        status: u16,
        error: Option<&str>,
    ) -> Vec<String> {
        let mut lines: Vec<String> = Vec::with_capacity(self.lines.len() + 1);
        self.write(function, invocation_id, status, error, |_, line| {
            lines.push(line)
        });
        lines
    }

    /// The same lines on the process's own output, for when no envelope
    /// carries them (forwarding and proxying modes).
    pub fn print(
        self,
        function: &str,
        invocation_id: Option<&str>,
        status: u16,
        error: Option<&str>,
    ) {
        self.write(function, invocation_id, status, error, |level, line| {
            emit_on_process_output(level, &line)
        });
    }

    /// The invocation's records, in order, the closing one last: what
    /// [`InvocationLog::lines`] writes, with the level, the category and
    /// the invocation left out of the text for a channel that carries
    /// them apart.
    // Called by the native worker.
    #[allow(dead_code)]
    pub fn records(
        self,
        function: &str,
        status: u16,
        error: Option<&str>,
    ) -> impl Iterator<Item = Record> {
        let own = format!("Function.{function}.User");
        let summary = Record {
            level: outcome_level(status),
            category: own.clone(),
            message: {
                let mut body = String::with_capacity(64);
                write_summary(&mut body, &self.fields, status, error);
                unspaced(body)
            },
        };
        self.lines
            .into_iter()
            .map(move |line| Record {
                level: line.level,
                category: line.category().map_or_else(|| own.clone(), str::to_owned),
                message: {
                    let mut body = String::new();
                    line.write_body(&mut body);
                    unspaced(body)
                },
            })
            .chain(std::iter::once(summary))
    }

    fn write(
        self,
        function: &str,
        invocation_id: Option<&str>,
        status: u16,
        error: Option<&str>,
        mut emit: impl FnMut(Level, String),
    ) {
        let id = quote_id(invocation_id);
        let head = |level: Level, capacity: usize| {
            let mut line = String::with_capacity(capacity);
            line.push_str(level.prefix());
            line.push(' ');
            line.push_str(function);
            line.push_str(" invocation=");
            line.push_str(&id);
            line
        };
        for own in self.lines {
            let mut line = head(own.level, 80 + own.message.as_ref().map_or(0, String::len));
            own.write_category(&mut line);
            own.write_body(&mut line);
            emit(own.level, line);
        }
        let level = outcome_level(status);
        let mut summary = head(level, 128);
        write_summary(&mut summary, &self.fields, status, error);
        emit(level, summary);
    }
}

/// The closing line's level: a 5xx is an error, a 4xx a warning.
fn outcome_level(status: u16) -> Level {
    match status {
        500.. => Level::Error,
        400.. => Level::Warn,
        _ => Level::Info,
    }
}

/// The closing line's items: the fields, then the outcome.
fn write_summary(
    out: &mut String,
    fields: &[(&'static str, FieldValue)],
    status: u16,
    error: Option<&str>,
) {
    for (name, value) in fields {
        // Writing to a String cannot fail.
        let _ = write!(out, " {name}={value}");
    }
    let _ = write!(out, " status={status}");
    if let Some(error) = error {
        let _ = write!(out, " error={}", quote_message(error));
    }
}

tokio::task_local! {
    static LOG: RefCell<InvocationLog>;
}

/// Runs `invocation` with a log of its own, and returns that log with the
/// invocation's output.
pub(crate) async fn scope<T>(invocation: impl Future<Output = T>) -> (T, InvocationLog) {
    LOG.scope(RefCell::new(InvocationLog::default()), async {
        let output = invocation.await;
        let log = LOG.with(|log| log.take());
        (output, log)
    })
    .await
}

/// Adds `name=value` to the invocation's closing line; a second value for
/// the same name replaces the first. Outside an invocation (a unit test
/// calling the function directly) it does nothing.
pub fn field(name: &'static str, value: impl Into<FieldValue>) {
    let value = value.into();
    let _ = LOG.try_with(|log| {
        let mut log = log.borrow_mut();
        match log.fields.iter_mut().find(|(key, _)| *key == name) {
            Some((_, old)) => *old = value,
            None => log.fields.push((name, value)),
        }
    });
}

/// A line of the function's own, at `level`: written as
/// `message="..."`, quoted and escaped whole (line breaks, quotes, control
/// and terminal escape characters), so that no text in it can forge a
/// line or a token. Values are better [`field`]s.
pub fn line(level: Level, message: impl fmt::Display) {
    push(Line {
        level,
        message: Some(message.to_string()),
        #[cfg(feature = "tracing")]
        category: None,
        #[cfg(feature = "tracing")]
        fields: Vec::new(),
    });
}

/// Adds `line` to the running invocation's log; `line` back when no
/// invocation runs on this task (or its log is busy), for the caller to
/// write elsewhere.
pub(crate) fn try_push(line: Line) -> Result<(), Line> {
    let mut line = Some(line);
    let _ = LOG.try_with(|log| {
        if let Ok(mut log) = log.try_borrow_mut() {
            log.lines.extend(line.take());
        }
    });
    line.map_or(Ok(()), Err)
}

fn push(line: Line) {
    let _ = try_push(line);
}

/// A line of the function's own at [`Level::Info`].
///
/// ```
/// azure_functions_rocket::log::info(format_args!("{} items", 3));
/// ```
pub fn info(message: impl fmt::Display) {
    line(Level::Info, message);
}

/// A line of the function's own at [`Level::Warn`].
pub fn warn(message: impl fmt::Display) {
    line(Level::Warn, message);
}

/// A line of the function's own at [`Level::Error`].
pub fn error(message: impl fmt::Display) {
    line(Level::Error, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn fields_join_the_closing_line_and_text_is_quoted() {
        let ((), log) = run(scope(async {
            field("radius", "{\"x status=200 area=1\":0}");
            field("radius", 2.0);
            field("area", 7.5e153);
            field("name", "a b");
        }));
        let lines = log.lines("RustyFunction", Some("id-1"), 200, None);
        assert_eq!(
            lines,
            [
                r#"[INFO] RustyFunction invocation="id-1" radius=2 area=7.5e153 name="a b" status=200"#
            ]
        );
    }

    #[test]
    fn a_forged_token_stays_inside_its_quotes() {
        let ((), log) = run(scope(async { field("radius", "1 status=200 area=1") }));
        let lines = log.lines("F", None, 400, Some("bad \"radius\""));
        assert_eq!(
            lines,
            [
                r#"[WARN] F invocation=- radius="1 status=200 area=1" status=400 error="bad \"radius\"""#
            ]
        );
    }

    #[test]
    fn no_text_forges_a_line_a_token_or_a_terminal_escape() {
        let forged = "ok\n[ERROR] F invocation=\"x\" status=500\r\u{1b}[2J\u{7}\u{202e}\"";
        let ((), log) = run(scope(async {
            info(forged);
            warn(format_args!("next at {forged}"));
            field("input", forged);
        }));
        let lines = log.lines("F", Some("id\n1"), 200, Some(forged));
        assert_eq!(lines.len(), 3, "{lines:#?}");
        // The keys a logfmt reader finds: the forged ones stay inside
        // their escaped quotes.
        let keys = |line: &str| {
            let mut keys = Vec::new();
            let mut rest = line.splitn(3, ' ').nth(2).unwrap_or_default();
            while let Some((key, value)) = rest.split_once('=') {
                keys.push(key.to_owned());
                let end = if let Some(quoted) = value.strip_prefix('"') {
                    let mut escaped = false;
                    let close = quoted.char_indices().find(|&(_, c)| {
                        let closes = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        closes
                    });
                    close.map_or(value.len(), |(at, _)| at + 2)
                } else {
                    value.find(' ').unwrap_or(value.len())
                };
                rest = value[end..].trim_start();
            }
            keys
        };
        assert_eq!(keys(&lines[0]), ["invocation", "message"]);
        assert_eq!(keys(&lines[1]), ["invocation", "message"]);
        assert_eq!(keys(&lines[2]), ["invocation", "input", "status", "error"]);
        for line in &lines {
            assert!(
                line.chars().all(|c| !c.is_control() && c != '\u{202e}'),
                "{line:?}"
            );
        }
        assert_eq!(
            lines[0],
            r#"[INFO] F invocation="id\n1" message="ok\n[ERROR] F invocation=\"x\" status=500\r\u{1b}[2J\u{7}\u{202e}\"""#
        );
        assert!(
            lines[2].starts_with(r#"[INFO] F invocation="id\n1" input="ok\n[ERROR]"#),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn own_lines_come_first_with_their_level_and_500s_are_errors() {
        let ((), log) = run(scope(async {
            info("tick");
            warn("late");
        }));
        let lines = log.lines("TimerLog", Some("t"), 500, Some("boom"));
        assert_eq!(
            lines,
            [
                r#"[INFO] TimerLog invocation="t" message="tick""#,
                r#"[WARN] TimerLog invocation="t" message="late""#,
                r#"[ERROR] TimerLog invocation="t" status=500 error="boom""#,
            ]
        );
    }
}
