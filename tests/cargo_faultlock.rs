//! End-to-end tests of `cargo faultlock` (the real binary, run as cargo runs
//! it) on a sample crate written at test time. The crate depends on a
//! `kernel` crate that does not exist and on a registry crate that cannot
//! be fetched: `cargo metadata --no-deps --offline` still describes it, and
//! nothing is built.

use cargo_metadata::diagnostic::{Diagnostic, DiagnosticLevel};
use cargo_metadata::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFEST: &str = r#"[package]
name = "sample-driver"
version = "0.1.0"
edition = "2021"

[dependencies]
kernel = { path = "../kernel-not-here" }
faultlock-no-such-crate = "99.0.0"
"#;

/// A raw pointer to the VMA outlives the mmap_lock guard (line 12).
const BUGGY: &str = r#"use kernel::bindings;
use kernel::mm::MmWithUser;

pub fn vma_flags(mm: &MmWithUser, addr: usize) -> u64 {
    let p: *mut bindings::vm_area_struct = {
        let guard = mm.mmap_read_lock();
        match guard.vma_lookup(addr) {
            Some(vma) => vma.as_ptr(),
            None => return 0,
        }
    };
    unsafe { (*p).vm_flags }
}
"#;

/// The same, with the flags read while the guard lives.
const CLEAN: &str = r#"use kernel::bindings;
use kernel::mm::MmWithUser;

pub fn vma_flags(mm: &MmWithUser, addr: usize) -> u64 {
    let flags = {
        let guard = mm.mmap_read_lock();
        match guard.vma_lookup(addr) {
            Some(vma) => unsafe { (*vma.as_ptr()).vm_flags },
            None => return 0,
        }
    };
    flags
}
"#;

fn sample(lib: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sample-driver");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
    // Build output is never checked.
    std::fs::create_dir_all(root.join("target/debug")).unwrap();
    std::fs::write(root.join("target/debug/stale.rs"), BUGGY).unwrap();
    let manifest = root.join("Cargo.toml");
    (dir, manifest)
}

fn cargo_faultlock(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-faultlock"))
        .arg("faultlock")
        .args(args)
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

fn parse(stdout: &[u8]) -> Vec<Message> {
    Message::parse_stream(stdout)
        .collect::<Result<Vec<_>, _>>()
        .expect("stdout is a stream of cargo messages")
}

#[test]
fn reports_a_raw_pointer_used_after_the_guard_drop() {
    let (dir, manifest) = sample(BUGGY);
    let m = manifest.to_str().unwrap();
    let out = cargo_faultlock(&["--manifest-path", m], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("error[vma_use_after_unlock]"), "{stdout}");
    assert!(stdout.contains("src/lib.rs:12:"), "{stdout}");
    assert!(
        !stdout.contains("stale.rs"),
        "the target directory was checked: {stdout}"
    );
}

#[test]
fn silent_on_the_clean_version() {
    let (dir, manifest) = sample(CLEAN);
    let m = manifest.to_str().unwrap();
    let out = cargo_faultlock(&["--manifest-path", m], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    // Run from inside the package, without --manifest-path, as an editor does.
    let out = cargo_faultlock(&["--message-format", "json"], manifest.parent().unwrap());
    assert_eq!(out.status.code(), Some(0));
    let msgs = parse(&out.stdout);
    assert_eq!(msgs.len(), 1);
    assert!(matches!(&msgs[0], Message::BuildFinished(b) if b.success));
}

#[test]
fn json_messages_parse_as_cargo_messages_with_rustc_diagnostics() {
    let (dir, manifest) = sample(BUGGY);
    let m = manifest.to_str().unwrap();
    let out = cargo_faultlock(
        &["--manifest-path", m, "--message-format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let msgs = parse(&out.stdout);
    assert_eq!(msgs.len(), 2, "{}", String::from_utf8_lossy(&out.stdout));
    let Message::CompilerMessage(cm) = &msgs[0] else {
        panic!("first message: {:?}", msgs[0]);
    };
    assert!(
        cm.package_id.repr.contains("sample-driver"),
        "{}",
        cm.package_id.repr
    );
    assert_eq!(cm.target.name, "sample_driver");
    // cargo_metadata does not keep it; rust-analyzer does not need it.
    let raw: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        Path::new(raw["manifest_path"].as_str().unwrap()),
        manifest.canonicalize().unwrap()
    );
    let d = &cm.message;
    assert_eq!(d.level, DiagnosticLevel::Error);
    assert_eq!(d.code.as_ref().unwrap().code, "vma_use_after_unlock");
    assert!(d
        .rendered
        .as_ref()
        .unwrap()
        .contains("vma_use_after_unlock"));
    let primary = d.spans.iter().find(|s| s.is_primary).unwrap();
    assert_eq!(primary.file_name, "src/lib.rs");
    assert_eq!((primary.line_start, primary.line_end), (12, 12));
    assert_eq!(
        &BUGGY[primary.byte_start as usize..primary.byte_end as usize],
        primary.text[0].text
            [primary.text[0].highlight_start - 1..primary.text[0].highlight_end - 1]
            .to_string()
    );
    let label = d.spans.iter().find(|s| !s.is_primary).unwrap();
    assert!(label.label.as_ref().unwrap().contains("released here"));
    assert!(d.children.iter().any(|c| c.level == DiagnosticLevel::Note));
    assert!(matches!(&msgs[1], Message::BuildFinished(b) if !b.success));
}

#[test]
fn a_bad_manifest_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope/Cargo.toml");
    let out = cargo_faultlock(&["--manifest-path", missing.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("nope"),
        "{err}"
    );
    // A manifest cargo cannot read.
    let bad = dir.path().join("Cargo.toml");
    std::fs::write(&bad, "[package\nname = ").unwrap();
    let out = cargo_faultlock(&["--manifest-path", bad.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read the cargo workspace"), "{err}");
    // Paths are not accepted: the workspace decides what is checked.
    let out = cargo_faultlock(&["src"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_format_rustc_json_emits_rustc_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("lib.rs");
    std::fs::write(&f, BUGGY).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(["check", "--format", "rustc-json"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let diags: Vec<Diagnostic> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a rustc diagnostic"))
        .collect();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].spans[0].line_start, 12);
}

/// A workspace of two members: `buggy` (the raw-pointer bug) and `clean`.
fn two_members() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"buggy\", \"clean\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    for (name, lib) in [("buggy", BUGGY), ("clean", CLEAN)] {
        std::fs::create_dir_all(root.join(name).join("src")).unwrap();
        std::fs::write(
            root.join(name).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        std::fs::write(root.join(name).join("src/lib.rs"), lib).unwrap();
    }
    dir
}

#[test]
fn package_workspace_and_exclude_select_members_as_cargo_does() {
    let dir = two_members();
    let count = |out: &Output| {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let line = err
            .lines()
            .find(|l| l.starts_with("faultlock: "))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string();
        (out.status.code(), line)
    };
    let all = cargo_faultlock(&[], dir.path());
    assert_eq!(count(&all).0, Some(1));
    assert!(
        count(&all).1.starts_with("faultlock: 2 files,"),
        "{:?}",
        count(&all)
    );
    let clean = cargo_faultlock(&["-p", "clean"], dir.path());
    assert_eq!(count(&clean).0, Some(0), "{:?}", count(&clean));
    assert!(count(&clean).1.starts_with("faultlock: 1 file,"));
    let buggy = cargo_faultlock(&["--package", "buggy@0.1.0", "-p", "clean"], dir.path());
    assert!(count(&buggy).1.starts_with("faultlock: 2 files,"));
    let excl = cargo_faultlock(&["--workspace", "--exclude", "buggy"], dir.path());
    assert_eq!(count(&excl).0, Some(0));
    assert!(count(&excl).1.starts_with("faultlock: 1 file,"));
    let bad = cargo_faultlock(&["-p", "nope"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("package `nope` is not a member of the workspace (members: buggy, clean)"),
        "{err}"
    );
    // --exclude without --workspace is a usage error, as in cargo.
    assert_eq!(
        cargo_faultlock(&["--exclude", "buggy"], dir.path())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn respect_ignore_false_in_the_config_applies_to_the_walk() {
    let dir = two_members();
    std::fs::write(dir.path().join("buggy/src/.gitignore"), "lib.rs\n").unwrap();
    let out = cargo_faultlock(&[], dir.path());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("faultlock: 1 file,"), "{err}");
    std::fs::write(
        dir.path().join("faultlock.toml"),
        "respect_ignore = false\n",
    )
    .unwrap();
    let out = cargo_faultlock(&[], dir.path());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("faultlock: 2 files,"), "{err}");
}
