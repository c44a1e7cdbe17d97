//! rustc's JSON diagnostic format (`--error-format=json`), one object per
//! line, so that tools that read rustc and cargo output (rust-analyzer's
//! flycheck, cargo's message parsers) show faultlock's findings. `cargo
//! faultlock --message-format json` wraps each in a cargo
//! `compiler-message` (see `driver::cargo`).

use super::{clamp, Files};
use crate::diag::{Applicability, Diagnostic, Level};
use crate::lints;
use crate::source::Span;
use serde_json::{json, Value};
use std::io::{self, Write};

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning | Level::Allow => "warning",
    }
}

/// A rustc `DiagnosticSpan`.
fn span(
    files: &Files,
    file: &str,
    sp: Span,
    primary: bool,
    label: Option<&str>,
    replacement: Option<(&str, Applicability)>,
) -> Value {
    let (line_start, column_start) = files.line_col(file, sp.start);
    let (line_end, column_end) = files.line_col(file, sp.end);
    let mut text = Vec::new();
    if let Some(f) = files.get(file) {
        let r = clamp(f, sp);
        let starts = f.line_starts();
        for line in line_start..=line_end {
            let Some(&ls) = starts.get(line - 1) else {
                break;
            };
            let le = starts.get(line).map_or(f.text.len(), |&e| e as usize);
            let lt = f.text[ls as usize..le].trim_end_matches(['\n', '\r']);
            let col = |off: usize| {
                f.text[ls as usize..off.clamp(ls as usize, ls as usize + lt.len())]
                    .chars()
                    .count()
                    + 1
            };
            text.push(json!({
                "text": lt,
                "highlight_start": col(r.start),
                "highlight_end": col(r.end),
            }));
        }
    }
    json!({
        "file_name": file,
        "byte_start": sp.start,
        "byte_end": sp.end,
        "line_start": line_start,
        "line_end": line_end,
        "column_start": column_start,
        "column_end": column_end,
        "is_primary": primary,
        "text": text,
        "label": label,
        "suggested_replacement": replacement.map(|(r, _)| r),
        "suggestion_applicability": replacement.map(|(_, a)| match a {
            Applicability::MachineApplicable => "MachineApplicable",
            Applicability::MaybeIncorrect => "MaybeIncorrect",
        }),
        "expansion": null,
    })
}

fn child(message: &str, level: &str, spans: Vec<Value>) -> Value {
    json!({
        "message": message,
        "code": null,
        "level": level,
        "spans": spans,
        "children": [],
        "rendered": null,
    })
}

/// One diagnostic as a rustc `Diagnostic` object.
pub fn diagnostic(d: &Diagnostic, files: &Files) -> Value {
    let mut spans = vec![span(files, &d.file, d.span, true, None, None)];
    for l in &d.labels {
        spans.push(span(files, &l.file, l.span, false, Some(&l.message), None));
    }
    // The path, step by step, as notes with their places (rustc's
    // "note: ..." children with a span).
    let (steps, _) = super::numbered_steps(d);
    let mut children: Vec<Value> = steps
        .iter()
        .map(|l| {
            let sp = span(files, &l.file, l.span, true, None, None);
            child(&l.message, "note", vec![sp])
        })
        .collect();
    children.extend(d.notes.iter().map(|n| child(n, "note", vec![])));
    if let Some(s) = &d.suggestion {
        let sp = span(
            files,
            &d.file,
            s.span,
            true,
            None,
            Some((&s.replacement, s.applicability)),
        );
        children.push(child(&s.message, "help", vec![sp]));
    }
    let mut rendered = Vec::new();
    // Rendering into memory cannot fail.
    let _ = super::human::render(&mut rendered, std::slice::from_ref(d), files, false);
    json!({
        "$message_type": "diagnostic",
        "message": d.message,
        "code": {
            "code": d.lint,
            "explanation": lints::find(d.lint).map(|l| l.doc),
        },
        "level": level(d.level),
        "spans": spans,
        "children": children,
        "rendered": String::from_utf8_lossy(&rendered),
    })
}

/// `--format rustc-json`: one rustc diagnostic per line.
pub fn render(out: &mut dyn Write, diags: &[Diagnostic], files: &Files) -> io::Result<()> {
    for d in diags {
        writeln!(out, "{}", diagnostic(d, files))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util;

    #[test]
    fn rustc_shape_with_labels_notes_and_suggestions() {
        let files = test_util::files();
        let v = diagnostic(&test_util::use_after_unlock(), &files);
        assert_eq!(v["level"], "error");
        assert_eq!(v["code"]["code"], "vma_use_after_unlock");
        let spans = v["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0]["is_primary"], true);
        assert_eq!(spans[0]["line_start"], 6);
        assert_eq!(spans[2]["file_name"], "dir/b.c");
        let t = &spans[0]["text"][0];
        assert!(t["highlight_start"].as_u64() < t["highlight_end"].as_u64());
        assert_eq!(v["children"][0]["level"], "note");
        assert!(v["rendered"]
            .as_str()
            .unwrap()
            .contains("vma_use_after_unlock"));
        let p = diagnostic(&test_util::with_path(test_util::use_after_unlock()), &files);
        let kids = p["children"].as_array().unwrap();
        assert!(kids[0]["message"].as_str().unwrap().starts_with("(1) "));
        assert_eq!(kids[1]["spans"][0]["line_start"], 4);
        assert_eq!(kids[2]["spans"].as_array().unwrap().len(), 0);
        let w = diagnostic(&test_util::manual_release(), &files);
        assert_eq!(w["level"], "warning");
        let help = &w["children"][0];
        assert_eq!(help["level"], "help");
        assert_eq!(
            help["spans"][0]["suggested_replacement"],
            "release_fault_lock(vmf);"
        );
        assert_eq!(
            help["spans"][0]["suggestion_applicability"],
            "MachineApplicable"
        );
    }
}
