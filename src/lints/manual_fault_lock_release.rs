//! `manual_fault_lock_release`: an if/else on `FAULT_FLAG_VMA_LOCK` choosing
//! `vma_end_read()` or `mmap_read_unlock()` open-codes
//! `release_fault_lock(vmf)`.

use super::context::LintCx;
use super::fault_branch::{fault_branches, vma_of, HelperSuggestion};
use crate::diag::Diagnostic;
use crate::ir::Operand;

pub const ID: &str = "manual_fault_lock_release";
const HELPER: &str = "release_fault_lock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for (file, unit) in cx.units.iter().enumerate() {
        for f in unit.functions.iter().filter(|f| f.name != HELPER) {
            for br in fault_branches(f, cx.model) {
                let ([("vma_end_read", vargs)], [("mmap_read_unlock", margs)]) =
                    (br.set.as_slice(), br.clear.as_slice())
                else {
                    continue;
                };
                let vmf = br.vmf.to_string();
                // Machine-applicable only when the calls name the fault's own
                // VMA and mm; otherwise the rewrite might change which VMA is
                // released.
                let vma = vma_of(&br.vmf, cx.model);
                let mm = vma.arrow(&cx.model.fault.mm_field);
                let exact = vargs.first() == Some(&Operand::Place(vma))
                    && margs.first() == Some(&Operand::Place(mm));
                out.push(
                    HelperSuggestion {
                        lint: ID,
                        helper: HELPER,
                        message: "open-coded fault-lock release",
                        note: format!(
                            "`{HELPER}({vmf})` releases whichever lock the fault holds; the VMA must not be used after it"
                        ),
                        exact,
                    }
                    .diagnostic(cx, file, f, &br),
                );
            }
        }
    }
}
