//! The progress bar of long runs: on stderr, only when stderr is a terminal,
//! and only once a run has lasted [`DELAY`] (short runs print nothing).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a run goes without a bar; `FAULTLOCK_PROGRESS_DELAY_MS`
/// overrides it (the tests use 0).
pub const DELAY: Duration = Duration::from_secs(1);

/// A bar that stays hidden until the delay has passed.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Set when the run is over; the revealing thread checks it under the
    /// lock, so a finished bar is never drawn again.
    done: Arc<Mutex<bool>>,
    stop: Option<crossbeam_channel::Sender<()>>,
}

impl Progress {
    /// A bar when `enabled` and stderr is a terminal; otherwise one that
    /// does nothing.
    pub fn new(enabled: bool) -> Progress {
        let done = Arc::new(Mutex::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                done,
                stop: None,
            };
        }
        let delay = std::env::var("FAULTLOCK_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(bar_style());
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let (b, d) = (bar.clone(), done.clone());
        std::thread::spawn(move || {
            if rx.recv_timeout(delay).is_ok() {
                return;
            }
            let done = d.lock().unwrap_or_else(|e| e.into_inner());
            if !*done {
                b.set_draw_target(ProgressDrawTarget::stderr());
                b.tick();
                b.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Progress {
            bar: Some(bar),
            done,
            stop: Some(tx),
        }
    }

    /// Start a phase (`reading`, `parsing`) over `len` files.
    pub fn phase(&self, name: &str, len: usize) {
        if let Some(b) = &self.bar {
            b.set_style(bar_style());
            b.set_prefix(name.to_string());
            b.set_length(len as u64);
            b.set_position(0);
        }
    }

    /// Start a phase that counts nothing (the analysis of `len` files): a
    /// spinner.
    pub fn busy(&self, name: &str, len: usize) {
        if let Some(b) = &self.bar {
            b.set_style(
                ProgressStyle::with_template("{prefix:>9} {spinner} {msg}")
                    .expect("a valid template"),
            );
            b.set_prefix(name.to_string());
            b.set_message(format!("{len} files"));
        }
    }

    /// One more file done in the current phase.
    pub fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Remove the bar (before the findings and the summary are printed).
    pub fn finish(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        *done = true;
        if let Some(tx) = &self.stop {
            let _ = tx.try_send(());
        }
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} files")
        .expect("a valid template")
        .progress_chars("=> ")
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
