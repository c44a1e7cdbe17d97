//! Function summaries, inferred bottom-up over the call graph.
//!
//! A summary has the shape of a lock-model entry ([`Api`]): what the
//! function acquires, releases or forgets of the locks reachable from its
//! parameters, under which return condition (RETRY bit or truthiness), which
//! VMA parameters it dereferences, and which mmap_locks it asserts with no
//! lock of its own (with the call chain to the assert).

use super::annotations::Annotated;
use super::assert_cond::AssertCond;
use super::program::{FuncId, Program};
use super::state::{LockKey, State, Status};
use super::summary_cond::{partition, Guard, Outcome, Row};
use super::value::{BitVal, ObjId, Val};
use super::{Contexts, FnAnalyzer};
use crate::ir::{Callee, Function, StmtKind};
use crate::model::{
    Api, Effect, EffectKind, LockKind, LockModel, ParamCond, PathExpr, ResultsNeed, Term, When,
};
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use std::sync::Arc;

/// Summaries by function, looked up through the program's name
/// resolution.
#[derive(Clone)]
pub struct Summaries<'p> {
    pub program: &'p Program<'p>,
    by_func: HashMap<FuncId, Arc<Summary>>,
    /// Annotated bodiless declarations, by name.
    declared: HashMap<String, Vec<Summary>>,
}

impl<'p> Summaries<'p> {
    pub fn new(program: &'p Program<'p>, model: &LockModel) -> Self {
        // A declaration has no body to tell which VMAs it dereferences:
        // like an unknown function, it uses every VMA passed to it.
        let declared = program
            .annotations
            .declarations()
            .map(|(name, anns)| {
                let sums = anns
                    .iter()
                    .map(|a| {
                        let mut s = annotated(a.clone(), None);
                        // Uses come first: they happen while the caller's
                        // locks are still held.
                        for (index, p) in a.params.iter().enumerate().rev() {
                            if p.ptr == 1 && p.base == model.fault.vma_struct {
                                let path = PathExpr::Param {
                                    index,
                                    fields: vec![],
                                };
                                let e = effect(EffectKind::Uses, LockKind::Use, path, When::Always);
                                s.api.effects.insert(0, e);
                                s.chains.insert(0, Vec::new());
                            }
                        }
                        s
                    })
                    .collect();
                (name.clone(), sums)
            })
            .collect();
        Summaries {
            program,
            by_func: HashMap::new(),
            declared,
        }
    }

    /// The summary of what a call to `name` from `file` reaches, when every
    /// definition it can reach has one and they agree.
    pub fn get(&self, file: usize, name: &str) -> Option<&Summary> {
        let ids = self.program.resolve(file, name);
        if ids.is_empty() {
            let all = self.declared.get(name)?;
            return all
                .iter()
                .find(|s| s.annotated.as_ref().is_some_and(|a| a.file == file))
                .or(all.first());
        }
        let first = self.by_func.get(ids.first()?)?;
        ids[1..]
            .iter()
            .all(|i| self.by_func.get(i) == Some(first))
            .then_some(&**first)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub api: Api,
    /// For each `Assert` effect (same index as `api.effects`), the call
    /// chain below this function that reaches the assert.
    pub chains: Vec<Vec<String>>,
    /// Result bits some return definitely carries (`VM_FAULT_RETRY`): calls
    /// split on them even where no effect depends on them.
    pub result_bits: Vec<String>,
    /// The one exact value every RETRY-carrying return has
    /// (`return VM_FAULT_RETRY;`), if they agree.
    pub retry_value: Option<BitVal>,
    /// Every return is known to carry no RETRY.
    pub no_retry: bool,
    /// No path of the function reaches a return.
    pub noreturn: bool,
    /// The function's lock annotations, when it has some: then its lock
    /// effects are exactly theirs.
    pub annotated: Option<Arc<Annotated>>,
    /// Fields of the parameters' objects the function writes (`lock->vma =
    /// vma`), so lock state kept in a struct follows it to the caller.
    pub stores: Vec<Store>,
    /// For each effect (same index as `api.effects`; missing or empty: none),
    /// the parameter values it depends on (`releases mmap(ctx->mm)` only when
    /// `ctx->mmap_locked` is set).
    pub guards: Vec<Vec<Guard>>,
    /// For `Assert` effects reached only for some argument values: the
    /// effect's index and the comparisons it needs.
    pub conds: Vec<(usize, Vec<AssertCond>)>,
}

impl Summary {
    /// The comparisons the assert effect `i` needs (none: always reached).
    pub fn assert_conds(&self, i: usize) -> &[AssertCond] {
        self.conds
            .iter()
            .find(|(j, _)| *j == i)
            .map_or(&[], |(_, c)| c.as_slice())
    }
}

/// A field of a parameter's object written by a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The object (`lock`) and the field written (`vma`).
    pub object: PathExpr,
    pub field: String,
    /// What it holds after the call: the result (when `nonnull`: only on
    /// non-NULL results), NULL, or something unknown.
    pub value: Stored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Result {
        nonnull: bool,
    },
    Null,
    /// A constant (`ctx->mmap_locked = true`); with `when`, only on results
    /// of that truthiness, the field left as it was on the others (`if
    /// (!ret) ctx->mmap_locked = true; return ret;`).
    Int {
        value: i64,
        when: Option<bool>,
    },
    Unknown,
}

fn outcome(entry: &Status, exit: &Status) -> Outcome {
    match (entry, exit) {
        (Status::Released { .. }, _) => Outcome::Forget,
        // Taken and released again inside, or a conditional acquire that
        // failed: no net effect for the caller.
        (
            Status::NotHeld | Status::Unknown,
            Status::Released { own: true, .. } | Status::Failed { .. },
        ) => Outcome::Unchanged,
        (_, Status::Released { may: false, .. }) => Outcome::Release,
        (_, Status::Released { may: true, .. }) => Outcome::MayRelease,
        (Status::Held { .. }, Status::Held { .. })
        | (Status::NotHeld | Status::Unknown, Status::NotHeld | Status::Unknown)
            if std::mem::discriminant(entry) == std::mem::discriminant(exit)
                || matches!(exit, Status::NotHeld) =>
        {
            Outcome::Unchanged
        }
        (Status::NotHeld | Status::Unknown, Status::Held { write, .. }) => Outcome::Acquire {
            write: Some(*write),
        },
        _ => Outcome::Forget,
    }
}

/// Infer summaries for every analysed function that has an analysed
/// caller; also returns each function's level in the call graph (callees
/// have lower levels than their callers, recursion shares one).
pub fn infer<'p>(
    program: &'p Program<'p>,
    model: &LockModel,
    contexts: &Contexts,
) -> (Summaries<'p>, Vec<usize>) {
    let graph = super::graph::Graph::new(program, model);
    let summaries = infer_memo(program, model, contexts, None, &graph);
    (summaries, graph.level)
}

/// [`infer`], reusing unchanged summaries through `memo` (see
/// [`super::summary_cache`]).
pub(super) fn infer_memo<'p>(
    program: &'p Program<'p>,
    model: &LockModel,
    contexts: &Contexts,
    memo: Option<&super::summary_cache::SummaryMemo>,
    graph: &super::graph::Graph,
) -> Summaries<'p> {
    let callees = &graph.callees;
    let mut summaries = Summaries::new(program, model);
    for batch in &graph.batches {
        // Cycles whose inputs did not change keep their summaries (cheap,
        // in order); the others are solved in parallel.
        let mut results: Vec<Vec<(usize, Option<Arc<Summary>>)>> = Vec::new();
        let mut todo: Vec<&Vec<usize>> = Vec::new();
        for &k in batch {
            let scc = &graph.sccs[k];
            match memo.and_then(|m| m.reuse(scc, graph)) {
                Some(kept) => results.push(kept),
                None => todo.push(scc),
            }
        }
        let solved: Vec<Vec<(usize, Option<Arc<Summary>>)>> = match todo.len() {
            0 => Vec::new(),
            1 => vec![solve_scc(
                todo[0], model, contexts, &summaries, callees, memo,
            )],
            _ => todo
                .par_iter()
                .map(|scc| solve_scc(scc, model, contexts, &summaries, callees, memo))
                .collect(),
        };
        results.extend(solved);
        for (i, s) in results.into_iter().flatten() {
            // Annotations override inference.
            let s = match program.annotations.of(i) {
                Some(a) => Some(Arc::new(annotated(a.clone(), s.map(Arc::unwrap_or_clone)))),
                None => s,
            };
            if let Some(m) = memo {
                m.note(i, s.as_ref());
            }
            if let Some(s) = s {
                summaries.by_func.insert(i, s);
            }
        }
    }
    summaries
}

fn solve_scc(
    scc: &[usize],
    model: &LockModel,
    contexts: &Contexts,
    done: &Summaries,
    callees: &[Vec<usize>],
    memo: Option<&super::summary_cache::SummaryMemo>,
) -> Vec<(usize, Option<Arc<Summary>>)> {
    let recursive = scc.len() > 1 || callees[scc[0]].contains(&scc[0]);
    if !recursive {
        let i = scc[0];
        let s = match memo {
            Some(m) => m.summarize(i, model, contexts, done),
            None => summarize(i, model, contexts, done).map(Arc::new),
        };
        return vec![(i, s)];
    }
    match memo {
        Some(m) => m.solve_scc(scc, model, contexts, done, || {
            solve_recursive(scc, model, contexts, done)
        }),
        None => solve_recursive(scc, model, contexts, done),
    }
}

/// Recursion: iterate from "unknown" to a fixpoint, within a bound.
fn solve_recursive(
    scc: &[usize],
    model: &LockModel,
    contexts: &Contexts,
    done: &Summaries,
) -> Vec<(usize, Option<Arc<Summary>>)> {
    let mut local = done.clone();
    let mut last: Vec<(usize, Option<Arc<Summary>>)> = Vec::new();
    for _ in 0..3 {
        let now: Vec<(usize, Option<Arc<Summary>>)> = scc
            .iter()
            .map(|&i| (i, summarize(i, model, contexts, &local).map(Arc::new)))
            .collect();
        if now == last {
            return now;
        }
        for (i, s) in &now {
            match s {
                Some(s) => local.by_func.insert(*i, s.clone()),
                None => local.by_func.remove(i),
            };
        }
        last = now;
    }
    scc.iter().map(|&i| (i, None)).collect()
}

/// The summary of an annotated function: its annotations' effects, then,
/// from the inferred summary (if any), the VMAs it uses and returns.
fn annotated(ann: Arc<Annotated>, inferred: Option<Summary>) -> Summary {
    let mut api = ann.api.clone();
    let mut chains = vec![Vec::new(); api.effects.len()];
    let (mut result_bits, mut noreturn, mut stores) = (Vec::new(), false, Vec::new());
    if let Some(s) = inferred {
        stores = s.stores;
        for (e, c) in s.api.effects.into_iter().zip(s.chains) {
            if matches!(e.kind, EffectKind::Uses | EffectKind::ReturnsVma) {
                api.effects.push(e);
                chains.push(c);
            }
        }
        result_bits = s.result_bits;
        noreturn = s.noreturn;
    }
    Summary {
        api,
        chains,
        result_bits,
        retry_value: None,
        no_retry: false,
        noreturn,
        annotated: Some(ann),
        stores,
        guards: Vec::new(),
        conds: Vec::new(),
    }
}

pub(super) fn called_names(f: &Function) -> Vec<&str> {
    let mut out = Vec::new();
    for s in f.blocks.iter().flat_map(|b| &b.stmts) {
        match &s.kind {
            StmtKind::Call {
                callee: Callee::Direct { name, .. },
                ..
            } => out.push(name.as_str()),
            StmtKind::Opaque { calls, .. } => out.extend(calls.iter().map(String::as_str)),
            _ => {}
        }
    }
    out
}

/// [`summarize_inner`], with a failure (a defect in faultlock) giving no
/// summary, so the callers treat the function as unknown.
pub(super) fn summarize(
    id: FuncId,
    model: &LockModel,
    contexts: &Contexts,
    summaries: &Summaries,
) -> Option<Summary> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        summarize_inner(id, model, contexts, summaries)
    }))
    .ok()
    .flatten()
}

fn summarize_inner(
    id: FuncId,
    model: &LockModel,
    contexts: &Contexts,
    summaries: &Summaries,
) -> Option<Summary> {
    let (file, f) = summaries.program.funcs[id];
    if !relevant(file, f, model, summaries) {
        return Some(Summary {
            api: Api {
                params: f.params.iter().map(|p| p.name.clone()).collect(),
                effects: Vec::new(),
                results_need: None,
                exclusive_with: Vec::new(),
            },
            chains: Vec::new(),
            result_bits: Vec::new(),
            retry_value: None,
            no_retry: false,
            noreturn: false,
            annotated: None,
            stores: Vec::new(),
            guards: Vec::new(),
            conds: Vec::new(),
        });
    }
    let ctx = contexts.get(&id).copied().unwrap_or_default();
    let mut a = FnAnalyzer::new(model, file, f, summaries, ctx);
    let entries = a.entry_states(true);
    let exits = a.run(entries.clone());
    if a.bounded {
        return None;
    }
    let params: Vec<String> = f.params.iter().map(|p| p.name.clone()).collect();
    let to_path = |a: &FnAnalyzer, o: ObjId| -> Option<PathExpr> {
        let (root, fields) = a.objs.path(o)?;
        let index = params.iter().position(|p| *p == root)?;
        Some(PathExpr::Param { index, fields })
    };
    let mut keys: Vec<LockKey> = entries
        .iter()
        .chain(exits.iter().map(|e| &e.state))
        .flat_map(|s| s.locks.keys().copied())
        .collect();
    keys.sort();
    keys.dedup();
    let retry = model.fault.retry_bit.clone();
    let flag_of = |a: &mut FnAnalyzer, s: &State| -> Option<bool> {
        let vmf = s.fault?;
        let ff = model.fault.flags_field.clone();
        let flags = a.load_field(s, vmf, &ff);
        a.bits_of(s, &flags).bit(&model.fault.vma_lock_flag)
    };
    let entry_flags: Vec<Option<bool>> = entries.iter().map(|s| flag_of(&mut a, s)).collect();
    let mut effects = Vec::new();
    let mut chains = Vec::new();
    let mut guarded: Vec<(usize, Vec<Guard>)> = Vec::new();
    let facts = |a: &mut FnAnalyzer, e: &super::engine::Exit| -> (Option<bool>, Option<bool>) {
        let v = e.value.clone().unwrap_or(Val::Top);
        let bits = a.bits_of(&e.state, &v);
        (bits.bit(&retry), result_truthy(a, f, e))
    };
    // With a `struct vm_fault *` parameter, first try to say it over the
    // fault lock as a whole (the per-VMA lock on flag-set paths, mmap_lock
    // on the others): "releases fault_lock(vmf) when it returns RETRY".
    let mut handled: Vec<LockKey> = Vec::new();
    if let Some(vmf) = entries.first().and_then(|s| s.fault) {
        if let Some(vmf_path) = to_path(&a, vmf) {
            let vma = a.objs.field(vmf, &model.fault.vma_field);
            let mm = a.objs.field(vma, &model.fault.mm_field);
            let held = Status::Held {
                write: false,
                since: None,
            };
            let mut rows = Vec::new();
            for e in &exits {
                let Some(flag) = flag_of(&mut a, &e.state) else {
                    rows.clear();
                    break;
                };
                let (fault, other) = if flag {
                    (LockKey::Vma(vma), LockKey::Mmap(mm))
                } else {
                    (LockKey::Mmap(mm), LockKey::Vma(vma))
                };
                if outcome(&Status::NotHeld, e.state.status(other)) != Outcome::Unchanged {
                    rows.clear();
                    break;
                }
                let (retry, truthy) = facts(&mut a, e);
                let out = outcome(&held, e.state.status(fault));
                rows.push(Row {
                    retry,
                    truthy,
                    out,
                    facts: Vec::new(),
                });
            }
            let parts = partition(&rows, &retry);
            if !rows.is_empty()
                && parts.iter().all(|(_, _, o)| {
                    matches!(
                        o,
                        Outcome::Unchanged | Outcome::Release | Outcome::MayRelease
                    )
                })
            {
                handled = vec![LockKey::Vma(vma), LockKey::Mmap(mm)];
                for (when, _, out) in parts {
                    let kind = match out {
                        Outcome::Release => EffectKind::Release,
                        Outcome::MayRelease => EffectKind::MayRelease,
                        _ => continue,
                    };
                    effects.push(effect(kind, LockKind::Fault, vmf_path.clone(), when));
                    chains.push(Vec::new());
                }
            }
        }
    }
    for key in keys.into_iter().filter(|k| !handled.contains(k)) {
        let (obj, lock_kind) = match key {
            LockKey::Mmap(o) => (o, LockKind::MmapRead),
            LockKey::Vma(o) => (o, LockKind::VmaRead),
            LockKey::Hugetlb(o) => (o, LockKind::HugetlbVmaRead),
        };
        let Some(path) = to_path(&a, obj) else {
            continue;
        };
        let mut rows: Vec<Row> = Vec::new();
        for e in &exits {
            let flag = flag_of(&mut a, &e.state);
            let entry = entries
                .iter()
                .zip(&entry_flags)
                .find(|(_, f)| **f == flag || entries.len() == 1)
                .map(|(s, _)| s.status(key).clone())
                .unwrap_or(Status::Unknown);
            let (retry, truthy) = facts(&mut a, e);
            let out = outcome(&entry, e.state.status(key));
            let facts = entry_facts(&a, &e.state, &to_path);
            rows.push(Row {
                retry,
                truthy,
                out,
                facts,
            });
        }
        for (when, guard, out) in partition(&rows, &retry) {
            let (kind, k) = match out {
                Outcome::Unchanged => continue,
                // Taken for read or write by a parameter: the mode is not
                // said, only that it is taken.
                Outcome::Acquire { write } => match (write, lock_kind) {
                    (Some(true), LockKind::MmapRead) => (EffectKind::Acquire, LockKind::MmapWrite),
                    (None, LockKind::MmapRead) => (EffectKind::Acquire, LockKind::Mmap),
                    _ => (EffectKind::Acquire, lock_kind),
                },
                Outcome::Release => (EffectKind::Release, lock_kind),
                Outcome::MayRelease => (EffectKind::MayRelease, lock_kind),
                Outcome::Forget => (EffectKind::Forget, lock_kind),
            };
            if !guard.is_empty() {
                guarded.push((effects.len(), guard));
            }
            effects.push(effect(kind, k, path.clone(), when));
            chains.push(Vec::new());
        }
    }
    let mut conds = Vec::new();
    for (mm, chain, cs) in super::assert_cond::merge(&a.requirements) {
        if let Some(path) = to_path(&a, mm) {
            let cs: Vec<AssertCond> = cs
                .into_iter()
                .filter_map(|(o, consts, op)| {
                    let value = to_path(&a, o)?;
                    Some(AssertCond { value, consts, op })
                })
                .collect();
            if !cs.is_empty() {
                conds.push((effects.len(), cs));
            }
            effects.push(effect(
                EffectKind::Assert,
                LockKind::Mmap,
                path,
                When::Always,
            ));
            chains.push(chain);
        }
    }
    for (i, p) in f.params.iter().enumerate() {
        if p.ty.base == model.fault.vma_struct && a.derefs.contains(&a.objs.root(&p.name)) {
            let path = PathExpr::Param {
                index: i,
                fields: vec![],
            };
            effects.push(effect(EffectKind::Uses, LockKind::Use, path, When::Always));
            chains.push(Vec::new());
        }
    }
    if let Some((term, when)) = returned_vma(&mut a, &exits, &to_path) {
        // `lock_vma_under_rcu()` wrapped: the VMA comes back read-locked.
        if term.args == [PathExpr::Return] && returns_locked(&exits) {
            effects.push(effect(
                EffectKind::Acquire,
                LockKind::VmaRead,
                PathExpr::Return,
                when.clone(),
            ));
            chains.push(Vec::new());
        }
        effects.push(Effect {
            kind: EffectKind::ReturnsVma,
            term,
            when,
        });
        chains.push(Vec::new());
    }
    let result_bits = if exits.iter().any(|e| {
        let v = e.value.clone().unwrap_or(Val::Top);
        a.bits_of(&e.state, &v).bit(&retry) == Some(true)
    }) {
        vec![retry.clone()]
    } else {
        Vec::new()
    };
    let no_retry = !exits.is_empty()
        && exits.iter().all(|e| {
            let v = e.value.clone().unwrap_or(Val::Top);
            a.bits_of(&e.state, &v).bit(&retry) == Some(false)
        });
    let (retry_value, results_need) = if result_bits.is_empty() {
        (None, None)
    } else {
        retry_facts(&mut a, f, &exits, &retry)
    };
    let stores = stores(&mut a, f, &exits, &to_path);
    let mut guards = vec![Vec::new(); effects.len()];
    for (i, g) in guarded {
        guards[i] = g;
    }
    // Uses first: they happen while the caller's locks are still held (a
    // helper that reads the VMA, then releases its lock).
    // Guards, chains and assert conditions move with their effects.
    let mut cond_of: Vec<Option<Vec<AssertCond>>> = vec![None; effects.len()];
    for (i, cs) in conds {
        cond_of[i] = Some(cs);
    }
    let mut all: Vec<_> = effects
        .into_iter()
        .zip(chains)
        .zip(guards)
        .zip(cond_of)
        .map(|(((e, c), g), cs)| (e, c, g, cs))
        .collect();
    all.sort_by_key(|(e, ..)| e.kind != EffectKind::Uses);
    let (mut effects, mut chains, mut guards, mut conds) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (e, c, g, cs) in all {
        if let Some(cs) = cs {
            conds.push((effects.len(), cs));
        }
        effects.push(e);
        chains.push(c);
        guards.push(g);
    }
    Some(Summary {
        api: Api {
            params,
            effects,
            results_need,
            exclusive_with: Vec::new(),
        },
        chains,
        result_bits,
        retry_value,
        no_retry,
        noreturn: exits.is_empty(),
        annotated: None,
        stores,
        guards,
        conds,
    })
}

/// Whether an exit's result is non-zero, when known.
fn result_truthy(a: &FnAnalyzer, f: &Function, e: &super::engine::Exit) -> Option<bool> {
    let v = e.value.clone().unwrap_or(Val::Top);
    let bits = a.bits_of(&e.state, &v);
    match &v {
        Val::Obj(o) => e.state.truthy.get(o).copied().or(bits.truthy()),
        // `return -EINTR;`: an error code.
        Val::Top if f.ret.ptr == 0 && a.returns_constant_expr(e) => Some(true),
        _ => bits.truthy(),
    }
}

/// A non-zero constant stored on every exit, or on exactly the exits whose
/// result has one truthiness (the field left alone on the others).
fn int_stored(
    a: &FnAnalyzer,
    f: &Function,
    exits: &[super::engine::Exit],
    rows: &[(bool, Option<Stored>)],
) -> Option<Stored> {
    let value = rows.iter().find_map(|(_, s)| match s {
        Some(Stored::Int { value, .. }) => Some(*value),
        _ => None,
    })?;
    let int = Some(Stored::Int { value, when: None });
    if rows.iter().all(|(_, s)| *s == int) {
        return int;
    }
    let truth: Vec<Option<bool>> = exits.iter().map(|e| result_truthy(a, f, e)).collect();
    let t = truth[rows.iter().position(|(_, s)| *s == int)?]?;
    let exact = rows.iter().zip(&truth).all(|((_, s), r)| match r {
        Some(r) if *r == t => *s == int,
        Some(_) => s.is_none(),
        None => false,
    });
    exact.then_some(Stored::Int {
        value,
        when: Some(t),
    })
}

/// The truthiness a path knows of parameter values as they were on entry
/// (`if (ctx->mmap_locked)`), as guards.
fn entry_facts(
    a: &FnAnalyzer,
    st: &State,
    to_path: &dyn Fn(&FnAnalyzer, ObjId) -> Option<PathExpr>,
) -> Vec<Guard> {
    st.truthy
        .iter()
        .filter_map(|(o, t)| {
            let path = to_path(a, *o)?;
            Some(Guard { path, truthy: *t })
        })
        .collect()
}

/// Whether every non-NULL return holds the per-VMA lock of the returned
/// VMA, taken inside the function.
fn returns_locked(exits: &[super::engine::Exit]) -> bool {
    exits.iter().all(|e| match &e.value {
        Some(Val::Obj(o)) if e.state.truthy.get(o) != Some(&false) => matches!(
            e.state.status(LockKey::Vma(*o)),
            Status::Held { since: Some(_), .. }
        ),
        _ => true,
    })
}

/// The parameter fields written on the way to the exits, and what each
/// holds after the call.
fn stores(
    a: &mut FnAnalyzer,
    f: &Function,
    exits: &[super::engine::Exit],
    to_path: &dyn Fn(&FnAnalyzer, ObjId) -> Option<PathExpr>,
) -> Vec<Store> {
    let mut written: Vec<(ObjId, String)> = exits
        .iter()
        .flat_map(|e| e.state.heap.keys().cloned())
        .filter(|(o, _)| to_path(a, *o).is_some())
        .collect();
    written.sort();
    written.dedup();
    let mut out = Vec::new();
    for (o, field) in written {
        let Some(object) = to_path(a, o) else {
            continue;
        };
        // The field's value on entry, and whether a path knows it false.
        let entry = a.objs.field(o, &field);
        // Per exit: (result non-NULL?, what the field holds).
        let rows: Vec<(bool, Option<Stored>)> = exits
            .iter()
            .map(|e| {
                let ret = match &e.value {
                    Some(Val::Obj(r)) => Some(*r).filter(|r| e.state.truthy.get(r) != Some(&false)),
                    _ => None,
                };
                let stored = e.state.heap.get(&(o, field.clone())).map(|v| match v {
                    Val::Null | Val::Int(0) => Stored::Null,
                    Val::Int(n) => Stored::Int {
                        value: *n,
                        when: None,
                    },
                    Val::Obj(x) if Some(*x) == ret => Stored::Result { nonnull: false },
                    _ => Stored::Unknown,
                });
                // Left as it was, and known to be NULL or false then.
                let falsy = e.state.truthy.get(&entry) == Some(&false);
                (ret.is_some(), stored.or(falsy.then_some(Stored::Null)))
            })
            .collect();
        let all = |want: Stored| rows.iter().all(|(_, s)| *s == Some(want));
        let value = if all(Stored::Null) {
            Stored::Null
        } else if let Some(v) = int_stored(a, f, exits, &rows) {
            v
        } else if all(Stored::Result { nonnull: false }) {
            Stored::Result { nonnull: false }
        } else if rows.iter().all(|(nonnull, s)| {
            if *nonnull {
                *s == Some(Stored::Result { nonnull: false })
            } else {
                matches!(s, None | Some(Stored::Null))
            }
        }) {
            Stored::Result { nonnull: true }
        } else {
            Stored::Unknown
        };
        out.push(Store {
            object,
            field,
            value,
        });
    }
    out
}

/// `returns_vma`: every return that is not NULL returns a VMA protected by
/// the same lock, expressible over the parameters (or the result itself).
fn returned_vma(
    a: &mut FnAnalyzer,
    exits: &[super::engine::Exit],
    to_path: &dyn Fn(&FnAnalyzer, ObjId) -> Option<PathExpr>,
) -> Option<(Term, When)> {
    let mut term: Option<Term> = None;
    let mut some_null = false;
    for e in exits {
        let v = e.value.clone()?;
        let o = match v {
            Val::Null | Val::Int(0) => {
                some_null = true;
                continue;
            }
            Val::Obj(o) if e.state.truthy.get(&o) == Some(&false) => {
                some_null = true;
                continue;
            }
            Val::Obj(o) => o,
            _ => return None,
        };
        let t = match e.state.vmas.get(&o)?.prot? {
            LockKey::Mmap(m) => Term {
                kind: LockKind::Mmap,
                args: vec![to_path(a, m)?],
            },
            LockKey::Vma(v) if v == o => Term {
                kind: LockKind::VmaRead,
                args: vec![PathExpr::Return],
            },
            _ => return None,
        };
        if term.as_ref().is_some_and(|x| *x != t) {
            return None;
        }
        term = Some(t);
    }
    let when = if some_null {
        When::NonNull
    } else {
        When::Always
    };
    term.map(|t| (t, when))
}

/// Whether a function can matter to the analysis at all: it takes a fault
/// or a VMA, or calls something with a lock effect. Any other function has
/// an empty summary and no findings, and is not analysed.
pub fn relevant(file: usize, f: &Function, model: &LockModel, summaries: &Summaries) -> bool {
    let fm = &model.fault;
    if !f.annotations.is_empty()
        || summaries
            .program
            .annotations
            .declared(file, &f.name)
            .is_some()
    {
        return true;
    }
    if f.params
        .iter()
        .any(|p| p.ty.ptr == 1 && (p.ty.base == fm.fault_struct || p.ty.base == fm.vma_struct))
    {
        return true;
    }
    called_names(f).into_iter().any(|n| {
        model.noreturn.iter().any(|x| x == n)
            || model.api(n).is_some_and(|a| !a.effects.is_empty())
            || summaries.get(file, n).is_some_and(|s| !s.is_trivial())
    })
}

/// What the returns that may carry RETRY have in common: one exact value
/// (`return VM_FAULT_RETRY;` everywhere), and a condition on a scalar
/// parameter (a bool, or a bit of a flags value) that holds on all of them
/// (`blocking_page_setup(.., bool mmap_lock_held)` returns RETRY only when
/// it is false): a call passing the opposite gets no RETRY.
fn retry_facts(
    a: &mut FnAnalyzer,
    f: &crate::ir::Function,
    exits: &[super::engine::Exit],
    retry: &str,
) -> (Option<BitVal>, Option<ResultsNeed>) {
    let retrying: Vec<(&State, Val)> = exits
        .iter()
        .map(|e| (&e.state, e.value.clone().unwrap_or(Val::Top)))
        .filter(|(s, v)| a.bits_of(s, v).bit(retry) != Some(false))
        .collect();
    let values: Vec<BitVal> = retrying.iter().map(|(s, v)| a.bits_of(s, v)).collect();
    let exact = values
        .first()
        .filter(|b| b.exact && values.iter().all(|x| x == *b))
        .cloned();
    let results = vec![retry.to_string()];
    for (i, p) in f.params.iter().enumerate() {
        if p.ty.ptr != 0 || retrying.is_empty() {
            continue;
        }
        let root = a.objs.root(&p.name);
        let truthy: Vec<Option<bool>> = retrying
            .iter()
            .map(|(s, _)| s.truthy.get(&root).copied())
            .collect();
        if let Some(Some(t)) = truthy
            .first()
            .filter(|t| t.is_some() && truthy.iter().all(|x| x == *t))
        {
            return (
                exact,
                Some(ResultsNeed {
                    param: i,
                    cond: ParamCond::Truthy(*t),
                    results,
                }),
            );
        }
        let bits: Vec<BitVal> = retrying
            .iter()
            .map(|(s, _)| s.bits.get(&root).cloned().unwrap_or_default())
            .collect();
        let common = bits[0]
            .known
            .iter()
            .find(|(n, v)| bits.iter().all(|b| b.known.get(*n) == Some(*v)));
        if let Some((n, v)) = common {
            let cond = if *v {
                ParamCond::HasBit(n.clone())
            } else {
                ParamCond::LacksBit(n.clone())
            };
            return (
                exact,
                Some(ResultsNeed {
                    param: i,
                    cond,
                    results,
                }),
            );
        }
    }
    (exact, None)
}

impl Summary {
    /// No effect a caller could observe.
    pub fn is_trivial(&self) -> bool {
        self.api.effects.is_empty() && self.result_bits.is_empty() && !self.noreturn
    }
}

fn effect(kind: EffectKind, lk: LockKind, path: PathExpr, when: When) -> Effect {
    Effect {
        kind,
        term: Term {
            kind: lk,
            args: vec![path],
        },
        when,
    }
}

/// Strongly connected components, callees before callers (iterative
/// Tarjan, so deep call chains cannot overflow the stack).
pub(super) fn tarjan(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = succ.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if let Some(&w) = succ[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    scc.sort_unstable();
                    out.push(scc);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarjan_orders_callees_first() {
        // 0 -> 1 -> 2 -> 1, 3 isolated
        let sccs = tarjan(&[vec![1], vec![2], vec![1], vec![]]);
        let pos = |v: usize| sccs.iter().position(|s| s.contains(&v)).unwrap();
        assert!(pos(1) < pos(0));
        assert_eq!(sccs[pos(1)], vec![1, 2]);
        assert_eq!(sccs.len(), 3);
    }
}
