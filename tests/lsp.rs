//! `faultlock lsp` driven over JSON-RPC, as an editor would: the real
//! binary, `Content-Length` framing, bounded waits (a hung server fails the
//! test and is killed, it never hangs the suite).

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::Server;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const URI: &str = "file:///nonexistent-faultlock-test/demo.c";

/// A VMA used after `vma_end_read()`; the non-ASCII comment makes UTF-16
/// and UTF-8 columns differ.
const BUGGY: &str = "\
static int demo(struct mm_struct *mm, unsigned long addr)
{
\tstruct vm_area_struct *vma;
\tint shared;

\tvma = lock_vma_under_rcu(mm, addr);
\tif (!vma)
\t\treturn -EAGAIN;
\tvma_end_read(vma);
\t/* é😀 */ shared = vma->vm_flags & VM_SHARED;
\treturn shared;
}
";

fn range(l0: u64, c0: u64, l1: u64, c1: u64) -> Value {
    json!({"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}})
}

#[test]
fn diagnostic_appears_on_open_and_disappears_after_the_fix() {
    let mut s = Server::start();
    let init = s.initialize(json!({}), None);
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16", "{init}");
    assert_eq!(
        caps["textDocumentSync"]["change"], 2,
        "incremental sync: {init}"
    );
    s.open(URI, BUGGY);
    let diags = s.diagnostics(URI);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    // `vma->vm_flags` on line 10: 19 characters before it, the emoji is two
    // UTF-16 code units.
    assert_eq!(d["range"], range(9, 20, 9, 33), "{d}");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["code"], "vma_use_after_unlock");
    assert_eq!(d["source"], "faultlock");
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.starts_with("VMA `vma` used after the per-VMA lock"),
        "{msg}"
    );
    // The path, numbered: entry, lock taken, the NULL test, the release
    // (the "VMA obtained here" label is the lock step's place, so shown once).
    let related = d["relatedInformation"].as_array().unwrap();
    assert_eq!(related.len(), 4, "{related:?}");
    let lines: Vec<&Value> = related
        .iter()
        .map(|r| &r["location"]["range"]["start"]["line"])
        .collect();
    assert_eq!(lines, [0, 5, 6, 8], "{related:?}");
    assert_eq!(related[3]["location"]["uri"], URI);
    assert_eq!(related[3]["location"]["range"], range(8, 1, 8, 18));
    assert_eq!(
        related[3]["message"],
        "(4) `vma_end_read()` releases the per-VMA lock"
    );
    assert!(related[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("(2) `lock_vma_under_rcu()`"));

    // Fix it with two range edits: read the flags before the unlock.
    s.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [
                {"range": range(9, 0, 10, 0), "text": ""},
                {"range": range(8, 0, 8, 0), "text": "\tshared = vma->vm_flags & VM_SHARED;\n"},
            ]
        }),
    );
    let m = s.wait_for("cleared diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == URI
    });
    assert_eq!(m["params"]["diagnostics"], json!([]), "{m}");
    assert_eq!(m["params"]["version"], 2);
    assert!(s.shutdown_and_exit().success());
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let mut s = Server::start();
    let init = s.initialize(
        json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
        None,
    );
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    s.open(URI, BUGGY);
    let diags = s.diagnostics(URI);
    // 19 characters before `vma`: 'é' is 2 bytes, the emoji 4.
    assert_eq!(diags[0]["range"], range(9, 23, 9, 36));
    assert!(s.shutdown_and_exit().success());
}

const MANUAL_RELEASE: &str = "\
static vm_fault_t release_it(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)
\t\tvma_end_read(vmf->vma);
\telse
\t\tmmap_read_unlock(vmf->vma->vm_mm);
\treturn VM_FAULT_RETRY;
}
";

#[test]
fn code_action_offers_the_quick_fix() {
    let mut s = Server::start();
    s.initialize(json!({}), None);
    s.open(URI, MANUAL_RELEASE);
    let diags = s.diagnostics(URI);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "manual_fault_lock_release");
    assert_eq!(diags[0]["severity"], 2);
    let r = s.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": URI},
            "range": range(3, 3, 3, 3),
            "context": {"diagnostics": diags},
        }),
    );
    let actions = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(actions.len(), 1, "{actions:?}");
    let a = &actions[0];
    assert_eq!(a["kind"], "quickfix");
    assert_eq!(a["isPreferred"], true);
    assert_eq!(a["diagnostics"][0]["code"], "manual_fault_lock_release");
    let edits = a["edit"]["changes"][URI].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], "release_fault_lock(vmf);");
    assert_eq!(edits[0]["range"], range(2, 1, 5, 36));

    // Applying the edit removes the warning.
    s.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [{"range": edits[0]["range"], "text": "release_fault_lock(vmf);"}]
        }),
    );
    assert_eq!(s.diagnostics(URI), Vec::<Value>::new());
    // No diagnostics left, no actions.
    let r = s.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": range(2, 0, 3, 0), "context": {"diagnostics": []}}),
    );
    assert_eq!(r["result"], json!([]));
    assert!(s.shutdown_and_exit().success());
}

#[test]
fn workspace_files_give_interprocedural_context() {
    // The helper that drops the lock lives in another file of the
    // workspace; the open file's use after it is only a bug with it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("helper.c"),
        "void drop_it(struct vm_area_struct *vma)\n{\n\tvma_end_read(vma);\n}\n",
    )
    .unwrap();
    let root = url_of(dir.path());
    let uri = format!("{root}/user.c");
    let text = "\
static int user(struct mm_struct *mm, unsigned long addr)
{
\tstruct vm_area_struct *vma = lock_vma_under_rcu(mm, addr);

\tif (!vma)
\t\treturn 0;
\tdrop_it(vma);
\treturn vma->vm_flags & VM_SHARED;
}
";
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    s.open(&uri, text);
    // The open file is checked on its own first (without the helper it is
    // clean), then with the workspace.
    assert_eq!(s.diagnostics(&uri), Vec::<Value>::new());
    let diags = s.diagnostics(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "vma_use_after_unlock");
    assert_eq!(diags[0]["range"]["start"]["line"], 7);
    // Closing a file that is not on disk clears its diagnostics.
    s.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(s.diagnostics(&uri), Vec::<Value>::new());
    assert!(s.shutdown_and_exit().success());
}

fn url_of(p: &std::path::Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

#[test]
fn workspace_files_with_findings_are_published_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bug.c"), BUGGY).unwrap();
    let root = url_of(dir.path());
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    let diags = s.diagnostics(&format!("{root}/bug.c"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "vma_use_after_unlock");
    assert!(s.shutdown_and_exit().success());
}

fn error_code(m: &Value) -> i64 {
    m["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {m}"))
}

#[test]
fn malformed_messages_get_errors_and_the_server_lives_on() {
    let mut s = Server::start();
    // Before initialize: ServerNotInitialized.
    let r = s.request("textDocument/codeAction", json!({}));
    assert_eq!(error_code(&r), -32002);
    s.initialize(json!({}), None);

    // Invalid JSON: a parse error with a null id.
    s.write_raw(b"Content-Length: 9\r\n\r\n{\"jsonrpc");
    let r = s.wait_for("parse error", |m| m.get("error").is_some());
    assert_eq!(error_code(&r), -32700);
    assert_eq!(r["id"], Value::Null);
    // A header block without Content-Length.
    s.write_raw(b"Content-Type: x\r\n\r\n");
    let r = s.wait_for("parse error", |m| m.get("error").is_some());
    assert_eq!(error_code(&r), -32700);
    // Valid JSON that is not a message: InvalidRequest with its id.
    s.send(json!({"jsonrpc": "2.0", "id": 99, "method": 12}));
    let r = s.wait_for("invalid request", |m| m["id"] == 99);
    assert_eq!(error_code(&r), -32600);
    // Unknown request: MethodNotFound.
    let r = s.request("faultlock/unknown", json!({}));
    assert_eq!(error_code(&r), -32601);
    // Parameters of the wrong shape: InvalidParams.
    let r = s.request("textDocument/codeAction", json!({"textDocument": 3}));
    assert_eq!(error_code(&r), -32602);
    let r = s.request("initialize", json!({"capabilities": {}}));
    assert_eq!(error_code(&r), -32600, "second initialize: {r}");
    // Notifications that cannot be handled are logged and ignored.
    s.notify("faultlock/unknownNotification", json!({}));
    s.notify("textDocument/didOpen", json!({"textDocument": "x"}));
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///never/opened.c", "version": 3},
               "contentChanges": [{"text": "x"}]}),
    );
    // Out-of-range positions are clamped.
    s.open(URI, BUGGY);
    assert_eq!(s.diagnostics(URI).len(), 1);
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2},
               "contentChanges": [{"range": range(999, 5, 1000, 0), "text": "\n/* end */\n"},
                                  {"range": range(0, 500, 0, 900), "text": " \n"}]}),
    );
    // One line was added above the finding.
    let d = s.diagnostics(URI);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["range"]["start"]["line"], 10, "{d:?}");
    let r = s.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": range(4000, 0, 4000, 9), "context": {"diagnostics": []}}),
    );
    assert_eq!(r["result"], json!([]), "{r}");

    // Shutdown, then requests are invalid, then exit: status 0.
    let r = s.request("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null);
    let r = s.request("textDocument/codeAction", json!({}));
    assert_eq!(error_code(&r), -32600);
    s.notify("exit", Value::Null);
    let status = s.finish();
    assert_eq!(status.code(), Some(0));
    let log = s.stderr();
    assert!(log.contains("unknownNotification"), "{log}");
    assert!(log.contains("not open"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn every_checked_version_of_an_open_document_is_published() {
    let mut s = Server::start();
    s.initialize(json!({}), None);
    // A clean file: an empty list says it was checked.
    s.open(
        URI,
        MANUAL_RELEASE
            .replace("vma_end_read(vmf->vma)", "x()")
            .as_str(),
    );
    assert_eq!(s.diagnostics(URI), Vec::<Value>::new());
    // An edit that changes no finding is published too, with its version.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2},
               "contentChanges": [{"range": range(0, 0, 0, 0), "text": "\n"}]}),
    );
    let m = s.wait_for("version 2", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2
    });
    assert_eq!(m["params"]["diagnostics"], json!([]));
    assert!(s.shutdown_and_exit().success());
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut s = Server::start();
    s.initialize(json!({}), None);
    s.notify("exit", Value::Null);
    assert_eq!(s.finish().code(), Some(1));
    // End of input without shutdown: also 1.
    let mut s = Server::start();
    s.initialize(json!({}), None);
    assert_eq!(s.finish().code(), Some(1));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.below(3) == 0),
        2 => json!(rng.next() as i64 % 2000 - 1000),
        3 => json!(rng
            .pick(&["", "x", URI, "file:///a b.c", "é😀", "\u{0}"])
            .to_string()),
        4 => json!(rng.next() as f64 / 7.0),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "textDocument",
                "uri",
                "text",
                "version",
                "range",
                "start",
                "end",
                "line",
                "character",
                "contentChanges",
                "capabilities",
                "context",
                "diagnostics",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                m.insert(rng.pick(&keys).to_string(), random_value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

#[test]
fn random_messages_never_kill_the_server() {
    let methods = [
        "initialize",
        "initialized",
        "textDocument/didOpen",
        "textDocument/didChange",
        "textDocument/didClose",
        "textDocument/didSave",
        "textDocument/codeAction",
        "textDocument/hover",
        "$/cancelRequest",
        "workspace/didChangeConfiguration",
    ];
    let mut rng = Rng(0x5eed_fa17_10c4);
    let mut s = Server::start();
    s.initialize(json!({}), None);
    s.open(URI, BUGGY);
    for i in 0..300 {
        let method = *rng.pick(&methods);
        let mut m =
            json!({"jsonrpc": "2.0", "method": method, "params": random_value(&mut rng, 0)});
        if rng.below(2) == 0 {
            m["id"] = json!(10_000 + i);
        }
        if method == "textDocument/didChange" && rng.below(2) == 0 {
            // A well-formed change with random positions.
            let mut p = || json!({"line": rng.below(20), "character": rng.below(80)});
            let r = json!({"start": p(), "end": p()});
            m["params"] = json!({"textDocument": {"uri": URI, "version": i},
                                 "contentChanges": [{"range": r, "text": "é😀\n"}]});
        }
        s.send(m);
    }
    // Framing garbage too, closed with a complete header block.
    for _ in 0..50 {
        let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        s.write_raw(&bytes);
    }
    s.write_raw(b"\r\n\r\n");
    // The server still answers (its state may be anything but alive): a
    // request may take a few tries, its first bytes may complete garbage.
    let mut answered = false;
    for _ in 0..5 {
        let id = s.next_id;
        s.next_id += 1;
        s.send(json!({"jsonrpc": "2.0", "id": id, "method": "faultlock/ping"}));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match s.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(m) if m["id"] == id => {
                    answered = true;
                    break;
                }
                _ => {}
            }
        }
        if answered {
            break;
        }
    }
    assert!(
        answered,
        "no answer after random input; stderr:\n{}",
        s.stderr()
    );
    let log = s.stderr();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn arbitrary_bytes_never_crash_the_server() {
    let mut rng = Rng(0xdead_beef_1234);
    for case in 0..8 {
        let mut s = Server::start();
        let mut bytes: Vec<u8> = Vec::new();
        for _ in 0..rng.below(40) {
            match rng.below(4) {
                0 => bytes.extend(b"Content-Length: "),
                1 => bytes.extend(format!("{}\r\n\r\n", rng.below(100)).as_bytes()),
                2 => bytes.extend(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}"),
                _ => bytes.extend((0..rng.below(32)).map(|_| rng.next() as u8)),
            }
        }
        s.write_raw(&bytes);
        let status = s.finish();
        let log = s.stderr();
        assert!(!log.contains("panicked"), "case {case}: {log}");
        assert_eq!(status.code(), Some(1), "case {case}: {log}");
    }
}

#[test]
fn the_workspace_configuration_applies() {
    // faultlock.toml in the workspace folder turns the lint into a warning;
    // a broken one is logged and the defaults stay in force.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bug.c"), BUGGY).unwrap();
    std::fs::write(
        dir.path().join("faultlock.toml"),
        "[lints]\nvma_use_after_unlock = \"warning\"\n",
    )
    .unwrap();
    let root = url_of(dir.path());
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    let diags = s.diagnostics(&format!("{root}/bug.c"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["severity"], 2, "warning, as configured");
    assert!(s.shutdown_and_exit().success());

    std::fs::write(dir.path().join("faultlock.toml"), "[lintz]\n").unwrap();
    let mut s = Server::start();
    s.initialize(json!({}), Some(&root));
    let diags = s.diagnostics(&format!("{root}/bug.c"));
    assert_eq!(diags[0]["severity"], 1, "the default level");
    assert!(s.stderr().contains("faultlock.toml:1:"), "{}", s.stderr());
    assert!(s.shutdown_and_exit().success());
}

/// The two lints of issue 13 reach the editor like the others: a leaked
/// mmap_lock on an error return and an unlocked `vm_policy` store, each with
/// its labels, both gone once the code is fixed.
#[test]
fn leak_and_unlocked_vma_store_are_published() {
    const SRC: &str = "\
static int f(struct mm_struct *mm, unsigned long a, struct mempolicy *p)
{
\tstruct vm_area_struct *vma;

\tif (mmap_write_lock_killable(mm))
\t\treturn -EINTR;
\tvma = vma_lookup(mm, a);
\tif (!vma)
\t\treturn -EFAULT;
\tvma->vm_policy = p;
\tmmap_write_unlock(mm);
\treturn 0;
}
";
    let mut s = Server::start();
    s.initialize(json!({}), None);
    s.open(URI, SRC);
    let diags = s.diagnostics(URI);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["lock_leaked_on_return", "vma_written_without_write_lock"],
        "{diags:?}"
    );
    assert_eq!(diags[0]["range"]["start"]["line"], 8, "{}", diags[0]);
    assert_eq!(diags[0]["severity"], 1);
    // The path, numbered: it reaches the acquisition at line 4.
    let related = diags[0]["relatedInformation"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["location"]["range"]["start"]["line"] == 4),
        "{}",
        diags[0]
    );
    assert_eq!(diags[1]["range"], range(9, 1, 9, 15), "{}", diags[1]);
    let fixed = SRC.replace("\t\treturn -EFAULT;", "\t\tgoto out;").replace(
        "\tvma->vm_policy = p;\n",
        "\tvma_start_write(vma);\n\tvma->vm_policy = p;\nout:\n",
    );
    s.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [{"text": fixed}]
        }),
    );
    let m = s.wait_for("cleared diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == URI
    });
    assert_eq!(m["params"]["diagnostics"], json!([]), "{m}");
    assert!(s.shutdown_and_exit().success());
}
