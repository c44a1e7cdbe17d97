// mimalloc: most of a run is the front end's many small allocations.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(faultlock::driver::main());
}
