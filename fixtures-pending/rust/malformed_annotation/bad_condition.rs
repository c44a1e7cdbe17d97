// With the cfg_attr spelling nothing checks the annotation at compile
// time: faultlock reports it.
extern "C" {
    #[cfg_attr(faultlock, faultlock::acquires(mmap_read(mm), when = "sometimes"))] //~ ERROR malformed_annotation
    fn annotated(mm: *mut bindings::mm_struct) -> i32;
}
