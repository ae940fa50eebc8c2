#[rocket::main]
async fn main() -> std::process::ExitCode {
    rusty_function::startup::run().await
}
