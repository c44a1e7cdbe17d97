//! SARIF 2.1.0: one log with one run, for code-scanning services
//! (`docs/github-code-scanning.md`). Carries exactly the diagnostics of the
//! JSON output: rules are every registered lint (so `ruleIndex` is the
//! lint's index in `lints::LINTS`), locations are relative to `%SRCROOT%`
//! (the working directory), columns count Unicode code points like the
//! other formats, and `partialFingerprints` come from `crate::fingerprint`.

use super::Files;
use crate::diag::{Diagnostic, Level};
use crate::fingerprint;
use crate::lints::{LintInfo, LINTS};
use crate::source::Span;
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The key of faultlock's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "faultlock/v1";
const SRCROOT: &str = "%SRCROOT%";

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Allow => "none",
    }
}

/// The paragraph after a lint page's title: what the lint reports.
fn first_paragraph(page: &str) -> String {
    page.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn rule(info: &LintInfo) -> Value {
    json!({
        "id": info.id,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": first_paragraph(info.doc)},
        "help": {"text": info.doc, "markdown": info.doc},
        "defaultConfiguration": {"level": level(info.default_level)},
    })
}

/// Percent-encode a path for a URI, keeping `/` and RFC 3986 unreserved
/// characters.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A file URI of an absolute directory, ending in `/`.
fn dir_uri(dir: &Path) -> String {
    let mut s = encode(&dir.to_string_lossy());
    if !s.ends_with('/') {
        s.push('/');
    }
    format!("file://{s}")
}

/// `artifactLocation` of a displayed path: relative to `%SRCROOT%` when it
/// is relative or under `srcroot`, else an absolute file URI.
fn artifact(path: &str, srcroot: Option<&Path>) -> Value {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        srcroot.and_then(|r| p.strip_prefix(r).ok())
    } else {
        Some(p)
    };
    match rel {
        Some(r) => {
            let r = r.to_string_lossy();
            json!({"uri": encode(r.trim_start_matches("./")), "uriBaseId": SRCROOT})
        }
        None => json!({"uri": format!("file://{}", encode(path))}),
    }
}

fn region(files: &Files, path: &str, span: Span) -> Value {
    let (sl, sc) = files.line_col(path, span.start);
    let (el, ec) = files.line_col(path, span.end);
    json!({"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec})
}

fn location(files: &Files, path: &str, span: Span, srcroot: Option<&Path>) -> Value {
    json!({
        "artifactLocation": artifact(path, srcroot),
        "region": region(files, path, span),
    })
}

fn result(d: &Diagnostic, fp: &str, files: &Files, srcroot: Option<&Path>) -> Value {
    let mut loc = json!({"physicalLocation": location(files, &d.file, d.span, srcroot)});
    if let Some(f) = &d.function {
        loc["logicalLocations"] = json!([{"name": f, "kind": "function"}]);
    }
    let mut r = json!({
        "ruleId": d.lint,
        "level": level(d.level),
        "message": {"text": d.message},
        "locations": [loc],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
    });
    if let Some(i) = LINTS.iter().position(|l| l.id == d.lint) {
        r["ruleIndex"] = json!(i);
    }
    if !d.labels.is_empty() {
        r["relatedLocations"] = d
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "id": i,
                    "physicalLocation": location(files, &l.file, l.span, srcroot),
                    "message": {"text": l.message},
                })
            })
            .collect();
    }
    if !d.labels.is_empty() || !d.path.is_empty() {
        r["codeFlows"] = json!([{"threadFlows": [{"locations": code_flow(d, files, srcroot)}]}]);
    }
    if let Some(s) = &d.suggestion {
        r["fixes"] = json!([{
            "description": {"text": s.message},
            "artifactChanges": [{
                "artifactLocation": artifact(&d.file, srcroot),
                "replacements": [{
                    "deletedRegion": region(files, &d.file, s.span),
                    "insertedContent": {"text": s.replacement},
                }],
            }],
        }]);
    }
    if !d.notes.is_empty() {
        r["properties"] = json!({"notes": d.notes});
    }
    r
}

/// The path to a finding as SARIF thread-flow locations: its path (or,
/// without one, its labels in the order the lint gives them), then the
/// finding itself, numbered from 1.
fn code_flow(d: &Diagnostic, files: &Files, srcroot: Option<&Path>) -> Vec<Value> {
    let path = if d.path.is_empty() {
        &d.labels
    } else {
        &d.path
    };
    let steps = path
        .iter()
        .map(|l| (&l.file, l.span, l.message.as_str()))
        .chain(std::iter::once((&d.file, d.span, d.message.as_str())));
    steps
        .enumerate()
        .map(|(i, (file, span, message))| {
            json!({
                "executionOrder": i + 1,
                "location": {
                    "physicalLocation": location(files, file, span, srcroot),
                    "message": {"text": message},
                },
            })
        })
        .collect()
}

/// The SARIF log of `diags`. `srcroot` (normally the working directory,
/// absolute) is recorded as `%SRCROOT%` and lets absolute paths under it
/// be written relative.
pub fn log(diags: &[Diagnostic], files: &Files, srcroot: Option<&Path>) -> Value {
    let fps = fingerprint::fingerprints(diags, files);
    let mut driver = json!({
        "name": "faultlock",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": LINTS.iter().map(rule).collect::<Vec<_>>(),
    });
    let uri = env!("CARGO_PKG_REPOSITORY");
    if !uri.is_empty() {
        driver["informationUri"] = json!(uri);
    }
    let mut run = json!({
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": diags
            .iter()
            .zip(&fps)
            .map(|(d, fp)| result(d, fp, files, srcroot))
            .collect::<Vec<_>>(),
    });
    if let Some(root) = srcroot.filter(|r| r.is_absolute()) {
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": dir_uri(root)}});
    }
    json!({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})
}

pub fn render(
    out: &mut dyn Write,
    diags: &[Diagnostic],
    files: &Files,
    srcroot: Option<&Path>,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(diags, files, srcroot))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;

    #[test]
    fn results_locations_and_fixes() {
        let v = log(
            &[use_after_unlock(), manual_release()],
            &files(),
            Some(Path::new("/src/tree")),
        );
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///src/tree/"
        );
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), LINTS.len());
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "vma_use_after_unlock");
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
            r["ruleId"]
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "dir/a.c");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 6);
        assert_eq!(loc["region"]["startColumn"], 10);
        assert_eq!(
            r["relatedLocations"][1]["physicalLocation"]["artifactLocation"]["uri"],
            "dir/b.c"
        );
        assert_eq!(
            r["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .len(),
            64
        );
        let fix = &run["results"][1]["fixes"][0]["artifactChanges"][0]["replacements"][0];
        assert_eq!(fix["insertedContent"]["text"], "release_fault_lock(vmf);");
        assert_eq!(fix["deletedRegion"]["endLine"], 6);
    }

    #[test]
    fn code_flow_follows_the_path() {
        let d = crate::render::test_util::with_path(use_after_unlock());
        let v = log(&[d], &files(), None);
        let flow = &v["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"];
        let flow = flow.as_array().unwrap();
        assert_eq!(flow.len(), 3);
        assert_eq!(flow[0]["executionOrder"], 1);
        assert_eq!(
            flow[0]["location"]["physicalLocation"]["region"]["startLine"],
            1
        );
        assert_eq!(
            flow[1]["location"]["physicalLocation"]["region"]["startLine"],
            4
        );
        assert_eq!(
            flow[2]["location"]["physicalLocation"]["region"]["startLine"],
            6
        );
    }

    #[test]
    fn uris() {
        assert_eq!(encode("a b/c%#.c"), "a%20b/c%25%23.c");
        let root = Some(Path::new("/w"));
        assert_eq!(artifact("./x.c", root)["uri"], "x.c");
        assert_eq!(artifact("/w/d/x.c", root)["uri"], "d/x.c");
        let outside = artifact("/elsewhere/x.c", root);
        assert_eq!(outside["uri"], "file:///elsewhere/x.c");
        assert!(outside.get("uriBaseId").is_none());
    }

    #[test]
    fn rule_descriptions_come_from_the_pages() {
        let r = rule(&LINTS[0]);
        assert!(r["fullDescription"]["text"].as_str().unwrap().len() > 20);
        assert!(!r["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains('\n'));
        assert_eq!(r["help"]["markdown"], LINTS[0].doc);
    }
}
