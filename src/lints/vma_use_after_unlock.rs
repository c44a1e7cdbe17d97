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
            owner,
        } = &l.finding
        else {
            continue;
        };
        let what = match owner {
            Some((v, field)) => format!("`{vma}` (owned by VMA `{v}` through `{field}`)"),
            None => format!("VMA `{vma}`"),
        };
        let message = match passed_to {
            Some(callee) => {
                format!("{what} passed to `{callee}()` after the {lock} protecting it was released")
            }
            None => format!("{what} used after the {lock} protecting it was released"),
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
        d.notes.push(match owner {
            Some((v, field)) => format!(
                "`{vma}` lives only as long as VMA `{v}`, which may be freed once its lock is released; take a reference before the release ({}) or look the VMA up again under the lock",
                pin_for(field)
            ),
            None => "once its lock is released the VMA may be freed and reused; read what you need (e.g. `mm = vma->vm_mm`) before the release"
                .to_string(),
        });
        let anchors = d.labels[..1].to_vec();
        d.path = super::path::path(cx, l, &anchors);
        out.push(d);
    }
}

/// What to pin instead, for an object reached through `field`.
fn pin_for(field: &str) -> &'static str {
    match field {
        "vm_file" => "`get_file(vma->vm_file)`, or `ihold()` on its inode",
        "anon_vma" => "`get_anon_vma()`",
        _ => "a reference counted by its owner",
    }
}
