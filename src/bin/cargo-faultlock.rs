//! `cargo faultlock`: see `faultlock::driver::cargo`.

fn main() {
    std::process::exit(faultlock::driver::cargo::main());
}
