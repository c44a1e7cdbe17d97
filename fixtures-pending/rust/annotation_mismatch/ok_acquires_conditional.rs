use faultlock_attrs as faultlock;

#[faultlock::acquires(mmap_read(mm), when = "zero")]
unsafe fn lock_mm_killable(mm: *mut bindings::mm_struct) -> i32 {
    bindings::mmap_read_lock_killable(mm)
}

#[cfg_attr(faultlock, faultlock::acquires(vma_read(return), when = "nonnull"))]
unsafe fn get_locked_vma(mm: *mut bindings::mm_struct, addr: usize) -> *mut bindings::vm_area_struct {
    bindings::lock_vma_under_rcu(mm, addr)
}
