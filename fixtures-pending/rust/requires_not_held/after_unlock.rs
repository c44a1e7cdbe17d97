// requires(L) on a function: callers must hold L.
use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm))]
unsafe fn count_vmas(mm: *mut bindings::mm_struct) -> usize {
    bindings::mmap_assert_locked(mm);
    0
}

unsafe fn bad_caller(mm: *mut bindings::mm_struct) -> usize {
    bindings::mmap_read_lock(mm);
    bindings::mmap_read_unlock(mm);
    count_vmas(mm) //~ ERROR requires_not_held
}
