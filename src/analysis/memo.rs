//! What an analysis of one function depends on, as a key: a cached result
//! (an inferred summary; the final pass's findings and fault-flag values
//! passed to callees) is reused only when the key is equal, so reuse gives
//! the same results as a fresh run.
//!
//! A pass over `f` reads: `f` itself, its file, its entry context, the
//! model (fixed for a cache's lifetime), and, through the program and the
//! summaries, only what the names it calls (and its own name) resolve to:
//! their summaries, the definitions they reach (ids, parameter names and
//! types, not their positions) and the annotations of `f`. The key is the text of all of these
//! (`Debug`), compared whole, so there are no hash collisions.
//!
//! `f`'s IR is keyed without its position ([`ir_text`]: spans relative to
//! its start), so a function that only moved (text inserted or removed
//! above it) hits; its cached findings are moved by the same amount
//! ([`moved`]). Everything else in the key is absolute: a finding span
//! outside `f` (an annotation on a prototype) can only be one the key
//! pins.

use super::annotations;
use super::summary::{called_names, Summaries};
use super::{EntryContext, Finding, Located};
use crate::ir::{shift_span, Function};
use crate::model::LockModel;
use crate::source::Span;
use std::fmt::Write;
use std::sync::Arc;

/// The text of `f`'s IR with every span relative to its start.
pub fn ir_text(f: &Function) -> Arc<str> {
    let mut g = f.clone();
    g.shift(-i64::from(f.span.start));
    format!("{g:?}").into()
}

/// Per run: the `Debug` text of each function's summary, by id, made once
/// (a summary, once inferred, does not change within a run).
pub type SummaryTexts = [std::sync::OnceLock<String>];

/// The key of a pass over `f` (whose [`ir_text`] is `ir`) in `ctx`.
pub fn key(
    summaries: &Summaries,
    model: &LockModel,
    file: usize,
    f: &Function,
    ir: &str,
    ctx: EntryContext,
    texts: &SummaryTexts,
) -> String {
    let program = summaries.program;
    let mut k = format!("{file}\n{ctx:?}\n{ir}\n");
    let mut names = called_names(f);
    // Indirect calls look up the empty name.
    names.extend([f.name.as_str(), ""]);
    names.sort_unstable();
    names.dedup();
    for n in names {
        let ids = program.resolve(file, n);
        let defs: Vec<_> = ids
            .iter()
            .map(|&id| {
                let (def_file, g) = program.funcs[id];
                let params: Vec<_> = g.params.iter().map(|p| (&p.name, &p.ty)).collect();
                (id, def_file, params)
            })
            .collect();
        let _ = write!(k, "{n}|{}|", model.api(n).is_some());
        // `get` gives the first definition's summary when it gives one.
        match (summaries.get(file, n), ids.first()) {
            (Some(s), Some(&id)) => k.push_str(texts[id].get_or_init(|| format!("{s:?}"))),
            (s, _) => {
                let _ = write!(k, "{s:?}");
            }
        }
        let _ = writeln!(k, "|{defs:?}|{:?}", program.annotations.declared(file, n),);
    }
    let _ = write!(k, "{:?}", annotations::of_function(program, file, f));
    k
}

/// Where a function's text lies: its definition and the annotations
/// written before it.
pub fn extent(f: &Function) -> Span {
    let start = f
        .annotations
        .iter()
        .map(|a| a.span.start)
        .chain([f.span.start])
        .min()
        .unwrap_or(f.span.start);
    Span {
        start,
        end: f.span.end,
    }
}

/// `found`, made for a function whose text lay at `old`, moved by `delta`
/// bytes: every span inside `old` moves, the others stay.
pub fn moved(found: &[Located], old: Span, delta: i64) -> Vec<Located> {
    let mv = |s: &mut Span| {
        if s.start >= old.start && s.end <= old.end {
            *s = shift_span(*s, delta);
        }
    };
    found
        .iter()
        .cloned()
        .map(|mut l| {
            let file = l.file;
            for step in &mut l.path.0 {
                mv(&mut step.at);
            }
            match &mut l.finding {
                Finding::UseAfterUnlock {
                    at,
                    released_at,
                    obtained_at,
                    ..
                } => {
                    mv(at);
                    mv(released_at);
                    obtained_at.iter_mut().for_each(mv);
                }
                Finding::DoubleUnlock { at, first_at, .. } => {
                    mv(at);
                    mv(first_at);
                }
                Finding::MmapAssertUnderVmaLock {
                    at, vma_locked_at, ..
                } => {
                    mv(at);
                    vma_locked_at.iter_mut().for_each(mv);
                }
                Finding::RetryWithLockHeld {
                    at,
                    retry_from,
                    locked_at,
                } => {
                    mv(at);
                    retry_from.iter_mut().for_each(|(s, _)| mv(s));
                    locked_at.iter_mut().for_each(mv);
                }
                Finding::StaleVma {
                    at,
                    obtained_at,
                    relocked_at,
                    ..
                } => {
                    mv(at);
                    obtained_at.iter_mut().for_each(mv);
                    mv(relocked_at);
                }
                Finding::AnnotationMismatch {
                    at,
                    ann_file,
                    ann_at,
                    released_at,
                    ..
                }
                | Finding::RequiredLockNotHeld {
                    at,
                    ann_file,
                    ann_at,
                    released_at,
                    ..
                } => {
                    mv(at);
                    if *ann_file == file {
                        mv(ann_at);
                    }
                    released_at.iter_mut().for_each(|(s, _)| mv(s));
                }
                Finding::LockLeaked {
                    at,
                    taken_at,
                    released_return,
                    released_at,
                    ..
                } => {
                    mv(at);
                    mv(taken_at);
                    mv(released_return);
                    mv(released_at);
                }
                Finding::VmaWrittenUnlocked { at, locked_at, .. } => {
                    mv(at);
                    mv(locked_at);
                }
                Finding::Bounded { at } | Finding::Internal { at, .. } => mv(at),
            }
            l
        })
        .collect()
}
