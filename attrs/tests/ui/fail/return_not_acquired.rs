use faultlock_attrs as faultlock;

#[faultlock::releases(vma_read(return))]
fn f(mm: &u32) -> *mut u8 {
    let _ = mm;
    std::ptr::null_mut()
}

fn main() {}
