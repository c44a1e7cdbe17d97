extern "C" {
    #[cfg_attr(faultlock, faultlock::requires(mmap_write(mm)))]
    fn a(mm: *mut bindings::mm_struct);
    #[cfg_attr(faultlock, faultlock::requires(hugetlb_vma_read(vma)))]
    fn b(vma: *mut bindings::vm_area_struct);
    #[cfg_attr(faultlock, faultlock::releases(mmap(vma.vm_mm), when = "nonzero"))]
    fn c(vma: *mut bindings::vm_area_struct) -> i32;
    #[cfg_attr(faultlock, faultlock::acquires(mmap_read(mm), when = "true"))]
    fn d(mm: *mut bindings::mm_struct) -> bool;
}
