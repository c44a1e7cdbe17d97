//! `faultlock check`: walk, read, check, render.

use super::progress::Progress;
use super::{cli, plural, walk, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::baseline::Baseline;
use crate::check::{check_lowered, lower_all_with, CheckOptions, Prefilter, Report};
use crate::config::Config;
use crate::diag::{Diagnostic, Level};
use crate::model::{KernelChoice, LockModel};
use crate::render::{self, Files, Format};
use crate::source::SourceFile;
use cli::{CheckArgs, ColorArg, FormatArg};
use rayon::prelude::*;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn stats_json(
    report: &Report,
    files_seen: usize,
    skipped: &[(String, String)],
    kernel: &KernelChoice,
) -> String {
    let s = &report.stats;
    let per_file: Vec<serde_json::Value> = s
        .per_file
        .iter()
        .map(|(f, n, o)| serde_json::json!({"file": &**f, "functions": n, "opaque": o}))
        .collect();
    let opaque: Vec<serde_json::Value> = s
        .opaque
        .iter()
        .map(|(f, name, line)| serde_json::json!({"file": &**f, "function": name, "line": line}))
        .collect();
    let skipped: Vec<serde_json::Value> = skipped
        .iter()
        .map(|(f, why)| serde_json::json!({"file": f, "reason": why}))
        .collect();
    let v = serde_json::json!({
        "kernel": kernel.version.to_string(),
        "kernel_source": &kernel.source,
        "files_seen": files_seen,
        "files_parsed": s.files_parsed,
        "functions": s.functions,
        "functions_opaque": s.functions_opaque,
        "per_file": per_file,
        "opaque_functions": opaque,
        "skipped": skipped,
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
    read_selected_sources(paths, respect_ignore, prefilter_with, &|_| true, &|_| {})
}

/// [`read_sources`] keeping only the files `select` accepts (a
/// configuration's include/exclude globs), named ones included.
/// `progress` is called with the number of files to read, then once per
/// file read.
pub fn read_selected_sources(
    paths: &[PathBuf],
    respect_ignore: bool,
    prefilter_with: Option<&LockModel>,
    select: &(dyn Fn(&Path) -> bool + Sync),
    progress: &(dyn Fn(Option<usize>) + Sync),
) -> (Vec<SourceFile>, Vec<String>) {
    let (paths, walk_errors) = if paths.is_empty() {
        let (p, e) = walk::collect(&[".".into()], respect_ignore);
        let strip = |p: PathBuf| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p);
        (p.into_iter().map(strip).collect(), e)
    } else {
        walk::collect(paths, respect_ignore)
    };
    let paths: Vec<PathBuf> = paths.into_iter().filter(|p| select(p)).collect();
    progress(Some(paths.len()));
    let mut errors: Vec<String> = walk_errors
        .into_iter()
        .map(|(p, reason)| format!("cannot read {p}: {reason}"))
        .collect();
    let prefilter = prefilter_with.map(Prefilter::new);
    let read: Vec<_> = paths
        .par_iter()
        .map(|p| {
            let shown = p.to_string_lossy().into_owned();
            let r = read_into_buffer(p, |b| match &prefilter {
                Some(pf) if !pf.is_match(b) => SourceFile::new(shown.as_str(), ""),
                _ => SourceFile::from_bytes(shown.as_str(), b),
            })
            .map_err(|e| format!("cannot read {shown}: {e}"));
            progress(None);
            r
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

/// `f` of the bytes of the file at `path`, read into a buffer kept per
/// thread: most files are dropped by the prefilter, and a fresh allocation
/// per file costs page faults on every read.
fn read_into_buffer<T>(path: &Path, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    use std::io::Read;
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut file = std::fs::File::open(path)?;
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        file.read_to_end(&mut buf)?;
        let out = f(&buf);
        // A huge file's buffer is not kept for the rest of the run.
        if buf.capacity() > 1 << 24 {
            *buf = Vec::new();
        }
        Ok(out)
    })
}

/// The paths of a run: the PATH arguments with `-` replaced by the lines
/// of standard input, then the lines of `--files-from`; `true` in the
/// second place when a list was read (then no path means none, not `.`).
fn expand_paths(args: &CheckArgs) -> Result<(Vec<PathBuf>, bool), String> {
    let lines = |text: &str| -> Vec<PathBuf> {
        text.lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(PathBuf::from)
            .collect()
    };
    let mut out = Vec::new();
    let mut listed = false;
    for p in &args.paths {
        if p.as_os_str() == "-" {
            if listed {
                continue;
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read paths from standard input: {e}"))?;
            out.extend(lines(&text));
            listed = true;
        } else {
            out.push(p.clone());
        }
    }
    if let Some(f) = &args.files_from {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read --files-from {}: {e}", f.display()))?;
        out.extend(lines(&text));
        listed = true;
    }
    Ok((out, listed))
}

/// Named files that are not checked, and why (extension, configuration).
fn skipped_named(paths: &mut Vec<PathBuf>, config: &Config) -> Vec<(String, String)> {
    let mut skipped = Vec::new();
    paths.retain(|p| {
        if !std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            return true;
        }
        let why = if !walk::wanted(p) {
            "not a C or Rust file (.c, .h, .rs)".to_string()
        } else if !config.selects(p) {
            let cfg = config
                .path
                .as_ref()
                .map_or("faultlock.toml".into(), |c| c.display().to_string());
            format!("excluded by the include/exclude globs of {cfg}")
        } else {
            return true;
        };
        skipped.push((p.display().to_string(), why));
        false
    });
    skipped
}

/// The kernel version the run assumes, for `-v`. The model is not
/// versioned yet: when `CheckOptions` carries a kernel version, print it
/// here.
fn kernel_line(opts: &CheckOptions) -> String {
    format!("kernel: {}", opts.kernel)
}

/// The lock-model files of a run, for `-v`.
fn model_line(config: &Config) -> String {
    let mut names: Vec<String> = crate::model::BUILTIN
        .iter()
        .map(|(n, _)| format!("{n} (built in)"))
        .collect();
    names.extend(config.models.iter().map(|(_, p)| p.display().to_string()));
    format!("model: {}", names.join(", "))
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

/// Whether `path` names a C or Rust source (by its extension).
fn is_source(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| ["c", "h", "rs"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

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
    if let Some(path) = args.stats.as_deref().filter(|p| is_source(p)) {
        // `--stats mm/gup.c` is a slip for a path to check.
        eprintln!(
            "error: --stats FILE would overwrite the source file {}; name a JSON file",
            path.display()
        );
        return EXIT_ERROR;
    }
    let (mut paths, listed) = match expand_paths(args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let config = match Config::resolve(args.config.as_deref(), paths.first().map(PathBuf::as_path))
    {
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
    opts.no_ignore |= args.no_ignore;
    let tabstop = args
        .tabstop
        .map(|t| t as usize)
        .or(config.tabstop)
        .unwrap_or(8);
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
    if args.verbose {
        let cfg = config
            .path
            .as_ref()
            .map_or("none".into(), |p| p.display().to_string());
        eprintln!("faultlock: config: {cfg}");
        eprintln!("faultlock: {}", kernel_line(&opts));
        eprintln!("faultlock: {}", model_line(&config));
    }
    // Paths were given (or listed) but none is left: check nothing, not `.`.
    let given = listed || !paths.is_empty();
    let skipped = skipped_named(&mut paths, &config);
    for (p, why) in &skipped {
        eprintln!("note: {p}: {why}; skipped");
    }
    let nothing = given && paths.is_empty();
    if listed && nothing && skipped.is_empty() {
        eprintln!("note: the path list is empty; nothing to check");
    }
    let progress = Progress::new(!args.quiet);
    let mut timings: Vec<(&str, f64)> = Vec::new();
    let mut fixed_once = false;
    let mut refused = false;
    let (files, mut report, mut status) = loop {
        let t = Instant::now();
        progress.phase("reading", 0);
        let on_read = |n: Option<usize>| match n {
            Some(n) => progress.phase("reading", n),
            None => progress.inc(),
        };
        let (files, read_errors) = if nothing {
            (Vec::new(), Vec::new())
        } else {
            pool.install(|| {
                read_selected_sources(
                    &paths,
                    !opts.no_ignore,
                    (!args.no_prefilter).then_some(&model),
                    &|p| config.selects(p),
                    &on_read,
                )
            })
        };
        timings.push(("read", t.elapsed().as_secs_f64()));
        let mut status = EXIT_OK;
        for e in &read_errors {
            eprintln!("error: {e}");
            status = EXIT_ERROR;
        }
        let report = if files.is_empty() {
            Report::default()
        } else {
            let t = Instant::now();
            progress.phase("parsing", files.len());
            let lowered =
                pool.install(|| lower_all_with(&files, &model, &opts, &|| progress.inc()));
            timings.push(("parse", t.elapsed().as_secs_f64()));
            let t = Instant::now();
            progress.busy("analysing", files.len());
            let r = pool.install(|| check_lowered(&files, &lowered, &model, &opts));
            timings.push(("analyse", t.elapsed().as_secs_f64()));
            r
        };
        if args.fix && !fixed_once && status == EXIT_OK && report.internal_errors.is_empty() {
            fixed_once = true;
            let fixed = crate::fix::fix_in_place(&files, &report.diagnostics, args.allow_dirty);
            if fixed.applied > 0 || fixed.refused.is_empty() {
                eprintln!(
                    "faultlock: applied {} in {}",
                    plural(fixed.applied, "suggestion"),
                    plural(fixed.written, "file")
                );
            }
            for (path, why) in &fixed.refused {
                eprintln!("error: {}", why.message(path));
            }
            // The findings of every file are still reported, refused ones
            // included; the run exits 2.
            refused = !fixed.refused.is_empty();
            if fixed.written > 0 {
                // What is left is what the fixed files give now.
                timings.clear();
                continue;
            }
        }
        if refused {
            status = EXIT_ERROR;
        }
        break (files, report, status);
    };
    progress.finish();
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Gcc => Format::Gcc,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::RustcJson => Format::RustcJson,
    };
    let nfiles = files.len();
    let parsed_none = nfiles > 0 && report.stats.files_parsed == 0 && !args.no_prefilter;
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
        if let Some((theirs, ours)) = f.respelled.first() {
            eprintln!(
                "warning: the baseline {} names {} as this run does not (`{theirs}`, here `{ours}`), so its findings there cannot match; write it again with --write-baseline",
                path.display(),
                plural(f.respelled.len(), "file"),
            );
        }
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
    let t = Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match output {
        Some(write) => {
            let success = status == EXIT_OK
                && report.internal_errors.is_empty()
                && report.count(Level::Error) == 0;
            write(&mut out, &report.diagnostics, &lookup, success)
        }
        None => render::render_with_tabstop(
            &mut out,
            format,
            &report.diagnostics,
            &lookup,
            use_color(args.color),
            tabstop,
        ),
    }
    .and_then(|()| out.flush());
    timings.push(("render", t.elapsed().as_secs_f64()));
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            status = EXIT_ERROR;
        }
    }
    if let Some(path) = &args.stats {
        if let Err(e) = std::fs::write(path, stats_json(&report, nfiles, &skipped, &opts.kernel)) {
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
    let s = &report.stats;
    if s.functions_opaque > 0 {
        let files_with: std::collections::BTreeSet<&str> =
            s.opaque.iter().map(|(f, _, _)| &**f).collect();
        eprintln!(
            "note: {} in {} had code faultlock could not parse; findings in it may be missing (--stats FILE lists them)",
            plural(s.functions_opaque, "function"),
            plural(files_with.len(), "file"),
        );
    }
    if parsed_none {
        eprintln!(
            "note: none of the {} mentions the lock model's functions, so none was analysed (--no-prefilter parses them all)",
            plural(nfiles, "file")
        );
    }
    if args.verbose {
        let phases: Vec<String> = timings
            .iter()
            .map(|(p, t)| format!("{p} {t:.2}s"))
            .collect();
        eprintln!("faultlock: time: {}", phases.join(", "));
    }
    let errors = report.count(Level::Error);
    if !args.quiet {
        eprintln!(
            "faultlock: {}, {}, {}, {} ({:.2}s)",
            plural(nfiles, "file"),
            plural(report.stats.functions, "function"),
            plural(errors, "error"),
            plural(report.count(Level::Warning), "warning"),
            start.elapsed().as_secs_f64()
        );
    }
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
