//! Where the workspace's target folder is, seen from a running test.

use std::path::{Path, PathBuf};

/// The target folder the running test binary was built into: the nearest
/// folder above it that cargo tagged with `CACHEDIR.TAG`. That follows
/// `CARGO_TARGET_DIR` and `build.target-dir` wherever they point, and
/// does not depend on the directory the test runs in.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    tagged_ancestor(&exe)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn tagged_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_folder_holds_this_test_binary() {
        let target = target_dir();
        let exe = std::env::current_exe().expect("the test binary");
        assert!(exe.starts_with(&target), "{target:?} does not hold {exe:?}");
        assert!(target.join("CACHEDIR.TAG").is_file(), "{target:?}");
    }

    #[test]
    fn an_untagged_path_has_no_target_folder() {
        let dir = std::env::temp_dir().join(format!("test-tools-untagged-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("debug/deps")).expect("temp folders");
        assert_eq!(tagged_ancestor(&dir.join("debug/deps/t")), None);
        std::fs::write(dir.join("CACHEDIR.TAG"), "").expect("tag");
        assert_eq!(
            tagged_ancestor(&dir.join("debug/deps/t")),
            Some(dir.clone())
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
