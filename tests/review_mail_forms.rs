//! `faultlock review` on the F-feature fixtures of
//! `fixtures/patches/features/` in every mail form (plain diff,
//! format-patch mail, quoted reply with its indentation stripped, archive
//! page), with and without their tree; a thread mbox reviewed as a series
//! (`fixtures/patches/thread/`); a patch made against an older layout of a
//! file, applied with offset and fuzz (`fixtures/patches/moved/`).

mod common;

use common::faultlock;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn patches() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/patches")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `review FILE --format json [--tree TREE]`, run outside any git tree.
fn review(file: &Path, tree: Option<&Path>, format: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["review", file.to_str().unwrap(), "--format", format];
    if let Some(t) = tree {
        args.extend(["--tree", t.to_str().unwrap()]);
    }
    faultlock(dir.path(), &args)
}

/// Each JSON line of `out`.
fn lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// (lint, level, file, line, state) of each finding.
type Finding = (String, String, String, u64, String);

fn findings(out: &Output) -> Vec<Finding> {
    lines(out)
        .into_iter()
        .filter(|v| v.get("lint").is_some())
        .map(|v| {
            (
                v["lint"].as_str().unwrap().to_string(),
                v["level"].as_str().unwrap().to_string(),
                v["file"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
                v["state"].as_str().unwrap_or("introduced").to_string(),
            )
        })
        .collect()
}

/// (placement, line, offset, fuzz) of each hunk object.
fn hunks(out: &Output) -> Vec<(String, Value, Value, u64)> {
    lines(out)
        .into_iter()
        .filter_map(|v| v.get("hunk").cloned())
        .map(|h| {
            (
                h["placement"].as_str().unwrap().to_string(),
                h["line"].clone(),
                h["offset"].clone(),
                h["fuzz"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn f(lint: &str, level: &str, file: &str, line: u64, state: &str) -> Finding {
    (lint.into(), level.into(), file.into(), line, state.into())
}

/// Each feature, the forms it comes in and what its plain diff gives
/// against the feature tree.
fn features() -> Vec<(&'static str, Vec<&'static str>, Vec<Finding>)> {
    let forms = vec!["patch", "mbox", "reply.eml", "archive.txt"];
    let (w, e) = ("warning", "error");
    vec![
        (
            "f1_head_inside_hunk",
            forms.clone(),
            vec![
                f(
                    "manual_fault_lock_assert",
                    w,
                    "fs/waitq.c",
                    45,
                    "introduced",
                ),
                f("mmap_assert_under_vma_lock", e, "fs/waitq.c", 45, "fixed"),
            ],
        ),
        (
            "f2_one_line_gap",
            forms.clone(),
            vec![
                f(
                    "manual_fault_lock_assert",
                    w,
                    "mm/twohunks.c",
                    29,
                    "introduced",
                ),
                f(
                    "mmap_assert_under_vma_lock",
                    e,
                    "mm/twohunks.c",
                    23,
                    "fixed",
                ),
                f(
                    "mmap_assert_under_vma_lock",
                    e,
                    "mm/twohunks.c",
                    29,
                    "fixed",
                ),
            ],
        ),
        (
            "f3_leading_close",
            forms.clone(),
            vec![f(
                "double_unlock",
                e,
                "arch/demo/mm/fault.c",
                63,
                "introduced",
            )],
        ),
        // A reply carrying its own diff (after scissors) and quoting a
        // fragment: it has no format-patch or quoting form of its own.
        (
            "f6_own_diff_in_reply",
            vec!["patch", "eml", "archive.txt"],
            vec![
                f(
                    "manual_fault_lock_assert",
                    w,
                    "fs/waitq.c",
                    67,
                    "introduced",
                ),
                f("mmap_assert_under_vma_lock", e, "fs/waitq.c", 67, "fixed"),
            ],
        ),
        (
            "f7_alias_out_of_view",
            forms.clone(),
            vec![f(
                "manual_fault_lock_release",
                w,
                "mm/alias.c",
                83,
                "introduced",
            )],
        ),
        ("f8_hidden_lines", forms.clone(), vec![]),
        ("f9_config_stub", forms, vec![]),
    ]
}

/// Every form, with the tree and from fragments alone, gives what the
/// plain diff gives against the tree; with the tree nothing is checked
/// alone, and no error is reported on the correct code of F7-F9.
#[test]
fn every_feature_in_every_form_gives_the_plain_diffs_findings() {
    let dir = patches().join("features");
    let tree = dir.join("tree");
    for (name, forms, want) in features() {
        let plain = review(&dir.join(format!("{name}.patch")), Some(&tree), "json");
        assert_eq!(findings(&plain), want, "{name}: {}", text(&plain.stderr));
        for form in forms {
            let file = dir.join(format!("{name}.{form}"));
            let on_tree = review(&file, Some(&tree), "json");
            let err = text(&on_tree.stderr);
            assert_eq!(findings(&on_tree), want, "{name}.{form} on the tree: {err}");
            assert!(!err.contains("alone"), "{name}.{form}: {err}");
            assert!(
                hunks(&on_tree)
                    .iter()
                    .all(|h| h.0 == "applied" && h.2 == 0 && h.3 == 0),
                "{name}.{form}: {}",
                text(&on_tree.stdout)
            );
            let alone = review(&file, None, "json");
            let err = text(&alone.stderr);
            assert_eq!(findings(&alone), want, "{name}.{form} alone: {err}");
            assert!(err.contains("from fragments"), "{name}.{form}: {err}");
        }
    }
}

#[test]
fn a_thread_is_reviewed_as_its_newest_series() {
    let mbox = patches().join("thread/waitq_v1_v2.mbox");
    let tree = patches().join("features/tree");
    let out = review(&mbox, Some(&tree), "json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("2 replies left out"), "{err}");
    assert!(
        err.contains("2 patches of older versions left out (reviewing v2)"),
        "{err}"
    );
    // The second patch applies on top of the first, where its header says.
    let (w, e) = ("warning", "error");
    assert_eq!(
        findings(&out),
        [
            f(
                "manual_fault_lock_assert",
                w,
                "fs/waitq.c",
                45,
                "introduced"
            ),
            f(
                "manual_fault_lock_assert",
                w,
                "fs/waitq.c",
                68,
                "introduced"
            ),
            f("mmap_assert_under_vma_lock", e, "fs/waitq.c", 45, "fixed"),
            f("mmap_assert_under_vma_lock", e, "fs/waitq.c", 67, "fixed"),
        ]
    );
    let h = hunks(&out);
    assert_eq!(h.len(), 2, "one hunk per v2 patch");
    assert!(h.iter().all(|h| h.0 == "applied" && h.2 == 0), "{h:?}");
    // One reply per patch, to the v2 mails.
    let reply = review(&mbox, Some(&tree), "reply");
    let r = text(&reply.stdout);
    assert_eq!(r.matches("From faultlock ").count(), 2, "{r}");
    assert!(
        r.contains("Subject: Re: [PATCH v2 1/2] waitq: assert the fault lock in waitq_needed()")
    );
    assert!(r.contains("Subject: Re: [PATCH v2 2/2] waitq: assert the fault lock in waitq_ready()"));
    assert!(!r.contains("alias") && !r.contains("twohunks"), "{r}");
}

/// A copy of the moved tree, `edit` applied to its fault.c.
fn moved_tree(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let src = patches().join("moved/tree");
    let fault = std::fs::read_to_string(src.join("arch/x86/mm/fault.c")).unwrap();
    let make = std::fs::read_to_string(src.join("Makefile")).unwrap();
    let edited = edit(&fault);
    let dir = common::tree(&[("Makefile", &make), ("arch/x86/mm/fault.c", &edited)]);
    let p = dir.path().to_path_buf();
    (dir, p)
}

const MOVED: &str = "moved/x86_vma_lock_moved.patch";

/// The double unlock the patch introduces on 6.12 (handle_mm_fault has
/// released the VMA lock on RETRY since 6.6).
fn double_unlock() -> Vec<Finding> {
    vec![f(
        "double_unlock",
        "error",
        "arch/x86/mm/fault.c",
        62,
        "introduced",
    )]
}

#[test]
fn a_patch_against_an_older_layout_applies_with_offset_and_fuzz() {
    let tree = patches().join("moved/tree");
    let out = review(&patches().join(MOVED), Some(&tree), "json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(findings(&out), double_unlock(), "{err}");
    assert_eq!(
        hunks(&out),
        [
            ("applied".into(), 58.into(), 39.into(), 1),
            ("applied".into(), 96.into(), 39.into(), 0),
        ]
    );
    assert!(err.contains("kernel 6.12"), "the tree's rules: {err}");
    let human = review(&patches().join(MOVED), Some(&tree), "human");
    let err = text(&human.stderr);
    assert!(
        err.contains("hunk 1/2 (`@@ -19,14 +19,14 @@ static inline void demo_user_addr_fault(struct pt_regs *regs,`): applied at line 58 (offset +39 lines, fuzz 1)"),
        "{err}"
    );
    let reply = review(&patches().join(MOVED), Some(&tree), "reply");
    let r = text(&reply.stdout);
    assert!(r.contains("has moved on from the patch"), "{r}");
    assert!(r.contains("- arch/x86/mm/fault.c hunk 2/2"), "{r}");
}

#[test]
fn an_applied_patch_is_seen_and_checked_as_it_was() {
    let (_d, t) = moved_tree(|s| {
        s.replace(
            "\tif (!(fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))\n\t\tvma_end_read(vma);\n",
            "\tvma_end_read(vma);\n",
        )
        .replace(
            "\t}\n\tif (fault & VM_FAULT_MAJOR)",
            "\t}\n\tcount_vm_vma_lock_event(VMA_LOCK_RETRY);\n\tif (fault & VM_FAULT_MAJOR)",
        )
        .replace(
            "\t\treturn;\n\tdemo_user_addr_fault",
            "\t\treturn;\n\tprefetchw(&current->mm->mmap_lock);\n\tdemo_user_addr_fault",
        )
    });
    let out = review(&patches().join(MOVED), Some(&t), "json");
    let err = text(&out.stderr);
    // The text before the patch is rebuilt by undoing it: the finding is
    // still the patch's.
    assert_eq!(findings(&out), double_unlock(), "{err}");
    let h = hunks(&out);
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|h| h.0 == "already_applied"), "{h:?}");
    assert!(
        err.contains("already applied: the tree has it at line 58"),
        "{err}"
    );
}

#[test]
fn only_the_hunks_that_cannot_be_placed_are_checked_alone() {
    // The function of the second hunk is gone from this tree.
    let (_d, t) = moved_tree(|s| s[..s.find("void demo_exc_page_fault").unwrap()].to_string());
    let out = review(&patches().join(MOVED), Some(&t), "json");
    let err = text(&out.stderr);
    assert_eq!(findings(&out), double_unlock(), "{err}");
    let h = hunks(&out);
    assert_eq!(h[0].0, "applied");
    assert_eq!(h[1], ("fragment".into(), Value::Null, Value::Null, 0));
    assert!(err.contains("1 hunk alone"), "{err}");
    assert!(
        err.contains("hunk 2/2 (`@@ -57,6 +57,7 @@ void demo_exc_page_fault(struct pt_regs *regs, unsigned long error_code)`): checked alone as a fragment"),
        "{err}"
    );
}
