//! Bytes → lossy text → the C front end (`#if` evaluation, kernel-macro
//! normalisation, tree-sitter parse, lowering to the IR).
//!
//! Besides "never panics", checks the invariants ARCHITECTURE.md states for
//! the front end: normalisation keeps the length (so every byte offset),
//! every span lies inside the file, every block is terminated and every
//! successor is a block of the function.
#![no_main]

use faultlock::frontend;
use faultlock::ir::{Function, Terminator, Unit};
use faultlock::model::LockModel;
use faultlock::source::{SourceFile, Span};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static MODEL: OnceLock<LockModel> = OnceLock::new();

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

fn check_unit(u: &Unit, len: usize) {
    for f in &u.functions {
        check_function(f, len);
    }
    for r in &u.registrations {
        check_span("registration", r.span, len);
    }
}

fuzz_target!(|data: &[u8]| {
    let model = MODEL.get_or_init(LockModel::builtin);
    let file = SourceFile::from_bytes("f.c", data);
    let len = file.text.len();
    let normalized = frontend::c::normalized_text(&file, &model.defines);
    assert_eq!(normalized.len(), len, "normalisation changed the length");
    let unit = frontend::lower(&file, &model.defines);
    check_unit(&unit, len);
});
