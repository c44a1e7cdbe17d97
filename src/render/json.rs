//! JSON Lines: one object per diagnostic, in the documented key order.

use super::Files;
use crate::diag::{Applicability, Diagnostic, Level};
use serde::Serialize;
use std::io::{self, Write};

/// One line of `--format json`. Field order is the contract's key order.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub lint: &'a str,
    pub level: Level,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
    pub function: Option<&'a str>,
    pub related: Vec<JsonRelated<'a>>,
    pub suggestion: Option<JsonSuggestion<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonRelated<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct JsonSuggestion<'a> {
    pub message: &'a str,
    pub replacement: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub applicability: Applicability,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(d: &'a Diagnostic, files: &Files) -> Self {
        let (line, column) = files.line_col(&d.file, d.span.start);
        let (end_line, end_column) = files.line_col(&d.file, d.span.end);
        JsonDiagnostic {
            lint: d.lint,
            level: d.level,
            file: &d.file,
            line,
            column,
            end_line,
            end_column,
            message: &d.message,
            function: d.function.as_deref(),
            related: d
                .labels
                .iter()
                .map(|l| {
                    let (line, column) = files.line_col(&l.file, l.span.start);
                    JsonRelated {
                        file: &l.file,
                        line,
                        column,
                        message: &l.message,
                    }
                })
                .collect(),
            suggestion: d.suggestion.as_ref().map(|s| {
                let (line, column) = files.line_col(&d.file, s.span.start);
                let (end_line, end_column) = files.line_col(&d.file, s.span.end);
                JsonSuggestion {
                    message: &s.message,
                    replacement: &s.replacement,
                    line,
                    column,
                    end_line,
                    end_column,
                    applicability: s.applicability,
                }
            }),
        }
    }
}

pub fn render(out: &mut dyn Write, diags: &[Diagnostic], files: &Files) -> io::Result<()> {
    for d in diags {
        serde_json::to_writer(&mut *out, &JsonDiagnostic::new(d, files))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    fn lines(diags: &[Diagnostic]) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        render(&mut out, diags, &files()).unwrap();
        let s = String::from_utf8(out).unwrap();
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn exact_contract() {
        let mut out = Vec::new();
        render(&mut out, &[use_after_unlock()], &files()).unwrap();
        let expected = r#"{"lint":"vma_use_after_unlock","level":"error","file":"dir/a.c","line":6,"column":10,"end_line":6,"end_column":23,"message":"VMA `vma` used after its lock may have been released","function":"f","related":[{"file":"dir/a.c","line":4,"column":19,"message":"fault lock released here when this returns VM_FAULT_RETRY"},{"file":"dir/b.c","line":4,"column":3,"message":"per-VMA lock released here"}],"suggestion":null}"#;
        assert_eq!(String::from_utf8(out).unwrap(), format!("{expected}\n"));
    }

    #[test]
    fn suggestion_fields() {
        let v = &lines(&[manual_release()])[0];
        assert_eq!(v["level"], "warning");
        assert_eq!(v["function"], serde_json::Value::Null);
        let s = &v["suggestion"];
        assert_eq!(s["replacement"], "release_fault_lock(vmf);");
        assert_eq!(s["applicability"], "machine-applicable");
        assert_eq!((&s["line"], &s["column"]), (&3.into(), &2.into()));
        assert_eq!((&s["end_line"], &s["end_column"]), (&6.into(), &37.into()));
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), 7);
    }

    #[test]
    fn key_order() {
        let mut out = Vec::new();
        render(&mut out, &[manual_release()], &files()).unwrap();
        let s = String::from_utf8(out).unwrap();
        let order = [
            "\"lint\"",
            "\"level\"",
            "\"file\"",
            "\"line\"",
            "\"column\"",
            "\"end_line\"",
            "\"end_column\"",
            "\"message\"",
            "\"function\"",
            "\"related\"",
            "\"suggestion\"",
        ];
        let pos: Vec<usize> = order.iter().map(|k| s.find(k).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{s}");
        assert_eq!(s.lines().count(), 1);
    }
}
