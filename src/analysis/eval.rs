//! Evaluating places, operands and conditions in an abstract state.

use super::state::{CondOp, LockKey, State};
use super::value::{BitVal, ObjId, ObjKind, Val};
use super::FnAnalyzer;
use crate::ir::{CondKind, Function, Operand, Place, Proj, StmtKind};
use std::collections::BTreeSet;

/// Locals (and temporaries) used as structs: accessed as `x.f`, or declared
/// as a `struct vm_fault` (`fault_struct`). Their fields are tracked as the
/// fields of one object, which `&x` also denotes.
pub(super) fn aggregate_locals(f: &Function, fault_struct: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = f
        .locals
        .iter()
        .filter(|v| v.ty.ptr == 0 && v.ty.base == fault_struct)
        .map(|v| v.name.clone())
        .collect();
    let mut note = |p: &Place| {
        if matches!(p.proj.first(), Some(Proj::Field(_))) {
            out.insert(p.base.clone());
        }
    };
    for b in &f.blocks {
        for s in &b.stmts {
            match &s.kind {
                StmtKind::Assign { dst, src } => {
                    note(dst);
                    src.places().into_iter().for_each(&mut note);
                }
                StmtKind::Call { dst, args, .. } => {
                    dst.iter().for_each(&mut note);
                    args.iter().flat_map(|a| a.places()).for_each(&mut note);
                }
                StmtKind::Use { places } | StmtKind::Opaque { places, .. } => {
                    places.iter().for_each(&mut note)
                }
                StmtKind::Annotation(_) => {}
            }
        }
    }
    out.retain(|n| n.starts_with('$') || f.locals.iter().any(|v| v.name == *n));
    out
}

impl FnAnalyzer<'_> {
    /// The value of a variable that has not been assigned on this path.
    fn unassigned(&mut self, name: &str) -> Val {
        if self.aggregates.contains(name) {
            return Val::Obj(self.objs.intern(ObjKind::Local(name.to_string())));
        }
        let is_local = self.func.locals.iter().any(|v| v.name == name)
            && !self.func.params.iter().any(|v| v.name == name);
        if is_local || name.starts_with('$') {
            Val::Top
        } else {
            Val::Obj(self.objs.root(name))
        }
    }

    pub fn eval_place(&mut self, st: &State, p: &Place) -> Val {
        let mut v = match st.env.get(&p.base) {
            Some(v) => v.clone(),
            None => self.unassigned(&p.base),
        };
        let mut i = 0;
        while i < p.proj.len() {
            let o = match v {
                Val::Obj(o) => o,
                _ => return Val::Top,
            };
            v = match (&p.proj[i], p.proj.get(i + 1)) {
                (Proj::Deref, Some(Proj::Field(f))) | (Proj::Field(f), _) => {
                    if matches!(p.proj[i], Proj::Deref) {
                        i += 1;
                    }
                    self.load_field(st, o, f)
                }
                (Proj::Deref, _) => Val::Obj(self.objs.intern(ObjKind::Deref(o))),
                (Proj::Index, _) => Val::Top,
            };
            i += 1;
        }
        v
    }

    pub fn load_field(&mut self, st: &State, o: ObjId, f: &str) -> Val {
        match st.heap.get(&(o, f.to_string())) {
            Some(v) => v.clone(),
            None => Val::Obj(self.objs.field(o, f)),
        }
    }

    /// The mm object of a VMA object (`vma->vm_mm`).
    pub fn mm_of(&mut self, st: &State, vma: ObjId) -> Option<ObjId> {
        let field = self.model.fault.mm_field.clone();
        match self.load_field(st, vma, &field) {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }

    pub fn eval(&mut self, st: &State, op: &Operand) -> Val {
        match op {
            Operand::Place(p) => self.eval_place(st, p),
            // `&vmf` of a local struct is the struct's object.
            Operand::AddrOf(p) if p.proj.is_empty() && self.aggregates.contains(&p.base) => {
                self.eval_place(st, p)
            }
            Operand::AddrOf(_) | Operand::And(..) | Operand::Other { .. } => Val::Top,
            Operand::Const(c) => match self.model.composites.get(c) {
                Some(bits) => Val::Bits(
                    bits.iter()
                        .fold(BitVal::zero(), |acc, b| acc.or(&BitVal::constant(b))),
                ),
                None => Val::Bits(BitVal::constant(c)),
            },
            Operand::Int(0) => Val::Int(0),
            Operand::Int(n) => Val::Int(*n),
            Operand::Null => Val::Null,
            Operand::Or(ops) => {
                let mut acc = BitVal::zero();
                for o in ops {
                    let v = self.eval(st, o);
                    acc = acc.or(&self.bits_of(st, &v));
                }
                Val::Bits(acc)
            }
        }
    }

    /// Bit facts of a value.
    pub fn bits_of(&self, st: &State, v: &Val) -> BitVal {
        match v {
            Val::Bits(b) => b.clone(),
            Val::Int(0) | Val::Null => BitVal::zero(),
            Val::Obj(o) => {
                let mut b = st.bits.get(o).cloned().unwrap_or_default();
                if st.truthy.get(o) == Some(&false) {
                    b = BitVal::zero();
                }
                b
            }
            Val::Int(_) | Val::Top => BitVal::default(),
        }
    }

    pub(super) fn truthy_of(&self, st: &State, v: &Val) -> Option<bool> {
        match v {
            Val::Int(n) => Some(*n != 0),
            Val::Null => Some(false),
            Val::Bits(b) => b.truthy(),
            Val::Obj(o) => st
                .truthy
                .get(o)
                .copied()
                .or_else(|| st.bits.get(o).and_then(|b| b.truthy())),
            Val::Top => None,
        }
    }

    /// The feasible outcomes of a condition, each with the state refined by
    /// it.
    pub fn branch(&mut self, st: &State, cond: &CondKind) -> Vec<(bool, State)> {
        let both = |st: &State| vec![(true, st.clone()), (false, st.clone())];
        match cond {
            CondKind::Truthy(op) => {
                let v = self.eval(st, op);
                self.split_truthy(st, &v)
            }
            CondKind::BitTest { value, mask } => {
                let mask = &self.model.expand_bits(mask);
                let v = self.eval(st, value);
                if let Some(known) = self.bits_of(st, &v).any(mask) {
                    return vec![(known, st.clone())];
                }
                let Val::Obj(o) = v else { return both(st) };
                let mut yes = st.clone();
                let mut no = st.clone();
                if mask.len() == 1 {
                    yes.bits
                        .entry(o)
                        .or_default()
                        .known
                        .insert(mask[0].clone(), true);
                }
                yes.truthy.insert(o, true);
                let b = no.bits.entry(o).or_default();
                for m in mask {
                    b.known.insert(m.clone(), false);
                }
                let mut names = mask.clone();
                names.sort();
                self.note_cond(&mut yes, o, names.clone(), CondOp::AnyBit);
                self.note_cond(&mut no, o, names, CondOp::NoBit);
                vec![(true, yes), (false, no)]
            }
            CondKind::Eq { lhs, rhs } => {
                let (l, r) = (self.eval(st, lhs), self.eval(st, rhs));
                let is_zero = |v: &Val| matches!(v, Val::Null | Val::Int(0));
                if is_zero(&r) || is_zero(&l) {
                    let other = if is_zero(&r) { l } else { r };
                    return self
                        .split_truthy(st, &other)
                        .into_iter()
                        .map(|(b, s)| (!b, s))
                        .collect();
                }
                match (&l, &r) {
                    (Val::Int(a), Val::Int(b)) => vec![(a == b, st.clone())],
                    (Val::Bits(a), Val::Bits(b)) if a.exact && b.exact => {
                        vec![(a == b, st.clone())]
                    }
                    (Val::Obj(o), Val::Bits(k)) | (Val::Bits(k), Val::Obj(o)) if k.exact => {
                        let cur = self.bits_of(st, &Val::Obj(*o));
                        let set = |b: &BitVal| -> Vec<String> {
                            b.known
                                .iter()
                                .filter(|(_, v)| **v)
                                .map(|(n, _)| n.clone())
                                .collect()
                        };
                        if cur.exact && set(&cur) == set(k) {
                            return vec![(true, st.clone())];
                        }
                        let contradicts = k.known.iter().any(|(n, v)| cur.bit(n) == Some(!v))
                            || cur.known.iter().any(|(n, v)| *v && k.bit(n) == Some(false));
                        if contradicts {
                            return vec![(false, st.clone())];
                        }
                        let mut yes = st.clone();
                        yes.bits.insert(*o, k.clone());
                        let mut no = st.clone();
                        let mut consts = set(k);
                        consts.sort();
                        self.note_cond(&mut yes, *o, consts.clone(), CondOp::Eq);
                        self.note_cond(&mut no, *o, consts, CondOp::Ne);
                        vec![(true, yes), (false, no)]
                    }
                    _ => both(st),
                }
            }
            CondKind::Unknown { .. } => both(st),
        }
    }

    fn split_truthy(&mut self, st: &State, v: &Val) -> Vec<(bool, State)> {
        if let Some(t) = self.truthy_of(st, v) {
            return vec![(t, st.clone())];
        }
        let Val::Obj(o) = *v else {
            return vec![(true, st.clone()), (false, st.clone())];
        };
        let mut yes = st.clone();
        yes.truthy.insert(o, true);
        let mut no = st.clone();
        no.truthy.insert(o, false);
        no.bits.insert(o, BitVal::zero());
        vec![(true, yes), (false, no)]
    }

    /// The fault lock of a vm_fault object in this state, if the flag (or
    /// the lock statuses) tell which it is.
    pub fn fault_lock(&mut self, st: &State, vmf: ObjId) -> Option<LockKey> {
        let fm = &self.model.fault;
        let (flags_field, vma_field, flag) = (
            fm.flags_field.clone(),
            fm.vma_field.clone(),
            fm.vma_lock_flag.clone(),
        );
        let flags = self.load_field(st, vmf, &flags_field);
        let Val::Obj(vma) = self.load_field(st, vmf, &vma_field) else {
            return None;
        };
        let bit = self.bits_of(st, &flags).bit(&flag);
        self.lock_for_flag(st, vma, bit)
    }

    /// The lock a fault on `vma` runs under, given the VMA-lock flag.
    pub fn lock_for_flag(&mut self, st: &State, vma: ObjId, flag: Option<bool>) -> Option<LockKey> {
        let mm = self.mm_of(st, vma).map(LockKey::Mmap);
        match flag {
            Some(true) => Some(LockKey::Vma(vma)),
            Some(false) => mm,
            None if st.is_held(LockKey::Vma(vma)) => Some(LockKey::Vma(vma)),
            None => mm.filter(|k| st.is_held(*k)),
        }
    }
}
