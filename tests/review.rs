//! End-to-end tests of `faultlock review` and `faultlock check --fix` on
//! the patches of `fixtures/patches/` (written for faultlock): the same
//! patch as a plain diff, a format-patch mbox (quoted-printable, CRLF) and
//! a nested reply with comments, stripped indentation and a wrapped line;
//! a patch introducing a use after `vma_end_read()` and its revert; a patch
//! whose paths leave the tree.

use proptest::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn patches() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/patches")
}

fn tree() -> PathBuf {
    patches().join("tree")
}

const FORMS: [&str; 3] = [
    "uffd_vma_lock.patch",
    "uffd_vma_lock.mbox",
    "uffd_vma_lock_reply.eml",
];

/// The open-coded asserts and the release, post-image lines.
const EXPECTED: [(&str, usize); 4] = [
    ("manual_fault_lock_assert", 15),
    ("manual_fault_lock_assert", 38),
    ("manual_fault_lock_assert", 58),
    ("manual_fault_lock_release", 87),
];

fn faultlock(args: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run faultlock");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("faultlock output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn git(args: &[&str], cwd: &Path) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// `faultlock review PATCH --tree fixtures/patches/tree --format FORMAT`.
fn review_on_tree(patch: &str, format: &str) -> Output {
    let p = patches().join(patch);
    let t = tree();
    faultlock(
        &[
            "review",
            p.to_str().unwrap(),
            "--tree",
            t.to_str().unwrap(),
            "--format",
            format,
        ],
        &patches(),
        None,
    )
}

/// The same with the patch on standard input.
fn review_stdin_on_tree(input: &[u8], format: &str) -> Output {
    let t = tree();
    faultlock(
        &["review", "--tree", t.to_str().unwrap(), "--format", format],
        &patches(),
        Some(input),
    )
}

/// (lint, level, file, line) of each JSON line.
fn findings(out: &Output) -> Vec<(String, String, String, u64)> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|v| v.get("hunk").is_none())
        .map(|v| {
            (
                v["lint"].as_str().unwrap().to_string(),
                v["level"].as_str().unwrap().to_string(),
                v["file"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, String, String, u64)> {
    EXPECTED
        .iter()
        .map(|(l, n)| {
            (
                l.to_string(),
                "warning".to_string(),
                "fs/userfaultfd.c".to_string(),
                *n as u64,
            )
        })
        .collect()
}

/// [`expected`], plus what fragments cannot know: in the pre-image, hunk
/// 4 does not see hunk 3's early return on the per-VMA-lock path (the lines
/// between are hidden), so its two helpers' mmap_lock asserts are reported
/// there, as findings the patch fixes.
fn expected_from_fragments() -> Vec<(String, String, String, u64)> {
    let mut v = expected();
    for line in [85, 87] {
        v.push((
            "mmap_assert_under_vma_lock".to_string(),
            "error".to_string(),
            "fs/userfaultfd.c".to_string(),
            line,
        ));
    }
    v
}

/// A temporary copy of the fixture tree (and a scratch dir beside it).
fn tree_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("tree");
    for sub in ["fs", "mm"] {
        std::fs::create_dir_all(t.join(sub)).unwrap();
        for e in std::fs::read_dir(tree().join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), t.join(sub).join(e.file_name())).unwrap();
        }
    }
    (dir, t)
}

#[test]
fn three_forms_give_the_same_findings_with_a_tree() {
    let mut all = Vec::new();
    for form in FORMS {
        let out = review_on_tree(form, "json");
        assert_eq!(out.status.code(), Some(0), "{form}: {}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("fragment"),
            "{form}: applied to the tree"
        );
        all.push(findings(&out));
    }
    assert_eq!(all[0], expected());
    assert_eq!(all[0], all[1]);
    assert_eq!(all[0], all[2]);
}

#[test]
fn three_forms_give_the_same_findings_from_fragments() {
    // A directory outside any git work tree: no default tree.
    let dir = tempfile::tempdir().unwrap();
    for form in FORMS {
        let p = patches().join(form);
        let out = faultlock(
            &["review", p.to_str().unwrap(), "--format", "json"],
            dir.path(),
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{form}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("from fragments"), "{form}");
        assert_eq!(findings(&out), expected_from_fragments(), "{form}");
        let human = faultlock(
            &["review", p.to_str().unwrap(), "--color", "never"],
            dir.path(),
            None,
        );
        let shown = text(&human.stdout);
        assert_eq!(
            shown.matches("made from a patch fragment").count(),
            4,
            "{shown}"
        );
    }
}

#[test]
fn fragments_without_hunk_sections_as_diff_u_writes_them() {
    let diff: String = std::fs::read_to_string(patches().join("uffd_vma_lock.patch"))
        .unwrap()
        .lines()
        .map(
            |l| match l.strip_prefix("@@ ").and_then(|r| r.split_once(" @@")) {
                Some((ranges, _)) => format!("@@ {ranges} @@\n"),
                None => format!("{l}\n"),
            },
        )
        .collect();
    assert!(!diff.contains("@@ vm_fault_t"));
    let dir = tempfile::tempdir().unwrap();
    let out = faultlock(
        &["review", "-", "--format", "json"],
        dir.path(),
        Some(diff.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(findings(&out), expected());
}

#[test]
fn standard_input_and_the_current_git_tree_are_the_defaults() {
    let (_dir, t) = tree_copy();
    git(&["init", "-q"], &t);
    let patch = std::fs::read(patches().join("uffd_vma_lock.patch")).unwrap();
    let out = faultlock(&["review", "--format", "gcc"], &t.join("fs"), Some(&patch));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("fragment"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout).lines().count(), 4);
    assert!(text(&out.stdout).starts_with(
        "fs/userfaultfd.c:15:9: warning: open-coded fault-lock assert [manual_fault_lock_assert]\n"
    ));
}

#[test]
fn reply_reads_like_a_reviewers() {
    let out = review_on_tree("uffd_vma_lock.mbox", "reply");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = text(&out.stdout);
    let (headers, body) = r.split_once("\n\n").expect("headers, blank line, body");
    assert!(
        headers
            .contains("\nSubject: Re: [PATCH] userfaultfd: handle faults under the per-VMA lock\n"),
        "{headers}"
    );
    assert!(headers.contains("\nIn-Reply-To: <20261127100000.1234-1-dev@example.org>\n"));
    assert!(headers.contains("\nReferences: <20261127100000.1234-1-dev@example.org>\n"));
    // Bottom-posted: the attribution, then a quote before any answer.
    let first = body.lines().next().unwrap();
    assert_eq!(first, "A Developer <dev@example.org> wrote:");
    assert!(body.lines().nth(1).unwrap().starts_with("> "));
    // Only the lines the findings are about are quoted (and the file's
    // diff header once).
    let quoted: Vec<&str> = body.lines().filter(|l| l.starts_with('>')).collect();
    let allowed = [
        "> diff --git a/fs/userfaultfd.c b/fs/userfaultfd.c",
        "> +\tif (!(vmf->flags & FAULT_FLAG_VMA_LOCK))",
        "> +\t\tmmap_assert_locked(ctx->mm);",
        "> +\t\tmmap_assert_locked(vmf->vma->vm_mm);",
        "> +\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)",
        "> +\t\tvma_end_read(vmf->vma);",
        ">  \telse",
        "> +\t\tmmap_read_unlock(vmf->vma->vm_mm);",
    ];
    for q in &quoted {
        assert!(allowed.contains(q), "unexpected quote {q:?}\n{r}");
    }
    assert_eq!(quoted.len(), 1 + 3 * 2 + 4, "{r}");
    assert_eq!(
        quoted.iter().filter(|q| q.contains("diff --git")).count(),
        1
    );
    // The two points of the review, in plain words, after their quotes.
    assert_eq!(
        body.matches("\tassert_fault_locked(vmf);\n").count(),
        3,
        "{r}"
    );
    assert_eq!(body.matches("\trelease_fault_lock(vmf);\n").count(), 1);
    let release_quote = body.find("> +\t\tmmap_read_unlock").unwrap();
    assert!(body.find("\trelease_fault_lock(vmf);").unwrap() > release_quote);
    assert!(body.contains("the VMA must not be used after it"));
    // The maybe-incorrect one (`ctx->mm`) says so.
    assert_eq!(body.matches("Please check that it names").count(), 1);
    assert!(body.ends_with("\n-- \nfaultlock review\n"));
}

#[test]
fn reply_to_a_reply_keeps_the_thread() {
    let out = review_on_tree("uffd_vma_lock_reply.eml", "reply");
    let r = text(&out.stdout);
    assert!(
        r.contains("\nSubject: Re: [PATCH] userfaultfd: handle faults under the per-VMA lock\n")
            && r.starts_with("To: Reviewer Two <two@example.org>\n")
            && r.contains("\nA Developer wrote:\n"),
        "{r}"
    );
    assert!(r.contains("\nIn-Reply-To: <reply-2-two@example.org>\n"));
    assert!(r.contains("\nReferences: <20261127100000.1234-1-dev@example.org> <reply-1-one@example.org> <reply-2-two@example.org>\n"), "{r}");
    // The reviewers' own words are not quoted back.
    assert!(!r.contains("Why not assert"));
    assert!(!r.contains("interesting part"));
    assert_eq!(
        r.matches("[faultlock warning manual_fault_lock_").count(),
        4
    );
}

#[test]
fn introduced_error_and_its_revert() {
    let out = review_on_tree("use_after_release.patch", "json");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        findings(&out),
        [(
            "vma_use_after_unlock".to_string(),
            "error".to_string(),
            "mm/vma_pages.c".to_string(),
            16
        )]
    );
    assert!(text(&out.stderr).contains("1 introduced (1 error, 0 warnings), 0 fixed"));

    // Alone, as a fragment: the hunk starts in the body of an `if` it does
    // not show (`return -EAGAIN;`), which must not end the path.
    let p = patches().join("use_after_release.patch");
    let alone = faultlock(
        &["review", p.to_str().unwrap(), "--format", "json"],
        &patches(),
        None,
    );
    assert_eq!(alone.status.code(), Some(1), "{}", text(&alone.stderr));
    assert_eq!(findings(&alone), findings(&out));

    // The revert, against the tree with the bug.
    let (_dir, t) = tree_copy();
    let p = patches().join("use_after_release.patch");
    git(&["apply", p.to_str().unwrap()], &t);
    let revert = patches().join("use_after_release_revert.patch");
    let out = faultlock(
        &[
            "review",
            revert.to_str().unwrap(),
            "--tree",
            t.to_str().unwrap(),
            "--format",
            "gcc",
        ],
        &t,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(!shown.contains(": error:"), "{shown}");
    assert_eq!(
        shown,
        "mm/vma_pages.c:16:25: note: fixed by this patch (position before it): VMA `vma` used after the per-VMA lock protecting it was released [vma_use_after_unlock]\n"
    );
    let reply = faultlock(
        &[
            "review",
            revert.to_str().unwrap(),
            "--tree",
            t.to_str().unwrap(),
            "--format",
            "reply",
        ],
        &t,
        None,
    );
    assert!(text(&reply.stdout).contains("This patch also fixes"));
    // SARIF stays one JSON document; the fixed finding is a note on stderr.
    let sarif = faultlock(
        &[
            "review",
            revert.to_str().unwrap(),
            "--tree",
            t.to_str().unwrap(),
            "--format",
            "sarif",
        ],
        &t,
        None,
    );
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("one JSON document");
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert!(text(&sarif.stderr).contains("fixed by this patch"));
}

#[test]
fn paths_leaving_the_tree_are_refused_before_anything_is_read() {
    let (dir, t) = tree_copy();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // Were it read and patched, the sentinel would give an error.
    std::fs::write(
        outside.join("sentinel.c"),
        "static void sentinel(struct vm_fault *vmf)\n{\n}\n",
    )
    .unwrap();
    let hostile = patches().join("hostile_path.patch");
    for tree_args in [vec!["--tree", t.to_str().unwrap()], vec![]] {
        let mut args = vec!["review", hostile.to_str().unwrap(), "--format", "gcc"];
        args.extend(&tree_args);
        let out = faultlock(&args, &t, None);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(
            err.contains("error: patch path `../outside/sentinel.c` leaves the tree"),
            "{err}"
        );
    }
    // The same with an absolute path.
    let abs = outside.join("sentinel.c");
    let abs = format!(
        "--- {0}\n+++ {0}\n@@ -1,3 +1,5 @@\n static void sentinel(struct vm_fault *vmf)\n {{\n+\trelease_fault_lock(vmf);\n+\ttrace_sentinel(vmf->vma->vm_flags);\n }}\n",
        abs.display()
    );
    let out = faultlock(
        &["review", "-", "--tree", t.to_str().unwrap()],
        &t,
        Some(abs.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("leaves the tree"));

    // A path inside the tree that is a symlink to the sentinel: refused.
    let inside = std::fs::read_to_string(&hostile)
        .unwrap()
        .replace("../outside/sentinel.c", "fs/sentinel.c");
    std::os::unix::fs::symlink("../../outside/sentinel.c", t.join("fs/sentinel.c")).unwrap();
    let tree_arg = t.to_str().unwrap();
    let out = faultlock(
        &["review", "-", "--tree", tree_arg],
        &t,
        Some(inside.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("resolves outside the tree through a symlink"));
    // The control: the same file really in the tree gives the error.
    std::fs::remove_file(t.join("fs/sentinel.c")).unwrap();
    std::fs::copy(outside.join("sentinel.c"), t.join("fs/sentinel.c")).unwrap();
    let out = faultlock(
        &["review", "-", "--tree", tree_arg, "--format", "gcc"],
        &t,
        Some(inside.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("fs/sentinel.c:4:"));
}

#[test]
fn context_symlinks_out_of_the_tree_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (t, outside) = (dir.path().join("tree"), dir.path().join("outside"));
    std::fs::create_dir_all(&t).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        t.join("caller.c"),
        "static vm_fault_t caller(struct vm_fault *vmf)\n{\n\treturn 0;\n}\n",
    )
    .unwrap();
    // Read, this helper would make the patched caller an error.
    std::fs::write(
        outside.join("helper.c"),
        "void sentinel_release(struct vm_fault *vmf)\n{\n\trelease_fault_lock(vmf);\n}\n",
    )
    .unwrap();
    let patch = "--- a/caller.c\n+++ b/caller.c\n@@ -1,4 +1,6 @@\n static vm_fault_t caller(struct vm_fault *vmf)\n {\n+\tsentinel_release(vmf);\n+\ttrace_flags(vmf->vma->vm_flags);\n \treturn 0;\n }\n";
    let tree_arg = t.to_str().unwrap();
    std::os::unix::fs::symlink("../outside/helper.c", t.join("helper.c")).unwrap();
    let out = faultlock(
        &["review", "--tree", tree_arg, "--format", "gcc"],
        dir.path(),
        Some(patch.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("context file helper.c skipped: it resolves outside the tree")
    );
    // The control: a real file in the tree is read as context.
    std::fs::remove_file(t.join("helper.c")).unwrap();
    std::fs::copy(outside.join("helper.c"), t.join("helper.c")).unwrap();
    let out = faultlock(
        &["review", "--tree", tree_arg, "--format", "gcc"],
        dir.path(),
        Some(patch.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn a_series_in_one_mbox_gets_one_reply_per_patch() {
    let mail = |id: &str, subject: &str, file: &str| {
        let diff = std::fs::read_to_string(patches().join(file)).unwrap();
        format!("From 0 Mon Sep 17 00:00:00 2001\nFrom: A Developer <dev@example.org>\nSubject: {subject}\nMessage-ID: <{id}>\n\n{diff}-- \n2.45.2\n\n")
    };
    let mbox = mail(
        "1@x",
        "[PATCH 1/2] mm: trace pages",
        "use_after_release.patch",
    ) + &mail(
        "2@x",
        "[PATCH 2/2] userfaultfd: per-VMA lock",
        "uffd_vma_lock.patch",
    );
    let out = review_stdin_on_tree(mbox.as_bytes(), "reply");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r = text(&out.stdout);
    assert_eq!(r.matches("From faultlock ").count(), 2, "{r}");
    let second = r.find("Subject: Re: [PATCH 2/2]").unwrap();
    let first = r.find("Subject: Re: [PATCH 1/2]").unwrap();
    assert!(first < second);
    assert!(r[first..second].contains("This looks like a bug: VMA `vma` used after"));
    assert!(r[first..second].contains("> +\ttrace_vma_pages(vma->vm_start, pages);"));
    assert!(
        r[first..second].contains(">  \tvma_end_read(vma);"),
        "label line quoted: {r}"
    );
    assert_eq!(r[second..].matches("[faultlock warning").count(), 4);
}

#[test]
fn renamed_new_and_deleted_files() {
    let bug = std::fs::read_to_string(patches().join("use_after_release.patch")).unwrap();
    let hunks = &bug[bug.find("@@").unwrap()..];
    // Renamed and changed: the use is introduced, under the new name.
    let renamed = format!("diff --git a/mm/vma_pages.c b/mm/pages.c\nsimilarity index 90%\nrename from mm/vma_pages.c\nrename to mm/pages.c\n--- a/mm/vma_pages.c\n+++ b/mm/pages.c\n{hunks}");
    let out = review_stdin_on_tree(renamed.as_bytes(), "gcc");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("mm/pages.c:16:25: error: "));
    // A pure rename of a file with findings introduces and fixes nothing.
    let (_dir, t) = tree_copy();
    git(
        &[
            "apply",
            patches().join("use_after_release.patch").to_str().unwrap(),
        ],
        &t,
    );
    let pure = "diff --git a/mm/vma_pages.c b/mm/pages.c\nsimilarity index 100%\nrename from mm/vma_pages.c\nrename to mm/pages.c\n";
    let tree_arg = t.to_str().unwrap();
    let out = faultlock(
        &["review", "-", "--tree", tree_arg],
        &t,
        Some(pure.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 introduced (0 errors, 0 warnings), 0 fixed"));
    // Deleting it fixes the finding; adding it back as a new file introduces it.
    let deleted = faultlock(&["review", "-", "--tree", tree_arg, "--format", "gcc"], &t, Some(b"diff --git a/mm/vma_pages.c b/mm/vma_pages.c\ndeleted file mode 100644\n--- a/mm/vma_pages.c\n+++ /dev/null\n@@ -1,18 +0,0 @@\n"));
    assert_eq!(deleted.status.code(), Some(0), "{}", text(&deleted.stderr));
    let buggy = std::fs::read_to_string(t.join("mm/vma_pages.c")).unwrap();
    let removal: String = buggy.lines().map(|l| format!("-{l}\n")).collect();
    let delete = format!("diff --git a/mm/vma_pages.c b/mm/vma_pages.c\ndeleted file mode 100644\n--- a/mm/vma_pages.c\n+++ /dev/null\n@@ -1,{n} +0,0 @@\n{removal}", n = buggy.lines().count());
    let out = faultlock(
        &["review", "-", "--tree", tree_arg, "--format", "gcc"],
        &t,
        Some(delete.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("mm/vma_pages.c:16:25: note: fixed by this patch"));
    let addition: String = buggy.lines().map(|l| format!("+{l}\n")).collect();
    let add = format!("diff --git a/mm/new.c b/mm/new.c\nnew file mode 100644\n--- /dev/null\n+++ b/mm/new.c\n@@ -0,0 +1,{n} @@\n{addition}", n = buggy.lines().count());
    let out = faultlock(
        &["review", "-", "--tree", tree_arg, "--format", "gcc"],
        &t,
        Some(add.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("mm/new.c:16:25: error: "));
}

#[test]
fn binary_diffs_are_skipped_with_a_note() {
    let diff = std::fs::read_to_string(patches().join("uffd_vma_lock.patch")).unwrap();
    let with_binary = format!("diff --git a/logo.png b/logo.png\nindex 1234567..89abcde 100644\nBinary files a/logo.png and b/logo.png differ\n{diff}");
    let out = review_stdin_on_tree(with_binary.as_bytes(), "json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("note: logo.png: binary diff skipped"));
    assert_eq!(findings(&out), expected());
}

#[test]
fn garbage_and_unreadable_input_exit_2_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for input in [
        &b""[..],
        b"hello world\n",
        b"\xff\xfe\x00garbage",
        b"@@ -1 +1 @@\n-a\n+b\n",
        b"From x\nSubject: y\n\nno diff\n",
    ] {
        let out = faultlock(&["review", "-"], dir.path(), Some(input));
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        let err = text(&out.stderr);
        assert!(err.contains("error: no patch found in the input"), "{err}");
        assert!(!err.contains("panicked"));
    }
    let out = faultlock(&["review", "does-not-exist.patch"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("error: cannot read does-not-exist.patch"));
    let out = faultlock(
        &["review", "-", "--tree", "no-such-dir"],
        dir.path(),
        Some(b"--- a/x.c\n+++ b/x.c\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--tree no-such-dir"));
}

#[test]
fn hunks_that_do_not_apply_are_checked_alone_the_rest_in_the_tree() {
    // A line inside the first two hunks' context is not in the tree.
    let diff = std::fs::read_to_string(patches().join("uffd_vma_lock.patch"))
        .unwrap()
        .replace(" \tbool ret = true;", " \tbool changed_in_tree = true;");
    let out = review_stdin_on_tree(diff.as_bytes(), "json");
    // Errors: see the two `mmap_assert_under_vma_lock` findings below.
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("2 hunks alone"), "{err}");
    assert!(
        err.contains("fs/userfaultfd.c hunk 1/4 (`@@ -5,16 +5,17 @@`): checked alone as a fragment: its context is not in the tree"),
        "{err}"
    );
    assert!(err.contains("hunk 4/4 (`@@ -82,11 +79,15 @@ vm_fault_t handle_userfault(struct vm_fault *vmf, unsigned long reason)`): applied at line 82"), "{err}");
    let alone = "(hunks alone) fs/userfaultfd.c";
    let got: Vec<(String, String, u64)> = findings(&out)
        .into_iter()
        .map(|(l, _, f, n)| (l, f, n))
        .collect();
    let want = [
        ("manual_fault_lock_assert", alone, 15),
        ("manual_fault_lock_assert", alone, 38),
        // Without the two hunks before them, two lines higher.
        ("manual_fault_lock_assert", "fs/userfaultfd.c", 56),
        // The two hunks that landed call the tree's own helpers, which the
        // hunks left alone did not change there: they still assert
        // `ctx->mm`'s mmap_lock, now reached under the per-VMA lock.
        ("mmap_assert_under_vma_lock", "fs/userfaultfd.c", 80),
        ("mmap_assert_under_vma_lock", "fs/userfaultfd.c", 82),
        ("manual_fault_lock_release", "fs/userfaultfd.c", 85),
    ]
    .map(|(l, f, n)| (l.to_string(), f.to_string(), n));
    assert_eq!(got, want);
}

#[test]
fn suggest_prints_a_diff_that_applies_to_the_post_image() {
    let p = patches().join("uffd_vma_lock.patch");
    let out = faultlock(
        &[
            "review",
            p.to_str().unwrap(),
            "--tree",
            tree().to_str().unwrap(),
            "--suggest",
        ],
        &patches(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let diff = text(&out.stdout);
    assert!(
        diff.starts_with("--- a/fs/userfaultfd.c\n+++ b/fs/userfaultfd.c\n"),
        "{diff}"
    );
    // Machine-applicable only: two asserts and the release, not `ctx->mm`.
    assert_eq!(
        diff.matches("+\tassert_fault_locked(vmf);").count(),
        2,
        "{diff}"
    );
    assert_eq!(diff.matches("+\trelease_fault_lock(vmf);").count(), 1);
    let (dir, t) = tree_copy();
    git(&["apply", p.to_str().unwrap()], &t);
    let s = dir.path().join("suggest.diff");
    std::fs::write(&s, &diff).unwrap();
    git(&["apply", "--check", s.to_str().unwrap()], &t);
    // Fragments are no base for a diff.
    let out = faultlock(
        &["review", p.to_str().unwrap(), "--suggest"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--suggest needs a tree"));
}

#[test]
fn check_fix_rewrites_in_place_and_refuses_dirty_files() {
    let (_dir, t) = tree_copy();
    git(
        &[
            "apply",
            patches().join("uffd_vma_lock.patch").to_str().unwrap(),
        ],
        &t,
    );
    git(&["init", "-q"], &t);
    git(&["add", "."], &t);
    git(&["commit", "-qm", "post-image"], &t);
    let file = t.join("fs/userfaultfd.c");
    let committed = std::fs::read_to_string(&file).unwrap();

    // Dirty: refused, nothing written.
    let dirty = format!("{committed}/* local edit */\n");
    std::fs::write(&file, &dirty).unwrap();
    let out = faultlock(&["check", "--fix", "fs/userfaultfd.c"], &t, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not fixing fs/userfaultfd.c: it has uncommitted changes"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("--allow-dirty"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), dirty);

    // --allow-dirty: rewritten; what is left is the maybe-incorrect one.
    let out = faultlock(
        &[
            "check",
            "--fix",
            "--allow-dirty",
            "fs/userfaultfd.c",
            "--format",
            "json",
        ],
        &t,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("applied 3 suggestions in 1 file"));
    let fixed = std::fs::read_to_string(&file).unwrap();
    assert_eq!(fixed.matches("\tassert_fault_locked(vmf);\n").count(), 2);
    assert_eq!(fixed.matches("\trelease_fault_lock(vmf);\n").count(), 1);
    assert!(fixed.ends_with("/* local edit */\n"));
    let left = findings(&out);
    assert_eq!(
        left,
        [(
            "manual_fault_lock_assert".to_string(),
            "warning".to_string(),
            "fs/userfaultfd.c".to_string(),
            15
        )]
    );

    // A clean work tree needs no --allow-dirty.
    git(&["checkout", "--", "fs/userfaultfd.c"], &t);
    let out = faultlock(&["check", "--fix", "fs"], &t, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_ne!(std::fs::read_to_string(&file).unwrap(), committed);
    let recheck = faultlock(&["check", "fs", "--format", "json"], &t, None);
    assert_eq!(findings(&recheck).len(), 1);
}

#[test]
fn check_fix_outside_git_needs_allow_dirty() {
    let (_dir, t) = tree_copy();
    git(
        &[
            "apply",
            patches().join("uffd_vma_lock.patch").to_str().unwrap(),
        ],
        &t,
    );
    let out = faultlock(&["check", "--fix", "fs/userfaultfd.c"], &t, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not in a git work tree"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes as a patch never panic the input side.
    #[test]
    fn arbitrary_patch_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(patches) = faultlock::review::parse_input(&bytes) {
            for fp in patches.iter().flat_map(|p| &p.files) {
                let _ = faultlock::review::apply::fragment(fp, faultlock::review::apply::Side::New);
                let _ = faultlock::review::apply::apply("int f(void)\n{\n}\n", fp);
            }
        }
    }

    /// Mail-shaped noise (mbox separators, headers, MIME, quoted-printable,
    /// quoted lines) never panics.
    #[test]
    fn mail_shaped_noise_never_panics(lines in proptest::collection::vec(prop_oneof![
        Just("From 0 Mon Sep 17 00:00:00 2001".to_string()),
        Just(">From x".to_string()),
        Just("Subject: =?utf-8?q?=E2=80=9C?=".to_string()),
        Just("Content-Type: multipart/mixed; boundary=b".to_string()),
        Just("Content-Transfer-Encoding: quoted-printable".to_string()),
        Just("--b".to_string()),
        Just("".to_string()),
        Just("> > @@ -1 +1 @@".to_string()),
        "[>= +\\-@a-z0-9]{0,12}",
    ], 0..40)) {
        let input = lines.join("\r\n");
        let _ = faultlock::review::parse_input(input.as_bytes());
    }

    /// Diff-shaped noise (headers, hunk headers with odd counts, quoted
    /// lines) never panics either.
    #[test]
    fn diff_shaped_noise_never_panics(lines in proptest::collection::vec(prop_oneof![
        Just("diff --git a/x.c b/x.c".to_string()),
        Just("--- a/x.c".to_string()),
        Just("+++ b/x.c".to_string()),
        Just("--- /dev/null".to_string()),
        Just("rename from ../y".to_string()),
        (0usize..5, 0usize..5, 0usize..5, 0usize..5).prop_map(|(a, b, c, d)| format!("@@ -{a},{b} +{c},{d} @@ f(")),
        "[ +\\->]{0,3}[a-z{}();]{0,8}",
    ], 0..40)) {
        let input = lines.join("\n");
        if let Ok(patches) = faultlock::review::parse_input(input.as_bytes()) {
            for fp in patches.iter().flat_map(|p| &p.files) {
                let _ = faultlock::review::apply::fragment(fp, faultlock::review::apply::Side::Old);
                let _ = faultlock::review::apply::apply("a\nb\n{\n}\nf(\n", fp);
            }
        }
    }
}

#[test]
fn the_trees_configuration_applies() {
    let (_d, t) = tree_copy();
    std::fs::write(
        t.join("faultlock.toml"),
        "[lints]\nmanual_fault_lock_assert = \"allow\"\n",
    )
    .unwrap();
    let p = patches().join("uffd_vma_lock.patch");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "review",
            p.to_str().unwrap(),
            "--tree",
            t.to_str().unwrap(),
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        faultlock(&a, &patches(), None)
    };
    let lints: Vec<String> = findings(&run(&[])).into_iter().map(|f| f.0).collect();
    assert_eq!(lints, ["manual_fault_lock_release"]);
    // The command line goes on top of the configuration.
    let again = findings(&run(&["-W", "manual_fault_lock_assert"]));
    assert_eq!(again, expected());
    // A broken configuration is a usage error.
    std::fs::write(t.join("faultlock.toml"), "[lintz]\n").unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("faultlock.toml:1:"),
        "{}",
        text(&o.stderr)
    );
}
