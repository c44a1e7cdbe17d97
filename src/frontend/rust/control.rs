//! Rust statements, conditions, patterns and control flow (blocks, `if`,
//! `match`, loops) → IR.

use super::expr::{
    binds_by_value, const_names, is_const_name, is_some_like, other, pat_idents, path_last,
};
use super::lower::{LoopCx, Lower};
use super::types::type_ref;
use crate::ir::*;
use crate::source::Span;
use syn::{BinOp, Expr, Pat, Stmt as SynStmt, UnOp};

impl Lower<'_> {
    /// Lower a block in a scope of its own; the value of its tail.
    pub fn block(&mut self, b: &syn::Block) -> Operand {
        self.push_scope();
        let n = b.stmts.len();
        let mut value = Operand::Other { places: Vec::new() };
        for (i, s) in b.stmts.iter().enumerate() {
            match s {
                SynStmt::Expr(e, None) if i + 1 == n => {
                    let v = self.expr(e);
                    let sp = self.span_of(e);
                    value = self.materialize(v, sp);
                }
                _ => self.stmt(s),
            }
        }
        // A guard declared in this block and returned as its value moves out.
        if let Some((name, _)) = self.guard_of(&value) {
            if !name.starts_with('$') {
                let t = self.temp();
                let sp = self.span_of(b);
                self.move_into(&t.base, value, sp);
                value = Operand::Place(t);
            }
        }
        let close = self.sp(b.brace_token.span.close());
        self.pop_scope(close);
        value
    }

    pub fn stmt(&mut self, s: &SynStmt) {
        let span = self.span_of(s);
        match s {
            SynStmt::Local(l) => {
                self.push_frame();
                self.local(l);
                self.pop_frame(span);
            }
            SynStmt::Item(syn::Item::Fn(f)) => self.nested.push(f.clone()),
            SynStmt::Item(_) => {}
            SynStmt::Expr(e, _) => {
                self.push_frame();
                let v = self.expr(e);
                let places: Vec<Place> = v.places().into_iter().cloned().collect();
                if !places.is_empty() && !matches!(e, Expr::Call(_) | Expr::MethodCall(_)) {
                    self.emit(StmtKind::Use { places }, span);
                }
                self.pop_frame(span);
            }
            SynStmt::Macro(m) => {
                self.push_frame();
                self.mac(&m.mac, span);
                self.pop_frame(span);
            }
        }
    }

    pub(super) fn local(&mut self, l: &syn::Local) {
        let span = self.span_of(l);
        let Some(init) = &l.init else {
            // `let g;` — initialised later, maybe on some paths only.
            for (name, ty) in pat_idents(&l.pat) {
                self.declare(&name, ty, span);
                let flag = Place::var(format!("{name}$live"));
                self.declare(&flag.base, TypeRef::default(), span);
                self.assign(flag, Operand::Int(0), span);
            }
            return;
        };
        let v = self.expr(&init.expr);
        if let Some((_, diverge)) = &init.diverge {
            let ok = self.new_block();
            let els = self.new_block();
            self.pat_test(&l.pat, &v, span, ok, els);
            self.cur = els;
            self.expr(diverge);
            self.terminate_dead(Terminator::Unreachable);
            self.cur = ok;
        }
        self.bind(&l.pat, v, span);
    }

    /// Bind the variables of `pat` to `v` (by-value bindings move guards).
    pub fn bind(&mut self, pat: &Pat, v: Operand, span: Span) {
        match pat {
            Pat::Ident(p) if p.ident == "None" || is_const_name(&p.ident.to_string()) => {}
            Pat::Ident(p) => {
                let name = p.ident.to_string();
                let v = if p.by_ref.is_some() {
                    self.borrow(v, span)
                } else {
                    v
                };
                self.declare(&name, TypeRef::default(), span);
                self.move_into(&name, v, span);
            }
            Pat::Type(t) => {
                self.bind(&t.pat, v, span);
                if let Pat::Ident(p) = &*t.pat {
                    let name = p.ident.to_string();
                    let ty = type_ref(&t.ty);
                    if let Some(var) = self.locals.iter_mut().find(|x| x.name == name) {
                        var.ty = ty;
                    }
                }
            }
            Pat::Reference(r) => {
                let v = self.borrow(v, span);
                self.bind(&r.pat, v, span)
            }
            Pat::Paren(p) => self.bind(&p.pat, v, span),
            Pat::TupleStruct(ts) if is_some_like(&ts.path) && ts.elems.len() == 1 => {
                let inner = &ts.elems[0];
                let v = if binds_by_value(inner) {
                    self.unwrap_guard(v, span)
                } else {
                    self.borrow(v, span)
                };
                self.bind(inner, v, span);
            }
            Pat::Wild(_) | Pat::Rest(_) | Pat::Lit(_) | Pat::Range(_) | Pat::Path(_) => {}
            _ => {
                for (name, ty) in pat_idents(pat) {
                    self.declare(&name, ty, span);
                    self.assign(Place::var(name), Operand::Other { places: vec![] }, span);
                }
            }
        }
    }

    /// Branch to `yes` when `v` matches `pat`, else to `no`.
    pub fn pat_test(&mut self, pat: &Pat, v: &Operand, span: Span, yes: BlockId, no: BlockId) {
        let kind = match pat {
            Pat::Ident(p) if p.ident == "None" => Some((CondKind::Truthy(v.clone()), true)),
            Pat::Ident(p) if is_const_name(&p.ident.to_string()) => Some((
                CondKind::Eq {
                    lhs: v.clone(),
                    rhs: Operand::Const(p.ident.to_string()),
                },
                false,
            )),
            Pat::Ident(p) if p.subpat.is_none() => None,
            Pat::Wild(_) | Pat::Rest(_) => None,
            Pat::Type(t) => return self.pat_test(&t.pat, v, span, yes, no),
            Pat::Paren(p) => return self.pat_test(&p.pat, v, span, yes, no),
            Pat::Reference(r) => return self.pat_test(&r.pat, v, span, yes, no),
            Pat::TupleStruct(ts) if path_last(&ts.path) == "Some" => {
                Some((CondKind::Truthy(v.clone()), false))
            }
            Pat::Path(p) if path_last(&p.path) == "None" => {
                Some((CondKind::Truthy(v.clone()), true))
            }
            Pat::Path(p) if is_const_name(&path_last(&p.path)) => Some((
                CondKind::Eq {
                    lhs: v.clone(),
                    rhs: Operand::Const(path_last(&p.path)),
                },
                false,
            )),
            Pat::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => Some((
                    CondKind::Eq {
                        lhs: v.clone(),
                        rhs: i.base10_parse::<i64>().map_or(other(v), Operand::Int),
                    },
                    false,
                )),
                _ => Some((CondKind::Unknown { places: vec![] }, false)),
            },
            _ => Some((CondKind::Unknown { places: vec![] }, false)),
        };
        match kind {
            None => self.goto(yes),
            Some((CondKind::Unknown { .. }, _)) => {
                self.terminate(Terminator::Multi(vec![yes, no]));
            }
            Some((k, false)) => self.branch(k, span, yes, no),
            Some((k, true)) => self.branch(k, span, no, yes),
        }
    }

    /// Lower a condition into a branch to `yes` / `no`. Bindings of
    /// `let` conditions happen on the edge to `yes`, in the current scope.
    pub fn cond(&mut self, e: &Expr, yes: BlockId, no: BlockId) {
        let span = self.span_of(e);
        match e {
            Expr::Paren(p) => self.cond(&p.expr, yes, no),
            Expr::Group(g) => self.cond(&g.expr, yes, no),
            Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => self.cond(&u.expr, no, yes),
            Expr::Binary(b) if matches!(b.op, BinOp::And(_)) => {
                let mid = self.new_block();
                self.cond(&b.left, mid, no);
                self.cur = mid;
                self.cond(&b.right, yes, no);
            }
            Expr::Binary(b) if matches!(b.op, BinOp::Or(_)) => {
                let mid = self.new_block();
                self.cond(&b.left, yes, mid);
                self.cur = mid;
                self.cond(&b.right, yes, no);
            }
            Expr::Let(l) => {
                let v = self.expr(&l.expr);
                let bind = self.new_block();
                self.pat_test(&l.pat, &v, span, bind, no);
                self.cur = bind;
                self.bind(&l.pat, v, span);
                self.goto(yes);
            }
            Expr::Binary(b) if matches!(b.op, BinOp::Eq(_) | BinOp::Ne(_)) => {
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                let (y, n) = if matches!(b.op, BinOp::Eq(_)) {
                    (yes, no)
                } else {
                    (no, yes)
                };
                match (&l, &r) {
                    (Operand::And(value, mask), Operand::Int(0))
                    | (Operand::Int(0), Operand::And(value, mask)) => {
                        if let Some(mask) = const_names(mask) {
                            let k = CondKind::BitTest {
                                value: (**value).clone(),
                                mask,
                            };
                            // `x & M == 0` holds when the bit test fails.
                            return self.branch(k, span, n, y);
                        }
                        self.branch(CondKind::Eq { lhs: l, rhs: r }, span, y, n)
                    }
                    _ => self.branch(CondKind::Eq { lhs: l, rhs: r }, span, y, n),
                }
            }
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "is_some" | "is_ok" | "is_none" | "is_null" | "is_err"
                    ) =>
            {
                let v = self.expr(&m.receiver);
                let positive = matches!(m.method.to_string().as_str(), "is_some" | "is_ok");
                let k = CondKind::Truthy(v);
                if positive {
                    self.branch(k, span, yes, no)
                } else {
                    self.branch(k, span, no, yes)
                }
            }
            _ => {
                let v = self.expr(e);
                let k = match &v {
                    Operand::Place(_) | Operand::Int(_) | Operand::Null | Operand::Const(_) => {
                        CondKind::Truthy(v)
                    }
                    Operand::And(value, mask) => match const_names(mask) {
                        Some(mask) => CondKind::BitTest {
                            value: (**value).clone(),
                            mask,
                        },
                        None => CondKind::Unknown {
                            places: v.places().into_iter().cloned().collect(),
                        },
                    },
                    _ => CondKind::Unknown {
                        places: v.places().into_iter().cloned().collect(),
                    },
                };
                self.branch(k, span, yes, no)
            }
        }
    }

    pub(super) fn labeled_block(
        &mut self,
        b: &syn::Block,
        label: Option<&syn::Label>,
        span: Span,
    ) -> Operand {
        let Some(label) = label else {
            return self.block(b);
        };
        let exit = self.new_block();
        let t = self.value_temp(span);
        self.loops.push(LoopCx {
            label: Some(label.name.ident.to_string()),
            brk: exit,
            cont: exit,
            scopes: self.scopes.len(),
            frames: self.pending.len(),
            value: Some(t.clone()),
        });
        let v = self.block(b);
        self.move_into(&t.base, v, span);
        self.loops.pop();
        self.goto(exit);
        self.cur = exit;
        Operand::Place(t)
    }

    pub(super) fn loop_body(
        &mut self,
        label: Option<&syn::Label>,
        body: &syn::Block,
        (cont, brk, scopes): (BlockId, BlockId, usize),
        value: Option<Place>,
    ) {
        self.loops.push(LoopCx {
            label: label.map(|l| l.name.ident.to_string()),
            brk,
            cont,
            scopes,
            frames: self.pending.len(),
            value,
        });
        self.push_frame();
        self.block(body);
        let sp = self.sp(body.brace_token.span.close());
        self.pop_frame(sp);
        self.loops.pop();
    }

    pub(super) fn loop_index(&self, label: Option<&syn::Lifetime>) -> Option<usize> {
        match label {
            // Unlabeled: the innermost loop (labeled blocks have cont == brk).
            None => self.loops.iter().rposition(|l| l.cont != l.brk),
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rposition(|x| x.label.as_deref() == Some(name.as_str()))
            }
        }
    }

    pub(super) fn if_expr(&mut self, i: &syn::ExprIf, span: Span) -> Operand {
        let t = self.value_temp(span);
        let yes = self.new_block();
        let no = self.new_block();
        let join = self.new_block();
        self.push_scope();
        self.cond(&i.cond, yes, no);
        self.cur = yes;
        let v = self.block(&i.then_branch);
        self.move_into(&t.base, v, span);
        let close = self.sp(i.then_branch.brace_token.span.close());
        self.pop_scope(close);
        self.goto(join);
        self.cur = no;
        if let Some((_, e)) = &i.else_branch {
            let v = self.expr(e);
            self.move_into(&t.base, v, span);
        }
        self.goto(join);
        self.cur = join;
        Operand::Place(t)
    }

    pub(super) fn match_expr(&mut self, m: &syn::ExprMatch, span: Span) -> Operand {
        let v = self.expr(&m.expr);
        let t = self.value_temp(span);
        let join = self.new_block();
        for arm in &m.arms {
            let arm_span = self.span_of(&arm.body);
            let body = self.new_block();
            let next = self.new_block();
            self.pat_test(&arm.pat, &v, arm_span, body, next);
            self.cur = body;
            self.push_scope();
            self.bind(&arm.pat, v.clone(), self.span_of(&arm.pat));
            if let Some((_, g)) = &arm.guard {
                let ok = self.new_block();
                self.cond(g, ok, next);
                self.cur = ok;
            }
            let r = self.expr(&arm.body);
            self.move_into(&t.base, r, arm_span);
            let end = Span::new(arm_span.end as usize, arm_span.end as usize);
            self.pop_scope(end);
            self.goto(join);
            self.cur = next;
        }
        // No arm matched: impossible for an exhaustive match.
        self.terminate(Terminator::Unreachable);
        self.cur = join;
        Operand::Place(t)
    }
}
