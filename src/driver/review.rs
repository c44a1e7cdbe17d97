//! `faultlock review`: parse the patch, apply it in memory to the tree (or
//! rebuild the hunks alone), check the pre-image and the post-image with
//! the rest of the tree as context, and report what the patch introduces
//! and fixes.

mod tree;

use super::check::use_color;
use super::{cli, plural, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::check::{
    check_lowered, effective_defines, lower_all, lower_one, CheckOptions, Prefilter, Report,
};
use crate::config::Config;
use crate::diag::{Diagnostic, Level};
use crate::model::{KernelChoice, LockModel};
use crate::render::{self, reply, Files, Format};
use crate::review::apply::Placement;
use crate::review::{compare, parse_input_notes, Patch};
use crate::source::SourceFile;
use cli::{ReviewArgs, ReviewFormatArg};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;
use tree::{
    apply_fragments, apply_tree, check_path, context_files, git_toplevel, is_source, HunkReport,
    Origin, Refused, Touched, NO_TREE,
};

const FRAGMENT_NOTE: &str =
    "made from a patch fragment: only the lines the hunks show were analysed, without the rest of the file";

/// Per hunk, which way it went: one line each when any hunk did not
/// apply exactly where its header says, else one line for all.
fn hunk_notes(hunks: &[HunkReport], tree: Option<&Path>) -> Vec<String> {
    let Some(tree) = tree else {
        return Vec::new();
    };
    if hunks.iter().all(HunkReport::exact) {
        return vec![format!(
            "{} applied to {} exactly where the headers say",
            plural(hunks.len(), "hunk"),
            tree.display()
        )];
    }
    hunks.iter().map(HunkReport::describe).collect()
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
    hunks: &'a [HunkReport],
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
            let from = mail.and_then(|m| m.from.as_deref());
            // Reply-all: the sender, then everyone else the mail went to.
            let mut seen: HashSet<&str> = from.into_iter().collect();
            let cc: Vec<&str> = mail
                .into_iter()
                .flat_map(|m| m.to.iter().chain(&m.cc))
                .map(String::as_str)
                .filter(|a| seen.insert(a))
                .collect();
            let r = reply::Reply {
                subject: mail.and_then(|m| m.subject.as_deref()),
                message_id: mail.and_then(|m| m.message_id.as_deref()),
                references: mail.map_or(&[], |m| m.references.as_slice()),
                // A quoted patch is its quote's author's; an own diff the
                // sender's.
                author: match &patch.quoted_from {
                    Some(a) => a.as_deref(),
                    None => from,
                },
                to: from.into_iter().collect(),
                cc,
                items: items[p].take().unwrap_or_default(),
                fixed: std::mem::take(&mut fixed[p]),
                files: &self.post_files,
                pre_files: &self.pre_files,
                placement: self.placement_of(p),
            };
            reply::render(out, &r)?;
            if mbox {
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// The hunks of patch `p`, when any of them did not apply exactly.
    fn placement_of(&self, p: usize) -> Vec<String> {
        let mine: Vec<&HunkReport> = self.hunks.iter().filter(|h| h.patch == p).collect();
        if mine
            .iter()
            .all(|h| h.exact() || h.why.as_deref() == Some(NO_TREE))
        {
            return Vec::new();
        }
        mine.iter().map(|h| h.describe()).collect()
    }

    /// One JSON object per hunk: `{"hunk": {...}}`.
    fn hunk_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for h in self.hunks {
            let (line, offset, fuzz) = match h.placement {
                Placement::Applied { line, offset, fuzz } => (Some(line), Some(offset), fuzz),
                Placement::AlreadyApplied { line, fuzz } => (Some(line), None, fuzz),
                Placement::Unplaced => (None, None, 0),
            };
            let v = serde_json::json!({"hunk": {
                "patch": h.patch + 1,
                "file": h.file,
                "index": h.hunk + 1,
                "of": h.of,
                "header": h.header.trim_end(),
                "placement": h.kind(),
                "line": line,
                "offset": offset,
                "fuzz": fuzz,
                "why": h.why,
            }});
            writeln!(out, "{v}")?;
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
            // Display columns, as the gcc lines of the introduced findings.
            let (line, col) = crate::render::gcc::display_line_col(
                &self.pre_files,
                &d.file,
                d.span.start,
                crate::render::gcc::TABSTOP,
            );
            s.push_str(&format!(
                "{}:{line}:{col}: note: fixed by this patch (position before it): {} [{}]\n",
                d.file, d.message, d.lint
            ));
        }
        s
    }
}

/// The model and options of a review: the tree's `faultlock.toml` (or
/// `--config`), then the command line on top.
fn settings(
    args: &ReviewArgs,
    in_order: &[(Level, String)],
    tree: Option<&Path>,
    detected: Option<KernelChoice>,
) -> Result<(LockModel, CheckOptions), String> {
    let config = Config::resolve(args.config.as_deref(), tree).map_err(|e| e.to_string())?;
    let (model, mut opts) = config
        .apply_kernel(args.kernel, detected)
        .map_err(|e| e.to_string())?;
    opts.levels.deny_warnings |= args.levels.deny_warnings;
    for (level, id) in in_order {
        opts.levels.set(id, *level)?;
    }
    opts.defines
        .extend(args.defines.iter().map(|d| cli::parse_define(d)));
    Ok((model, opts))
}

pub fn run_review(args: &ReviewArgs, levels_in_order: &[(Level, String)]) -> i32 {
    let start = Instant::now();
    let fail = |e: String| {
        eprintln!("error: {e}");
        EXIT_ERROR
    };
    let bytes = match read_patch(args.patch.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let (patches, mut notes) = match parse_input_notes(&bytes) {
        Ok(i) => (i.patches, i.notes),
        Err(e) => return fail(e),
    };
    for fp in patches.iter().flat_map(|p| &p.files) {
        for p in fp.old_path.iter().chain(&fp.new_path) {
            if let Err(e) = check_path(p) {
                return fail(e);
            }
        }
    }
    notes.extend(
        patches
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| f.binary)
            .map(|f| format!("{}: binary diff skipped", f.path())),
    );
    let tree = match &args.tree {
        Some(t) => match t.canonicalize() {
            Ok(c) if c.is_dir() => Some(c),
            Ok(_) => return fail(format!("--tree {}: not a directory", t.display())),
            Err(e) => return fail(format!("--tree {}: {e}", t.display())),
        },
        None => git_toplevel(),
    };
    // The kernel release: --tree's Makefile, else the patch's base-commit
    // or date, else the current work tree's Makefile.
    let detected = match &args.tree {
        Some(_) => tree.as_deref().and_then(Config::tree_kernel),
        None => crate::review::version::patch_kernel(&bytes, tree.as_deref())
            .or_else(|| tree.as_deref().and_then(Config::tree_kernel)),
    };
    let (model, opts) = match settings(args, levels_in_order, tree.as_deref(), detected) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    notes.push(format!("lock rules of kernel {}", opts.kernel));
    let defines = effective_defines(&model, &opts);
    let applied = match &tree {
        Some(t) => match apply_tree(t, &patches, &defines) {
            Ok(a) => a,
            Err(Refused(e)) => return fail(e),
        },
        None => {
            notes.push(
                "no tree (not in a git work tree and no --tree): checking the hunks alone".into(),
            );
            apply_fragments(&patches, &defines)
        }
    };
    let touched = applied.touched;
    let hunks = applied.hunks;
    notes.extend(hunk_notes(&hunks, tree.as_deref()));
    let fragment = !touched.is_empty() && touched.values().all(|t| t.fragment);
    let alone = touched.values().any(|t| t.fragment);
    let context = match &tree {
        Some(t) => {
            let skip: HashSet<String> = touched
                .iter()
                .flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.pre_path.clone()))
                .collect();
            context_files(t, &skip, !args.no_ignore, &model, &mut notes)
        }
        None => Vec::new(),
    };
    let (mut pre_touched, mut post_touched) = (Vec::new(), Vec::new());
    for (path, t) in &touched {
        if let (Some(pre), Some(pp)) = (&t.pre, &t.pre_path) {
            // Under its new name, so that a renamed file's findings match.
            let shown = if t.post.is_some() { path } else { pp };
            if is_source(shown) {
                pre_touched.push(SourceFile::new(shown.as_str(), pre.as_str()));
            }
        }
        if let Some((post, _)) = &t.post {
            if is_source(path) {
                post_touched.push(SourceFile::new(path.as_str(), post.as_str()));
            }
        }
    }
    // The rest of the tree is the same on both sides: it is lowered once and
    // only the touched files are lowered per side.
    let context_units = lower_all(&context, &model, &opts);
    let prefilter = Prefilter::new(&model);
    let run = |touched_files: Vec<SourceFile>| {
        let mut files = context.clone();
        let mut lowered = context_units.clone();
        for f in touched_files {
            lowered.set(files.len(), lower_one(&f, &defines, Some(&prefilter)));
            files.push(f);
        }
        let report = if files.is_empty() {
            Report::default()
        } else {
            check_lowered(&files, &lowered, &model, &opts)
        };
        (report, files)
    };
    let (pre_report, pre_set) = run(pre_touched);
    let (post_report, post_set) = run(post_touched);
    let pre_files = Files::new(pre_set);
    let post_files = Files::new(post_set);
    let mut o = compare::compare(
        &pre_report.diagnostics,
        &pre_files,
        &post_report.diagnostics,
        &post_files,
    );
    // The model's own API functions defined in a header (the lock helpers
    // and their stubs for other configurations) are what the model already
    // stands for, not code to flag. Functions that only drop a lock
    // (`handle_userfault()` in a `.c` file) are still checked.
    let api_body = |d: &Diagnostic| {
        d.file.ends_with(".h")
            && d.function
                .as_deref()
                .is_some_and(|f| model.api(f).is_some())
    };
    o.introduced.retain(|d| !api_body(d));
    o.fixed.retain(|d| !api_body(d));
    for d in o.introduced.iter_mut().chain(o.fixed.iter_mut()) {
        if touched.get(&*d.file).is_some_and(|t| t.fragment) {
            d.notes.push(FRAGMENT_NOTE.into());
        }
    }
    let outcome = Outcome {
        patches: &patches,
        hunks: &hunks,
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
        } else if alone {
            for n in &notes {
                eprintln!("note: {n}");
            }
            return fail("--suggest needs a tree the patch applies to (a follow-up diff against fragments would not apply)".into());
        }
        out.write_all(diff.as_bytes())
    } else {
        let format = match args.format {
            ReviewFormatArg::Human => Some(Format::Human),
            ReviewFormatArg::Json => Some(Format::Json),
            ReviewFormatArg::Gcc => Some(Format::Gcc),
            ReviewFormatArg::Sarif => Some(Format::Sarif),
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
                match f {
                    // One object per line, as `check` writes them; the
                    // fixed findings follow with `"state": "fixed"`, at
                    // their positions before the patch.
                    Format::Json => {
                        let mut buf = Vec::new();
                        render::render(&mut buf, f, &outcome.fixed, &outcome.pre_files, false)?;
                        for line in String::from_utf8_lossy(&buf).lines() {
                            match line.strip_prefix('{') {
                                Some(rest) => writeln!(out, "{{\"state\":\"fixed\",{rest}")?,
                                None => writeln!(out, "{line}")?,
                            }
                        }
                        outcome.hunk_json(&mut out)
                    }
                    // SARIF keeps the `check` contract (introduced findings
                    // only); fixed ones go to stderr.
                    Format::Sarif => {
                        notes.extend(fixed.lines().map(|l| l.replacen(": note: ", ": ", 1)));
                        Ok(())
                    }
                    _ => out.write_all(fixed.as_bytes()),
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
        plural(
            touched.keys().filter(|k| !k.starts_with('(')).count(),
            "file"
        ),
        outcome.introduced.len(),
        plural(errors, "error"),
        plural(outcome.introduced.len() - errors, "warning"),
        outcome.fixed.len(),
        if fragment {
            ", from fragments".to_string()
        } else if alone {
            format!(
                ", {} alone",
                plural(
                    hunks.iter().filter(|h| h.kind() == "fragment").count(),
                    "hunk"
                )
            )
        } else {
            String::new()
        },
        start.elapsed().as_secs_f64()
    );
    if status == EXIT_OK && errors > 0 {
        status = EXIT_FINDINGS;
    }
    status
}
