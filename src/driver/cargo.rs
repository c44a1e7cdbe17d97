//! `cargo faultlock`: check the packages of a cargo workspace.
//!
//! The workspace comes from `cargo metadata --no-deps --offline`: nothing
//! is built and no dependency is fetched, so a crate whose dependencies
//! cannot be built (the `kernel` crate outside the kernel tree) is checked
//! all the same. Checked are the `.rs` files under the directories of the
//! packages' targets (a build script: its own file) and the `.c`/`.h` files
//! under the package directories, never the target directory. Paths are
//! shown relative to the workspace root, which becomes the working
//! directory (as for rustc under cargo).
//!
//! `--message-format json` writes cargo's JSON messages: one
//! `compiler-message` per finding holding a rustc diagnostic, then
//! `build-finished`, which is what rust-analyzer's `check.overrideCommand`
//! reads.

use super::check::run_check_with;
use super::cli::{CheckArgs, FormatArg};
use super::{ordered_levels, parse, walk, EXIT_ERROR};
use crate::diag::Diagnostic;
use crate::render::{rustc_json, Files};
use cargo_metadata::{Metadata, MetadataCommand, Package, Target};
use clap::{Parser, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "cargo-faultlock",
    bin_name = "cargo faultlock",
    version,
    about = "Check the packages of a cargo workspace with faultlock (no build needed)",
    // The packages' sources are the paths; `check`'s PATH argument is
    // rejected, so it is not advertised.
    mut_arg("paths", |a| a.hide(true)),
    mut_arg("config", |a| a.help(
        "Configuration file [default: faultlock.toml found from the package sources upward, up to a `.git` directory]"
    ))
)]
pub struct CargoCli {
    /// Path to Cargo.toml of the package or workspace.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Output like cargo: human (default), short (one line per finding)
    /// or json (cargo's JSON messages with rustc diagnostics).
    #[arg(long, value_enum, value_name = "FMT")]
    pub message_format: Option<MessageFormat>,
    /// Check only this package (name, `name@version` or package ID;
    /// repeatable) [default: every workspace member].
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// Check every workspace member (the default).
    #[arg(long)]
    pub workspace: bool,
    /// With --workspace: leave out this package (repeatable).
    #[arg(long, value_name = "SPEC", requires = "workspace")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    Human,
    Short,
    Json,
}

pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Run with `args` as cargo passes them: program name, then `faultlock`
/// (stripped when present), then the options.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if args.get(1).is_some_and(|a| a == "faultlock") {
        args.remove(1);
    }
    let (mut cli, matches) = match parse::<CargoCli, _, _>(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if !cli.check.paths.is_empty() {
        eprintln!("error: `cargo faultlock` takes no paths; it checks the workspace's packages (use --manifest-path)");
        return EXIT_ERROR;
    }
    let ws = match Workspace::load(cli.manifest_path.as_deref())
        .and_then(|ws| ws.select(&cli.packages, &cli.exclude))
    {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    if let Err(e) = std::env::set_current_dir(&ws.root) {
        eprintln!("error: cannot enter {}: {e}", ws.root.display());
        return EXIT_ERROR;
    }
    // `respect_ignore = false` in the workspace's faultlock.toml applies to
    // the walk too (a broken file is reported by the check run itself).
    let config_no_ignore =
        crate::config::Config::resolve(cli.check.config.as_deref(), Some(&ws.root))
            .is_ok_and(|c| c.respect_ignore == Some(false));
    let files = ws.files(!(cli.check.no_ignore || config_no_ignore));
    if files.is_empty() {
        eprintln!("warning: no .rs or .c files found in the workspace");
    }
    cli.check.paths = files;
    let levels = ordered_levels(&matches);
    match cli.message_format {
        Some(MessageFormat::Json) => {
            let write = |out: &mut dyn Write, diags: &[Diagnostic], files: &Files, ok: bool| {
                ws.write_messages(out, diags, files, ok)
            };
            run_check_with(&cli.check, &levels, Some(&write))
        }
        format => {
            match format {
                Some(MessageFormat::Human) => cli.check.format = FormatArg::Human,
                Some(MessageFormat::Short) => cli.check.format = FormatArg::Gcc,
                _ => {}
            }
            run_check_with(&cli.check, &levels, None)
        }
    }
}

/// The workspace's members as `cargo metadata --no-deps` describes them.
struct Workspace {
    root: PathBuf,
    target_dir: PathBuf,
    packages: Vec<Package>,
}

impl Workspace {
    fn load(manifest: Option<&Path>) -> Result<Workspace, String> {
        let mut cmd = MetadataCommand::new();
        cmd.no_deps().other_options(vec!["--offline".to_string()]);
        if let Some(m) = manifest {
            if !m.is_file() {
                return Err(format!("manifest path `{}` does not exist", m.display()));
            }
            cmd.manifest_path(m);
        }
        let md: Metadata = cmd
            .exec()
            .map_err(|e| format!("cannot read the cargo workspace: {e}"))?;
        let members: Vec<Package> = md.workspace_packages().into_iter().cloned().collect();
        Ok(Workspace {
            root: md.workspace_root.clone().into_std_path_buf(),
            target_dir: md.target_directory.clone().into_std_path_buf(),
            packages: members,
        })
    }

    /// Keep the members `packages` names (all when empty), less those
    /// `exclude` names. A spec that names no member is an error.
    fn select(mut self, packages: &[String], exclude: &[String]) -> Result<Workspace, String> {
        let matches = |p: &Package, spec: &str| {
            spec == p.name.as_str()
                || spec == format!("{}@{}", p.name, p.version)
                || spec == p.id.repr
        };
        for spec in packages.iter().chain(exclude) {
            if !self.packages.iter().any(|p| matches(p, spec)) {
                let names: Vec<&str> = self.packages.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "package `{spec}` is not a member of the workspace (members: {})",
                    names.join(", ")
                ));
            }
        }
        self.packages.retain(|p| {
            (packages.is_empty() || packages.iter().any(|s| matches(p, s)))
                && !exclude.iter().any(|s| matches(p, s))
        });
        Ok(self)
    }

    fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| p.to_path_buf())
    }

    /// Source files to check, relative to the workspace root, sorted.
    fn files(&self, respect_ignore: bool) -> Vec<PathBuf> {
        let mut rs_dirs: Vec<PathBuf> = Vec::new();
        let mut out: Vec<PathBuf> = Vec::new();
        for p in &self.packages {
            for t in &p.targets {
                let src = t.src_path.as_std_path();
                if is_build_script(t) {
                    out.push(src.to_path_buf());
                } else if let Some(d) = src.parent() {
                    rs_dirs.push(d.to_path_buf());
                }
            }
        }
        let (rs, _) = walk::collect(&rs_dirs, respect_ignore);
        out.extend(rs.into_iter().filter(|f| has_ext(f, &["rs"])));
        let pkg_dirs: Vec<PathBuf> = self
            .packages
            .iter()
            .filter_map(|p| {
                p.manifest_path
                    .parent()
                    .map(|d| d.as_std_path().to_path_buf())
            })
            .collect();
        let (c, _) = walk::collect(&pkg_dirs, respect_ignore);
        out.extend(c.into_iter().filter(|f| has_ext(f, &["c", "h"])));
        let mut out: Vec<PathBuf> = out
            .into_iter()
            .filter(|f| !f.starts_with(&self.target_dir))
            .map(|f| self.rel(&f))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The package and target a file belongs to: the package whose
    /// directory holds it (deepest first), and its target whose source
    /// directory holds it (else the package's first target).
    fn owner(&self, file: &str) -> Option<(&Package, &Target)> {
        let abs = self.root.join(file);
        let pkg = self
            .packages
            .iter()
            .filter(|p| {
                p.manifest_path
                    .parent()
                    .is_some_and(|d| abs.starts_with(d.as_std_path()))
            })
            .max_by_key(|p| p.manifest_path.as_str().len())?;
        let target = pkg
            .targets
            .iter()
            .filter(|t| {
                t.src_path
                    .parent()
                    .is_some_and(|d| abs.starts_with(d.as_std_path()))
            })
            .max_by_key(|t| t.src_path.as_str().len())
            .or_else(|| pkg.targets.first())?;
        Some((pkg, target))
    }

    fn write_messages(
        &self,
        out: &mut dyn Write,
        diags: &[Diagnostic],
        files: &Files,
        success: bool,
    ) -> std::io::Result<()> {
        let first = self
            .packages
            .first()
            .and_then(|p| p.targets.first().map(|t| (p, t)));
        for d in diags {
            let owner = self.owner(&d.file).or(first);
            let msg = serde_json::json!({
                "reason": "compiler-message",
                "package_id": owner.map(|(p, _)| p.id.repr.clone()),
                "manifest_path": owner.map(|(p, _)| p.manifest_path.to_string()),
                "target": owner.map(|(_, t)| serde_json::to_value(t).unwrap_or_default()),
                "message": rustc_json::diagnostic(d, files),
            });
            writeln!(out, "{msg}")?;
        }
        writeln!(
            out,
            "{}",
            serde_json::json!({"reason": "build-finished", "success": success})
        )
    }
}

fn is_build_script(t: &Target) -> bool {
    t.kind
        .iter()
        .any(|k| matches!(k, cargo_metadata::TargetKind::CustomBuild))
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.contains(&e))
}
