//! The list of the function folders cargo azfunc wrote, in the app
//! folder: each folder's name with the SHA-256 of the function.json text
//! written there, so that a file edited since reads as hand-kept.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name, in the app folder.
pub const MANIFEST: &str = ".azfunc-generated.json";

/// The folders cargo azfunc wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Folder name -> SHA-256 (hex) of the function.json written.
    written: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of the app folder `root`; empty when there is none.
    pub fn load(root: &Path) -> Result<Manifest, String> {
        let path = root.join(MANIFEST);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{} is not the list of folders cargo azfunc wrote ({e}): remove it, and the folders it wrote are then hand-kept",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes it to `root`, or removes it when it lists nothing.
    pub fn save(&self, root: &Path) -> Result<(), String> {
        let path = root.join(MANIFEST);
        if self.written.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(format!("cannot remove {}: {e}", path.display()))
                }
                _ => Ok(()),
            };
        }
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        write_atomically(&path, text.as_bytes())
    }

    /// Whether cargo azfunc wrote folder `name` with exactly `bytes`.
    pub fn wrote(&self, name: &str, bytes: &[u8]) -> bool {
        self.written.get(name) == Some(&digest(bytes))
    }

    pub fn record(&mut self, name: &str, text: &str) {
        self.written
            .insert(name.to_owned(), digest(text.as_bytes()));
    }

    pub fn forget(&mut self, name: &str) {
        self.written.remove(name);
    }

    /// The folders it lists.
    pub fn names(&self) -> Vec<String> {
        self.written.keys().cloned().collect()
    }
}

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a
/// reader (the host, a build) never sees half a file.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write {}: {e}", path.display())
        })
}
