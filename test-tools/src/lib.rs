//! The outside tools the workspace's tests run, installed under the
//! workspace's target folder by the first test that needs them, so that
//! `cargo test --workspace` needs nothing installed by hand beyond Rust, a C
//! compiler, Node.js with npm and Python 3 with venv. One install serves
//! every test binary, also when several start at once.

mod install;
mod target;

use std::path::PathBuf;
use std::process::Command;

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
    let dir = install::provisioned(name, "bin/python", |dir| {
        // Debian's python3 has venv without ensurepip: the venv would fail
        // half made.
        install::run(
            Command::new("python3").args(["-c", "import ensurepip, venv"]),
            NO_VENV,
        )
        .map_err(|_| NO_VENV.to_string())?;
        install::run(
            Command::new("python3").args(["-m", "venv"]).arg(dir),
            NO_VENV,
        )?;
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
