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

pub mod annotations;
pub mod assert_cond;
mod context;
mod delta;
mod engine;
mod eval;
pub mod finding;
mod graph;
mod leak;
mod liveness;
mod memo;
mod mm_identity;
mod outparam;
mod owned;
pub mod path;
pub mod program;
mod state;
pub mod summary;
mod summary_cache;
mod summary_cond;
mod transfer;
mod value;
mod vma_write;

pub use context::{entry_contexts, EntryContext};
pub use finding::Finding;
pub use path::{Path, Step, StepKind};

use crate::ir::{Function, Unit};
use crate::model::LockModel;
use crate::source::Span;
use foldhash::{HashMap, HashMapExt};
use program::{FuncId, Program};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use summary::Summaries;
use value::{ObjId, Objs};

/// States kept apart per block before they are joined.
pub const MAX_STATES: usize = 16;
/// Block visits per function before the analysis stops (and says so): at
/// least this many, and [`MAX_VISITS_PER_BLOCK`] per block of a larger
/// function.
pub const MAX_VISITS: usize = 40_000;
/// Visits per block allowed to a large function: an exact run needs about
/// `MAX_STATES + 1` (a 10,000-label goto maze needs 17 per block), so only
/// a state lattice far taller than any real code's reaches the bound.
pub const MAX_VISITS_PER_BLOCK: usize = 64;

/// One finding with where it was made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    pub file: usize,
    pub function: String,
    pub finding: Finding,
    /// How the path reaches it (never compared: see [`path`]).
    pub path: Path,
}

/// The per-function analysis.
pub struct FnAnalyzer<'a> {
    pub model: &'a LockModel,
    /// The file the function is in (calls resolve to its own definitions
    /// first).
    pub file: usize,
    pub func: &'a Function,
    pub summaries: &'a Summaries<'a>,
    pub ctx: EntryContext,
    pub objs: Objs,
    /// Each finding with the first path found to it.
    pub findings: BTreeMap<Finding, Path>,
    /// VMA objects this function dereferences (for summaries).
    pub derefs: BTreeSet<ObjId>,
    /// mmap_lock asserts reached with the lock's status unknown: what the
    /// function needs its caller to hold (mm object, call chain).
    pub requirements: BTreeSet<assert_cond::Requirement>,
    pub bounded: bool,
    /// Record the fault-flag value passed to analysed callees that take a
    /// `struct vm_fault *` (in the final pass).
    pub record_passed_flags: bool,
    /// The fault-flag value passed at each call to such a function.
    pub passed_flags: PassedFlags,
    /// The arguments of the call being applied, as written (for messages).
    pub call_args: Vec<String>,
    /// The same arguments as operands (out-parameters, `&mm->mmap_sem`).
    pub call_ops: Vec<crate::ir::Operand>,
    /// The function's lock annotations, if any.
    pub annotated: Option<std::sync::Arc<annotations::Annotated>>,
    /// Locals used as structs (see [`eval::aggregate_locals`]).
    pub aggregates: BTreeSet<String>,
    /// Keep the write-locked VMAs of each path (see [`vma_write`]).
    pub track_vma_write: bool,
    /// Record each state's path (the final pass).
    pub trace: bool,
    /// Record comparisons of parameter values on each path (summaries).
    pub record_conds: bool,
}

impl<'a> FnAnalyzer<'a> {
    pub fn new(
        model: &'a LockModel,
        file: usize,
        func: &'a Function,
        summaries: &'a Summaries<'a>,
        ctx: EntryContext,
    ) -> Self {
        let annotated = annotations::of_function(summaries.program, file, func);
        FnAnalyzer {
            annotated,
            aggregates: eval::aggregate_locals(func, &model.fault.fault_struct),
            track_vma_write: vma_write::tracks(model, func),
            model,
            file,
            func,
            summaries,
            ctx,
            objs: Objs::default(),
            findings: BTreeMap::new(),
            derefs: BTreeSet::new(),
            requirements: BTreeSet::new(),
            bounded: false,
            record_passed_flags: false,
            passed_flags: Vec::new(),
            call_args: Vec::new(),
            call_ops: Vec::new(),
            trace: false,
            record_conds: true,
        }
    }

    /// Add a step to the path of `st` (final pass only).
    pub fn step(&self, st: &mut state::State, at: crate::source::Span, kind: StepKind) {
        if self.trace {
            st.trail.push(at, kind);
        }
    }

    /// Report `f`, reached on the path of `st`.
    pub fn report(&mut self, f: Finding, st: &state::State) {
        self.findings
            .entry(f)
            .or_insert_with(|| Path(st.trail.steps()));
    }
}

/// Analyse every function of every unit together; findings are sorted and
/// deterministic whatever the thread count.
pub fn analyze(units: &[Unit], model: &LockModel) -> Vec<Located> {
    analyze_with(units, model, None)
}

/// [`analyze`], reusing the inferred summaries and final-pass results of
/// functions whose inputs are unchanged since the last call with the same
/// `cache` (the language server's re-check). `ir` holds each function's
/// [`ir_text`], or a token standing for it that is equal exactly when the
/// texts are (the caller interns them), indexed like `units` (computed
/// again where missing). The
/// results are those of [`analyze`]: see [`memo`] for what a cached result
/// is keyed on.
pub fn analyze_cached(
    units: &[Unit],
    model: &LockModel,
    cache: &mut FnCache,
    ir: &[Vec<Arc<str>>],
) -> Vec<Located> {
    analyze_with(units, model, Some((cache, ir)))
}

pub use memo::ir_text;

fn analyze_with(
    units: &[Unit],
    model: &LockModel,
    cache: Option<(&mut FnCache, &[Vec<Arc<str>>])>,
) -> Vec<Located> {
    let t = std::time::Instant::now();
    let program = Program::new(units);
    let contexts = entry_contexts(&program, units, model);
    // Each function's position-free IR, by id, when caching.
    let ir: Vec<Arc<str>> = match &cache {
        Some((_, ir)) => units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| {
                let given = ir.get(i).filter(|v| v.len() == u.functions.len());
                (0..u.functions.len()).map(move |k| match given {
                    Some(v) => v[k].clone(),
                    None => ir_text(&u.functions[k]),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    crate::check::stage_time("program and entry contexts", t);
    let t = std::time::Instant::now();
    let (cache, old_summaries, tokens, prev) = match cache {
        Some((c, _)) => {
            let old = std::mem::take(&mut c.summaries);
            let tokens = std::mem::take(&mut c.tokens);
            let prev = c.prev.take();
            (Some(c), Some(old), tokens, prev)
        }
        None => (None, None, memo::Tokens::default(), None),
    };
    let ctx_of: Vec<Option<EntryContext>> = match cache {
        Some(_) => (0..ir.len()).map(|id| contexts.get(&id).copied()).collect(),
        None => Vec::new(),
    };
    // The last run's graph and results, when the program kept its shape
    // and call graph (see `delta`).
    let mut shape = None;
    let mut kept = None;
    let graph = match prev {
        Some(p) if p.ir.len() == ir.len() && p.shape.matches(&program) => {
            shape = Some(p.shape);
            let changed: Vec<FuncId> = (0..ir.len()).filter(|&i| p.ir[i] != ir[i]).collect();
            match p.graph.update(&program, model, &changed) {
                Some(g) => {
                    let dirty = (0..ir.len())
                        .map(|i| p.ir[i] != ir[i] || p.contexts[i] != ctx_of[i])
                        .collect::<Vec<bool>>();
                    kept = Some((
                        summary_cache::Delta {
                            prev: p.per_fn,
                            dirty: dirty.clone(),
                        },
                        p.finals,
                        dirty,
                    ));
                    g
                }
                None => graph::Graph::new(&program, model),
            }
        }
        _ => graph::Graph::new(&program, model),
    };
    let shape = cache
        .as_ref()
        .map(|_| shape.unwrap_or_else(|| delta::Shape::new(&program)));
    crate::check::stage_time("call graph", t);
    let t = std::time::Instant::now();
    let (delta, prev_finals, dirty) = match kept {
        Some((d, f, dirty)) => (Some(d), Some(f), dirty),
        None => (None, None, Vec::new()),
    };
    let texts = memo::SummaryTexts::new(tokens, ir.len(), delta.is_some());
    let memo = old_summaries
        .as_ref()
        .map(|old| summary_cache::SummaryMemo::new(old, delta, &ir, &texts));
    let summaries = summary::infer_memo(&program, model, &contexts, memo.as_ref(), &graph);
    let (new_summaries, per_fn, changed) = match memo.map(summary_cache::SummaryMemo::into_new) {
        Some((m, p, c)) => (Some(m), Some(p), c),
        None => (None, None, Vec::new()),
    };
    crate::check::stage_time("summaries", t);
    let t = std::time::Instant::now();
    // A function none of whose key's inputs changed keeps its last result.
    let unchanged = |id: FuncId| {
        prev_finals.is_some() && !dirty[id] && graph.deps[id].iter().all(|&d| !changed[d])
    };
    // Top down: callers first, so that the fault-flag values they pass
    // narrow the entry states of their callees.
    let mut passed: HashMap<FuncId, (bool, bool)> = HashMap::new();
    let mut out: Vec<Located> = Vec::new();
    let mut next_cache = FnCache::default();
    let mut finals: Vec<delta::Final> = (0..program.funcs.len())
        .map(|_| delta::Final {
            relevant: false,
            result: None,
        })
        .collect();
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    let skipped = std::sync::atomic::AtomicUsize::new(0);
    for at_level in graph.at_level.iter().rev() {
        let old = cache.as_deref();
        type Keyed = Option<(String, Span, EntryContext)>;
        let results: Vec<(FuncId, Keyed, FnResult)> = at_level
            .par_iter()
            .copied()
            .filter(|&id| {
                let (file, f) = program.funcs[id];
                match &prev_finals {
                    Some(p) if unchanged(id) => p[id].relevant,
                    _ => summary::relevant(file, f, model, &summaries),
                }
            })
            .map(|id| {
                let (file, f) = program.funcs[id];
                let ctx = narrowed(&contexts, &passed, id);
                let now = memo::extent(f);
                let last = prev_finals
                    .as_ref()
                    .filter(|_| unchanged(id))
                    .and_then(|p| p[id].result.as_ref())
                    .filter(|r| r.2 == ctx);
                if let Some((key, was, _, (found, flags))) = last {
                    skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let delta = i64::from(now.start) - i64::from(was.start);
                    let result = (memo::moved(found, *was, delta), flags.clone());
                    return (id, Some((key.clone(), now, ctx)), result);
                }
                let key = old.map(|_| memo::key(&summaries, model, file, f, &ir[id], ctx, &texts));
                let hit = old.zip(key.as_ref()).and_then(|(c, k)| c.results.get(k));
                let result = match hit {
                    Some((was, (found, flags))) => {
                        let delta = i64::from(now.start) - i64::from(was.start);
                        (memo::moved(found, *was, delta), flags.clone())
                    }
                    None => {
                        fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        analyze_one(&summaries, model, file, f, ctx)
                    }
                };
                (id, key.map(|k| (k, now, ctx)), result)
            })
            .collect();
        for (id, key, (found, flags)) in results {
            for (callee, flag) in &flags {
                let e = passed.entry(*callee).or_insert((false, false));
                e.0 |= *flag != Some(false);
                e.1 |= *flag != Some(true);
            }
            out.extend(found.iter().cloned());
            finals[id].relevant = true;
            if let Some((key, extent, ctx)) = key {
                let result = (found, flags);
                next_cache
                    .results
                    .insert(key.clone(), (extent, result.clone()));
                finals[id].result = Some((key, extent, ctx, result));
            }
        }
    }
    if let Some(cache) = cache {
        let all = next_cache.results.len();
        let hits = all - fresh.load(std::sync::atomic::Ordering::Relaxed).min(all);
        crate::check::stage_count("final-pass results reused", hits, all);
        next_cache.skipped = skipped.into_inner();
        crate::check::stage_count("of them without a key", next_cache.skipped, all);
        next_cache.summaries = new_summaries.unwrap_or_default();
        next_cache.prev = shape.zip(per_fn).map(|(shape, per_fn)| delta::Prev {
            shape,
            ir,
            contexts: ctx_of,
            graph,
            per_fn,
            finals,
        });
        *cache = next_cache;
        cache.tokens = texts.finish();
    }
    crate::check::stage_time("final pass", t);
    out.sort();
    out.dedup();
    out
}

/// The final-pass findings of one function and the fault-flag values it
/// passes to its callees.
pub(crate) type FnResult = (Vec<Located>, PassedFlags);

/// What one analysis leaves for the next (see [`analyze_cached`]).
#[derive(Default)]
pub struct FnCache {
    /// Final-pass results by [`memo::key`], with the extent
    /// ([`memo::extent`]) of the function they were made for.
    results: HashMap<String, (Span, FnResult)>,
    /// Inferred summaries by [`memo::key`].
    summaries: summary_cache::Memo,
    /// The tokens the keys of both name.
    tokens: memo::Tokens,
    /// The last run by function, for skipping unchanged functions.
    prev: Option<delta::Prev>,
    /// Final-pass results the last run kept without making their keys.
    skipped: usize,
}

impl FnCache {
    /// How many final-pass results the last run kept without making
    /// their keys (the program kept its shape: see `delta`).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    pub fn clear(&mut self) {
        *self = FnCache::default();
    }
}

/// The final pass over one function.
fn analyze_one(
    summaries: &Summaries,
    model: &LockModel,
    file: usize,
    f: &Function,
    ctx: EntryContext,
) -> FnResult {
    let run = || {
        let mut a = FnAnalyzer::new(model, file, f, summaries, ctx);
        a.record_passed_flags = true;
        a.trace = true;
        a.record_conds = false;
        let entries = a.entry_states(false);
        let exits = a.run(entries);
        if a.bounded {
            a.findings
                .insert(Finding::Bounded { at: f.name_span }, Path::default());
        } else {
            for (leak, h) in a.lock_leaks(&exits) {
                a.report(leak, &exits[h].state);
            }
        }
        let found = merge_variants(std::mem::take(&mut a.findings));
        (found, std::mem::take(&mut a.passed_flags))
    };
    // A defect in the analysis of one function must not take the others
    // down: it becomes an internal-error finding.
    let (found, flags) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|e| {
            let message = panic_message(&*e);
            (
                vec![(
                    Finding::Internal {
                        at: f.name_span,
                        message,
                    },
                    Path::default(),
                )],
                Vec::new(),
            )
        });
    let found = found
        .into_iter()
        .map(|(finding, path)| Located {
            file,
            function: f.name.clone(),
            finding,
            path,
        })
        .collect();
    (found, flags)
}

/// The entry context of `f`, narrowed to the fault-flag values its
/// analysed callers pass. Callbacks keep their registration context (the
/// kernel calls them through pointers); narrowing only removes entry
/// states, so it can only remove findings.
fn narrowed(
    contexts: &Contexts,
    passed: &HashMap<FuncId, (bool, bool)>,
    id: FuncId,
) -> EntryContext {
    let mut ctx = contexts.get(&id).copied().unwrap_or_default();
    if let (false, Some(&(set, clear))) = (ctx.callback, passed.get(&id)) {
        if (set && ctx.vma_lock) || (clear && ctx.mmap_lock) {
            ctx.vma_lock &= set;
            ctx.mmap_lock &= clear;
        }
    }
    ctx
}

/// The text of a panic payload.
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// One finding per kind and place: the same use reached under both fault
/// locks (flag set and clear) is one finding about "the fault lock".
fn merge_variants(findings: BTreeMap<Finding, Path>) -> Vec<(Finding, Path)> {
    let mut out: Vec<(Finding, Path)> = Vec::new();
    for (f, path) in findings {
        let same = out.iter_mut().map(|(g, _)| g).find(|g| {
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
            (None, f) => out.push((f, path)),
        }
    }
    out
}

/// The fault-flag value passed at each call to an analysed function that
/// takes a `struct vm_fault *` (`None`: unknown).
type PassedFlags = Vec<(FuncId, Option<bool>)>;

/// Function → entry context, shared by the passes.
pub type Contexts = HashMap<FuncId, EntryContext>;
