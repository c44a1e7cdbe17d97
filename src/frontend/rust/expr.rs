//! Rust expressions → IR: operands, places, binary operators, aggregates.
//! Calls are in `call.rs`, statements, conditions, patterns and control
//! flow in `control.rs`.

use super::lower::{Lower, MAX_DEPTH};
use super::types::type_ref;
use crate::ir::*;
use crate::source::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat, UnOp};

pub(super) fn other(op: &Operand) -> Operand {
    Operand::Other {
        places: op.places().into_iter().cloned().collect(),
    }
}

pub(super) fn is_const_name(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `a::b::<T>::c` → `a::b::c`.
pub fn path_text(p: &syn::Path) -> String {
    let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.join("::")
}

pub(super) fn macro_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

pub(super) const DIVERGING_MACROS: &[&str] =
    &["panic", "unreachable", "todo", "unimplemented", "BUG"];

impl Lower<'_> {
    pub(super) fn span_of<T: Spanned>(&self, t: &T) -> Span {
        self.sp(t.span())
    }

    /// Lower an expression; its value as an operand (calls are hoisted).
    pub fn expr(&mut self, e: &Expr) -> Operand {
        if self.depth > MAX_DEPTH {
            let sp = self.span_of(e);
            self.opaque_tokens(e.to_token_stream(), sp, true);
            return Operand::Other { places: vec![] };
        }
        self.depth += 1;
        let v = self.expr_inner(e);
        self.depth -= 1;
        v
    }

    pub(super) fn value_temp(&mut self, span: Span) -> Place {
        let t = self.temp();
        let flag = Place::var(format!("{}$live", t.base));
        self.declare(&flag.base, TypeRef::default(), span);
        self.assign(flag, Operand::Int(0), span);
        t
    }

    pub(super) fn expr_inner(&mut self, e: &Expr) -> Operand {
        let span = self.span_of(e);
        let none = || Operand::Other { places: vec![] };
        match e {
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse::<i64>().map_or(none(), Operand::Int),
                syn::Lit::Bool(b) => Operand::Int(b.value as i64),
                _ => none(),
            },
            Expr::Path(p) => {
                let segs = &p.path.segments;
                let last = path_last(&p.path);
                if last == "None" {
                    Operand::Null
                } else if segs.len() == 1 && p.qself.is_none() && self.vars.contains(&last) {
                    Operand::Place(Place::var(last))
                } else if is_const_name(&last) {
                    Operand::Const(last)
                } else if segs.len() == 1 && p.qself.is_none() {
                    Operand::Place(Place::var(last))
                } else {
                    none()
                }
            }
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Cast(c) => {
                let v = self.expr(&c.expr);
                self.borrow(v, span)
            }
            Expr::Reference(r) => {
                // `&*p` is `p`; `&mut x` of a local may be written through;
                // `&(*p).f` is C's `&p->f`, an address (e.g. of a lock).
                if let Expr::Unary(u) = &*r.expr {
                    if matches!(u.op, UnOp::Deref(_)) {
                        return self.expr(&u.expr);
                    }
                }
                let v = self.expr(&r.expr);
                match v {
                    Operand::Place(p)
                        if ((r.mutability.is_some() && p.proj.is_empty())
                            || p.proj.contains(&Proj::Deref))
                            && !p.base.starts_with('$')
                            && self.guard_of(&Operand::Place(p.clone())).is_none() =>
                    {
                        Operand::AddrOf(p)
                    }
                    v => self.borrow(v, span),
                }
            }
            Expr::RawAddr(r) => {
                // `&raw const|mut place` (Rust 2024): the place's address,
                // as `&`/`&mut` above.
                let v = self.expr(&r.expr);
                let mutable = matches!(r.mutability, syn::PointerMutability::Mut(_));
                match v {
                    Operand::Place(p)
                        if ((mutable && p.proj.is_empty()) || p.proj.contains(&Proj::Deref))
                            && !p.base.starts_with('$')
                            && self.guard_of(&Operand::Place(p.clone())).is_none() =>
                    {
                        Operand::AddrOf(p)
                    }
                    v => self.borrow(v, span),
                }
            }
            Expr::Unary(u) => {
                let v = self.expr(&u.expr);
                match u.op {
                    UnOp::Deref(_) => match self.place_of(v, span) {
                        Some(mut p) => {
                            p.proj.push(Proj::Deref);
                            Operand::Place(p)
                        }
                        None => none(),
                    },
                    _ => other(&v),
                }
            }
            Expr::Field(f) => {
                let v = self.expr(&f.base);
                let name = match &f.member {
                    syn::Member::Named(i) => i.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                match self.place_of(v, span) {
                    Some(mut p) => {
                        p.proj.push(Proj::Field(name));
                        Operand::Place(p)
                    }
                    None => none(),
                }
            }
            Expr::Index(i) => {
                let v = self.expr(&i.expr);
                let idx = self.expr(&i.index);
                let places: Vec<Place> = idx.places().into_iter().cloned().collect();
                if !places.is_empty() {
                    self.emit(StmtKind::Use { places }, span);
                }
                match self.place_of(v, span) {
                    Some(mut p) => {
                        p.proj.push(Proj::Index);
                        Operand::Place(p)
                    }
                    None => none(),
                }
            }
            Expr::Binary(b) => self.binary(b, span),
            Expr::Call(c) => self.call(c, span),
            Expr::MethodCall(m) => self.method_call(m, span),
            Expr::Macro(m) => self.mac(&m.mac, span),
            Expr::Block(b) => self.labeled_block(&b.block, b.label.as_ref(), span),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::Const(c) => self.block(&c.block),
            Expr::If(i) => self.if_expr(i, span),
            Expr::Match(m) => self.match_expr(m, span),
            Expr::Loop(l) => {
                let head = self.new_block();
                let exit = self.new_block();
                let t = self.value_temp(span);
                self.goto(head);
                self.cur = head;
                let at = self.scopes.len();
                self.loop_body(l.label.as_ref(), &l.body, (head, exit, at), Some(t.clone()));
                self.goto(head);
                self.cur = exit;
                Operand::Place(t)
            }
            Expr::While(w) => {
                let head = self.new_block();
                let body = self.new_block();
                let exit = self.new_block();
                self.goto(head);
                self.cur = head;
                self.push_scope();
                self.cond(&w.cond, body, exit);
                self.cur = body;
                let at = self.scopes.len() - 1;
                self.loop_body(w.label.as_ref(), &w.body, (head, exit, at), None);
                let sp = self.sp(w.body.brace_token.span.close());
                self.pop_scope(sp);
                self.goto(head);
                self.cur = exit;
                none()
            }
            Expr::ForLoop(f) => {
                let it = self.expr(&f.expr);
                let head = self.new_block();
                let body = self.new_block();
                let exit = self.new_block();
                self.goto(head);
                self.cur = head;
                self.terminate(Terminator::Multi(vec![body, exit]));
                self.cur = body;
                self.push_scope();
                self.bind(&f.pat, other(&it), span);
                let at = self.scopes.len() - 1;
                self.loop_body(f.label.as_ref(), &f.body, (head, exit, at), None);
                let sp = self.sp(f.body.brace_token.span.close());
                self.pop_scope(sp);
                self.goto(head);
                self.cur = exit;
                none()
            }
            Expr::Return(r) => {
                let v = r.expr.as_ref().map(|e| self.expr(e));
                self.ret(v, span);
                none()
            }
            Expr::Break(b) => {
                let v = b.expr.as_ref().map(|e| self.expr(e));
                if let Some(i) = self.loop_index(b.label.as_ref()) {
                    let (scopes, frames, brk) = (
                        self.loops[i].scopes,
                        self.loops[i].frames,
                        self.loops[i].brk,
                    );
                    if let (Some(v), Some(t)) = (v, self.loops[i].value.clone()) {
                        self.move_into(&t.base, v, span);
                    }
                    self.drop_down_to(scopes, frames, span);
                    self.terminate_dead(Terminator::Goto(brk));
                }
                none()
            }
            Expr::Continue(c) => {
                if let Some(i) = self.loop_index(c.label.as_ref()) {
                    let (scopes, frames, cont) = (
                        self.loops[i].scopes,
                        self.loops[i].frames,
                        self.loops[i].cont,
                    );
                    self.drop_down_to(scopes, frames, span);
                    self.terminate_dead(Terminator::Goto(cont));
                }
                none()
            }
            Expr::Try(t) => {
                let v = self.expr(&t.expr);
                let ok = self.new_block();
                let err = self.new_block();
                self.branch(CondKind::Truthy(v.clone()), span, ok, err);
                self.cur = err;
                self.ret(Some(none()), span);
                self.cur = ok;
                self.unwrap_guard(v, span)
            }
            Expr::Assign(a) => {
                let v = self.expr(&a.right);
                let dst = self.expr(&a.left);
                match dst {
                    Operand::Place(p) if p.proj.is_empty() => {
                        // Assigning a guard variable drops its old guard.
                        if self.guards.contains_key(&p.base) {
                            self.drop_guard(&p.base, span);
                        }
                        self.move_into(&p.base, v, span);
                    }
                    Operand::Place(p) => {
                        self.escape(std::slice::from_ref(&v), span);
                        self.assign(p, v, span)
                    }
                    d => {
                        let mut places: Vec<Place> = d.places().into_iter().cloned().collect();
                        places.extend(v.places().into_iter().cloned());
                        self.emit(StmtKind::Use { places }, span);
                    }
                }
                none()
            }
            Expr::Closure(c) => {
                self.opaque_tokens(c.body.to_token_stream(), span, false);
                none()
            }
            Expr::Struct(s) => {
                let mut places = Vec::new();
                for f in &s.fields {
                    let v = self.expr(&f.expr);
                    self.escape(std::slice::from_ref(&v), span);
                    places.extend(v.places().into_iter().cloned());
                }
                if let Some(r) = &s.rest {
                    let v = self.expr(r);
                    places.extend(v.places().into_iter().cloned());
                }
                Operand::Other { places }
            }
            Expr::Tuple(t) => self.list(t.elems.iter(), true),
            Expr::Array(a) => self.list(a.elems.iter(), true),
            Expr::Repeat(r) => {
                let v = self.expr(&r.expr);
                other(&v)
            }
            Expr::Range(r) => {
                let a: Vec<&Expr> = r.start.iter().chain(r.end.iter()).map(|e| &**e).collect();
                self.list(a.into_iter(), false)
            }
            Expr::Let(_) => {
                let yes = self.new_block();
                let no = self.new_block();
                let join = self.new_block();
                self.cond(e, yes, no);
                self.cur = yes;
                self.goto(join);
                self.cur = no;
                self.goto(join);
                self.cur = join;
                none()
            }
            _ => {
                self.opaque_tokens(e.to_token_stream(), span, true);
                none()
            }
        }
    }

    /// The places of several values; `moves`: guards among them move into
    /// the aggregate (a tuple or array literal).
    pub(super) fn list<'e>(
        &mut self,
        elems: impl Iterator<Item = &'e Expr>,
        moves: bool,
    ) -> Operand {
        let mut places = Vec::new();
        for e in elems {
            let v = self.expr(e);
            if moves {
                let sp = self.span_of(e);
                self.escape(std::slice::from_ref(&v), sp);
            }
            places.extend(v.places().into_iter().cloned());
        }
        Operand::Other { places }
    }

    /// Guards among `vals` are moved somewhere we do not follow (a field,
    /// a collection, a callee): they are no longer dropped here.
    pub(super) fn escape(&mut self, vals: &[Operand], span: Span) {
        for v in vals {
            if let Some((g, _)) = self.guard_of(v) {
                self.mark_moved(&g, span);
            }
        }
    }

    /// The place an operand names; other values go through a temporary.
    pub(super) fn place_of(&mut self, v: Operand, span: Span) -> Option<Place> {
        match v {
            Operand::Place(p) => Some(p),
            Operand::Other { places } if places.is_empty() => None,
            v => {
                let t = self.temp();
                self.assign(t.clone(), v, span);
                Some(t)
            }
        }
    }

    pub(super) fn binary(&mut self, b: &syn::ExprBinary, span: Span) -> Operand {
        use BinOp::*;
        let compound = matches!(
            b.op,
            AddAssign(_)
                | SubAssign(_)
                | MulAssign(_)
                | DivAssign(_)
                | RemAssign(_)
                | BitXorAssign(_)
                | BitAndAssign(_)
                | BitOrAssign(_)
                | ShlAssign(_)
                | ShrAssign(_)
        );
        let r = self.expr(&b.right);
        let l = self.expr(&b.left);
        if compound {
            let src = match b.op {
                BitOrAssign(_) => Operand::Or(vec![l.clone(), r]),
                _ => {
                    let mut places: Vec<Place> = l.places().into_iter().cloned().collect();
                    places.extend(r.places().into_iter().cloned());
                    Operand::Other { places }
                }
            };
            if let Operand::Place(p) = l {
                self.assign(p, src, span);
            } else {
                let places = src.places().into_iter().cloned().collect();
                self.emit(StmtKind::Use { places }, span);
            }
            return Operand::Other { places: vec![] };
        }
        match b.op {
            BitOr(_) => {
                let mut ops = Vec::new();
                for x in [l, r] {
                    match x {
                        Operand::Or(v) => ops.extend(v),
                        x => ops.push(x),
                    }
                }
                Operand::Or(ops)
            }
            BitAnd(_) => Operand::And(Box::new(l), Box::new(r)),
            _ => {
                let mut places: Vec<Place> = l.places().into_iter().cloned().collect();
                places.extend(r.places().into_iter().cloned());
                Operand::Other { places }
            }
        }
    }
}

pub fn path_last(p: &syn::Path) -> String {
    p.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

pub(super) fn is_some_like(p: &syn::Path) -> bool {
    matches!(path_last(p).as_str(), "Some" | "Ok")
}

/// Whether a pattern moves (part of) the value it matches.
pub(super) fn binds_by_value(p: &Pat) -> bool {
    match p {
        Pat::Ident(i) => i.by_ref.is_none(),
        Pat::Type(t) => binds_by_value(&t.pat),
        Pat::Paren(p) => binds_by_value(&p.pat),
        _ => false,
    }
}

pub(super) fn const_names(op: &Operand) -> Option<Vec<String>> {
    match op {
        Operand::Const(c) => Some(vec![c.clone()]),
        Operand::Or(ops) => {
            let mut out = Vec::new();
            for o in ops {
                out.extend(const_names(o)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// Every variable a pattern binds, with its written type if any.
pub fn pat_idents(p: &Pat) -> Vec<(String, TypeRef)> {
    let mut out = Vec::new();
    let mut stack = vec![(p, TypeRef::default())];
    while let Some((p, ty)) = stack.pop() {
        match p {
            Pat::Ident(i) => {
                out.push((i.ident.to_string(), ty));
                if let Some((_, s)) = &i.subpat {
                    stack.push((s, TypeRef::default()));
                }
            }
            Pat::Type(t) => stack.push((&t.pat, type_ref(&t.ty))),
            Pat::Reference(r) => stack.push((&r.pat, TypeRef::default())),
            Pat::Paren(x) => stack.push((&x.pat, ty)),
            Pat::Tuple(t) => stack.extend(t.elems.iter().map(|e| (e, TypeRef::default()))),
            Pat::TupleStruct(t) => stack.extend(t.elems.iter().map(|e| (e, TypeRef::default()))),
            Pat::Slice(s) => stack.extend(s.elems.iter().map(|e| (e, TypeRef::default()))),
            Pat::Or(o) => {
                if let Some(first) = o.cases.first() {
                    stack.push((first, TypeRef::default()));
                }
            }
            Pat::Struct(s) => stack.extend(s.fields.iter().map(|f| (&*f.pat, TypeRef::default()))),
            _ => {}
        }
    }
    out
}
