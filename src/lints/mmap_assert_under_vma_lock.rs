//! `mmap_assert_under_vma_lock`: an mmap_lock assert reachable while only
//! the per-VMA lock is held, directly or through a chain of callees.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::{Applicability, Diagnostic, Suggestion};

pub const ID: &str = "mmap_assert_under_vma_lock";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::MmapAssertUnderVmaLock {
            at,
            chain,
            vma_locked_at,
            reason,
        } = &l.finding
        else {
            continue;
        };
        let message = if chain.is_empty() {
            "mmap_lock asserted on a path that runs under the per-VMA lock only".to_string()
        } else {
            format!(
                "`{}()` asserts mmap_lock, but this path runs under the per-VMA lock only",
                chain[0]
            )
        };
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        if let Some(s) = vma_locked_at {
            d.labels
                .push(cx.label(l.file, *s, "per-VMA lock taken here".to_string()));
        }
        d.notes.push(reason.clone());
        if !chain.is_empty() {
            let path: Vec<String> = chain.iter().map(|c| format!("`{c}()`")).collect();
            d.notes.push(format!(
                "call chain to the assert: {} → `mmap_assert_locked()`",
                path.join(" → ")
            ));
        }
        let vmf = cx.units[l.file]
            .functions
            .iter()
            .find(|f| f.name == l.function)
            .and_then(|f| {
                f.params
                    .iter()
                    .find(|p| p.ty.ptr == 1 && p.ty.base == cx.model.fault.fault_struct)
            })
            .map(|p| p.name.clone());
        let call = cx.text(l.file, *at);
        if let (true, Some(vmf)) = (
            chain.is_empty() && call.starts_with("mmap_assert_locked"),
            vmf,
        ) {
            d.suggestion = Some(Suggestion {
                message: "assert the fault lock instead".to_string(),
                span: *at,
                replacement: format!("assert_fault_locked({vmf})"),
                applicability: Applicability::MaybeIncorrect,
            });
        }
        let anchors = Vec::new();
        d.path = super::path::path(cx, l, &anchors);
        let mut down = chain.clone();
        if !chain.is_empty() {
            down.push("mmap_assert_locked".to_string());
        }
        d.path.extend(super::path::chain(cx, l.file, &down));
        out.push(d);
    }
}
