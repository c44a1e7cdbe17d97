use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm))]
struct S;

fn main() {}
