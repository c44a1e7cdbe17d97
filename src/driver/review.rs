//! `faultlock review`: parse the patch, apply it in memory to the tree (or
//! rebuild the hunks alone), check the pre-image and the post-image with
//! the rest of the tree as context, and report what the patch introduces
//! and fixes.

use super::check::{read_sources, use_color};
use super::{cli, plural, walk, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::check::{check, CheckOptions, Report};
use crate::diag::{Diagnostic, Level};
use crate::lints::LintLevels;
use crate::model::LockModel;
use crate::render::{self, reply, Files, Format};
use crate::review::apply::{self, Image, LineSrc, Side};
use crate::review::{compare, parse_input, FilePatch, Patch};
use crate::source::SourceFile;
use cli::{ReviewArgs, ReviewFormatArg};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

const FRAGMENT_NOTE: &str =
    "made from a patch fragment: only the lines the hunks show were analysed, without the rest of the file";

/// Where a post-image line comes from in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    patch: usize,
    file: usize,
    hunk: usize,
    line: usize,
}

/// A file's text with, per line, its origin in the patches.
type Text = (String, Vec<Option<Origin>>);

/// One file the patches touch, keyed by its path after them.
#[derive(Debug, Default)]
struct Touched {
    /// Its text before the patches (`None`: created by them).
    pre: Option<String>,
    /// Its path before the patches.
    pre_path: Option<String>,
    /// Its text after them (`None`: deleted).
    post: Option<Text>,
}

/// Why the patch was not applied to the tree.
enum Failure {
    /// A path that leaves the tree: an error, never a fallback.
    Refused(String),
    /// Context that does not match, a missing file: check the hunks alone.
    NoApply(String),
}

/// A path from the patch must stay inside the tree: relative, no `..`.
fn check_path(p: &str) -> Result<(), String> {
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
fn resolve(tree: &Path, rel: &str) -> Result<PathBuf, String> {
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
fn read_in_tree(tree: &Path, rel: &str) -> Result<Option<String>, Failure> {
    let full = resolve(tree, rel).map_err(Failure::Refused)?;
    match std::fs::metadata(&full) {
        Err(_) => Ok(None),
        Ok(m) if !m.is_file() => Err(Failure::NoApply(format!("{rel} is not a regular file"))),
        Ok(_) => std::fs::read(&full)
            .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| Failure::NoApply(format!("cannot read {rel}: {e}"))),
    }
}

fn origins(img: &Image, prev: &[Option<Origin>], patch: usize, file: usize) -> Vec<Option<Origin>> {
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

fn file_patches(patches: &[Patch]) -> impl Iterator<Item = (usize, usize, &FilePatch)> {
    patches.iter().enumerate().flat_map(|(pi, p)| {
        p.files
            .iter()
            .enumerate()
            .filter(|(_, fp)| !fp.binary && !fp.path().is_empty())
            .map(move |(fi, fp)| (pi, fi, fp))
    })
}

/// Apply every patch, in order, to the files of `tree`, in memory.
fn apply_tree(tree: &Path, patches: &[Patch]) -> Result<BTreeMap<String, Touched>, Failure> {
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
fn apply_fragments(patches: &[Patch]) -> BTreeMap<String, Touched> {
    let mut map = BTreeMap::new();
    for (pi, fi, fp) in file_patches(patches) {
        let pre = fp
            .old_path
            .as_ref()
            .map(|_| apply::fragment(fp, Side::Old).text);
        let post = fp.new_path.as_ref().map(|_| {
            let img = apply::fragment(fp, Side::New);
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

fn is_source(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| walk::EXTENSIONS.contains(&e))
}

fn rel_display(tree: &Path, p: &Path) -> String {
    p.strip_prefix(tree)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The tree's other source files, for interprocedural context: prefiltered
/// as `check` reads them; symlinks that leave the tree are skipped.
fn context_files(
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

fn git_toplevel() -> Option<PathBuf> {
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

fn read_patch(arg: Option<&Path>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match arg {
        None => std::io::stdin()
            .read_to_end(&mut bytes)
            .map(|_| bytes)
            .map_err(|e| format!("cannot read standard input: {e}")),
        Some(p) if p == Path::new("-") => read_patch(None),
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

/// The post-image lines a diagnostic is about: its primary span and its
/// labels in the same file, 1-based, sorted.
fn lines_of(d: &Diagnostic, files: &Files) -> Vec<usize> {
    let mut lines: Vec<usize> = Vec::new();
    let (a, _) = files.line_col(&d.file, d.span.start);
    let (b, _) = files.line_col(&d.file, d.span.end.saturating_sub(1).max(d.span.start));
    lines.extend(a..=b);
    for l in d.labels.iter().filter(|l| l.file == d.file) {
        let (a, _) = files.line_col(&l.file, l.span.start);
        let (b, _) = files.line_col(&l.file, l.span.end.saturating_sub(1).max(l.span.start));
        lines.extend(a..=b);
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}

struct Outcome<'a> {
    patches: &'a [Patch],
    touched: &'a BTreeMap<String, Touched>,
    introduced: Vec<Diagnostic>,
    fixed: Vec<Diagnostic>,
    pre_files: Files,
    post_files: Files,
}

impl Outcome<'_> {
    fn origin(&self, file: &str, line: usize) -> Option<Origin> {
        let (_, src) = self.touched.get(file)?.post.as_ref()?;
        src.get(line.checked_sub(1)?).copied().flatten()
    }

    fn raw(&self, o: Origin) -> &str {
        &self.patches[o.patch].files[o.file].hunks[o.hunk].lines[o.line].raw
    }

    /// One reply per patch mail with something to say (at least one).
    fn replies(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let last = self.patches.len() - 1;
        let mut items: Vec<Vec<reply::ReplyItem>> = (0..=last).map(|_| Vec::new()).collect();
        let mut fixed: Vec<Vec<&Diagnostic>> = (0..=last).map(|_| Vec::new()).collect();
        let mut prev_file: Vec<Option<(usize, usize)>> = vec![None; last + 1];
        for d in &self.introduced {
            let mut runs: Vec<Vec<&str>> = Vec::new();
            let mut first: Option<Origin> = None;
            let mut prev_line = 0;
            for line in lines_of(d, &self.post_files) {
                let Some(o) = self.origin(&d.file, line) else {
                    continue;
                };
                first.get_or_insert(o);
                if runs.is_empty() || line != prev_line + 1 {
                    runs.push(Vec::new());
                }
                runs.last_mut().expect("a run").push(self.raw(o));
                prev_line = line;
            }
            let p = first.map_or(last, |o| o.patch);
            let header = first.and_then(|o| {
                let key = Some((o.patch, o.file));
                (prev_file[p] != key).then(|| {
                    prev_file[p] = key;
                    self.patches[o.patch].files[o.file].header.as_str()
                })
            });
            items[p].push(reply::ReplyItem {
                diag: d,
                file_header: header,
                quoted: runs,
            });
        }
        for d in &self.fixed {
            let p = self
                .patches
                .iter()
                .position(|p| p.files.iter().any(|f| f.path() == &*d.file))
                .unwrap_or(last);
            fixed[p].push(d);
        }
        let wanted: Vec<usize> = (0..=last)
            .filter(|&p| !items[p].is_empty() || !fixed[p].is_empty())
            .collect();
        let wanted = if wanted.is_empty() { vec![0] } else { wanted };
        let mbox = wanted.len() > 1;
        let (mut items, mut fixed) = (items.into_iter().map(Some).collect::<Vec<_>>(), fixed);
        for p in wanted {
            let patch = &self.patches[p];
            let mail = patch.mail.as_ref();
            if mbox {
                writeln!(out, "From faultlock Mon Sep 17 00:00:00 2001")?;
            }
            let r = reply::Reply {
                subject: mail.and_then(|m| m.subject.as_deref()),
                fallback_subject: patch.files.first().map_or("", |f| f.path()).to_string(),
                message_id: mail.and_then(|m| m.message_id.as_deref()),
                references: mail.map_or(&[], |m| m.references.as_slice()),
                from: mail.and_then(|m| m.from.as_deref()),
                items: items[p].take().unwrap_or_default(),
                fixed: std::mem::take(&mut fixed[p]),
                files: &self.post_files,
                pre_files: &self.pre_files,
            };
            reply::render(out, &r)?;
            if mbox {
                writeln!(out)?;
            }
        }
        Ok(())
    }

    fn suggestions(&self) -> String {
        let mut out = String::new();
        for (path, t) in self.touched {
            if let Some((text, _)) = &t.post {
                let (fixed, _) = crate::fix::apply_suggestions(text, path, &self.introduced);
                out.push_str(&crate::fix::unified_diff(path, text, &fixed));
            }
        }
        out
    }

    /// The findings the patch fixes, one line each, as notes.
    fn fixed_lines(&self) -> String {
        let mut s = String::new();
        for d in &self.fixed {
            let (line, col) = self.pre_files.line_col(&d.file, d.span.start);
            s.push_str(&format!(
                "{}:{line}:{col}: note: fixed by this patch (position before it): {} [{}]\n",
                d.file, d.message, d.lint
            ));
        }
        s
    }
}

fn levels_of(args: &ReviewArgs, in_order: &[(Level, String)]) -> Result<LintLevels, String> {
    let mut levels = LintLevels::default();
    levels.deny_warnings = args.levels.deny_warnings;
    for (level, id) in in_order {
        levels.set(id, *level)?;
    }
    Ok(levels)
}

pub fn run_review(args: &ReviewArgs, levels_in_order: &[(Level, String)]) -> i32 {
    let start = Instant::now();
    let fail = |e: String| {
        eprintln!("error: {e}");
        EXIT_ERROR
    };
    let levels = match levels_of(args, levels_in_order) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let bytes = match read_patch(args.patch.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let patches = match parse_input(&bytes) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    for fp in patches.iter().flat_map(|p| &p.files) {
        for p in fp.old_path.iter().chain(&fp.new_path) {
            if let Err(e) = check_path(p) {
                return fail(e);
            }
        }
    }
    let mut notes: Vec<String> = patches
        .iter()
        .flat_map(|p| &p.files)
        .filter(|f| f.binary)
        .map(|f| format!("{}: binary diff skipped", f.path()))
        .collect();
    let tree = match &args.tree {
        Some(t) => match t.canonicalize() {
            Ok(c) if c.is_dir() => Some(c),
            Ok(_) => return fail(format!("--tree {}: not a directory", t.display())),
            Err(e) => return fail(format!("--tree {}: {e}", t.display())),
        },
        None => git_toplevel(),
    };
    let model = LockModel::builtin();
    let applied = match &tree {
        Some(t) => match apply_tree(t, &patches) {
            Ok(m) => Some((t.clone(), m)),
            Err(Failure::Refused(e)) => return fail(e),
            Err(Failure::NoApply(e)) => {
                notes.push(format!(
                    "the patch does not apply to {} ({e}); checking the hunks alone",
                    t.display()
                ));
                None
            }
        },
        None => {
            notes.push(
                "no tree (not in a git work tree and no --tree): checking the hunks alone".into(),
            );
            None
        }
    };
    let fragment = applied.is_none();
    let (touched, context) = match applied {
        Some((t, m)) => {
            let skip: HashSet<String> = m
                .iter()
                .flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.pre_path.clone()))
                .collect();
            let ctx = context_files(&t, &skip, !args.no_ignore, &model, &mut notes);
            (m, ctx)
        }
        None => (apply_fragments(&patches), Vec::new()),
    };
    let mut pre_set = context.clone();
    let mut post_set = context;
    for (path, t) in &touched {
        if let (Some(pre), Some(pp)) = (&t.pre, &t.pre_path) {
            // Under its new name, so that a renamed file's findings match.
            let shown = if t.post.is_some() { path } else { pp };
            if is_source(shown) {
                pre_set.push(SourceFile::new(shown.as_str(), pre.as_str()));
            }
        }
        if let Some((post, _)) = &t.post {
            if is_source(path) {
                post_set.push(SourceFile::new(path.as_str(), post.as_str()));
            }
        }
    }
    let opts = CheckOptions {
        levels,
        defines: args.defines.iter().map(|d| cli::parse_define(d)).collect(),
        ..CheckOptions::default()
    };
    let run = |files: &[SourceFile]| {
        if files.is_empty() {
            Report::default()
        } else {
            check(files, &model, &opts)
        }
    };
    let (pre_report, post_report) = (run(&pre_set), run(&post_set));
    let pre_files = Files::new(pre_set);
    let post_files = Files::new(post_set);
    let mut o = compare::compare(
        &pre_report.diagnostics,
        &pre_files,
        &post_report.diagnostics,
        &post_files,
    );
    if fragment {
        for d in o.introduced.iter_mut().chain(o.fixed.iter_mut()) {
            d.notes.push(FRAGMENT_NOTE.into());
        }
    }
    let outcome = Outcome {
        patches: &patches,
        touched: &touched,
        introduced: o.introduced,
        fixed: o.fixed,
        pre_files,
        post_files,
    };

    let mut status = EXIT_OK;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if args.suggest {
        let diff = outcome.suggestions();
        if diff.is_empty() {
            notes.push("no machine-applicable suggestion for what the patch introduces".into());
        }
        out.write_all(diff.as_bytes())
    } else {
        let format = match args.format {
            ReviewFormatArg::Human => Some(Format::Human),
            ReviewFormatArg::Json => Some(Format::Json),
            ReviewFormatArg::Gcc => Some(Format::Gcc),
            ReviewFormatArg::Reply => None,
        };
        match format {
            Some(f) => render::render(
                &mut out,
                f,
                &outcome.introduced,
                &outcome.post_files,
                use_color(args.color),
            )
            .and_then(|()| {
                let fixed = outcome.fixed_lines();
                if f == Format::Json {
                    // JSON Lines keep the `check` contract: introduced only.
                    notes.extend(fixed.lines().map(|l| l.replacen(": note: ", ": ", 1)));
                    Ok(())
                } else {
                    out.write_all(fixed.as_bytes())
                }
            }),
            None => outcome.replies(&mut out),
        }
    }
    .and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            status = EXIT_ERROR;
        }
    }
    for e in pre_report
        .internal_errors
        .iter()
        .chain(&post_report.internal_errors)
    {
        eprintln!("error: internal error: {e}");
        status = EXIT_ERROR;
    }
    for n in &notes {
        eprintln!("note: {n}");
    }
    let errors = outcome
        .introduced
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    eprintln!(
        "faultlock review: {} changed, {} introduced ({}, {}), {} fixed{} ({:.2}s)",
        plural(touched.len(), "file"),
        outcome.introduced.len(),
        plural(errors, "error"),
        plural(outcome.introduced.len() - errors, "warning"),
        outcome.fixed.len(),
        if fragment { ", from fragments" } else { "" },
        start.elapsed().as_secs_f64()
    );
    if status == EXIT_OK && errors > 0 {
        status = EXIT_FINDINGS;
    }
    status
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
