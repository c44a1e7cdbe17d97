//! `vma_written_without_write_lock`: a store to a VMA field per-VMA-lock
//! readers use, while the mmap_lock taken in this function is held but the
//! VMA has not been write-locked since (or only the read lock is held).
//!
//! The write-locked VMAs of a path are kept in `State::vma_write`, only in
//! functions that store such a field (so no other function's states split
//! on them). A function that takes no mmap_lock itself gets it from its
//! callers, who may have write-locked the VMA too: it is not checked.

use super::state::{LockKey, State, Status};
use super::value::{ObjId, ObjKind, Val};
use super::FnAnalyzer;
use crate::ir::{Callee, Function, Operand, Place, Proj, StmtKind};
use crate::model::LockModel;
use crate::source::Span;

/// What a call does to the write-locked set, worked out before the call.
pub(super) enum Plan {
    None,
    Lock(ObjId),
    Fresh(ObjId),
    EndAll,
}

/// Whether `f` stores a field the model lists (directly or through a
/// listed helper): only then are write-locked VMAs tracked.
pub(super) fn tracks(model: &LockModel, f: &Function) -> bool {
    let w = &model.vma_write;
    if w.fields.is_empty() {
        return false;
    }
    f.blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .any(|s| match &s.kind {
            StmtKind::Assign { dst, .. } => store_field(dst, &w.fields).is_some(),
            StmtKind::Call { dst, callee, .. } => {
                dst.as_ref()
                    .is_some_and(|d| store_field(d, &w.fields).is_some())
                    || callee.name().is_some_and(|n| w.write_of(n).is_some())
            }
            _ => false,
        })
}

/// `p->FIELD` (or `(*p).FIELD`) with FIELD listed: the pointer place and
/// the field.
fn store_field<'p>(dst: &'p Place, fields: &[String]) -> Option<(Place, &'p str)> {
    let (Proj::Field(f), rest) = dst.proj.split_last()? else {
        return None;
    };
    let (Proj::Deref, ptr) = rest.split_last()? else {
        return None;
    };
    fields.iter().any(|x| x == f).then(|| {
        (
            Place {
                base: dst.base.clone(),
                proj: ptr.to_vec(),
            },
            f.as_str(),
        )
    })
}

impl FnAnalyzer<'_> {
    /// An assignment: report a store to a listed field of an unlocked VMA.
    pub(super) fn check_vma_store(&mut self, st: &State, dst: &Place, span: Span) {
        if !self.track_vma_write {
            return;
        }
        let Some((ptr, field)) = store_field(dst, &self.model.vma_write.fields) else {
            return;
        };
        let Val::Obj(o) = self.eval_place(st, &ptr) else {
            return;
        };
        if self.is_vma(st, &ptr, o) {
            let field = field.to_string();
            self.vma_store(st, o, ptr.to_string(), field, None, span);
        }
    }

    /// Before a call: the write-locked set's change it makes, and a store
    /// made by a listed helper or of the result (`vma->vm_policy = f()`).
    pub(super) fn vma_write_plan(
        &mut self,
        st: &mut State,
        loc: (usize, usize),
        (dst, callee, args): (Option<&Place>, &Callee, &[Operand]),
        span: Span,
    ) -> Plan {
        if !self.track_vma_write {
            return Plan::None;
        }
        if let Some(d) = dst {
            self.check_vma_store(st, d, span);
        }
        let result = self.objs.intern(ObjKind::Fresh(loc.0, loc.1));
        // The statement computes a new value: the old one's lock is not its.
        st.vma_write.remove(&result);
        let Some(name) = callee.name() else {
            return Plan::None;
        };
        let w = &self.model.vma_write;
        if w.end_all.iter().any(|n| n == name) {
            return Plan::EndAll;
        }
        if w.fresh.iter().any(|n| n == name) {
            return Plan::Fresh(result);
        }
        let arg_obj = |a: &mut Self, i: usize| match args.get(i) {
            Some(op) => match a.eval(st, op) {
                Val::Obj(o) => Some(o),
                _ => None,
            },
            None => None,
        };
        if let Some(i) = w.lock_arg(name) {
            return arg_obj(self, i).map_or(Plan::None, Plan::Lock);
        }
        if let Some((i, field)) = w.write_of(name) {
            let field = field.to_string();
            let name = name.to_string();
            if let Some(o) = arg_obj(self, i) {
                let text = args[i].to_string();
                self.vma_store(st, o, text, field, Some(name), span);
            }
        }
        Plan::None
    }

    /// After the call: apply the plan to every resulting state.
    pub(super) fn vma_write_apply(&self, states: &mut [State], plan: Plan) {
        for s in states {
            match plan {
                Plan::None => {}
                Plan::Lock(o) | Plan::Fresh(o) => {
                    s.vma_write.insert(o);
                }
                Plan::EndAll => s.vma_write.retain(|o| self.fresh_call(*o)),
            }
        }
    }

    /// A VMA that came from a fresh-VMA allocator (it stays unseen by
    /// readers until inserted, whatever happens to mmap_lock).
    fn fresh_call(&self, o: ObjId) -> bool {
        let ObjKind::Fresh(b, i) = *self.objs.kind(o) else {
            return false;
        };
        self.func.blocks[b].stmts.get(i).is_some_and(|s| {
            matches!(&s.kind, StmtKind::Call { callee: Callee::Direct { name, .. }, .. }
                if self.model.vma_write.fresh.iter().any(|n| n == name))
        })
    }

    fn is_vma(&self, st: &State, ptr: &Place, o: ObjId) -> bool {
        let vma = &self.model.fault.vma_struct;
        st.vmas.contains_key(&o)
            || (ptr.proj.is_empty()
                && self
                    .func
                    .var_type(&ptr.base)
                    .is_some_and(|t| t.ptr == 1 && t.base == *vma))
            || matches!(ptr.proj.last(), Some(Proj::Field(f)) if *f == self.model.fault.vma_field)
    }

    fn vma_store(
        &mut self,
        st: &State,
        o: ObjId,
        vma: String,
        field: String,
        via: Option<String>,
        span: Span,
    ) {
        if st.vma_write.contains(&o) {
            return;
        }
        // The first mmap_lock held for write decides; else the first held
        // for read. One of unknown status, or taken by a caller (which may
        // have write-locked the VMA), says nothing.
        let (mut write_at, mut read) = (None, None);
        for (k, s) in &st.locks {
            match (k, s) {
                (LockKey::Mmap(_), Status::Held { write: true, since }) => {
                    let Some(at) = since else { return };
                    write_at = Some(*at);
                    break;
                }
                (
                    LockKey::Mmap(_),
                    Status::Held {
                        write: false,
                        since,
                    },
                ) => {
                    read = read.or(Some(*since));
                }
                (LockKey::Mmap(_), Status::Unknown) => return,
                _ => {}
            }
        }
        let (locked_at, write) = match (write_at, read) {
            (Some(at), _) => (at, true),
            (None, Some(Some(at))) => (at, false),
            _ => return,
        };
        let finding = super::Finding::VmaWrittenUnlocked {
            at: span,
            vma,
            field,
            via,
            locked_at,
            write,
        };
        self.report(finding, st);
    }
}
