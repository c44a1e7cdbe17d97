use faultlock_attrs as faultlock;

#[faultlock::requires(spinlock(mm))]
fn f(mm: &u32) {
    let _ = mm;
}

fn main() {}
