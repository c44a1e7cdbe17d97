//! The checking thread. It owns the [`Workspace`]; the main loop sends it
//! document changes and never waits for it.
//!
//! Scheduling: after a change the worker keeps taking changes until none
//! has come for [`DEBOUNCE`] (a burst of keystrokes becomes one check),
//! then checks. The changed files are re-lowered as each change comes,
//! during that quiet time (an edit inside one function body re-lowers
//! that function, a few milliseconds: see `incremental`), so that the
//! check after it starts from lowered units. Every change carries a
//! generation number; the main loop stores the newest one in `latest`
//! before sending it. A check whose generation is older than `latest` is
//! stale — a newer change is already queued — so it is abandoned between
//! lowering and analysis and its results are never published.
//!
//! First check: the workspace folders are read only after the documents
//! opened with the session have been checked on their own and published,
//! so the first diagnostics do not wait for a large workspace.

use super::transport::Outgoing;
use super::workspace::{DocFixes, Workspace};
use lsp_server::{Message, Notification};
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::Uri;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Quiet time after a change before it is checked: enough to take the
/// changes an editor sends in one burst (a paste, a multi-cursor edit)
/// together; a re-check costs about as much, and one made stale by a
/// later change is dropped (see the module comment).
pub const DEBOUNCE: Duration = Duration::from_millis(5);

/// How long the workspace folders wait to be read for a first document
/// to open, so that the first check is of that document alone (editors
/// open one right after `initialized`). A session that opens nothing gets
/// the workspace's diagnostics this much later.
pub const INDEX_GRACE: Duration = Duration::from_millis(500);

pub enum Job {
    /// Read the workspace folders (after the documents opened meanwhile
    /// are checked).
    Index(Vec<PathBuf>),
    /// A document's full text after `didOpen`/`didChange`.
    Text {
        uri: Uri,
        text: Arc<str>,
        version: i32,
        generation: u64,
    },
    Close {
        uri: Uri,
        generation: u64,
    },
}

/// What the worker shares with the main loop.
#[derive(Default)]
pub struct Shared {
    /// Generation of the newest change sent to the worker.
    pub latest: AtomicU64,
    /// Quick fixes of the last published check, by document URI.
    pub fixes: Mutex<HashMap<String, DocFixes>>,
}

/// The server's log: stderr, which editors show in their LSP log.
pub fn log(message: String) {
    eprintln!("faultlock lsp: {message}");
}

/// Run jobs until the channel closes.
pub fn run(
    ws: Workspace,
    jobs: crossbeam_channel::Receiver<Job>,
    out: crossbeam_channel::Sender<Outgoing>,
    shared: Arc<Shared>,
) {
    run_with(ws, jobs, out, shared, recheck);
}

/// A re-check: see [`recheck`].
type Recheck = fn(&mut Workspace, &dyn Fn() -> bool) -> Option<Checked>;

fn run_with(
    mut ws: Workspace,
    jobs: crossbeam_channel::Receiver<Job>,
    out: crossbeam_channel::Sender<Outgoing>,
    shared: Arc<Shared>,
    recheck: Recheck,
) {
    let mut generation = 0;
    // Workspace folders not read yet (see [`INDEX_GRACE`]).
    let mut pending: Option<Vec<PathBuf>> = None;
    while let Ok(job) = jobs.recv() {
        let mut arrived = Instant::now();
        apply(&mut ws, job, &mut generation, &mut pending);
        loop {
            let quiet = if pending.is_some() && !ws.has_open() {
                INDEX_GRACE
            } else {
                // Re-lower while waiting: the quiet time is counted from
                // the change's arrival, not from the end of this work.
                if pending.is_none() {
                    relower(&mut ws);
                }
                DEBOUNCE
            };
            match jobs.recv_deadline(arrived + quiet) {
                Ok(job) => {
                    arrived = Instant::now();
                    apply(&mut ws, job, &mut generation, &mut pending);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => break,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            }
        }
        let stale = || shared.latest.load(Ordering::SeqCst) > generation;
        if let Some(roots) = pending.take() {
            // The open documents first, on their own: their diagnostics
            // do not wait for the rest of the workspace to be read and
            // lowered; the check after indexing corrects them where the
            // other files' summaries matter.
            if ws.has_open() {
                publish(checked(&mut ws, &stale, recheck), &out, &shared);
            }
            for e in ws.index(&roots) {
                log(e);
            }
        }
        publish(checked(&mut ws, &stale, recheck), &out, &shared);
    }
}

/// Re-lower the changed files ahead of the check, catching a panic as
/// [`checked`] does.
fn relower(ws: &mut Workspace) {
    if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ws.relower())) {
        log(format!(
            "internal error while lowering: {}",
            crate::analysis::panic_message(&*e)
        ));
    }
}

/// Run `recheck`, catching a panic: a defect in a check must not take the
/// server down, its results are dropped and the previous diagnostics stay.
fn checked(ws: &mut Workspace, stale: &dyn Fn() -> bool, recheck: Recheck) -> Option<Checked> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| recheck(ws, stale))) {
        Ok(c) => c,
        Err(e) => {
            log(format!(
                "internal error while checking: {}",
                crate::analysis::panic_message(&*e)
            ));
            None
        }
    }
}

fn publish(checked: Option<Checked>, out: &crossbeam_channel::Sender<Outgoing>, shared: &Shared) {
    let Some((publish, fixes)) = checked else {
        return;
    };
    *shared.fixes.lock().unwrap_or_else(|e| e.into_inner()) = fixes;
    for params in publish {
        let n = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        let _ = out.send(Outgoing::Message(Message::Notification(n)));
    }
}

type Checked = (
    Vec<lsp_types::PublishDiagnosticsParams>,
    HashMap<String, DocFixes>,
);

/// Re-lower what changed and check, unless the work became stale.
pub fn recheck(ws: &mut Workspace, stale: &dyn Fn() -> bool) -> Option<Checked> {
    ws.relower();
    if stale() {
        return None;
    }
    let report = ws.check();
    for e in &report.internal_errors {
        log(format!("internal error: {e}"));
    }
    if stale() {
        return None;
    }
    Some(ws.diff(&report))
}

fn apply(ws: &mut Workspace, job: Job, generation: &mut u64, pending: &mut Option<Vec<PathBuf>>) {
    match job {
        Job::Index(roots) if roots.is_empty() => {}
        Job::Index(roots) => pending.get_or_insert_with(Vec::new).extend(roots),
        Job::Text {
            uri,
            text,
            version,
            generation: g,
        } => {
            *generation = g;
            ws.set_text(uri, text, version);
        }
        Job::Close { uri, generation: g } => {
            *generation = g;
            ws.close(&uri);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckOptions;
    use crate::lsp::text::Encoding;
    use crate::model::LockModel;
    use std::str::FromStr;

    const BUG: &str = "static int f(struct mm_struct *mm)\n{\n\tstruct vm_area_struct *vma = lock_vma_under_rcu(mm, 0);\n\n\tif (!vma)\n\t\treturn 0;\n\tvma_end_read(vma);\n\treturn vma->vm_flags;\n}\n";

    /// Start a worker on an empty workspace, checking with `recheck`; it
    /// publishes to the returned receiver.
    fn start(
        jobs: crossbeam_channel::Receiver<Job>,
        shared: &Arc<Shared>,
        recheck: Recheck,
    ) -> (
        std::thread::JoinHandle<()>,
        crossbeam_channel::Receiver<Outgoing>,
    ) {
        let ws = Workspace::new(
            LockModel::builtin(),
            CheckOptions::default(),
            Encoding::Utf16,
        );
        let (out, published) = crossbeam_channel::unbounded();
        let shared = shared.clone();
        let worker = std::thread::spawn(move || run_with(ws, jobs, out, shared, recheck));
        (worker, published)
    }

    /// Send `text` as version `version` of `file:///x/f.c`, as the main
    /// loop does (the newest generation stored first).
    fn send(jobs: &crossbeam_channel::Sender<Job>, shared: &Shared, text: &str, version: i32) {
        shared.latest.store(version as u64, Ordering::SeqCst);
        let job = Job::Text {
            uri: Uri::from_str("file:///x/f.c").unwrap(),
            text: Arc::from(text),
            version,
            generation: version as u64,
        };
        jobs.send(job).unwrap();
    }

    #[test]
    fn a_panicking_check_leaves_the_worker_running() {
        static CALLS: AtomicU64 = AtomicU64::new(0);
        // Panics on the first check only.
        fn flaky(ws: &mut Workspace, stale: &dyn Fn() -> bool) -> Option<Checked> {
            if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("injected defect");
            }
            recheck(ws, stale)
        }
        let (jobs_tx, jobs) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::default());
        let (worker, published) = start(jobs, &shared, flaky);
        for version in 1..=2 {
            send(&jobs_tx, &shared, BUG, version);
            // The first check (which panics) happens on its own.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while CALLS.load(Ordering::SeqCst) < version as u64 {
                assert!(std::time::Instant::now() < deadline, "no check");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let note = published
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the second check publishes");
        drop(jobs_tx);
        worker.join().expect("the worker survives the panic");
        assert!(published.try_recv().is_err(), "one publication only");
        match &note {
            Outgoing::Message(Message::Notification(n)) => {
                assert_eq!(n.method, "textDocument/publishDiagnostics");
                assert_eq!(n.params["version"], 2);
                assert_eq!(n.params["diagnostics"][0]["code"], "vma_use_after_unlock");
            }
            _ => panic!("not a notification"),
        }
    }

    /// The changed file is lowered during the quiet time after a change,
    /// so the check finds nothing left to lower, and still checks (and
    /// publishes) the version that came last in a burst.
    #[test]
    fn changes_are_lowered_while_waiting_for_quiet() {
        static LEFT: AtomicU64 = AtomicU64::new(0);
        static CALLS: AtomicU64 = AtomicU64::new(0);
        fn observed(ws: &mut Workspace, stale: &dyn Fn() -> bool) -> Option<Checked> {
            CALLS.fetch_add(1, Ordering::SeqCst);
            if ws.needs_relower() {
                LEFT.fetch_add(1, Ordering::SeqCst);
            }
            recheck(ws, stale)
        }
        let (jobs_tx, jobs) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::default());
        let clean = BUG.replace("\treturn vma->vm_flags;\n", "\treturn 0;\n");
        send(&jobs_tx, &shared, &clean, 1);
        send(&jobs_tx, &shared, BUG, 2);
        // Both changes are queued before the worker starts: one burst.
        let (worker, published) = start(jobs, &shared, observed);
        let note = published
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a check publishes");
        drop(jobs_tx);
        worker.join().unwrap();
        assert_eq!(LEFT.load(Ordering::SeqCst), 0, "the check had to lower");
        assert_eq!(CALLS.load(Ordering::SeqCst), 1, "one check for the burst");
        match &note {
            Outgoing::Message(Message::Notification(n)) => {
                assert_eq!(n.params["version"], 2);
                assert_eq!(n.params["diagnostics"][0]["code"], "vma_use_after_unlock");
            }
            _ => panic!("not a notification"),
        }
    }
}
