//! `scripts/kernel-corpus.sh` never deletes what it did not create. These
//! runs stop before anything is fetched, so they need no network.

use std::path::Path;
use std::process::{Command, Output};

fn corpus(cache: &Path, kernel: &str) -> Output {
    Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/kernel-corpus.sh"
        ))
        .env("FAULTLOCK_CACHE", cache)
        .env("KERNEL", kernel)
        .output()
        .expect("run kernel-corpus.sh")
}

#[test]
fn a_foreign_tree_is_refused_and_left_intact() {
    let cache = tempfile::tempdir().unwrap();
    for kernel in ["6.12", "7.3"] {
        let tree = cache.path().join(format!("linux-source-{kernel}"));
        std::fs::create_dir_all(tree.join("mm")).unwrap();
        std::fs::write(tree.join("Makefile"), "# my own tree\n").unwrap();
        std::fs::write(tree.join("mm/memory.c"), "/* my work */\n").unwrap();
        let o = corpus(cache.path(), kernel);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("was not unpacked by this script"), "{err}");
        assert!(err.contains("refusing to touch it"), "{err}");
        assert_eq!(
            std::fs::read_to_string(tree.join("mm/memory.c")).unwrap(),
            "/* my work */\n"
        );
        assert_eq!(
            std::fs::read_to_string(tree.join("Makefile")).unwrap(),
            "# my own tree\n"
        );
    }
    // Only the two trees: no temporary directory left behind.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
}

#[test]
fn a_tree_it_unpacked_is_reused_and_a_bad_version_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tree = cache.path().join("linux-source-6.12");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("Makefile"), "").unwrap();
    std::fs::write(tree.join(".faultlock-unpacked"), "").unwrap();
    let o = corpus(cache.path(), "6.12");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
        tree.to_str().unwrap()
    );
    let o = corpus(cache.path(), "5.10");
    assert_eq!(o.status.code(), Some(2));
}
