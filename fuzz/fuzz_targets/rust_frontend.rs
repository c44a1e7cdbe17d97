//! Bytes → lossy text → the Rust front end (recovery splitting, syn,
//! lowering with guard drops). Besides "never panics", checks the same
//! front-end invariants as `c_frontend`.
#![no_main]

use faultlock::frontend;
use faultlock::source::SourceFile;
use faultlock_fuzz::{check_unit, model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("f.rs", data);
    let unit = frontend::lower(&file, &model().defines);
    check_unit(&unit, file.text.len());
});
