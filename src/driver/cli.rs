//! Command-line syntax (clap derive).

use crate::model::KernelVersion;
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
    /// The kernel build's $(CHECK) hook, like sparse: `make C=2
    /// CHECK='faultlock kbuild'`. Takes a compiler command line (honours
    /// -D, -U, -include; ignores other flags), prints gcc-style findings to
    /// stderr, exits 0 unless --fail-on-error.
    Kbuild {
        /// Configuration file [default: faultlock.toml found from the
        /// source file upward].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Exit 1 on error-level findings (stops the kernel build); accepted
        /// anywhere on the command line.
        #[arg(long)]
        fail_on_error: bool,
        /// Kernel release the lock model describes [default: the tree's
        /// top Makefile, else the newest known].
        #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
        kernel: Option<KernelVersion>,
        /// Tab stop for columns [default: `tabstop` of faultlock.toml, else 8].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
        tabstop: Option<u32>,
        /// $(CHECKFLAGS) $(c_flags) file.c
        #[arg(
            value_name = "COMPILER_ARGS",
            trailing_var_arg = true,
            allow_hyphen_values = true,
            required = true
        )]
        args: Vec<String>,
    },
    /// Report what a patch (diff, format-patch mail or mbox, or a reply
    /// quoting a patch) introduces and fixes.
    Review(ReviewArgs),
    /// List what the tree's mm lock headers define that the lock model for
    /// its release does not describe: functions that take, drop or assert
    /// mmap_lock or a per-VMA lock, and guard classes not lowered.
    #[command(name = "model-audit")]
    ModelAudit {
        /// Kernel tree [default: .].
        tree: Option<PathBuf>,
        /// Kernel release [default: the tree's top Makefile].
        #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
        kernel: Option<KernelVersion>,
        /// Also list what was left out as needing no entry, with the reason.
        #[arg(long)]
        all: bool,
    },
    /// Run the language server on stdin/stdout (for editors).
    Lsp {
        /// Accepted for clients that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print a shell completion script for SHELL on stdout, e.g.
    /// `faultlock completions bash > ~/.local/share/bash-completion/completions/faultlock`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the faultlock(1) man page (roff) on stdout, e.g.
    /// `faultlock man > ~/.local/share/man/man1/faultlock.1`.
    Man,
    /// Print the IR of every function of a file (debug aid).
    #[command(name = "dump-ir", hide = true)]
    DumpIr {
        file: PathBuf,
        /// Extra preprocessor define, NAME or NAME=VALUE.
        #[arg(long = "define", value_name = "NAME[=VAL]", value_parser = define_arg)]
        defines: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Gcc,
    /// SARIF 2.1.0 (one JSON document), e.g. for GitHub code scanning.
    Sarif,
    /// rustc's JSON diagnostics (for rust-analyzer and cargo tooling).
    RustcJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Lint levels, shared by `check` and `review`.
#[derive(Debug, Clone, Args)]
pub struct LevelArgs {
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
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Files or directories to check [default: .]; `-` reads paths from
    /// standard input, one per line.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read paths to check from FILE, one per line (with the PATHs).
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    /// Output format (written to stdout).
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Colour human output: auto colours only when stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Tab stop for the display columns of `--format gcc` [default:
    /// `tabstop` of faultlock.toml, else 8, as gcc].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub tabstop: Option<u32>,
    /// No summary line (findings, errors and notes are still printed).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the configuration, kernel version and model files in
    /// use, and the time of each phase.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub levels: LevelArgs,

    /// Do not respect .gitignore/.ignore files when walking directories.
    #[arg(long)]
    pub no_ignore: bool,

    /// Parse every file and every function, not only the files that
    /// mention the lock model's identifiers and the functions that can
    /// matter (slower; for parse-health measurements).
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
    #[arg(long = "define", value_name = "NAME[=VAL]", value_parser = define_arg)]
    pub defines: Vec<String>,
    /// Kernel release the lock model describes [default: `kernel` in
    /// faultlock.toml, else the top Makefile found from the first PATH
    /// upward, else the newest known].
    #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
    pub kernel: Option<KernelVersion>,
    /// Configuration file [default: faultlock.toml found in the first
    /// PATH's directory or above, up to a `.git` directory].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only findings not recorded in this baseline file.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in FILE and exit 0 (2 if it cannot be
    /// written).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Apply machine-applicable suggestions to the files in place.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: also rewrite files with uncommitted changes or outside
    /// a git work tree.
    #[arg(long, requires = "fix")]
    pub allow_dirty: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormatArg {
    Human,
    Json,
    Gcc,
    /// SARIF 2.1.0 (one JSON document), e.g. for GitHub code scanning.
    Sarif,
    /// A plain-text reply e-mail, ready to send.
    Reply,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The patch: a diff, a `git format-patch` file or mbox, or a reply
    /// quoting a patch; `-` or nothing reads standard input.
    #[arg(value_name = "PATCH|-")]
    pub patch: Option<PathBuf>,
    /// The tree the patch applies to [default: the current git work tree,
    /// when the patch applies to it; otherwise the hunks alone are checked].
    #[arg(long, value_name = "DIR")]
    pub tree: Option<PathBuf>,
    /// Output format (written to stdout).
    #[arg(long, value_enum, default_value_t = ReviewFormatArg::Human)]
    pub format: ReviewFormatArg,
    /// Print a follow-up diff applying the machine-applicable suggestions
    /// to the post-image instead of the findings.
    #[arg(long)]
    pub suggest: bool,
    /// Colour human output: auto colours only when stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    #[command(flatten)]
    pub levels: LevelArgs,
    /// Configuration file [default: faultlock.toml found from the tree
    /// upward, up to a `.git` directory].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not respect .gitignore/.ignore files when reading the tree.
    #[arg(long)]
    pub no_ignore: bool,
    /// Kernel release the lock model describes [default: `kernel` in
    /// faultlock.toml, else --tree's top Makefile, else the patch's
    /// `base-commit:` (looked up in the current git repository), else the
    /// release current at the mail's date, else the newest known].
    #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
    pub kernel: Option<KernelVersion>,
    /// Extra preprocessor define, NAME or NAME=VALUE (repeatable).
    #[arg(long = "define", value_name = "NAME[=VAL]", value_parser = define_arg)]
    pub defines: Vec<String>,
}

/// `--kernel X.Y`.
fn parse_kernel(s: &str) -> Result<KernelVersion, String> {
    KernelVersion::parse(s)
}

/// A `--define` value: NAME must be a C identifier.
pub fn define_arg(s: &str) -> Result<String, String> {
    let name = s.split_once('=').map_or(s, |(n, _)| n);
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(s.to_string())
    } else if name.is_empty() {
        Err("the macro name is empty (expected NAME or NAME=VALUE)".into())
    } else {
        Err(format!(
            "`{name}` is not a macro name (expected NAME or NAME=VALUE)"
        ))
    }
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
    fn define_names_are_identifiers() {
        assert!(define_arg("A_1=x y").is_ok());
        assert!(define_arg("").is_err());
        assert!(define_arg("=1").is_err());
        assert!(define_arg("1A").is_err());
    }

    #[test]
    fn defines() {
        assert_eq!(parse_define("A"), ("A".into(), None));
        assert_eq!(parse_define("A=1=2"), ("A".into(), Some("1=2".into())));
    }
}
