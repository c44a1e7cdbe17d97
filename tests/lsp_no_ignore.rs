//! `faultlock lsp` with `initializationOptions.noIgnore` (and
//! `respect_ignore = false` in `faultlock.toml`): files the workspace's
//! `.gitignore` excludes are read too. The real binary over JSON-RPC.

mod common;
#[path = "support/framing.rs"]
mod framing;

use common::{tree, UAF};
use framing::{frame, read_message};
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The file names the server published non-empty diagnostics for, once it
/// has published `visible.c` (both come from the same start-up index).
fn published(dir: &std::path::Path, options: Value) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        while let Some(v) = read_message(&mut r) {
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let root = url::Url::from_directory_path(dir).unwrap().to_string();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": root, "capabilities": {},
                   "initializationOptions": options}});
    stdin.write_all(&frame(&init)).unwrap();
    let inited = json!({"jsonrpc": "2.0", "method": "initialized", "params": {}});
    stdin.write_all(&frame(&inited)).unwrap();
    stdin.flush().unwrap();
    let mut names = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !names.iter().any(|n: &String| n == "visible.c") {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = rx
            .recv_timeout(left)
            .expect("diagnostics for visible.c in time");
        if v["method"] == "textDocument/publishDiagnostics"
            && !v["params"]["diagnostics"].as_array().unwrap().is_empty()
        {
            let uri = v["params"]["uri"].as_str().unwrap();
            names.push(uri.rsplit('/').next().unwrap().to_string());
        }
    }
    // Whatever else the same index published.
    while let Ok(v) = rx.recv_timeout(Duration::from_millis(500)) {
        if v["method"] == "textDocument/publishDiagnostics" {
            let uri = v["params"]["uri"].as_str().unwrap();
            names.push(uri.rsplit('/').next().unwrap().to_string());
        }
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    names.sort();
    names
}

#[test]
fn no_ignore_reads_ignored_workspace_files() {
    let d = tree(&[
        ("visible.c", UAF),
        ("gen/hidden.c", UAF),
        (".gitignore", "gen/\n"),
    ]);
    assert_eq!(published(d.path(), json!(null)), ["visible.c"]);
    assert_eq!(
        published(d.path(), json!({"noIgnore": true})),
        ["hidden.c", "visible.c"]
    );
    std::fs::write(d.path().join("faultlock.toml"), "respect_ignore = false\n").unwrap();
    assert_eq!(published(d.path(), json!(null)), ["hidden.c", "visible.c"]);
}
