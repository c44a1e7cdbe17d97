//! The language server's re-check reuses per-function analysis results
//! (`analysis::analyze_cached`); after every edit of a random sequence its
//! report must equal a fresh `check::check` of the same texts.

use faultlock::check::{self, CheckOptions, Report};
use faultlock::lsp::text::Encoding;
use faultlock::lsp::workspace::{uri_to_path, Workspace};
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use lsp_types::Uri;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The C fixtures, concatenated in two documents (alternating files).
fn documents() -> [String; 2] {
    let mut paths = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "c") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let mut docs = [String::new(), String::new()];
    for (i, p) in paths.iter().enumerate() {
        docs[i % 2].push_str(&std::fs::read_to_string(p).unwrap());
        docs[i % 2].push('\n');
    }
    docs
}

/// A small deterministic PRNG (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Lines to insert: neutral ones, and ones that break the lock discipline
/// (an extra release, a use of a VMA) wherever they land.
const INSERTS: &[&str] = &[
    "",
    "\t/* comment */",
    "\tvma_end_read(vma);",
    "\tvma_end_read(vmf->vma);",
    "\tmmap_read_unlock(mm);",
    "\tx = vma->vm_start;",
    "\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)\n\t\treturn VM_FAULT_RETRY;",
    "static int extra_fn(struct vm_fault *vmf)\n{\n\tvma_end_read(vmf->vma);\n\treturn 0;\n}",
];

fn edit(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = match rng.below(4) {
        // Above everything: every function moves.
        0 => 0,
        _ => rng.below(lines.len() + 1),
    };
    if rng.below(3) == 0 && !lines.is_empty() {
        let at = at.min(lines.len() - 1);
        lines.remove(at);
    } else {
        lines.insert(at, INSERTS[rng.below(INSERTS.len())].to_string());
    }
    lines.join("\n") + "\n"
}

fn same(a: &Report, b: &Report) -> bool {
    a.diagnostics == b.diagnostics
        && a.notes == b.notes
        && a.internal_errors == b.internal_errors
        && a.stats == b.stats
}

#[test]
fn cached_rechecks_equal_fresh_checks_after_random_edits() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    let mut ws = Workspace::new(model.clone(), opts.clone(), Encoding::Utf8);
    let uris = [
        Uri::from_str("file:///ws/a.c").unwrap(),
        Uri::from_str("file:///ws/b.c").unwrap(),
    ];
    let mut texts = documents();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for step in 0..24 {
        let version = step + 1;
        if step > 0 {
            let d = rng.below(2);
            texts[d] = edit(&texts[d], &mut rng);
        }
        for (uri, text) in uris.iter().zip(&texts) {
            ws.set_text(uri.clone(), Arc::from(text.as_str()), version);
        }
        ws.relower();
        let cached = ws.check();
        let files: Vec<SourceFile> = uris
            .iter()
            .zip(&texts)
            .map(|(u, t)| SourceFile::new(uri_to_path(u).as_str(), t.as_str()))
            .collect();
        let fresh = check::check(&files, &model, &opts);
        assert!(
            same(&cached, &fresh),
            "step {step}: cached re-check differs from a fresh check\ncached: {:#?}\nfresh: {:#?}",
            cached.diagnostics,
            fresh.diagnostics
        );
    }
}
