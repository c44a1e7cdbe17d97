//! What one cached run (the language server's re-check) leaves for the
//! next, by function id, so that the next one can skip the functions
//! whose inputs did not change without making their keys: valid only
//! while the program keeps its [`Shape`] (the same definitions, in the
//! same files and order, with the same names, parameters and
//! annotations) and its call graph (see [`super::graph::Graph::update`]).
//! Then a function's key ([`super::memo::key`]) can only change through
//! its IR, its entry context or a summary its key reads, which is what
//! the skipping tests.

use super::annotations::Annotated;
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
    annotated: Vec<(FuncId, Arc<Annotated>)>,
    /// The annotated declarations, by name.
    declared: Vec<(String, Vec<Arc<Annotated>>)>,
}

impl Shape {
    pub fn new(program: &Program) -> Self {
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
            annotated: annotated(program).map(|(id, a)| (id, a.clone())).collect(),
            declared: declared(program)
                .into_iter()
                .map(|(n, a)| (n.clone(), a.clone()))
                .collect(),
        }
    }

    /// Whether `program` has this shape (compared in place: the
    /// re-check of an edit that keeps the shape builds none).
    pub fn matches(&self, program: &Program) -> bool {
        let funcs = &program.funcs;
        self.files.len() == funcs.len()
            && self.files.iter().zip(funcs).all(|(&a, (b, _))| a == *b)
            && self
                .heads
                .iter()
                .zip(funcs)
                .all(|((name, params), (_, f))| {
                    *name == f.name
                        && params.len() == f.params.len()
                        && params
                            .iter()
                            .zip(&f.params)
                            .all(|((n, t), p)| *n == p.name && *t == p.ty)
                })
            && self
                .annotated
                .iter()
                .map(|(id, a)| (*id, a))
                .eq(annotated(program))
            && self
                .declared
                .iter()
                .map(|(n, a)| (n, a))
                .eq(declared(program))
    }
}

/// The annotated definitions of `program`, by id.
fn annotated<'a>(program: &'a Program) -> impl Iterator<Item = (FuncId, &'a Arc<Annotated>)> {
    (0..program.funcs.len()).filter_map(|id| program.annotations.of(id).map(|a| (id, a)))
}

/// The annotated declarations of `program`, sorted by name.
fn declared<'a>(program: &'a Program) -> Vec<(&'a String, &'a Vec<Arc<Annotated>>)> {
    let mut v: Vec<_> = program.annotations.declarations().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
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
