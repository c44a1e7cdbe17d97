//! Applying machine-applicable suggestions: in place for `faultlock check
//! --fix` (refusing files with uncommitted changes unless `--allow-dirty`,
//! as `cargo clippy --fix` does), and as a follow-up diff for `faultlock
//! review --suggest`.

use crate::diag::{Applicability, Diagnostic};
use std::path::Path;
use std::process::Command;

/// `text` (the file `path`) with the machine-applicable suggestions of the
/// diagnostics on that file applied, and how many were applied. Where two
/// suggestions overlap, the earlier one wins.
pub fn apply_suggestions(text: &str, path: &str, diags: &[Diagnostic]) -> (String, usize) {
    let mut edits: Vec<(usize, usize, &str)> = diags
        .iter()
        .filter(|d| &*d.file == path)
        .filter_map(|d| d.suggestion.as_ref())
        .filter(|s| s.applicability == Applicability::MachineApplicable)
        .map(|s| {
            (
                s.span.start as usize,
                s.span.end as usize,
                s.replacement.as_str(),
            )
        })
        .filter(|&(s, e, _)| {
            s <= e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)
        })
        .collect();
    edits.sort();
    edits.dedup();
    let (mut out, mut pos, mut n) = (String::with_capacity(text.len()), 0, 0);
    for (s, e, r) in edits {
        if s < pos {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push_str(r);
        pos = e;
        n += 1;
    }
    out.push_str(&text[pos..]);
    (out, n)
}

/// A unified diff from `old` to `new` of `path` (`a/` and `b/` prefixes,
/// as `git apply` expects); empty when they are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Why `path` must not be rewritten without `--allow-dirty`, worded to
/// follow the path: not in a git work tree, or it has uncommitted changes
/// (untracked included).
fn dirty(path: &Path) -> Option<Refusal> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["status", "--porcelain", "--"])
        .arg(name)
        .output();
    match out {
        Ok(o) if o.status.success() => (!o.stdout.is_empty()).then_some(Refusal::Uncommitted),
        Ok(_) => Some(Refusal::NotInGit),
        Err(e) => Some(Refusal::NoGit(e.to_string())),
    }
}

/// Why one file was not rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Uncommitted,
    NotInGit,
    NoGit(String),
    /// Lossily decoded, or changed on disk while it was checked.
    Changed,
    Write(String),
}

impl Refusal {
    /// The message for `path`, with what the user can do about it.
    pub fn message(&self, path: &str) -> String {
        match self {
            Refusal::Uncommitted => format!(
                "not fixing {path}: it has uncommitted changes; commit or stash them, or pass --allow-dirty"
            ),
            Refusal::NotInGit => format!(
                "not fixing {path}: it is not in a git work tree, so the rewrite could not be undone; pass --allow-dirty to rewrite it anyway"
            ),
            Refusal::NoGit(e) => format!(
                "not fixing {path}: cannot run git to see whether it has uncommitted changes ({e}); pass --allow-dirty to rewrite it anyway"
            ),
            Refusal::Changed => {
                format!("not fixing {path}: it changed while it was checked, or is not UTF-8")
            }
            Refusal::Write(e) => format!("not fixing {path}: cannot write it: {e}"),
        }
    }
}

/// What [`fix_in_place`] did.
#[derive(Debug, Default)]
pub struct Fixed {
    /// Suggestions applied, over all written files.
    pub applied: usize,
    /// Files rewritten.
    pub written: usize,
    /// Files with suggestions that were left as they are, and why.
    pub refused: Vec<(String, Refusal)>,
}

/// Rewrite each file (display path = path on disk) that has
/// machine-applicable suggestions, deciding file by file: a file that must
/// not be rewritten is refused and the others are still written.
pub fn fix_in_place(
    files: &[crate::source::SourceFile],
    diags: &[Diagnostic],
    allow_dirty: bool,
) -> Fixed {
    let mut out = Fixed::default();
    for f in files {
        let (text, n) = apply_suggestions(&f.text, &f.path, diags);
        if n == 0 {
            continue;
        }
        let refusal = if std::fs::read(&*f.path).ok().as_deref() != Some(f.text.as_bytes()) {
            Some(Refusal::Changed)
        } else if allow_dirty {
            None
        } else {
            dirty(Path::new(&*f.path))
        };
        let refusal = refusal.or_else(|| {
            std::fs::write(&*f.path, &text)
                .err()
                .map(|e| Refusal::Write(e.to_string()))
        });
        match refusal {
            Some(r) => out.refused.push((f.path.to_string(), r)),
            None => {
                out.applied += n;
                out.written += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    #[test]
    fn applies_machine_applicable_only_and_skips_overlaps() {
        let d = manual_release();
        let (text, n) = apply_suggestions(SRC2, "dir/b.c", &[d.clone(), d.clone()]);
        assert_eq!(n, 1);
        assert!(text.contains("\trelease_fault_lock(vmf);\n}"));
        let mut maybe = d;
        maybe.suggestion.as_mut().unwrap().applicability = Applicability::MaybeIncorrect;
        assert_eq!(apply_suggestions(SRC2, "dir/b.c", &[maybe]).1, 0);
        let diff = unified_diff("dir/b.c", SRC2, &text);
        assert!(diff.starts_with("--- a/dir/b.c\n+++ b/dir/b.c\n@@ "));
        assert!(diff.contains("+\trelease_fault_lock(vmf);\n"));
    }
}
