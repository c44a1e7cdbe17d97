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
        let anchors: Vec<_> = released_at
            .iter()
            .map(|(span, by)| cx.label(l.file, *span, format!("{lock} released here by `{by}()`")))
            .collect();
        d.labels.extend(anchors.iter().cloned());
        d.notes.push(
            "callers rely on the annotation instead of the body: fix the body, or the annotation if it is the body that is right"
                .to_string(),
        );
        d.path = super::path::path(cx, l, &anchors);
        // The annotation is what the path is checked against: its first step.
        d.path.insert(0, d.labels[0].clone());
        out.push(d);
    }
}
