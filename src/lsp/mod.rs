//! `faultlock lsp`: a Language Server over stdio.
//!
//! * [`transport`]: `Content-Length` framing that survives malformed input;
//! * [`server`]: the main loop (lifecycle, documents, code actions);
//! * [`worker`]: the checking thread (debouncing, stale checks dropped);
//! * [`workspace`]: the files checked together, with cached IR;
//! * [`incremental`]: re-lowering one edited function body;
//! * [`convert`]: diagnostics → LSP diagnostics and quick fixes;
//! * [`text`]: UTF-16/UTF-8 positions and incremental edits.

pub mod convert;
pub mod incremental;
pub mod server;
pub mod text;
pub mod transport;
pub mod worker;
pub mod workspace;

/// Serve the protocol on stdin/stdout (logs go to stderr). Returns the
/// process exit code: 0 after `shutdown` then `exit`, 1 when the session
/// ended without `shutdown`.
pub fn run_stdio() -> i32 {
    let (tx, rx) = crossbeam_channel::unbounded();
    // The reader thread blocks on stdin; it is not joined.
    transport::spawn_reader(std::io::BufReader::new(std::io::stdin()), tx);
    let (out, writer) = transport::spawn_writer(std::io::stdout());
    let code = server::Server::new(out).serve(rx);
    let _ = writer.join();
    code
}
