//! With the `native` feature: the compiler's version, which the worker
//! reports to the host as its runtime version, as Microsoft's workers
//! report their runtime's (docs/native-worker.md, "Capabilities").

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    if std::env::var_os("CARGO_FEATURE_NATIVE").is_none() {
        return;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    // `rustc 1.92.0 (ded5c06cf 2025-12-08)`: the version is the second word.
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_default();
    println!("cargo:rustc-env=AZURE_FUNCTIONS_ROCKET_RUSTC_VERSION={version}");
}
