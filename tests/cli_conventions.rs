//! The command line behaves like the tools kernel and Rust users know:
//! display columns in gcc output, coverage notes, `-q`/`-v`, path lists,
//! friendly errors, completions and the man page. Real binary throughout.

mod common;

use common::{faultlock, stderr, stdout, tree, UAF};
use std::io::Write;
use std::process::{Command, Stdio};

/// The UAF sample's finding: line 9, `vma` after one tab and `x = `.
const UAF_AT: &str = "u.c:9:13: error: VMA `vma` used after";

/// A function with a region the C front end cannot parse.
const UNPARSED: &str = "\
static void p(struct mm_struct *mm)
{
\tmmap_read_lock(mm);
\tint x = (((((;
\tmmap_read_unlock(mm);
}
";

fn run_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

// ---- item 4: display columns ----

#[test]
fn gcc_columns_are_display_columns_with_tab_stop_8() {
    let d = tree(&[("u.c", UAF)]);
    let o = faultlock(d.path(), &["check", "u.c", "--format", "gcc"]);
    assert!(stdout(&o).starts_with(UAF_AT), "{}", stdout(&o));
    // The mmap_read_unlock note: one tab, column 9.
    assert!(stdout(&o).contains("u.c:8:9: note:"), "{}", stdout(&o));
    let o = faultlock(
        d.path(),
        &["check", "u.c", "--format", "gcc", "--tabstop", "4"],
    );
    assert!(stdout(&o).starts_with("u.c:9:9: error:"), "{}", stdout(&o));
    std::fs::write(d.path().join("faultlock.toml"), "tabstop = 2\n").unwrap();
    let o = faultlock(d.path(), &["check", "u.c", "--format", "gcc"]);
    assert!(stdout(&o).starts_with("u.c:9:7: error:"), "{}", stdout(&o));
    // JSON keeps characters: one tab is one column.
    let o = faultlock(d.path(), &["check", "u.c", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(
        (j["line"].as_u64(), j["column"].as_u64()),
        (Some(9), Some(6))
    );
    let o = faultlock(d.path(), &["check", "u.c", "--tabstop", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

// ---- item 5: coverage is never silent ----

#[test]
fn skipped_named_files_are_noted() {
    let d = tree(&[
        ("u.c", UAF),
        ("notes.txt", "mmap_read_lock"),
        ("gen/x.c", UAF),
        ("faultlock.toml", "exclude = [\"gen/**\"]\n"),
    ]);
    let stats = d.path().join("stats.json");
    let o = faultlock(
        d.path(),
        &[
            "check",
            "u.c",
            "notes.txt",
            "gen/x.c",
            "--stats",
            stats.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    assert!(
        err.contains("note: notes.txt: not a C or Rust file (.c, .h, .rs); skipped"),
        "{err}"
    );
    assert!(
        err.contains("note: gen/x.c: excluded by the include/exclude globs of"),
        "{err}"
    );
    assert!(err.contains("faultlock: 1 file,"), "{err}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(s["skipped"].as_array().unwrap().len(), 2, "{s}");
}

#[test]
fn unparsed_functions_and_an_empty_prefilter_are_noted() {
    let d = tree(&[
        ("p.c", UNPARSED),
        ("plain.c", "int f(void) { return 0; }\n"),
    ]);
    let stats = d.path().join("stats.json");
    let o = faultlock(
        d.path(),
        &["check", "p.c", "--stats", stats.to_str().unwrap()],
    );
    let err = stderr(&o);
    assert!(
        err.contains("note: 1 function in 1 file had code faultlock could not parse; findings in it may be missing"),
        "{err}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(s["opaque_functions"][0]["function"], "p", "{s}");
    assert_eq!(s["opaque_functions"][0]["line"], 1, "{s}");
    let o = faultlock(d.path(), &["check", "plain.c"]);
    assert!(
        stderr(&o).contains(
            "note: none of the 1 file mentions the lock model's functions, so none was analysed"
        ),
        "{}",
        stderr(&o)
    );
    let o = faultlock(d.path(), &["check", "plain.c", "--no-prefilter"]);
    assert!(!stderr(&o).contains("none was analysed"), "{}", stderr(&o));
}

// ---- item 6: -q and -v (the bar itself: tests/progress.rs) ----

#[test]
fn quiet_drops_the_summary_and_verbose_says_what_is_used() {
    let d = tree(&[("u.c", UAF)]);
    let o = faultlock(d.path(), &["check", "-q", "u.c", "--format", "gcc"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "", "no bar, no summary when not a terminal");
    assert!(stdout(&o).starts_with(UAF_AT));
    let o = faultlock(d.path(), &["check", "-v", "u.c"]);
    let err = stderr(&o);
    assert!(err.contains("faultlock: config: none\n"), "{err}");
    assert!(err.contains("faultlock: kernel: "), "{err}");
    assert!(
        err.contains("faultlock: model: linux-mm.toml (built in)"),
        "{err}"
    );
    let time = err
        .lines()
        .find(|l| l.starts_with("faultlock: time: "))
        .expect(&err);
    for phase in ["read ", "parse ", "analyse ", "render "] {
        assert!(time.contains(phase), "{time}");
    }
    assert!(err.contains("faultlock: 1 file,"), "{err}");
}

// ---- item 7: inputs ----

#[test]
fn paths_from_stdin_and_from_a_file() {
    let d = tree(&[("u.c", UAF), ("v.c", UAF), ("list", "u.c\n\nv.c\r\n")]);
    let o = run_stdin(d.path(), &["check", "-", "--format", "gcc"], "u.c\nv.c\n");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("faultlock: 2 files,"), "{}", stderr(&o));
    let o = faultlock(d.path(), &["check", "--files-from", "list"]);
    assert!(stderr(&o).contains("faultlock: 2 files,"), "{}", stderr(&o));
    // An empty list checks nothing (not the working directory).
    let o = run_stdin(d.path(), &["check", "-"], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("faultlock: 0 files,"), "{}", stderr(&o));
    let o = faultlock(d.path(), &["check", "--files-from", "missing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read --files-from missing"));
}

#[test]
fn respect_ignore_false_in_the_config_reads_ignored_files() {
    let d = tree(&[("gen/u.c", UAF), (".gitignore", "gen/\n")]);
    let o = faultlock(d.path(), &["check"]);
    assert!(stderr(&o).contains("faultlock: 0 files,"), "{}", stderr(&o));
    std::fs::write(d.path().join("faultlock.toml"), "respect_ignore = false\n").unwrap();
    let o = faultlock(d.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("faultlock: 1 file,"), "{}", stderr(&o));
}

// ---- item 9: friendly errors ----

#[test]
fn misspellings_get_a_did_you_mean() {
    let d = tree(&[("u.c", UAF)]);
    let o = faultlock(d.path(), &["check", "-A", "double_unlok", "u.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown lint `double_unlok`; did you mean `double_unlock`?"),
        "{}",
        stderr(&o)
    );
    let o = faultlock(d.path(), &["explain", "vma_use_after_unlok"]);
    assert!(
        stderr(&o).contains("did you mean `vma_use_after_unlock`?"),
        "{}",
        stderr(&o)
    );
    let o = faultlock(d.path(), &["chek", "u.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("similar subcommand exists: 'check'"),
        "{}",
        stderr(&o)
    );
    let o = faultlock(d.path(), &["check", "-D", "warnings", "u.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("use --deny-warnings"), "{}", stderr(&o));
}

#[test]
fn an_empty_define_is_an_error() {
    let d = tree(&[("u.c", UAF)]);
    for bad in ["", "=1", "1X"] {
        let o = faultlock(d.path(), &["check", "--define", bad, "u.c"]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(stderr(&o).contains("--define"), "{}", stderr(&o));
    }
    let o = faultlock(d.path(), &["check", "--define", "HZ=250", "u.c"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn baseline_paths_are_normalised_and_errors_have_1_based_columns() {
    let d = tree(&[("c/x.c", UAF)]);
    let o = faultlock(
        d.path(),
        &["check", "--write-baseline", "b.json", "./c/x.c"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let b = std::fs::read_to_string(d.path().join("b.json")).unwrap();
    assert!(b.contains("\"file\": \"c/x.c\""), "{b}");
    for spelling in ["c/x.c", "./c/x.c", "c//x.c"] {
        let o = faultlock(d.path(), &["check", "--baseline", "b.json", spelling]);
        assert_eq!(o.status.code(), Some(0), "{spelling}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("1 finding in the baseline"),
            "{}",
            stderr(&o)
        );
    }
    // A baseline spelled the old way (`./c/x.c`) is named, not silently useless.
    let old = b.replace("\"file\": \"c/x.c\"", "\"file\": \"./c/x.c\"");
    let fp = old.split("\"fingerprint\": \"").nth(1).unwrap()[..64].to_string();
    std::fs::write(d.path().join("old.json"), old.replace(&fp, &"0".repeat(64))).unwrap();
    let o = faultlock(d.path(), &["check", "--baseline", "old.json", "c/x.c"]);
    assert!(stderr(&o).contains("warning: the baseline old.json names 1 file as this run does not (`./c/x.c`, here `c/x.c`)"), "{}", stderr(&o));
    std::fs::write(d.path().join("bad.json"), "{\"version\": 1,\n").unwrap();
    let o = faultlock(d.path(), &["check", "--baseline", "bad.json", "c/x.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.json:2:1: not a faultlock baseline"),
        "{}",
        stderr(&o)
    );
}

// ---- item 10: distribution ----

#[test]
fn completions_and_man_page_come_from_the_command_line_definition() {
    let d = tree(&[]);
    let o = faultlock(d.path(), &["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let bash = stdout(&o);
    assert!(
        bash.contains("_faultlock()") && bash.contains("--files-from"),
        "{bash}"
    );
    let o = faultlock(d.path(), &["completions", "zsh"]);
    assert!(stdout(&o).starts_with("#compdef faultlock"));
    let o = faultlock(d.path(), &["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = stdout(&o);
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains(".TH faultlock 1"), "{man}");
    assert!(man.contains("kbuild"), "{man}");
    let o = faultlock(d.path(), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn naming_only_skipped_files_checks_nothing_rather_than_the_directory() {
    let d = tree(&[("u.c", UAF), ("notes.txt", "x")]);
    let o = faultlock(d.path(), &["check", "notes.txt"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("faultlock: 0 files,"), "{}", stderr(&o));
}
