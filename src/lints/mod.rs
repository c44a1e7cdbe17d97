//! The lint registry: stable ids, default levels, one-line summaries and
//! documentation pages (embedded from `lints/*.md`). Each lint's logic
//! lives in its own module and turns analysis findings into diagnostics.

mod annotation_mismatch;
mod context;
mod double_unlock;
mod fault_branch;
mod lock_leaked_on_return;
mod malformed_annotation;
mod manual_fault_lock_assert;
mod manual_fault_lock_release;
mod mmap_assert_under_vma_lock;
mod path;
mod requires_not_held;
mod retry_with_lock_held;
mod stale_vma_after_relock;
pub(crate) mod unused_suppression;
mod vma_use_after_unlock;
mod vma_written_without_write_lock;

pub use context::LintCx;

use crate::diag::{Diagnostic, Level};
use std::collections::BTreeMap;

/// Run every lint; levels are applied by the caller.
pub fn run_all(cx: &LintCx) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    vma_use_after_unlock::check(cx, &mut out);
    double_unlock::check(cx, &mut out);
    mmap_assert_under_vma_lock::check(cx, &mut out);
    retry_with_lock_held::check(cx, &mut out);
    stale_vma_after_relock::check(cx, &mut out);
    lock_leaked_on_return::check(cx, &mut out);
    vma_written_without_write_lock::check(cx, &mut out);
    manual_fault_lock_assert::check(cx, &mut out);
    manual_fault_lock_release::check(cx, &mut out);
    annotation_mismatch::check(cx, &mut out);
    requires_not_held::check(cx, &mut out);
    malformed_annotation::check(cx, &mut out);
    out
}

pub struct LintInfo {
    pub id: &'static str,
    pub default_level: Level,
    pub summary: &'static str,
    /// The lint's documentation page (Markdown), printed by `faultlock explain`.
    pub doc: &'static str,
}

macro_rules! lint {
    ($id:literal, $level:expr, $summary:literal) => {
        LintInfo {
            id: $id,
            default_level: $level,
            summary: $summary,
            doc: include_str!(concat!("../../lints/", $id, ".md")),
        }
    };
}

/// Every lint, in the order of `faultlock lints`.
pub static LINTS: &[LintInfo] = &[
    lint!(
        "vma_use_after_unlock",
        Level::Error,
        "a VMA used on a path where its protecting lock was released"
    ),
    lint!(
        "double_unlock",
        Level::Error,
        "a lock released on a path where it is already released"
    ),
    lint!(
        "mmap_assert_under_vma_lock",
        Level::Error,
        "an mmap_lock assert reachable while only the per-VMA lock is held"
    ),
    lint!(
        "retry_with_lock_held",
        Level::Error,
        "a fault handler returns VM_FAULT_RETRY with the per-VMA lock still held"
    ),
    lint!(
        "lock_leaked_on_return",
        Level::Error,
        "a lock taken in the function is held at some returns and released at others"
    ),
    lint!(
        "vma_written_without_write_lock",
        Level::Error,
        "a VMA field per-VMA-lock readers use, written without vma_start_write()"
    ),
    lint!(
        "stale_vma_after_relock",
        Level::Warning,
        "a VMA looked up before the lock was dropped, used after it was re-taken"
    ),
    lint!(
        "manual_fault_lock_assert",
        Level::Warning,
        "an open-coded fault-lock assert; use assert_fault_locked(vmf)"
    ),
    lint!(
        "manual_fault_lock_release",
        Level::Warning,
        "an open-coded fault-lock release; use release_fault_lock(vmf)"
    ),
    lint!(
        "unused_suppression",
        Level::Warning,
        "a `faultlock: allow(...)` comment that suppresses nothing or names an unknown lint"
    ),
    lint!(
        "annotation_mismatch",
        Level::Error,
        "an annotated function's body contradicts its lock annotation"
    ),
    lint!(
        "requires_not_held",
        Level::Error,
        "a function annotated requires(L) called where L is released or not held"
    ),
    lint!(
        "malformed_annotation",
        Level::Error,
        "a lock annotation that does not parse or names an unknown parameter"
    ),
];

/// The annotation vocabulary page, printed by `faultlock explain annotations`.
pub const ANNOTATIONS_DOC: &str = include_str!("../../lints/annotations.md");

pub fn find(id: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.id == id)
}

/// The lint id closest to `id`, when one is close enough to be a typo.
pub fn closest_lint(id: &str) -> Option<&'static str> {
    LINTS
        .iter()
        .map(|l| (strsim::damerau_levenshtein(id, l.id), l.id))
        .min()
        .filter(|&(d, near)| d <= 3.max(near.len() / 5))
        .map(|(_, near)| near)
}

/// "unknown lint" for `id` (`place` says where it was named, may be empty),
/// with the closest lint id when one is close.
pub fn unknown_lint_in(id: &str, place: &str) -> String {
    match closest_lint(id) {
        Some(near) => {
            format!("unknown lint `{id}`{place}; did you mean `{near}`? (see `faultlock lints`)")
        }
        None => format!("unknown lint `{id}`{place} (see `faultlock lints`)"),
    }
}

/// "unknown lint" for `id`, with the closest lint id when one is close.
pub fn unknown_lint(id: &str) -> String {
    unknown_lint_in(id, "")
}

/// Effective lint levels: defaults overridden by `-D/-W/-A` in order, and
/// `--deny-warnings` turning every warning into an error.
#[derive(Debug, Clone, Default)]
pub struct LintLevels {
    overrides: BTreeMap<&'static str, Level>,
    pub deny_warnings: bool,
}

impl LintLevels {
    /// Override one lint's level; `Err` names an unknown lint id.
    pub fn set(&mut self, id: &str, level: Level) -> Result<(), String> {
        if id == "warnings" && level == Level::Error {
            return Err(
                "unknown lint `warnings`: to make every warning an error, use --deny-warnings"
                    .into(),
            );
        }
        let info = find(id).ok_or_else(|| unknown_lint(id))?;
        self.overrides.insert(info.id, level);
        Ok(())
    }

    pub fn level(&self, id: &str) -> Level {
        let base = self
            .overrides
            .get(id)
            .copied()
            .or_else(|| find(id).map(|l| l.default_level))
            .unwrap_or(Level::Warning);
        if self.deny_warnings && base == Level::Warning {
            Level::Error
        } else {
            base
        }
    }
}
