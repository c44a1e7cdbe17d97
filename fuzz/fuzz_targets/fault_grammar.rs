//! Structured target: a program of kernel fault-handler fragments (see
//! `faultlock_fuzz::grammar`), printed as C and run through the whole
//! pipeline twice (determinism) with the prefilter off.
//!
//! `FAULTLOCK_FUZZ_PRINT=1 cargo fuzz run fault_grammar ARTIFACT` prints
//! the C text of an input (to turn a crash into a regression test).
#![no_main]

use faultlock::source::SourceFile;
use faultlock_fuzz::grammar::Program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|prog: Program| {
    let text = prog.to_c();
    if std::env::var_os("FAULTLOCK_FUZZ_PRINT").is_some() {
        eprintln!("----- f.c -----\n{text}----- end -----");
    }
    let files = [SourceFile::new("f.c", text)];
    faultlock_fuzz::check_twice(&files, true);
});
