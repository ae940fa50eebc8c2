//! Where everything the host would log goes: the handler's stdout and
//! stderr, each invocation's `Logs`, its outputs and the warnings. The
//! command line prints it; tests read it back.

use std::sync::{Arc, Mutex};

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

/// A shared, cloneable log: every line is kept, and printed too when
/// `echo` is on (info to stdout, warnings and errors to stderr).
#[derive(Clone, Debug, Default)]
pub struct Console {
    lines: Arc<Mutex<Vec<Line>>>,
    echo: bool,
}

impl Console {
    /// Keeps lines without printing them (for tests).
    pub fn quiet() -> Console {
        Console::default()
    }

    /// Keeps and prints lines (for the command line).
    pub fn printing() -> Console {
        Console {
            echo: true,
            ..Console::default()
        }
    }

    pub fn log(&self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if self.echo {
            match level {
                Level::Info => println!("{text}"),
                Level::Warning => eprintln!("warning: {text}"),
                Level::Error => eprintln!("error: {text}"),
            }
        }
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(Line { level, text });
        }
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

    /// Every line so far.
    pub fn lines(&self) -> Vec<Line> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Whether any line so far contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.text.contains(needle))
    }
}
