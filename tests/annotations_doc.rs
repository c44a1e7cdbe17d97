//! The annotation page (`faultlock explain annotations`) documents one
//! vocabulary for both languages: its C examples check clean (every
//! annotation in them is well formed), and its Rust examples carry the same
//! annotations, in the same order.

use faultlock::check::{check, CheckOptions};
use faultlock::lints::ANNOTATIONS_DOC;
use faultlock::model::LockModel;
use faultlock::source::SourceFile;

/// The fenced blocks of the page tagged `lang`.
fn blocks(lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<String> = None;
    for line in ANNOTATIONS_DOC.lines() {
        match open.take() {
            None if line.trim() == format!("```{lang}") => open = Some(String::new()),
            None => {}
            Some(b) if line.trim() == "```" => out.push(b),
            Some(mut b) => {
                b.push_str(line);
                b.push('\n');
                open = Some(b);
            }
        }
    }
    out
}

/// The annotation texts between `start` and `end` markers, in order.
fn annotations(code: &str, start: &str, end: &str) -> Vec<String> {
    code.match_indices(start)
        .filter_map(|(i, _)| {
            let rest = &code[i + start.len()..];
            rest.find(end).map(|j| rest[..j].trim().to_string())
        })
        .collect()
}

#[test]
fn c_examples_are_well_formed_and_clean() {
    let c = blocks("c");
    assert!(!c.is_empty());
    for (i, code) in c.iter().enumerate() {
        let file = SourceFile::new(format!("annotations_{i}.c").as_str(), code.as_str());
        let report = check(&[file], &LockModel::builtin(), &CheckOptions::default());
        assert!(
            report.diagnostics.is_empty(),
            "example {i} reports {:?}",
            report.diagnostics
        );
    }
}

#[test]
fn rust_examples_use_the_same_vocabulary() {
    let c: Vec<String> = blocks("c")
        .iter()
        .flat_map(|b| annotations(b, "/* faultlock:", "*/"))
        .collect();
    // One attribute per line: `#[faultlock::A]` or
    // `#[cfg_attr(faultlock, faultlock::A)]`.
    let rust: Vec<String> = blocks("rust")
        .iter()
        .flat_map(|b| b.lines().map(str::to_string).collect::<Vec<_>>())
        .filter_map(|line| {
            let at = line.find("faultlock::")? + "faultlock::".len();
            let body = line[at..].trim_end().strip_suffix(")]")?;
            let body = if line.contains("cfg_attr(") {
                body.strip_suffix(')')?
            } else {
                body
            };
            Some(format!("{body})"))
        })
        .collect();
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c, rust);
}
