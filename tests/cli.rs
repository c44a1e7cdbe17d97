//! End-to-end tests of the `faultlock` binary: exit codes, output formats,
//! input walking, determinism. Human-output snapshots live in
//! `tests/snapshots/`; `UPDATE_SNAPSHOTS=1 cargo test` rewrites them.

mod common;

use common::{faultlock, stderr, stdout, tree, UAF};
use std::process::Output;

/// Use after `handle_userfault()` returned RETRY: `vma_use_after_unlock`.
const UAF_USERFAULT: &str = "\
static vm_fault_t f(struct vm_fault *vmf)
{
\tstruct vm_area_struct *vma = vmf->vma;
\tvm_fault_t ret = handle_userfault(vmf, VM_UFFD_MISSING);
\tif (ret & VM_FAULT_RETRY)
\t\treturn vma->vm_flags & VM_SHARED ? ret : ret;
\treturn ret;
}
";

/// The VMA is only read before the unlock: clean.
const CLEAN: &str = "\
static unsigned long h(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long flags = 0;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tif (vma)
\t\tflags = vma->vm_flags;
\tmmap_read_unlock(mm);
\treturn flags;
}
";

/// Open-coded fault-lock release: `manual_fault_lock_release` (warning).
const MANUAL_RELEASE: &str = "\
static void r(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)
\t\tvma_end_read(vmf->vma);
\telse
\t\tmmap_read_unlock(vmf->vma->vm_mm);
}
";

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// A temp dir holding `files` (relative path, contents).
fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn assert_snapshot(name: &str, actual: &str) {
    let path = format!("{}/tests/snapshots/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run with UPDATE_SNAPSHOTS=1 to create it)"));
    assert!(
        expected == actual,
        "snapshot {name} differs (UPDATE_SNAPSHOTS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

// ---- commands that do not run the analysis ----

#[test]
fn lints_lists_all_ids() {
    let d = tree(&[]);
    let o = faultlock(d.path(), &["lints"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for (id, level) in [
        ("vma_use_after_unlock", "error"),
        ("double_unlock", "error"),
        ("mmap_assert_under_vma_lock", "error"),
        ("retry_with_lock_held", "error"),
        ("stale_vma_after_relock", "warning"),
        ("manual_fault_lock_assert", "warning"),
        ("manual_fault_lock_release", "warning"),
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{out}"));
        assert_eq!(line.split_whitespace().nth(1), Some(level), "{line}");
    }
}

#[test]
fn explain_prints_page_and_rejects_unknown() {
    let d = tree(&[]);
    let o = faultlock(d.path(), &["explain", "vma_use_after_unlock"]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("vma_use_after_unlock"),
        "{}",
        stdout(&o)
    );
    let o = faultlock(d.path(), &["explain", "no_such_lint"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unknown lint `no_such_lint`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_lint_is_a_usage_error() {
    let d = tree(&[("x.c", CLEAN)]);
    for flag in ["-D", "-W", "-A"] {
        let o = faultlock(d.path(), &["check", flag, "bogus", "x.c"]);
        assert_eq!(code(&o), 2, "{flag}");
        assert!(
            stderr(&o).contains("unknown lint `bogus`"),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty());
    }
    let o = faultlock(d.path(), &["check", "--format", "xml", "x.c"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn missing_path_exits_2() {
    let d = tree(&[]);
    let o = faultlock(d.path(), &["check", "nope.c"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("error: cannot read nope.c: "),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("faultlock: 0 files"), "{}", stderr(&o));
}

/// `--stats` followed by a path to check would overwrite that source:
/// refused before anything is written.
#[test]
fn stats_to_a_source_file_is_refused() {
    let d = tree(&[("x.c", CLEAN)]);
    let o = faultlock(d.path(), &["check", "--stats", "x.c", "."]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("error: --stats FILE would overwrite the source file x.c"),
        "{}",
        stderr(&o)
    );
    let kept = std::fs::read_to_string(d.path().join("x.c")).unwrap();
    assert_eq!(kept, CLEAN);
}

// ---- end to end (need the analysis) ----

#[test]
fn clean_file_exits_0() {
    let d = tree(&[("x.c", CLEAN)]);
    let o = faultlock(d.path(), &["check", "x.c"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("faultlock: 1 file, 1 function, 0 errors, 0 warnings ("),
        "{err}"
    );
}

#[test]
fn use_after_unlock_exits_1() {
    for src in [UAF_USERFAULT, UAF] {
        let d = tree(&[("x.c", src)]);
        let o = faultlock(d.path(), &["check", "--color", "never", "x.c"]);
        assert_eq!(code(&o), 1, "{src}");
        assert!(
            stdout(&o).contains("error[vma_use_after_unlock]"),
            "{}",
            stdout(&o)
        );
        assert!(stderr(&o).contains(", 1 error, "), "{}", stderr(&o));
    }
}

#[test]
fn level_flags() {
    let d = tree(&[("x.c", UAF_USERFAULT)]);
    let o = faultlock(d.path(), &["check", "-A", "vma_use_after_unlock", "x.c"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    let o = faultlock(
        d.path(),
        &[
            "check",
            "--color=never",
            "-W",
            "vma_use_after_unlock",
            "x.c",
        ],
    );
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("warning[vma_use_after_unlock]"),
        "{}",
        stdout(&o)
    );

    // Applied in order: the last one wins.
    let o = faultlock(
        d.path(),
        &[
            "check",
            "-A",
            "vma_use_after_unlock",
            "-D",
            "vma_use_after_unlock",
            "x.c",
        ],
    );
    assert_eq!(code(&o), 1);

    let args = [
        "check",
        "-W",
        "vma_use_after_unlock",
        "--deny-warnings",
        "x.c",
    ];
    assert_eq!(code(&faultlock(d.path(), &args)), 1);
}

#[test]
fn deny_warnings_on_a_warning_lint() {
    let d = tree(&[("x.c", MANUAL_RELEASE)]);
    let o = faultlock(d.path(), &["check", "--format", "json", "x.c"]);
    assert_eq!(code(&o), 0);
    let v = json_lines(&o);
    assert!(
        v.iter()
            .any(|d| d["lint"] == "manual_fault_lock_release" && d["level"] == "warning"),
        "{v:?}"
    );
    let o = faultlock(
        d.path(),
        &["check", "--deny-warnings", "--format", "json", "x.c"],
    );
    assert_eq!(code(&o), 1);
    assert!(json_lines(&o).iter().all(|d| d["level"] == "error"));
}

#[test]
fn io_error_wins_over_findings() {
    let d = tree(&[("bad.c", UAF_USERFAULT)]);
    let o = faultlock(
        d.path(),
        &["check", "--format", "gcc", "missing.c", "bad.c"],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot read missing.c"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("[vma_use_after_unlock]"),
        "the other file is still checked"
    );
}

#[test]
fn json_contract() {
    let d = tree(&[("x.c", UAF_USERFAULT)]);
    let o = faultlock(d.path(), &["check", "--format", "json", "x.c"]);
    assert_eq!(code(&o), 1);
    let v = json_lines(&o);
    let uaf: Vec<_> = v
        .iter()
        .filter(|d| d["lint"] == "vma_use_after_unlock")
        .collect();
    assert_eq!(uaf.len(), 1, "{v:?}");
    let j = uaf[0];
    // Key order is part of the contract (serde_json::Value would sort keys).
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains("\"vma_use_after_unlock\""))
        .unwrap()
        .to_string();
    let keys = [
        "lint",
        "level",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "function",
        "related",
        "suggestion",
    ];
    let pos: Vec<usize> = keys
        .iter()
        .map(|k| line.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{line}");
    assert_eq!(j.as_object().unwrap().len(), keys.len());
    assert_eq!(j["level"], "error");
    assert_eq!(j["file"], "x.c");
    assert_eq!(j["line"], 6);
    // `\t\treturn vma->...`: `vma` is the 10th character.
    assert_eq!(j["column"], 10);
    assert_eq!(j["end_line"], 6);
    assert!(j["end_column"].as_u64().unwrap() > 10);
    assert_eq!(j["function"], "f");
    let related = j["related"].as_array().unwrap();
    assert!(
        related.iter().any(|r| r["file"] == "x.c" && r["line"] == 4),
        "release label: {related:?}"
    );
    for r in related {
        assert!(r["message"].is_string() && r["column"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn json_is_sorted_by_file_line_column_lint() {
    let two = format!("{UAF}\n{UAF_USERFAULT}");
    let d = tree(&[
        ("b.c", UAF_USERFAULT),
        ("a/z.c", &two),
        ("a/y.c", MANUAL_RELEASE),
    ]);
    let o = faultlock(d.path(), &["check", "--format", "json", "b.c", "a"]);
    assert_eq!(code(&o), 1);
    let v = json_lines(&o);
    let keys: Vec<(String, u64, u64, String)> = v
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_string();
            (
                s("file"),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                s("lint"),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let files: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert!(
        files.contains(&"a/y.c") && files.contains(&"a/z.c") && files.contains(&"b.c"),
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| **f == "a/z.c").count(),
        2,
        "{keys:?}"
    );
}

#[test]
fn gcc_format() {
    let d = tree(&[("x.c", UAF_USERFAULT)]);
    let o = faultlock(d.path(), &["check", "--format", "gcc", "x.c"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(
        // Display columns: two tabs and `return ` (gcc counts a tab to 8).
        first.starts_with("x.c:6:24: error: ") && first.ends_with(" [vma_use_after_unlock]"),
        "{out}"
    );
    assert!(
        out.lines()
            .skip(1)
            .any(|l| l.starts_with("x.c:4:") && l.contains(": note: ")),
        "{out}"
    );
}

#[test]
fn paths_are_displayed_as_given() {
    let d = tree(&[("sub/x.c", UAF_USERFAULT)]);
    for (arg, shown) in [
        ("sub", "sub/x.c"),
        ("./sub/", "./sub/x.c"),
        ("sub/x.c", "sub/x.c"),
    ] {
        let o = faultlock(d.path(), &["check", "--format", "json", arg]);
        assert_eq!(json_lines(&o)[0]["file"], shown, "{arg}");
    }
    let o = faultlock(&d.path().join("sub"), &["check", "--format", "json"]);
    assert_eq!(json_lines(&o)[0]["file"], "x.c");
}

#[test]
fn gitignore_and_hidden_dirs_are_respected() {
    let d = tree(&[
        (".gitignore", "ignored.c\nbuild/\n"),
        ("ok.c", CLEAN),
        ("ignored.c", UAF_USERFAULT),
        ("build/gen.c", UAF_USERFAULT),
        (".hidden/h.c", UAF_USERFAULT),
        ("notes.txt", UAF_USERFAULT),
    ]);
    let o = faultlock(d.path(), &["check", "."]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stderr(&o).starts_with("faultlock: 1 file,"),
        "{}",
        stderr(&o)
    );
    // Named explicitly: always checked.
    let o = faultlock(d.path(), &["check", "--format", "json", "ignored.c"]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_lines(&o)[0]["file"], "ignored.c");
}

#[test]
fn output_does_not_depend_on_threads() {
    let mut files = Vec::new();
    let srcs = [UAF_USERFAULT, UAF, CLEAN, MANUAL_RELEASE];
    for i in 0..24 {
        files.push((format!("d{}/f{i}.c", i % 3), srcs[i % srcs.len()]));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, s)| (p.as_str(), *s)).collect();
    let d = tree(&refs);
    for format in ["human", "json", "gcc"] {
        let run = |j: &str| {
            faultlock(
                d.path(),
                &[
                    "check", "--color", "never", "--format", format, "-j", j, ".",
                ],
            )
        };
        let (a, b) = (run("1"), run("2"));
        assert_eq!(code(&a), 1);
        assert!(!a.stdout.is_empty());
        assert_eq!(a.stdout, b.stdout, "{format}");
        assert_eq!(a.stdout, run("1").stdout, "run to run, {format}");
    }
}

#[test]
fn human_snapshots() {
    for (name, src) in [
        ("cli_use_after_userfault", UAF_USERFAULT),
        ("cli_use_after_unlock", UAF),
        ("cli_manual_release", MANUAL_RELEASE),
    ] {
        let d = tree(&[("x.c", src)]);
        let o = faultlock(d.path(), &["check", "--color", "never", "x.c"]);
        assert!(!o.stdout.is_empty(), "{name}");
        assert_snapshot(name, &stdout(&o));
    }
}

#[test]
fn color_only_when_asked_or_on_a_tty() {
    let d = tree(&[("x.c", UAF_USERFAULT)]);
    let piped = faultlock(d.path(), &["check", "x.c"]);
    assert!(
        !piped.stdout.is_empty() && !piped.stdout.contains(&0x1b),
        "auto is off when piped"
    );
    let always = faultlock(d.path(), &["check", "--color", "always", "x.c"]);
    assert!(always.stdout.contains(&0x1b));
    let json = faultlock(
        d.path(),
        &["check", "--color", "always", "--format", "json", "x.c"],
    );
    assert!(!json.stdout.contains(&0x1b));
}

#[test]
fn explain_annotations_prints_the_vocabulary() {
    let d = tree(&[]);
    let o = faultlock(d.path(), &["explain", "annotations"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for needle in [
        "requires(",
        "acquires(",
        "releases(",
        "#[faultlock::",
        "/* faultlock:",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
}

#[test]
fn a_tree_hidden_by_its_ignore_rules_is_said_not_skipped_silently() {
    // Debian's linux-source tarball ends its .gitignore with `/*`.
    let d = tree(&[(".gitignore", "/*\n"), ("mm/a.c", "int x;\n")]);
    let o = faultlock(d.path(), &["check", "."]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("excluded by .gitignore/.ignore rules; use --no-ignore"),
        "{}",
        stderr(&o)
    );
    let o = faultlock(d.path(), &["check", "--no-ignore", "."]);
    assert!(
        !stderr(&o).contains("--no-ignore to check"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("1 file,"), "{}", stderr(&o));
}

/// `-j` far above the CPU count is clamped (with a note): the run neither
/// starts thousands of threads nor changes its output.
#[test]
fn huge_thread_count_is_clamped() {
    let d = tree(&[("a.c", UAF), ("b.c", CLEAN)]);
    let run = |j: &str| faultlock(d.path(), &["check", "--format", "json", "-j", j, "."]);
    let (one, huge) = (run("1"), run("100000"));
    assert_eq!(code(&huge), 1, "{}", stderr(&huge));
    assert_eq!(one.stdout, huge.stdout);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let note = format!(
        "note: -j 100000 is more than 4 threads per CPU; using {}",
        4 * cpus
    );
    assert!(stderr(&huge).contains(&note), "{}", stderr(&huge));
    assert!(!stderr(&one).contains("note: -j"), "{}", stderr(&one));
}
