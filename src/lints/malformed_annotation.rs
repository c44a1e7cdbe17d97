//! `malformed_annotation`: a lock annotation that does not parse, or names
//! something the function does not have. Read from the IR directly: a
//! malformed annotation means nothing to the analysis.

use super::context::LintCx;
use crate::diag::Diagnostic;
use crate::ir::{Annotation, Var};
use crate::model::annotation;

pub const ID: &str = "malformed_annotation";

pub fn check(cx: &LintCx, out: &mut Vec<Diagnostic>) {
    for (file, unit) in cx.units.iter().enumerate() {
        let functions = unit
            .functions
            .iter()
            .map(|f| (&f.name, &f.params, &f.annotations));
        let declarations = unit
            .declarations
            .iter()
            .map(|d| (&d.name, &d.params, &d.annotations));
        for (name, params, anns) in functions.chain(declarations) {
            for a in anns {
                if let Some(d) = malformed(cx, file, name, params, a) {
                    out.push(d);
                }
            }
        }
    }
}

fn malformed(
    cx: &LintCx,
    file: usize,
    name: &str,
    params: &[Var],
    a: &Annotation,
) -> Option<Diagnostic> {
    let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    let err = annotation::parse(&a.text, &names).err()?;
    let message = format!("malformed lock annotation on `{name}()`: {err}");
    let mut d = cx.diag(ID, file, Some(name), a.span, message);
    d.notes.push(
        "the annotation is ignored until it is fixed; see `faultlock explain annotations`"
            .to_string(),
    );
    Some(d)
}
