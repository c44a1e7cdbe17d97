//! Path-sensitive lock analysis.
//!
//! Each function is analysed by a forward dataflow over its CFG in which a
//! block holds a small set of [`State`]s (one per combination of path facts
//! that matter: the fault flag, RETRY bits of results, NULL-ness, trylock
//! outcomes). Calls to the lock model split states by their outcome; tests
//! of those facts prune infeasible ones, so correlated branches stay
//! correlated. When a block collects more than [`MAX_STATES`] states they
//! are joined into one, which only loses facts (fewer findings, never more).
//!
//! Interprocedural: [`summary`] infers, bottom-up over the call graph, an
//! [`crate::model::Api`]-shaped summary of each analysed function, applied at
//! its call sites like a model entry.

mod context;
mod engine;
mod eval;
pub mod finding;
mod state;
pub mod summary;
mod transfer;
mod value;

pub use context::{entry_contexts, EntryContext};
pub use finding::Finding;

use crate::ir::{Function, Unit};
use crate::model::LockModel;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use summary::Summaries;
use value::{ObjId, Objs};

/// States kept apart per block before they are joined.
pub const MAX_STATES: usize = 16;
/// Block visits per function before the analysis stops (and says so).
pub const MAX_VISITS: usize = 40_000;

/// One finding with where it was made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    pub file: usize,
    pub function: String,
    pub finding: Finding,
}

/// The per-function analysis.
pub struct FnAnalyzer<'a> {
    pub model: &'a LockModel,
    pub func: &'a Function,
    pub summaries: &'a Summaries,
    pub ctx: EntryContext,
    pub objs: Objs,
    pub findings: BTreeSet<Finding>,
    /// VMA objects this function dereferences (for summaries).
    pub derefs: BTreeSet<ObjId>,
    /// mmap_lock asserts reached with the lock's status unknown: what the
    /// function needs its caller to hold (mm object, call chain).
    pub requirements: BTreeSet<(ObjId, Vec<String>)>,
    pub bounded: bool,
}

impl<'a> FnAnalyzer<'a> {
    pub fn new(
        model: &'a LockModel,
        func: &'a Function,
        summaries: &'a Summaries,
        ctx: EntryContext,
    ) -> Self {
        FnAnalyzer {
            model,
            func,
            summaries,
            ctx,
            objs: Objs::default(),
            findings: BTreeSet::new(),
            derefs: BTreeSet::new(),
            requirements: BTreeSet::new(),
            bounded: false,
        }
    }

    pub fn report(&mut self, f: Finding) {
        self.findings.insert(f);
    }
}

/// Analyse every function of every unit together; findings are sorted and
/// deterministic whatever the thread count.
pub fn analyze(units: &[Unit], model: &LockModel) -> Vec<Located> {
    let funcs: Vec<(usize, &Function)> = units
        .iter()
        .enumerate()
        .flat_map(|(i, u)| u.functions.iter().map(move |f| (i, f)))
        .collect();
    let contexts = entry_contexts(units, model);
    let summaries = summary::infer(&funcs, model, &contexts);
    let mut out: Vec<Located> = funcs
        .par_iter()
        .filter(|(_, f)| summary::relevant(f, model, &summaries))
        .flat_map_iter(|&(file, f)| {
            let ctx = contexts.get(f.name.as_str()).copied().unwrap_or_default();
            let mut a = FnAnalyzer::new(model, f, &summaries, ctx);
            let entries = a.entry_states(false);
            a.run(entries);
            if a.bounded {
                a.findings.insert(Finding::Bounded { at: f.name_span });
            }
            merge_variants(a.findings)
                .into_iter()
                .map(move |finding| Located {
                    file,
                    function: f.name.clone(),
                    finding,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One finding per kind and place: the same use reached under both fault
/// locks (flag set and clear) is one finding about "the fault lock".
fn merge_variants(findings: BTreeSet<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        let same = out.iter_mut().find(|g| {
            std::mem::discriminant(*g) == std::mem::discriminant(&f) && g.primary() == f.primary()
        });
        match (same, f) {
            (
                Some(Finding::UseAfterUnlock { lock, .. }),
                Finding::UseAfterUnlock { lock: other, .. },
            ) => {
                if *lock != other {
                    *lock = "fault lock";
                }
            }
            (Some(_), _) => {}
            (None, f) => out.push(f),
        }
    }
    out
}

/// Function name → contexts, shared by the passes.
pub type Contexts = HashMap<String, EntryContext>;
