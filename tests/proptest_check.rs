//! Property tests over the whole pipeline (`faultlock::check::check`, in
//! process): mutated fixtures and token soups never make it panic, and
//! every diagnostic points inside its file. Case counts stay small so the
//! suite stays fast.

use faultlock::check::{check, CheckOptions};
use faultlock::model::LockModel;
use faultlock::source::{SourceFile, Span};
use proptest::prelude::*;
use std::sync::OnceLock;

fn model() -> &'static LockModel {
    static M: OnceLock<LockModel> = OnceLock::new();
    M.get_or_init(LockModel::builtin)
}

fn fixtures() -> &'static [(String, Vec<u8>)] {
    static FIX: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FIX.get_or_init(|| {
        let mut out = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c");
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "c") {
                    out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        assert!(!out.is_empty());
        out
    })
}

const INSERT: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    ";",
    "#if X\n",
    "#else\n",
    "#endif\n",
    "goto out;",
    "out:",
    "if (",
    "else ",
    "/*",
    "*/",
    "\"",
    "\0",
    "\u{fffd}",
    "switch (x) {",
    "case 1:",
    "default:",
    "do {",
    "} while (0);",
    "for (;;)",
    "return ",
    "break;",
    "continue;",
    "({ ",
    " })",
    " ? ",
    " : ",
    " && ",
    " || ",
    "->",
    "vma",
    "vmf->vma",
    "vmf->flags & FAULT_FLAG_VMA_LOCK",
    "mmap_read_lock(mm);",
    "mmap_read_unlock(mm);",
    "vma_end_read(vma);",
    "release_fault_lock(vmf);",
    "vma = lock_vma_under_rcu(mm, addr);",
    "ret = handle_mm_fault(vma, addr, flags, regs);",
    "if (ret & VM_FAULT_RETRY)",
    "return VM_FAULT_RETRY;",
    "mmap_assert_locked(mm);",
    "vma = find_vma(mm, addr);",
    "static int g(struct vm_fault *vmf)\n{\n",
];

/// Apply `(kind, at, len, tok)` edits: delete, insert a fragment,
/// duplicate a range, truncate, overwrite a byte.
fn mutate(src: &[u8], muts: &[(u8, usize, usize, usize)]) -> Vec<u8> {
    let mut b = src.to_vec();
    for &(kind, at, len, tok) in muts {
        let at = at % (b.len() + 1);
        let end = (at + len % 200).min(b.len());
        match kind % 5 {
            0 => {
                b.drain(at..end);
            }
            1 => {
                let t = INSERT[tok % INSERT.len()].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            2 => {
                let dup = b[at..end].to_vec();
                b.splice(at..at, dup);
            }
            3 => b.truncate(at),
            _ => {
                if at < b.len() {
                    b[at] = tok as u8;
                }
            }
        }
    }
    b
}

fn run(files: &[SourceFile]) -> Result<(), TestCaseError> {
    let report = check(files, model(), &CheckOptions::default());
    for d in &report.diagnostics {
        let f = files
            .iter()
            .find(|f| f.path == d.file)
            .ok_or_else(|| TestCaseError::fail(format!("unknown file {}", d.file)))?;
        let inside = |s: Span| s.start <= s.end && s.end as usize <= f.text.len();
        prop_assert!(inside(d.span), "{}: {:?} outside the file", d.lint, d.span);
        for l in &d.labels {
            prop_assert!(inside(l.span), "{}: label {:?} outside", d.lint, l.span);
        }
        if let Some(s) = &d.suggestion {
            prop_assert!(
                inside(s.span),
                "{}: suggestion {:?} outside",
                d.lint,
                s.span
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Several mutated fixtures checked together (interprocedural context
    /// spans them).
    #[test]
    fn check_mutated_fixtures(
        picks in proptest::collection::vec(
            (any::<usize>(), proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<usize>()), 1..6)),
            1..4,
        ),
    ) {
        let fx = fixtures();
        let files: Vec<SourceFile> = picks
            .iter()
            .enumerate()
            .map(|(i, (which, muts))| {
                let (_, src) = &fx[which % fx.len()];
                SourceFile::from_bytes(format!("m{i}.c"), &mutate(src, muts))
            })
            .collect();
        run(&files)?;
    }

    /// Arbitrary bytes named `.c`, mentioning the model so they are parsed.
    #[test]
    fn check_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut text = b"vm_fault mmap_read_lock(mm);\n".to_vec();
        text.extend(b);
        run(&[SourceFile::from_bytes("r.c", &text)])?;
    }
}
