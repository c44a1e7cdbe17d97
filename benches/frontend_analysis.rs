//! Front end and analysis on an `mm/memory.c`-sized input (~6,500 lines;
//! see `common/mod.rs` for how it is made).
//!
//! Run with `cargo bench --bench frontend_analysis`.

mod common;

use common::input;
use faultlock::check::{check, CheckOptions};
use faultlock::frontend;
use faultlock::ir::Unit;

// The binaries' allocator, so that in-process times match theirs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let input = input();
    let unit = frontend::lower(&input.file, &input.model.defines);
    eprintln!(
        "input: {} ({} lines, {} bytes, {} functions, {} with opaque regions)",
        input.file.path,
        input.file.line_starts().len(),
        input.file.text.len(),
        unit.functions.len(),
        unit.functions
            .iter()
            .filter(|f| f.opaque_regions > 0)
            .count(),
    );
    divan::main();
}

/// (a) The C front end alone: normalisation, `#if` evaluation, tree-sitter
/// parse and lowering to the IR.
#[divan::bench]
fn frontend_lower(bencher: divan::Bencher) {
    let input = input();
    bencher
        .counter(divan::counter::BytesCount::new(input.file.text.len()))
        .bench(|| frontend::lower(divan::black_box(&input.file), &input.model.defines));
}

/// The analysis alone, on the lowered unit (summaries, per-function
/// dataflow; no lints, no rendering).
#[divan::bench]
fn analysis_only(bencher: divan::Bencher) {
    let input = input();
    let units: Vec<Unit> = vec![frontend::lower(&input.file, &input.model.defines)];
    bencher
        .counter(divan::counter::BytesCount::new(input.file.text.len()))
        .bench(|| faultlock::analysis::analyze(divan::black_box(&units), &input.model));
}

/// (b) The whole pipeline: prefilter, front end, analysis, lints, sorting.
#[divan::bench]
fn check_pipeline(bencher: divan::Bencher) {
    let input = input();
    let files = std::slice::from_ref(&input.file);
    let opts = CheckOptions::default();
    bencher
        .counter(divan::counter::BytesCount::new(input.file.text.len()))
        .bench(|| check(divan::black_box(files), &input.model, &opts));
}
