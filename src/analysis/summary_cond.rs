//! Conditions of inferred summary effects: how per-exit lock outcomes
//! become conditional effects, including conditions on the value a
//! parameter path had on entry (`lock_ctx->mmap_locked`), and how a caller
//! applies those (guards) and what a failed conditional acquire leaves.
//!
//! A lock wrapper often decides what it does from lock state kept in a
//! struct (`if (ctx->mmap_locked) mmap_read_unlock(ctx->mm); else ...`),
//! or takes the lock in a mode chosen by a parameter. The first becomes an
//! effect guarded by the truthiness of `ctx->mmap_locked` as the caller
//! passes it; the second an acquire whose mode is not said (the mode
//! decides no finding's existence). What cannot be said is forgotten.

use super::state::{State, Status};
use super::summary::Summary;
use super::transfer::Case;
use super::value::Val;
use super::FnAnalyzer;
use crate::model::{Api, EffectKind, PathExpr, Term, When};
use crate::source::Span;
use std::sync::Arc;

/// Outcome of one lock at one exit, relative to entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Unchanged,
    /// `write: None`: taken for read on some paths and for write on others.
    Acquire {
        write: Option<bool>,
    },
    Release,
    MayRelease,
    Forget,
}

/// An effect applies only when the value at `path` (a parameter, or a
/// field reached from one, as the caller passes it) has this truthiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub path: PathExpr,
    pub truthy: bool,
}

/// One exit of the summarised function, for one lock.
pub(super) struct Row {
    /// Whether the result has the RETRY bit, and whether it is non-zero.
    pub retry: Option<bool>,
    pub truthy: Option<bool>,
    pub out: Outcome,
    /// Truthiness known on this path of parameter paths' entry values.
    pub facts: Vec<Guard>,
}

/// Two outcomes that a caller need not tell apart, as one: acquires that
/// differ only in mode.
fn merge(a: Outcome, b: Outcome) -> Option<Outcome> {
    match (a, b) {
        _ if a == b => Some(a),
        (Outcome::Acquire { .. }, Outcome::Acquire { .. }) => {
            Some(Outcome::Acquire { write: None })
        }
        _ => None,
    }
}

fn uniform<'r>(mut rows: impl Iterator<Item = &'r Row>) -> Option<Outcome> {
    let first = rows.next()?.out;
    rows.try_fold(first, |acc, r| merge(acc, r.out))
}

/// Express per-exit outcomes as conditional effects: one unconditional
/// outcome; or one for RETRY exits and one for the others; or one for
/// non-zero and one for zero results; or each changing outcome under a
/// condition on the result's truthiness and on parameter values at entry
/// that holds on its exits and fails on every other. Anything else is
/// forgotten.
pub(super) fn partition(rows: &[Row], retry: &str) -> Vec<(When, Vec<Guard>, Outcome)> {
    if rows.is_empty() {
        return vec![];
    }
    if let Some(o) = uniform(rows.iter()) {
        return vec![(When::Always, Vec::new(), o)];
    }
    let bit = vec![retry.to_string()];
    let yes = uniform(rows.iter().filter(|r| r.retry == Some(true)));
    let no = uniform(rows.iter().filter(|r| r.retry != Some(true)));
    if let (Some(y), Some(n)) = (yes, no) {
        return vec![
            (When::Bits(bit.clone()), Vec::new(), y),
            (When::NoBits(bit), Vec::new(), n),
        ];
    }
    if rows.iter().all(|r| r.truthy.is_some()) {
        let t = uniform(rows.iter().filter(|r| r.truthy == Some(true)));
        let f = uniform(rows.iter().filter(|r| r.truthy == Some(false)));
        if let (Some(t), Some(f)) = (t, f) {
            return vec![(When::NonZero, Vec::new(), t), (When::Zero, Vec::new(), f)];
        }
    }
    guarded(rows).unwrap_or_else(|| vec![(When::Always, Vec::new(), Outcome::Forget)])
}

/// Each outcome other than "unchanged" under a condition that holds on all
/// of its exits and is refuted on every exit with another outcome.
fn guarded(rows: &[Row]) -> Option<Vec<(When, Vec<Guard>, Outcome)>> {
    let mut outs: Vec<Outcome> = Vec::new();
    for r in rows {
        if r.out == Outcome::Forget {
            return None;
        }
        if r.out != Outcome::Unchanged && !outs.iter().any(|o| merge(*o, r.out).is_some()) {
            outs.push(r.out);
        }
    }
    let mut effects = Vec::new();
    for o in outs {
        let mine = |r: &Row| r.out != Outcome::Unchanged && merge(o, r.out).is_some();
        let out = uniform(rows.iter().filter(|r| mine(r)))?;
        let whens = [When::Always, When::Zero, When::NonZero];
        let found = whens.into_iter().find_map(|when| {
            let on = |r: &Row| match when {
                When::Zero => r.truthy.map(|t| !t),
                When::NonZero => r.truthy,
                _ => Some(true),
            };
            if rows.iter().any(|r| mine(r) && on(r) != Some(true)) {
                return None;
            }
            // Facts every exit of this outcome has.
            let first = rows.iter().find(|r| mine(r))?;
            let mut guards: Vec<Guard> = first
                .facts
                .iter()
                .filter(|g| rows.iter().filter(|r| mine(r)).all(|r| r.facts.contains(g)))
                .cloned()
                .collect();
            let refuted = |gs: &[Guard], r: &Row| {
                on(r) == Some(false)
                    || gs.iter().any(|g| {
                        r.facts
                            .iter()
                            .any(|f| f.path == g.path && f.truthy != g.truthy)
                    })
            };
            let others: Vec<&Row> = rows.iter().filter(|r| !mine(r)).collect();
            if !others.iter().all(|r| refuted(&guards, r)) {
                return None;
            }
            // Keep only the guards needed to refute the other exits.
            let mut i = 0;
            while i < guards.len() {
                let mut fewer = guards.clone();
                fewer.remove(i);
                if others.iter().all(|r| refuted(&fewer, r)) {
                    guards = fewer;
                } else {
                    i += 1;
                }
            }
            Some((when, guards))
        })?;
        effects.push((found.0, found.1, out));
    }
    Some(effects)
}

impl FnAnalyzer<'_> {
    /// The value at a guard's path, as the caller passes it.
    fn guard_value(&mut self, st: &State, p: &PathExpr, vals: &[Val]) -> Option<Val> {
        let PathExpr::Param { index, fields } = p else {
            return None;
        };
        let mut v = vals.get(*index)?.clone();
        for f in fields {
            let Val::Obj(o) = v else { return None };
            v = self.load_field(st, o, f);
        }
        Some(v)
    }

    /// Whether effect `i` of `summary` applies in `st` by its guards:
    /// `Some(false)` when a guard is refuted, `None` when undecided.
    fn guards_hold(
        &mut self,
        st: &State,
        summary: &Summary,
        i: usize,
        vals: &[Val],
    ) -> Option<bool> {
        let mut all = Some(true);
        for g in summary.guards.get(i).into_iter().flatten() {
            let v = self.guard_value(st, &g.path, vals);
            match v.and_then(|v| self.truthy_of(st, &v)) {
                Some(t) if t != g.truthy => return Some(false),
                Some(_) => {}
                None => all = None,
            }
        }
        all
    }

    /// Whether a summary effect applies by its guards. An effect that may
    /// or may not apply leaves its lock unknown: the paths of the callee
    /// that leave it alone may hand it to someone else (a deferred unlock),
    /// so they are not taken to keep it held.
    pub(super) fn guard_allows(
        &mut self,
        st: &mut State,
        summary: Option<&Summary>,
        i: usize,
        term: &Term,
        vals: &[Val],
        result: super::value::ObjId,
    ) -> bool {
        let Some(summary) = summary else { return true };
        match self.guards_hold(st, summary, i, vals) {
            Some(b) => b,
            None => {
                if let Some(key) = self.resolve(st, term, vals, result) {
                    st.locks.insert(key, Status::Unknown);
                }
                false
            }
        }
    }

    /// On an outcome where a conditional acquire did not happen (its result
    /// says it failed), the lock is known not held: a function does not take
    /// a lock it already holds. A release there is a double unlock. A lock
    /// known held or released is left as it is.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn mark_failed(
        &mut self,
        st: &mut State,
        (api, summary): (&Api, Option<&Summary>),
        case: &Case,
        name: &str,
        vals: &[Val],
        result: super::value::ObjId,
        span: Span,
    ) {
        let Some(t) = case.truthy else { return };
        for (i, e) in api.effects.iter().enumerate() {
            let failed = match e.when {
                When::Zero | When::Null => t,
                When::NonZero | When::NonNull => !t,
                _ => false,
            };
            // A guarded acquire may not have been tried at all.
            let guarded = summary.is_some_and(|s| s.guards.get(i).is_some_and(|g| !g.is_empty()));
            if e.kind != EffectKind::Acquire || !failed || guarded {
                continue;
            }
            // A lock of a NULL result (`lock_vma_under_rcu()`) is no lock.
            if e.term.args.first() == Some(&PathExpr::Return) {
                continue;
            }
            let Some(key) = self.resolve(st, &e.term, vals, result) else {
                continue;
            };
            if matches!(st.status(key), Status::Unknown | Status::NotHeld) {
                st.locks.insert(
                    key,
                    Status::Failed {
                        at: span,
                        by: Arc::from(name),
                    },
                );
            }
        }
    }
}
