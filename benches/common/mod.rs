//! The bench input shared by the benches: an `mm/memory.c`-sized C file
//! (~6,500 lines) generated at run time from the repository's own fixtures
//! (`fixtures/c/**/*.c`): every fixture is appended again and again, its
//! functions renamed with a per-copy suffix so that no name is defined
//! twice, until the text reaches `TARGET_LINES` lines. No kernel code is
//! involved. Set `FAULTLOCK_BENCH_INPUT=path/to/file.c` to measure another
//! file instead (e.g. the real `mm/memory.c` of the corpus from
//! `scripts/kernel-corpus.sh`).

use faultlock::frontend;
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Lines of `mm/memory.c` in Linux 6.12.
const TARGET_LINES: usize = 6_500;

pub struct Input {
    pub model: LockModel,
    pub file: SourceFile,
}

pub fn input() -> &'static Input {
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
