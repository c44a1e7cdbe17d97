//! `double_unlock`: a lock released on a path where it is already released.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "double_unlock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::DoubleUnlock {
            at,
            lock,
            callee,
            first_at,
            first_by,
            first_failed,
        } = &l.finding
        else {
            continue;
        };
        let message = if *first_failed {
            format!("`{callee}()` releases the {lock}, which is not held on this path")
        } else {
            format!("`{callee}()` releases the {lock}, which is already released on this path")
        };
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        let first = if *first_failed {
            format!("`{first_by}()` failed here on this path: the {lock} was not taken")
        } else if first_by.starts_with("handle_mm_fault")
            || first_by.starts_with("__handle_mm_fault")
        {
            format!("`{first_by}()` released the {lock} here when it returned VM_FAULT_RETRY or VM_FAULT_COMPLETED")
        } else {
            format!("{lock} first released here by `{first_by}()`")
        };
        d.labels.push(cx.label(l.file, *first_at, first));
        let anchors = d.labels.clone();
        d.path = super::path::path(cx, l, &anchors);
        out.push(d);
    }
}
