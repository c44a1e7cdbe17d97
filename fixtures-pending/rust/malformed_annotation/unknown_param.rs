// With the cfg_attr spelling nothing checks the annotation at compile
// time: faultlock reports it.
extern "C" {
    #[cfg_attr(faultlock, faultlock::requires(mmap_read(mm_struct)))] //~ ERROR malformed_annotation
    fn annotated(mm: *mut bindings::mm_struct) -> i32;
}
