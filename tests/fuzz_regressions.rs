//! Regression tests for what the fuzz targets (`fuzz/`, run by
//! `scripts/fuzz.sh`) found. Each input lives in `tests/fuzz_inputs/`; a
//! new finding is added `#[ignore]`d and enabled with its fix.

use faultlock::check::{check, CheckOptions, Report};
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use std::path::Path;
use std::time::{Duration, Instant};

/// Run the whole pipeline on one input file, as the fuzz targets do (no
/// prefilter), twice; the two runs must agree. Returns the report and the
/// time of the slower run.
fn check_input(name: &str) -> (Report, Duration) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_inputs")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let files = [SourceFile::from_bytes(name, &bytes)];
    let model = LockModel::builtin();
    let opts = CheckOptions {
        no_prefilter: true,
        ..CheckOptions::default()
    };
    let mut slowest = Duration::ZERO;
    let mut reports = Vec::new();
    for _ in 0..2 {
        let start = Instant::now();
        reports.push(check(&files, &model, &opts));
        slowest = slowest.max(start.elapsed());
    }
    let b = reports.pop().unwrap();
    let a = reports.pop().unwrap();
    assert_eq!(a.diagnostics, b.diagnostics, "{name}: diagnostics differ");
    assert_eq!(a.notes, b.notes, "{name}: notes differ");
    (a, slowest)
}

/// Issue 7: "a function with hundreds of correlated flag tests ... finishes
/// in well under a second". These have a dozen calls.
const BUDGET: Duration = Duration::from_secs(1);

/// fault_grammar timeout: a dozen `handle_userfault()` calls in a loop
/// (about 1 s in release, over 10 s under the fuzz build).
#[test]
fn fault_grammar_timeout_handle_userfault_loop() {
    let (_, t) = check_input("fault_grammar_timeout_handle_userfault_loop.c");
    assert!(t < BUDGET, "took {t:?}");
}

/// The same cost without the loop: 17 `handle_userfault()` calls in one
/// basic block. The states a block's statements split into are not bounded
/// (MAX_STATES applies at block entry only), so time and memory grow about
/// 2.6x per call (3.5 s and 2.4 GB here; 20 calls need tens of GB).
#[test]
fn handle_userfault_chain_in_one_block() {
    let (_, t) = check_input("handle_userfault_chain.c");
    assert!(t < BUDGET, "took {t:?}");
}
