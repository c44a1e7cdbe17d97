//! Re-check latency of `faultlock lsp` after an edit of an `mm/memory.c`-
//! sized file (~6,500 lines; see `common/mod.rs`). Target: re-check ≤ 0.1×
//! a cold `faultlock check` of the same file (issue 15).
//!
//! * `recheck_after_edit`: the server's own code path, in process — the
//!   worker stores the edited text, re-lowers that file only, analyses and
//!   lints the workspace with the cached IR of the other files, and diffs
//!   the diagnostics against those last published.
//! * `end_to_end` (printed before the table): the real binary over
//!   JSON-RPC, from sending `didChange` to receiving the diagnostics of
//!   that version; this includes the worker's debounce
//!   (`faultlock::lsp::worker::DEBOUNCE`).
//!
//! `FAULTLOCK_BENCH_WORKSPACE=dir` indexes `dir` as the workspace first
//! (e.g. the corpus's `mm/`, with `FAULTLOCK_BENCH_INPUT` set to its
//! `memory.c`), to see how the whole-workspace analysis scales.
//!
//! Run with `cargo bench --bench lsp_latency`.

mod common;
#[path = "../tests/support/framing.rs"]
mod framing;

use common::input;
use faultlock::check::CheckOptions;
use faultlock::lsp::text::Encoding;
use faultlock::lsp::worker;
use faultlock::lsp::workspace::{path_to_uri, Workspace};
use framing::{frame, read_message};
use lsp_types::Uri;
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The binaries' allocator, so that in-process times match theirs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let (a, b) = versions();
    eprintln!(
        "input: {} ({} lines); each edit inserts one line in the middle",
        input().file.path,
        a.lines().count()
    );
    phases(&a, &b, 10);
    if let Some(ms) = end_to_end(&a, &b, 20) {
        eprintln!(
            "end to end through `faultlock lsp` (debounce {} ms included): median {ms:.1} ms over 20 edits",
            worker::DEBOUNCE.as_millis()
        );
        if let Some((cold, lo, hi)) = cold_check(&a, 9) {
            eprintln!(
                "cold `faultlock check` of the same file: median {cold:.1} ms (min {lo:.1}, max {hi:.1}) over 9 runs; \
                 re-check / cold check = {:.2} (target 0.10)",
                ms / cold
            );
        }
    }
    divan::main();
}

/// The input, and the input with one line inserted in its middle (so every
/// finding below it moves and its diagnostics are published again).
fn versions() -> (Arc<str>, Arc<str>) {
    let text = &*input().file.text;
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid += 1;
    }
    let at = text[mid..].find('\n').map_or(text.len(), |i| mid + i + 1);
    let b = format!("{}\n{}", &text[..at], &text[at..]);
    (Arc::from(text), Arc::from(b))
}

fn uri() -> Uri {
    let path = std::path::absolute(&*input().file.path).unwrap_or_else(|_| "/memory.c".into());
    path_to_uri(&path).unwrap_or_else(|| Uri::from_str("file:///memory.c").unwrap())
}

fn workspace() -> Workspace {
    let mut ws = Workspace::new(
        input().model.clone(),
        CheckOptions::default(),
        Encoding::Utf16,
    );
    if let Some(dir) = std::env::var_os("FAULTLOCK_BENCH_WORKSPACE") {
        let dir = std::path::absolute(PathBuf::from(dir)).expect("workspace path");
        for e in ws.index(&[dir]) {
            eprintln!("{e}");
        }
    }
    ws
}

/// The worker's re-check after `didChange`, in process.
#[divan::bench(sample_count = 30)]
fn recheck_after_edit(bencher: divan::Bencher) {
    let (a, b) = versions();
    let uri = uri();
    let mut ws = workspace();
    ws.set_text(uri.clone(), a.clone(), 1);
    worker::recheck(&mut ws, &|| false);
    let mut version = 1;
    bencher.bench_local(|| {
        version += 1;
        let text = if version % 2 == 0 { &b } else { &a };
        ws.set_text(uri.clone(), text.clone(), version);
        worker::recheck(&mut ws, &|| false).expect("not stale")
    });
}

/// Median time of each phase of the re-check, printed.
fn phases(a: &Arc<str>, b: &Arc<str>, edits: usize) {
    let uri = uri();
    let mut ws = workspace();
    ws.set_text(uri.clone(), a.clone(), 1);
    worker::recheck(&mut ws, &|| false);
    let mut times: [Vec<f64>; 3] = Default::default();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let cpu_start = cpu_ms();
    for version in 2..2 + edits as i32 {
        let text = if version % 2 == 0 { b } else { a };
        ws.set_text(uri.clone(), text.clone(), version);
        let t = Instant::now();
        ws.relower();
        times[0].push(ms(t));
        let t = Instant::now();
        let report = ws.check();
        times[1].push(ms(t));
        let t = Instant::now();
        ws.diff(&report);
        times[2].push(ms(t));
    }
    let cpu = cpu_start.zip(cpu_ms()).map(|(a, b)| (b - a) / edits as f64);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "re-check phases, median of {edits}: re-lower the edited file {:.1} ms, analysis and lints {:.1} ms, diff {:.1} ms",
        median(&mut times[0]),
        median(&mut times[1]),
        median(&mut times[2])
    );
    if let Some(cpu) = cpu {
        // Wall times above depend on what else runs on the machine; the
        // CPU time, summed over threads, does not.
        eprintln!("re-check CPU time (all threads), mean of {edits}: {cpu:.1} ms");
    }
}

/// CPU time of this process so far (user + system, every thread), from
/// `/proc/self/stat` in clock ticks of 10 ms; `None` off Linux.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// Median milliseconds from `didChange` to its diagnostics, through the
/// binary; `None` (with a message) when the server cannot be driven.
fn end_to_end(a: &str, b: &str, edits: usize) -> Option<f64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut out = BufReader::new(child.stdout.take()?);
    let uri = uri();
    let mut send = |v: Value| stdin.write_all(&frame(&v)).and_then(|()| stdin.flush());
    // Waits for the diagnostics of `version` (bounded by a deadline).
    let mut wait = |version: i64| -> Option<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let m = read_message(&mut out)?;
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && m["params"]["version"] == version
            {
                return Some(());
            }
        }
        None
    };
    let mut times = Vec::new();
    let run = (|| -> Option<()> {
        send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"processId": null, "rootUri": null, "capabilities": {}}}))
        .ok()?;
        send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})).ok()?;
        send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri.as_str(), "languageId": "c", "version": 1, "text": a}}}),
        )
        .ok()?;
        wait(1)?;
        for i in 0..edits {
            let version = i as i64 + 2;
            let text = if version % 2 == 0 { b } else { a };
            let start = Instant::now();
            send(
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri.as_str(), "version": version},
                "contentChanges": [{"text": text}]}}),
            )
            .ok()?;
            wait(version)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        Some(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    if run.is_none() {
        eprintln!("end to end: the server did not answer as expected");
        return None;
    }
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied()
}

/// Median, min and max milliseconds of `faultlock check` on the input
/// written to a file of its own (process start and model loading
/// included, as a user running it would see); `None` when it cannot run.
fn cold_check(text: &str, runs: usize) -> Option<(f64, f64, f64)> {
    let dir = std::env::temp_dir().join(format!("faultlock-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let name = Path::new(&*input().file.path)
        .file_name()
        .map_or_else(|| "memory.c".into(), |n| n.to_os_string());
    let path = dir.join(name);
    std::fs::write(&path, text).ok()?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_faultlock"))
            .args(["check", "--format", "json"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        match status {
            Ok(s) if s.code().is_some_and(|c| c < 2) => {}
            other => {
                eprintln!("cold check: `faultlock check` failed ({other:?})");
                times.clear();
                break;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    times.sort_by(f64::total_cmp);
    let median = *times.get(times.len() / 2)?;
    Some((median, times[0], times[times.len() - 1]))
}
