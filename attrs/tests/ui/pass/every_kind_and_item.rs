// Every kind, on functions, methods, trait methods and foreign functions;
// and the dependency-free `cfg_attr` spelling.
#![allow(unexpected_cfgs, dead_code, clippy::missing_safety_doc)]

use faultlock_attrs as faultlock;

#[repr(C)]
pub struct VmFault {
    pub vma: *mut Vma,
}
#[repr(C)]
pub struct Vma {
    pub vm_mm: *mut Mm,
}
#[repr(C)]
pub struct Mm;

#[faultlock::requires(mmap_read(mm))]
fn count_vmas(mm: &Mm) -> usize {
    let _ = mm;
    0
}

#[faultlock::acquires(mmap_read(mm), when = "zero")]
fn lock_killable(mm: &Mm) -> i32 {
    let _ = mm;
    0
}

#[faultlock::acquires(vma_read(return), when = "nonnull")]
fn lock_vma(mm: &Mm, addr: usize) -> *mut Vma {
    let _ = (mm, addr);
    std::ptr::null_mut()
}

#[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY|VM_FAULT_COMPLETED")]
fn wait_for_io(vmf: *mut VmFault) -> u32 {
    let _ = vmf;
    0
}

#[faultlock::releases(mmap(vma.vm_mm))]
#[faultlock::requires(hugetlb_vma_read(vma->vm_mm))]
fn both(vma: &Vma) {
    let _ = vma;
}

struct Guard;

impl Guard {
    #[faultlock::requires(vma_read(self))]
    fn touch(&self) {}

    #[faultlock::releases(mmap_write(self.inner), when = "nobits:VM_FAULT_ERROR")]
    fn done(self) -> u32 {
        0
    }
}

trait Lockable {
    #[faultlock::acquires(mmap_read(self), when = "true")]
    fn try_lock(&self) -> bool;
}

extern "C" {
    #[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")]
    fn c_wait(vmf: *mut VmFault) -> u32;

    #[faultlock::acquires(mmap_write(mm), when = "false")]
    fn c_lock(mm: *mut Mm) -> i32;
}

#[cfg_attr(faultlock, faultlock::requires(mmap_read(mm)))]
fn with_cfg_attr(mm: &Mm) {
    let _ = mm;
}

fn main() {
    let mm = Mm;
    let _ = count_vmas(&mm) + lock_killable(&mm) as usize;
    let _ = lock_vma(&mm, 0);
    let _ = wait_for_io(std::ptr::null_mut());
    with_cfg_attr(&mm);
}
