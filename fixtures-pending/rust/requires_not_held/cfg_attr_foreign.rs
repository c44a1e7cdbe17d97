// requires() on a foreign function, with the dependency-free spelling.
extern "C" {
    #[cfg_attr(faultlock, faultlock::requires(vma_read(vma)))]
    fn touch_locked_vma(vma: *mut bindings::vm_area_struct);
}

unsafe fn done_too_early(mm: *mut bindings::mm_struct, addr: usize) {
    let vma = bindings::lock_vma_under_rcu(mm, addr);
    if vma.is_null() {
        return;
    }
    bindings::vma_end_read(vma);
    touch_locked_vma(vma); //~ ERROR requires_not_held //~ ERROR vma_use_after_unlock
}
