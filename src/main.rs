// musl's own allocator serialises threads and is slow on many small
// allocations: mimalloc makes the static build as fast as a glibc one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rusty_function::startup::main(rusty_function::functions::registry())
}
