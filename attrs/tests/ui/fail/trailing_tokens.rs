use faultlock_attrs as faultlock;

#[faultlock::acquires(mmap_read(mm), when = "zero", extra)]
fn f(mm: &u32) -> i32 {
    let _ = mm;
    0
}

fn main() {}
