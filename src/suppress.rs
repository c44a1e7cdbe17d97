//! Suppressions written in the source: `/* faultlock: allow(lint) reason */`
//! (C) or `// faultlock: allow(lint, other_lint) reason` (C and Rust).
//!
//! A suppression written after code on a line covers findings whose primary
//! span starts on that line. A suppression on a line of its own covers the
//! next line; when the next line that is not blank or a comment starts a
//! function definition, it covers the whole function. Whether a suppression
//! is used does not depend on lint levels: it is matched against every
//! finding the lints produce, so `-A lint` never makes it "unused". One that
//! matches nothing, names an unknown lint or is malformed is reported by the
//! `unused_suppression` lint (which cannot itself be suppressed).
//!
//! `faultlock:` comments that are not `allow(...)` are lock annotations and
//! are left to the front ends.

use crate::diag::Diagnostic;
use crate::ir::Unit;
use crate::lints::{self, unused_suppression};
use crate::source::{SourceFile, Span};

/// One `allow(...)` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The whole comment.
    pub span: Span,
    /// Each lint id as written, with its span.
    pub lints: Vec<(String, Span)>,
    pub reason: Option<String>,
    /// 1-based lines of the comment's first and last line.
    pub first_line: usize,
    pub last_line: usize,
    /// Code precedes the comment on its first line.
    pub trailing: bool,
}

/// A `faultlock:` comment that is an `allow` but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

const MARK: &str = "faultlock:";

/// 1-based line of a byte offset (a binary search; no character counting).
/// The text after `allow` when a `faultlock:` comment body is a suppression:
/// `allow` as a whole word. Anything else is a lock annotation; the C front
/// end uses the same test, so every such comment is one or the other.
pub fn allow_args(body: &str) -> Option<&str> {
    body.trim_start()
        .strip_prefix("allow")
        .filter(|a| !a.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

fn line_of(file: &SourceFile, offset: usize) -> usize {
    file.line_starts()
        .partition_point(|&s| s as usize <= offset)
        .max(1)
}

/// The first `pat` at or after `at`, remembering the last answer so that
/// many queries over one long line or comment stay linear in total.
fn next_from(text: &str, pat: &str, at: usize, cache: &mut Option<Option<usize>>) -> Option<usize> {
    match *cache {
        Some(Some(p)) if p >= at => Some(p),
        Some(None) => None,
        _ => {
            let p = text[at..].find(pat).map(|e| at + e);
            *cache = Some(p);
            p
        }
    }
}

/// Every suppression comment of `file`, in order, and the malformed ones.
/// A comment's text ends at its `*/` or end of line, or at the next
/// `faultlock:` (so that hostile input with many marks on one line stays
/// linear).
pub fn parse(file: &SourceFile) -> (Vec<Suppression>, Vec<Malformed>) {
    let text = &*file.text;
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let marks: Vec<usize> = memchr::memmem::find_iter(text.as_bytes(), MARK).collect();
    let (mut next_close, mut next_newline) = (None, None);
    for (k, &at) in marks.iter().enumerate() {
        let from = at + MARK.len();
        let line_start = file.line_starts()[line_of(file, at) - 1] as usize;
        let before = text[line_start..at].trim_end();
        let (open, close) = if before.ends_with("/*") {
            (before.len() - 2, next_from(text, "*/", at, &mut next_close))
        } else if before.ends_with("//") {
            (
                before.len() - 2,
                Some(next_from(text, "\n", at, &mut next_newline).unwrap_or(text.len())),
            )
        } else {
            continue;
        };
        // An unterminated block comment is the front end's problem.
        let close = close.map(|c| marks.get(k + 1).map_or(c, |&m| c.min(m)));
        let Some(body_end) = close else { continue };
        let body = &text[from..body_end];
        let Some(args) = allow_args(body) else {
            continue;
        };
        let comment_start = line_start + open;
        let comment_end = if text[body_end..].starts_with("*/") {
            body_end + 2
        } else {
            body_end
        };
        let span = Span::new(comment_start, comment_end);
        let Some(list) = args.trim_start().strip_prefix('(') else {
            bad.push(Malformed {
                span,
                message: "malformed suppression: expected `allow(lint, ...)`".into(),
            });
            continue;
        };
        let Some(close_paren) = list.find(')') else {
            bad.push(Malformed {
                span,
                message: "malformed suppression: `allow(` is not closed".into(),
            });
            continue;
        };
        let list_at = body_end - list.len();
        let mut ids = Vec::new();
        let mut offset = 0;
        for part in list[..close_paren].split(',') {
            let lead = part.len() - part.trim_start().len();
            let id = part.trim();
            if !id.is_empty() {
                let s = list_at + offset + lead;
                ids.push((id.to_string(), Span::new(s, s + id.len())));
            }
            offset += part.len() + 1;
        }
        if ids.is_empty() {
            bad.push(Malformed {
                span,
                message: "malformed suppression: `allow()` names no lint".into(),
            });
            continue;
        }
        let reason = list[close_paren + 1..].trim();
        out.push(Suppression {
            span,
            lints: ids,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            first_line: line_of(file, span.start as usize),
            last_line: line_of(file, span.end as usize),
            trailing: !text[line_start..comment_start].trim().is_empty(),
        });
    }
    (out, bad)
}

/// Whether a line holds only whitespace or comment text.
fn blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
}

/// What [`coverage`] needs of a file, computed once per file.
struct Layout {
    /// For each 1-based line `l` (index `l`), the first line at or after it
    /// that is not blank or comment-only (`lines + 1` when none).
    next_code: Vec<usize>,
    /// First line of each function → its last line.
    functions: std::collections::HashMap<usize, usize>,
}

impl Layout {
    fn new(file: &SourceFile, unit: &Unit) -> Layout {
        let starts = file.line_starts();
        let n = starts.len();
        let mut next_code = vec![n + 1; n + 2];
        for l in (1..=n).rev() {
            let end = starts.get(l).map_or(file.text.len(), |&e| e as usize);
            let text = &file.text[starts[l - 1] as usize..end];
            next_code[l] = if blank_or_comment(text) {
                next_code[l + 1]
            } else {
                l
            };
        }
        let functions = unit
            .functions
            .iter()
            .map(|f| {
                (
                    line_of(file, f.span.start as usize),
                    line_of(file, f.span.end as usize),
                )
            })
            .collect();
        Layout {
            next_code,
            functions,
        }
    }

    /// The lines a suppression covers: `(first, last)` inclusive.
    fn coverage(&self, s: &Suppression) -> (usize, usize) {
        if s.trailing {
            return (s.first_line, s.last_line);
        }
        let next = self
            .next_code
            .get(s.last_line + 1)
            .copied()
            .unwrap_or(usize::MAX);
        match self.functions.get(&next) {
            Some(&end) => (s.first_line, end),
            None => (s.first_line, s.last_line + 1),
        }
    }
}

/// Drop the findings that suppressions cover and add one
/// `unused_suppression` diagnostic per suppressed lint that matched
/// nothing, per unknown lint and per malformed suppression. `files`,
/// `units` and `parsed` are parallel; only parsed files are looked at.
pub fn apply(
    files: &[SourceFile],
    units: &[Unit],
    parsed: &[bool],
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let per_file: Vec<_> = files
        .par_iter()
        .zip(parsed)
        .map(|(f, &p)| if p { parse(f) } else { Default::default() })
        .collect();
    if per_file.iter().all(|(s, b)| s.is_empty() && b.is_empty()) {
        return diagnostics;
    }
    let index: std::collections::HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (&*f.path, i))
        .collect();
    // (file, suppression, lint position) → used
    let mut used: Vec<Vec<Vec<bool>>> = per_file
        .iter()
        .map(|(s, _)| s.iter().map(|x| vec![false; x.lints.len()]).collect())
        .collect();
    let ranges: Vec<Vec<(usize, usize)>> = per_file
        .iter()
        .enumerate()
        .map(|(i, (s, _))| {
            if s.is_empty() {
                return Vec::new();
            }
            let layout = Layout::new(&files[i], &units[i]);
            s.iter().map(|x| layout.coverage(x)).collect()
        })
        .collect();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let Some(&fi) = index.get(&*d.file) else {
            kept.push(d);
            continue;
        };
        let line = line_of(&files[fi], d.span.start as usize);
        let mut suppressed = false;
        for (si, s) in per_file[fi].0.iter().enumerate() {
            let (a, b) = ranges[fi][si];
            if line < a || line > b {
                continue;
            }
            for (li, (id, _)) in s.lints.iter().enumerate() {
                if id == d.lint {
                    used[fi][si][li] = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }
    for (fi, (sups, bad)) in per_file.iter().enumerate() {
        let file = &files[fi];
        let function = |span: Span| {
            units[fi]
                .functions
                .iter()
                .find(|f| f.span.start <= span.start && span.end <= f.span.end)
                .map(|f| f.name.clone())
        };
        for m in bad {
            kept.push(unused_suppression::diagnostic(
                file,
                m.span,
                function(m.span),
                m.message.clone(),
                None,
            ));
        }
        for (si, s) in sups.iter().enumerate() {
            let all_unused = used[fi][si].iter().all(|u| !u);
            for (li, (id, span)) in s.lints.iter().enumerate() {
                if used[fi][si][li] {
                    continue;
                }
                let message = if lints::find(id).is_none() {
                    lints::unknown_lint_in(id, " in suppression")
                } else {
                    format!("this suppression of `{id}` suppresses nothing")
                };
                let remove = (all_unused && s.lints.len() == 1).then_some(s.span);
                kept.push(unused_suppression::diagnostic(
                    file,
                    *span,
                    function(s.span),
                    message,
                    remove,
                ));
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sups(text: &str) -> (Vec<Suppression>, Vec<Malformed>) {
        parse(&SourceFile::new("a.c", text))
    }

    #[test]
    fn block_and_line_comments() {
        let text = "int a; /* faultlock: allow(double_unlock) known, see bug 1 */\n\
                    // faultlock: allow( vma_use_after_unlock ,double_unlock )\n\
                    /* faultlock: requires(mmap_read(mm)) */\n";
        let (s, bad) = sups(text);
        assert!(bad.is_empty());
        assert_eq!(s.len(), 2);
        assert!(s[0].trailing);
        assert_eq!(s[0].reason.as_deref(), Some("known, see bug 1"));
        assert_eq!(s[0].lints[0].0, "double_unlock");
        assert_eq!(&text[s[0].lints[0].1.range()], "double_unlock");
        assert_eq!(&text[s[0].span.range()], &text[7..61]);
        assert!(!s[1].trailing);
        assert_eq!(s[1].first_line, 2);
        let ids: Vec<&str> = s[1].lints.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, ["vma_use_after_unlock", "double_unlock"]);
        assert_eq!(&text[s[1].lints[1].1.range()], "double_unlock");
        assert_eq!(s[1].reason, None);
    }

    #[test]
    fn malformed_and_non_comments() {
        assert_eq!(sups("/* faultlock: allowed_in(x) */\n"), (vec![], vec![]));
        let (s, bad) = sups("// faultlock: allow double_unlock\n/* faultlock: allow(x */\n/* faultlock: allow() */\nchar *p = \"faultlock: allow(x)\";\n");
        assert!(s.is_empty());
        assert_eq!(bad.len(), 3, "{bad:?}");
        // Not an identifier after `allow`: a malformed suppression, never
        // silently neither a suppression nor an annotation.
        let (s, bad) = sups(
            "/* faultlock: allow-double_unlock */
",
        );
        assert!(s.is_empty());
        assert_eq!(bad.len(), 1, "{bad:?}");
    }

    /// Many marks on one line or in one unterminated comment: each is
    /// looked at once (a quadratic scan would take minutes here).
    #[test]
    fn many_marks_on_one_line() {
        let n = 50_000;
        let block = "/* faultlock: allow(x ".repeat(n);
        assert_eq!(sups(&block), (vec![], vec![]));
        let (s, _) = sups(&"// faultlock: allow(a) ".repeat(n));
        assert_eq!(s.len(), n);
        assert_eq!(s[1].lints[0].0, "a");
        let (_, bad) = sups(&"x; // faultlock: allow(".repeat(n));
        assert_eq!(bad.len(), n);
    }

    /// One suppression per line, all comment lines: the next code line is
    /// found once per file, not once per suppression.
    #[test]
    fn many_suppression_lines() {
        let n = 50_000;
        let text = format!("{}int x;\n", "// faultlock: allow(a)\n".repeat(n));
        let file = SourceFile::new("a.c", text);
        let (s, _) = parse(&file);
        let layout = Layout::new(&file, &Unit::default());
        let covered: Vec<_> = s.iter().map(|x| layout.coverage(x)).collect();
        assert_eq!(covered[n - 1], (n, n + 1));
        assert_eq!(layout.next_code[1], n + 1);
    }

    #[test]
    fn used_whatever_the_level() {
        use crate::check::{check, CheckOptions};
        use crate::diag::Level;
        let src = "static unsigned long g(struct mm_struct *mm, unsigned long a)\n{\n\
                   \tstruct vm_area_struct *vma;\n\tmmap_read_lock(mm);\n\
                   \tvma = find_vma(mm, a);\n\tmmap_read_unlock(mm);\n\
                   \treturn vma->vm_start; // faultlock: allow(vma_use_after_unlock)\n}\n";
        let files = [SourceFile::new("a.c", src)];
        let model = crate::model::LockModel::builtin();
        let mut opts = CheckOptions::default();
        assert!(check(&files, &model, &opts).diagnostics.is_empty());
        opts.levels
            .set("vma_use_after_unlock", Level::Allow)
            .unwrap();
        assert!(check(&files, &model, &opts).diagnostics.is_empty());
        let unsuppressed = [SourceFile::new("a.c", src.replace("allow(", "allov("))];
        let r = check(&unsuppressed, &model, &CheckOptions::default());
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].lint, "vma_use_after_unlock");
    }

    #[test]
    fn unknown_lint_in_a_suppression_names_the_closest() {
        use crate::check::{check, CheckOptions};
        let src = "int f(void)\n{\n\treturn 0; // faultlock: allow(doubel_unlock)\n}\n";
        let files = [SourceFile::new("a.c", src)];
        let r = check(
            &files,
            &crate::model::LockModel::builtin(),
            &CheckOptions::default(),
        );
        let messages: Vec<&str> = r.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            ["unknown lint `doubel_unlock` in suppression; did you mean `double_unlock`? (see `faultlock lints`)"]
        );
    }
}
