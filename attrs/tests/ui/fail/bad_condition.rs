use faultlock_attrs as faultlock;

extern "C" {
    #[faultlock::acquires(mmap_read(mm), when = "sometimes")]
    fn lock(mm: *mut u8) -> i32;
}

fn main() {}
