use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm), when = "nonnull")]
fn f(mm: &u32) {
    let _ = mm;
}

fn main() {}
