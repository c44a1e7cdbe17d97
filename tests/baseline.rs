//! `--write-baseline` / `--baseline`: the "new findings only" workflow.

mod common;

use common::{faultlock, gcc_findings, stderr, stdout, tree, UAF};
use std::path::Path;

/// A second bug, in another function.
const NEW_BUG: &str = "
static unsigned long h(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tmmap_read_unlock(mm);
\treturn vma->vm_end;
}
";

#[test]
fn fixtures_against_their_own_baseline_are_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("baseline.json");
    let b = b.to_str().unwrap();
    let o = faultlock(
        root,
        &[
            "check",
            "--format",
            "gcc",
            "--write-baseline",
            b,
            "fixtures",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "writing a baseline exits 0: {}",
        stderr(&o)
    );
    let n = gcc_findings(&stdout(&o)).len();
    assert!(n > 50);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(b).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), n);

    let o = faultlock(
        root,
        &["check", "--format", "gcc", "--baseline", b, "fixtures"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains(&format!("{n} findings in the baseline")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn only_new_findings_are_reported() {
    let d = tree(&[("a.c", UAF)]);
    let o = faultlock(d.path(), &["check", "--write-baseline", "b.json", "a.c"]);
    assert_eq!(o.status.code(), Some(0));
    // Unrelated edits above the finding keep it baselined.
    std::fs::write(
        d.path().join("a.c"),
        format!("#include <linux/mm.h>\n\n/* moved down */\n{UAF}"),
    )
    .unwrap();
    let o = faultlock(
        d.path(),
        &["check", "--format", "gcc", "--baseline", "b.json", "a.c"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    // A new bug is reported, and only it.
    std::fs::write(d.path().join("a.c"), format!("{UAF}{NEW_BUG}")).unwrap();
    let o = faultlock(
        d.path(),
        &["check", "--format", "json", "--baseline", "b.json", "a.c"],
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["function"], "h");
}

#[test]
fn fixed_findings_are_noted_and_bad_baselines_rejected() {
    let d = tree(&[("a.c", UAF), ("b.c", UAF)]);
    let o = faultlock(
        d.path(),
        &["check", "--write-baseline", "b.json", "a.c", "b.c"],
    );
    assert_eq!(o.status.code(), Some(0));
    std::fs::write(d.path().join("a.c"), "int x;\n").unwrap();
    let o = faultlock(d.path(), &["check", "--baseline", "b.json", "a.c"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("note: a.c: fixed since the baseline: [vma_use_after_unlock] in `g`:"),
        "{err}"
    );
    assert!(
        !err.contains("b.c"),
        "unchecked files are not 'fixed': {err}"
    );

    std::fs::write(d.path().join("bad.json"), "{\"version\": 1}\n").unwrap();
    let o = faultlock(d.path(), &["check", "--baseline", "bad.json", "a.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json:1:"), "{}", stderr(&o));
    let o = faultlock(d.path(), &["check", "--baseline", "missing.json", "a.c"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn baseline_file_is_deterministic() {
    let d = tree(&[("a.c", UAF), ("sub/b.c", &format!("{UAF}{NEW_BUG}"))]);
    let mut written = Vec::new();
    for (j, name) in [("1", "one.json"), ("4", "four.json")] {
        let o = faultlock(d.path(), &["check", "-j", j, "--write-baseline", name]);
        assert_eq!(o.status.code(), Some(0));
        written.push(std::fs::read(d.path().join(name)).unwrap());
    }
    assert_eq!(written[0], written[1]);
}
