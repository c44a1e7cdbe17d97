//! Bytes → one or two `.c` files → `faultlock::check::check` → every
//! renderer; the pipeline runs twice (global pool, one thread) and must give
//! equal diagnostics.
//!
//! Input layout: the first byte picks options (bit 0: keep the prefilter);
//! the rest is file `a.c`, or `a.c` and `b.c` split at the first `\0\0`.
#![no_main]

use faultlock::source::SourceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&opts, rest)) = data.split_first() else {
        return;
    };
    let no_prefilter = opts & 1 == 0;
    let files = match rest.windows(2).position(|w| w == b"\0\0") {
        Some(i) => vec![
            SourceFile::from_bytes("a.c", &rest[..i]),
            SourceFile::from_bytes("b.c", &rest[i + 2..]),
        ],
        None => vec![SourceFile::from_bytes("a.c", rest)],
    };
    faultlock_fuzz::check_twice(&files, no_prefilter);
});
