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
    /// Level of each function (its SCC's).
    pub level: Vec<usize>,
    /// Per level, the SCCs at it with a called function (those that get
    /// summaries), in SCC order.
    pub batches: Vec<Vec<usize>>,
    /// Per level, the functions at it, by id.
    pub at_level: Vec<Vec<FuncId>>,
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
        // Level of each SCC: 1 + the highest level among its callees' SCCs.
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
        let level: Vec<usize> = (0..n).map(|i| scc_level[scc_of[i]]).collect();
        let levels = scc_level.iter().copied().max().map_or(0, |m| m + 1);
        let mut batches = vec![Vec::new(); levels];
        for (i, scc) in sccs.iter().enumerate() {
            if scc.iter().any(|&v| called[v]) {
                batches[scc_level[i]].push(i);
            }
        }
        let mut at_level = vec![Vec::new(); levels];
        for (id, &l) in level.iter().enumerate() {
            at_level[l].push(id);
        }
        Graph {
            batches,
            at_level,
            callees,
            deps,
            sccs,
            level,
        }
    }
}
