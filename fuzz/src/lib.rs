//! Helpers shared by the fuzz targets: the whole check pipeline with its
//! determinism check, and the grammar of kernel fault-handler fragments.

pub mod grammar;

use faultlock::check::{self, CheckOptions, Report};
use faultlock::ir::{Function, Terminator, Unit};
use faultlock::model::LockModel;
use faultlock::render::{self, Files, Format};
use faultlock::source::{SourceFile, Span};
use std::sync::OnceLock;

pub fn model() -> &'static LockModel {
    static MODEL: OnceLock<LockModel> = OnceLock::new();
    MODEL.get_or_init(LockModel::builtin)
}

fn single_thread() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool")
    })
}

/// Run the whole pipeline (front end, analysis, lints, every renderer) on
/// `files`, twice: once on the global pool and once on a one-thread pool.
/// Panics if the two runs disagree (ARCHITECTURE.md: output is
/// deterministic whatever the thread count).
pub fn check_twice(files: &[SourceFile], no_prefilter: bool) -> Report {
    let opts = CheckOptions {
        no_prefilter,
        ..CheckOptions::default()
    };
    let a = check::check(files, model(), &opts);
    let b = single_thread().install(|| check::check(files, model(), &opts));
    assert_eq!(
        a.diagnostics, b.diagnostics,
        "diagnostics differ between runs"
    );
    assert_eq!(a.notes, b.notes, "notes differ between runs");
    assert_eq!(a.stats, b.stats, "stats differ between runs");
    let table = Files::new(files.iter().cloned());
    for format in [Format::Human, Format::Json, Format::Gcc, Format::RustcJson] {
        let mut out = Vec::new();
        render::render(&mut out, format, &a.diagnostics, &table, false)
            .expect("rendering into a Vec cannot fail");
    }
    a
}

fn check_span(what: &str, s: Span, len: usize) {
    assert!(
        s.start <= s.end && s.end as usize <= len,
        "{what} span {s:?} outside the file (len {len})"
    );
}

fn check_function(f: &Function, len: usize) {
    check_span("function", f.span, len);
    check_span("function name", f.name_span, len);
    for v in f.params.iter().chain(&f.locals) {
        check_span("variable", v.span, len);
    }
    for a in &f.annotations {
        check_span("annotation", a.span, len);
    }
    let n = f.blocks.len();
    for (i, b) in f.blocks.iter().enumerate() {
        for st in &b.stmts {
            check_span("statement", st.span, len);
        }
        match &b.term {
            Terminator::None => panic!("{}: bb{i} left unterminated", f.name),
            Terminator::Branch {
                cond, stmt_span, ..
            } => {
                check_span("condition", cond.span, len);
                if let Some(s) = stmt_span {
                    check_span("branch statement", *s, len);
                }
            }
            Terminator::Return { span, .. } => check_span("return", *span, len),
            _ => {}
        }
        for s in b.term.successors() {
            assert!(s < n, "{}: bb{i} jumps to bb{s} of {n}", f.name);
        }
    }
    let _ = f.dump();
}

/// The front-end invariants of ARCHITECTURE.md on one lowered unit: every
/// span inside the file, every block terminated, every successor a block.
pub fn check_unit(u: &Unit, len: usize) {
    for f in &u.functions {
        check_function(f, len);
    }
    for r in &u.registrations {
        check_span("registration", r.span, len);
    }
}
