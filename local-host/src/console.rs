//! Where everything the host would log goes: the handler's stdout and
//! stderr, each invocation's `Logs`, its outputs and the warnings. The
//! command line prints it; tests read it back.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::terminal::visible;

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

/// How many lines a quiet console keeps (the newest).
pub const KEPT_LINES: usize = 10_000;

/// A shared, cloneable log. A printing console (the command line) prints
/// each line, info to stdout, warnings and errors to stderr, and keeps
/// none: what is printed is the history. A quiet one (tests) prints
/// nothing and keeps the newest [`KEPT_LINES`] lines to read back.
#[derive(Clone, Debug, Default)]
pub struct Console {
    lines: Arc<Mutex<VecDeque<Line>>>,
    echo: bool,
}

impl Console {
    /// Keeps lines without printing them (for tests).
    pub fn quiet() -> Console {
        Console::default()
    }

    /// Prints lines and keeps none (for the command line).
    pub fn printing() -> Console {
        Console {
            echo: true,
            ..Console::default()
        }
    }

    /// Logs `text`, its control and escape characters written out
    /// ([`visible`]): much of it comes from the handler or from callers.
    pub fn log(&self, level: Level, text: impl Into<String>) {
        let text = text.into();
        let text = match visible(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(shown) => shown,
        };
        if self.echo {
            // A closed stdout or stderr (`local-host start | head`) must not
            // stop local-host: what cannot be printed is dropped.
            let _ = match level {
                Level::Info => writeln!(std::io::stdout().lock(), "{text}"),
                Level::Warning => writeln!(std::io::stderr().lock(), "warning: {text}"),
                Level::Error => writeln!(std::io::stderr().lock(), "error: {text}"),
            };
            return;
        }
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(Line { level, text });
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

#[cfg(test)]
mod tests {
    use super::*;

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
