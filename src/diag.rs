//! The diagnostics type shared by every driver and renderer.

use crate::source::Span;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not reported (`-A`).
    Allow,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    MachineApplicable,
    MaybeIncorrect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: Arc<str>,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub message: String,
    /// Replaced range, in the diagnostic's file.
    pub span: Span,
    pub replacement: String,
    pub applicability: Applicability,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable lint id, e.g. `vma_use_after_unlock`.
    pub lint: &'static str,
    pub level: Level,
    pub file: Arc<str>,
    pub span: Span,
    pub message: String,
    /// Enclosing function, when there is one.
    pub function: Option<String>,
    /// Secondary spans: "per-VMA lock released here", "VMA obtained here".
    pub labels: Vec<Label>,
    /// The path to the finding, in execution order, ending before the
    /// finding itself: entry, lock taken, branch decisions, release. Shown
    /// numbered (human, LSP, rustc JSON) and as SARIF `codeFlows`.
    pub path: Vec<Label>,
    /// Free-form notes (call chains, "the lock may be dropped by ...").
    pub notes: Vec<String>,
    pub suggestion: Option<Suggestion>,
}
