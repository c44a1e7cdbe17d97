//! The pipeline from source files to sorted diagnostics, shared by every
//! driver: prefilter → front end → IR → analysis → lints.

use crate::analysis;
use crate::diag::{Diagnostic, Level};
use crate::frontend::c::slice::Slice;
use crate::frontend::{self, Defines};
use crate::ir::Unit;
use crate::lints::{self, LintCx, LintLevels};
use crate::model::LockModel;
use crate::source::SourceFile;
use crate::suppress;
use aho_corasick::AhoCorasick;
use rayon::prelude::*;
use std::sync::Arc;

/// Options of one check run.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub levels: LintLevels,
    /// Extra `#define`s for `#if` evaluation, on top of the model's.
    pub defines: Vec<(String, Option<String>)>,
    /// Names known to be undefined for `#if` evaluation (`-U`, config
    /// `NAME = false`); applied after `defines`.
    pub undefines: Vec<String>,
    /// Prefixes of names known undefined unless defined (`CONFIG_` in a
    /// kernel build whose autoconf.h was read).
    pub undefined_prefixes: Vec<String>,
    /// Do not respect `.gitignore`/`.ignore` when reading a tree
    /// (`respect_ignore = false` in `faultlock.toml`).
    pub no_ignore: bool,
    /// Parse every file, not only those that mention the model's
    /// identifiers (for parse-health measurements).
    pub no_prefilter: bool,
    /// The kernel release the model was built for, and why that one (for
    /// `--stats` and verbose output).
    pub kernel: crate::model::KernelChoice,
}

/// Counts for the summary line and for measurement scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: usize,
    /// Files that passed the cheap prefilter and were parsed.
    pub files_parsed: usize,
    pub functions: usize,
    /// Functions lowered with at least one opaque region.
    pub functions_opaque: usize,
    /// For each parsed file: path, functions, functions with an opaque
    /// region (parse health per area is computed from these).
    pub per_file: Vec<(Arc<str>, usize, usize)>,
    /// Functions with an opaque region: file, function, 1-based line of
    /// its name (in file order).
    pub opaque: Vec<(Arc<str>, String, usize)>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sorted by file, line, column, lint; `Level::Allow` findings removed.
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
    /// Things the user should know that are not findings (e.g. a function
    /// whose analysis stopped at its bound), sorted.
    pub notes: Vec<String>,
    /// Defects of faultlock met while checking (a file or function whose
    /// processing failed); everything else was still checked. Drivers
    /// report them and exit with status 2.
    pub internal_errors: Vec<String>,
}

impl Report {
    pub fn count(&self, level: Level) -> usize {
        self.diagnostics.iter().filter(|d| d.level == level).count()
    }
}

/// The cheap test a file must pass to be parsed: it mentions one of the
/// model's identifiers. Drivers may apply it while reading, keeping only
/// the path of a file that fails it (an empty [`SourceFile`]).
///
/// Matching the identifiers directly is slow: their first bytes (`for`,
/// `loc`, `fin`, ...) are everywhere in C, so the automaton stops at every
/// other word. A first pass looks for a few rarer anchors (`vma`, `mmap_`,
/// ...) that every identifier contains; only files with an anchor get the
/// exact test.
pub struct Prefilter {
    /// SIMD (Teddy) search for the anchors when the CPU supports it.
    packed: Option<aho_corasick::packed::Searcher>,
    anchors: AhoCorasick,
    identifiers: AhoCorasick,
    /// The identifiers without the fault struct's name: what locks,
    /// releases or asserts, or chooses the fault lock.
    locks: AhoCorasick,
}

impl Prefilter {
    pub fn new(model: &LockModel) -> Self {
        let ids = model.identifiers();
        let mut anchors: Vec<String> = model.prefilter_anchors.clone();
        // An identifier no anchor covers is its own anchor.
        for id in &ids {
            if !anchors.iter().any(|a| id.contains(a.as_str())) {
                anchors.push(id.clone());
            }
        }
        let locks = ids.iter().filter(|id| **id != model.fault.fault_struct);
        Prefilter {
            packed: aho_corasick::packed::Searcher::new(anchors.iter()),
            anchors: AhoCorasick::new(&anchors).expect("anchors form a valid automaton"),
            identifiers: AhoCorasick::new(&ids).expect("identifiers form a valid automaton"),
            locks: AhoCorasick::new(locks).expect("identifiers form a valid automaton"),
        }
    }

    /// Whether `text`, which [`Prefilter::is_match`] accepted, mentions
    /// more than the fault struct.
    pub fn mentions_lock(&self, text: &[u8]) -> bool {
        self.locks.is_match(text)
    }

    pub fn is_match(&self, text: &[u8]) -> bool {
        let anchored = match &self.packed {
            Some(p) => p.find(text).is_some(),
            None => self.anchors.is_match(text),
        };
        anchored && self.identifiers.is_match(text)
    }
}

/// With `FAULTLOCK_STAGE_TIMES` set, print how long a stage of the
/// pipeline took since `since` (for profiling the language server's
/// re-check; output never depends on it).
pub fn stage_time(stage: &str, since: std::time::Instant) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("FAULTLOCK_STAGE_TIMES").is_some()) {
        eprintln!(
            "faultlock: {stage}: {:.1} ms",
            since.elapsed().as_secs_f64() * 1000.0
        );
    }
}

/// With `FAULTLOCK_STAGE_TIMES` set, print `n` of `of` (cache hits).
pub fn stage_count(what: &str, n: usize, of: usize) {
    if std::env::var_os("FAULTLOCK_STAGE_TIMES").is_some() {
        eprintln!("faultlock: {what}: {n} of {of}");
    }
}

/// Check a set of files together (interprocedural context spans all of
/// them).
pub fn check(files: &[SourceFile], model: &LockModel, opts: &CheckOptions) -> Report {
    check_lowered(files, &lower_all(files, model, opts), model, opts)
}

/// The `#define`s of a run: the model's, then the options'.
pub fn effective_defines(model: &LockModel, opts: &CheckOptions) -> Defines {
    let mut defines = model.defines.clone();
    for (name, value) in &opts.defines {
        defines
            .defined
            .insert(name.clone(), value.clone().unwrap_or_else(|| "1".into()));
        defines.undefined.retain(|u| u != name);
    }
    defines
        .undefined_prefixes
        .extend(opts.undefined_prefixes.iter().cloned());
    for name in &opts.undefines {
        defines.defined.remove(name);
        if !defines.undefined.contains(name) {
            defines.undefined.push(name.clone());
        }
    }
    defines
}

/// What the front end made of each file of a run, by file index. Kept
/// apart from the analysis so that a long-lived driver (the language
/// server) can re-lower one edited file and reuse the others.
#[derive(Debug, Clone, Default)]
pub struct Lowered {
    /// One unit per file (empty when not parsed or when lowering failed).
    pub units: Vec<Unit>,
    /// Whether the file passed the prefilter and was parsed.
    pub parsed: Vec<bool>,
    /// The front end's failure, when it failed on the file.
    pub failed: Vec<Option<String>>,
}

impl Lowered {
    /// Store the result of [`lower_one`] for file `i` (appending when `i`
    /// is one past the end).
    pub fn set(&mut self, i: usize, lowered: Option<Result<Unit, String>>) {
        let parsed = lowered.is_some();
        let (unit, failed) = match lowered {
            Some(Ok(u)) => (u, None),
            Some(Err(message)) => (Unit::default(), Some(message)),
            None => (Unit::default(), None),
        };
        if i == self.units.len() {
            self.units.push(unit);
            self.parsed.push(parsed);
            self.failed.push(failed);
        } else {
            self.units[i] = unit;
            self.parsed[i] = parsed;
            self.failed[i] = failed;
        }
    }
}

/// Lower one file, or `None` when `prefilter` says it needs no parsing. A
/// defect in the front end must not take the other files down: a panic
/// becomes `Err` with its message.
pub fn lower_one(
    file: &SourceFile,
    defines: &Defines,
    prefilter: Option<&Prefilter>,
) -> Option<Result<Unit, String>> {
    prefilter
        .map_or(true, |p| p.is_match(file.text.as_bytes()))
        .then(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                frontend::lower(file, defines)
            }))
            .map_err(|e| analysis::panic_message(&*e))
        })
}

/// Lower every file (in parallel).
pub fn lower_all(files: &[SourceFile], model: &LockModel, opts: &CheckOptions) -> Lowered {
    lower_all_with(files, model, opts, &|| {})
}

/// [`lower_all`], calling `done` after each file (for a progress bar).
/// With a prefilter, the functions of a file that cannot matter are not
/// parsed (`frontend::c::slice`).
pub fn lower_all_with(
    files: &[SourceFile],
    model: &LockModel,
    opts: &CheckOptions,
    done: &(dyn Fn() + Sync),
) -> Lowered {
    let defines = effective_defines(model, opts);
    let prefilter = (!opts.no_prefilter).then(|| Prefilter::new(model));
    let relevant = |text: &[u8]| prefilter.as_ref().is_some_and(|p| p.is_match(text));
    let locks = |text: &[u8]| prefilter.as_ref().is_some_and(|p| p.mentions_lock(text));
    let slice = prefilter.as_ref().map(|_| Slice {
        relevant: &relevant,
        locks: &locks,
        vma_struct: &model.fault.vma_struct,
    });
    let results: Vec<Option<Result<Unit, String>>> = files
        .par_iter()
        .map(|f| {
            let r = prefilter
                .as_ref()
                .map_or(true, |p| p.is_match(f.text.as_bytes()))
                .then(|| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        frontend::lower_sliced(f, &defines, slice.as_ref())
                    }))
                    .map_err(|e| analysis::panic_message(&*e))
                });
            done();
            r
        })
        .collect();
    let mut lowered = Lowered::default();
    for (i, r) in results.into_iter().enumerate() {
        lowered.set(i, r);
    }
    lowered
}

/// Analyse and lint lowered files (`lowered` indexed like `files`).
pub fn check_lowered(
    files: &[SourceFile],
    lowered: &Lowered,
    model: &LockModel,
    opts: &CheckOptions,
) -> Report {
    check_lowered_with(files, lowered, model, opts, None)
}

/// [`check_lowered`], reusing per-function analysis results kept in
/// `cache` by the previous call (see [`analysis::analyze_cached`]; `ir`:
/// each function's [`analysis::ir_text`], indexed like the units); the
/// report is the same.
pub fn check_lowered_cached(
    files: &[SourceFile],
    lowered: &Lowered,
    model: &LockModel,
    opts: &CheckOptions,
    cache: &mut analysis::FnCache,
    ir: &[Vec<Arc<str>>],
) -> Report {
    check_lowered_with(files, lowered, model, opts, Some((cache, ir)))
}

fn check_lowered_with(
    files: &[SourceFile],
    lowered: &Lowered,
    model: &LockModel,
    opts: &CheckOptions,
    cache: Option<(&mut analysis::FnCache, &[Vec<Arc<str>>])>,
) -> Report {
    let units = &lowered.units;
    let parsed = &lowered.parsed;
    let mut internal_errors: Vec<String> = files
        .iter()
        .zip(&lowered.failed)
        .filter_map(|(f, m)| {
            m.as_ref()
                .map(|m| format!("{}: the front end failed: {m}", f.path))
        })
        .collect();
    let opaque = |u: &Unit| u.functions.iter().filter(|f| f.opaque_regions > 0).count();
    let stats = Stats {
        files: files.len(),
        files_parsed: parsed.iter().filter(|p| **p).count(),
        functions: units.iter().map(|u| u.functions.len()).sum(),
        functions_opaque: units.iter().map(opaque).sum(),
        per_file: files
            .iter()
            .zip(units)
            .zip(parsed)
            .filter(|(_, p)| **p)
            .map(|((f, u), _)| (f.path.clone(), u.functions.len(), opaque(u)))
            .collect(),
        opaque: files
            .iter()
            .zip(units)
            .flat_map(|(file, u)| {
                u.functions
                    .iter()
                    .filter(|f| f.opaque_regions > 0)
                    .map(|f| {
                        let line = file.line_col(f.name_span.start).0;
                        (file.path.clone(), f.name.clone(), line)
                    })
            })
            .collect(),
    };
    let findings = match cache {
        Some((cache, ir)) => analysis::analyze_cached(units, model, cache, ir),
        None => analysis::analyze(units, model),
    };
    let notes: Vec<String> = findings
        .iter()
        .filter_map(|l| match l.finding {
            analysis::Finding::Bounded { at } => {
                let (line, _) = files[l.file].line_col(at.start);
                Some(format!(
                    "{}:{line}: the analysis of `{}` stopped at its bound; findings in it may be missing",
                    files[l.file].path, l.function
                ))
            }
            _ => None,
        })
        .collect();
    for l in &findings {
        if let analysis::Finding::Internal { at, message } = &l.finding {
            let (line, _) = files[l.file].line_col(at.start);
            internal_errors.push(format!(
                "{}:{line}: the analysis of `{}` failed: {message}",
                files[l.file].path, l.function
            ));
        }
    }
    let t = std::time::Instant::now();
    let cx = LintCx {
        files,
        units,
        findings: &findings,
        model,
    };
    let linted = lints::run_all(&cx);
    stage_time("lints", t);
    let t = std::time::Instant::now();
    let mut diagnostics: Vec<Diagnostic> = suppress::apply(files, units, parsed, linted)
        .into_iter()
        .filter_map(|mut d| {
            d.level = opts.levels.level(d.lint);
            (d.level != Level::Allow).then_some(d)
        })
        .collect();
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.start, a.lint, &a.message, a.span.end).cmp(&(
            &b.file,
            b.span.start,
            b.lint,
            &b.message,
            b.span.end,
        ))
    });
    diagnostics.dedup();
    stage_time("suppressions and levels", t);
    Report {
        diagnostics,
        stats,
        notes,
        internal_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_keeps_files_that_mention_the_model() {
        let model = LockModel::builtin();
        let p = Prefilter::new(&model);
        assert!(p.is_match(b"static int f(void) { hugetlb_vma_lock_read(v); }"));
        assert!(p.is_match(b"vm_fault_t x(struct vm_fault *vmf);"));
        assert!(p.is_match(b"if (flags & FAULT_FLAG_VMA_LOCK)"));
        // Anchors alone are not enough: `vma` without a model identifier.
        assert!(!p.is_match(b"struct vm_area_struct *vma = NULL; default: break;"));
        assert!(!p.is_match(b"for (i = 0; i < n; i++) local_lock(x);"));
    }

    #[test]
    fn prefilter_keeps_rust_files_that_use_the_wrappers() {
        let p = Prefilter::new(&LockModel::builtin());
        assert!(p.is_match(b"fn f(g: VmaReadGuard<'_>) -> usize { g.start() }"));
        assert!(p.is_match(b"fn f(mm: &MmWithUser) { let g = mm.mmap_read_trylock(); }"));
        assert!(p.is_match(b"extern \"C\" fn f(v: *mut bindings::vm_fault) {}"));
        assert!(!p.is_match(b"fn f(v: &Vmalloc) { v.len() }"));
    }

    #[test]
    fn identifiers_without_an_anchor_become_anchors() {
        let extra =
            "[api.grab_ctx_lock]\nparams = [\"mm\"]\neffects = [{ acquire = \"mmap_read(mm)\" }]\n";
        let model = LockModel::from_sources(&[
            (
                "linux-mm.toml",
                include_str!("../lints/models/linux-mm.toml"),
            ),
            ("extra.toml", extra),
        ])
        .unwrap();
        assert!(Prefilter::new(&model).is_match(b"grab_ctx_lock(current->mm);"));
    }
}
