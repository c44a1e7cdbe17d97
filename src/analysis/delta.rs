//! What one cached run (the language server's re-check) leaves for the
//! next, by function id, so that the next one can skip the functions
//! whose inputs did not change without making their keys: valid only
//! while the program keeps its [`Shape`] (the same definitions, in the
//! same files and order, with the same names, parameters and
//! annotations) and its call graph (see [`super::graph::Graph::update`]).
//! Then a function's key ([`super::memo::key`]) can only change through
//! its IR, its entry context or a summary its key reads, which is what
//! the skipping tests.

use super::graph::Graph;
use super::program::{FuncId, Program};
use super::summary_cache::PerFn;
use super::{EntryContext, FnResult};
use crate::ir::TypeRef;
use crate::source::Span;
use std::sync::Arc;

/// Everything about the program's definitions a key reads, except their
/// bodies.
#[derive(PartialEq, Eq)]
pub struct Shape {
    files: Vec<usize>,
    heads: Vec<(String, Vec<(String, TypeRef)>)>,
    /// The annotations of annotated definitions (absolute spans).
    annotated: Vec<(FuncId, String)>,
    /// The annotated declarations.
    declared: Vec<(String, String)>,
}

impl Shape {
    pub fn new(program: &Program) -> Self {
        let annotations = &program.annotations;
        let mut declared: Vec<(String, String)> = annotations
            .declarations()
            .map(|(n, a)| (n.clone(), format!("{a:?}")))
            .collect();
        declared.sort();
        Shape {
            files: program.funcs.iter().map(|(file, _)| *file).collect(),
            heads: program
                .funcs
                .iter()
                .map(|(_, f)| {
                    let params = f.params.iter().map(|p| (p.name.clone(), p.ty.clone()));
                    (f.name.clone(), params.collect())
                })
                .collect(),
            annotated: (0..program.funcs.len())
                .filter_map(|id| annotations.of(id).map(|a| (id, format!("{a:?}"))))
                .collect(),
            declared,
        }
    }
}

/// The final pass over one function in the last run.
pub struct Final {
    /// Whether the function was analysed in the final pass.
    pub relevant: bool,
    /// Its key, extent, narrowed entry context and result.
    pub result: Option<(String, Span, EntryContext, FnResult)>,
}

/// What the last cached run leaves for the next.
pub struct Prev {
    pub shape: Shape,
    pub ir: Vec<Arc<str>>,
    pub contexts: Vec<Option<EntryContext>>,
    pub graph: Graph,
    pub per_fn: PerFn,
    /// The final pass, by function id.
    pub finals: Vec<Final>,
}
