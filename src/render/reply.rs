//! `faultlock review --format reply`: a plain-text reply e-mail, bottom
//! posted, that quotes only the patch lines each finding is about and
//! answers each in plain words.

use super::Files;
use crate::diag::{Applicability, Diagnostic, Level};
use std::io::{self, Write};

/// One finding and the patch lines it is about.
pub struct ReplyItem<'a> {
    pub diag: &'a Diagnostic,
    /// The file's diff header line, quoted before the first finding of
    /// that file.
    pub file_header: Option<&'a str>,
    /// Runs of consecutive patch lines (as they appear in the patch);
    /// empty when the finding is on a line the patch does not show.
    pub quoted: Vec<Vec<&'a str>>,
}

/// A reply to one patch mail (or to a plain diff).
pub struct Reply<'a> {
    /// The patch's subject, if it came by mail (no subject is made up).
    pub subject: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub references: &'a [String],
    /// Who wrote the quoted patch (the attribution line).
    pub author: Option<&'a str>,
    /// Reply-all recipients: the mail's sender, then its `To:` and `Cc:`.
    pub to: Vec<&'a str>,
    pub cc: Vec<&'a str>,
    pub items: Vec<ReplyItem<'a>>,
    /// Findings the patch fixes, with the pre-image files they point into.
    pub fixed: Vec<&'a Diagnostic>,
    pub files: &'a Files,
    pub pre_files: &'a Files,
    /// How the hunks met the tree, one line each, when any did not apply
    /// exactly where its header says (empty otherwise).
    pub placement: Vec<String>,
}

/// `Re: subject`, without doubling an existing `Re:`.
pub fn reply_subject(subject: &str) -> String {
    match subject.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("re:") => subject.to_string(),
        _ => format!("Re: {subject}"),
    }
}

/// Paragraph text wrapped at 72 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for w in text.split_whitespace() {
        if col > 0 && col + 1 + w.len() > 72 {
            out.push('\n');
            col = 0;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(w);
        col += w.len();
    }
    out.push('\n');
    out
}

/// `s` as a sentence: a full stop at the end, and a capital at the start
/// when the first word is a plain word. A first word that may be a name
/// (`mmap_lock`, `vma`, anything with `_`, digits, capitals or backticks)
/// keeps its case: an identifier is spelt as it is.
fn sentence(s: &str) -> String {
    const NAMES: &[&str] = &["vma", "vmf", "mm", "vmas"];
    let first = s.split([' ', ':', ',']).next().unwrap_or_default();
    let plain = first.len() > 1
        && first.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !NAMES.contains(&first);
    if plain {
        let mut c = s.chars();
        let head = c.next().map(|h| h.to_ascii_uppercase().to_string());
        full_stop(&(head.unwrap_or_default() + c.as_str()))
    } else {
        full_stop(s)
    }
}

/// `s` ending with a full stop, its case left alone (it goes on a sentence).
fn full_stop(s: &str) -> String {
    let mut out = s.to_string();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The plain-words answer to one finding.
fn answer(d: &Diagnostic, files: &Files, shown: bool) -> String {
    let (line, _) = files.line_col(&d.file, d.span.start);
    let mut para = String::new();
    if !shown {
        para.push_str(&format!(
            "In {}:{line}, a line this patch does not show: ",
            d.file
        ));
    }
    if d.level == Level::Error {
        para.push_str("This looks like a bug: ");
    }
    let message = if para.is_empty() {
        sentence(&d.message)
    } else {
        full_stop(&d.message)
    };
    para.push_str(&message);
    for l in d.labels.iter().filter(|l| l.file == d.file) {
        let (ll, _) = files.line_col(&l.file, l.span.start);
        para.push_str(&format!(
            " {} (line {ll})",
            sentence(&l.message).trim_end_matches('.')
        ));
        para.push('.');
    }
    for n in &d.notes {
        para.push(' ');
        para.push_str(&sentence(n));
    }
    let mut out = wrap(&para);
    if let Some(s) = &d.suggestion {
        out.push('\n');
        out.push_str(match s.applicability {
            Applicability::MachineApplicable => "Could you use the helper here instead:\n",
            Applicability::MaybeIncorrect => {
                "Could you use the helper here instead? Please check that it names\nthe same lock:\n"
            }
        });
        out.push('\n');
        for l in s.replacement.lines() {
            out.push('\t');
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n[faultlock {} {}, {}:{line}]\n",
        d.level.as_str(),
        d.lint,
        d.file
    ));
    out
}

pub fn render(out: &mut dyn Write, r: &Reply) -> io::Result<()> {
    let mut s = String::new();
    if !r.to.is_empty() {
        s.push_str(&format!("To: {}\n", r.to.join(", ")));
    }
    if !r.cc.is_empty() {
        s.push_str(&format!("Cc: {}\n", r.cc.join(",\n    ")));
    }
    if let Some(subject) = r.subject {
        s.push_str(&format!("Subject: {}\n", reply_subject(subject)));
    }
    if let Some(id) = r.message_id {
        s.push_str(&format!("In-Reply-To: {id}\n"));
        let mut refs: Vec<&str> = r.references.iter().map(String::as_str).collect();
        refs.push(id);
        s.push_str(&format!("References: {}\n", refs.join(" ")));
    }
    s.push_str("Content-Type: text/plain; charset=utf-8\n\n");
    if let Some(author) = r.author {
        s.push_str(&format!("{author} wrote:\n"));
    }
    if r.items.is_empty() && r.fixed.is_empty() {
        s.push_str("\nfaultlock found nothing to report in this patch.\n");
    }
    for item in &r.items {
        if let Some(h) = item.file_header {
            s.push_str(&format!("> {h}\n"));
        }
        for (i, run) in item.quoted.iter().enumerate() {
            if i > 0 {
                s.push_str("[...]\n");
            }
            for l in run {
                s.push_str(if l.is_empty() { ">" } else { "> " });
                s.push_str(l);
                s.push('\n');
            }
        }
        s.push('\n');
        s.push_str(&answer(item.diag, r.files, !item.quoted.is_empty()));
        s.push('\n');
    }
    if !r.fixed.is_empty() {
        s.push_str("This patch also fixes what faultlock reported before it:\n\n");
        for d in &r.fixed {
            let (line, _) = r.pre_files.line_col(&d.file, d.span.start);
            s.push_str(&format!(
                "- {}:{line} (before the patch): {} [{} {}]\n",
                d.file,
                d.message,
                d.level.as_str(),
                d.lint
            ));
        }
        s.push('\n');
    }
    if !r.placement.is_empty() {
        s.push_str("The tree faultlock checked this against has moved on from the patch:\n\n");
        for l in &r.placement {
            s.push_str(&format!("- {l}\n"));
        }
        s.push('\n');
    }
    s.push_str("-- \nfaultlock review\n");
    out.write_all(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_wrapping() {
        assert_eq!(reply_subject("[PATCH] x"), "Re: [PATCH] x");
        assert_eq!(reply_subject("RE: [PATCH] x"), "RE: [PATCH] x");
        let w = wrap(&"word ".repeat(40));
        assert!(w.lines().all(|l| l.len() <= 72));
        assert_eq!(sentence("open-coded x"), "Open-coded x.");
        assert_eq!(
            sentence("made from a patch: only"),
            "Made from a patch: only."
        );
        assert_eq!(sentence("mmap_lock asserted"), "mmap_lock asserted.");
        assert_eq!(sentence("vma used after"), "vma used after.");
        assert_eq!(
            sentence("`vma_end_read()` releases"),
            "`vma_end_read()` releases."
        );
    }
}
