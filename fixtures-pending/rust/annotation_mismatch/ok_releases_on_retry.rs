use faultlock_attrs as faultlock;

#[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")]
unsafe fn releases_on_retry(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    if (*vmf).pgoff > 16 {
        bindings::release_fault_lock(vmf);
        return bindings::VM_FAULT_RETRY;
    }
    0
}
