//! `faultlock check`: walk, read, check, render.

use super::{cli, plural, walk, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::check::{check, CheckOptions, Prefilter, Report};
use crate::diag::{Diagnostic, Level};
use crate::lints::LintLevels;
use crate::model::LockModel;
use crate::render::{self, Files, Format};
use crate::source::SourceFile;
use cli::{CheckArgs, ColorArg, FormatArg};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn stats_json(report: &Report, files_seen: usize) -> String {
    let s = &report.stats;
    let per_file: Vec<serde_json::Value> = s
        .per_file
        .iter()
        .map(|(f, n, o)| serde_json::json!({"file": &**f, "functions": n, "opaque": o}))
        .collect();
    let v = serde_json::json!({
        "files_seen": files_seen,
        "files_parsed": s.files_parsed,
        "functions": s.functions,
        "functions_opaque": s.functions_opaque,
        "per_file": per_file,
    });
    format!("{v}\n")
}

/// Walk `paths` (`.` when empty, shown without the `./` prefix) and read
/// every C and Rust file in parallel. With a model, files that mention none
/// of its identifiers are dropped as they are read (only their path is
/// kept, as an empty file), so memory follows the files worth parsing.
/// Returns the files in walk order and one message per path that could not
/// be read.
pub fn read_sources(
    paths: &[PathBuf],
    respect_ignore: bool,
    prefilter_with: Option<&LockModel>,
) -> (Vec<SourceFile>, Vec<String>) {
    let (paths, walk_errors) = if paths.is_empty() {
        let (p, e) = walk::collect(&[".".into()], respect_ignore);
        let strip = |p: PathBuf| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p);
        (p.into_iter().map(strip).collect(), e)
    } else {
        walk::collect(paths, respect_ignore)
    };
    let mut errors: Vec<String> = walk_errors
        .into_iter()
        .map(|(p, reason)| format!("cannot read {p}: {reason}"))
        .collect();
    let prefilter = prefilter_with.map(Prefilter::new);
    let read: Vec<_> = paths
        .par_iter()
        .map(|p| {
            let shown = p.to_string_lossy().into_owned();
            std::fs::read(p)
                .map(|b| match &prefilter {
                    Some(pf) if !pf.is_match(&b) => SourceFile::new(shown.as_str(), ""),
                    _ => SourceFile::from_bytes(shown.as_str(), &b),
                })
                .map_err(|e| format!("cannot read {shown}: {e}"))
        })
        .collect();
    let mut files = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

fn use_color(c: ColorArg) -> bool {
    match c {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty())
        }
    }
}

/// Writes the diagnostics of a run in a driver's own format; `success`
/// says whether the run will exit 0.
pub type Output<'a> =
    &'a dyn Fn(&mut dyn Write, &[Diagnostic], &Files, bool) -> std::io::Result<()>;

pub fn run_check(args: &CheckArgs, levels_in_order: &[(Level, String)]) -> i32 {
    run_check_with(args, levels_in_order, None)
}

/// [`run_check`] with the diagnostics written by `output` instead of the
/// renderer `--format` names (`cargo faultlock --message-format json`).
pub fn run_check_with(
    args: &CheckArgs,
    levels_in_order: &[(Level, String)],
    output: Option<Output>,
) -> i32 {
    let start = Instant::now();
    let mut levels = LintLevels::default();
    levels.deny_warnings = args.deny_warnings;
    for (level, id) in levels_in_order {
        if let Err(e) = levels.set(id, *level) {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return EXIT_ERROR;
        }
    };
    let model = LockModel::builtin();
    let (files, read_errors) = pool.install(|| {
        read_sources(
            &args.paths,
            !args.no_ignore,
            (!args.no_prefilter).then_some(&model),
        )
    });
    let mut status = EXIT_OK;
    for e in &read_errors {
        eprintln!("error: {e}");
        status = EXIT_ERROR;
    }
    let opts = CheckOptions {
        levels,
        defines: args.defines.iter().map(|d| cli::parse_define(d)).collect(),
        no_prefilter: args.no_prefilter,
    };
    let report = if files.is_empty() {
        Report::default()
    } else {
        pool.install(|| check(&files, &model, &opts))
    };

    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Gcc => Format::Gcc,
        FormatArg::RustcJson => Format::RustcJson,
    };
    let nfiles = files.len();
    let lookup = Files::new(files);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match output {
        Some(write) => {
            let success = status == EXIT_OK
                && report.internal_errors.is_empty()
                && report.count(Level::Error) == 0;
            write(&mut out, &report.diagnostics, &lookup, success)
        }
        None => render::render(
            &mut out,
            format,
            &report.diagnostics,
            &lookup,
            use_color(args.color),
        ),
    }
    .and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            status = EXIT_ERROR;
        }
    }
    if let Some(path) = &args.stats {
        if let Err(e) = std::fs::write(path, stats_json(&report, nfiles)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            status = EXIT_ERROR;
        }
    }
    for e in &report.internal_errors {
        eprintln!("error: internal error: {e}");
        status = EXIT_ERROR;
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    let errors = report.count(Level::Error);
    eprintln!(
        "faultlock: {}, {}, {}, {} ({:.2}s)",
        plural(nfiles, "file"),
        plural(report.stats.functions, "function"),
        plural(errors, "error"),
        plural(report.count(Level::Warning), "warning"),
        start.elapsed().as_secs_f64()
    );
    if status == EXIT_OK && errors > 0 {
        status = EXIT_FINDINGS;
    }
    status
}
