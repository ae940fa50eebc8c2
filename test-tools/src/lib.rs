//! The outside tools the workspace's tests run, installed under the
//! workspace's target folder by the first test that needs them, so that
//! `cargo test --workspace` needs nothing installed by hand beyond Rust, a C
//! compiler, Node.js with npm and Python 3 with venv. One install serves
//! every test binary, also when several start at once.

mod azurite_server;
mod install;
mod target;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use azurite_server::AzuriteServer;
pub use target::target_dir;

/// Pinned: later releases need Node 22, newer than distributions ship.
pub const AZURITE: &str = "azurite@3.35.0";

/// Azurite's executable, from `<target>/azurite`; installed with npm there
/// on first use.
pub fn azurite() -> PathBuf {
    let dir = install::provisioned("azurite", "node_modules/.bin/azurite", |dir| {
        install::run(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(dir)
                .arg(AZURITE),
            "npm is missing: install Node.js with npm",
        )
    });
    dir.join("node_modules/.bin/azurite")
}

/// The one line said when Python cannot make a venv.
const NO_VENV: &str =
    "python3 -m venv cannot run: install Python 3 with venv (Debian: python3-venv)";

/// The Python of a venv at `<target>/<name>` with `requirements` installed
/// by pip; made on first use.
pub fn python_venv(name: &str, requirements: &[&str]) -> PathBuf {
    python_venv_of(Path::new("python3"), name, requirements)
}

/// As [`python_venv`], the venv made by the interpreter `python` (a path, or
/// a name looked up on PATH).
pub fn python_venv_of(python: &Path, name: &str, requirements: &[&str]) -> PathBuf {
    let dir = install::provisioned(name, "bin/python", |dir| {
        // Debian's python3 has venv without ensurepip: the venv would fail
        // half made.
        install::run(
            Command::new(python).args(["-c", "import ensurepip, venv"]),
            NO_VENV,
        )
        .map_err(|_| NO_VENV.to_string())?;
        install::run(Command::new(python).args(["-m", "venv"]).arg(dir), NO_VENV)?;
        // pip through the venv's Python: pip's own script names the scratch
        // folder in its first line, which the rename into place leaves stale.
        install::run(
            Command::new(dir.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(requirements),
            NO_VENV,
        )
    });
    dir.join("bin/python")
}

/// A CPython 3.`minor` or newer, for a package that needs a newer Python
/// than the system's `python3`: `python3.N` on PATH, else one that pyenv
/// has installed (pyenv's shims answer only for the selected version).
/// `None` when there is none.
pub fn python3_at_least(minor: u32) -> Option<PathBuf> {
    let runs = |python: &Path| {
        Command::new(python)
            .args(["-c", "import sys; sys.exit(0)"])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    let newest = minor + 20;
    let on_path = (minor..=newest)
        .rev()
        .map(|n| PathBuf::from(format!("python3.{n}")))
        .find(|python| runs(python));
    on_path.or_else(|| {
        // pyenv's root as pyenv says, else where it is by default.
        let root = Command::new("pyenv")
            .arg("root")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| PathBuf::from(text.trim()))
            .filter(|root| root.is_dir())
            .or_else(|| std::env::var_os("PYENV_ROOT").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")))?;
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root.join("versions"))
            .ok()?
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().into_string().ok()?;
                let n: u32 = version
                    .strip_prefix("3.")?
                    .split('.')
                    .next()?
                    .parse()
                    .ok()?;
                let python = entry.path().join(format!("bin/python3.{n}"));
                (n >= minor && runs(&python)).then_some((n, python))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, python)| python)
    })
}
