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
            path: Vec::new(),
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

    /// Narrow `span` to the first dereference of `expr` in it (`expr->field`
    /// or `(*expr)`), or to the first whole-word occurrence of `expr`;
    /// `span` itself when neither is found.
    pub fn narrow(&self, file: usize, span: Span, expr: &str) -> Span {
        let text = self.files[file].snippet(span);
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let mut fallback = None;
        for (i, _) in text.match_indices(expr) {
            let before_ok = !text[..i].chars().next_back().is_some_and(word);
            let rest = &text[i + expr.len()..];
            if !before_ok || rest.chars().next().is_some_and(word) {
                continue;
            }
            let start = span.start as usize + i;
            if let Some(after) = rest.strip_prefix("->") {
                let field = after
                    .chars()
                    .take_while(|&c| word(c))
                    .map(char::len_utf8)
                    .sum::<usize>();
                return Span::new(start, start + expr.len() + 2 + field);
            }
            fallback.get_or_insert(Span::new(start, start + expr.len()));
        }
        fallback.unwrap_or(span)
    }

    /// Source text of a span.
    pub fn text(&self, file: usize, span: Span) -> &str {
        self.files[file].snippet(span)
    }
}
