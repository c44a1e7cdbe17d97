//! Which mm: whether an mm object may be the mm of a VMA, and which mms a
//! path holds no mmap_lock of.
//!
//! `vma->vm_mm` is not the only spelling of a VMA's mm. A function that got
//! its VMA from a caller, or looked it up under its caller's lock, may drop
//! that lock as `current->mm`, an `mm` parameter or `ctx->mm`. Without proof
//! that the two are different mms, the analysis takes them to be the same.
//! Proof, kept conservative so that correct code stays silent:
//! - an mm the function locked itself is not the lock its caller held for
//!   the VMA (only a release of a lock of unknown status reveals protection);
//! - a VMA looked up under a lock the function holds is protected by that
//!   lock, not by another one (its protection is known and kept);
//! - an mm that comes from a call (`get_task_mm()`) or from a task other
//!   than `current` (`task->mm`) is foreign: the caller's VMA is not in it.
//!
//! The same goes for asserts: under the per-VMA lock alone no mmap_lock is
//! held, so an assert of any mm the function has not locked itself is wrong
//! there. The per-VMA lock alone is a fault with the VMA-lock flag set, a
//! per-VMA lock kept after mmap_lock was released, or a VMA found and
//! read-locked by a lookup that takes no mmap_lock (`lock_vma_under_rcu()`)
//! while the function holds none.

use super::state::{LockKey, State, Status};
use super::value::{ObjId, ObjKind, Val};
use super::FnAnalyzer;
use crate::model::{Api, EffectKind, LockKind, PathExpr};
use crate::source::Span;

/// The model's name for the parameter that is the mm a lookup searches
/// (`find_vma(mm, addr)`, `lock_vma_under_rcu(mm, address)`).
const LOOKUP_MM_PARAM: &str = "mm";
/// The task type, and the variable that is the running task: an mm reached
/// from another task is not the caller's.
const TASK_STRUCT: &str = "task_struct";
const CURRENT: &str = "current";

impl FnAnalyzer<'_> {
    /// An mm that cannot be the mm of a VMA the caller handed in or locked:
    /// one a call returned, or one reached from such a value or from a task
    /// other than `current`.
    fn foreign_mm(&self, mm: ObjId) -> bool {
        let mut o = mm;
        loop {
            match self.objs.kind(o) {
                ObjKind::Fresh(..) | ObjKind::Clobbered(..) | ObjKind::Local(_) => return true,
                ObjKind::Root(name) => {
                    return name != CURRENT
                        && self
                            .func
                            .var_type(name)
                            .is_some_and(|t| t.base == TASK_STRUCT)
                }
                // Any VMA's mm is in the caller's context.
                ObjKind::Field(_, f) if *f == self.model.fault.mm_field => return false,
                ObjKind::Field(p, _) | ObjKind::Deref(p) => o = *p,
            }
        }
    }

    /// Whether `a` and `b` may be the same mm: the same object, or two
    /// objects neither of which is provably foreign.
    pub(super) fn may_alias_mm(&self, a: ObjId, b: ObjId) -> bool {
        a == b || (!self.foreign_mm(a) && !self.foreign_mm(b))
    }

    /// Whether an mmap_lock held on this path may be that of `mm` (an assert
    /// of `ctx->mm` in a fault under `vmf->vma->vm_mm`'s mmap_lock holds).
    pub(super) fn held_alias(&self, st: &State, mm: ObjId) -> bool {
        st.locks.iter().any(|(k, s)| match (k, s) {
            (LockKey::Mmap(m), Status::Held { .. }) => self.may_alias_mm(*m, mm),
            _ => false,
        })
    }

    /// The mmap_lock of `mm`, held by the caller (its status was unknown),
    /// is being released: the VMAs it may protect learn so. A VMA that came
    /// with the call is protected by it when `mm` may be the VMA's mm; a VMA
    /// found under a caller's mmap_lock of another spelling (`find_vma(mm)`
    /// then `mmap_read_unlock(current->mm)`, or a fault's `vmf->vma` then
    /// `mmap_read_unlock(ctx->mm)`) is protected by it too.
    pub(super) fn reveal_mm_protection(&mut self, st: &mut State, mm: ObjId) {
        let vmas: Vec<(ObjId, Option<LockKey>)> =
            st.vmas.iter().map(|(o, i)| (*o, i.prot)).collect();
        for (vma, prot) in vmas {
            let rebind = match prot {
                None => self
                    .mm_of(st, vma)
                    .is_some_and(|own| self.may_alias_mm(own, mm)),
                Some(LockKey::Mmap(other)) if other != mm => {
                    let callers = matches!(
                        st.status(LockKey::Mmap(other)),
                        Status::Unknown | Status::Held { since: None, .. }
                    );
                    callers && self.may_alias_mm(other, mm)
                }
                Some(_) => false,
            };
            if rebind {
                if let Some(i) = st.vmas.get_mut(&vma) {
                    i.prot = Some(LockKey::Mmap(mm));
                    // Not known to be the acquisition it was found under: a
                    // re-lock is not reported as a stale use.
                    i.epoch = None;
                }
            }
        }
    }

    /// After a call's effects: a VMA it returns was looked up in its `mm`
    /// argument (`result->vm_mm` is that mm), and a VMA it found and
    /// read-locked with no mmap_lock held leaves that mm's mmap_lock known
    /// not held (`lock_vma_under_rcu()`).
    pub(super) fn note_lookup(&mut self, st: &mut State, api: &Api, vals: &[Val], result: ObjId) {
        if st.truthy.get(&result) == Some(&false) || !st.vmas.contains_key(&result) {
            return;
        }
        let Some(Val::Obj(mm)) = api
            .params
            .iter()
            .position(|p| p == LOOKUP_MM_PARAM)
            .and_then(|i| vals.get(i))
        else {
            return;
        };
        let mm = *mm;
        let field = self.model.fault.mm_field.clone();
        st.heap.entry((result, field)).or_insert(Val::Obj(mm));
        let read_locked = api.effects.iter().any(|e| {
            e.kind == EffectKind::Acquire
                && e.term.kind == LockKind::VmaRead
                && e.term.args.first() == Some(&PathExpr::Return)
        });
        if read_locked && st.is_held(LockKey::Vma(result)) && !st.any_mmap_held() {
            st.locks.entry(LockKey::Mmap(mm)).or_insert(Status::NotHeld);
        }
    }

    /// Whether an mmap_lock assert of `mm` runs under a per-VMA lock alone;
    /// `Some(where that lock was taken)` (None: held on entry). Either `mm`
    /// is known not held (or released), or its status is unknown (the
    /// function never locked it) on a path that holds no mmap_lock and knows
    /// some mm's mmap_lock not held: in that context no mmap_lock is held,
    /// whichever the mm.
    pub fn only_vma_lock(&self, st: &State, mm: LockKey) -> Option<Option<Span>> {
        let alone = match st.status(mm) {
            Status::NotHeld | Status::Released { .. } | Status::Failed { .. } => true,
            Status::Unknown => {
                !st.any_mmap_held()
                    && st.locks.iter().any(|(k, s)| {
                        matches!(k, LockKey::Mmap(_))
                            && matches!(
                                s,
                                Status::NotHeld | Status::Released { .. } | Status::Failed { .. }
                            )
                    })
            }
            Status::Held { .. } => false,
        };
        if !alone {
            return None;
        }
        st.locks.iter().find_map(|(k, s)| match (k, s) {
            (LockKey::Vma(_), Status::Held { since, .. }) => Some(*since),
            _ => None,
        })
    }
}
