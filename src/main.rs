#[global_allocator]
static ALLOCATOR: rusty_function::allocator::Allocator = rusty_function::allocator::Allocator;

fn main() -> std::process::ExitCode {
    rusty_function::startup::main(rusty_function::functions::registry())
}
