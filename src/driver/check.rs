//! `faultlock check`: walk, read, check, render.

use super::{cli, plural, walk, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::baseline::Baseline;
use crate::check::{check, Prefilter, Report};
use crate::config::Config;
use crate::diag::{Diagnostic, Level};
use crate::model::{KernelChoice, LockModel};
use crate::render::{self, Files, Format};
use crate::source::SourceFile;
use cli::{CheckArgs, ColorArg, FormatArg};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn stats_json(report: &Report, files_seen: usize, kernel: &KernelChoice) -> String {
    let s = &report.stats;
    let per_file: Vec<serde_json::Value> = s
        .per_file
        .iter()
        .map(|(f, n, o)| serde_json::json!({"file": &**f, "functions": n, "opaque": o}))
        .collect();
    let v = serde_json::json!({
        "kernel": kernel.version.to_string(),
        "kernel_source": &kernel.source,
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
    read_selected_sources(paths, respect_ignore, prefilter_with, &|_| true)
}

/// [`read_sources`] keeping only the files `select` accepts (a
/// configuration's include/exclude globs), named ones included.
pub fn read_selected_sources(
    paths: &[PathBuf],
    respect_ignore: bool,
    prefilter_with: Option<&LockModel>,
    select: &(dyn Fn(&Path) -> bool + Sync),
) -> (Vec<SourceFile>, Vec<String>) {
    let (paths, walk_errors) = if paths.is_empty() {
        let (p, e) = walk::collect(&[".".into()], respect_ignore);
        let strip = |p: PathBuf| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p);
        (p.into_iter().map(strip).collect(), e)
    } else {
        walk::collect(paths, respect_ignore)
    };
    let paths: Vec<PathBuf> = paths.into_iter().filter(|p| select(p)).collect();
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

pub(crate) fn use_color(c: ColorArg) -> bool {
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
    let config = match Config::resolve(
        args.config.as_deref(),
        args.paths.first().map(PathBuf::as_path),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let tree = Config::tree_kernel(args.paths.first().map_or(Path::new("."), PathBuf::as_path));
    let (model, mut opts) = match config.apply_kernel(args.kernel, tree) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    opts.levels.deny_warnings |= args.levels.deny_warnings;
    for (level, id) in levels_in_order {
        if let Err(e) = opts.levels.set(id, *level) {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    opts.defines
        .extend(args.defines.iter().map(|d| cli::parse_define(d)));
    opts.no_prefilter = args.no_prefilter;
    let baseline = match args.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(clamp_threads(args.threads))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return EXIT_ERROR;
        }
    };
    let (files, read_errors) = pool.install(|| {
        read_selected_sources(
            &args.paths,
            !args.no_ignore,
            (!args.no_prefilter).then_some(&model),
            &|p| config.selects(p),
        )
    });
    let mut status = EXIT_OK;
    for e in &read_errors {
        eprintln!("error: {e}");
        status = EXIT_ERROR;
    }
    let mut report = if files.is_empty() {
        Report::default()
    } else {
        pool.install(|| check(&files, &model, &opts))
    };

    if args.fix && status == EXIT_OK && report.internal_errors.is_empty() {
        match crate::fix::fix_in_place(&files, &report.diagnostics, args.allow_dirty) {
            Ok((n, written)) => {
                eprintln!(
                    "faultlock: applied {} in {}",
                    plural(n, "suggestion"),
                    plural(written, "file")
                );
                // What is left is what the fixed files give now.
                if written > 0 {
                    let again = CheckArgs {
                        fix: false,
                        allow_dirty: false,
                        ..args.clone()
                    };
                    return run_check(&again, levels_in_order);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    }
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Gcc => Format::Gcc,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::RustcJson => Format::RustcJson,
    };
    let nfiles = files.len();
    let lookup = Files::new(files);
    if let Some(path) = &args.write_baseline {
        let b = Baseline::from_diagnostics(&report.diagnostics, &lookup);
        match std::fs::write(path, b.to_json()) {
            Ok(()) => eprintln!(
                "faultlock: wrote {} to {}",
                plural(b.findings.len(), "finding"),
                path.display()
            ),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                status = EXIT_ERROR;
            }
        }
    }
    if let (Some(b), Some(path)) = (&baseline, &args.baseline) {
        let f = b.filter(std::mem::take(&mut report.diagnostics), &lookup);
        report.diagnostics = f.new;
        eprintln!(
            "faultlock: {} in the baseline {} not shown",
            plural(f.matched, "finding"),
            path.display()
        );
        for e in &f.fixed {
            report.notes.push(format!(
                "{}: fixed since the baseline: [{}] {}{}",
                e.file,
                e.lint,
                e.function
                    .as_ref()
                    .map_or(String::new(), |f| format!("in `{f}`: ")),
                e.message
            ));
        }
    }
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
        if let Err(e) = std::fs::write(path, stats_json(&report, nfiles, &opts.kernel)) {
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
    if status == EXIT_OK && errors > 0 && args.write_baseline.is_none() {
        status = EXIT_FINDINGS;
    }
    status
}

/// The worker threads for `-j N`: 0 (or none) is one per CPU; more than
/// [`THREADS_PER_CPU`] per CPU only costs memory and start-up time, so a
/// larger `N` is clamped, with a note.
fn clamp_threads(asked: Option<usize>) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cpus * THREADS_PER_CPU;
    match asked {
        Some(n) if n > max => {
            eprintln!("note: -j {n} is more than {THREADS_PER_CPU} threads per CPU; using {max}");
            max
        }
        n => n.unwrap_or(0),
    }
}

const THREADS_PER_CPU: usize = 4;
