//! One install of a tool under the target folder, shared by every test
//! process: the first takes a file lock and installs, the others wait on the
//! lock and find it done. The install goes into a scratch folder renamed
//! into place when complete, so a half-finished one is never used.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::target_dir;

/// `<target>/<name>`, holding `marker` once installed; `install` fills the
/// folder it is given when it is not. A failed install panics with its
/// reason: no test runs without the tools it needs.
pub fn provisioned(
    name: &str,
    marker: &str,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> PathBuf {
    let target = target_dir();
    let dir = target.join(name);
    if dir.join(marker).exists() {
        return dir;
    }
    fs::create_dir_all(&target).unwrap_or_else(|e| panic!("cannot make {target:?}: {e}"));
    let lock_path = target.join(format!("{name}.lock"));
    let lock =
        File::create(&lock_path).unwrap_or_else(|e| panic!("cannot make {lock_path:?}: {e}"));
    // flock: also waits for another thread of this process, whose own open
    // of the file is a lock of its own.
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {lock_path:?}: {e}"));
    if dir.join(marker).exists() {
        return dir;
    }
    let partial = target.join(format!("{name}.partial"));
    for stale in [&partial, &dir] {
        remove(stale).unwrap_or_else(|e| panic!("cannot remove {stale:?}: {e}"));
    }
    eprintln!("installing {name} into {dir:?}, once for every test");
    if let Err(reason) = install(&partial) {
        panic!("{reason}");
    }
    assert!(
        partial.join(marker).exists(),
        "the install of {name} has no {marker}"
    );
    fs::rename(&partial, &dir)
        .unwrap_or_else(|e| panic!("cannot move {partial:?} to {dir:?}: {e}"));
    dir
}

fn remove(dir: &Path) -> std::io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Runs `command` to its end; `missing` is the one line said when its
/// program is not installed.
pub fn run(command: &mut Command, missing: &str) -> Result<(), String> {
    let out = match command.output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing.to_string()),
        Err(e) => return Err(format!("{command:?} cannot run: {e}")),
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = stderr.lines().rev().take(5).collect();
    let last: Vec<&str> = last.into_iter().rev().collect();
    Err(format!(
        "{command:?} failed ({}): {}",
        out.status,
        last.join(" | ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_named_by_what_to_install() {
        let said = run(
            &mut Command::new("no-such-program-test-tools"),
            "install the thing",
        );
        assert_eq!(said, Err("install the thing".to_string()));
    }

    #[test]
    fn a_failing_program_says_what_it_printed() {
        let said = run(
            Command::new("sh").args(["-c", "echo first >&2; echo why >&2; exit 3"]),
            "install sh",
        )
        .expect_err("exit 3 fails");
        assert!(said.contains("first | why"), "{said}");
        assert!(said.contains("exit status: 3"), "{said}");
    }

    /// A name of its own under the target folder, removed when dropped.
    struct Scratch(String);

    impl Scratch {
        fn new(what: &str) -> Scratch {
            Scratch(format!("test-tools-{what}-{}", std::process::id()))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let target = target_dir();
            let _ = fs::remove_dir_all(target.join(&self.0));
            let _ = fs::remove_dir_all(target.join(format!("{}.partial", self.0)));
            let _ = fs::remove_file(target.join(format!("{}.lock", self.0)));
        }
    }

    fn install_slowly(dir: &Path) -> Result<(), String> {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        fs::write(dir.join("done"), "").map_err(|e| e.to_string())
    }

    #[test]
    fn callers_at_once_share_one_install() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let scratch = Scratch::new("shared");
        let installs = AtomicUsize::new(0);
        let dirs: Vec<PathBuf> = std::thread::scope(|scope| {
            let callers: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        provisioned(&scratch.0, "done", |dir| {
                            installs.fetch_add(1, Ordering::SeqCst);
                            install_slowly(dir)
                        })
                    })
                })
                .collect();
            callers
                .into_iter()
                .map(|c| c.join().expect("no panic"))
                .collect()
        });
        assert_eq!(installs.load(Ordering::SeqCst), 1);
        let dir = target_dir().join(&scratch.0);
        assert!(dirs.iter().all(|d| *d == dir), "{dirs:?}");
        assert!(dir.join("done").is_file());
    }

    #[test]
    fn a_failed_install_leaves_nothing_to_use_and_the_next_caller_redoes_it() {
        let scratch = Scratch::new("failed");
        let failed = std::panic::catch_unwind(|| {
            provisioned(&scratch.0, "done", |dir| {
                fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                fs::write(dir.join("half"), "").map_err(|e| e.to_string())?;
                Err("the network is down".to_string())
            })
        });
        let reason = failed.expect_err("a failed install panics");
        assert_eq!(
            reason.downcast_ref::<String>().map(String::as_str),
            Some("the network is down")
        );
        assert!(!target_dir().join(&scratch.0).exists());
        let dir = provisioned(&scratch.0, "done", install_slowly);
        assert!(dir.join("done").is_file());
        assert!(!dir.join("half").exists());
    }
}
