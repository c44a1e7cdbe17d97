//! `lock_leaked_on_return`: a lock the function takes is still held at some
//! of its returns and released at others.
//!
//! Lock helpers are left alone: functions the model or an annotation
//! describes, and functions whose returns tell the caller whether the lock
//! is held (held exactly where they return non-NULL / true, or zero for an
//! int result, as `lock_mm_and_find_vma()` does). The typical bug is the
//! other way round: an error code returned with the lock still held, while
//! the success path releases it.

use super::engine::Exit;
use super::state::{LockKey, Status};
use super::value::Val;
use super::{Finding, FnAnalyzer};
use crate::ir::{Callee, CondKind, Operand, StmtKind, Terminator};
use crate::model::{EffectKind, When};
use crate::source::Span;
use std::collections::BTreeSet;
use std::sync::Arc;

impl FnAnalyzer<'_> {
    /// The leaking returns among `exits` (the final pass's).
    pub(super) fn lock_leaks(&mut self, exits: &[Exit]) -> Vec<(Finding, usize)> {
        let f = self.func;
        let helper = !f.annotations.is_empty()
            || self.model.api(&f.name).is_some()
            || self
                .summaries
                .program
                .annotations
                .declared(self.file, &f.name)
                .is_some();
        if helper || exits.len() < 2 || self.drops_locks_elsewhere() {
            return Vec::new();
        }
        let keys: BTreeSet<LockKey> = exits
            .iter()
            .flat_map(|e| e.state.locks.keys().copied())
            .collect();
        let truth: Vec<Option<bool>> = exits.iter().map(|e| self.ret_truth(e)).collect();
        let errno: Vec<bool> = exits
            .iter()
            .map(|e| self.returns_constant_expr(e))
            .collect();
        let void = f.ret.ptr == 0 && f.ret.base == "void";
        let flag = f.ret.ptr > 0 || f.ret.base == "bool";
        let mut out = Vec::new();
        for key in keys {
            let mut held: Vec<(usize, Span, bool)> = Vec::new();
            let mut released: Vec<(usize, Span, Arc<str>)> = Vec::new();
            for (i, e) in exits.iter().enumerate() {
                match e.state.status(key) {
                    Status::Held {
                        since: Some(at),
                        write,
                    } => held.push((i, *at, *write)),
                    Status::Released {
                        at,
                        by,
                        may: false,
                        own: true,
                    } => released.push((i, *at, by.clone())),
                    _ => {}
                }
            }
            let Some((r, rel_at, rel_by)) = released.first().cloned() else {
                continue;
            };
            let taken: Vec<Span> = held.iter().map(|h| h.1).collect();
            let freed: Vec<Span> = released.iter().map(|x| x.1).collect();
            if self.same_guard(&taken, &freed) {
                continue;
            }
            let rel_truth: BTreeSet<Option<bool>> = released.iter().map(|x| truth[x.0]).collect();
            let rel_errno = released.iter().all(|x| errno[x.0]);
            let mut seen: BTreeSet<Span> = BTreeSet::new();
            for &(h, taken_at, write) in &held {
                let t = truth[h];
                let same = t.is_some() && rel_truth.contains(&t);
                let leak = if void {
                    true
                } else if flag {
                    // The same kind of value with and without the lock: the
                    // caller cannot tell.
                    same
                } else if errno[h] {
                    // An error code returned with the lock, something else
                    // without it.
                    !rel_errno
                } else {
                    // A known positive value is a helper's "locked" (1).
                    let positive = matches!(exits[h].value, Some(Val::Int(n)) if n > 0);
                    !positive
                        && (same
                            || (t == Some(true) && rel_truth.iter().all(|x| *x == Some(false))))
                };
                if leak && seen.insert(exits[h].span) {
                    let leak = Finding::LockLeaked {
                        at: exits[h].span,
                        lock: describe(key, write),
                        taken_at,
                        released_return: exits[r].span,
                        released_at: rel_at,
                        released_by: rel_by.clone(),
                    };
                    out.push((leak, h));
                }
            }
        }
        out
    }

    /// Whether a callee may release a lock depending on its result
    /// (`handle_mm_fault()` on RETRY) or through a flag the function passes
    /// by address (gup's `int *locked`): the function's later tests of that
    /// outcome often go through helpers the analysis does not follow
    /// (`fault_signal_pending()`), so its paths cannot be told apart.
    fn drops_locks_elsewhere(&self) -> bool {
        let model = self.model;
        self.func.blocks.iter().flat_map(|b| &b.stmts).any(|s| {
            let StmtKind::Call {
                callee: Callee::Direct { name, .. },
                args,
                ..
            } = &s.kind
            else {
                return false;
            };
            let flag_by_address = args.iter().any(|a| {
                matches!(a, Operand::AddrOf(p) if p.proj.is_empty()
                    && self.func.var_type(&p.base).is_some_and(|t| t.ptr == 0 && SCALARS.contains(&t.base.as_str())))
            });
            let api = model
                .api(name)
                .or_else(|| self.summaries.get(self.file, name).map(|s| &s.api));
            let conditional = api.is_some_and(|a| {
                a.effects.iter().any(|e| {
                    matches!(
                        e.kind,
                        EffectKind::Release | EffectKind::MayRelease | EffectKind::Forget
                    ) && e.when != When::Always
                })
            });
            flag_by_address || conditional || self.releases_untracked(name)
        })
    }

    /// Whether a same-tree callee calls a release whose lock its summary
    /// cannot name (`current->mm`'s mmap_lock released by an arch
    /// `bad_area()`): the caller does not see that release.
    fn releases_untracked(&self, name: &str) -> bool {
        let program = self.summaries.program;
        let model = self.model;
        let releases = |a: &crate::model::Api| {
            a.effects
                .iter()
                .any(|e| matches!(e.kind, EffectKind::Release | EffectKind::MayRelease))
        };
        if self
            .summaries
            .get(self.file, name)
            .is_some_and(|s| releases(&s.api))
        {
            return false;
        }
        program.resolve(self.file, name).iter().any(|&id| {
            program.funcs[id]
                .1
                .blocks
                .iter()
                .flat_map(|b| &b.stmts)
                .any(|s| {
                    matches!(&s.kind, StmtKind::Call { callee: Callee::Direct { name, .. }, .. }
                    if model.api(name).is_some_and(releases))
                })
        })
    }

    /// Whether the lock is taken and released under tests of the same
    /// variable (`if (!fast) mmap_read_lock(..)` ... `if (!fast)
    /// mmap_read_unlock(..)`): a flag the analysis may not follow.
    fn same_guard(&self, taken: &[Span], freed: &[Span]) -> bool {
        let f = self.func;
        let mut guards: Vec<Vec<&str>> = vec![Vec::new(); f.blocks.len()];
        for b in &f.blocks {
            if let Terminator::Branch {
                cond,
                then_bb,
                else_bb,
                ..
            } = &b.term
            {
                let vars: Vec<&str> = cond_vars(&cond.kind);
                for t in [then_bb, else_bb] {
                    if let Some(g) = guards.get_mut(*t) {
                        g.extend(vars.iter().copied());
                    }
                }
            }
        }
        let vars_at = |spans: &[Span]| -> BTreeSet<&str> {
            f.blocks
                .iter()
                .enumerate()
                .filter(|(_, b)| b.stmts.iter().any(|s| spans.contains(&s.span)))
                .flat_map(|(i, _)| guards[i].iter().copied())
                .filter(|v| !v.starts_with('$'))
                .collect()
        };
        let a = vars_at(taken);
        !a.is_empty() && !a.is_disjoint(&vars_at(freed))
    }

    /// `return -EINVAL;`: a constant expression the IR keeps no value of
    /// (an operand reading no place), in an int-like function an error code.
    pub(super) fn returns_constant_expr(&self, e: &Exit) -> bool {
        self.func.blocks.iter().any(|b| {
            matches!(&b.term, Terminator::Return { value: Some(Operand::Other { places }), span }
                if *span == e.span && places.is_empty())
        })
    }

    fn ret_truth(&self, e: &Exit) -> Option<bool> {
        let v = e.value.clone()?;
        let bits = self.bits_of(&e.state, &v);
        match &v {
            Val::Obj(o) => e.state.truthy.get(o).copied().or(bits.truthy()),
            _ => bits.truthy(),
        }
    }
}

fn describe(key: LockKey, write: bool) -> &'static str {
    match (key, write) {
        (LockKey::Mmap(_), true) => "mmap_lock (write)",
        (LockKey::Mmap(_), false) => "mmap_lock (read)",
        _ => key.describe(),
    }
}

/// Scalar types a "lock still held" flag is kept in.
const SCALARS: &[&str] = &["int", "bool", "unsigned", "long", "unsigned int"];

fn cond_vars(c: &CondKind) -> Vec<&str> {
    let ops: Vec<&Operand> = match c {
        CondKind::Truthy(o) | CondKind::BitTest { value: o, .. } => vec![o],
        CondKind::Eq { lhs, rhs } => vec![lhs, rhs],
        CondKind::Unknown { places } => return places.iter().map(|p| p.base.as_str()).collect(),
    };
    ops.into_iter()
        .flat_map(|o| o.places())
        .map(|p| p.base.as_str())
        .collect()
}
