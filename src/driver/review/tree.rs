//! The tree side of `faultlock review`: vetting the patch's paths (nothing
//! outside the tree is read), applying the patches in memory or rebuilding
//! fragments, and reading the rest of the tree as context.

use super::super::check::read_sources;
use super::super::walk;
use crate::fingerprint::normalise;
use crate::frontend::Defines;
use crate::model::LockModel;
use crate::review::apply::{self, Image, LineSrc, Placement, Side};
use crate::review::diff::Kind;
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

/// One file the patches touch, keyed by its path after them (the hunks
/// of a file that could not be placed in the tree's copy: by that path
/// with [`ALONE`] before it).
#[derive(Debug, Default)]
pub(super) struct Touched {
    /// Its text before the patches (`None`: created by them).
    pub(super) pre: Option<String>,
    /// Its path before the patches.
    pub(super) pre_path: Option<String>,
    /// Its text after them (`None`: deleted).
    pub(super) post: Option<Text>,
    /// Rebuilt from hunks alone, not the tree's file.
    pub(super) fragment: bool,
}

/// Which way one hunk went, and why when it was checked alone.
#[derive(Debug, Clone)]
pub(super) struct HunkReport {
    pub(super) patch: usize,
    pub(super) file: String,
    /// 0-based, in its file diff; `of` hunks there.
    pub(super) hunk: usize,
    pub(super) of: usize,
    pub(super) header: String,
    pub(super) placement: Placement,
    pub(super) why: Option<String>,
}

impl HunkReport {
    /// Exactly where its header says, nothing ignored.
    pub(super) fn exact(&self) -> bool {
        matches!(
            self.placement,
            Placement::Applied {
                offset: 0,
                fuzz: 0,
                ..
            }
        )
    }

    /// `fs/x.c hunk 2/3 (`@@ -1,2 +1,3 @@`): applied at line 12 (offset +2 lines, fuzz 1)`.
    pub(super) fn describe(&self) -> String {
        let fuzz = |f: usize| {
            if f == 0 {
                String::new()
            } else {
                format!(", fuzz {f}")
            }
        };
        let how = match self.placement {
            Placement::Applied {
                line,
                offset: 0,
                fuzz: f,
            } => format!(
                "applied at line {line}{}",
                fuzz(f).replacen(", ", " (", 1) + if f > 0 { ")" } else { "" }
            ),
            Placement::Applied {
                line,
                offset,
                fuzz: f,
            } => format!(
                "applied at line {line} (offset {offset:+} {}{})",
                if offset.abs() == 1 { "line" } else { "lines" },
                fuzz(f)
            ),
            Placement::AlreadyApplied { line, fuzz: f } => format!(
                "already applied: the tree has it at line {line}{}",
                if f > 0 {
                    format!(" (fuzz {f})")
                } else {
                    String::new()
                }
            ),
            Placement::Unplaced => format!(
                "checked alone as a fragment: {}",
                self.why
                    .as_deref()
                    .unwrap_or("its context is not in the tree")
            ),
        };
        format!(
            "{} hunk {}/{} (`{}`): {how}",
            self.file,
            self.hunk + 1,
            self.of,
            self.header.trim_end()
        )
    }

    /// `applied`, `already_applied` or `fragment`.
    pub(super) fn kind(&self) -> &'static str {
        match self.placement {
            Placement::Applied { .. } => "applied",
            Placement::AlreadyApplied { .. } => "already_applied",
            Placement::Unplaced => "fragment",
        }
    }
}

/// Before a path (the extension stays last, so the language is known):
/// the hunks of that file that were checked alone.
pub(super) const ALONE: &str = "(hunks alone) ";

/// Why every hunk was checked alone when there is no tree.
pub(super) const NO_TREE: &str = "no tree";

/// A path from the patch leaves the tree: an error, never a fallback.
pub(super) struct Refused(pub(super) String);

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

/// The text of `rel` in the tree: `Ok(None)` when it does not exist,
/// `Err(Some(why))` when it cannot be read, `Err(None)` when refused.
pub(super) fn read_in_tree(
    tree: &Path,
    rel: &str,
) -> Result<Result<Option<String>, String>, Refused> {
    let full = resolve(tree, rel).map_err(Refused)?;
    Ok(match std::fs::metadata(&full) {
        Err(_) => Ok(None),
        Ok(m) if !m.is_file() => Err(format!("{rel} is not a regular file in the tree")),
        Ok(_) => std::fs::read(&full)
            .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| format!("cannot read {rel}: {e}")),
    })
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

/// What the patches made of the files: the touched files and, per hunk,
/// which way it went.
#[derive(Debug, Default)]
pub(super) struct Applied {
    pub(super) touched: BTreeMap<String, Touched>,
    pub(super) hunks: Vec<HunkReport>,
}

impl Applied {
    fn report(
        &mut self,
        pi: usize,
        fp: &FilePatch,
        hi: usize,
        placement: Placement,
        why: Option<&str>,
    ) {
        self.hunks.push(HunkReport {
            patch: pi,
            file: fp.path().to_string(),
            hunk: hi,
            of: fp.hunks.len(),
            header: fp.hunks[hi].header.clone(),
            placement,
            why: why.map(str::to_string),
        });
    }

    /// Hunks `which` of `fp` rebuilt alone, under `key` (made unique).
    fn fragment(
        &mut self,
        pi: usize,
        fi: usize,
        fp: &FilePatch,
        which: &[usize],
        key: String,
        defines: &Defines,
    ) {
        let sub = FilePatch {
            hunks: which.iter().map(|&h| fp.hunks[h].clone()).collect(),
            ..fp.clone()
        };
        let is_defined = |n: &str| defines.is_defined(n);
        let pre = fp
            .old_path
            .as_ref()
            .map(|_| fragment_with(&sub, Side::Old, &is_defined).text);
        let post = fp.new_path.as_ref().map(|_| {
            let img = fragment_with(&sub, Side::New, &is_defined);
            let src = origins(&img, &[], pi, fi)
                .into_iter()
                .map(|o| {
                    o.map(|o| Origin {
                        hunk: which[o.hunk],
                        ..o
                    })
                })
                .collect();
            (img.text, src)
        });
        let mut key = key;
        if self.touched.contains_key(&key) {
            key = format!("(hunks alone, patch {}) {}", pi + 1, fp.path());
        }
        self.touched.insert(
            key.clone(),
            Touched {
                pre,
                pre_path: fp.old_path.as_ref().map(|_| key),
                post,
                fragment: true,
            },
        );
    }

    /// Every hunk of `fp` alone, for `why`.
    fn all_alone(&mut self, pi: usize, fi: usize, fp: &FilePatch, why: &str, defines: &Defines) {
        let all: Vec<usize> = (0..fp.hunks.len()).collect();
        for &h in &all {
            self.report(pi, fp, h, Placement::Unplaced, Some(why));
        }
        self.fragment(pi, fi, fp, &all, fp.path().to_string(), defines);
    }
}

/// The added lines of a new file's diff are the tree's file as it is.
fn same_new_file(text: &str, fp: &FilePatch) -> bool {
    let added: Vec<String> = fp
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|l| l.kind == Kind::Add)
        .map(|l| normalise(&l.text))
        .collect();
    let have: Vec<String> = text.lines().map(normalise).collect();
    !added.is_empty() && added == have
}

/// Apply every patch, in order, to the files of `tree`, in memory, hunk
/// by hunk ([`apply::apply_hunks`]). Hunks that cannot be placed, and the
/// files the tree does not have, are rebuilt alone. The text before the
/// patches undoes already applied hunks of the first patch touching a
/// file.
pub(super) fn apply_tree(
    tree: &Path,
    patches: &[Patch],
    defines: &Defines,
) -> Result<Applied, Refused> {
    // Every path is vetted before anything is read.
    for (_, _, fp) in file_patches(patches) {
        for p in fp.old_path.iter().chain(&fp.new_path) {
            resolve(tree, p).map_err(Refused)?;
        }
    }
    let mut out = Applied::default();
    for (pi, fi, fp) in file_patches(patches) {
        let (mut t, first) = match (&fp.old_path, &fp.new_path) {
            (Some(o), _) => match out.touched.remove(o) {
                Some(t) => (t, false),
                None => match read_in_tree(tree, o)? {
                    Ok(Some(text)) => {
                        let lines = text.lines().count();
                        let t = Touched {
                            pre: Some(text.clone()),
                            pre_path: Some(o.clone()),
                            post: Some((text, vec![None; lines])),
                            fragment: false,
                        };
                        (t, true)
                    }
                    Ok(None) => {
                        out.all_alone(pi, fi, fp, &format!("{o} is not in the tree"), defines);
                        continue;
                    }
                    Err(why) => {
                        out.all_alone(pi, fi, fp, &why, defines);
                        continue;
                    }
                },
            },
            (None, Some(n)) => match out.touched.remove(n) {
                Some(t) if t.post.is_none() => {
                    let mut t = t;
                    t.post = Some((String::new(), Vec::new()));
                    (t, false)
                }
                Some(t) => {
                    out.touched.insert(n.clone(), t);
                    out.all_alone(pi, fi, fp, &format!("{n} already exists"), defines);
                    continue;
                }
                None => match read_in_tree(tree, n)? {
                    Ok(None) => (
                        Touched {
                            post: Some((String::new(), Vec::new())),
                            ..Touched::default()
                        },
                        true,
                    ),
                    Ok(Some(text)) if same_new_file(&text, fp) => {
                        for hi in 0..fp.hunks.len() {
                            let done = Placement::AlreadyApplied { line: 1, fuzz: 0 };
                            out.report(pi, fp, hi, done, None);
                        }
                        let src = vec![None; text.lines().count()];
                        let post = Some((text, src));
                        let t = Touched {
                            post,
                            ..Touched::default()
                        };
                        out.touched.insert(n.clone(), t);
                        continue;
                    }
                    Ok(Some(_)) => {
                        out.all_alone(
                            pi,
                            fi,
                            fp,
                            &format!("{n} already exists in the tree"),
                            defines,
                        );
                        continue;
                    }
                    Err(why) => {
                        out.all_alone(pi, fi, fp, &why, defines);
                        continue;
                    }
                },
            },
            (None, None) => continue,
        };
        let Some((text, src)) = t.post.take() else {
            out.touched.insert(fp.path().to_string(), t);
            out.all_alone(
                pi,
                fi,
                fp,
                &format!("{} was deleted by an earlier patch", fp.path()),
                defines,
            );
            continue;
        };
        let a = apply::apply_hunks(&text, fp);
        if first {
            t.pre = t.pre.map(|_| a.pre.clone());
        }
        let mut alone = Vec::new();
        for (hi, p) in a.placements.iter().enumerate() {
            out.report(pi, fp, hi, *p, None);
            if *p == Placement::Unplaced {
                alone.push(hi);
            }
        }
        let src = origins(&a.post, &src, pi, fi);
        match &fp.new_path {
            Some(n) => {
                t.post = Some((a.post.text, src));
                out.touched.insert(n.clone(), t);
            }
            None => {
                out.touched.insert(fp.path().to_string(), t);
            }
        }
        if !alone.is_empty() {
            out.fragment(pi, fi, fp, &alone, format!("{ALONE}{}", fp.path()), defines);
        }
    }
    Ok(out)
}

/// The hunks alone (no tree): one fragment per side of each file diff.
pub(super) fn apply_fragments(patches: &[Patch], defines: &Defines) -> Applied {
    let mut out = Applied::default();
    for (pi, fi, fp) in file_patches(patches) {
        out.all_alone(pi, fi, fp, NO_TREE, defines);
    }
    out
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
