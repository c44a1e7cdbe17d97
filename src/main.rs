fn main() {
    std::process::exit(faultlock::driver::main());
}
