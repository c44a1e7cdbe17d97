//! `requires_not_held`: a function annotated `requires(L)` called on a
//! path where L was released or is known not held.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "requires_not_held";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::RequiredLockNotHeld {
            at,
            callee,
            annotation,
            ann_file,
            ann_at,
            lock,
            released_at,
        } = &l.finding
        else {
            continue;
        };
        let state = if released_at.is_some() {
            "released"
        } else {
            "not held"
        };
        let message = format!("`{callee}()` requires the {lock}, which is {state} on this path");
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        let anchors: Vec<_> = released_at
            .iter()
            .map(|(span, by)| cx.label(l.file, *span, format!("{lock} released here by `{by}()`")))
            .collect();
        d.labels.extend(anchors.iter().cloned());
        d.labels.push(cx.label(
            *ann_file,
            *ann_at,
            format!("`{callee}()` is annotated `{annotation}` here"),
        ));
        d.path = super::path::path(cx, l, &anchors);
        // What the call needs, just before the call.
        d.path.extend(d.labels.last().cloned());
        out.push(d);
    }
}
