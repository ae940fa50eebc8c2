//! `start --build`: build the handler with cargo and put it where host.json
//! expects it, as `scripts/release` does for the release build.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::app::App;

/// The nearest folder at or above `start` whose Cargo.toml has a
/// `[workspace]` section.
pub fn workspace_root(start: &Path) -> Option<PathBuf> {
    let mut dir = std::fs::canonicalize(start).ok()?;
    loop {
        let manifest = dir.join("Cargo.toml");
        if std::fs::read_to_string(&manifest)
            .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        {
            return Some(dir);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// What to build for an app folder: the cargo arguments and the binary
/// they produce, relative to the target folder's profile directory.
pub fn build_plan(app: &App, workspace: &Path) -> Result<(Vec<String>, PathBuf), String> {
    let root = std::fs::canonicalize(&app.root)
        .map_err(|e| format!("cannot resolve {}: {e}", app.root.display()))?;
    // An example app lives at examples/<name>/ and is cargo's example <name>.
    if root.parent() == Some(&workspace.join("examples")) {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("the example folder has no name")?;
        return Ok((
            vec!["build".into(), "--example".into(), name.clone()],
            PathBuf::from("examples").join(name),
        ));
    }
    let binary = Path::new(&app.host.executable)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            format!(
                "defaultExecutablePath {:?} names no file",
                app.host.executable
            )
        })?;
    Ok((
        vec!["build".into(), "--bin".into(), binary.clone()],
        PathBuf::from(binary),
    ))
}

/// Builds the handler (debug profile) and copies it to
/// `defaultExecutablePath`; returns that path.
pub fn build_handler(app: &App) -> Result<PathBuf, String> {
    let workspace = workspace_root(&app.root).ok_or_else(|| {
        format!(
            "--build: no Cargo.toml with [workspace] at or above {}",
            app.root.display()
        )
    })?;
    let (args, binary) = build_plan(app, &workspace)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "local-host: cargo {} (in {})",
        args.join(" "),
        workspace.display()
    );
    let status = Command::new(&cargo)
        .args(&args)
        .current_dir(&workspace)
        .status()
        .map_err(|e| format!("--build: cannot run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "--build: cargo {} failed ({status})",
            args.join(" ")
        ));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    let built = target.join("debug").join(binary);
    let destination = app.executable_path();
    // Removing first avoids "text file busy" when the old binary still runs.
    let _ = std::fs::remove_file(&destination);
    std::fs::copy(&built, &destination).map_err(|e| {
        format!(
            "--build: cannot copy {} to {}: {e}",
            built.display(),
            destination.display()
        )
    })?;
    Ok(destination)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::HostConfig;

    fn app(root: &Path) -> App {
        App {
            root: root.to_path_buf(),
            host: HostConfig {
                executable: "rusty_function".into(),
                arguments: vec![],
                working_directory: None,
                forwarding: false,
                route_prefix: "api".into(),
            },
            functions: vec![],
            settings: vec![],
        }
    }

    #[test]
    fn plans_for_the_main_app_and_examples() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = std::fs::canonicalize(dir.path()).expect("canonical");
        std::fs::write(
            ws.join("Cargo.toml"),
            "[package]\nname = \"x\"\n\n[workspace]\nmembers = [\".\"]\n",
        )
        .expect("write");
        std::fs::create_dir_all(ws.join("examples/queue_app")).expect("mkdir");
        assert_eq!(
            workspace_root(&ws.join("examples/queue_app")),
            Some(ws.clone())
        );
        let (args, binary) = build_plan(&app(&ws), &ws).expect("plan");
        assert_eq!(args, ["build", "--bin", "rusty_function"]);
        assert_eq!(binary, PathBuf::from("rusty_function"));
        let (args, binary) = build_plan(&app(&ws.join("examples/queue_app")), &ws).expect("plan");
        assert_eq!(args, ["build", "--example", "queue_app"]);
        assert_eq!(binary, PathBuf::from("examples/queue_app"));
    }
}
