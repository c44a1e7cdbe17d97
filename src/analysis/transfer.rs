//! Transfer functions: how statements and calls change the state.

use super::finding::Finding;
use super::state::{Cond, LockKey, State, Status, VmaInfo};
use super::summary::{Store, Stored, Summary};
use super::value::{ObjId, ObjKind, Val};
use super::{FnAnalyzer, StepKind};
use crate::ir::{Callee, Operand, Place, Proj, Stmt, StmtKind};
use crate::model::{Api, EffectKind, LockKind, ParamCond, PathExpr, Term, When};
use crate::source::Span;
use std::sync::Arc;

/// One outcome of a call whose effects depend on its result.
#[derive(Debug, Clone, Default)]
pub(super) struct Case {
    pub bits: Vec<(String, bool)>,
    pub truthy: Option<bool>,
    /// Out-parameters the callee wrote (`sets:*P=V` conditions).
    pub sets: Vec<usize>,
}

impl Case {
    pub fn holds(&self, when: &When) -> bool {
        let bit = |b: &String| self.bits.iter().find(|(n, _)| n == b).map(|(_, v)| *v);
        match when {
            When::Always => true,
            When::NonZero | When::NonNull => self.truthy == Some(true),
            When::Zero | When::Null => self.truthy == Some(false),
            When::Bits(bs) => bs.iter().any(|b| bit(b) == Some(true)),
            When::NoBits(bs) => bs.iter().all(|b| bit(b) == Some(false)),
            When::Sets { param, .. } => self.sets.contains(param),
        }
    }
}

/// The partition of a call's outcomes that its conditional effects need:
/// for bits B1..Bn, "B1", "not B1, B2", ..., "none"; for truthiness,
/// "non-zero" and "zero".
pub(super) fn cases<'w>(whens: impl Iterator<Item = &'w When>) -> Vec<Case> {
    let mut bits: Vec<String> = Vec::new();
    let mut truthy = false;
    for w in whens {
        match w {
            When::Bits(bs) | When::NoBits(bs) => {
                for b in bs {
                    if !bits.contains(b) {
                        bits.push(b.clone());
                    }
                }
            }
            When::NonZero | When::Zero | When::NonNull | When::Null => truthy = true,
            When::Always | When::Sets { .. } => {}
        }
    }
    let mut out = Vec::new();
    for i in 0..bits.len() {
        let mut c = Case {
            bits: bits[..i].iter().map(|b| (b.clone(), false)).collect(),
            ..Case::default()
        };
        c.bits.push((bits[i].clone(), true));
        c.truthy = Some(true);
        out.push(c);
    }
    let none: Vec<(String, bool)> = bits.iter().map(|b| (b.clone(), false)).collect();
    if truthy {
        for t in [true, false] {
            out.push(Case {
                bits: none.clone(),
                truthy: Some(t),
                sets: Vec::new(),
            });
        }
    } else {
        out.push(Case {
            bits: none,
            ..Case::default()
        });
    }
    out
}

impl FnAnalyzer<'_> {
    /// Apply one statement; a call may split the state.
    pub fn stmt(&mut self, st: State, s: &Stmt, loc: (usize, usize)) -> Vec<State> {
        let mut st = st;
        match &s.kind {
            StmtKind::Assign { dst, src } => {
                self.check_places(&mut st, src.places(), s.span);
                self.check_derefs(&mut st, dst, s.span);
                self.check_vma_store(&st, dst, s.span);
                let v = self.eval(&st, src);
                self.assign(&mut st, dst, v);
                vec![st]
            }
            StmtKind::Use { places } => {
                self.check_places(&mut st, places.iter(), s.span);
                vec![st]
            }
            StmtKind::Opaque { places, calls } => {
                self.check_places(&mut st, places.iter(), s.span);
                // A lock call may hide in the region: forget what we knew.
                let hides_lock_call = calls.iter().any(|c| {
                    self.model.api(c).is_some_and(|a| !a.effects.is_empty())
                        || self
                            .summaries
                            .get(self.file, c)
                            .is_some_and(|x| !x.is_trivial())
                });
                if hides_lock_call {
                    for status in st.locks.values_mut() {
                        *status = Status::Unknown;
                    }
                }
                vec![st]
            }
            StmtKind::Annotation(_) => vec![st],
            StmtKind::Call {
                dst,
                callee,
                args,
                arg_spans,
            } => {
                let call = (dst.as_ref(), callee, args.as_slice());
                let plan = self.vma_write_plan(&mut st, loc, call, s.span);
                let mut out = self.call(st, s.span, loc, dst.as_ref(), callee, args, arg_spans);
                self.vma_write_apply(&mut out, plan);
                out
            }
        }
    }

    /// The states in which `v` is false (none if it is known true).
    fn refute(&mut self, st: &State, v: Val) -> Vec<State> {
        let Val::Obj(o) = v else {
            return vec![st.clone()];
        };
        let mut st = st.clone();
        st.env.insert("$bug_on".into(), Val::Obj(o));
        self.branch(
            &st,
            &crate::ir::CondKind::Truthy(Operand::Place(Place::var("$bug_on"))),
        )
        .into_iter()
        .filter(|(t, _)| !t)
        .map(|(_, mut s)| {
            s.env.remove("$bug_on");
            s
        })
        .collect()
    }

    /// A call site's result is recomputed: forget its facts, and the locks
    /// of objects reached through it (`result->vm_mm`), which belonged to
    /// the previous value.
    fn forget_value(&mut self, st: &mut State, o: ObjId) {
        st.forget_obj(o);
        let objs = &self.objs;
        let derived = |mut x: ObjId| loop {
            if x == o {
                return true;
            }
            match objs.kind(x) {
                ObjKind::Field(p, _) | ObjKind::Deref(p) => x = *p,
                _ => return false,
            }
        };
        st.locks.retain(|k, _| {
            let (LockKey::Mmap(x) | LockKey::Vma(x) | LockKey::Hugetlb(x)) = *k;
            !derived(x)
        });
        st.vmas.retain(|x, _| !derived(*x));
    }

    pub(super) fn assign(&mut self, st: &mut State, dst: &Place, v: Val) {
        if dst.proj.is_empty() {
            st.env.insert(dst.base.clone(), v);
            return;
        }
        let mut prefix = dst.clone();
        let last = prefix.proj.pop();
        if let (Some(Proj::Field(f)), Some(Proj::Deref) | None) =
            (last, prefix.proj.last().cloned())
        {
            if matches!(prefix.proj.last(), Some(Proj::Deref)) {
                prefix.proj.pop();
            }
            if let Val::Obj(o) = self.eval_place(st, &prefix) {
                st.heap.insert((o, f), v);
            }
        }
    }

    /// Report uses of released VMAs among the dereferences in `places`.
    pub fn check_places<'p>(
        &mut self,
        st: &mut State,
        places: impl IntoIterator<Item = &'p Place>,
        span: Span,
    ) {
        for p in places {
            self.check_derefs(st, p, span);
        }
    }

    pub fn check_derefs(&mut self, st: &mut State, p: &Place, span: Span) {
        for prefix in p.deref_prefixes() {
            if let Val::Obj(o) = self.eval_place(st, &prefix) {
                self.check_vma_use(st, o, &prefix.to_string(), span, None);
            }
        }
    }

    /// A use of the VMA `o`: report it if its protecting lock is gone.
    pub fn check_vma_use(
        &mut self,
        st: &mut State,
        o: ObjId,
        text: &str,
        span: Span,
        passed_to: Option<&str>,
    ) {
        self.derefs.insert(o);
        // A VMA pointer known to be NULL here is not a VMA.
        if st.truthy.get(&o) == Some(&false) {
            return;
        }
        let (vma, owner) = if st.vmas.contains_key(&o) {
            (o, None)
        } else if let Some((v, field)) = self.owner_vma(st, o, passed_to.is_some()) {
            (v, Some((self.vma_text(v), field)))
        } else {
            return;
        };
        let Some(info) = st.vmas.get(&vma).cloned() else {
            return;
        };
        let Some(prot) = info.prot else { return };
        if info.reported {
            return;
        }
        let finding = match st.status(prot).clone() {
            Status::Released { at, by, may, .. } => {
                let still_protected = match prot {
                    LockKey::Vma(_) => st.any_mmap_held(),
                    LockKey::Mmap(_) | LockKey::Hugetlb(_) => st.is_held(LockKey::Vma(vma)),
                };
                if still_protected {
                    return;
                }
                Finding::UseAfterUnlock {
                    at: span,
                    vma: text.to_string(),
                    passed_to: passed_to.map(str::to_string),
                    lock: prot.describe(),
                    released_at: at,
                    released_by: by,
                    may,
                    obtained_at: info.at,
                    owner,
                }
            }
            Status::Held {
                since: Some(since), ..
            } if matches!(prot, LockKey::Mmap(_))
                && owner.is_none()
                && info.epoch.is_some_and(|e| e != Some(since)) =>
            {
                Finding::StaleVma {
                    at: span,
                    vma: text.to_string(),
                    obtained_at: info.at,
                    relocked_at: since,
                }
            }
            _ => return,
        };
        self.report(finding, st);
        if let Some(i) = st.vmas.get_mut(&vma) {
            i.reported = true;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        mut st: State,
        span: Span,
        loc: (usize, usize),
        dst: Option<&Place>,
        callee: &Callee,
        args: &[Operand],
        arg_spans: &[Span],
    ) -> Vec<State> {
        for (i, a) in args.iter().enumerate() {
            let sp = arg_spans.get(i).copied().unwrap_or(span);
            self.check_places(&mut st, a.places(), sp);
        }
        let result = self.objs.intern(ObjKind::Fresh(loc.0, loc.1));
        self.forget_value(&mut st, result);
        let name = match callee {
            Callee::Direct { name, .. } => name.as_str(),
            Callee::Indirect(p) => {
                self.check_derefs(&mut st, p, span);
                ""
            }
        };
        if self.model.noreturn.iter().any(|n| n == name)
            || self
                .summaries
                .get(self.file, name)
                .is_some_and(|s| s.noreturn)
        {
            return Vec::new();
        }
        let arg_vals: Vec<Val> = args.iter().map(|a| self.eval(&st, a)).collect();
        self.owned_call(&mut st, name, &arg_vals, result);
        // A variable whose address is passed may be written by the callee:
        // it gets a new symbolic value, so later tests of it still correlate.
        for a in args {
            if let Operand::AddrOf(p) = a {
                // A struct given to an analysed callee keeps its fields: the
                // summary says what the call does to the locks behind them.
                let summarised = self.aggregates.contains(&p.base)
                    && self.summaries.get(self.file, name).is_some();
                if p.proj.is_empty() && self.model.api(name).is_none() && !summarised {
                    let o = self
                        .objs
                        .intern(ObjKind::Clobbered(loc.0, loc.1, p.base.clone()));
                    st.forget_obj(o);
                    st.env.insert(p.base.clone(), Val::Obj(o));
                }
            }
        }
        // A `struct vm_area_struct **` passed to a callee may be written
        // through (`find_vmas_mm_locked(.., dst_vmap, src_vmap)`): what
        // `*p` points to afterwards is a new VMA, with nothing known of it.
        for (a, v) in args.iter().zip(&arg_vals) {
            let (Operand::Place(p), Val::Obj(o)) = (a, v) else {
                continue;
            };
            let out_param = p.proj.is_empty()
                && self.model.api(name).is_none()
                && self
                    .func
                    .var_type(&p.base)
                    .is_some_and(|t| t.ptr == 2 && t.base == self.model.fault.vma_struct);
            if out_param {
                let target = self.objs.intern(ObjKind::Deref(*o));
                self.forget_value(&mut st, target);
            }
        }
        // `BUG_ON(cond)`: the path goes on only where `cond` is false.
        if self.model.bug_on.iter().any(|n| n == name) {
            if let Some(cond) = args.first() {
                let v = self.eval(&st, cond);
                return self.refute(&st, v);
            }
        }
        if self.record_passed_flags && self.model.api(name).is_none() {
            let program = self.summaries.program;
            for &callee in program.resolve(self.file, name) {
                let Some(i) = program.funcs[callee]
                    .1
                    .params
                    .iter()
                    .position(|p| p.ty.ptr == 1 && p.ty.base == self.model.fault.fault_struct)
                else {
                    continue;
                };
                let flag = match arg_vals.get(i) {
                    Some(Val::Obj(o)) if st.fault == Some(*o) => {
                        let ff = self.model.fault.flags_field.clone();
                        let flags = self.load_field(&st, *o, &ff);
                        self.bits_of(&st, &flags)
                            .bit(&self.model.fault.vma_lock_flag)
                    }
                    _ => None,
                };
                self.passed_flags.push((callee, flag));
            }
        }
        self.call_args = args.iter().map(|a| a.to_string()).collect();
        self.call_ops = args.to_vec();
        let out = if let Some(api) = self.model.api(name) {
            self.apply_api(st, api, None, name, &arg_vals, result, span)
        } else if let Some(summary) = self.summaries.get(self.file, name) {
            let mut out = self.apply_api(
                st,
                &summary.api,
                Some(summary),
                name,
                &arg_vals,
                result,
                span,
            );
            for s in &mut out {
                self.apply_stores(s, &summary.stores, &arg_vals, result);
            }
            out
        } else {
            self.unknown_call(&mut st, name, &arg_vals, args, arg_spans, span);
            // A function faultlock knows nothing about (no model entry, no
            // analysed definition) does not drop a fault lock, so its result
            // is no VM_FAULT_RETRY (`vmf_insert_page()` and the like).
            if !name.is_empty() {
                let retry = self.model.fault.retry_bit.clone();
                st.bits
                    .entry(result)
                    .or_default()
                    .known
                    .insert(retry, false);
            }
            vec![st]
        };
        out.into_iter()
            .map(|mut s| {
                if let Some(d) = dst {
                    self.assign(&mut s, d, Val::Obj(result));
                    self.type_vma_result(&mut s, d, result, span);
                }
                s
            })
            .collect()
    }

    /// The fields an analysed callee wrote through its parameters.
    fn apply_stores(&mut self, st: &mut State, stores: &[Store], vals: &[Val], result: ObjId) {
        for store in stores {
            let Some(o) = self.resolve_path(st, &store.object, vals, result) else {
                continue;
            };
            let key = (o, store.field.clone());
            let value = match store.value {
                Stored::Null => Some(Val::Null),
                Stored::Result { nonnull: false } => Some(Val::Obj(result)),
                Stored::Result { nonnull: true } => match st.truthy.get(&result) {
                    Some(true) => Some(Val::Obj(result)),
                    Some(false) => continue,
                    None => None,
                },
                Stored::Int { value, when } => match (when, st.truthy.get(&result)) {
                    (None, _) => Some(Val::Int(value)),
                    (Some(w), Some(t)) if w == *t => Some(Val::Int(value)),
                    (Some(_), Some(_)) => continue,
                    (Some(_), None) => None,
                },
                Stored::Unknown => None,
            };
            // Unknown: a new value, not the field's value on entry.
            let value = value
                .unwrap_or_else(|| Val::Obj(self.objs.field(result, &format!("@{}", store.field))));
            st.heap.insert(key, value);
        }
    }

    /// A call result stored in a `struct vm_area_struct *` variable while
    /// exactly one mmap_lock is held is a VMA protected by it.
    fn type_vma_result(&mut self, st: &mut State, dst: &Place, result: ObjId, span: Span) {
        if st.vmas.contains_key(&result) || !dst.proj.is_empty() {
            return;
        }
        let is_vma = self
            .func
            .var_type(&dst.base)
            .is_some_and(|t| t.ptr == 1 && t.base == self.model.fault.vma_struct);
        if !is_vma
            || st
                .locks
                .iter()
                .any(|(k, s)| matches!(k, LockKey::Vma(_)) && matches!(s, Status::Held { .. }))
        {
            return;
        }
        if let Some(k) = st.single_held_mmap() {
            let epoch = match st.status(k) {
                Status::Held { since, .. } => Some(*since),
                _ => None,
            };
            st.vmas.insert(
                result,
                VmaInfo {
                    prot: Some(k),
                    epoch,
                    at: Some(span),
                    reported: false,
                },
            );
        }
    }

    fn unknown_call(
        &mut self,
        st: &mut State,
        name: &str,
        vals: &[Val],
        args: &[Operand],
        spans: &[Span],
        span: Span,
    ) {
        for (i, v) in vals.iter().enumerate() {
            let Val::Obj(o) = *v else { continue };
            let sp = spans.get(i).copied().unwrap_or(span);
            if let Operand::Place(p) = &args[i] {
                if !name.is_empty() {
                    self.check_vma_use(st, o, &p.to_string(), sp, Some(name));
                }
            }
            // An unknown callee given the vm_fault may release the fault lock.
            if st.fault == Some(o) || self.is_local_fault(o) {
                let vma_field = self.model.fault.vma_field.clone();
                if let Val::Obj(vma) = self.load_field(st, o, &vma_field) {
                    let mut keys = vec![LockKey::Vma(vma)];
                    keys.extend(self.mm_of(st, vma).map(LockKey::Mmap));
                    for k in keys {
                        if st.is_held(k) {
                            st.locks.insert(k, Status::Unknown);
                        }
                    }
                }
            }
        }
        // `get_user_pages_remote(mm, ..., &locked)` and friends drop
        // mmap_lock and say so through `*locked`.
        let passes_locked = args
            .iter()
            .any(|a| matches!(a, Operand::AddrOf(p) if p.base.contains("locked")));
        if passes_locked {
            for (k, s) in st.locks.iter_mut() {
                if matches!(k, LockKey::Mmap(_)) && matches!(s, Status::Held { .. }) {
                    *s = Status::Unknown;
                }
            }
        }
    }

    /// Apply a model entry, or (with `summary`) an inferred summary whose
    /// `api` it is: split by the outcomes its effects depend on, then apply
    /// the effects of each outcome.
    #[allow(clippy::too_many_arguments)]
    fn apply_api(
        &mut self,
        st: State,
        api: &Api,
        summary: Option<&Summary>,
        name: &str,
        vals: &[Val],
        result: ObjId,
        span: Span,
    ) -> Vec<State> {
        // A lock chosen by a flags argument that nothing tells about (a
        // `flags` parameter): follow both choices, remembering which.
        let at = (name, span);
        let split = match self.split_on_selector(&st, api, vals, result, at) {
            Some(split) => Some(split),
            None => self.split_on_local_fault(&st, api, vals, result, at),
        };
        if let Some(split) = split {
            return split
                .into_iter()
                .flat_map(|s| self.apply_api(s, api, summary, name, vals, result, span))
                .collect();
        }
        let mut out = Vec::new();
        let impossible: &[String] = match &api.results_need {
            Some(n)
                if vals.get(n.param).is_some_and(|v| match &n.cond {
                    ParamCond::HasBit(b) => self.bits_of(&st, v).bit(b) == Some(false),
                    ParamCond::LacksBit(b) => self.bits_of(&st, v).bit(b) == Some(true),
                    ParamCond::Truthy(t) => self.truthy_of(&st, v) == Some(!t),
                }) =>
            {
                &n.results
            }
            _ => &[],
        };
        // A summary whose results carry RETRY splits on it even where no
        // effect depends on it.
        let split = summary
            .filter(|s| !s.result_bits.is_empty())
            .map(|s| When::Bits(s.result_bits.clone()));
        let writes = self.out_writes(&st, api);
        let all = cases(api.effects.iter().map(|e| &e.when).chain(split.as_ref()));
        let all = super::outparam::with_writes(all, &writes);
        let n_cases = all.len();
        for case in all {
            if case.bits.iter().any(|(b, v)| *v && impossible.contains(b)) {
                continue;
            }
            let mut s = st.clone();
            self.record_case(&mut s, result, &case);
            for w in writes.iter().filter(|w| case.sets.contains(&w.param)) {
                self.write_out(&mut s, w, result);
            }
            if n_cases > 1 {
                let kind = StepKind::Outcome {
                    callee: Arc::from(name),
                    bits: case.bits.clone(),
                    truthy: case.truthy,
                };
                self.step(&mut s, span, kind);
            }
            // The callee's only RETRY result is one constant (`return
            // VM_FAULT_RETRY;`): the caller's `ret != VM_FAULT_RETRY` is exact.
            if summary.is_some_and(|x| x.no_retry) {
                let retry = self.model.fault.retry_bit.clone();
                s.bits.entry(result).or_default().known.insert(retry, false);
            }
            if let Some(v) = summary.and_then(|x| x.retry_value.as_ref()) {
                let retry = &self.model.fault.retry_bit;
                if case.bits.iter().any(|(b, t)| *t && b == retry) {
                    s.bits.insert(result, v.clone());
                }
            }
            if case.bits.iter().any(|(_, v)| *v) && !api.exclusive_with.is_empty() {
                let b = s.bits.entry(result).or_default();
                for x in self.model.expand_bits(&api.exclusive_with) {
                    b.known.insert(x, false);
                }
            }
            for (i, e) in api
                .effects
                .iter()
                .enumerate()
                .filter(|(_, e)| case.holds(&e.when))
            {
                if !self.guard_allows(&mut s, summary, i, &e.term, vals, result) {
                    continue;
                }
                match summary {
                    // An assert reached in a callee: report it with the chain.
                    Some(sum) if e.kind == EffectKind::Assert => {
                        let Some(key) = self.resolve(&s, &e.term, vals, result) else {
                            continue;
                        };
                        // `requires(L)`: the lock must be held at the call.
                        let requires = sum
                            .annotated
                            .as_ref()
                            .and_then(|a| a.anns.iter().find(|(ann, _, _)| ann.effect() == *e));
                        if let Some((_, text, at)) = requires {
                            let file = sum.annotated.as_ref().map_or(self.file, |a| a.file);
                            self.require_lock(&s, key, span, name, (file, *at, text));
                            continue;
                        }
                        let conds = sum.assert_conds(i);
                        let Some(conds) = self.assert_conds_at(&s, conds, vals) else {
                            continue;
                        };
                        let mut chain = vec![name.to_string()];
                        chain.extend(sum.chains[i].iter().cloned());
                        self.assert_lock(&s, key, span, chain, conds);
                    }
                    _ => self.effect(&mut s, e.kind, &e.term, name, vals, result, span),
                }
            }
            self.mark_failed(&mut s, (api, summary), &case, name, vals, result, span);
            self.note_lookup(&mut s, api, vals, result);
            out.push(s);
        }
        out
    }

    /// A `struct vm_fault` on the stack (`struct vm_fault vmf = {...}`).
    pub(super) fn is_local_fault(&self, o: ObjId) -> bool {
        match self.objs.kind(o) {
            ObjKind::Local(name) => self
                .func
                .var_type(name)
                .is_some_and(|t| t.ptr == 0 && t.base == self.model.fault.fault_struct),
            _ => false,
        }
    }

    /// Two states, flag set and flag clear, when an effect on the fault lock
    /// of a `struct vm_fault` built on the stack from a flags value that says
    /// nothing about the VMA-lock bit (`.flags = flags`, a parameter).
    fn split_on_local_fault(
        &mut self,
        st: &State,
        api: &Api,
        vals: &[Val],
        result: ObjId,
        (name, span): (&str, Span),
    ) -> Option<Vec<State>> {
        let term = api
            .effects
            .iter()
            .map(|e| &e.term)
            .find(|t| t.kind == LockKind::Fault)?;
        let vmf = self.resolve_path(st, &term.args[0], vals, result)?;
        if !self.is_local_fault(vmf) || self.fault_lock(st, vmf).is_some() {
            return None;
        }
        let ff = self.model.fault.flags_field.clone();
        let Val::Obj(flags) = self.load_field(st, vmf, &ff) else {
            return None;
        };
        let flag = self.model.fault.vma_lock_flag.clone();
        if self.bits_of(st, &Val::Obj(flags)).bit(&flag).is_some() {
            return None;
        }
        Some(
            [true, false]
                .into_iter()
                .map(|v| {
                    let mut s = st.clone();
                    s.bits
                        .entry(flags)
                        .or_default()
                        .known
                        .insert(flag.clone(), v);
                    let kind = StepKind::Flag {
                        callee: Arc::from(name),
                        set: v,
                    };
                    self.step(&mut s, span, kind);
                    s
                })
                .collect(),
        )
    }

    /// Two states, flag set and flag clear, when an effect's `selected()`
    /// lock depends on a flags value whose VMA-lock bit is unknown and no
    /// lock held tells which it is.
    fn split_on_selector(
        &mut self,
        st: &State,
        api: &Api,
        vals: &[Val],
        result: ObjId,
        (name, span): (&str, Span),
    ) -> Option<Vec<State>> {
        let term = api
            .effects
            .iter()
            .map(|e| &e.term)
            .find(|t| matches!(t.kind, LockKind::Selected | LockKind::SelectedMmap))?;
        let Some(PathExpr::Param { index, .. }) = term.args.get(1) else {
            return None;
        };
        let Val::Obj(flags) = vals.get(*index)?.clone() else {
            return None;
        };
        let flag = self.model.fault.vma_lock_flag.clone();
        if self.bits_of(st, &Val::Obj(flags)).bit(&flag).is_some()
            || self.resolve(st, term, vals, result).is_some()
        {
            return None;
        }
        Some(
            [true, false]
                .into_iter()
                .map(|v| {
                    let mut s = st.clone();
                    s.bits
                        .entry(flags)
                        .or_default()
                        .known
                        .insert(flag.clone(), v);
                    let kind = StepKind::Flag {
                        callee: Arc::from(name),
                        set: v,
                    };
                    self.step(&mut s, span, kind);
                    s
                })
                .collect(),
        )
    }

    pub(super) fn record_case(&mut self, s: &mut State, result: ObjId, case: &Case) {
        if !case.bits.is_empty() {
            let b = s.bits.entry(result).or_default();
            for (n, v) in &case.bits {
                b.known.insert(n.clone(), *v);
            }
        }
        if let Some(t) = case.truthy {
            s.truthy.insert(result, t);
        }
    }

    /// Resolve a term's path argument to an object.
    fn resolve_path(
        &mut self,
        st: &State,
        p: &PathExpr,
        vals: &[Val],
        result: ObjId,
    ) -> Option<ObjId> {
        match p {
            PathExpr::Return => Some(result),
            PathExpr::Any => None,
            PathExpr::Member { index, field } => self.member_of(st, *index, field),
            PathExpr::Param { index, fields } => {
                let mut v = vals.get(*index)?.clone();
                for f in fields {
                    let Val::Obj(o) = v else { return None };
                    v = self.load_field(st, o, f);
                }
                match v {
                    Val::Obj(o) => Some(o),
                    _ => None,
                }
            }
        }
    }

    /// The lock instance a term names in this state.
    pub(super) fn resolve(
        &mut self,
        st: &State,
        t: &Term,
        vals: &[Val],
        result: ObjId,
    ) -> Option<LockKey> {
        if t.args.first() == Some(&PathExpr::Any) {
            return st.single_held_mmap();
        }
        let o = self.resolve_path(st, &t.args[0], vals, result)?;
        Some(match t.kind {
            LockKind::MmapRead | LockKind::MmapWrite | LockKind::Mmap => LockKey::Mmap(o),
            LockKind::VmaRead | LockKind::Use => LockKey::Vma(o),
            LockKind::HugetlbVmaRead => LockKey::Hugetlb(o),
            LockKind::Fault => return self.fault_lock(st, o),
            LockKind::Selected | LockKind::SelectedMmap => {
                let flags = t.args.get(1).and_then(|p| match p {
                    PathExpr::Param { index, .. } => vals.get(*index).cloned(),
                    _ => None,
                });
                let flag =
                    flags.and_then(|f| self.bits_of(st, &f).bit(&self.model.fault.vma_lock_flag));
                let key = self.lock_for_flag(st, o, flag)?;
                return match (t.kind, key) {
                    (LockKind::SelectedMmap, LockKey::Vma(_)) => None,
                    _ => Some(key),
                };
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn effect(
        &mut self,
        st: &mut State,
        kind: EffectKind,
        term: &Term,
        callee: &str,
        vals: &[Val],
        result: ObjId,
        span: Span,
    ) {
        if kind == EffectKind::Uses {
            if let Some(o) = self.resolve_path(st, &term.args[0], vals, result) {
                let text = match &term.args[0] {
                    PathExpr::Param { index, fields } => self.call_args.get(*index).map(|a| {
                        fields
                            .iter()
                            .fold(a.clone(), |acc, f| format!("{acc}->{f}"))
                    }),
                    _ => None,
                };
                let text = text.unwrap_or_else(|| "the VMA".to_string());
                self.check_vma_use(st, o, &text, span, Some(callee));
            }
            return;
        }
        let Some(key) = self.resolve(st, term, vals, result) else {
            return;
        };
        match kind {
            EffectKind::Acquire => {
                let write = term.kind == LockKind::MmapWrite;
                st.locks.insert(
                    key,
                    Status::Held {
                        write,
                        since: Some(span),
                    },
                );
                let kind = StepKind::Acquire {
                    callee: Arc::from(callee),
                    lock: key.describe(),
                };
                self.step(st, span, kind);
            }
            EffectKind::Release | EffectKind::MayRelease => {
                self.release(st, key, kind == EffectKind::MayRelease, callee, span)
            }
            EffectKind::Downgrade => {
                if let Some(Status::Held { since, .. }) = st.locks.get(&key).cloned() {
                    st.locks.insert(
                        key,
                        Status::Held {
                            write: false,
                            since,
                        },
                    );
                }
            }
            EffectKind::Assert => self.assert_lock(st, key, span, Vec::new(), Vec::new()),
            EffectKind::ReturnsVma => {
                let epoch = match st.status(key) {
                    Status::Held { since, .. } => Some(*since),
                    _ => None,
                };
                if let LockKey::Mmap(mm) = key {
                    let f = self.model.fault.mm_field.clone();
                    st.heap.insert((result, f), Val::Obj(mm));
                }
                st.vmas.insert(
                    result,
                    VmaInfo {
                        prot: Some(key),
                        epoch,
                        at: Some(span),
                        reported: false,
                    },
                );
                let kind = StepKind::Obtained {
                    callee: Arc::from(callee),
                    lock: key.describe(),
                };
                self.step(st, span, kind);
            }
            EffectKind::Forget => {
                st.locks.insert(key, Status::Unknown);
            }
            EffectKind::Uses => {}
        }
    }

    /// An assert that `key` is held; `chain` names the callees through which
    /// the assert is reached (empty for a direct assert), `conds` what it
    /// needs of this function's parameters besides the path's comparisons.
    pub(super) fn assert_lock(
        &mut self,
        st: &State,
        key: LockKey,
        span: Span,
        chain: Vec<String>,
        mut conds: Vec<Cond>,
    ) {
        let LockKey::Mmap(mm) = key else { return };
        if let Some(locked_at) = self.only_vma_lock(st, key) {
            let reason = self.vma_lock_reason(st);
            self.report(
                Finding::MmapAssertUnderVmaLock {
                    at: span,
                    chain,
                    vma_locked_at: locked_at,
                    reason,
                },
                st,
            );
        } else if matches!(st.status(key), Status::Unknown) && !self.held_alias(st, mm) {
            conds.extend(st.conds.iter().cloned());
            conds.sort();
            conds.dedup();
            self.requirements.insert((mm, chain, conds));
        }
    }

    pub(super) fn release(
        &mut self,
        st: &mut State,
        key: LockKey,
        may: bool,
        callee: &str,
        span: Span,
    ) {
        let own = matches!(st.status(key), Status::Held { since: Some(_), .. });
        let first = match st.status(key).clone() {
            Status::Released {
                at, by, may: false, ..
            } => Some((at, by, false)),
            Status::Failed { at, by } => Some((at, by, true)),
            _ => None,
        };
        if let Some((first_at, first_by, first_failed)) = first.filter(|_| !may) {
            let finding = Finding::DoubleUnlock {
                at: span,
                lock: key.describe(),
                callee: callee.to_string(),
                first_at,
                first_by,
                first_failed,
            };
            self.report(finding, st);
            return;
        }
        match st.status(key).clone() {
            Status::Released { .. } => return,
            Status::Unknown => {
                // `vma_end_read(v)` of a name the function never declared
                // (a patch fragment's local, a global): `v` is a VMA its own
                // lock protected, as a `struct vm_area_struct *` parameter is.
                if let LockKey::Vma(v) = key {
                    if matches!(self.objs.kind(v), ObjKind::Root(_)) {
                        st.vmas.entry(v).or_insert(VmaInfo {
                            prot: None,
                            epoch: None,
                            at: None,
                            reported: false,
                        });
                    }
                }
                self.reveal_protection(st, key)
            }
            _ => {}
        }
        st.locks.insert(
            key,
            Status::Released {
                at: span,
                by: Arc::from(callee),
                may,
                own,
            },
        );
        let kind = StepKind::Release {
            callee: Arc::from(callee),
            lock: key.describe(),
            may,
        };
        self.step(st, span, kind);
    }

    /// Releasing a lock the caller held tells which lock protected the VMAs
    /// that came with the call (for an mmap_lock, see `mm_identity`).
    fn reveal_protection(&mut self, st: &mut State, key: LockKey) {
        match key {
            LockKey::Vma(v) => {
                if let Some(i) = st.vmas.get_mut(&v).filter(|i| i.prot.is_none()) {
                    i.prot = Some(key);
                }
            }
            LockKey::Mmap(mm) => self.reveal_mm_protection(st, mm),
            LockKey::Hugetlb(_) => {}
        }
    }

    pub(super) fn vma_lock_reason(&mut self, st: &State) -> String {
        let flag = self.model.fault.vma_lock_flag.clone();
        if let Some(vmf) = st.fault {
            let ff = self.model.fault.flags_field.clone();
            let flags = self.load_field(st, vmf, &ff);
            if self.bits_of(st, &flags).bit(&flag) == Some(true) {
                return format!("on this path `{flag}` is set: the fault runs under the per-VMA lock and mmap_lock is not held");
            }
        }
        "on this path only the per-VMA lock is held; mmap_lock is not".to_string()
    }
}
