//! Baselines: the findings a tree had when it adopted faultlock, recorded by
//! fingerprint (`crate::fingerprint`), so that later runs report only new
//! ones. The file is JSON, sorted, and diff-friendly:
//!
//! ```json
//! {"version": 1, "findings": [{"fingerprint": "…", "lint": "double_unlock",
//!   "file": "mm/x.c", "function": "f", "message": "…"}]}
//! ```
//!
//! Only the fingerprint is matched; the other fields are for readers of the
//! file and for the "fixed since the baseline" notes. Fingerprints contain
//! the path, lexically normalised (`./c/x.c` and `c//x.c` are `c/x.c`), so a
//! baseline is used from the directory it was written in. Baselines written
//! before paths were normalised still match when spelled as in the run.

use crate::diag::Diagnostic;
use crate::fingerprint;
use crate::render::Files;
use crate::source::SourceFile;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub lint: String,
    pub file: String,
    pub function: Option<String>,
    pub message: String,
}

/// What [`Baseline::filter`] leaves.
#[derive(Debug, Default)]
pub struct Filtered {
    /// Findings not in the baseline, in their original order.
    pub new: Vec<Diagnostic>,
    /// How many findings the baseline matched.
    pub matched: usize,
    /// Baseline entries of checked files that no finding matched.
    pub fixed: Vec<Entry>,
    /// Files the baseline spells differently from this run (baseline
    /// spelling, run spelling), so that their entries cannot match.
    pub respelled: Vec<(String, String)>,
}

/// `path` without `.` components and repeated or trailing slashes.
pub fn normalise(path: &str) -> String {
    let abs = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The fingerprints of `diags` with their paths normalised.
fn normalised_fingerprints(diags: &[Diagnostic], files: &Files) -> Vec<String> {
    let mut renamed = Files::default();
    let diags: Vec<Diagnostic> = diags
        .iter()
        .map(|d| {
            let mut d = d.clone();
            let path = normalise(&d.file);
            if renamed.get(&path).is_none() {
                if let Some(f) = files.get(&d.file) {
                    renamed.add(SourceFile::new(path.as_str(), f.text.clone()));
                }
            }
            d.file = path.into();
            d
        })
        .collect();
    fingerprint::fingerprints(&diags, &renamed)
}

impl Baseline {
    /// Record `diags` (sorted by file, function, lint, message, fingerprint,
    /// so the file does not depend on the order of the run).
    pub fn from_diagnostics(diags: &[Diagnostic], files: &Files) -> Baseline {
        let fps = normalised_fingerprints(diags, files);
        let mut findings: Vec<Entry> = diags
            .iter()
            .zip(fps)
            .map(|(d, fingerprint)| Entry {
                fingerprint,
                lint: d.lint.to_string(),
                file: normalise(&d.file),
                function: d.function.clone(),
                message: d.message.clone(),
            })
            .collect();
        findings.sort_by(|a, b| {
            (&a.file, &a.function, &a.lint, &a.message, &a.fingerprint).cmp(&(
                &b.file,
                &b.function,
                &b.lint,
                &b.message,
                &b.fingerprint,
            ))
        });
        Baseline {
            version: VERSION,
            findings,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a baseline serialises");
        s.push('\n');
        s
    }

    pub fn parse(shown: &str, text: &str) -> Result<Baseline, String> {
        let b: Baseline = serde_json::from_str(text).map_err(|e| {
            format!(
                "{shown}:{}:{}: not a faultlock baseline: {e}",
                e.line().max(1),
                // serde_json gives column 0 at the very start of a line.
                e.column().max(1)
            )
        })?;
        if b.version != VERSION {
            return Err(format!(
                "{shown}: baseline version {} is not supported (expected {VERSION})",
                b.version
            ));
        }
        Ok(b)
    }

    pub fn load(path: &Path) -> Result<Baseline, String> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        Baseline::parse(&shown, &text)
    }

    /// Split `diags` into findings the baseline does not know and the rest.
    /// Fingerprints are computed over all of `diags`, as when writing.
    pub fn filter(&self, diags: Vec<Diagnostic>, files: &Files) -> Filtered {
        let known: HashSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let fps = normalised_fingerprints(&diags, files);
        let as_shown = fingerprint::fingerprints(&diags, files);
        let mut seen = HashSet::new();
        let mut out = Filtered::default();
        for ((d, fp), old) in diags.into_iter().zip(fps).zip(as_shown) {
            if let Some(fp) = [fp, old].into_iter().find(|f| known.contains(f.as_str())) {
                out.matched += 1;
                seen.insert(fp);
            } else {
                out.new.push(d);
            }
        }
        let checked: HashMap<String, &str> = files
            .iter()
            .map(|f| (normalise(&f.path), &*f.path))
            .collect();
        let mut respelled = BTreeSet::new();
        out.fixed = self
            .findings
            .iter()
            .filter(|e| !seen.contains(&e.fingerprint))
            .filter(|e| match checked.get(&normalise(&e.file)) {
                Some(ours) if *ours != e.file && normalise(&e.file) != e.file => {
                    respelled.insert((e.file.clone(), ours.to_string()));
                    false
                }
                Some(_) => true,
                None => false,
            })
            .cloned()
            .collect();
        out.respelled = respelled.into_iter().collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    #[test]
    fn round_trip_and_filter() {
        let f = files();
        let diags = vec![manual_release(), use_after_unlock()];
        let b = Baseline::from_diagnostics(&diags, &f);
        assert_eq!(b.findings[0].file, "dir/a.c", "sorted by file");
        let b2 = Baseline::parse("b.json", &b.to_json()).unwrap();
        assert_eq!(b, b2);
        let r = b2.filter(diags.clone(), &f);
        assert!(r.new.is_empty());
        assert_eq!((r.matched, r.fixed.len()), (2, 0));
        // One finding gone: it is "fixed"; a new one is kept.
        let only = Baseline::from_diagnostics(&diags[..1], &f);
        let r = only.filter(vec![use_after_unlock()], &f);
        assert_eq!(r.new.len(), 1);
        assert_eq!(r.fixed.len(), 1);
        assert_eq!(r.fixed[0].lint, "manual_fault_lock_release");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise("./c//x.c"), "c/x.c");
        assert_eq!(normalise("/a/./b/"), "/a/b");
        assert_eq!(normalise("./"), ".");
        let f = files();
        let d = use_after_unlock();
        let b = Baseline::from_diagnostics(std::slice::from_ref(&d), &f);
        assert_eq!(b.findings[0].file, "dir/a.c");
        // The same finding seen through `./dir/a.c` matches.
        let mut dotted = d.clone();
        dotted.file = "./dir/a.c".into();
        let f2 = Files::new([SourceFile::new(
            "./dir/a.c",
            f.get("dir/a.c").unwrap().text.clone(),
        )]);
        let r = b.filter(vec![dotted], &f2);
        assert_eq!((r.new.len(), r.matched), (0, 1));
    }

    #[test]
    fn bad_files_are_errors() {
        let e = Baseline::parse("b.json", "{\"version\": 1,\n \"findingz\": []}").unwrap_err();
        assert!(e.starts_with("b.json:2:"), "{e}");
        let e = Baseline::parse("b.json", "{\"version\": 1,\n").unwrap_err();
        assert!(e.starts_with("b.json:2:1:"), "{e}");
        let e = Baseline::parse("b.json", "{\"version\": 9, \"findings\": []}").unwrap_err();
        assert!(e.contains("version 9"), "{e}");
    }
}
