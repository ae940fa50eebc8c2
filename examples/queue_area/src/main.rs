fn main() -> std::process::ExitCode {
    azure_functions_rocket::run(queue_area::registry())
}
