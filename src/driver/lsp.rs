//! `faultlock lsp`: the language server on stdio (see `crate::lsp`).

/// Exit code: 0 after `shutdown` and `exit`, 1 when the client exited or
/// went away without `shutdown`.
pub fn run() -> i32 {
    crate::lsp::run_stdio()
}
