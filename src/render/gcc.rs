//! gcc-style one-line diagnostics: `file:line:col: error: message [lint]`,
//! then one `file:line:col: note: ...` line per label.

use super::Files;
use crate::diag::Diagnostic;
use std::io::{self, Write};

/// Messages are kept on one line so that each finding stays grep-able.
fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

pub fn render(out: &mut dyn Write, diags: &[Diagnostic], files: &Files) -> io::Result<()> {
    for d in diags {
        let (line, col) = files.line_col(&d.file, d.span.start);
        writeln!(
            out,
            "{}:{line}:{col}: {}: {} [{}]",
            d.file,
            d.level.as_str(),
            one_line(&d.message),
            d.lint
        )?;
        for l in &d.labels {
            let (line, col) = files.line_col(&l.file, l.span.start);
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
        render(&mut out, &[use_after_unlock(), manual_release()], &files()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "dir/a.c:6:10: error: VMA `vma` used after its lock may have been released [vma_use_after_unlock]\n\
             dir/a.c:4:19: note: fault lock released here when this returns VM_FAULT_RETRY\n\
             dir/b.c:4:3: note: per-VMA lock released here\n\
             dir/b.c:3:2: warning: open-coded fault-lock release [manual_fault_lock_release]\n"
        );
    }
}
