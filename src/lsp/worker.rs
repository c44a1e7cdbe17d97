//! The checking thread. It owns the [`Workspace`]; the main loop sends it
//! document changes and never waits for it.
//!
//! Scheduling: after a change the worker keeps taking changes until none
//! has come for [`DEBOUNCE`] (a burst of keystrokes becomes one check),
//! then re-lowers the changed files and checks. Every change carries a
//! generation number; the main loop stores the newest one in `latest`
//! before sending it. A check whose generation is older than `latest` is
//! stale — a newer change is already queued — so it is abandoned between
//! lowering and analysis and its results are never published.

use super::transport::Outgoing;
use super::workspace::{DocFixes, Workspace};
use lsp_server::{Message, Notification};
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::Uri;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Quiet time after a change before it is checked.
pub const DEBOUNCE: Duration = Duration::from_millis(30);

pub enum Job {
    /// Read the workspace folders.
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
    mut ws: Workspace,
    jobs: crossbeam_channel::Receiver<Job>,
    out: crossbeam_channel::Sender<Outgoing>,
    shared: Arc<Shared>,
) {
    let mut generation = 0;
    while let Ok(job) = jobs.recv() {
        apply(&mut ws, job, &mut generation);
        loop {
            match jobs.recv_timeout(DEBOUNCE) {
                Ok(job) => apply(&mut ws, job, &mut generation),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => break,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            }
        }
        let stale = || shared.latest.load(Ordering::SeqCst) > generation;
        // A defect in a check must not take the server down: the check's
        // results are dropped and the previous diagnostics stay.
        let checked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| recheck(&mut ws, &stale)));
        match checked {
            Ok(Some((publish, fixes))) => {
                *shared.fixes.lock().unwrap_or_else(|e| e.into_inner()) = fixes;
                for params in publish {
                    let n = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
                    let _ = out.send(Outgoing::Message(Message::Notification(n)));
                }
            }
            Ok(None) => {}
            Err(e) => log(format!(
                "internal error while checking: {}",
                crate::analysis::panic_message(&*e)
            )),
        }
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

fn apply(ws: &mut Workspace, job: Job, generation: &mut u64) {
    match job {
        Job::Index(roots) => {
            for e in ws.index(&roots) {
                log(e);
            }
        }
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
