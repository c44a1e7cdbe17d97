//! Front end and analysis on an `mm/memory.c`-sized input (~6,500 lines).
//!
//! The input is generated at run time from the repository's own fixtures
//! (`fixtures/c/**/*.c`): every fixture is appended again and again, its
//! functions renamed with a per-copy suffix so that no name is defined twice,
//! until the text reaches `TARGET_LINES` lines. No kernel code is involved.
//! Set `FAULTLOCK_BENCH_INPUT=path/to/file.c` to measure another file instead
//! (e.g. the real `mm/memory.c` of the corpus from `scripts/kernel-corpus.sh`).
//!
//! Run with `cargo bench --bench frontend_analysis`.

use faultlock::check::{check, CheckOptions};
use faultlock::frontend;
use faultlock::ir::Unit;
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Lines of `mm/memory.c` in Linux 6.12.
const TARGET_LINES: usize = 6_500;

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

struct Input {
    model: LockModel,
    file: SourceFile,
}

fn input() -> &'static Input {
    static INPUT: OnceLock<Input> = OnceLock::new();
    INPUT.get_or_init(|| {
        let model = LockModel::builtin();
        let file = match std::env::var_os("FAULTLOCK_BENCH_INPUT") {
            Some(path) => {
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", Path::new(&path).display()));
                SourceFile::from_bytes(path.to_string_lossy().into_owned(), &bytes)
            }
            None => SourceFile::new("generated/memory.c", generate(&model)),
        };
        Input { model, file }
    })
}

/// The fixtures concatenated, with renamed functions, to `TARGET_LINES`.
fn generate(model: &LockModel) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c");
    let mut paths = Vec::new();
    collect_c_files(&root, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures under {}", root.display());
    let fixtures: Vec<(String, BTreeSet<String>)> = paths
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            // The names the fixture defines, except the model's own API
            // (fixtures that stub `release_fault_lock()` keep its meaning).
            let unit = frontend::lower(&SourceFile::new("f.c", text.as_str()), &model.defines);
            let names = unit
                .functions
                .iter()
                .map(|f| f.name.clone())
                .filter(|n| model.api(n).is_none())
                .collect();
            (text, names)
        })
        .collect();
    let mut out = String::new();
    let mut lines = 0;
    'outer: for copy in 0.. {
        for (i, (text, names)) in fixtures.iter().enumerate() {
            out.push_str(&rename(text, names, &format!("_f{i}c{copy}")));
            if !out.ends_with('\n') {
                out.push('\n');
            }
            lines += text.lines().count();
            if lines >= TARGET_LINES {
                break 'outer;
            }
        }
    }
    out
}

fn collect_c_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_c_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "c") {
            out.push(path);
        }
    }
}

/// Append `suffix` to every identifier token of `text` that is in `names`.
fn rename(text: &str, names: &BTreeSet<String>, suffix: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let ident = &text[start..i];
            out.push_str(ident);
            if names.contains(ident) {
                out.push_str(suffix);
            }
        } else if b.is_ascii_digit() {
            // Numbers (and suffixes such as `0x1fUL`) are not identifiers.
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push_str(&text[start..i]);
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + len]);
            i += len;
        }
    }
    out
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
