//! `unused_suppression`: a `faultlock: allow(...)` comment that suppresses
//! nothing, names an unknown lint or cannot be read. The matching itself is
//! in `crate::suppress` (it runs after every other lint); this module words
//! the diagnostic.

use crate::diag::{Applicability, Diagnostic, Level, Suggestion};
use crate::source::{SourceFile, Span};

pub const ID: &str = "unused_suppression";

/// A diagnostic at `span`; `remove` is the whole comment when deleting it
/// is the fix.
pub(crate) fn diagnostic(
    file: &SourceFile,
    span: Span,
    function: Option<String>,
    message: String,
    remove: Option<Span>,
) -> Diagnostic {
    Diagnostic {
        lint: ID,
        level: Level::Warning,
        file: file.path.clone(),
        span,
        message,
        function,
        labels: Vec::new(),
        path: Vec::new(),
        notes: vec![
            "a suppression covers its own line when it follows code, else the next line, or the whole function it directly precedes".into(),
        ],
        suggestion: remove.map(|span| Suggestion {
            message: "remove the suppression".into(),
            span,
            replacement: String::new(),
            applicability: Applicability::MaybeIncorrect,
        }),
    }
}
