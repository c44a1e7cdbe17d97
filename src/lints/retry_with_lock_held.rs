//! `retry_with_lock_held`: a fault entry point returns VM_FAULT_RETRY with
//! the per-VMA lock still held.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "retry_with_lock_held";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::RetryWithLockHeld {
            at,
            retry_from,
            locked_at,
        } = &l.finding
        else {
            continue;
        };
        let message = "VM_FAULT_RETRY returned with the per-VMA lock still held".to_string();
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        let anchors: Vec<_> = retry_from
            .iter()
            .map(|(span, callee)| {
                let m =
                    format!("`{callee}()` returned VM_FAULT_RETRY here without releasing the lock");
                cx.label(l.file, *span, m)
            })
            .collect();
        d.labels.extend(anchors.iter().cloned());
        if let Some(s) = locked_at {
            d.labels
                .push(cx.label(l.file, *s, "per-VMA lock taken here".to_string()));
        }
        d.notes.push(
            "the caller releases the per-VMA lock only when the result has neither VM_FAULT_RETRY nor VM_FAULT_COMPLETED; release it (`release_fault_lock(vmf)`) before returning VM_FAULT_RETRY"
                .to_string(),
        );
        d.path = super::path::path(cx, l, &anchors);
        out.push(d);
    }
}
