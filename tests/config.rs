//! `faultlock.toml`: discovery, levels, extra model files, defines, globs and
//! error positions, through the real binary.

mod common;

use common::{faultlock, stderr, tree, UAF};
use std::process::Output;

/// The same through a project helper the built-in model does not know.
const UAF_OWN_HELPER: &str = "\
static unsigned long g(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long x;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tmy_drop_mm(mm);
\tx = vma->vm_start;
\treturn x;
}
";

/// An mmap_lock assert that only compiles with CONFIG_PER_VMA_LOCK.
const IFDEF: &str = "\
static void dev_assert_fault(struct vm_fault *vmf)
{
#ifndef CONFIG_PER_VMA_LOCK
\tassert_fault_locked(vmf);
#else
\tmmap_assert_locked(vmf->vma->vm_mm);
#endif
}
";

fn findings(o: &Output) -> Vec<(String, String)> {
    common::gcc_findings(&common::stdout(o))
}

#[test]
fn discovered_upward_and_levels_apply() {
    let d = tree(&[
        (
            "faultlock.toml",
            "[lints]\nvma_use_after_unlock = \"warning\"\n",
        ),
        ("sub/dir/a.c", UAF),
    ]);
    let o = faultlock(&d.path().join("sub"), &["check", "--format", "gcc", "dir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(": warning: "));
    // The command line overrides the file.
    let o = faultlock(
        &d.path().join("sub"),
        &[
            "check",
            "--format",
            "gcc",
            "-D",
            "vma_use_after_unlock",
            "dir",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = faultlock(
        &d.path().join("sub"),
        &[
            "check",
            "--format",
            "gcc",
            "-A",
            "vma_use_after_unlock",
            "dir",
        ],
    );
    assert_eq!(findings(&o), []);
}

#[test]
fn git_directory_stops_discovery() {
    let d = tree(&[
        (
            "faultlock.toml",
            "[lints]\nvma_use_after_unlock = \"allow\"\n",
        ),
        ("repo/.git/HEAD", "ref: refs/heads/main\n"),
        ("repo/a.c", UAF),
    ]);
    let o = faultlock(&d.path().join("repo"), &["check", "--format", "gcc", "a.c"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(findings(&o).len(), 1);
}

#[test]
fn explicit_config_and_extra_model_file() {
    let d = tree(&[
        ("a.c", UAF_OWN_HELPER),
        ("conf/faultlock.toml", "models = [\"models/own.toml\"]\n"),
        (
            "conf/models/own.toml",
            "[api.my_drop_mm]\nparams = [\"mm\"]\neffects = [{ release = \"mmap_read(mm)\" }]\n",
        ),
    ]);
    let o = faultlock(d.path(), &["check", "--format", "gcc", "a.c"]);
    assert_eq!(
        findings(&o),
        [],
        "the built-in model does not know my_drop_mm"
    );
    let o = faultlock(
        d.path(),
        &[
            "check",
            "--format",
            "gcc",
            "--config",
            "conf/faultlock.toml",
            "a.c",
        ],
    );
    assert_eq!(
        findings(&o),
        [("a.c".to_string(), "vma_use_after_unlock".to_string())],
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_model_file_and_unknown_key_are_errors_with_positions() {
    let d = tree(&[
        ("a.c", UAF),
        ("faultlock.toml", "models = [\"own.toml\"]\n"),
        ("own.toml", "[api.x]\nparams = [\"mm\"]\nefects = []\n"),
    ]);
    let o = faultlock(d.path(), &["check", "a.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("own.toml"), "{}", stderr(&o));

    std::fs::write(
        d.path().join("faultlock.toml"),
        "[lints]\n\n[model]\nx = 1\n",
    )
    .unwrap();
    let o = faultlock(d.path(), &["check", "a.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("faultlock.toml:3:2: unknown field `model`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn defines_drive_if_evaluation() {
    let d = tree(&[("a.c", IFDEF), ("faultlock.toml", "")]);
    let o = faultlock(d.path(), &["check", "--format", "gcc", "a.c"]);
    assert_eq!(
        findings(&o).len(),
        1,
        "CONFIG_PER_VMA_LOCK is on by default"
    );
    std::fs::write(
        d.path().join("faultlock.toml"),
        "[defines]\nCONFIG_PER_VMA_LOCK = false\n",
    )
    .unwrap();
    let o = faultlock(d.path(), &["check", "--format", "gcc", "a.c"]);
    assert_eq!(findings(&o), [], "{}", stderr(&o));
}

#[test]
fn include_and_exclude_globs() {
    let d = tree(&[
        (
            "faultlock.toml",
            "include = [\"mm/**\"]\nexclude = [\"mm/skip/**\"]\n",
        ),
        ("mm/a.c", UAF),
        ("mm/skip/b.c", UAF),
        ("fs/c.c", UAF),
    ]);
    let o = faultlock(d.path(), &["check", "--format", "gcc"]);
    assert_eq!(
        findings(&o),
        [("mm/a.c".to_string(), "vma_use_after_unlock".to_string())]
    );
    assert!(
        stderr(&o).starts_with("faultlock: 1 file,"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn readme_example_is_a_valid_config() {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find("## Configuration").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let c = faultlock::config::Config::parse(std::path::Path::new("faultlock.toml"), example)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.undefines, ["CONFIG_HUGETLB_PAGE"]);
    assert_eq!(c.models.len(), 1);
}
