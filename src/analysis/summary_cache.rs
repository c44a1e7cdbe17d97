//! Summary inference with reuse (the language server's re-check): a
//! function's summary is inferred again only when its [`memo::key`]
//! changed — its position-free IR, its entry context, or what the names it
//! calls resolve to, their summaries included. So an edit re-infers the
//! edited function, and its callers only when its summary changed.
//! A recursive call-graph cycle is inferred again when the key of any of
//! its functions changed (its keys, made before any of the cycle's
//! summaries is known, say everything its fixpoint depends on).
//!
//! When the program kept its shape since the last run ([`Delta`]: the
//! same definitions and call graph, only bodies changed), a function
//! whose IR and entry context are unchanged and none of whose key's
//! definitions below it changed its summary keeps its last summary
//! without its key being made: every input of its key is then unchanged,
//! so the key is too.

use super::memo;
use super::program::FuncId;
use super::summary::{self, Summaries, Summary};
use super::Contexts;
use crate::model::LockModel;
use foldhash::{HashMap, HashMapExt};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Inferred summaries (`None`: the function has none) by [`memo::key`].
pub type Memo = HashMap<String, Option<Arc<Summary>>>;

/// What one function's inference gave: its memo key (`None`: made
/// without one) and its summary (shared with the memo and the run's
/// [`Summaries`]: kept ones are not copied).
pub type Inferred = (Option<String>, Option<Arc<Summary>>);

/// Per function, what one run inferred: the memo key (`None`: made
/// without one) and the value before annotations; and the summary its
/// callers saw (`None` when it was not summarized).
#[derive(Default)]
pub struct PerFn {
    pub inferred: Vec<Option<Inferred>>,
    pub seen: Vec<Option<Option<Arc<Summary>>>>,
}

/// The last run's [`PerFn`], when the program kept its shape since, and
/// the functions whose IR or entry context changed.
pub struct Delta {
    pub prev: PerFn,
    pub dirty: Vec<bool>,
}

pub struct SummaryMemo<'a> {
    old: &'a Memo,
    delta: Option<Delta>,
    /// Whether each function's summary differs from the last run's.
    changed: Vec<AtomicBool>,
    inferred: Vec<OnceLock<Inferred>>,
    seen: Vec<OnceLock<Option<Arc<Summary>>>>,
    new: Mutex<Memo>,
    /// Each function's [`memo::ir_text`], by id.
    ir: &'a [Arc<str>],
    texts: &'a memo::SummaryTexts,
    /// Summaries reused (for `FAULTLOCK_STAGE_TIMES`).
    pub hits: AtomicUsize,
}

impl<'a> SummaryMemo<'a> {
    pub fn new(
        old: &'a Memo,
        delta: Option<Delta>,
        ir: &'a [Arc<str>],
        texts: &'a memo::SummaryTexts,
    ) -> Self {
        let n = ir.len();
        SummaryMemo {
            old,
            delta,
            changed: (0..n).map(|_| AtomicBool::new(false)).collect(),
            inferred: (0..n).map(|_| OnceLock::new()).collect(),
            seen: (0..n).map(|_| OnceLock::new()).collect(),
            new: Mutex::new(Memo::new()),
            ir,
            texts,
            hits: AtomicUsize::new(0),
        }
    }

    /// The summaries inferred or reused in this run, for the next one;
    /// which functions' summaries changed since the last run (all, when
    /// there was no [`Delta`]).
    pub fn into_new(self) -> (Memo, PerFn, Vec<bool>) {
        crate::check::stage_count(
            "summaries reused",
            self.hits.load(Ordering::Relaxed),
            self.inferred.iter().filter(|v| v.get().is_some()).count(),
        );
        let changed = match self.delta {
            Some(_) => self
                .changed
                .into_iter()
                .map(AtomicBool::into_inner)
                .collect(),
            None => vec![true; self.inferred.len()],
        };
        let per_fn = PerFn {
            inferred: self
                .inferred
                .into_iter()
                .map(OnceLock::into_inner)
                .collect(),
            seen: self.seen.into_iter().map(OnceLock::into_inner).collect(),
        };
        let memo = self.new.into_inner().unwrap_or_else(|e| e.into_inner());
        (memo, per_fn, changed)
    }

    /// The last run's summaries of the cycle (or single function) `scc`,
    /// when none of its inputs changed (see [`Delta`]).
    pub fn reuse(
        &self,
        scc: &[FuncId],
        graph: &super::graph::Graph,
    ) -> Option<Vec<(FuncId, Option<Arc<Summary>>)>> {
        let delta = self.delta.as_ref()?;
        let unchanged = |&i: &FuncId| {
            !delta.dirty[i]
                && delta.prev.inferred[i].is_some()
                && graph.deps[i].iter().all(|&d| {
                    // Definitions at this level or above are not summarized
                    // yet when this one is, in either run.
                    graph.level[d] >= graph.level[i] || !self.changed[d].load(Ordering::Relaxed)
                })
        };
        if !scc.iter().all(unchanged) {
            return None;
        }
        let mut out = Vec::with_capacity(scc.len());
        for &i in scc {
            let (key, s) = delta.prev.inferred[i].clone()?;
            if let Some(k) = &key {
                self.new
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(k.clone(), s.clone());
            }
            self.hits.fetch_add(1, Ordering::Relaxed);
            let _ = self.inferred[i].set((key, s.clone()));
            out.push((i, s));
        }
        Some(out)
    }

    /// `seen` is the summary of `i` its callers see in this run.
    pub fn note(&self, i: FuncId, seen: Option<&Arc<Summary>>) {
        let was = self
            .delta
            .as_ref()
            .and_then(|d| d.prev.seen.get(i)?.as_ref());
        if was.map(Option::as_ref) != Some(seen) {
            self.changed[i].store(true, Ordering::Relaxed);
        } else {
            self.texts.keep_summary(i);
        }
        let _ = self.seen[i].set(seen.cloned());
    }

    /// What `solve` (the fixpoint of the recursive cycle `scc`) gives,
    /// reused when the keys of all its functions are unchanged.
    pub fn solve_scc(
        &self,
        scc: &[FuncId],
        model: &LockModel,
        contexts: &Contexts,
        done: &Summaries,
        solve: impl FnOnce() -> Vec<(FuncId, Option<Arc<Summary>>)>,
    ) -> Vec<(FuncId, Option<Arc<Summary>>)> {
        let mut key = String::from("cycle\n");
        for &id in scc {
            let (file, f) = done.program.funcs[id];
            let ctx = contexts.get(&id).copied().unwrap_or_default();
            key.push_str(&memo::key(
                done,
                model,
                file,
                f,
                &self.ir[id],
                ctx,
                self.texts,
            ));
            key.push('\u{1}');
        }
        let keys: Vec<String> = (0..scc.len()).map(|k| format!("{key}{k}")).collect();
        let old: Option<Vec<Option<Arc<Summary>>>> =
            keys.iter().map(|k| self.old.get(k).cloned()).collect();
        let out = match old {
            Some(old) => {
                self.hits.fetch_add(scc.len(), Ordering::Relaxed);
                scc.iter().copied().zip(old).collect()
            }
            None => solve(),
        };
        let mut new = self.new.lock().unwrap_or_else(|e| e.into_inner());
        for (k, (i, s)) in keys.into_iter().zip(&out) {
            let _ = self.inferred[*i].set((Some(k.clone()), s.clone()));
            new.insert(k, s.clone());
        }
        out
    }

    /// What [`summary::summarize`] gives for `id`, reused when its key is
    /// unchanged.
    pub fn summarize(
        &self,
        id: FuncId,
        model: &LockModel,
        contexts: &Contexts,
        done: &Summaries,
    ) -> Option<Arc<Summary>> {
        let (file, f) = done.program.funcs[id];
        // An irrelevant function's summary is made without analysis.
        if !summary::relevant(file, f, model, done) {
            let s = summary::summarize(id, model, contexts, done).map(Arc::new);
            let _ = self.inferred[id].set((None, s.clone()));
            return s;
        }
        let ctx = contexts.get(&id).copied().unwrap_or_default();
        let key = memo::key(done, model, file, f, &self.ir[id], ctx, self.texts);
        let s = match self.old.get(&key) {
            Some(s) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                s.clone()
            }
            None => summary::summarize(id, model, contexts, done).map(Arc::new),
        };
        let _ = self.inferred[id].set((Some(key.clone()), s.clone()));
        self.new
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, s.clone());
        s
    }
}
