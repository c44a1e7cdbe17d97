//! `faultlock lsp` on a workspace: the open document is checked and
//! published before the workspace folders are read, and a re-check
//! publishes only the files whose diagnostics changed. The real binary
//! over JSON-RPC.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::Server;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A VMA used after `vma_end_read()`, in a function named `name`.
fn buggy(name: &str) -> String {
    format!(
        "static int {name}(struct mm_struct *mm, unsigned long addr)\n{{\n\
         \tstruct vm_area_struct *vma = lock_vma_under_rcu(mm, addr);\n\n\
         \tif (!vma)\n\t\treturn 0;\n\tvma_end_read(vma);\n\
         \treturn vma->vm_flags & VM_SHARED;\n}}\n"
    )
}

fn url_of(p: &std::path::Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// The next `publishDiagnostics` (in the order the server sent them).
fn next_publish(s: &mut Server) -> Value {
    s.wait_for("publishDiagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
    })["params"]
        .clone()
}

fn change(s: &mut Server, uri: &str, version: i32, text: &str) {
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"text": text}]}),
    );
}

#[test]
fn the_open_file_is_published_before_the_workspace_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let others: Vec<String> = (0..40).map(|i| format!("a_{i:02}.c")).collect();
    for (i, name) in others.iter().enumerate() {
        std::fs::write(dir.path().join(name), buggy(&format!("f{i}"))).unwrap();
    }
    let text = buggy("opened");
    std::fs::write(dir.path().join("zz_open.c"), &text).unwrap();
    let root = url_of(dir.path());
    let uri = format!("{root}/zz_open.c");
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    s.open(&uri, &text);
    let first = next_publish(&mut s);
    assert_eq!(first["uri"], uri.as_str(), "first publication: {first}");
    assert_eq!(first["version"], 1);
    let diags = first["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "vma_use_after_unlock");
    // Then the workspace: every other file, once.
    let mut seen = BTreeSet::new();
    while seen.len() < others.len() {
        let p = next_publish(&mut s);
        let name = p["uri"].as_str().unwrap().rsplit('/').next().unwrap();
        assert!(seen.insert(name.to_string()), "{name} published twice");
        assert_eq!(p["diagnostics"].as_array().unwrap().len(), 1, "{p}");
    }
    assert_eq!(seen, others.into_iter().collect::<BTreeSet<_>>());
    assert!(s.shutdown_and_exit().success());
}

#[test]
fn a_recheck_publishes_only_the_files_whose_diagnostics_changed() {
    // `user.c` is buggy through `helper.c`'s `drop_it()`; the `bug_*.c`
    // files are buggy on their own.
    const HELPER: &str = "void drop_it(struct vm_area_struct *vma)\n{\n\tvma_end_read(vma);\n}\n";
    const USER: &str = "\
static int user(struct mm_struct *mm, unsigned long addr)
{
\tstruct vm_area_struct *vma = lock_vma_under_rcu(mm, addr);

\tif (!vma)
\t\treturn 0;
\tdrop_it(vma);
\treturn vma->vm_flags & VM_SHARED;
}
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("helper.c"), HELPER).unwrap();
    std::fs::write(dir.path().join("user.c"), USER).unwrap();
    let bugs: Vec<String> = (0..5).map(|i| format!("bug_{i}.c")).collect();
    for (i, name) in bugs.iter().enumerate() {
        std::fs::write(dir.path().join(name), buggy(&format!("b{i}"))).unwrap();
    }
    let root = url_of(dir.path());
    let helper = format!("{root}/helper.c");
    let user = format!("{root}/user.c");
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    s.open(&helper, HELPER);
    // Start-up: the open file, then the workspace's buggy files.
    let mut waiting: BTreeSet<String> = bugs.iter().map(|b| format!("{root}/{b}")).collect();
    waiting.insert(user.clone());
    while !waiting.is_empty() {
        let p = next_publish(&mut s);
        let u = p["uri"].as_str().unwrap();
        assert!(waiting.remove(u) || u == helper, "unexpected start-up {p}");
    }
    // The helper no longer drops the lock: it and `user.c` change.
    change(
        &mut s,
        &helper,
        2,
        "void drop_it(struct vm_area_struct *vma)\n{\n}\n",
    );
    let mut published = Vec::new();
    loop {
        let p = next_publish(&mut s);
        published.push(p.clone());
        if p["uri"] == helper.as_str() && p["version"] == 2 {
            break;
        }
    }
    // A neutral edit: only the helper (its new version) is published. Its
    // publication also tells that the previous check's ones all arrived.
    change(
        &mut s,
        &helper,
        3,
        "void drop_it(struct vm_area_struct *vma)\n{\n\t/* no-op */\n}\n",
    );
    loop {
        let p = next_publish(&mut s);
        published.push(p.clone());
        if p["uri"] == helper.as_str() && p["version"] == 3 {
            break;
        }
    }
    let uris: Vec<&str> = published
        .iter()
        .map(|p| p["uri"].as_str().unwrap())
        .collect();
    let user_clear: Vec<&Value> = published
        .iter()
        .filter(|p| p["uri"] == user.as_str())
        .collect();
    assert_eq!(user_clear.len(), 1, "{uris:?}");
    assert_eq!(user_clear[0]["diagnostics"], json!([]));
    assert!(
        uris.iter().all(|u| *u == helper || *u == user),
        "only the changed files are published: {uris:?}"
    );
    assert_eq!(uris.iter().filter(|u| **u == helper).count(), 2, "{uris:?}");
    assert!(s.shutdown_and_exit().success());
}
