use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm))]
unsafe fn drops_and_retakes(mm: *mut bindings::mm_struct) {
    bindings::mmap_read_unlock(mm);
    bindings::cond_resched();
    bindings::mmap_read_lock(mm);
}
