//! The call graph of one run: each function's callees, the recursive
//! cycles (SCCs) and their levels (callees first), and what each
//! function's analysis key reads ([`memo::key`](super::memo::key)). The
//! language server keeps it from one re-check to the next when the
//! edited functions call the same definitions as before.

use super::program::{FuncId, Program};
use super::summary::{called_names, tarjan};
use crate::model::LockModel;

pub struct Graph {
    /// The definitions each function calls (model functions left out).
    pub callees: Vec<Vec<FuncId>>,
    /// The definitions whose summaries each function's key reads: every
    /// name it calls, its own name and the indirect-call name resolved.
    pub deps: Vec<Vec<FuncId>>,
    /// Strongly connected components, callees first.
    pub sccs: Vec<Vec<FuncId>>,
    /// Level of each SCC: 1 + the highest level among its callees' SCCs.
    pub scc_level: Vec<usize>,
    /// Level of each function (its SCC's).
    pub level: Vec<usize>,
    /// Whether any function calls it.
    pub called: Vec<bool>,
}

/// The callees and the key's definitions of one function.
fn edges(program: &Program, model: &LockModel, id: FuncId) -> (Vec<FuncId>, Vec<FuncId>) {
    let (file, f) = program.funcs[id];
    let names = called_names(f);
    let mut callees: Vec<FuncId> = names
        .iter()
        .filter(|n| model.api(n).is_none())
        .flat_map(|n| program.resolve(file, n).iter().copied())
        .collect();
    callees.sort_unstable();
    callees.dedup();
    let mut deps: Vec<FuncId> = names
        .iter()
        .copied()
        .chain([f.name.as_str(), ""])
        .flat_map(|n| program.resolve(file, n).iter().copied())
        .collect();
    deps.sort_unstable();
    deps.dedup();
    (callees, deps)
}

impl Graph {
    pub fn new(program: &Program, model: &LockModel) -> Self {
        let (callees, deps) = (0..program.funcs.len())
            .map(|id| edges(program, model, id))
            .unzip();
        Graph::from_edges(callees, deps)
    }

    /// This graph (made for the previous run) for `program`, in which
    /// only the functions `changed` may differ from that run's; `None`
    /// when any of their edges differ.
    pub fn update(self, program: &Program, model: &LockModel, changed: &[FuncId]) -> Option<Graph> {
        if self.callees.len() != program.funcs.len() {
            return None;
        }
        for &id in changed {
            let (callees, deps) = edges(program, model, id);
            if callees != self.callees[id] || deps != self.deps[id] {
                return None;
            }
        }
        Some(self)
    }

    fn from_edges(callees: Vec<Vec<FuncId>>, deps: Vec<Vec<FuncId>>) -> Self {
        let n = callees.len();
        let mut called = vec![false; n];
        callees.iter().flatten().for_each(|&c| called[c] = true);
        let sccs = tarjan(&callees);
        let mut scc_of = vec![0usize; n];
        for (i, scc) in sccs.iter().enumerate() {
            for &v in scc {
                scc_of[v] = i;
            }
        }
        let mut scc_level = vec![0usize; sccs.len()];
        for (i, scc) in sccs.iter().enumerate() {
            // Tarjan emits callee SCCs first, so their levels are final here.
            scc_level[i] = scc
                .iter()
                .flat_map(|&v| &callees[v])
                .map(|&c| scc_of[c])
                .filter(|&c| c != i)
                .map(|c| scc_level[c] + 1)
                .max()
                .unwrap_or(0);
        }
        let level = (0..n).map(|i| scc_level[scc_of[i]]).collect();
        Graph {
            callees,
            deps,
            sccs,
            scc_level,
            level,
            called,
        }
    }
}
