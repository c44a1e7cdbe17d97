//! Drivers: command-line entry points. `main` parses the command line and
//! returns the process exit code: 0 clean, 1 error-level findings, 2 usage
//! or I/O errors (2 wins over 1).

pub mod cargo;
pub mod check;
pub mod cli;
pub mod kbuild;
pub mod lsp;
pub mod model_audit;
pub mod progress;
pub mod review;
pub mod walk;

use crate::diag::Level;
use crate::lints::{self, LINTS};
use crate::model::LockModel;
use crate::source::SourceFile;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use cli::{Cli, Command};

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
    let (cli, matches) = match parse::<Cli, _, _>(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match cli.command {
        Command::Check(args) => {
            let sub = matches.subcommand_matches("check").expect("check matches");
            check::run_check(&args, &ordered_levels(sub))
        }
        Command::Review(args) => {
            let sub = matches
                .subcommand_matches("review")
                .expect("review matches");
            review::run_review(&args, &ordered_levels(sub))
        }
        Command::Lints => print_lints(),
        Command::Explain { lint } => match lints::find(&lint)
            .map(|l| l.doc)
            .or((lint == "annotations").then_some(lints::ANNOTATIONS_DOC))
        {
            Some(doc) => {
                print!("{doc}");
                if !doc.ends_with('\n') {
                    println!();
                }
                EXIT_OK
            }
            None => {
                eprintln!("error: {}", lints::unknown_lint(&lint));
                EXIT_ERROR
            }
        },
        Command::DumpIr { file, defines } => dump_ir(&file, &defines),
        Command::Kbuild {
            config,
            fail_on_error,
            kernel,
            tabstop,
            args,
        } => kbuild::run_kbuild(config.as_deref(), kernel, fail_on_error, tabstop, &args),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "faultlock", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    EXIT_ERROR
                }
            }
        }
        Command::Lsp { stdio: _ } => lsp::run(),
        Command::ModelAudit { tree, kernel, all } => model_audit::run(tree.as_deref(), kernel, all),
    }
}

/// Parse a command line; on a usage error (or `--help`), print clap's
/// message and give its exit code.
pub(crate) fn parse<C, I, T>(args: I) -> Result<(C, ArgMatches), i32>
where
    C: CommandFactory + FromArgMatches,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    C::command()
        .try_get_matches_from(args)
        .and_then(|m| C::from_arg_matches(&m).map(|c| (c, m)))
        .map_err(|e| {
            let _ = e.print();
            e.exit_code()
        })
}

/// `-D/-W/-A` occurrences in command-line order.
pub(crate) fn ordered_levels(m: &ArgMatches) -> Vec<(Level, String)> {
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

pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
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
