//! `vma_use_after_unlock`: a VMA used after its protecting lock was released.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "vma_use_after_unlock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::UseAfterUnlock {
            at,
            vma,
            passed_to,
            lock,
            released_at,
            released_by,
            may,
            obtained_at,
        } = &l.finding
        else {
            continue;
        };
        let message = match passed_to {
            Some(callee) => format!(
                "VMA `{vma}` passed to `{callee}()` after the {lock} protecting it was released"
            ),
            None => format!("VMA `{vma}` used after the {lock} protecting it was released"),
        };
        let at = cx.narrow(l.file, *at, vma);
        let mut d = cx.diag(ID, l.file, Some(&l.function), at, message);
        let how = if *may {
            format!(
                "`{released_by}()` may release the {lock} here (when it returns VM_FAULT_RETRY)"
            )
        } else {
            format!("{lock} released here by `{released_by}()`")
        };
        d.labels.push(cx.label(l.file, *released_at, how));
        if let Some(o) = obtained_at {
            d.labels
                .push(cx.label(l.file, *o, "VMA obtained here".to_string()));
        }
        d.notes.push(
            "once its lock is released the VMA may be freed and reused; read what you need (e.g. `mm = vma->vm_mm`) before the release"
                .to_string(),
        );
        let anchors = d.labels[..1].to_vec();
        d.path = super::path::path(cx, l, &anchors);
        out.push(d);
    }
}
