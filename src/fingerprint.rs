//! Fingerprints: an identity for a diagnostic that survives unrelated edits
//! of its file (lines inserted above it, re-indentation), used by baselines,
//! SARIF `partialFingerprints` and `faultlock review` (which finding a patch
//! introduces or fixes).
//!
//! A fingerprint hashes the lint, the enclosing function, the normalised
//! statement text of the primary span (its source line with whitespace
//! folded) and the occurrence of that triple among the diagnostics of the
//! same file; never a line number or a byte offset.

use crate::diag::Diagnostic;
use crate::render::Files;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The statement a diagnostic points at, normalised: the full source line(s)
/// of its primary span with runs of whitespace folded to one space and
/// trimmed. A file that is not in `files` gives the span's offsets instead.
pub fn statement(d: &Diagnostic, files: &Files) -> String {
    let Some(file) = files.get(&d.file) else {
        return format!("@{}..{}", d.span.start, d.span.end);
    };
    let text = &file.text;
    let range = crate::render::clamp(file, d.span);
    let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i);
    normalise(&text[start..end])
}

/// Whitespace folded to single spaces, trimmed.
pub fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One fingerprint per diagnostic, parallel to `diags` (64 hex digits).
/// Diagnostics that share lint, file, function and statement are told apart
/// by their order of appearance.
pub fn fingerprints(diags: &[Diagnostic], files: &Files) -> Vec<String> {
    let mut seen: HashMap<(String, String, String, String), usize> = HashMap::new();
    diags
        .iter()
        .map(|d| {
            let key = (
                d.lint.to_string(),
                d.file.to_string(),
                d.function.clone().unwrap_or_default(),
                statement(d, files),
            );
            let n = seen.entry(key.clone()).or_insert(0);
            let ordinal = *n;
            *n += 1;
            let mut h = Sha256::new();
            for part in [&key.0, &key.1, &key.2, &key.3] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            h.update(ordinal.to_le_bytes());
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;
    use crate::source::SourceFile;

    #[test]
    fn stable_across_unrelated_edits() {
        let d = use_after_unlock();
        let before = fingerprints(std::slice::from_ref(&d), &files());
        // Lines inserted above and the line re-indented: same fingerprint.
        let edited = format!(
            "/* new */\n\n{}",
            SRC.replace("\t\treturn vma", "    return   vma")
        );
        let mut moved = d.clone();
        let shift = edited.find("vma->vm_flags").unwrap() - SRC.find("vma->vm_flags").unwrap();
        moved.span.start += shift as u32;
        moved.span.end += shift as u32;
        let files2 = Files::new([SourceFile::new("dir/a.c", edited.as_str())]);
        assert_eq!(before, fingerprints(&[moved], &files2));
    }

    #[test]
    fn differs_by_lint_function_statement_and_occurrence() {
        let d = use_after_unlock();
        let f = files();
        let base = fingerprints(std::slice::from_ref(&d), &f)[0].clone();
        let mut other_fn = d.clone();
        other_fn.function = Some("g".into());
        let mut other_lint = d.clone();
        other_lint.lint = "double_unlock";
        let mut other_stmt = d.clone();
        other_stmt.span = span_of(SRC, "handle_userfault");
        for x in [other_fn, other_lint, other_stmt] {
            assert_ne!(base, fingerprints(&[x], &f)[0]);
        }
        let twice = fingerprints(&[d.clone(), d], &f);
        assert_eq!(twice[0], base);
        assert_ne!(twice[0], twice[1]);
        assert_eq!(base.len(), 64);
    }
}
