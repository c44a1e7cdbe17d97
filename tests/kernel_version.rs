//! The kernel release a run models, end to end: one file whose meaning
//! changed in 6.6 (an unconditional `vma_end_read()` after
//! `handle_mm_fault(.. FAULT_FLAG_VMA_LOCK ..)`: right before, a double
//! unlock after), checked with the version chosen by `--kernel`, by
//! `faultlock.toml`, by the tree's top `Makefile`, and for `review` by
//! `--tree`, a `base-commit:` trailer and the mail's date.

mod common;

use common::{faultlock, stderr, stdout, tree};
use std::path::Path;
use std::process::{Command, Output};

const FAST_PATH: &str =
    include_str!("../fixtures/c/double_unlock/vma_end_read_unconditional_since_6_6.c");

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn double_unlocks(o: &Output) -> usize {
    stdout(o)
        .lines()
        .filter(|l| l.ends_with("[double_unlock]"))
        .count()
}

fn makefile(v: &str) -> String {
    let (maj, min) = v.split_once('.').unwrap();
    format!(
        "# SPDX-License-Identifier: GPL-2.0\nVERSION = {maj}\nPATCHLEVEL = {min}\nSUBLEVEL = 0\n"
    )
}

fn stats_kernel(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let mut all = vec!["check", "--format", "gcc", "--stats", "stats.json"];
    all.extend_from_slice(args);
    let o = faultlock(dir, &all);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    let k = s["kernel"].as_str().unwrap().to_string();
    let src = s["kernel_source"].as_str().unwrap().to_string();
    (o, k, src)
}

#[test]
fn the_same_file_before_and_after_6_6_by_flag() {
    let d = tree(&[("arch/x/mm/fault.c", FAST_PATH)]);
    let (o, k, src) = stats_kernel(d.path(), &["--kernel", "6.5", "arch"]);
    assert_eq!((code(&o), double_unlocks(&o)), (0, 0), "{}", stdout(&o));
    assert_eq!((k.as_str(), src.as_str()), ("6.5", "--kernel"));
    let (o, k, _) = stats_kernel(d.path(), &["--kernel", "6.6", "arch"]);
    assert_eq!((code(&o), double_unlocks(&o)), (1, 1), "{}", stdout(&o));
    assert_eq!(k, "6.6");
    // Nothing says which: the newest known release.
    let (o, k, src) = stats_kernel(d.path(), &["arch"]);
    assert_eq!((code(&o), double_unlocks(&o)), (1, 1));
    assert_eq!(k, "7.3");
    assert!(src.contains("newest"), "{src}");
    let o = faultlock(d.path(), &["check", "--kernel", "6", "arch"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not a kernel version"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_trees_makefile_then_the_config_then_the_flag() {
    let d = tree(&[
        ("Makefile", &makefile("6.5")),
        ("mm/Makefile", "obj-y += memory.o\n"),
        ("arch/x/mm/fault.c", FAST_PATH),
    ]);
    let (o, k, src) = stats_kernel(d.path(), &["arch/x/mm/fault.c"]);
    assert_eq!((code(&o), double_unlocks(&o), k.as_str()), (0, 0, "6.5"));
    assert!(src.ends_with("Makefile"), "{src}");
    // Found upward from a subdirectory too (kbuild passes paths like this).
    let o = faultlock(
        &d.path().join("arch"),
        &["check", "--format", "gcc", "x/mm"],
    );
    assert_eq!((code(&o), double_unlocks(&o)), (0, 0), "{}", stdout(&o));
    let o = faultlock(
        d.path(),
        &["kbuild", "--fail-on-error", "arch/x/mm/fault.c"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = faultlock(
        d.path(),
        &[
            "kbuild",
            "--kernel",
            "6.6",
            "--fail-on-error",
            "arch/x/mm/fault.c",
        ],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    std::fs::write(d.path().join("faultlock.toml"), "kernel = \"6.12\"\n").unwrap();
    let (o, k, src) = stats_kernel(d.path(), &["arch"]);
    assert_eq!((code(&o), double_unlocks(&o), k.as_str()), (1, 1, "6.12"));
    assert!(src.ends_with("faultlock.toml"), "{src}");
    let (o, k, _) = stats_kernel(d.path(), &["--kernel", "6.4", "arch"]);
    assert_eq!((code(&o), k.as_str()), (0, "6.4"));
}

/// A format-patch mail adding the 6.5-style fast path as a new file.
fn mail(date: &str, base: Option<&str>) -> String {
    let mut body = String::new();
    let lines: Vec<&str> = FAST_PATH.lines().collect();
    for l in &lines {
        body.push('+');
        body.push_str(l);
        body.push('\n');
    }
    let trailer = base
        .map(|b| format!("\nbase-commit: {b}\n"))
        .unwrap_or_default();
    format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: A Developer <a@example.org>\nDate: {date}\nSubject: [PATCH] x86/mm: fast path\n\n\
         ---\n diff --git a/arch/x/mm/fault.c b/arch/x/mm/fault.c\n\
         new file mode 100644\n--- /dev/null\n+++ b/arch/x/mm/fault.c\n@@ -0,0 +1,{} @@\n{body}-- \n2.43.0\n{trailer}",
        lines.len()
    )
    .replace("\n diff --git", "\ndiff --git")
}

fn review(cwd: &Path, args: &[&str], input: &str) -> Output {
    let p = cwd.join("patch.mbox");
    std::fs::write(&p, input).unwrap();
    let mut all = vec!["review", "--format", "gcc", p.to_str().unwrap()];
    all.extend_from_slice(args);
    faultlock(cwd, &all)
}

fn git(args: &[&str], cwd: &Path) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn review_takes_the_mail_date() {
    let d = tree(&[]);
    let old = review(d.path(), &[], &mail("Tue, 5 Sep 2023 10:00:00 +0200", None));
    assert_eq!(double_unlocks(&old), 0, "{}{}", stdout(&old), stderr(&old));
    let new = review(d.path(), &[], &mail("Mon, 2 Dec 2024 10:00:00 +0000", None));
    assert_eq!(double_unlocks(&new), 1, "{}{}", stdout(&new), stderr(&new));
    let flag = review(
        d.path(),
        &["--kernel", "6.5"],
        &mail("Mon, 2 Dec 2024 10:00:00 +0000", None),
    );
    assert_eq!(double_unlocks(&flag), 0, "{}", stdout(&flag));
}

#[test]
fn review_takes_the_tree_then_the_base_commit() {
    // A repository whose history has a 6.5 and a 7.3 commit.
    let repo = tree(&[("Makefile", &makefile("6.5"))]);
    let r = repo.path();
    git(&["init", "-q"], r);
    git(&["add", "Makefile"], r);
    git(&["commit", "-q", "-m", "v6.5"], r);
    let v65 = git(&["rev-parse", "HEAD"], r);
    std::fs::write(r.join("Makefile"), makefile("7.3")).unwrap();
    git(&["commit", "-q", "-a", "-m", "v7.3"], r);
    // Mailed in 2025, but based on the 6.5 commit: 6.5 decides.
    let based = mail("Mon, 6 Jan 2025 10:00:00 +0000", Some(&v65));
    let o = review(r, &[], &based);
    assert_eq!(double_unlocks(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // --tree wins over the trailer: the tree's Makefile says 7.3.
    let o = review(r, &["--tree", r.to_str().unwrap()], &based);
    assert_eq!(double_unlocks(&o), 1, "{}{}", stdout(&o), stderr(&o));
    // A base commit the repository does not have: the date decides.
    let unknown = mail(
        "Tue, 5 Sep 2023 10:00:00 +0200",
        Some("1111111111111111111111111111111111111111"),
    );
    let o = review(r, &[], &unknown);
    assert_eq!(double_unlocks(&o), 0, "{}", stdout(&o));
}
