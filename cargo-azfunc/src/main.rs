//! `cargo azfunc` (or `cargo-azfunc`): create, check and run an Azure
//! Functions custom handler locally, as the Functions host would. See
//! README.md.

mod commands;

fn main() -> std::process::ExitCode {
    commands::main()
}
