use faultlock_attrs as faultlock;

#[faultlock::acquires(mmap_read(mm))]
unsafe fn forgets_to_lock(mm: *mut bindings::mm_struct, fast: bool) {
    if fast {
        return; //~ ERROR annotation_mismatch
    }
    bindings::mmap_read_lock(mm);
}
