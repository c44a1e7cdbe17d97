use faultlock_attrs as faultlock;

#[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")]
unsafe fn keeps_lock_on_retry(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    if (*vmf).pgoff > 16 {
        return bindings::VM_FAULT_RETRY; //~ ERROR annotation_mismatch
    }
    0
}
