//! faultlock diagnostics → LSP diagnostics and quick fixes.

use crate::diag::{self, Applicability, Level};
use crate::source::Span;
use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    Location, NumberOrString, Range, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;

/// A quick fix ready to offer: the diagnostic it fixes and its edit.
#[derive(Debug, Clone)]
pub struct Fix {
    pub diagnostic: Diagnostic,
    pub title: String,
    pub edit: TextEdit,
    pub preferred: bool,
}

impl Fix {
    pub fn to_code_action(&self, uri: &Uri) -> CodeAction {
        CodeAction {
            title: self.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![self.diagnostic.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![self.edit.clone()])])),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(self.preferred),
            ..CodeAction::default()
        }
    }
}

/// Turns a file's path and a span into its URI and LSP range.
pub type Locate<'a> = dyn Fn(&str, Span) -> Option<(Uri, Range)> + 'a;

/// Convert one diagnostic and its quick fix when it has a suggestion.
pub fn diagnostic(d: &diag::Diagnostic, locate: &Locate) -> Option<(Diagnostic, Option<Fix>)> {
    let (_, range) = locate(&d.file, d.span)?;
    let (steps, rest) = crate::render::numbered_steps(d);
    let related: Vec<DiagnosticRelatedInformation> = steps
        .iter()
        .chain(rest)
        .filter_map(|l| {
            let (uri, r) = locate(&l.file, l.span)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, r),
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(s) = &d.suggestion {
        message.push_str(&format!("\nhelp: {}", s.message));
    }
    let out = Diagnostic {
        range,
        severity: Some(match d.level {
            Level::Error => DiagnosticSeverity::ERROR,
            Level::Warning | Level::Allow => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.lint.to_string())),
        source: Some("faultlock".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    };
    let fix = d.suggestion.as_ref().and_then(|s| {
        Some(Fix {
            diagnostic: out.clone(),
            title: s.message.clone(),
            edit: TextEdit::new(locate(&d.file, s.span)?.1, s.replacement.clone()),
            preferred: s.applicability == Applicability::MachineApplicable,
        })
    });
    Some((out, fix))
}

/// Whether two ranges overlap or touch (a cursor at either end of a
/// diagnostic asks for its fixes).
pub fn touches(a: Range, b: Range) -> bool {
    let key = |p: lsp_types::Position| (p.line, p.character);
    key(a.start) <= key(b.end) && key(b.start) <= key(a.end)
}
