use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm))]
unsafe fn count_vmas(mm: *mut bindings::mm_struct) -> usize {
    bindings::mmap_assert_locked(mm);
    0
}

unsafe fn good_caller(mm: *mut bindings::mm_struct) -> usize {
    bindings::mmap_read_lock(mm);
    let n = count_vmas(mm);
    bindings::mmap_read_unlock(mm);
    n
}
