//! The progress bar, in a real pseudo-terminal (`script(1)` runs the binary
//! with stdout and stderr on a pty): shown on a terminal once the run has
//! lasted the delay, never on a short run with the default delay, and never
//! when stderr is not a terminal.

mod common;

use common::{stderr, tree, UAF};
use std::process::Command;

/// Run `faultlock ARGS` under a pty in `dir`; the terminal's bytes.
fn on_a_tty(dir: &std::path::Path, args: &str, delay_ms: Option<&str>) -> (Option<i32>, String) {
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_faultlock"));
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("TERM", "xterm");
    match delay_ms {
        Some(ms) => c.env("FAULTLOCK_PROGRESS_DELAY_MS", ms),
        None => c.env_remove("FAULTLOCK_PROGRESS_DELAY_MS"),
    };
    let o = c
        .output()
        .expect("script(1) from util-linux runs the pty test");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn many_files() -> tempfile::TempDir {
    let files: Vec<(String, &str)> = (0..400).map(|i| (format!("d/f{i:03}.c"), UAF)).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    tree(&refs)
}

#[test]
fn the_bar_is_drawn_on_a_terminal_and_cleared_before_the_summary() {
    let d = many_files();
    let (code, screen) = on_a_tty(d.path(), "check d --format gcc", Some("0"));
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains(" files"), "no bar: {screen:?}");
    assert!(
        ["reading", "parsing", "analysing"]
            .iter()
            .any(|p| screen.contains(p)),
        "{screen:?}"
    );
    // The bar is erased (cursor to column 0, clear line) before the summary.
    assert!(screen.contains("\x1b[2K"), "{screen:?}");
    assert!(screen.contains("faultlock: 400 files"), "{screen:?}");
}

#[test]
fn no_bar_for_a_short_run_or_with_quiet() {
    let d = tree(&[("u.c", UAF)]);
    let (code, screen) = on_a_tty(d.path(), "check u.c --format gcc", None);
    assert_eq!(code, Some(1));
    assert!(
        !screen.contains("parsing") && !screen.contains("\x1b[2K"),
        "{screen:?}"
    );
    let d = many_files();
    let (_, screen) = on_a_tty(d.path(), "check -q d --format gcc", Some("0"));
    assert!(
        !screen.contains("parsing") && !screen.contains("faultlock: 400"),
        "{screen:?}"
    );
}

#[test]
fn no_bar_when_stderr_is_not_a_terminal() {
    let d = many_files();
    let o = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(["check", "d", "--format", "gcc"])
        .current_dir(d.path())
        .env("FAULTLOCK_PROGRESS_DELAY_MS", "0")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(err.starts_with("faultlock: 400 files"), "{err:?}");
}
