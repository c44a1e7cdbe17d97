//! Bytes → lossy text → the C front end (`#if` evaluation, kernel-macro
//! normalisation, tree-sitter parse, lowering to the IR).
//!
//! Besides "never panics", checks the invariants ARCHITECTURE.md states for
//! the front end: normalisation keeps the length (so every byte offset),
//! every span lies inside the file, every block is terminated and every
//! successor is a block of the function.
#![no_main]

use faultlock::frontend;
use faultlock::source::SourceFile;
use faultlock_fuzz::{check_unit, model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let model = model();
    let file = SourceFile::from_bytes("f.c", data);
    let len = file.text.len();
    let normalized = frontend::c::normalized_text(&file, &model.defines);
    assert_eq!(normalized.len(), len, "normalisation changed the length");
    let unit = frontend::lower(&file, &model.defines);
    check_unit(&unit, len);
});
