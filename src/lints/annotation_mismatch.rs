//! `annotation_mismatch`: a return path of an annotated function that
//! contradicts its annotation.

use super::context::LintCx;
use crate::analysis::Finding;
use crate::diag::Diagnostic;

pub const ID: &str = "annotation_mismatch";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for l in cx.findings {
        let Finding::AnnotationMismatch {
            at,
            annotation,
            ann_file,
            ann_at,
            lock,
            problem,
            released_at,
        } = &l.finding
        else {
            continue;
        };
        let message = format!(
            "`{}()` returns {}, contradicting `{annotation}`",
            l.function,
            problem.replace("LOCK", lock)
        );
        let mut d = cx.diag(ID, l.file, Some(&l.function), *at, message);
        d.labels
            .push(cx.label(*ann_file, *ann_at, format!("annotated `{annotation}` here")));
        if let Some((span, by)) = released_at {
            d.labels
                .push(cx.label(l.file, *span, format!("{lock} released here by `{by}()`")));
        }
        d.notes.push(
            "callers rely on the annotation instead of the body: fix the body, or the annotation if it is the body that is right"
                .to_string(),
        );
        let anchors = d
            .labels
            .iter()
            .filter(|l| l.message.contains(" released here"))
            .cloned()
            .collect::<Vec<_>>();
        d.path = super::path::path(cx, l, &anchors);
        // The annotation is what the path is checked against: its first step.
        d.path.insert(0, d.labels[0].clone());
        out.push(d);
    }
}
