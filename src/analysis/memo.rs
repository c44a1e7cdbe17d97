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
//! A callee's summary and the parameters of a definition are long texts
//! that many keys repeat: a key holds a token for each instead, from
//! [`Tokens`], which keeps one token per distinct text across runs (a
//! token is never given to another text), so keys stay short and are
//! still equal exactly when the texts are.
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
use foldhash::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The text of `f`'s IR with every span relative to its start.
pub fn ir_text(f: &Function) -> Arc<str> {
    let mut g = f.clone();
    g.shift(-i64::from(f.span.start));
    format!("{g:?}").into()
}

/// Tokens of the texts keys name, kept across runs (see the module's
/// documentation).
#[derive(Default)]
pub struct Tokens {
    by_text: HashMap<String, u64>,
    next: u64,
    /// The last run's token of each function's summary and parameters.
    last: (Vec<Option<u64>>, Vec<Option<u64>>),
}

/// Per run: the token of each function's summary text and of its
/// definition's parameters, by id, made once (a summary, once inferred,
/// does not change within a run).
pub struct SummaryTexts {
    tokens: Mutex<Tokens>,
    last_summary: Vec<Option<u64>>,
    summary: Vec<OnceLock<u64>>,
    params: Vec<OnceLock<u64>>,
}

impl SummaryTexts {
    /// `same_shape`: the program's definitions are those of the last run
    /// (`delta::Shape`), so their parameter texts are the same.
    pub fn new(mut tokens: Tokens, functions: usize, same_shape: bool) -> Self {
        let (last_summary, last_params) = std::mem::take(&mut tokens.last);
        let params: Vec<OnceLock<u64>> = (0..functions).map(|_| OnceLock::new()).collect();
        if same_shape && last_params.len() == functions {
            for (p, last) in params.iter().zip(last_params) {
                if let Some(t) = last {
                    let _ = p.set(t);
                }
            }
        }
        SummaryTexts {
            tokens: Mutex::new(tokens),
            last_summary: if same_shape { last_summary } else { Vec::new() },
            summary: (0..functions).map(|_| OnceLock::new()).collect(),
            params,
        }
    }

    /// The summary of `id` is the last run's (same shape): so is its token.
    pub fn keep_summary(&self, id: usize) {
        if let Some(&Some(t)) = self.last_summary.get(id) {
            let _ = self.summary[id].set(t);
        }
    }

    fn token(&self, text: String) -> u64 {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let next = t.next;
        let tok = *t.by_text.entry(text).or_insert(next);
        if tok == next {
            t.next += 1;
        }
        tok
    }

    /// The tokens, without the texts no key of this run names (their
    /// tokens are never given out again).
    pub fn finish(self) -> Tokens {
        let live: foldhash::HashSet<u64> = self
            .summary
            .iter()
            .chain(&self.params)
            .filter_map(|t| t.get().copied())
            .collect();
        let mut t = self.tokens.into_inner().unwrap_or_else(|e| e.into_inner());
        t.by_text.retain(|_, tok| live.contains(tok));
        let now = |v: Vec<OnceLock<u64>>| v.into_iter().map(OnceLock::into_inner).collect();
        t.last = (now(self.summary), now(self.params));
        t
    }
}

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
    let mut defs = Vec::new();
    let mut names = called_names(f);
    // Indirect calls look up the empty name.
    names.extend([f.name.as_str(), ""]);
    names.sort_unstable();
    names.dedup();
    for n in names {
        let ids = program.resolve(file, n);
        defs.clear();
        defs.extend(ids.iter().map(|&id| {
            let (def_file, g) = program.funcs[id];
            let params = texts.params[id].get_or_init(|| {
                let params: Vec<_> = g.params.iter().map(|p| (&p.name, &p.ty)).collect();
                texts.token(format!("{params:?}"))
            });
            (id, def_file, *params)
        }));
        let _ = write!(k, "{n}|{}|", model.api(n).is_some());
        // `get` gives the first definition's summary when it gives one.
        match (summaries.get(file, n), ids.first()) {
            (Some(s), Some(&id)) => {
                let tok = texts.summary[id].get_or_init(|| texts.token(format!("{s:?}")));
                let _ = write!(k, "#{tok}");
            }
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
