use faultlock_attrs as faultlock;

#[faultlock::requires(mmap_read(mm))]
unsafe fn drops_it(mm: *mut bindings::mm_struct) {
    bindings::mmap_read_unlock(mm);
    return; //~ ERROR annotation_mismatch
}
