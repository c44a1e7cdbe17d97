//! Renderers: diagnostics → bytes. One module per output format; all take
//! the (already sorted) diagnostics plus a [`Files`] lookup from path to
//! source, and never reorder or drop findings.

pub mod gcc;
pub mod human;
pub mod json;
pub mod reply;
pub mod rustc_json;
pub mod sarif;

use crate::diag::{Diagnostic, Label};
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::io::{self, Write};

/// Output format of `faultlock check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Gcc,
    /// SARIF 2.1.0, paths relative to the working directory.
    Sarif,
    /// rustc's JSON diagnostics, one per line.
    RustcJson,
}

/// The files a set of diagnostics points into, looked up by display path.
#[derive(Debug, Default)]
pub struct Files {
    files: Vec<SourceFile>,
    by_path: HashMap<std::sync::Arc<str>, usize>,
}

impl Files {
    pub fn new(files: impl IntoIterator<Item = SourceFile>) -> Files {
        let mut out = Files::default();
        for f in files {
            out.add(f);
        }
        out
    }

    /// Add a file; a later file with the same path replaces the earlier one.
    pub fn add(&mut self, file: SourceFile) -> usize {
        if let Some(&id) = self.by_path.get(&file.path) {
            self.files[id] = file;
            return id;
        }
        let id = self.files.len();
        self.by_path.insert(file.path.clone(), id);
        self.files.push(file);
        id
    }

    pub fn id(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.id(path).map(|id| &self.files[id])
    }

    /// Every file, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    pub fn by_id(&self, id: usize) -> &SourceFile {
        &self.files[id]
    }

    /// 1-based (line, column in characters) of a byte offset in `path`.
    /// A file that is not in the map gives (1, 1).
    pub fn line_col(&self, path: &str, offset: u32) -> (usize, usize) {
        self.get(path).map_or((1, 1), |f| f.line_col(offset))
    }
}

/// A span clamped to the file's text and widened to char boundaries, so that
/// a slightly-off span from an analysis bug still renders.
pub(crate) fn clamp(file: &SourceFile, span: Span) -> std::ops::Range<usize> {
    let text = &file.text;
    let mut s = (span.start as usize).min(text.len());
    let mut e = (span.end as usize).clamp(s, text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    s..e
}

/// The path of `d` as numbered steps (`(1) …`), each with its place, then
/// its labels that are not already a step (same place). Human output, LSP
/// related information and rustc JSON notes show these; the finding
/// itself is the step after the last.
pub fn numbered_steps(d: &Diagnostic) -> (Vec<Label>, Vec<&Label>) {
    let steps: Vec<Label> = d
        .path
        .iter()
        .enumerate()
        .map(|(i, l)| Label {
            message: format!("({}) {}", i + 1, l.message),
            ..l.clone()
        })
        .collect();
    let rest = d
        .labels
        .iter()
        .filter(|l| !d.path.iter().any(|p| p.file == l.file && p.span == l.span))
        .collect();
    (steps, rest)
}

/// Render `diags` in `format` to `out`. `color` only affects human output.
pub fn render(
    out: &mut dyn Write,
    format: Format,
    diags: &[Diagnostic],
    files: &Files,
    color: bool,
) -> io::Result<()> {
    render_with_tabstop(out, format, diags, files, color, gcc::TABSTOP)
}

/// [`render`] with the tab stop of gcc output's display columns.
pub fn render_with_tabstop(
    out: &mut dyn Write,
    format: Format,
    diags: &[Diagnostic],
    files: &Files,
    color: bool,
    tabstop: usize,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(out, diags, files, color),
        Format::Json => json::render(out, diags, files),
        Format::Gcc => gcc::render(out, diags, files, tabstop),
        Format::Sarif => {
            let cwd = std::env::current_dir().ok();
            sarif::render(out, diags, files, cwd.as_deref())
        }
        Format::RustcJson => rustc_json::render(out, diags, files),
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::diag::{Applicability, Diagnostic, Label, Level, Suggestion};
    use crate::render::Files;
    use crate::source::{SourceFile, Span};

    pub const SRC: &str = "\
static vm_fault_t f(struct vm_fault *vmf)
{
\tstruct vm_area_struct *vma = vmf->vma;
\tvm_fault_t ret = handle_userfault(vmf, VM_UFFD_MISSING);
\tif (ret & VM_FAULT_RETRY)
\t\treturn vma->vm_flags & VM_SHARED ? ret : ret;
\treturn ret;
}
";

    pub const SRC2: &str = "\
static void g(struct vm_fault *vmf)
{
\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)
\t\tvma_end_read(vmf->vma);
\telse
\t\tmmap_read_unlock(vmf->vma->vm_mm);
}
";

    /// Compare with `tests/snapshots/NAME.txt`; `UPDATE_SNAPSHOTS=1` rewrites it.
    pub fn assert_snapshot(name: &str, actual: &str) {
        let path = format!("{}/tests/snapshots/{name}.txt", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run with UPDATE_SNAPSHOTS=1 to create it)"));
        assert!(
            expected == actual,
            "snapshot {name} differs (UPDATE_SNAPSHOTS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}"
        );
    }

    pub fn span_of(src: &str, needle: &str) -> Span {
        let s = src.find(needle).expect("needle");
        Span::new(s, s + needle.len())
    }

    pub fn files() -> Files {
        Files::new([
            SourceFile::new("dir/a.c", SRC),
            SourceFile::new("dir/b.c", SRC2),
        ])
    }

    /// A use-after-unlock with a label in the same file and one in another.
    pub fn use_after_unlock() -> Diagnostic {
        Diagnostic {
            lint: "vma_use_after_unlock",
            level: Level::Error,
            file: "dir/a.c".into(),
            span: span_of(SRC, "vma->vm_flags"),
            message: "VMA `vma` used after its lock may have been released".into(),
            function: Some("f".into()),
            labels: vec![
                Label {
                    file: "dir/a.c".into(),
                    span: span_of(SRC, "handle_userfault(vmf, VM_UFFD_MISSING)"),
                    message: "fault lock released here when this returns VM_FAULT_RETRY".into(),
                },
                Label {
                    file: "dir/b.c".into(),
                    span: span_of(SRC2, "vma_end_read(vmf->vma)"),
                    message: "per-VMA lock released here".into(),
                },
            ],
            path: vec![],
            notes: vec!["the VMA may be freed as soon as its lock is dropped".into()],
            suggestion: None,
        }
    }

    /// `d` with a two-step path: the entry, then the first label's release.
    pub fn with_path(mut d: Diagnostic) -> Diagnostic {
        d.path = vec![
            Label {
                file: "dir/a.c".into(),
                span: {
                    let f = span_of(SRC, "f(struct").start as usize;
                    Span::new(f, f + 1)
                },
                message: "`f()` starts with the fault lock held".into(),
            },
            Label {
                message: "fault lock may be released here".into(),
                ..d.labels[0].clone()
            },
        ];
        d
    }

    /// A warning with a multi-line, machine-applicable suggestion.
    pub fn manual_release() -> Diagnostic {
        let span = span_of(
            SRC2,
            "if (vmf->flags & FAULT_FLAG_VMA_LOCK)\n\t\tvma_end_read(vmf->vma);\n\telse\n\t\tmmap_read_unlock(vmf->vma->vm_mm);",
        );
        Diagnostic {
            lint: "manual_fault_lock_release",
            level: Level::Warning,
            file: "dir/b.c".into(),
            span,
            message: "open-coded fault-lock release".into(),
            function: None,
            labels: vec![],
            path: vec![],
            notes: vec![],
            suggestion: Some(Suggestion {
                message: "use the helper".into(),
                span,
                replacement: "release_fault_lock(vmf);".into(),
                applicability: Applicability::MachineApplicable,
            }),
        }
    }
}
