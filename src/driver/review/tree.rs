//! The tree side of `faultlock review`: vetting the patch's paths (nothing
//! outside the tree is read), applying the patches in memory or rebuilding
//! fragments, and reading the rest of the tree as context.

use super::super::check::read_sources;
use super::super::walk;
use crate::frontend::Defines;
use crate::model::LockModel;
use crate::review::apply::{self, Image, LineSrc, Side};
use crate::review::fragment::fragment_with;
use crate::review::{FilePatch, Patch};
use crate::source::SourceFile;
use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// Where a post-image line comes from in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Origin {
    pub(super) patch: usize,
    pub(super) file: usize,
    pub(super) hunk: usize,
    pub(super) line: usize,
}

/// A file's text with, per line, its origin in the patches.
pub(super) type Text = (String, Vec<Option<Origin>>);

/// One file the patches touch, keyed by its path after them.
#[derive(Debug, Default)]
pub(super) struct Touched {
    /// Its text before the patches (`None`: created by them).
    pub(super) pre: Option<String>,
    /// Its path before the patches.
    pub(super) pre_path: Option<String>,
    /// Its text after them (`None`: deleted).
    pub(super) post: Option<Text>,
}

/// Why the patch was not applied to the tree.
pub(super) enum Failure {
    /// A path that leaves the tree: an error, never a fallback.
    Refused(String),
    /// Context that does not match, a missing file: check the hunks alone.
    NoApply(String),
}

/// A path from the patch must stay inside the tree: relative, no `..`.
pub(super) fn check_path(p: &str) -> Result<(), String> {
    let path = Path::new(p);
    if p.is_empty()
        || p.contains('\0')
        || path.is_absolute()
        || !path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "patch path `{}` leaves the tree (absolute, `..` or empty); refusing the patch",
            p.escape_debug()
        ));
    }
    Ok(())
}

/// `rel` under the canonical `tree`, refusing paths that resolve outside
/// it through a symlink. Only metadata is looked at, nothing is read.
pub(super) fn resolve(tree: &Path, rel: &str) -> Result<PathBuf, String> {
    let full = tree.join(rel);
    let mut probe = full.clone();
    while probe.starts_with(tree) && probe != tree {
        if probe.symlink_metadata().is_ok() {
            let real = probe.canonicalize().map_err(|e| {
                format!("patch path `{rel}` cannot be resolved: {e}; refusing the patch")
            })?;
            if !real.starts_with(tree) {
                return Err(format!(
                    "patch path `{rel}` resolves outside the tree through a symlink; refusing the patch"
                ));
            }
            break;
        }
        probe.pop();
    }
    Ok(full)
}

/// The text of `rel` in the tree, `None` when it does not exist.
pub(super) fn read_in_tree(tree: &Path, rel: &str) -> Result<Option<String>, Failure> {
    let full = resolve(tree, rel).map_err(Failure::Refused)?;
    match std::fs::metadata(&full) {
        Err(_) => Ok(None),
        Ok(m) if !m.is_file() => Err(Failure::NoApply(format!("{rel} is not a regular file"))),
        Ok(_) => std::fs::read(&full)
            .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| Failure::NoApply(format!("cannot read {rel}: {e}"))),
    }
}

pub(super) fn origins(
    img: &Image,
    prev: &[Option<Origin>],
    patch: usize,
    file: usize,
) -> Vec<Option<Origin>> {
    img.src
        .iter()
        .map(|s| match *s {
            LineSrc::Pre(i) => prev.get(i).copied().flatten(),
            LineSrc::Hunk(hunk, line) => Some(Origin {
                patch,
                file,
                hunk,
                line,
            }),
            LineSrc::Filler => None,
        })
        .collect()
}

pub(super) fn file_patches(patches: &[Patch]) -> impl Iterator<Item = (usize, usize, &FilePatch)> {
    patches.iter().enumerate().flat_map(|(pi, p)| {
        p.files
            .iter()
            .enumerate()
            .filter(|(_, fp)| !fp.binary && !fp.path().is_empty())
            .map(move |(fi, fp)| (pi, fi, fp))
    })
}

/// Apply every patch, in order, to the files of `tree`, in memory.
pub(super) fn apply_tree(
    tree: &Path,
    patches: &[Patch],
) -> Result<BTreeMap<String, Touched>, Failure> {
    // Every path is vetted before anything is read.
    for (_, _, fp) in file_patches(patches) {
        for p in fp.old_path.iter().chain(&fp.new_path) {
            resolve(tree, p).map_err(Failure::Refused)?;
        }
    }
    let mut map: BTreeMap<String, Touched> = BTreeMap::new();
    for (pi, fi, fp) in file_patches(patches) {
        let mut t = match (&fp.old_path, &fp.new_path) {
            (Some(o), _) => match map.remove(o) {
                Some(t) => t,
                None => {
                    let text = read_in_tree(tree, o)?
                        .ok_or_else(|| Failure::NoApply(format!("{o} is not in the tree")))?;
                    let lines = text.lines().count();
                    Touched {
                        pre: Some(text.clone()),
                        pre_path: Some(o.clone()),
                        post: Some((text, vec![None; lines])),
                    }
                }
            },
            (None, Some(n)) => {
                let mut t = match map.remove(n) {
                    Some(t) if t.post.is_none() => t,
                    Some(_) => return Err(Failure::NoApply(format!("{n} already exists"))),
                    None if read_in_tree(tree, n)?.is_some() => {
                        return Err(Failure::NoApply(format!("{n} already exists in the tree")))
                    }
                    None => Touched::default(),
                };
                t.post = Some((String::new(), Vec::new()));
                t
            }
            (None, None) => continue,
        };
        let Some((text, src)) = t.post.take() else {
            return Err(Failure::NoApply(format!(
                "{} was deleted by an earlier patch",
                fp.path()
            )));
        };
        let img = apply::apply(&text, fp).map_err(Failure::NoApply)?;
        let src = origins(&img, &src, pi, fi);
        match &fp.new_path {
            Some(n) => {
                t.post = Some((img.text, src));
                map.insert(n.clone(), t);
            }
            None => {
                map.insert(fp.path().to_string(), t);
            }
        }
    }
    Ok(map)
}

/// The hunks alone: one fragment per side of each file diff.
pub(super) fn apply_fragments(patches: &[Patch], defines: &Defines) -> BTreeMap<String, Touched> {
    let is_defined = |n: &str| defines.is_defined(n);
    let mut map = BTreeMap::new();
    for (pi, fi, fp) in file_patches(patches) {
        let pre = fp
            .old_path
            .as_ref()
            .map(|_| fragment_with(fp, Side::Old, &is_defined).text);
        let post = fp.new_path.as_ref().map(|_| {
            let img = fragment_with(fp, Side::New, &is_defined);
            let src = origins(&img, &[], pi, fi);
            (img.text, src)
        });
        map.insert(
            fp.path().to_string(),
            Touched {
                pre,
                pre_path: fp.old_path.clone(),
                post,
            },
        );
    }
    map
}

pub(super) fn is_source(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| walk::EXTENSIONS.contains(&e))
}

pub(super) fn rel_display(tree: &Path, p: &Path) -> String {
    p.strip_prefix(tree)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The tree's other source files, for interprocedural context: prefiltered
/// as `check` reads them; symlinks that leave the tree are skipped.
pub(super) fn context_files(
    tree: &Path,
    skip: &HashSet<String>,
    respect_ignore: bool,
    model: &LockModel,
    notes: &mut Vec<String>,
) -> Vec<SourceFile> {
    let (paths, errors) = walk::collect(&[tree.to_path_buf()], respect_ignore);
    for (p, e) in errors {
        notes.push(format!("context file {p} skipped: {e}"));
    }
    let kept: Vec<PathBuf> = paths
        .into_iter()
        .filter(|p| !skip.contains(&rel_display(tree, p)))
        .filter(|p| {
            let inside = p.canonicalize().is_ok_and(|r| r.starts_with(tree));
            if !inside {
                notes.push(format!(
                    "context file {} skipped: it resolves outside the tree",
                    rel_display(tree, p)
                ));
            }
            inside
        })
        .collect();
    // `read_sources` reads `.` when given no path: nothing to read here.
    if kept.is_empty() {
        return Vec::new();
    }
    let (files, errors) = read_sources(&kept, respect_ignore, Some(model));
    for e in errors {
        notes.push(format!("context file skipped: {e}"));
    }
    files
        .into_iter()
        .map(|f| SourceFile::new(rel_display(tree, Path::new(&*f.path)), f.text.clone()))
        .collect()
}

pub(super) fn git_toplevel() -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let p = String::from_utf8(out.stdout).ok()?;
    PathBuf::from(p.trim_end_matches(['\n', '\r']))
        .canonicalize()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_tree_are_refused() {
        for bad in ["../x.c", "/etc/passwd", "a/../../x.c", ""] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for good in ["fs/userfaultfd.c", "./x.c"] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }
}
