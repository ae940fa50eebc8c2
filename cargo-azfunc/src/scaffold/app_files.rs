//! A new app's files around its first function.

use std::fmt::Write as _;

use serde_json::json;

use super::*;

/// This workspace's `azure-functions-rocket`, found from where cargo-azfunc
/// was built.
pub fn default_library_path() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../azure-functions-rocket");
    let path = std::fs::canonicalize(path).ok()?;
    path.join("Cargo.toml").is_file().then_some(path)
}

/// `text` as a TOML basic string.
pub(super) fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn library_dependency(library: Option<&Library>) -> Result<String, ScaffoldError> {
    Ok(match library {
        None => {
            let Some(path) = default_library_path() else {
                return refused(format!(
                    "azure-functions-rocket is not at {}/../azure-functions-rocket, where this cargo-azfunc was built: pass --library-path PATH, --library-version VERSION or --library-git URL",
                    env!("CARGO_MANIFEST_DIR")
                ));
            };
            format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
        }
        Some(Library::Path(path)) => {
            let Ok(path) = std::fs::canonicalize(path) else {
                return refused(format!("--library-path {}: no such folder", path.display()));
            };
            if !path.join("Cargo.toml").is_file() {
                return refused(format!(
                    "--library-path {}: no Cargo.toml there (give the azure-functions-rocket folder)",
                    path.display()
                ));
            }
            format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
        }
        Some(Library::Version(version)) => {
            if version.trim().is_empty() {
                return refused("--library-version needs a version, e.g. 0.1");
            }
            toml_string(version)
        }
        Some(Library::Git(url)) => {
            if url.trim().is_empty() {
                return refused("--library-git needs a repository URL");
            }
            format!("{{ git = {} }}", toml_string(url))
        }
    })
}

pub(super) fn cargo_toml(name: &str, dependency: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# A workspace of its own, so that the app builds alone even inside another
# workspace's folder.
[workspace]

[dependencies]
azure-functions-rocket = {dependency}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# `cargo azfunc start --build` and `scripts/release --native` build with it
# when local.settings.json says FUNCTIONS_WORKER_RUNTIME=native.
[features]
native = ["azure-functions-rocket/native"]

# The release build is what ships to Azure: small and fast. Unwinding stays
# on, so that a panic fails only the invocation it happened in.
[profile.release]
lto = true
codegen-units = 1
strip = true
{SIZE_PROFILE}"#,
        SIZE_PROFILE = SIZE_PROFILE
    )
}

/// The crates no invocation runs, built for size, as the blog's own
/// Cargo.toml builds them: the app stays within the 3.5 MB budget.
const SIZE_PROFILE: &str = "
# Crates no invocation runs (settings and TOML, cookies, multipart, the
# Durable messages), optimised for size.
[profile.release.package.figment]
opt-level = \"s\"
[profile.release.package.toml]
opt-level = \"s\"
[profile.release.package.toml_edit]
opt-level = \"s\"
[profile.release.package.winnow]
opt-level = \"s\"
[profile.release.package.time]
opt-level = \"s\"
[profile.release.package.cookie]
opt-level = \"s\"
[profile.release.package.multer]
opt-level = \"s\"
[profile.release.package.encoding_rs]
opt-level = \"s\"
[profile.release.package.durable-proto]
opt-level = \"s\"
[profile.release.package.prost]
opt-level = \"s\"
[profile.release.package.prost-types]
opt-level = \"s\"
[profile.release.package.uuid]
opt-level = \"s\"
[profile.release.package.tempfile]
opt-level = \"s\"
";

/// The app's library: its functions' modules and its registry, which the
/// binary serves and tests can serve too.
pub(super) fn lib_rs(name: &str, hello: &Plan) -> String {
    format!(
        r#"//! {name}: an Azure Functions custom handler on azure-functions-rocket.
//! Each function is a module here and a line of the registry, which
//! declares all its bindings; `cargo azfunc start --build` writes its
//! folder (function.json) from it. `cargo azfunc new function` adds both.

mod {module};

use azure_functions_rocket::{{{imports}}};

/// Every function of the app, one line each, with everything the host
/// reads in its function.json.
pub fn registry() -> Registry {{
    Registry::new()
        {line}
}}
"#,
        module = hello.module,
        imports = hello.imports().join(", "),
        line = hello.registry_line(),
    )
}

/// The handler binary: serves the library's registry.
pub(super) fn main_rs(name: &str) -> String {
    format!(
        r#"use std::process::ExitCode;

fn main() -> ExitCode {{
    azure_functions_rocket::run({krate}::registry())
}}
"#,
        krate = name.replace('-', "_"),
    )
}

pub(super) fn host_json(name: &str) -> String {
    let host = json!({
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)"
        },
        "customHandler": {
            "description": {
                "defaultExecutablePath": name
            },
            "enableForwardingHttpRequest": false
        }
    });
    serde_json::to_string_pretty(&host).unwrap_or_default() + "\n"
}

pub(super) const LOCAL_SETTINGS: &str = r#"{
  "IsEncrypted": false,
  "Values": {
    "FUNCTIONS_WORKER_RUNTIME": "custom",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true"
  }
}
"#;

pub(super) const FUNCIGNORE: &str = "\
# What publishing leaves out: only host.json, the function folders and the
# handler binary belong in the app.
.git*
.vscode
.cargo
local.settings.json
.azfunc-generated.json
target/
src/
tests/
Cargo.toml
Cargo.lock
README.md
*.rs
";

pub(super) const CARGO_CONFIG: &str = r#"# `cargo build --release --target x86_64-unknown-linux-musl` gives a static
# binary that runs on any Linux Functions image. Rust's musl target brings
# its own C runtime, so the linker that ships with rustup is all it needs.
# A non-PIE build has no interpreter and no dynamic section at all.
[target.x86_64-unknown-linux-musl]
linker = "rust-lld"
rustflags = ["-C", "relocation-model=static"]
"#;

pub(super) fn readme(name: &str) -> String {
    format!(
        r#"# {name}

An Azure Functions custom handler in Rust, on azure-functions-rocket. Each
function is a module in `src/` and a line of the registry in `src/lib.rs`,
which declares its trigger and bindings. `cargo azfunc start --build` (and
`scripts/release`) write each function's folder here, with its
`function.json`, from the registry; a folder you write by hand is never
overwritten, and `cargo azfunc check --build` shows how it differs.

```sh
cargo test                                   # the functions, called directly
cargo azfunc start --build                     # serve on http://localhost:7071
curl 'http://localhost:7071/api/Hello?name=Ada'
curl -X POST http://localhost:7071/api/Hello -d '{{"name": "Ada"}}'
cargo azfunc new function Squares --queue sides --output-queue squares
cargo azfunc invoke Squares --data-file message.txt --build
cargo azfunc check --build                     # host.json, settings, folders
```

To publish, build the static release binary, put it next to host.json, and
publish the folder (`.funcignore` leaves the sources out):

```sh
rustup target add x86_64-unknown-linux-musl  # once
cargo build --release --target x86_64-unknown-linux-musl
cp target/x86_64-unknown-linux-musl/release/{name} .
func azure functionapp publish <APP_NAME>
```
"#
    )
}
