//! Re-check latency of `faultlock lsp` after one-line edits of an
//! `mm/memory.c`-sized file (~6,500 lines; see `common/mod.rs`). Target:
//! re-check ≤ 0.1× a cold `faultlock check` of the same file (issue 15).
//!
//! The edits are cumulative: each inserts one statement line in another
//! function, spread over the file (the first few warm the caches and are
//! not counted). Printed before the table:
//!
//! * the re-check's phases in process (re-lower, analysis and lints,
//!   diff), median and range over the edits, and its CPU time;
//! * end to end: the real binary over JSON-RPC, from sending `didChange`
//!   (an incremental change, as editors send it) to receiving the
//!   diagnostics of that version, median, range and every edit's time;
//!   this includes the worker's debounce
//!   (`faultlock::lsp::worker::DEBOUNCE`);
//! * a cold `faultlock check` of the file, and the ratio.
//!
//! `FAULTLOCK_BENCH_WORKSPACE=dir` makes `dir` the workspace (indexed in
//! process, `rootUri` for the binary), e.g. the corpus's `mm/`, with
//! `FAULTLOCK_BENCH_INPUT` set to its `memory.c`. `FAULTLOCK_STAGE_TIMES=1`
//! prints the analysis stages of each in-process check.
//!
//! `recheck_after_edit` (divan's table): the in-process re-check,
//! alternating between the input and its first edit.
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

/// One-line edits measured, each in another function.
const EDITS: usize = 12;
/// Edits made first and not counted (the first check after indexing
/// fills the caches).
const WARMUP: usize = 2;

fn main() {
    let edits = edits(WARMUP + EDITS);
    eprintln!(
        "input: {} ({} lines); each edit inserts one statement line in another function ({} edits, {} more to warm up)",
        input().file.path,
        input().file.text.lines().count(),
        EDITS,
        WARMUP
    );
    phases(&edits);
    if let Some(times) = end_to_end(&edits) {
        let (med, lo, hi) = spread(times.clone());
        eprintln!(
            "end to end through `faultlock lsp` (debounce {} ms included): median {med:.1} ms (min {lo:.1}, max {hi:.1}) over {} edits",
            worker::DEBOUNCE.as_millis(),
            times.len()
        );
        eprintln!("  per edit (ms): {}", fmt_list(&times));
        if let Some((cold, clo, chi)) = cold_check(&input().file.text, 9) {
            eprintln!(
                "cold `faultlock check` of the same file: median {cold:.1} ms (min {clo:.1}, max {chi:.1}) over 9 runs; \
                 re-check / cold check = {:.3} (min {:.3}, max {:.3}; target 0.10)",
                med / cold,
                lo / cold,
                hi / cold
            );
        }
    }
    divan::main();
}

/// Median, min and max.
fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|t| format!("{t:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One edit: the line inserted before (0-based, in the text before the
/// edit), and the text after it.
struct Edit {
    line: usize,
    text: Arc<str>,
}

const INSERTED: &str = "\tfaultlock_bench_edit();\n";

/// `n` cumulative one-line edits of the input, spread over the file, each
/// in another function: a statement line inserted before a statement that
/// follows another statement of the same body.
fn edits(n: usize) -> Vec<Edit> {
    let text = &*input().file.text;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let stmt = |l: &str| l.starts_with('\t') && l.trim_end().ends_with(';') && !l.contains('#');
    // Candidate lines, with the function each is in (counted by the `}`
    // lines that close bodies).
    let mut func = 0;
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for i in 1..lines.len() {
        if lines[i - 1].starts_with('}') {
            func += 1;
        }
        if stmt(lines[i - 1]) && stmt(lines[i]) {
            candidates.push((i, func));
        }
    }
    let mut picked: Vec<usize> = Vec::new();
    let mut last_func = None;
    for (k, &(line, f)) in candidates.iter().enumerate() {
        // Evenly spread, one per function.
        let slot = k * n / candidates.len().max(1);
        if slot >= picked.len() && last_func != Some(f) && picked.len() < n {
            picked.push(line);
            last_func = Some(f);
        }
    }
    let mut current: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut out = Vec::new();
    for (done, line) in picked.into_iter().enumerate() {
        // Earlier edits inserted `done` lines above this one.
        let at = line + done;
        current.insert(at, INSERTED.to_string());
        out.push(Edit {
            line: at,
            text: Arc::from(current.concat()),
        });
    }
    out
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

/// The worker's re-check after `didChange`, in process (alternating
/// between the input and its first edit).
#[divan::bench(sample_count = 30)]
fn recheck_after_edit(bencher: divan::Bencher) {
    let a: Arc<str> = input().file.text.clone();
    let b = edits(1).remove(0).text;
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

/// Median (min-max) time of each phase of the re-check over the edits,
/// in process, printed.
fn phases(edits: &[Edit]) {
    let uri = uri();
    let mut ws = workspace();
    ws.set_text(uri.clone(), input().file.text.clone(), 1);
    worker::recheck(&mut ws, &|| false);
    let mut times: [Vec<f64>; 4] = Default::default();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    let mut cpu_start = None;
    for (k, edit) in edits.iter().enumerate() {
        if k == WARMUP {
            cpu_start = cpu_ms();
        }
        ws.set_text(uri.clone(), edit.text.clone(), k as i32 + 2);
        let t0 = Instant::now();
        ws.relower();
        let t1 = Instant::now();
        let report = ws.check();
        let t2 = Instant::now();
        ws.diff(&report);
        let t3 = Instant::now();
        if k >= WARMUP {
            times[0].push(ms(t0, t1));
            times[1].push(ms(t1, t2));
            times[2].push(ms(t2, t3));
            times[3].push(ms(t0, t3));
        }
    }
    let n = edits.len() - WARMUP;
    let cpu = cpu_start.zip(cpu_ms()).map(|(a, b)| (b - a) / n as f64);
    let show = |v: &Vec<f64>| {
        let (m, lo, hi) = spread(v.clone());
        format!("{m:.1} ms ({lo:.1}-{hi:.1})")
    };
    eprintln!(
        "re-check phases in process, median (min-max) of {n}: re-lower the edited file {}, \
         analysis and lints {}, diff {}; total {}",
        show(&times[0]),
        show(&times[1]),
        show(&times[2]),
        show(&times[3])
    );
    if let Some(cpu) = cpu {
        // Wall times above depend on what else runs on the machine; the
        // CPU time, summed over threads, does not.
        eprintln!("re-check CPU time (all threads), mean of {n}: {cpu:.1} ms");
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

/// Milliseconds from each `didChange` (after the warm-up ones) to its
/// diagnostics, through the binary, with the workspace folder of
/// `FAULTLOCK_BENCH_WORKSPACE` if set; `None` (with a message) when the
/// server cannot be driven.
fn end_to_end(edits: &[Edit]) -> Option<Vec<f64>> {
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
    let root = std::env::var_os("FAULTLOCK_BENCH_WORKSPACE")
        .and_then(|d| std::path::absolute(PathBuf::from(d)).ok())
        .and_then(|d| path_to_uri(&d))
        .map(|u| u.as_str().to_string());
    let mut send = |v: Value| stdin.write_all(&frame(&v)).and_then(|()| stdin.flush());
    // Waits for the diagnostics of `version` (bounded by a deadline).
    let mut wait = |version: i64| -> Option<()> {
        let deadline = Instant::now() + Duration::from_secs(300);
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
                    "params": {"processId": null, "rootUri": root, "capabilities": {}}}))
        .ok()?;
        send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})).ok()?;
        send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri.as_str(), "languageId": "c", "version": 1,
                             "text": &*input().file.text}}}),
        )
        .ok()?;
        wait(1)?;
        for (k, edit) in edits.iter().enumerate() {
            let version = k as i64 + 2;
            let start = Instant::now();
            // The edit as an editor sends it: one inserted line.
            send(
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri.as_str(), "version": version},
                "contentChanges": [{"range": {"start": {"line": edit.line, "character": 0},
                                              "end": {"line": edit.line, "character": 0}},
                                    "text": INSERTED}]}}),
            )
            .ok()?;
            // The worker reads the workspace after the first check, so
            // the first edit's diagnostics also wait for that.
            wait(version)?;
            if k >= WARMUP {
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        Some(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    if run.is_none() {
        eprintln!("end to end: the server did not answer as expected");
        return None;
    }
    Some(times)
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
