//! `generate`: the function folders the handler's registry declares,
//! written into the app folder (scripts/release runs it on the release
//! build).

use std::path::Path;
use std::process::ExitCode;

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::generate::{differences, read_metadata, write_folders};
use cargo_azfunc::terminal::visible;

use super::executable;

pub fn run(root: &Path, build: bool) -> Result<ExitCode, String> {
    let app = AppFolder::load(root).map_err(|e| e.to_string())?;
    let handler = match executable(&app, build)? {
        Some(built) => built,
        None => app.executable_path(),
    };
    if !handler.is_file() {
        return Err(format!(
            "no handler at {}: build it and copy it there, or pass --build",
            handler.display()
        ));
    }
    let metadata = read_metadata(&handler, &app.root)?;
    let written = write_folders(&app.root, &metadata)?;
    for line in written.lines() {
        out!("cargo azfunc generate: {}", visible(&line));
    }
    let differing = differences(&app.root, &metadata)?;
    for line in &differing {
        err!("cargo azfunc generate: warning: {}", visible(line));
    }
    out!(
        "cargo azfunc generate: {} function folder(s) in {} say what the registry declares{}",
        metadata.functions.len() - differing_folders(&differing),
        app.root.display(),
        if differing.is_empty() {
            String::new()
        } else {
            "; hand-kept ones differ (above)".to_owned()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// How many folders the difference lines name.
fn differing_folders(lines: &[String]) -> usize {
    let mut folders: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.split('/').next())
        .collect();
    folders.dedup();
    folders.len()
}
