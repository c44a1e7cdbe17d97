//! `vma_written_without_write_lock`: a VMA field per-VMA-lock readers use,
//! stored while the VMA is not write-locked.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "vma_written_without_write_lock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::VmaWrittenUnlocked {
            at,
            vma,
            field,
            via,
            locked_at,
            write,
        } = &l.finding
        else {
            continue;
        };
        let what = match via {
            Some(h) => format!("`{h}()` writes `{vma}->{field}`"),
            None => format!("`{vma}->{field}` written"),
        };
        let message = if *write {
            format!("{what} without `vma_start_write({vma})` since mmap_lock was taken for write")
        } else {
            format!("{what} under the mmap_lock read lock")
        };
        let at = match via {
            Some(_) => *at,
            None => cx.narrow(l.file, *at, vma),
        };
        let mut d = cx.diag(ID, l.file, Some(&l.function), at, message);
        let how = if *write {
            "mmap_lock taken for write here"
        } else {
            "only the mmap_lock read lock is taken here"
        };
        d.labels.push(cx.label(l.file, *locked_at, how.to_string()));
        let anchors = d.labels.clone();
        d.path = super::path::path(cx, l, &anchors);
        d.notes.push(if *write {
            format!("a fault under the per-VMA lock may read `{field}` concurrently: call `vma_start_write({vma})` before changing it")
        } else {
            format!("readers under the mmap read lock or the per-VMA lock may see `{field}` change: take mmap_lock for write and call `vma_start_write({vma})`")
        });
        out.push(d);
    }
}
