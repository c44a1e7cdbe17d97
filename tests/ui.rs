//! UI tests: every fixture under `fixtures/` is checked ALONE and its
//! diagnostics are compared with the expectations written inline in it.
//!
//! Markers (clippy/compiletest style) name the line where a diagnostic's
//! primary span starts:
//!
//! * `//~ ERROR lint_id` or `//~ WARN lint_id` at the end of that line;
//! * `//~^ ERROR lint_id` for the line above, one `^` per line up;
//! * several markers may share a line: `//~ ERROR a //~ WARN b`.
//!
//! A file without markers must produce no diagnostic at all. The comparison
//! is exact: the multiset of `(line, level, lint)` of the report must equal
//! the multiset of the markers.
//!
//! A fixture written for an older kernel says so on a line of its own:
//! `// faultlock-ui: kernel = 6.5`; it is checked with the model of that
//! release (and left out of the all-together run, which uses the newest).
//!
//! `FAULTLOCK_FIXTURE=substring` runs only fixtures whose path (relative to
//! the crate root, e.g. `fixtures/c/double_unlock/goto_error_path.c`)
//! contains the substring.

use faultlock::check::{check, CheckOptions};
use faultlock::diag::{Diagnostic, Level};
use faultlock::lints::LINTS;
use faultlock::model::{KernelVersion, LockModel};
use faultlock::source::SourceFile;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// File extensions the harness picks up (C and Rust).
const EXTENSIONS: &[&str] = &["c", "h", "rs"];

/// One expected diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    line: usize,
    level: Level,
    lint: String,
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warning => "WARN",
        Level::Allow => "ALLOW",
    }
}

/// Parse every `//~` marker of `text`. Errors (bad level, unknown lint,
/// `^` pointing above line 1, garbage) are returned all together, each with
/// its line number.
fn parse_markers(text: &str) -> Result<Vec<Expected>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let lineno = idx + 1;
        let mut rest = line;
        while let Some(pos) = rest.find("//~") {
            let after = &rest[pos + 3..];
            // This marker's text runs up to the next marker on the line.
            let (body, next) = match after.find("//~") {
                Some(p) => (&after[..p], &after[p..]),
                None => (after, ""),
            };
            rest = next;
            match parse_one(body, lineno) {
                Ok(e) => out.push(e),
                Err(msg) => errors.push(format!("line {lineno}: {msg}")),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parse the body of one marker (the text after `//~`).
fn parse_one(body: &str, lineno: usize) -> Result<Expected, String> {
    let carets = body.chars().take_while(|&c| c == '^').count();
    let body = &body[carets..];
    if !body.is_empty() && !body.starts_with(char::is_whitespace) {
        return Err(format!("malformed marker `//~{}`", body.trim_end()));
    }
    let mut words = body.split_whitespace();
    let level = match words.next() {
        Some("ERROR") => Level::Error,
        Some("WARN") | Some("WARNING") => Level::Warning,
        Some(other) => return Err(format!("unknown level `{other}` (ERROR or WARN)")),
        None => return Err("marker without level and lint".to_string()),
    };
    let lint = match words.next() {
        Some(l) => l,
        None => return Err("marker without lint id".to_string()),
    };
    if !LINTS.iter().any(|info| info.id == lint) {
        return Err(format!("unknown lint `{lint}`"));
    }
    if let Some(extra) = words.next() {
        return Err(format!("unexpected text `{extra}` after lint id"));
    }
    if carets >= lineno {
        return Err(format!("`{}` points above line 1", "^".repeat(carets)));
    }
    Ok(Expected {
        line: lineno - carets,
        level,
        lint: lint.to_string(),
    })
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every fixture file under `dir`, sorted, recursively.
fn collect_fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        // `fixtures/patches/` holds inputs of `faultlock review` (patches
        // and the small trees they apply to), tested by tests/review.rs;
        // `fixtures/lsp/` inputs of the language server's re-lowering,
        // tested by tests/lsp_recheck_cache.rs.
        let skipped = ["patches", "lsp"].map(|d| fixtures_root().join(d));
        if path.is_dir() && skipped.contains(&path) {
            continue;
        }
        if path.is_dir() {
            collect_fixtures(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
}

/// Path relative to the crate root with `/` separators, as shown in reports.
fn display_path(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// All fixtures (display path, text), filtered by `FAULTLOCK_FIXTURE`.
fn fixtures() -> Vec<(String, String)> {
    let mut paths = Vec::new();
    collect_fixtures(&fixtures_root(), &mut paths);
    let filter = std::env::var("FAULTLOCK_FIXTURE").ok();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (display_path(&p), text)
        })
        .filter(|(name, _)| filter.as_deref().map_or(true, |f| name.contains(f)))
        .collect()
}

thread_local! {
    /// Message and location of the last panic caught on this thread.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// Set while `check()` runs under `catch_unwind` on this thread.
    static IN_CHECK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panics inside `check()` are caught and listed per fixture; keep the
/// default hook (and its backtrace) for everything else.
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CHECK.with(|c| c.get()) {
                let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    (*s).to_string()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "<non-string panic payload>".to_string()
                };
                let loc = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Compare expected markers with the report; `None` when they agree,
/// otherwise a readable diff.
fn compare(file: &SourceFile, expected: &[Expected], got: &[Diagnostic]) -> Option<String> {
    // Multiset difference keyed by (line, level, lint).
    let mut want: BTreeMap<(usize, Level, &str), usize> = BTreeMap::new();
    for e in expected {
        *want.entry((e.line, e.level, e.lint.as_str())).or_default() += 1;
    }
    let mut unexpected = Vec::new();
    for d in got {
        let (line, col) = file.line_col(d.span.start);
        match want.get_mut(&(line, d.level, d.lint)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => unexpected.push((line, col, d)),
        }
    }
    let missing: Vec<_> = want
        .into_iter()
        .flat_map(|(k, n)| std::iter::repeat(k).take(n))
        .collect();
    if missing.is_empty() && unexpected.is_empty() {
        return None;
    }
    let mut s = String::new();
    for (line, level, lint) in &missing {
        let src = source_line(file, *line);
        let _ = writeln!(
            s,
            "  missing    {}:{line}: {} {lint}\n      | {src}",
            file.path,
            level_word(*level)
        );
    }
    for (line, col, d) in &unexpected {
        let src = source_line(file, *line);
        let _ = writeln!(
            s,
            "  unexpected {}:{line}:{col}: {} {}: {}\n      | {src}",
            file.path,
            level_word(d.level),
            d.lint,
            d.message
        );
        for label in &d.labels {
            if *label.file == *file.path {
                let (l, c) = file.line_col(label.span.start);
                let _ = writeln!(s, "      note {l}:{c}: {}", label.message);
            }
        }
    }
    Some(s)
}

fn source_line(file: &SourceFile, line: usize) -> &str {
    file.text.lines().nth(line - 1).unwrap_or("").trim()
}

/// The kernel release a fixture asks for (`// faultlock-ui: kernel = X.Y`).
fn fixture_kernel(text: &str) -> Option<KernelVersion> {
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix("// faultlock-ui: kernel =")?;
        Some(KernelVersion::parse(v.trim()).expect("valid kernel version in fixture"))
    })
}

/// Check one fixture alone; `None` when it matches its markers.
fn run_fixture(name: &str, text: &str) -> Option<String> {
    let model = LockModel::builtin_for(fixture_kernel(text).unwrap_or(KernelVersion::NEWEST));
    let expected = match parse_markers(text) {
        Ok(e) => e,
        Err(errors) => return Some(format!("  bad markers:\n    {}\n", errors.join("\n    "))),
    };
    let file = SourceFile::new(name, text);
    let files = [file.clone()];
    IN_CHECK.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        check(&files, &model, &CheckOptions::default())
    }));
    IN_CHECK.with(|c| c.set(false));
    match result {
        Ok(report) => compare(&file, &expected, &report.diagnostics),
        Err(_) => Some(format!(
            "  check() panicked: {}\n",
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "<no message>".to_string())
        )),
    }
}

#[test]
fn ui_fixtures() {
    install_quiet_panic_hook();
    let fixtures = fixtures();
    assert!(
        !fixtures.is_empty(),
        "no fixture selected under {} (FAULTLOCK_FIXTURE={:?})",
        fixtures_root().display(),
        std::env::var("FAULTLOCK_FIXTURE").ok()
    );
    let mut failures = Vec::new();
    for (name, text) in &fixtures {
        if let Some(diff) = run_fixture(name, text) {
            failures.push(format!("{name}:\n{diff}"));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} fixtures do not match their markers:\n\n{}",
            failures.len(),
            fixtures.len(),
            failures.join("\n")
        );
    }
}

/// All fixtures checked in one run, as `faultlock check fixtures/` does:
/// same-named functions in different files (each file's own helpers and
/// callbacks) must not leak contexts or summaries into each other, so every
/// file still gets exactly its markers.
#[test]
fn ui_fixtures_together() {
    let fixtures: Vec<_> = fixtures()
        .into_iter()
        .filter(|(_, text)| fixture_kernel(text).is_none())
        .collect();
    let files: Vec<SourceFile> = fixtures
        .iter()
        .map(|(name, text)| SourceFile::new(name.as_str(), text.as_str()))
        .collect();
    let report = check(&files, &LockModel::builtin(), &CheckOptions::default());
    let mut failures = Vec::new();
    for (file, (name, text)) in files.iter().zip(&fixtures) {
        let expected = parse_markers(text).unwrap_or_default();
        let got: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| *d.file == *file.path)
            .cloned()
            .collect();
        if let Some(diff) = compare(file, &expected, &got) {
            failures.push(format!("{name}:\n{diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "checked together, {} fixtures do not match their markers:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The fixture set itself: every marker parses and uses the lint's default
/// level, every lint has a directory with at least three files expecting it
/// and three (`ok_*`) that must not report it, and `clean/` has no markers.
/// Independent of the analysis.
#[test]
fn fixture_inventory() {
    let mut paths = Vec::new();
    collect_fixtures(&fixtures_root(), &mut paths);
    let mut problems = Vec::new();
    // dir -> (files expecting the dir's lint, files not expecting it)
    let mut per_dir: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for path in &paths {
        let name = display_path(path);
        let text = std::fs::read_to_string(path).expect("readable fixture");
        let markers = match parse_markers(&text) {
            Ok(m) => m,
            Err(errors) => {
                problems.push(format!("{name}: {}", errors.join("; ")));
                continue;
            }
        };
        let parts: Vec<&str> = name.split('/').collect();
        // fixtures/<lang>/<dir>/<file>
        if parts.len() != 4 {
            problems.push(format!(
                "{name}: expected fixtures/<lang>/<lint|clean>/<file>"
            ));
            continue;
        }
        let dir = parts[2];
        if dir == "clean" {
            if !markers.is_empty() {
                problems.push(format!("{name}: a clean fixture has markers"));
            }
            continue;
        }
        let Some(info) = LINTS.iter().find(|l| l.id == dir) else {
            problems.push(format!("{name}: directory `{dir}` is not a lint id"));
            continue;
        };
        for m in &markers {
            let lint_level = LINTS.iter().find(|l| l.id == m.lint).unwrap().default_level;
            if m.level != lint_level {
                problems.push(format!(
                    "{name}:{}: `{}` is {} by default, marker says {}",
                    m.line,
                    m.lint,
                    level_word(lint_level),
                    level_word(m.level)
                ));
            }
        }
        let positive = markers.iter().any(|m| m.lint == info.id);
        // Naming convention: `ok_*` files are negatives and carry no marker
        // at all; every other file in a lint directory expects that lint.
        if parts[3].starts_with("ok_") && !markers.is_empty() {
            problems.push(format!("{name}: an `ok_` fixture has markers"));
        } else if !parts[3].starts_with("ok_") && !positive {
            problems.push(format!(
                "{name}: no `{}` marker; name negative fixtures `ok_*`",
                info.id
            ));
        }
        let entry = per_dir.entry(format!("{}/{}", parts[1], dir)).or_default();
        if positive {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    for info in LINTS {
        let (pos, neg) = per_dir
            .get(&format!("c/{}", info.id))
            .copied()
            .unwrap_or_default();
        if pos < 3 || neg < 3 {
            problems.push(format!(
                "fixtures/c/{}: {pos} positive and {neg} negative files, need at least 3 of each",
                info.id
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "fixture inventory:\n  {}",
        problems.join("\n  ")
    );
}

#[cfg(test)]
mod marker_parser {
    use super::*;

    fn e(line: usize, level: Level, lint: &str) -> Expected {
        Expected {
            line,
            level,
            lint: lint.to_string(),
        }
    }

    #[test]
    fn same_line() {
        let text = "int f(void)\n{\n\tvma->vm_flags; //~ ERROR vma_use_after_unlock\n}\n";
        assert_eq!(
            parse_markers(text).unwrap(),
            vec![e(3, Level::Error, "vma_use_after_unlock")]
        );
    }

    #[test]
    fn carets_point_up() {
        let text = "a\nb\nc\n//~^ ERROR double_unlock\n//~^^^ WARN stale_vma_after_relock\n";
        assert_eq!(
            parse_markers(text).unwrap(),
            vec![
                e(3, Level::Error, "double_unlock"),
                e(2, Level::Warning, "stale_vma_after_relock"),
            ]
        );
    }

    #[test]
    fn several_markers_on_one_line() {
        let text = "x; //~ ERROR double_unlock //~ WARN manual_fault_lock_release\n\
                    y; //~ ERROR double_unlock //~ ERROR double_unlock\n";
        assert_eq!(
            parse_markers(text).unwrap(),
            vec![
                e(1, Level::Error, "double_unlock"),
                e(1, Level::Warning, "manual_fault_lock_release"),
                e(2, Level::Error, "double_unlock"),
                e(2, Level::Error, "double_unlock"),
            ]
        );
    }

    #[test]
    fn warning_spelling_and_plain_comments() {
        let text = "// an ordinary comment\nz; // note //~ WARNING manual_fault_lock_assert\n";
        assert_eq!(
            parse_markers(text).unwrap(),
            vec![e(2, Level::Warning, "manual_fault_lock_assert")]
        );
        assert_eq!(parse_markers("/* nothing */\n").unwrap(), vec![]);
    }

    #[test]
    fn errors_are_reported_with_lines() {
        let errs = parse_markers("//~^ ERROR double_unlock\n").unwrap_err();
        assert!(
            errs[0].contains("line 1") && errs[0].contains("above line 1"),
            "{errs:?}"
        );
        let errs = parse_markers("a\nb //~ ERROR no_such_lint\n").unwrap_err();
        assert!(
            errs[0].contains("line 2") && errs[0].contains("no_such_lint"),
            "{errs:?}"
        );
        let errs = parse_markers("a //~ NOTE double_unlock\n").unwrap_err();
        assert!(errs[0].contains("unknown level"), "{errs:?}");
        let errs = parse_markers("a //~ ERROR\n").unwrap_err();
        assert!(errs[0].contains("without lint"), "{errs:?}");
        let errs = parse_markers("a //~ ERROR double_unlock extra\n").unwrap_err();
        assert!(errs[0].contains("extra"), "{errs:?}");
        let errs = parse_markers("a //~x ERROR double_unlock\n").unwrap_err();
        assert!(errs[0].contains("malformed"), "{errs:?}");
        // All problems are listed, not only the first.
        let errs = parse_markers("a //~ BAD x\nb //~ ERROR y\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn compare_reports_missing_and_unexpected() {
        let file = SourceFile::new("t.c", "a;\nb;\nc;\n");
        let diag = |start: usize, lint: &'static str, level: Level| Diagnostic {
            lint,
            level,
            file: file.path.clone(),
            span: faultlock::source::Span::new(start, start + 1),
            message: format!("msg of {lint}"),
            function: None,
            labels: vec![],
            path: vec![],
            notes: vec![],
            suggestion: None,
        };
        let expected = vec![
            e(1, Level::Error, "double_unlock"),
            e(3, Level::Warning, "stale_vma_after_relock"),
        ];
        // Exact match (order does not matter).
        let got = vec![
            diag(6, "stale_vma_after_relock", Level::Warning),
            diag(0, "double_unlock", Level::Error),
        ];
        assert_eq!(compare(&file, &expected, &got), None);
        // Wrong line and a duplicate.
        let got = vec![
            diag(3, "double_unlock", Level::Error),
            diag(6, "stale_vma_after_relock", Level::Warning),
            diag(6, "stale_vma_after_relock", Level::Warning),
        ];
        let diff = compare(&file, &expected, &got).unwrap();
        assert!(
            diff.contains("missing    t.c:1: ERROR double_unlock"),
            "{diff}"
        );
        assert!(
            diff.contains("unexpected t.c:2:1: ERROR double_unlock"),
            "{diff}"
        );
        assert!(
            diff.contains("unexpected t.c:3:1: WARN stale_vma_after_relock"),
            "{diff}"
        );
        // Level matters.
        let got = vec![
            diag(0, "double_unlock", Level::Warning),
            diag(6, "stale_vma_after_relock", Level::Warning),
        ];
        assert!(compare(&file, &expected, &got).is_some());
    }
}
