//! Lowering of one Rust function body into the IR: the CFG builder, scopes
//! and guard drops. Expressions, conditions and patterns are in `expr.rs`.
//!
//! Guards (values of the `[rust]` model's guard-producing calls) are lowered
//! into ordinary IR. A guard local `g` gets two synthetic locals:
//! `g$held`, the locked object captured when the guard was made (the mm of
//! `mm.mmap_read_lock()`, the VMA of `lock_vma_under_rcu`), and `g$live`,
//! Rust's drop flag (1 while `g` owns the guard, 0 once moved or dropped).
//! Dropping `g` (`drop(g)`, and every exit of the scope that declared it:
//! block end, match arm end, `return`, `?`, `break`, `continue`, in reverse
//! declaration order) is `if g$live { [if g] RELEASE(g$held); g$live = 0 }`
//! where RELEASE is the model's C release (`mmap_read_unlock`,
//! `vma_end_read`) and the inner test is there for `Option` guards. The
//! analysis prunes the tests by the known flag values, so it sees plain C
//! calls. Guard temporaries that nothing binds are dropped at the end of
//! their statement, the same way.

use crate::ir::*;
use crate::model::RustModel;
use crate::source::Span;
use std::collections::{HashMap, HashSet};

/// Nesting deeper than this is lowered as one opaque region.
pub const MAX_DEPTH: u32 = 200;

/// What a guard value releases and what it holds.
#[derive(Debug, Clone)]
pub struct GuardVal {
    pub release: String,
    /// The locked object.
    pub held: Operand,
    /// `Option<Guard>`: the guard exists when the value is truthy.
    pub option: bool,
}

pub struct Scope {
    /// Guard locals declared in this scope, in declaration order.
    pub guards: Vec<String>,
}

pub struct LoopCx {
    pub label: Option<String>,
    pub brk: BlockId,
    pub cont: BlockId,
    /// `scopes.len()` and `pending.len()` at loop entry.
    pub scopes: usize,
    pub frames: usize,
    /// Where `break value` stores its value.
    pub value: Option<Place>,
}

pub struct Lower<'a> {
    pub m: &'a RustModel,
    /// Byte offset of the parsed text inside the file.
    pub base: usize,
    pub blocks: Vec<Block>,
    pub cur: BlockId,
    ntemp: u32,
    pub locals: Vec<Var>,
    pub vars: HashSet<String>,
    pub scopes: Vec<Scope>,
    /// Scope index each local was declared in.
    pub decl_scope: HashMap<String, usize>,
    pub loops: Vec<LoopCx>,
    pub guards: HashMap<String, GuardVal>,
    /// Guard temporaries not yet bound, one frame per statement.
    pub pending: Vec<Vec<String>>,
    pub opaque: u32,
    pub depth: u32,
    /// Functions defined inside the body (lowered separately).
    pub nested: Vec<syn::ItemFn>,
}

impl CfgBuilder for Lower<'_> {
    fn cfg_parts(&mut self) -> (&mut Vec<Block>, &mut BlockId, &mut u32) {
        (&mut self.blocks, &mut self.cur, &mut self.ntemp)
    }
}

impl<'a> Lower<'a> {
    pub fn new(m: &'a RustModel, base: usize) -> Self {
        let mut l = Lower {
            m,
            base,
            blocks: Vec::new(),
            cur: 0,
            ntemp: 0,
            locals: Vec::new(),
            vars: HashSet::new(),
            scopes: Vec::new(),
            decl_scope: HashMap::new(),
            loops: Vec::new(),
            guards: HashMap::new(),
            pending: vec![Vec::new()],
            opaque: 0,
            depth: 0,
            nested: Vec::new(),
        };
        l.cur = l.new_block();
        l
    }

    pub fn sp(&self, s: proc_macro2::Span) -> Span {
        let r = s.byte_range();
        Span::new(self.base + r.start, self.base + r.end)
    }

    pub fn branch(&mut self, kind: CondKind, span: Span, then_bb: BlockId, else_bb: BlockId) {
        self.terminate(Terminator::Branch {
            cond: Cond { kind, span },
            then_bb,
            else_bb,
            stmt_span: None,
        });
    }

    /// Declare a local (flat: shadowing reuses the name) in the current scope.
    pub fn declare(&mut self, name: &str, ty: TypeRef, span: Span) {
        if self.vars.insert(name.to_string()) {
            self.locals.push(Var {
                name: name.to_string(),
                ty,
                span,
            });
        }
        self.decl_scope
            .insert(name.to_string(), self.scopes.len().saturating_sub(1));
    }

    fn synthetic(&mut self, name: String, span: Span) -> Place {
        if self.vars.insert(name.clone()) {
            self.locals.push(Var {
                name: name.clone(),
                ty: TypeRef::default(),
                span,
            });
        }
        Place::var(name)
    }

    pub fn assign(&mut self, dst: Place, src: Operand, span: Span) {
        self.emit(StmtKind::Assign { dst, src }, span);
    }

    /// The guard a value is, if it is the whole value of a guard local or
    /// temporary.
    pub fn guard_of(&self, op: &Operand) -> Option<(String, GuardVal)> {
        match op {
            Operand::Place(p) if p.proj.is_empty() => self
                .guards
                .get(&p.base)
                .map(|g| (p.base.clone(), g.clone())),
            _ => None,
        }
    }

    fn live_flag(&mut self, name: &str, span: Span) -> Place {
        self.synthetic(format!("{name}$live"), span)
    }

    /// `name` no longer owns its guard (moved or dropped).
    pub fn mark_moved(&mut self, name: &str, span: Span) {
        if let Some(f) = self
            .pending
            .iter_mut()
            .find(|f| f.iter().any(|n| n == name))
        {
            f.retain(|n| n != name);
        }
        let flag = self.live_flag(name, span);
        self.assign(flag, Operand::Int(0), span);
    }

    /// A new guard temporary made by a call; dropped at the end of the
    /// statement unless bound.
    pub fn new_guard_temp(&mut self, t: &Place, g: GuardVal, span: Span) {
        let flag = self.live_flag(&t.base, span);
        self.assign(flag, Operand::Int(1), span);
        self.guards.insert(t.base.clone(), g);
        if let Some(f) = self.pending.last_mut() {
            f.push(t.base.clone());
        }
    }

    /// Store `v` into the variable `dst`, moving a guard if `v` is one.
    /// Returns whether a guard moved. `dst` must already be declared; the
    /// guard is then dropped with the scope `dst` was declared in (or, for
    /// a temporary, at the end of its statement).
    pub fn move_into(&mut self, dst: &str, v: Operand, span: Span) -> bool {
        let Some((src, g)) = self.guard_of(&v) else {
            self.assign(Place::var(dst), v, span);
            return false;
        };
        if src == dst {
            return true;
        }
        self.assign(Place::var(dst), v, span);
        let held = self.synthetic(format!("{dst}$held"), span);
        self.assign(held.clone(), g.held.clone(), span);
        self.mark_moved(&src, span);
        let flag = self.live_flag(dst, span);
        self.assign(flag, Operand::Int(1), span);
        self.guards.insert(
            dst.to_string(),
            GuardVal {
                held: Operand::Place(held),
                ..g
            },
        );
        if dst.starts_with('$') {
            if let Some(f) = self.pending.last_mut() {
                if !f.iter().any(|n| n == dst) {
                    f.push(dst.to_string());
                }
            }
        } else {
            let at = self.decl_scope.get(dst).copied().unwrap_or(0);
            if let Some(s) = self.scopes.get_mut(at) {
                if !s.guards.iter().any(|n| n == dst) {
                    s.guards.push(dst.to_string());
                }
            }
        }
        true
    }

    /// The `Some` value of an `Option` guard, as a new guard temporary that
    /// the option no longer owns; any other value unchanged.
    pub fn unwrap_guard(&mut self, v: Operand, span: Span) -> Operand {
        match self.guard_of(&v) {
            Some((src, g)) if g.option => {
                let t = self.temp();
                self.assign(t.clone(), g.held.clone(), span);
                self.mark_moved(&src, span);
                self.new_guard_temp(
                    &t,
                    GuardVal {
                        option: false,
                        held: Operand::Place(t.clone()),
                        ..g
                    },
                    span,
                );
                Operand::Place(t)
            }
            _ => v,
        }
    }

    /// A copy of a guard's value that does not own it (`&g`, `g.as_ptr()`).
    pub fn borrow(&mut self, v: Operand, span: Span) -> Operand {
        if self.guard_of(&v).is_none() {
            return v;
        }
        let t = self.temp();
        self.assign(t.clone(), v, span);
        Operand::Place(t)
    }

    /// Drop guard `name` if it still owns its lock.
    pub fn drop_guard(&mut self, name: &str, span: Span) {
        let Some(g) = self.guards.get(name).cloned() else {
            return;
        };
        let flag = self.live_flag(name, span);
        let rel = self.new_block();
        let next = self.new_block();
        self.branch(
            CondKind::Truthy(Operand::Place(flag.clone())),
            span,
            rel,
            next,
        );
        self.cur = rel;
        if g.option {
            let some = self.new_block();
            self.branch(
                CondKind::Truthy(Operand::Place(Place::var(name))),
                span,
                some,
                next,
            );
            self.cur = some;
        }
        self.emit(
            StmtKind::Call {
                dst: None,
                callee: Callee::Direct {
                    name: g.release.clone(),
                    path: g.release.clone(),
                },
                args: vec![g.held.clone()],
                arg_spans: vec![span],
            },
            span,
        );
        self.assign(flag, Operand::Int(0), span);
        self.goto(next);
        self.cur = next;
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Scope { guards: Vec::new() });
    }

    /// Leave the innermost scope normally, dropping its guards.
    pub fn pop_scope(&mut self, span: Span) {
        if let Some(s) = self.scopes.pop() {
            for g in s.guards.iter().rev() {
                self.drop_guard(g, span);
            }
        }
    }

    /// Drop (without popping) the guards of scopes `from..` and of
    /// statement frames `frames..`, innermost first: an early exit.
    pub fn drop_down_to(&mut self, from: usize, frames: usize, span: Span) {
        let temps: Vec<String> = self.pending[frames.min(self.pending.len())..]
            .iter()
            .rev()
            .flat_map(|f| f.iter().rev().cloned())
            .collect();
        for t in temps {
            self.drop_guard(&t, span);
        }
        let names: Vec<String> = self.scopes[from.min(self.scopes.len())..]
            .iter()
            .rev()
            .flat_map(|s| s.guards.iter().rev().cloned())
            .collect();
        for g in names {
            self.drop_guard(&g, span);
        }
    }

    pub fn push_frame(&mut self) {
        self.pending.push(Vec::new());
    }

    /// End a statement: drop the guard temporaries nothing bound.
    pub fn pop_frame(&mut self, span: Span) {
        if let Some(f) = self.pending.pop() {
            for t in f.iter().rev() {
                self.drop_guard(t, span);
            }
        }
        if self.pending.is_empty() {
            self.pending.push(Vec::new());
        }
    }

    /// A value that reads through a pointer, evaluated now into a
    /// temporary: a block's value and a returned value are read before the
    /// guards of the scopes they leave are dropped.
    pub fn materialize(&mut self, v: Operand, span: Span) -> Operand {
        let derefs = v.places().iter().any(|p| !p.proj.is_empty());
        if !derefs || matches!(v, Operand::AddrOf(_)) {
            return v;
        }
        let t = self.temp();
        self.assign(t.clone(), v, span);
        Operand::Place(t)
    }

    /// `return value`: the value is read (a guard moved out), then
    /// everything is dropped.
    pub fn ret(&mut self, value: Option<Operand>, span: Span) {
        let value = value.map(|v| self.materialize(v, span));
        if let Some((name, _)) = value.as_ref().and_then(|v| self.guard_of(v)) {
            self.mark_moved(&name, span);
        }
        self.drop_down_to(0, 0, span);
        self.terminate_dead(Terminator::Return { value, span });
    }

    /// A region lowered as opaque: identifiers and `.`-chains in it are
    /// uses, names followed by `(` are calls. `count` says whether it is a
    /// parse failure (closures are opaque by design and not counted).
    pub fn opaque_tokens(&mut self, tokens: proc_macro2::TokenStream, span: Span, count: bool) {
        let mut places = Vec::new();
        let mut calls = Vec::new();
        super::scan::scan(tokens, &self.vars, &mut places, &mut calls);
        self.emit(StmtKind::Opaque { places, calls }, span);
        if count {
            self.opaque += 1;
        }
    }

    /// Close the CFG: the open block returns `value`; dead blocks end in
    /// `Unreachable`.
    pub fn finish(&mut self, value: Option<Operand>, span: Span) {
        self.ret(value, span);
        for b in &mut self.blocks {
            if matches!(b.term, Terminator::None) {
                b.term = Terminator::Unreachable;
            }
        }
    }
}
