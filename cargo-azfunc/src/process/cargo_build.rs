//! `--build`: build the app's handler with cargo and find the executable
//! cargo made, so that it runs from cargo's target folder. Nothing is
//! written into the app folder: whatever is there gets published.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::app::AppFolder;

/// The manifest to build: the app folder's Cargo.toml, else the nearest one
/// above it (an app folder inside its package).
pub fn manifest_for(root: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(root).ok()?;
    start
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|manifest| manifest.is_file())
}

/// The bin target to run: the file name of `defaultExecutablePath`,
/// without a Windows `.exe`.
pub fn wanted_bin(app: &AppFolder) -> Option<String> {
    // A language worker's executable comes from its worker configuration
    // (`app` for a native one).
    let worker = app
        .worker
        .as_ref()
        .map(|worker| worker.executable.to_string_lossy().into_owned());
    let path = worker.as_deref().unwrap_or(app.executable());
    let name = path.rsplit(['/', '\\']).next()?;
    let name = name.strip_suffix(".exe").unwrap_or(name);
    (!name.is_empty()).then(|| name.to_owned())
}

/// The feature that holds the native worker, for an app run as the
/// `native` language worker whose package declares it under `[features]`
/// (docs/native-worker.md): without it the binary refuses the worker's
/// arguments.
fn native_features(app: &AppFolder, manifest: &Path) -> Option<&'static str> {
    let native = app
        .worker
        .as_ref()
        .is_some_and(|worker| worker.language == crate::app::worker_config::NATIVE);
    let text = std::fs::read_to_string(manifest).ok()?;
    (native && declares_feature(&text, "native")).then_some("native")
}

/// Whether a Cargo.toml's `[features]` table has a key `name`.
fn declares_feature(manifest: &str, name: &str) -> bool {
    let mut in_features = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && line
                .split('=')
                .next()
                .map(|key| key.trim().trim_matches('"'))
                == Some(name)
        {
            return true;
        }
    }
    false
}

/// One executable cargo reported building: its bin target and its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBin {
    pub name: String,
    pub executable: PathBuf,
}

/// The bin from one line of `--message-format=json`, when it is the
/// `compiler-artifact` message of a bin target; `None` for anything else.
pub fn built_bin(line: &str) -> Option<BuiltBin> {
    let message: Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let target = message.get("target")?;
    let is_bin = target
        .get("kind")?
        .as_array()?
        .iter()
        .any(|kind| kind.as_str() == Some("bin"));
    if !is_bin {
        return None;
    }
    Some(BuiltBin {
        name: target.get("name")?.as_str()?.to_owned(),
        executable: PathBuf::from(message.get("executable")?.as_str()?),
    })
}

/// Which of the built bins is the handler: the one named `wanted`, else the
/// only one.
pub fn choose_bin(bins: &[BuiltBin], wanted: Option<&str>) -> Result<PathBuf, String> {
    if let Some(bin) = wanted.and_then(|w| bins.iter().find(|b| b.name == w)) {
        return Ok(bin.executable.clone());
    }
    match bins {
        [only] => Ok(only.executable.clone()),
        [] => Err(
            "--build: cargo built no executable: the package needs a bin target (src/main.rs)"
                .into(),
        ),
        _ => {
            let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
            Err(format!(
                "--build: cargo built the bins {}, none named {:?} as host.json's defaultExecutablePath: rename the bin or fix defaultExecutablePath",
                names.join(", "),
                wanted.unwrap_or_default()
            ))
        }
    }
}

/// Builds the app's package (debug profile), cargo's progress and errors on
/// this process's stderr; returns the handler's executable in cargo's
/// target folder.
pub fn build_handler(app: &AppFolder) -> Result<PathBuf, String> {
    let manifest = manifest_for(&app.root).ok_or_else(|| {
        format!(
            "--build: no Cargo.toml in {} or above it: build the handler yourself and put it at defaultExecutablePath",
            app.root.display()
        )
    })?;
    // cargo reads .cargo/config.toml from its working folder, not from the
    // manifest's: run it where the package is.
    let package_dir = manifest.parent().unwrap_or(Path::new("."));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let features = native_features(app, &manifest);
    let _ = writeln!(
        std::io::stderr().lock(),
        "cargo-azfunc: cargo build --manifest-path {}{}",
        manifest.display(),
        features
            .map(|f| format!(" --features {f}"))
            .unwrap_or_default()
    );
    let mut command = Command::new(&cargo);
    command.arg("build").arg("--manifest-path").arg(&manifest);
    if let Some(features) = features {
        command.arg("--features").arg(features);
    }
    command
        .arg("--message-format=json-render-diagnostics")
        .current_dir(package_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let (mut child, _registered) = crate::process::children::spawn_std(&mut command)
        .map_err(|e| format!("--build: cannot run {}: {e}", cargo.to_string_lossy()))?;
    let mut bins = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            bins.extend(built_bin(&line));
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("--build: cannot wait for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build failed ({status}); its errors are above"
        ));
    }
    choose_bin(&bins, wanted_bin(app).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_is_found_only_in_the_features_table() {
        let manifest = "[package]\nname = \"native\"\n\n[features]\ndefault = []\n\"native\" = [\"lib/native\"]\n\n[dependencies]\nother = \"1\"\n";
        assert!(declares_feature(manifest, "native"));
        assert!(!declares_feature(manifest, "other"));
        assert!(!declares_feature("[package]\nnative = 1\n", "native"));
        assert!(!declares_feature("[features]\nnative-tls = []\n", "native"));
    }

    fn artifact(kind: &str, name: &str, executable: Option<&str>) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "target": {"kind": [kind], "name": name},
            "executable": executable,
        })
        .to_string()
    }

    #[test]
    fn reads_bins_from_cargo_messages() {
        assert_eq!(
            built_bin(&artifact("bin", "app", Some("/t/debug/app"))),
            Some(BuiltBin {
                name: "app".into(),
                executable: "/t/debug/app".into()
            })
        );
        assert_eq!(built_bin(&artifact("lib", "app", None)), None);
        assert_eq!(
            built_bin(&artifact("custom-build", "build-script-build", None)),
            None
        );
        assert_eq!(
            built_bin(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(built_bin("Compiling app"), None);
    }

    #[test]
    fn chooses_the_bin_host_json_names_else_the_only_one() {
        let bin = |name: &str| BuiltBin {
            name: name.into(),
            executable: PathBuf::from("/t").join(name),
        };
        let two = [bin("tool"), bin("app")];
        assert_eq!(choose_bin(&two, Some("app")), Ok(PathBuf::from("/t/app")));
        let err = choose_bin(&two, Some("other")).expect_err("ambiguous");
        assert!(err.contains("tool, app"), "{err}");
        assert_eq!(
            choose_bin(&[bin("x")], Some("app")),
            Ok(PathBuf::from("/t/x"))
        );
        assert!(choose_bin(&[], Some("app")).is_err());
    }

    #[test]
    fn finds_the_manifest_at_or_above_the_app() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").expect("write");
        std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
        assert_eq!(
            manifest_for(&dir.path().join("app")),
            Some(dir.path().join("Cargo.toml"))
        );
    }
}
