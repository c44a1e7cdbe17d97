//! `faultlock check --fix` with the real binary: nothing the user wrote is
//! lost (comments of a replaced statement are kept; a statement that cannot
//! be rewritten faithfully is left alone), and files are refused one by one.

mod common;

use common::{faultlock, stderr, stdout, tree};
use std::path::Path;
use std::process::Command;

/// An open-coded release with a comment in each branch and one after the
/// condition.
const COMMENTED: &str = "\
static void r(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK) { // which lock?
\t\t/* the per-VMA lock */
\t\tvma_end_read(vmf->vma);
\t} else {
\t\t/*
\t\t * mmap_lock, taken by
\t\t * the arch code
\t\t */
\t\tmmap_read_unlock(vmf->vma->vm_mm);
\t}
}
";

/// The same release, with a preprocessor block inside the statement: the
/// rewrite would drop it, so it is only a maybe-incorrect suggestion.
const WITH_IF0: &str = "\
static void s(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK) {
\t\tvma_end_read(vmf->vma);
#if 0
\t\tkeep_me_too();
#endif
\t} else {
\t\tmmap_read_unlock(vmf->vma->vm_mm);
\t}
}
";

const PLAIN: &str = "\
static void t(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)
\t\tvma_end_read(vmf->vma);
\telse
\t\tmmap_read_unlock(vmf->vma->vm_mm);
}
";

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

fn committed(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tree(files);
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-qm", "init"]);
    d
}

fn read(d: &tempfile::TempDir, f: &str) -> String {
    std::fs::read_to_string(d.path().join(f)).unwrap()
}

#[test]
fn comments_of_the_replaced_statement_are_kept_above_the_call() {
    let d = committed(&[("c.c", COMMENTED)]);
    let o = faultlock(d.path(), &["check", "--fix", "c.c"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("applied 1 suggestion in 1 file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read(&d, "c.c"),
        "\
static void r(struct vm_fault *vmf)
{
\t// which lock?
\t/* the per-VMA lock */
\t/*
\t\t * mmap_lock, taken by
\t\t * the arch code
\t\t */
\trelease_fault_lock(vmf);
}
"
    );
    // The rewritten file is clean and still has every comment.
    let o = faultlock(d.path(), &["check", "c.c"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("0 errors, 0 warnings"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_statement_with_a_preprocessor_block_is_left_alone() {
    let d = committed(&[("s.c", WITH_IF0)]);
    let o = faultlock(d.path(), &["check", "s.c", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(j["lint"], "manual_fault_lock_release");
    assert_eq!(j["suggestion"]["applicability"], "maybe-incorrect");
    let o = faultlock(d.path(), &["check", "--fix", "s.c"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("applied 0 suggestions in 0 files"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&d, "s.c"), WITH_IF0);
}

#[test]
fn a_dirty_file_is_refused_alone_and_the_rest_is_fixed_and_reported() {
    let d = committed(&[("a.c", PLAIN), ("b.c", PLAIN), ("u.c", common::UAF)]);
    let dirty = format!("{PLAIN}/* local edit */\n");
    std::fs::write(d.path().join("b.c"), &dirty).unwrap();
    let o = faultlock(d.path(), &["check", "--fix", "--format", "gcc"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: not fixing b.c: it has uncommitted changes; commit or stash them, or pass --allow-dirty"),
        "{err}"
    );
    assert!(err.contains("applied 1 suggestion in 1 file"), "{err}");
    assert!(read(&d, "a.c").contains("\trelease_fault_lock(vmf);\n"));
    assert_eq!(read(&d, "b.c"), dirty);
    // Findings are reported for every file: the refused one and the rest.
    let out = stdout(&o);
    assert!(
        out.contains("b.c:3:9: warning: open-coded fault-lock release"),
        "{out}"
    );
    assert!(out.contains("u.c:9:13: error:"), "{out}");
    assert!(!out.contains("a.c:"), "{out}");
}

#[test]
fn outside_git_the_message_says_so() {
    let d = tree(&[("a.c", PLAIN)]);
    let o = faultlock(d.path(), &["check", "--fix", "a.c"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not fixing a.c: it is not in a git work tree"),
        "{err}"
    );
    assert!(err.contains("--allow-dirty"), "{err}");
    assert!(!err.contains("commit or stash"), "{err}");
    assert!(
        err.contains("warning[manual_fault_lock_release]")
            || stdout(&o).contains("warning[manual_fault_lock_release]")
    );
    assert_eq!(read(&d, "a.c"), PLAIN);
    let o = faultlock(d.path(), &["check", "--fix", "--allow-dirty", "a.c"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read(&d, "a.c").contains("\trelease_fault_lock(vmf);\n"));
}
