// With the cfg_attr spelling nothing checks the annotation at compile
// time: faultlock reports it.
extern "C" {
    #[cfg_attr(faultlock, faultlock::holds(mmap_read(mm)))] //~ ERROR malformed_annotation
    fn annotated(mm: *mut bindings::mm_struct) -> i32;
}
