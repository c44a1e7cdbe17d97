//! Shared by the `manual_fault_lock_*` lints: `if` statements that test the
//! fault flag, with the straight-line calls on each side.

use super::context::LintCx;
use crate::diag::{Applicability, Diagnostic, Suggestion};
use crate::ir::{BlockId, Callee, CondKind, Function, Operand, Place, Proj, StmtKind, Terminator};
use crate::model::LockModel;
use crate::source::Span;

/// `if (X->flags & FAULT_FLAG_VMA_LOCK) <set> else <clear>` where each side
/// is a run of calls (possibly empty) that joins at the same block.
pub struct FaultBranch<'f> {
    /// The `vm_fault` expression `X`.
    pub vmf: Place,
    pub stmt_span: Span,
    /// Calls on the flag-set side: (callee, args).
    pub set: Vec<(&'f str, &'f [Operand])>,
    /// Calls on the flag-clear side.
    pub clear: Vec<(&'f str, &'f [Operand])>,
}

pub fn fault_branches<'f>(f: &'f Function, model: &LockModel) -> Vec<FaultBranch<'f>> {
    let mut out = Vec::new();
    for b in &f.blocks {
        let Terminator::Branch {
            cond,
            then_bb,
            else_bb,
            stmt_span: Some(stmt_span),
        } = &b.term
        else {
            continue;
        };
        let CondKind::BitTest {
            value: Operand::Place(p),
            mask,
        } = &cond.kind
        else {
            continue;
        };
        if mask.len() != 1 || mask[0] != model.fault.vma_lock_flag {
            continue;
        }
        let n = p.proj.len();
        if n < 2
            || p.proj[n - 2] != Proj::Deref
            || p.proj[n - 1] != Proj::Field(model.fault.flags_field.clone())
        {
            continue;
        }
        let vmf = Place {
            base: p.base.clone(),
            proj: p.proj[..n - 2].to_vec(),
        };
        let (a, b) = (chain(f, *then_bb), chain(f, *else_bb));
        let Some(join) = a.iter().find(|x| b.contains(x)).copied() else {
            continue;
        };
        let (Some(set), Some(clear)) = (calls_before(f, &a, join), calls_before(f, &b, join))
        else {
            continue;
        };
        out.push(FaultBranch {
            vmf,
            stmt_span: *stmt_span,
            set,
            clear,
        });
    }
    out
}

/// The blocks reached from `b` by unconditional jumps (at most a few).
fn chain(f: &Function, mut b: BlockId) -> Vec<BlockId> {
    let mut out = vec![b];
    while let Some(Terminator::Goto(t)) = f.blocks.get(b).map(|x| &x.term) {
        if out.contains(t) || out.len() > 8 {
            break;
        }
        out.push(*t);
        b = *t;
    }
    out
}

/// The calls in the blocks of `chain` before `join`, if those blocks hold
/// nothing but calls whose results are unused.
fn calls_before<'f>(
    f: &'f Function,
    chain: &[BlockId],
    join: BlockId,
) -> Option<Vec<(&'f str, &'f [Operand])>> {
    let mut calls = Vec::new();
    for &b in chain.iter().take_while(|&&b| b != join) {
        for s in &f.blocks[b].stmts {
            match &s.kind {
                StmtKind::Call {
                    dst: None,
                    callee: Callee::Direct { name, .. },
                    args,
                    ..
                } => calls.push((name.as_str(), args.as_slice())),
                _ => return None,
            }
        }
    }
    Some(calls)
}

/// `X->vma` for the vm_fault expression `X`.
pub fn vma_of(vmf: &Place, model: &LockModel) -> Place {
    vmf.arrow(&model.fault.vma_field)
}

/// The diagnostic of a `manual_fault_lock_*` lint: the whole `if`
/// statement, replaced by a call to `helper(vmf)`; machine-applicable when
/// `exact` (the calls named the fault's own VMA and mm).
pub struct HelperSuggestion<'a> {
    pub lint: &'static str,
    pub helper: &'a str,
    pub message: &'a str,
    pub note: String,
    pub exact: bool,
}

impl HelperSuggestion<'_> {
    pub fn diagnostic(
        self,
        cx: &LintCx,
        file: usize,
        f: &Function,
        br: &FaultBranch,
    ) -> Diagnostic {
        let vmf = br.vmf.to_string();
        let mut d = cx.diag(
            self.lint,
            file,
            Some(&f.name),
            br.stmt_span,
            self.message.to_string(),
        );
        d.notes.push(self.note);
        d.suggestion = Some(Suggestion {
            message: format!("use `{}()`", self.helper),
            span: br.stmt_span,
            replacement: format!("{}({vmf});", self.helper),
            applicability: if self.exact {
                Applicability::MachineApplicable
            } else {
                Applicability::MaybeIncorrect
            },
        });
        d
    }
}
