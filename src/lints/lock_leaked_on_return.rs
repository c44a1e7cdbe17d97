//! `lock_leaked_on_return`: a lock taken in the function is still held at
//! one return while another return releases it.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "lock_leaked_on_return";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::LockLeaked {
            at,
            lock,
            taken_at,
            released_return,
            released_at,
            released_by,
        } = &l.finding
        else {
            continue;
        };
        let message = format!("this return leaves the {lock} held, while other returns release it");
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        d.labels
            .push(cx.label(l.file, *taken_at, format!("{lock} taken here")));
        // The path is the leaking return's; the release is on another one.
        let anchors = d.labels.clone();
        d.path = super::path::path(cx, l, &anchors);
        d.labels.push(cx.label(
            l.file,
            *released_at,
            format!("released here by `{released_by}()` on the path to another return"),
        ));
        d.labels.push(cx.label(
            l.file,
            *released_return,
            "that return has it released".to_string(),
        ));
        d.notes.push(
            "release the lock on this path too (a `goto` to the unlock at the end), or make the function a lock helper the caller knows about: return the lock held only with a success value, or annotate it `cond_acquires(...)`"
                .to_string(),
        );
        out.push(d);
    }
}
