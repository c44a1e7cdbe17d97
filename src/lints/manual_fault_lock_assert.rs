//! `manual_fault_lock_assert`: `if (!(vmf->flags & FAULT_FLAG_VMA_LOCK))
//! mmap_assert_locked(mm);` open-codes `assert_fault_locked(vmf)`.

use super::context::LintCx;
use super::fault_branch::{fault_branches, vma_of, HelperSuggestion};
use crate::diag::Diagnostic;
use crate::ir::Operand;

pub const ID: &str = "manual_fault_lock_assert";
const HELPER: &str = "assert_fault_locked";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for (file, unit) in cx.units.iter().enumerate() {
        for f in unit.functions.iter().filter(|f| f.name != HELPER) {
            for br in fault_branches(f, cx.model) {
                let set: Vec<&str> = br.set.iter().map(|(n, _)| *n).collect();
                let clear: Vec<&str> = br.clear.iter().map(|(n, _)| *n).collect();
                let set_ok = set.is_empty() || set == ["vma_assert_locked"];
                if !(set_ok && clear == ["mmap_assert_locked"]) {
                    continue;
                }
                let vmf = br.vmf.to_string();
                // Machine-applicable only when the assert names the fault's
                // own mm (`vmf->vma->vm_mm`); `ctx->mm` is probably the same
                // mm, but that is for the author to confirm.
                let mm = vma_of(&br.vmf, cx.model).arrow(&cx.model.fault.mm_field);
                let exact = br.clear[0].1.first() == Some(&Operand::Place(mm));
                out.push(
                    HelperSuggestion {
                        lint: ID,
                        helper: HELPER,
                        message: "open-coded fault-lock assert",
                        note: format!(
                            "`{HELPER}({vmf})` asserts whichever lock the fault holds: the per-VMA lock when `{}` is set, mmap_lock otherwise",
                            cx.model.fault.vma_lock_flag
                        ),
                        exact,
                    }
                    .diagnostic(cx, file, f, &br),
                );
            }
        }
    }
}
