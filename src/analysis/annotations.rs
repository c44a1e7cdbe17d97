//! Lock annotations in the analysis: which functions carry them, what their
//! callers see, what their bodies start with, and whether their bodies keep
//! them.
//!
//! A definition's annotations are its own, or else those of a bodiless
//! declaration of the same name (a C prototype in a header, a Rust foreign
//! function). Annotation terms name parameters by position, so a prototype
//! and a definition may name them differently. Malformed annotations are
//! left out here; the `malformed_annotation` lint reports them.

use super::finding::Finding;
use super::program::{FuncId, Program};
use super::state::{LockKey, State, Status};
use super::value::{ObjId, ObjKind, Val};
use super::FnAnalyzer;
use crate::ir::{Annotation, Function, Operand, Proj, StmtKind, TypeRef, Unit, Var};
use crate::model::annotation::{self, AnnotationKind, LockAnnotation};
use crate::model::{Api, When};
use crate::source::Span;
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

/// The valid annotations of one function, with where they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotated {
    /// The file the annotations are written in.
    pub file: usize,
    /// Each annotation, its text and span.
    pub anns: Vec<(LockAnnotation, String, Span)>,
    /// What a caller sees: the annotations as model effects, in order.
    pub api: Api,
    /// The annotated function's parameter types.
    pub params: Vec<TypeRef>,
}

impl Annotated {
    fn parse(file: usize, params: &[Var], written: &[Annotation]) -> Option<Arc<Annotated>> {
        if written.is_empty() {
            return None;
        }
        let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
        let anns: Vec<(LockAnnotation, String, Span)> = written
            .iter()
            .filter_map(|a| {
                let parsed = annotation::parse(&a.text, &names).ok()?;
                Some((parsed, normalize(&a.text), a.span))
            })
            .collect();
        if anns.is_empty() {
            return None;
        }
        let effects = anns.iter().map(|(a, _, _)| a.effect()).collect();
        Some(Arc::new(Annotated {
            file,
            anns,
            api: Api {
                params: names,
                effects,
                results_need: None,
                exclusive_with: Vec::new(),
            },
            params: params.iter().map(|p| p.ty.clone()).collect(),
        }))
    }
}

/// The lock a term names, for messages: "fault lock" whichever lock it is
/// on this path.
fn describe(term: &crate::model::Term, key: LockKey) -> &'static str {
    if term.kind == crate::model::LockKind::Fault {
        "fault lock"
    } else {
        key.describe()
    }
}

/// The annotation text with its whitespace collapsed, for messages.
fn normalize(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.replace("( ", "(").replace(" )", ")")
}

/// Every annotated function of a run.
#[derive(Debug, Default)]
pub struct Annotations {
    by_func: HashMap<FuncId, Arc<Annotated>>,
    /// Annotated declarations by name, in file order.
    declared: HashMap<String, Vec<Arc<Annotated>>>,
}

impl Annotations {
    pub fn new(units: &[Unit], funcs: &[(usize, &Function)]) -> Self {
        let mut declared: HashMap<String, Vec<Arc<Annotated>>> = HashMap::new();
        for (file, u) in units.iter().enumerate() {
            for d in &u.declarations {
                if let Some(a) = Annotated::parse(file, &d.params, &d.annotations) {
                    declared.entry(d.name.clone()).or_default().push(a);
                }
            }
        }
        let mut out = Annotations {
            by_func: HashMap::new(),
            declared,
        };
        for (id, (file, f)) in funcs.iter().enumerate() {
            let own = Annotated::parse(*file, &f.params, &f.annotations);
            if let Some(a) = own.or_else(|| out.declared(*file, &f.name).cloned()) {
                out.by_func.insert(id, a);
            }
        }
        out
    }

    /// Annotated declarations by name.
    pub fn declarations(&self) -> impl Iterator<Item = (&String, &Vec<Arc<Annotated>>)> {
        self.declared.iter()
    }

    /// The annotations of a definition.
    pub fn of(&self, id: FuncId) -> Option<&Arc<Annotated>> {
        self.by_func.get(&id)
    }

    /// The annotations of a bodiless declaration named `name`, preferring
    /// one in `file`.
    pub fn declared(&self, file: usize, name: &str) -> Option<&Arc<Annotated>> {
        let all = self.declared.get(name)?;
        all.iter().find(|a| a.file == file).or_else(|| all.first())
    }
}

/// The annotations of a definition, found by identity.
pub fn of_function(program: &Program, file: usize, func: &Function) -> Option<Arc<Annotated>> {
    program
        .resolve(file, &func.name)
        .iter()
        .copied()
        .find(|&i| std::ptr::eq(program.funcs[i].1, func))
        .and_then(|i| program.annotations.of(i).cloned())
}

impl FnAnalyzer<'_> {
    /// The parameters' entry values, as a call would pass them.
    fn param_vals(&mut self) -> Vec<Val> {
        let names: Vec<String> = self.func.params.iter().map(|p| p.name.clone()).collect();
        names.iter().map(|n| Val::Obj(self.objs.root(n))).collect()
    }

    /// A placeholder for the result where no term can name it.
    fn no_result(&mut self) -> ObjId {
        self.objs.intern(ObjKind::Fresh(usize::MAX, usize::MAX))
    }

    /// Entry states under the annotations: a lock the function requires or
    /// releases is held on entry (states where it is known not held are
    /// infeasible), a lock it acquires is not.
    pub(super) fn annotate_entries(&mut self, states: Vec<State>) -> Vec<State> {
        let Some(ann) = self.annotated.clone() else {
            return states;
        };
        let vals = self.param_vals();
        let result = self.no_result();
        let mut kept = Vec::new();
        let mut forced = Vec::new();
        for mut st in states {
            let mut feasible = true;
            for (a, _, _) in &ann.anns {
                let Some(key) = self.resolve(&st, &a.term, &vals, result) else {
                    continue;
                };
                let status = match a.kind {
                    AnnotationKind::Acquires => Status::NotHeld,
                    AnnotationKind::Requires | AnnotationKind::Releases => {
                        if st.status(key) == &Status::NotHeld {
                            feasible = false;
                        }
                        if st.is_held(key) {
                            continue;
                        }
                        Status::Held {
                            write: a.term.kind == crate::model::LockKind::MmapWrite,
                            since: None,
                        }
                    }
                };
                st.locks.insert(key, status);
            }
            if feasible {
                kept.push(st);
            } else {
                forced.push(st);
            }
        }
        if kept.is_empty() {
            forced
        } else {
            kept
        }
    }

    /// `annotation_mismatch`: at a return, each annotation against the
    /// state. Only definite contradictions are reported: an unknown status
    /// or an undecided condition is not.
    pub(super) fn check_annotations(&mut self, st: &State, v: Option<&Val>, span: Span) {
        let Some(ann) = self.annotated.clone() else {
            return;
        };
        let vals = self.param_vals();
        let result = self.no_result();
        let raw = self.touches_raw_locks();
        for (a, text, at) in &ann.anns {
            if a.term.args.contains(&crate::model::PathExpr::Return) {
                continue;
            }
            let Some(key) = self.resolve(st, &a.term, &vals, result) else {
                continue;
            };
            let holds = match (v, &a.when) {
                (_, When::Always) => Some(true),
                (Some(v), w) => self.condition(st, v, w),
                (None, _) => None,
            };
            let status = st.status(key);
            let released = matches!(status, Status::Released { may: false, .. });
            // What the annotation assumed on entry proves nothing when the
            // body works on raw lock fields the model does not know.
            let from_entry = matches!(status, Status::NotHeld | Status::Held { since: None, .. });
            if raw && from_entry {
                continue;
            }
            let problem = match (a.kind, holds) {
                (AnnotationKind::Releases, Some(true)) if st.is_held(key) => {
                    "with the LOCK still held"
                }
                (AnnotationKind::Releases, Some(false)) if released => {
                    "with the LOCK released, though its result says it was not"
                }
                (AnnotationKind::Acquires, Some(true))
                    if released || matches!(status, Status::NotHeld) =>
                {
                    "without holding the LOCK"
                }
                (AnnotationKind::Acquires, Some(false))
                    if matches!(status, Status::Held { since: Some(_), .. }) =>
                {
                    "holding the LOCK, though its result says it was not acquired"
                }
                (AnnotationKind::Requires, _)
                    if released
                        && !ann.anns.iter().any(|(b, _, _)| {
                            b.kind == AnnotationKind::Releases && b.term == a.term
                        }) =>
                {
                    "with the LOCK released and not re-taken"
                }
                _ => continue,
            };
            let released_at = match status {
                Status::Released { at, by, .. } => Some((*at, by.clone())),
                _ => None,
            };
            self.report(
                Finding::AnnotationMismatch {
                    at: span,
                    annotation: text.clone(),
                    ann_file: ann.file,
                    ann_at: *at,
                    lock: describe(&a.term, key),
                    problem,
                    released_at,
                },
                st,
            );
        }
    }

    /// Whether the body passes the address of a lock field to a function
    /// the model and the summaries do not know (`up_read(&mm->mmap_lock)`),
    /// or has an unparsed region.
    fn touches_raw_locks(&self) -> bool {
        const LOCK_FIELDS: &[&str] = &["mmap_lock", "vm_lock", "lock", "rw_sema"];
        let known =
            |n: &str| self.model.api(n).is_some() || self.summaries.get(self.file, n).is_some();
        self.func
            .blocks
            .iter()
            .flat_map(|b| &b.stmts)
            .any(|s| match &s.kind {
                StmtKind::Opaque { .. } => true,
                StmtKind::Call { callee, args, .. } => {
                    !callee.name().is_some_and(known)
                        && args.iter().any(|a| {
                            matches!(a, Operand::AddrOf(p)
                                if matches!(p.proj.last(), Some(Proj::Field(f)) if LOCK_FIELDS.contains(&f.as_str())))
                        })
                }
                _ => false,
            })
    }

    /// Whether a result satisfies a condition, when the state tells.
    fn condition(&mut self, st: &State, v: &Val, when: &When) -> Option<bool> {
        let bits = self.bits_of(st, v);
        let any = |bs: &[String]| -> Option<bool> {
            let known: Vec<Option<bool>> = bs.iter().map(|b| bits.bit(b)).collect();
            if known.contains(&Some(true)) {
                Some(true)
            } else if known.iter().all(|k| *k == Some(false)) {
                Some(false)
            } else {
                None
            }
        };
        match when {
            When::Always => Some(true),
            When::Bits(bs) => any(bs),
            When::NoBits(bs) => any(bs).map(|b| !b),
            When::NonZero | When::NonNull => self.truthy_of(st, v),
            When::Zero | When::Null => self.truthy_of(st, v).map(|t| !t),
            When::Sets { .. } => None,
        }
    }

    /// A call to a function annotated `requires(L)` on a path where L was
    /// released or is known not held.
    pub(super) fn require_lock(
        &mut self,
        st: &State,
        key: LockKey,
        span: Span,
        callee: &str,
        ann: (usize, Span, &str),
    ) {
        // mmap_lock: reported as an assert under the per-VMA lock, or
        // passed up as a requirement when its status is unknown.
        self.assert_lock(st, key, span, vec![callee.to_string()], Vec::new());
        if matches!(key, LockKey::Mmap(_)) && self.only_vma_lock(st, key).is_some() {
            return;
        }
        let released = match st.status(key) {
            Status::Released { at, by, .. } => Some((*at, by.clone())),
            Status::NotHeld => None,
            _ => return,
        };
        self.report(
            Finding::RequiredLockNotHeld {
                at: span,
                callee: callee.to_string(),
                annotation: ann.2.to_string(),
                ann_file: ann.0,
                ann_at: ann.1,
                lock: key.describe(),
                released_at: released,
            },
            st,
        );
    }
}
