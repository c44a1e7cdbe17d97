//! rustc/clippy-like human output through codespan-reporting.

use super::{clamp, Files};
use crate::diag::{Diagnostic, Level};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::Error as FilesError;
use codespan_reporting::term::{self, termcolor::Buffer, Chars, Config};
use std::io::{self, Write};
use std::ops::Range;

impl<'a> codespan_reporting::files::Files<'a> for Files {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(&self.by_id(id).path)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(&self.by_id(id).text)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        let starts = self.by_id(id).line_starts();
        Ok(match starts.binary_search(&(byte_index as u32)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        })
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        let file = self.by_id(id);
        let starts = file.line_starts();
        let len = file.text.len();
        let start = |i: usize| match i.cmp(&starts.len()) {
            std::cmp::Ordering::Less => Ok(starts[i] as usize),
            std::cmp::Ordering::Equal => Ok(len),
            std::cmp::Ordering::Greater => Err(FilesError::LineTooLarge {
                given: i,
                max: starts.len() - 1,
            }),
        };
        Ok(start(line_index)?..start(line_index + 1)?)
    }
}

/// Render every diagnostic, each followed by a blank line.
pub fn render(
    out: &mut dyn Write,
    diags: &[Diagnostic],
    files: &Files,
    color: bool,
) -> io::Result<()> {
    // ASCII art like rustc; also safe on any terminal and in logs.
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    let mut buf = if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    for d in diags {
        let cd = to_codespan(d, files);
        if term::emit_to_write_style(&mut buf, &config, files, &cd).is_err() {
            // Only reachable if a span is out of range after clamping; fall
            // back to a header so that no finding is lost.
            writeln!(
                buf,
                "{}[{}]: {}\n  --> {}\n",
                d.level.as_str(),
                d.lint,
                d.message,
                d.file
            )?;
        }
    }
    out.write_all(buf.as_slice())
}

/// The suggestion as a `help:` note showing the replacement.
pub(crate) fn help_note(message: &str, replacement: &str) -> String {
    if replacement.is_empty() {
        format!("help: {message}: remove this code")
    } else if replacement.contains('\n') {
        let body: Vec<String> = replacement.lines().map(|l| format!("    {l}")).collect();
        format!("help: {message}:\n{}", body.join("\n"))
    } else {
        format!("help: {message}: `{replacement}`")
    }
}

fn to_codespan(d: &Diagnostic, files: &Files) -> cs::Diagnostic<usize> {
    let severity = match d.level {
        Level::Error => cs::Severity::Error,
        Level::Warning | Level::Allow => cs::Severity::Warning,
    };
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    let (steps, rest) = super::numbered_steps(d);
    match files.id(&d.file) {
        Some(id) => {
            let mut l = cs::Label::primary(id, clamp(files.by_id(id), d.span));
            if !steps.is_empty() {
                l = l.with_message(format!("({}) here", steps.len() + 1));
            }
            labels.push(l)
        }
        None => notes.push(format!("in {}", d.file)),
    }
    for l in steps.iter().chain(rest) {
        match files.id(&l.file) {
            Some(id) => labels.push(
                cs::Label::secondary(id, clamp(files.by_id(id), l.span)).with_message(&l.message),
            ),
            None => notes.push(format!("{} (in {})", l.message, l.file)),
        }
    }
    notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
    if let Some(s) = &d.suggestion {
        if s.span != d.span {
            if let Some(id) = files.id(&d.file) {
                labels.push(
                    cs::Label::secondary(id, clamp(files.by_id(id), s.span))
                        .with_message("suggestion applies here"),
                );
            }
        }
        notes.push(help_note(&s.message, &s.replacement));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.lint)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    fn render_str(diags: &[Diagnostic], color: bool) -> String {
        let mut out = Vec::new();
        render(&mut out, diags, &files(), color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn snapshot_use_after_unlock() {
        assert_snapshot(
            "human_use_after_unlock",
            &render_str(&[use_after_unlock()], false),
        );
    }

    #[test]
    fn path_steps_are_numbered_in_order() {
        let d = with_path(use_after_unlock());
        let s = render_str(&[d], false);
        let one = s.find("(1) `f()` starts").expect("step 1");
        let two = s.find("(2) fault lock may be released").expect("step 2");
        assert!(s.contains("(3) here"), "{s}");
        assert!(one < two, "{s}");
        // A label that is also a step is shown once, numbered.
        assert_eq!(s.matches("fault lock released here when").count(), 0, "{s}");
        assert!(s.contains("per-VMA lock released here"), "{s}");
    }

    #[test]
    fn snapshot_suggestion() {
        assert_snapshot("human_suggestion", &render_str(&[manual_release()], false));
    }

    #[test]
    fn header_is_rustc_like() {
        let s = render_str(&[use_after_unlock()], false);
        assert!(
            s.starts_with("error[vma_use_after_unlock]: VMA `vma` used"),
            "{s}"
        );
        assert!(s.contains("dir/b.c"), "label in another file is shown: {s}");
        assert!(!s.contains('\x1b'));
    }

    #[test]
    fn color_adds_escapes() {
        assert!(render_str(&[use_after_unlock()], true).contains('\x1b'));
    }

    #[test]
    fn bad_spans_and_unknown_files_do_not_panic() {
        let mut d = use_after_unlock();
        d.span = crate::source::Span {
            start: 10_000,
            end: 5,
        };
        d.labels[0].file = "nowhere.c".into();
        let s = render_str(&[d.clone()], false);
        assert!(s.contains("nowhere.c"), "{s}");
        d.file = "missing.c".into();
        let s = render_str(&[d], false);
        assert!(s.contains("error[vma_use_after_unlock]"), "{s}");
    }
}
