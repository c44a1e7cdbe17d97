//! What every lint reads.

use crate::analysis::Located;
use crate::diag::{Diagnostic, Label, Level};
use crate::ir::Unit;
use crate::model::LockModel;
use crate::source::{SourceFile, Span};

pub struct LintCx<'a> {
    pub files: &'a [SourceFile],
    pub units: &'a [Unit],
    pub findings: &'a [Located],
    pub model: &'a LockModel,
}

impl LintCx<'_> {
    /// A diagnostic skeleton at `span` in `file`; the level is set later
    /// from the effective lint levels.
    pub fn diag(
        &self,
        lint: &'static str,
        file: usize,
        function: Option<&str>,
        span: Span,
        message: String,
    ) -> Diagnostic {
        Diagnostic {
            lint,
            level: Level::Warning,
            file: self.files[file].path.clone(),
            span,
            message,
            function: function.map(str::to_string),
            labels: Vec::new(),
            notes: Vec::new(),
            suggestion: None,
        }
    }

    pub fn label(&self, file: usize, span: Span, message: String) -> Label {
        Label {
            file: self.files[file].path.clone(),
            span,
            message,
        }
    }

    /// Source text of a span.
    pub fn text(&self, file: usize, span: Span) -> &str {
        self.files[file].snippet(span)
    }
}
