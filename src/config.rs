//! `faultlock.toml`: project configuration shared by every driver.
//!
//! ```toml
//! models = ["tools/faultlock/my-locks.toml"]   # extra lock-model files
//! include = ["mm/**", "fs/userfaultfd.c"]      # globs, relative to this file
//! exclude = ["mm/kasan/**"]
//! deny_warnings = false
//! kernel = "6.12"                              # model release [default: from the tree's Makefile]
//! tabstop = 8                                  # display columns of gcc output
//! respect_ignore = true                        # honour .gitignore/.ignore
//!
//! [lints]
//! manual_fault_lock_assert = "allow"          # error | warning | allow
//!
//! [defines]
//! CONFIG_PER_VMA_LOCK = true                  # defined (as 1)
//! CONFIG_HUGETLB_PAGE = false                 # known undefined
//! HZ = "250"                                  # defined with a value
//! ```
//!
//! A driver calls [`Config::discover`] (or [`Config::load`] for
//! `--config`), then [`Config::apply`] for the lock model and check options,
//! then applies its own command-line overrides on top.

use crate::check::CheckOptions;
use crate::diag::Level;
use crate::lints::LintLevels;
use crate::model::{KernelChoice, KernelVersion, LockModel};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file name looked for by [`Config::discover`].
pub const FILE_NAME: &str = "faultlock.toml";

/// A configuration problem, already worded for the user: `PATH:LINE:COL:
/// message` when it has a position in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    lints: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    models: Vec<Spanned<String>>,
    #[serde(default)]
    defines: BTreeMap<String, DefineValue>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    deny_warnings: bool,
    kernel: Option<Spanned<String>>,
    tabstop: Option<Spanned<i64>>,
    respect_ignore: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DefineValue {
    Bool(bool),
    Int(i64),
    Str(String),
}

/// A loaded `faultlock.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from; `None` for the empty default.
    pub path: Option<PathBuf>,
    /// Lint levels, applied before command-line `-D/-W/-A`.
    pub levels: LintLevels,
    /// Extra lock-model files: (path as written in the config, resolved path).
    pub models: Vec<(String, PathBuf)>,
    /// `(NAME, VALUE)` to define.
    pub defines: Vec<(String, Option<String>)>,
    /// Names known to be undefined (`NAME = false`).
    pub undefines: Vec<String>,
    /// `kernel = "X.Y"`: the release the model describes, over the one
    /// found from the checked tree.
    pub kernel: Option<KernelVersion>,
    /// Tab stop for display columns (gcc and kbuild output), 8 when unset.
    pub tabstop: Option<usize>,
    /// `respect_ignore = false`: read ignored files too (as `--no-ignore`).
    pub respect_ignore: Option<bool>,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Config {
    /// Look for `faultlock.toml` in the directory of `start` (or `start`
    /// itself if it is a directory) and then in each parent. The search
    /// stops at the filesystem root, and after the first directory that
    /// contains `.git` or is the top of a kernel tree (a repository's
    /// configuration never comes from outside it).
    pub fn discover(start: &Path) -> Result<Option<Config>, ConfigError> {
        let abs = std::path::absolute(start)
            .map_err(|e| ConfigError(format!("cannot resolve {}: {e}", start.display())))?;
        let mut dir = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            if d.join(".git").exists() || is_kernel_top(d) {
                break;
            }
            dir = d.parent();
        }
        Ok(None)
    }

    /// The configuration of a run: `explicit` (`--config FILE`) when given,
    /// else the one discovered from `first_path` (the first checked path,
    /// or the working directory), else the empty default.
    pub fn resolve(
        explicit: Option<&Path>,
        first_path: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        match explicit {
            Some(p) => Config::load(p),
            None => Ok(Config::discover(first_path.unwrap_or(Path::new(".")))?.unwrap_or_default()),
        }
    }

    /// Read and parse one configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Config::parse(path, &text)
    }

    /// Parse configuration text; `path` names it in errors and anchors the
    /// relative paths and globs it contains.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let at = |offset: usize, msg: &str| {
            let (l, c) = line_col(text, offset);
            ConfigError(format!("{shown}:{l}:{c}: {msg}"))
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end();
            match e.span() {
                Some(s) => at(s.start, msg),
                None => ConfigError(format!("{shown}: {msg}")),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut levels = LintLevels::default();
        levels.deny_warnings = raw.deny_warnings;
        for (id, level) in &raw.lints {
            let lv = match level.get_ref().as_str() {
                "error" => Level::Error,
                "warning" => Level::Warning,
                "allow" => Level::Allow,
                other => {
                    return Err(at(
                        level.span().start,
                        &format!("unknown level `{other}` (error, warning or allow)"),
                    ))
                }
            };
            levels
                .set(id.get_ref(), lv)
                .map_err(|e| at(id.span().start, &e))?;
        }
        let mut defines = Vec::new();
        let mut undefines = Vec::new();
        for (name, v) in raw.defines {
            match v {
                DefineValue::Bool(false) => undefines.push(name),
                DefineValue::Bool(true) => defines.push((name, None)),
                DefineValue::Int(i) => defines.push((name, Some(i.to_string()))),
                DefineValue::Str(s) => defines.push((name, Some(s))),
            }
        }
        let globs = |list: &[Spanned<String>]| -> Result<Option<GlobSet>, ConfigError> {
            if list.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for g in list {
                let glob = Glob::new(g.get_ref())
                    .map_err(|e| at(g.span().start, &format!("invalid glob: {}", e.kind())))?;
                b.add(glob);
            }
            b.build()
                .map(Some)
                .map_err(|e| ConfigError(format!("{shown}: {e}")))
        };
        let kernel = match &raw.kernel {
            None => None,
            Some(k) => Some(KernelVersion::parse(k.get_ref()).map_err(|e| at(k.span().start, &e))?),
        };
        let tabstop = match &raw.tabstop {
            Some(t) if !(1..=64).contains(t.get_ref()) => {
                return Err(at(t.span().start, "tabstop must be between 1 and 64"))
            }
            Some(t) => Some(*t.get_ref() as usize),
            None => None,
        };
        Ok(Config {
            path: Some(path.to_path_buf()),
            kernel,
            tabstop,
            respect_ignore: raw.respect_ignore,
            levels,
            models: raw
                .models
                .iter()
                .map(|m| (m.get_ref().clone(), base.join(m.get_ref())))
                .collect(),
            defines,
            undefines,
            include: globs(&raw.include)?,
            exclude: globs(&raw.exclude)?,
        })
    }

    /// The lock model (built-in, then the configured model files in order;
    /// a later entry overrides an earlier one of the same name) and the check
    /// options the configuration sets. Command-line overrides go on top.
    pub fn apply(&self) -> Result<(LockModel, CheckOptions), ConfigError> {
        self.apply_kernel(None, None)
    }

    /// [`Config::apply`] for the kernel release chosen by, in order:
    /// `cli` (`--kernel`), this configuration's `kernel`, `detected` (from
    /// the checked tree or the patch, with where it was found), else the
    /// newest known.
    pub fn apply_kernel(
        &self,
        cli: Option<KernelVersion>,
        detected: Option<KernelChoice>,
    ) -> Result<(LockModel, CheckOptions), ConfigError> {
        let kernel = match (cli, self.kernel, detected) {
            (Some(v), _, _) => KernelChoice {
                version: v,
                source: "--kernel".into(),
            },
            (None, Some(v), _) => KernelChoice {
                version: v,
                source: self.shown(),
            },
            (None, None, Some(d)) => d,
            (None, None, None) => KernelChoice::default(),
        };
        let model = if self.models.is_empty() {
            LockModel::builtin_for(kernel.version)
        } else {
            let mut texts = Vec::new();
            for (shown, path) in &self.models {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!(
                        "{}: cannot read model file {shown}: {e}",
                        self.shown()
                    ))
                })?;
                texts.push((path.display().to_string(), text));
            }
            let mut sources: Vec<(&str, &str)> = crate::model::BUILTIN.to_vec();
            sources.extend(texts.iter().map(|(p, t)| (p.as_str(), t.as_str())));
            LockModel::from_sources_for(&sources, kernel.version).map_err(ConfigError)?
        };
        let opts = CheckOptions {
            kernel,
            levels: self.levels.clone(),
            defines: self.defines.clone(),
            undefines: self.undefines.clone(),
            no_ignore: self.respect_ignore == Some(false),
            ..CheckOptions::default()
        };
        Ok((model, opts))
    }

    /// The kernel release of the tree `start` is in: the first `Makefile`
    /// from `start` upward that declares `VERSION` and `PATCHLEVEL` (a
    /// kernel's top-level one).
    pub fn tree_kernel(start: &Path) -> Option<KernelChoice> {
        let abs = std::path::absolute(start).ok()?;
        let mut dir = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        while let Some(d) = dir {
            let mk = d.join("Makefile");
            if let Some(v) = std::fs::read_to_string(&mk)
                .ok()
                .and_then(|t| KernelVersion::from_makefile(&t))
            {
                return Some(KernelChoice {
                    version: v,
                    source: mk.display().to_string(),
                });
            }
            dir = d.parent();
        }
        None
    }

    fn shown(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }

    /// Whether `include`/`exclude` select `path` (as shown to the user,
    /// relative to the working directory or absolute). Globs match the path
    /// relative to the configuration file's directory; a path outside that
    /// directory is matched as given.
    pub fn selects(&self, path: &Path) -> bool {
        if self.include.is_none() && self.exclude.is_none() {
            return true;
        }
        let rel = self.relative(path);
        self.include.as_ref().map_or(true, |g| g.is_match(&rel))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(&rel))
    }

    fn relative(&self, path: &Path) -> PathBuf {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = self
            .path
            .as_ref()
            .and_then(|p| std::path::absolute(p).ok())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        // Lexical normalisation: `./a/../b` and `a/b` match the same globs.
        let norm = |p: &Path| -> PathBuf {
            let mut out = PathBuf::new();
            for c in p.components() {
                match c {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    c => out.push(c),
                }
            }
            out
        };
        match base {
            Some(b) => norm(&abs)
                .strip_prefix(norm(&b))
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| path.to_path_buf()),
            None => path.to_path_buf(),
        }
    }
}

/// The top of a kernel source tree: its `Makefile`, `Kbuild` and
/// `MAINTAINERS` side by side.
pub fn is_kernel_top(dir: &Path) -> bool {
    ["Makefile", "Kbuild", "MAINTAINERS"]
        .iter()
        .all(|f| dir.join(f).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("dir/faultlock.toml"), text)
    }

    #[test]
    fn unknown_key_has_a_position() {
        let e = parse("models = []\n\nlintz = 3\n").unwrap_err();
        assert!(
            e.0.starts_with("dir/faultlock.toml:3:1: unknown field `lintz`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_lint_and_level_have_positions() {
        let e = parse("[lints]\nnot_a_lint = \"allow\"\n").unwrap_err();
        assert_eq!(
            e.0,
            "dir/faultlock.toml:2:1: unknown lint `not_a_lint` (see `faultlock lints`)"
        );
        let e = parse("[lints]\ndouble_unlock = \"deny\"\n").unwrap_err();
        assert!(
            e.0.starts_with("dir/faultlock.toml:2:17: unknown level `deny`"),
            "{e}"
        );
    }

    #[test]
    fn levels_defines_and_models() {
        let c = parse(
            "models = [\"m.toml\"]\ndeny_warnings = true\n[lints]\ndouble_unlock = \"allow\"\n\
             [defines]\nA = true\nB = false\nC = 3\nD = \"x\"\n",
        )
        .unwrap();
        assert_eq!(c.levels.level("double_unlock"), Level::Allow);
        assert_eq!(c.levels.level("manual_fault_lock_assert"), Level::Error);
        assert_eq!(
            c.defines,
            [
                ("A".to_string(), None),
                ("C".to_string(), Some("3".to_string())),
                ("D".to_string(), Some("x".to_string()))
            ]
        );
        assert_eq!(c.undefines, ["B"]);
        assert_eq!(
            c.models,
            [("m.toml".to_string(), PathBuf::from("dir/m.toml"))]
        );
    }

    #[test]
    fn globs_are_relative_to_the_config_file() {
        let c = parse("include = [\"mm/**\"]\nexclude = [\"mm/kasan/**\"]\n").unwrap();
        assert!(c.selects(Path::new("dir/mm/memory.c")));
        assert!(c.selects(Path::new("./dir/mm/x/../memory.c")));
        assert!(!c.selects(Path::new("dir/mm/kasan/init.c")));
        assert!(!c.selects(Path::new("dir/fs/exec.c")));
        let e = parse("include = [\"a/[\"]\n").unwrap_err();
        assert!(
            e.0.starts_with("dir/faultlock.toml:1:12: invalid glob"),
            "{e}"
        );
    }

    #[test]
    fn kernel_key_overrides_the_tree_and_is_overridden_by_the_flag() {
        let c = parse("kernel = \"6.5\"\n").unwrap();
        let tree = KernelChoice {
            version: KernelVersion::new(7, 3),
            source: "Makefile".into(),
        };
        let (m, o) = c.apply_kernel(None, Some(tree.clone())).unwrap();
        assert_eq!(
            (m.version, o.kernel.version),
            (KernelVersion::new(6, 5), KernelVersion::new(6, 5))
        );
        let (m, o) = c
            .apply_kernel(Some(KernelVersion::new(6, 12)), Some(tree.clone()))
            .unwrap();
        assert_eq!(m.version, KernelVersion::new(6, 12));
        assert_eq!(o.kernel.source, "--kernel");
        let (m, _) = parse("").unwrap().apply_kernel(None, Some(tree)).unwrap();
        assert_eq!(m.version, KernelVersion::new(7, 3));
        let e = parse("kernel = \"six\"\n").unwrap_err();
        assert!(
            e.0.starts_with("dir/faultlock.toml:1:10: `six` is not a kernel version"),
            "{e}"
        );
    }

    #[test]
    fn tree_kernel_is_found_upward() {
        let dir =
            std::env::temp_dir().join(format!("faultlock-tree-kernel-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("mm")).unwrap();
        std::fs::write(dir.join("Makefile"), "VERSION = 6\nPATCHLEVEL = 5\n").unwrap();
        std::fs::write(dir.join("mm/Makefile"), "obj-y += memory.o\n").unwrap();
        let k = Config::tree_kernel(&dir.join("mm/memory.c")).unwrap();
        assert_eq!(k.version, KernelVersion::new(6, 5));
        assert!(k.source.ends_with("Makefile") && !k.source.contains("mm/Makefile"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tabstop_and_respect_ignore() {
        let c = parse("tabstop = 4\nrespect_ignore = false\n").unwrap();
        assert_eq!(c.tabstop, Some(4));
        assert!(c.apply().unwrap().1.no_ignore);
        let e = parse("tabstop = 0\n").unwrap_err();
        assert!(
            e.0.starts_with("dir/faultlock.toml:1:11: tabstop must be"),
            "{e}"
        );
        assert!(!parse("").unwrap().apply().unwrap().1.no_ignore);
    }

    #[test]
    fn missing_model_file_is_named() {
        let c = parse("models = [\"nope.toml\"]\n").unwrap();
        let e = c.apply().unwrap_err();
        assert!(e.0.contains("cannot read model file nope.toml"), "{e}");
    }
}
