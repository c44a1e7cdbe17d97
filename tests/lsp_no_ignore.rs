//! `faultlock lsp` with `initializationOptions.noIgnore` (and
//! `respect_ignore = false` in `faultlock.toml`): files the workspace's
//! `.gitignore` excludes are read too. The real binary over JSON-RPC.

mod common;
#[path = "support/lsp_client.rs"]
mod lsp_client;

use common::{tree, UAF};
use lsp_client::Server;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The file names the server published non-empty diagnostics for, once it
/// has published `visible.c` (both come from the same start-up index).
fn published(dir: &std::path::Path, options: Value) -> Vec<String> {
    let mut s = Server::start();
    let root = url::Url::from_directory_path(dir).unwrap().to_string();
    // Sent, not requested: every message is read from `rx` below.
    s.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": root, "capabilities": {},
                   "initializationOptions": options}}));
    s.notify("initialized", json!({}));
    let name = |v: &Value| {
        let uri = v["params"]["uri"].as_str().unwrap();
        uri.rsplit('/').next().unwrap().to_string()
    };
    let mut names = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !names.iter().any(|n: &String| n == "visible.c") {
        let left = deadline.saturating_duration_since(Instant::now());
        let v =
            s.rx.recv_timeout(left)
                .expect("diagnostics for visible.c in time");
        if v["method"] == "textDocument/publishDiagnostics"
            && !v["params"]["diagnostics"].as_array().unwrap().is_empty()
        {
            names.push(name(&v));
        }
    }
    // Whatever else the same index published.
    while let Ok(v) = s.rx.recv_timeout(Duration::from_millis(500)) {
        if v["method"] == "textDocument/publishDiagnostics" {
            names.push(name(&v));
        }
    }
    s.finish();
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
