// releases() on a foreign function acts as a lock-model entry.
use faultlock_attrs as faultlock;

extern "C" {
    #[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")]
    fn my_wait_for_io(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t;
}

unsafe fn my_fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    let ret = my_wait_for_io(vmf);
    if ret & bindings::VM_FAULT_RETRY != 0 {
        pr_debug((*(*vmf).vma).vm_start); //~ ERROR vma_use_after_unlock
    }
    ret
}
