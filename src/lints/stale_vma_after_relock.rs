//! `stale_vma_after_relock`: a VMA looked up before mmap_lock was dropped,
//! used after it was re-taken.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "stale_vma_after_relock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::StaleVma {
            at,
            vma,
            obtained_at,
            relocked_at,
        } = &l.finding
        else {
            continue;
        };
        let message = format!("VMA `{vma}` was looked up before mmap_lock was dropped and is used after it was re-taken");
        let at = cx.narrow(l.file, *at, vma);
        let mut d = cx.diag(ID, l.file, Some(&l.function), at, message);
        if let Some(o) = obtained_at {
            d.labels
                .push(cx.label(l.file, *o, "VMA looked up here".to_string()));
        }
        d.labels
            .push(cx.label(l.file, *relocked_at, "mmap_lock re-taken here".to_string()));
        d.notes.push("the VMA may have been freed or changed while the lock was dropped; look it up again after re-taking the lock".to_string());
        let anchors = Vec::new();
        d.path = super::path::path(cx, l, &anchors);
        out.push(d);
    }
}
