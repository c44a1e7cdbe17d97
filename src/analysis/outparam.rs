//! What a model entry's callee writes through an out-parameter (`sets:*P=V`
//! conditions: gup's `int *locked`, `fixup_user_fault()`'s `bool *unlocked`,
//! `struct file **fpin`), and arguments written `&mm->mmap_sem` (a term
//! naming the struct a pointer argument points into).

use super::state::State;
use super::transfer::Case;
use super::value::{ObjKind, Val};
use super::FnAnalyzer;
use crate::ir::{Operand, Place, Proj};
use crate::model::{Api, When};

/// A write the callee may do through an out-parameter.
pub(super) struct OutWrite {
    pub param: usize,
    nonzero: bool,
    /// What is written: a place (`&locked`), the pointee of a pointer value
    /// (`locked`, a parameter), or nothing we can name.
    target: Option<Target>,
}

enum Target {
    Place(Place),
    Deref(super::value::ObjId),
}

/// Each case of `cases`, once per subset of `writes` (the outcomes "wrote"
/// and "left `*P` as it was" of every possible write).
pub(super) fn with_writes(cases: Vec<Case>, writes: &[OutWrite]) -> Vec<Case> {
    let mut out = cases;
    for w in writes {
        out = out
            .into_iter()
            .flat_map(|c| {
                let mut wrote = c.clone();
                wrote.sets.push(w.param);
                [c, wrote]
            })
            .collect();
    }
    out
}

impl FnAnalyzer<'_> {
    /// The writes `api`'s `sets:` conditions describe that can happen at
    /// this call: none through a NULL argument, none when `*P` already
    /// holds the value (gup given `*locked == 0` takes and drops mmap_lock
    /// itself and leaves it 0).
    pub(super) fn out_writes(&mut self, st: &State, api: &Api) -> Vec<OutWrite> {
        let mut out: Vec<OutWrite> = Vec::new();
        for e in &api.effects {
            let When::Sets { param, nonzero } = e.when else {
                continue;
            };
            if out.iter().any(|w| w.param == param) {
                continue;
            }
            let Some(op) = self.call_ops.get(param).cloned() else {
                continue;
            };
            let (target, now) = match &op {
                Operand::Null | Operand::Int(0) => continue,
                Operand::AddrOf(p) => {
                    let v = self.eval_place(st, p);
                    (Some(Target::Place(p.clone())), self.truthy_of(st, &v))
                }
                Operand::Place(p) => match self.eval_place(st, p) {
                    Val::Null | Val::Int(0) => continue,
                    Val::Obj(o) if st.truthy.get(&o) == Some(&false) => continue,
                    Val::Obj(o) => {
                        let d = self.objs.intern(ObjKind::Deref(o));
                        (Some(Target::Deref(d)), st.truthy.get(&d).copied())
                    }
                    _ => (None, None),
                },
                _ => (None, None),
            };
            if now == Some(nonzero) {
                continue;
            }
            out.push(OutWrite {
                param,
                nonzero,
                target,
            });
        }
        out
    }

    /// The callee wrote through the out-parameter: a new value, zero or not.
    pub(super) fn write_out(&mut self, st: &mut State, w: &OutWrite, result: super::value::ObjId) {
        let obj = match &w.target {
            None => return,
            Some(Target::Deref(d)) => *d,
            Some(Target::Place(p)) => {
                let v = self.objs.field(result, &format!("@*{}", w.param));
                self.assign(st, p, Val::Obj(v));
                v
            }
        };
        st.forget_obj(obj);
        st.truthy.insert(obj, w.nonzero);
    }

    /// The struct argument `index` points into at `field` (`&mm->mmap_sem`
    /// gives `mm`); `None` for an argument written any other way.
    pub(super) fn member_of(
        &mut self,
        st: &State,
        index: usize,
        field: &str,
    ) -> Option<super::value::ObjId> {
        let Some(Operand::AddrOf(p)) = self.call_ops.get(index).cloned() else {
            return None;
        };
        let mut prefix = p;
        if prefix.proj.pop() != Some(Proj::Field(field.to_string())) {
            return None;
        }
        if prefix.proj.last() == Some(&Proj::Deref) {
            prefix.proj.pop();
        }
        match self.eval_place(st, &prefix) {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }
}
