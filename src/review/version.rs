//! Which kernel release a patch was written against, when no tree says it:
//! its `base-commit:` trailer (looked up in a git repository), else the
//! mail's `Date:` mapped to the release current then.

use crate::model::{KernelChoice, KernelVersion};
use std::path::Path;
use std::process::Command;

/// The release of the first patch of `input` (raw bytes of a diff, mail or
/// mbox): the `base-commit:` trailer's top `Makefile` in `repo` when it
/// resolves there, else the first `Date:` header's release.
pub fn patch_kernel(input: &[u8], repo: Option<&Path>) -> Option<KernelChoice> {
    let text = String::from_utf8_lossy(input);
    if let (Some(hash), Some(repo)) = (base_commit(&text), repo) {
        if let Some(v) = version_at_commit(repo, hash) {
            return Some(KernelChoice {
                version: v,
                source: format!("the patch's base-commit {}", &hash[..hash.len().min(12)]),
            });
        }
    }
    let date = mail_date(&text)?;
    Some(KernelChoice {
        version: KernelVersion::current_on(date),
        source: format!("the mail's date {:04}-{:02}-{:02}", date.0, date.1, date.2),
    })
}

/// The hash of the first `base-commit: HASH` line (git format-patch
/// `--base`), quoted or not.
pub fn base_commit(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        let l = l.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
        let hash = l.strip_prefix("base-commit:")?.trim();
        (hash.len() >= 7 && hash.len() <= 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(hash)
    })
}

/// `(year, month, day)` of the first `Date:` header line before the first
/// diff.
pub fn mail_date(text: &str) -> Option<(i32, u32, u32)> {
    text.lines()
        .take_while(|l| !l.starts_with("diff ") && !l.starts_with("--- "))
        .find_map(|l| {
            let v = l.strip_prefix("Date:")?;
            let d = mail_parser::DateTime::parse_rfc822(v.trim())?;
            (d.year > 0 && (1..=12).contains(&d.month)).then_some((
                i32::from(d.year),
                u32::from(d.month),
                u32::from(d.day),
            ))
        })
}

/// The version the top `Makefile` declares at `commit` in the git
/// repository `repo`; `None` when git, the commit or the file is missing.
fn version_at_commit(repo: &Path, commit: &str) -> Option<KernelVersion> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["show", &format!("{commit}:Makefile")])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    KernelVersion::from_makefile(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\n\
        Date: Tue, 5 Sep 2023 10:00:00 +0200\nSubject: [PATCH] mm: x\n\n---\n\
        diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1 @@\n-a\n+b\n\
        \nbase-commit: 0123456789abcdef0123456789abcdef01234567\n-- \n2.40\n";

    #[test]
    fn trailer_and_date() {
        assert_eq!(
            base_commit(MAIL),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(base_commit("base-commit: not-a-hash\n"), None);
        assert_eq!(mail_date(MAIL), Some((2023, 9, 5)));
        assert_eq!(mail_date("Date: garbage\n"), None);
        // No repository to resolve the base commit in: the date decides.
        let k = patch_kernel(MAIL.as_bytes(), None).unwrap();
        assert_eq!(k.version, KernelVersion::new(6, 5));
        assert!(k.source.contains("2023-09-05"), "{}", k.source);
        assert_eq!(patch_kernel(b"--- a/x.c\n+++ b/x.c\n", None), None);
    }
}
