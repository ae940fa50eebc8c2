fn main() -> std::process::ExitCode {
    azure_functions_rocket::run(ticks::registry())
}
