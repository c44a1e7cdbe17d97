//! gcc-style one-line diagnostics: `file:line:col: error: message [lint]`,
//! then one `file:line:col: note: ...` line per label. Columns are display
//! columns, as gcc's default `-fdiagnostics-column-unit=display` and sparse
//! count them: a tab moves to the next multiple of the tab stop, a wide
//! character takes two columns; so editors jump to the right place on
//! tab-indented kernel code.

use super::Files;
use crate::diag::Diagnostic;
use std::io::{self, Write};
use unicode_width::UnicodeWidthChar;

/// gcc's default tab stop (`-ftabstop=8`).
pub const TABSTOP: usize = 8;

/// 1-based (line, display column) of byte `offset` in `path`; (1, 1) for a
/// file not in `files`.
pub fn display_line_col(files: &Files, path: &str, offset: u32, tabstop: usize) -> (usize, usize) {
    let Some(f) = files.get(path) else {
        return (1, 1);
    };
    let (line, _) = f.line_col(offset);
    let r = super::clamp(
        f,
        crate::source::Span::new(offset as usize, offset as usize),
    );
    let before = &f.text[..r.start];
    let line_text = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let tabstop = tabstop.max(1);
    let width = line_text.chars().fold(0usize, |col, c| match c {
        '\t' => (col / tabstop + 1) * tabstop,
        c => col + c.width().unwrap_or(1),
    });
    (line, width + 1)
}

/// Messages are kept on one line so that each finding stays grep-able.
fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

pub fn render(
    out: &mut dyn Write,
    diags: &[Diagnostic],
    files: &Files,
    tabstop: usize,
) -> io::Result<()> {
    for d in diags {
        let (line, col) = display_line_col(files, &d.file, d.span.start, tabstop);
        writeln!(
            out,
            "{}:{line}:{col}: {}: {} [{}]",
            d.file,
            d.level.as_str(),
            one_line(&d.message),
            d.lint
        )?;
        for l in &d.labels {
            let (line, col) = display_line_col(files, &l.file, l.span.start, tabstop);
            writeln!(
                out,
                "{}:{line}:{col}: note: {}",
                l.file,
                one_line(&l.message)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    #[test]
    fn format() {
        let mut out = Vec::new();
        render(
            &mut out,
            &[use_after_unlock(), manual_release()],
            &files(),
            8,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "dir/a.c:6:24: error: VMA `vma` used after its lock may have been released [vma_use_after_unlock]\n\
             dir/a.c:4:26: note: fault lock released here when this returns VM_FAULT_RETRY\n\
             dir/b.c:4:17: note: per-VMA lock released here\n\
             dir/b.c:3:9: warning: open-coded fault-lock release [manual_fault_lock_release]\n"
        );
    }

    #[test]
    fn display_columns_follow_tab_stops_and_wide_characters() {
        let f = Files::new([crate::source::SourceFile::new(
            "t.c",
            "\tx\n  \ty\n\u{4e2d}z\n",
        )]);
        assert_eq!(display_line_col(&f, "t.c", 1, 8), (1, 9));
        assert_eq!(display_line_col(&f, "t.c", 1, 4), (1, 5));
        // Two spaces then a tab still end at the tab stop.
        assert_eq!(display_line_col(&f, "t.c", 6, 8), (2, 9));
        // A CJK character is two columns wide.
        assert_eq!(display_line_col(&f, "t.c", 11, 8), (3, 3));
        assert_eq!(display_line_col(&f, "nope.c", 3, 8), (1, 1));
    }
}
