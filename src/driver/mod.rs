//! Drivers: command-line entry points. `main` parses the command line and
//! returns the process exit code: 0 clean, 1 error-level findings, 2 usage
//! or I/O errors (2 wins over 1).

pub mod cli;
pub mod walk;

use crate::check::{check, CheckOptions, Report};
use crate::diag::Level;
use crate::lints::{self, LintLevels, LINTS};
use crate::model::LockModel;
use crate::render::{self, Files, Format};
use crate::source::SourceFile;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use cli::{CheckArgs, Cli, ColorArg, Command, FormatArg};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Parse `args` (program name first) and run the command.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Check(args) => {
            let sub = matches.subcommand_matches("check").expect("check matches");
            run_check(&args, &ordered_levels(sub))
        }
        Command::Lints => print_lints(),
        Command::Explain { lint } => match lints::find(&lint) {
            Some(info) => {
                print!("{}", info.doc);
                if !info.doc.ends_with('\n') {
                    println!();
                }
                EXIT_OK
            }
            None => {
                eprintln!("error: unknown lint `{lint}` (see `faultlock lints`)");
                EXIT_ERROR
            }
        },
        Command::DumpIr { file, defines } => dump_ir(&file, &defines),
    }
}

/// `-D/-W/-A` occurrences in command-line order.
fn ordered_levels(m: &ArgMatches) -> Vec<(Level, String)> {
    let mut v = Vec::new();
    for (id, level) in [
        ("deny", Level::Error),
        ("warn", Level::Warning),
        ("allow", Level::Allow),
    ] {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            v.extend(idx.zip(vals).map(|(i, s)| (i, level, s.clone())));
        }
    }
    v.sort_by_key(|&(i, _, _)| i);
    v.into_iter().map(|(_, l, s)| (l, s)).collect()
}

fn print_lints() -> i32 {
    let w = LINTS.iter().map(|l| l.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    out.push_str(&format!("{:w$}  {:7}  SUMMARY\n", "LINT", "LEVEL"));
    for l in LINTS {
        out.push_str(&format!(
            "{:w$}  {:7}  {}\n",
            l.id,
            l.default_level.as_str(),
            l.summary
        ));
    }
    print!("{out}");
    EXIT_OK
}

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

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
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

fn run_check(args: &CheckArgs, levels_in_order: &[(Level, String)]) -> i32 {
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
    let mut status = EXIT_OK;
    let (paths, walk_errors) = if args.paths.is_empty() {
        // The user typed no path: show `x.c`, not `./x.c`.
        let (p, e) = walk::collect(&[".".into()], !args.no_ignore);
        let strip = |p: PathBuf| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p);
        (p.into_iter().map(strip).collect(), e)
    } else {
        walk::collect(&args.paths, !args.no_ignore)
    };
    for (p, reason) in &walk_errors {
        eprintln!("error: cannot read {p}: {reason}");
        status = EXIT_ERROR;
    }
    let model = LockModel::builtin();
    // Files that cannot matter are dropped as they are read (only their
    // path is kept), so memory follows the files worth parsing.
    let prefilter = crate::check::Prefilter::new(&model);
    let read: Vec<_> = pool.install(|| {
        paths
            .par_iter()
            .map(|p| {
                let shown = p.to_string_lossy().into_owned();
                std::fs::read(p)
                    .map(|b| {
                        if args.no_prefilter || prefilter.is_match(&b) {
                            SourceFile::from_bytes(shown.as_str(), &b)
                        } else {
                            SourceFile::new(shown.as_str(), "")
                        }
                    })
                    .map_err(|e| (shown, e))
            })
            .collect()
    });
    let mut files = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(f) => files.push(f),
            Err((p, e)) => {
                eprintln!("error: cannot read {p}: {e}");
                status = EXIT_ERROR;
            }
        }
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
    };
    let nfiles = files.len();
    let lookup = Files::new(files);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = render::render(
        &mut out,
        format,
        &report.diagnostics,
        &lookup,
        use_color(args.color),
    )
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

fn dump_ir(path: &std::path::Path, defines: &[String]) -> i32 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return EXIT_ERROR;
        }
    };
    let file = SourceFile::from_bytes(path.to_string_lossy().as_ref(), &bytes);
    let mut defs = LockModel::builtin().defines;
    for d in defines {
        let (name, val) = cli::parse_define(d);
        defs.undefined.retain(|u| *u != name);
        defs.defined.insert(name, val.unwrap_or_else(|| "1".into()));
    }
    let unit = crate::frontend::lower(&file, &defs);
    let mut out = String::new();
    for f in &unit.functions {
        out.push_str(&f.dump());
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    print!("{out}");
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_flags_keep_command_line_order() {
        let m = Cli::command().get_matches_from([
            "faultlock",
            "check",
            "-A",
            "x",
            "-D",
            "y",
            "-A",
            "y",
            "-W",
            "z",
        ]);
        let sub = m.subcommand_matches("check").unwrap();
        let got = ordered_levels(sub);
        assert_eq!(
            got,
            [
                (Level::Allow, "x".to_string()),
                (Level::Error, "y".to_string()),
                (Level::Allow, "y".to_string()),
                (Level::Warning, "z".to_string()),
            ]
        );
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "error"), "0 errors");
    }
}
