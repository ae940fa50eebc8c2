//! `check`: what the host or the handler would mishandle in an app folder,
//! without serving it.

use std::path::Path;
use std::process::ExitCode;

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::check::{Finding, HANDLER_LIMIT, Severity};
use cargo_azfunc::generate::{read_metadata, write_folders};
use cargo_azfunc::terminal::visible;

use super::executable;

pub fn run(root: &Path, build: bool) -> Result<ExitCode, String> {
    let app = AppFolder::load(root).map_err(|e| e.to_string())?;
    let built = executable(&app, build)?;
    // A fresh build writes the folders its registry declares, as `start
    // --build` does, and the app is checked as they make it.
    let mut found = Vec::new();
    let app = match &built {
        Some(executable) => {
            match read_metadata(executable, &app.root) {
                Ok(metadata) => {
                    let written = write_folders(&app.root, &metadata)?;
                    found.extend(written.lines().into_iter().map(|text| Finding {
                        severity: Severity::Note,
                        text,
                    }));
                }
                // The handler's own check says why, line by line.
                Err(e) => found.push(Finding {
                    severity: Severity::Problem,
                    text: e,
                }),
            }
            AppFolder::load(root).map_err(|e| e.to_string())?
        }
        None => app,
    };
    found.extend(cargo_azfunc::check::settings(&app, built.is_some()));
    let handler = built.or_else(|| Some(app.executable_path()).filter(|p| p.is_file()));
    match handler {
        Some(handler) => {
            found.extend(cargo_azfunc::check::registry(&app, &handler));
            found.extend(cargo_azfunc::check::handler(&app, &handler, HANDLER_LIMIT));
        }
        None => found.push(Finding {
            severity: Severity::Note,
            text: "the handler's check of its functions against their folders did not run: there is no handler to run (pass --build)".into(),
        }),
    }
    for finding in &found {
        // The handler's own lines are among the findings.
        out!("{}", visible(&finding.to_string()));
    }
    let problems = found
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .count();
    let root = app.root.display();
    if problems == 0 {
        out!("cargo azfunc check: all is well in {root}");
        Ok(ExitCode::SUCCESS)
    } else {
        out!("cargo azfunc check: {problems} thing(s) to change in {root}");
        Ok(ExitCode::FAILURE)
    }
}
