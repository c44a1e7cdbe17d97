// Annotations override inference: the raw rwsem call says nothing, the
// annotation says the lock is released.
use faultlock_attrs as faultlock;

#[faultlock::releases(mmap_read(mm))]
unsafe fn raw_unlock(mm: *mut bindings::mm_struct) {
    bindings::up_read(&mut (*mm).mmap_lock);
}

unsafe fn raw_unlock_twice(mm: *mut bindings::mm_struct) {
    bindings::mmap_read_lock(mm);
    raw_unlock(mm);
    bindings::mmap_read_unlock(mm); //~ ERROR double_unlock
}
