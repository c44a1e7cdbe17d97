//! Asserts reached only for some argument values.
//!
//! A walker may assert mmap_lock only for one locking mode its caller
//! chooses (`if (walk_lock == PGWALK_RDLOCK) mmap_assert_locked(mm);`). An
//! assert reached with its lock's status unknown becomes a requirement of
//! the function's summary; the comparisons of parameter values with named
//! constants on the path to it go with it, so a caller that passes another
//! constant (`ops->walk_lock = PGWALK_VMA_RDLOCK_VERIFY`) does not reach
//! it, and a caller that passes its own parameter along passes the
//! condition up. Comparisons are recorded only while summarising.

use super::state::{Cond, CondOp, State};
use super::value::{ObjId, ObjKind, Val};
use super::FnAnalyzer;
use crate::model::PathExpr;

/// A requirement reached on more paths than this with different
/// conditions is taken as unconditional.
const MAX_CONDS: usize = 8;

/// A comparison in a summary: the parameter path, the constants it was
/// compared with, and the outcome the path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertCond {
    pub value: PathExpr,
    pub consts: Vec<String>,
    pub op: CondOp,
}

/// An mmap_lock assert a function needs its caller to satisfy: the mm, the
/// call chain to it, and the comparisons on the path to it.
pub type Requirement = (ObjId, Vec<String>, Vec<Cond>);

/// Requirements with the same mm and chain: one unconditional one when any
/// path reaches it unconditionally or too many conditions differ.
pub(super) fn merge(reqs: &std::collections::BTreeSet<Requirement>) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = Vec::new();
    let mut i = 0;
    let all: Vec<&Requirement> = reqs.iter().collect();
    while i < all.len() {
        let j = (i..all.len())
            .find(|&j| all[j].0 != all[i].0 || all[j].1 != all[i].1)
            .unwrap_or(all.len());
        let group = &all[i..j];
        if group.len() > MAX_CONDS || group.iter().any(|r| r.2.is_empty()) {
            out.push((all[i].0, all[i].1.clone(), Vec::new()));
        } else {
            out.extend(group.iter().map(|r| (*r).clone()));
        }
        i = j;
    }
    out
}

impl FnAnalyzer<'_> {
    /// Whether `o` is a value reached from a parameter (or global) on entry.
    pub(super) fn param_rooted(&self, o: ObjId) -> bool {
        matches!(self.objs.path(o), Some((root, _)) if self.func.params.iter().any(|p| p.name == root))
    }

    /// Note a comparison of `o` with the constants `consts` on the path of
    /// `st` (summary pass only).
    pub(super) fn note_cond(&self, st: &mut State, o: ObjId, consts: Vec<String>, op: CondOp) {
        if self.record_conds && self.param_rooted(o) {
            st.conds.insert((o, consts, op));
        }
    }

    /// A choice between several blocks (a `switch`) on a parameter value:
    /// what follows depends on the value in a way the comparisons do not
    /// say, noted as a comparison with no constants (summary pass only).
    /// The selector is the value the block ends by using.
    pub(super) fn note_choice(&mut self, st: &mut State, block: &crate::ir::Block) {
        if !self.record_conds {
            return;
        }
        let Some(crate::ir::StmtKind::Use { places }) = block.stmts.last().map(|s| &s.kind) else {
            return;
        };
        for p in places {
            if let Val::Obj(o) = self.eval_place(st, p) {
                self.note_cond(st, o, Vec::new(), CondOp::Eq);
            }
        }
    }

    /// The value of a parameter path at a call.
    fn arg_value(&mut self, st: &State, p: &PathExpr, vals: &[Val]) -> Val {
        let PathExpr::Param { index, fields } = p else {
            return Val::Top;
        };
        let mut v = vals.get(*index).cloned().unwrap_or(Val::Top);
        for f in fields {
            let Val::Obj(o) = v else { return Val::Top };
            v = self.load_field(st, o, f);
        }
        v
    }

    /// A callee's assert with conditions `conds`, at a call with arguments
    /// `vals`: `None` when the arguments contradict them (the assert is not
    /// reached), else the conditions left over the caller's values.
    pub(super) fn assert_conds_at(
        &mut self,
        st: &State,
        conds: &[AssertCond],
        vals: &[Val],
    ) -> Option<Vec<Cond>> {
        let mut out = Vec::new();
        for c in conds {
            let v = self.arg_value(st, &c.value, vals);
            let bits = self.bits_of(st, &v);
            if matches!(c.op, CondOp::AnyBit | CondOp::NoBit) {
                match bits.any(&c.consts) {
                    Some(any) if any != (c.op == CondOp::AnyBit) => return None,
                    Some(_) => {}
                    None => {
                        if let Val::Obj(o) = v {
                            if !matches!(self.objs.kind(o), ObjKind::Fresh(..)) {
                                out.push((o, c.consts.clone(), c.op));
                            }
                        }
                    }
                }
                continue;
            }
            // A choice on a known value: which way it goes is not known, and
            // a report needs the assert to be reached.
            if bits.exact && c.consts.is_empty() && c.op == CondOp::Eq {
                return None;
            }
            if bits.exact {
                let mut set: Vec<String> = bits
                    .known
                    .iter()
                    .filter(|(_, b)| **b)
                    .map(|(n, _)| n.clone())
                    .collect();
                set.sort();
                let mut want = c.consts.clone();
                want.sort();
                if (set == want) != (c.op == CondOp::Eq) {
                    return None;
                }
                continue;
            }
            if let Val::Obj(o) = v {
                if !matches!(self.objs.kind(o), ObjKind::Fresh(..)) {
                    out.push((o, c.consts.clone(), c.op));
                }
            }
        }
        Some(out)
    }
}
