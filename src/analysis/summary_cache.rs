//! Summary inference with reuse (the language server's re-check): a
//! function's summary is inferred again only when its [`memo::key`]
//! changed — its position-free IR, its entry context, or what the names it
//! calls resolve to, their summaries included. So an edit re-infers the
//! edited function, and its callers only when its summary changed.
//! A recursive call-graph cycle is inferred again when the key of any of
//! its functions changed (its keys, made before any of the cycle's
//! summaries is known, say everything its fixpoint depends on).

use super::memo;
use super::program::FuncId;
use super::summary::{self, Summaries, Summary};
use super::Contexts;
use crate::model::LockModel;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Inferred summaries (`None`: the function has none) by [`memo::key`].
pub type Memo = HashMap<String, Option<Summary>>;

pub struct SummaryMemo<'a> {
    old: &'a Memo,
    new: Mutex<Memo>,
    /// Each function's [`memo::ir_text`], by id.
    ir: &'a [Arc<str>],
    texts: &'a memo::SummaryTexts,
    /// Summaries reused (for `FAULTLOCK_STAGE_TIMES`).
    pub hits: AtomicUsize,
}

impl<'a> SummaryMemo<'a> {
    pub fn new(old: &'a Memo, ir: &'a [Arc<str>], texts: &'a memo::SummaryTexts) -> Self {
        SummaryMemo {
            old,
            new: Mutex::new(Memo::new()),
            ir,
            texts,
            hits: AtomicUsize::new(0),
        }
    }

    /// The summaries inferred or reused in this run, for the next one.
    pub fn into_new(self) -> Memo {
        crate::check::stage_count(
            "summaries reused",
            self.hits.load(Ordering::Relaxed),
            self.new.lock().map_or(0, |m| m.len()),
        );
        self.new.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// What `solve` (the fixpoint of the recursive cycle `scc`) gives,
    /// reused when the keys of all its functions are unchanged.
    pub fn solve_scc(
        &self,
        scc: &[FuncId],
        model: &LockModel,
        contexts: &Contexts,
        done: &Summaries,
        solve: impl FnOnce() -> Vec<(FuncId, Option<Summary>)>,
    ) -> Vec<(FuncId, Option<Summary>)> {
        let mut key = String::from("cycle\n");
        for &id in scc {
            let (file, f) = done.program.funcs[id];
            let ctx = contexts.get(&id).copied().unwrap_or_default();
            key.push_str(&memo::key(done, model, file, f, &self.ir[id], ctx, self.texts));
            key.push('\u{1}');
        }
        let keys: Vec<String> = (0..scc.len()).map(|k| format!("{key}{k}")).collect();
        let old: Option<Vec<Option<Summary>>> =
            keys.iter().map(|k| self.old.get(k).cloned()).collect();
        let out = match old {
            Some(old) => {
                self.hits.fetch_add(scc.len(), Ordering::Relaxed);
                scc.iter().copied().zip(old).collect()
            }
            None => solve(),
        };
        let mut new = self.new.lock().unwrap_or_else(|e| e.into_inner());
        for (k, (_, s)) in keys.into_iter().zip(&out) {
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
    ) -> Option<Summary> {
        let (file, f) = done.program.funcs[id];
        // An irrelevant function's summary is made without analysis.
        if !summary::relevant(file, f, model, done) {
            return summary::summarize(id, model, contexts, done);
        }
        let ctx = contexts.get(&id).copied().unwrap_or_default();
        let key = memo::key(done, model, file, f, &self.ir[id], ctx, self.texts);
        let s = match self.old.get(&key) {
            Some(s) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                s.clone()
            }
            None => summary::summarize(id, model, contexts, done),
        };
        self.new
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, s.clone());
        s
    }
}
