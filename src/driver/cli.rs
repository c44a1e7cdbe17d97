//! Command-line syntax (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "faultlock",
    version,
    about = "Static checker for lock discipline in page-fault and VMA code"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files or directories (recursing into .c, .h and .rs files).
    Check(CheckArgs),
    /// List every lint with its default level and summary.
    Lints,
    /// Print the documentation page of a lint, or of the lock annotations
    /// (`explain annotations`).
    Explain {
        /// Lint id, e.g. vma_use_after_unlock, or `annotations`.
        lint: String,
    },
    /// Print the IR of every function of a file (debug aid).
    #[command(name = "dump-ir", hide = true)]
    DumpIr {
        file: PathBuf,
        /// Extra preprocessor define, NAME or NAME=VALUE.
        #[arg(long = "define", value_name = "NAME[=VAL]")]
        defines: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Gcc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check [default: .].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format (written to stdout).
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Colour human output: auto colours only when stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Set a lint to error (repeatable; -D/-W/-A apply in command-line order).
    #[arg(short = 'D', long = "deny", value_name = "LINT", action = clap::ArgAction::Append)]
    pub deny: Vec<String>,
    /// Set a lint to warning.
    #[arg(short = 'W', long = "warn", value_name = "LINT", action = clap::ArgAction::Append)]
    pub warn: Vec<String>,
    /// Turn a lint off.
    #[arg(short = 'A', long = "allow", value_name = "LINT", action = clap::ArgAction::Append)]
    pub allow: Vec<String>,
    /// Treat every warning as an error.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Do not respect .gitignore/.ignore files when walking directories.
    #[arg(long)]
    pub no_ignore: bool,

    /// Parse every file, not only those that mention the lock model's
    /// identifiers (slower; for parse-health measurements).
    #[arg(long)]
    pub no_prefilter: bool,

    /// Write run statistics (files seen and parsed, functions lowered, and
    /// per parsed file its functions and those with unparsed regions) as
    /// JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Worker threads (default: one per CPU). Output does not depend on it.
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Extra preprocessor define, NAME or NAME=VALUE (repeatable).
    #[arg(long = "define", value_name = "NAME[=VAL]")]
    pub defines: Vec<String>,
}

/// `NAME[=VAL]` → `(NAME, VAL)`.
pub fn parse_define(s: &str) -> (String, Option<String>) {
    match s.split_once('=') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (s.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defines() {
        assert_eq!(parse_define("A"), ("A".into(), None));
        assert_eq!(parse_define("A=1=2"), ("A".into(), Some("1=2".into())));
    }
}
