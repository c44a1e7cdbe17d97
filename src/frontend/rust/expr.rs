//! Rust expressions, statements, conditions and patterns → IR.

use super::lower::{GuardVal, LoopCx, Lower, MAX_DEPTH};
use super::types::type_ref;
use crate::ir::*;
use crate::model::{Arg, RustCall};
use crate::source::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat, Stmt as SynStmt, UnOp};

fn other(op: &Operand) -> Operand {
    Operand::Other {
        places: op.places().into_iter().cloned().collect(),
    }
}

fn is_const_name(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `a::b::<T>::c` → `a::b::c`.
pub fn path_text(p: &syn::Path) -> String {
    let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.join("::")
}

fn macro_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented", "BUG"];

impl Lower<'_> {
    fn span_of<T: Spanned>(&self, t: &T) -> Span {
        self.sp(t.span())
    }

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

    fn local(&mut self, l: &syn::Local) {
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

    fn value_temp(&mut self, span: Span) -> Place {
        let t = self.temp();
        let flag = Place::var(format!("{}$live", t.base));
        self.declare(&flag.base, TypeRef::default(), span);
        self.assign(flag, Operand::Int(0), span);
        t
    }

    fn expr_inner(&mut self, e: &Expr) -> Operand {
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
    fn list<'e>(&mut self, elems: impl Iterator<Item = &'e Expr>, moves: bool) -> Operand {
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
    fn escape(&mut self, vals: &[Operand], span: Span) {
        for v in vals {
            if let Some((g, _)) = self.guard_of(v) {
                self.mark_moved(&g, span);
            }
        }
    }

    /// The place an operand names; other values go through a temporary.
    fn place_of(&mut self, v: Operand, span: Span) -> Option<Place> {
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

    fn binary(&mut self, b: &syn::ExprBinary, span: Span) -> Operand {
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

    fn emit_call(
        &mut self,
        name: &str,
        path: &str,
        args: Vec<Operand>,
        spans: Vec<Span>,
        span: Span,
    ) -> Place {
        let t = self.temp();
        self.emit(
            StmtKind::Call {
                dst: Some(t.clone()),
                callee: Callee::Direct {
                    name: name.to_string(),
                    path: path.to_string(),
                },
                args,
                arg_spans: spans,
            },
            span,
        );
        t
    }

    fn args(&mut self, args: impl Iterator<Item = Expr>) -> (Vec<Operand>, Vec<Span>) {
        let mut ops = Vec::new();
        let mut spans = Vec::new();
        for a in args {
            spans.push(self.span_of(&a));
            ops.push(self.expr(&a));
        }
        (ops, spans)
    }

    /// A model call (`call` / `identity` / `guard`) with receiver `recv`.
    fn model_call(
        &mut self,
        c: &RustCall,
        recv: Option<Operand>,
        args: Vec<Operand>,
        spans: Vec<Span>,
        written: &str,
        span: Span,
    ) -> Operand {
        let pick = |a: &Arg| -> Option<(Operand, Span)> {
            match a {
                Arg::Receiver => recv.clone().map(|r| (r, span)),
                Arg::Index(i) => args.get(*i).cloned().map(|o| (o, spans[*i])),
            }
        };
        match c {
            RustCall::Identity(a) => {
                let v = pick(a).map_or(Operand::Other { places: vec![] }, |(o, _)| o);
                let t = self.temp();
                self.assign(t.clone(), v, span);
                Operand::Place(t)
            }
            RustCall::Call {
                name,
                args: cargs,
                guard,
            } => {
                let picked: Vec<(Operand, Span)> = cargs.iter().filter_map(pick).collect();
                let (ops, sps): (Vec<Operand>, Vec<Span>) = picked.into_iter().unzip();
                let t = self.emit_call(name, written, ops, sps, span);
                let Some(g) = guard else {
                    return Operand::Place(t);
                };
                let held = if g.holds_result {
                    Operand::Place(t.clone())
                } else {
                    recv.clone().unwrap_or(Operand::Other { places: vec![] })
                };
                let t = if g.option {
                    t
                } else {
                    // A plain guard's value is what it holds.
                    let v = self.temp();
                    self.assign(v.clone(), held.clone(), span);
                    v
                };
                let held = if g.option {
                    held
                } else {
                    Operand::Place(t.clone())
                };
                self.new_guard_temp(
                    &t,
                    GuardVal {
                        release: g.release.clone(),
                        held,
                        option: g.option,
                    },
                    span,
                );
                Operand::Place(t)
            }
        }
    }

    fn call(&mut self, c: &syn::ExprCall, span: Span) -> Operand {
        let Expr::Path(p) = &*c.func else {
            let f = self.expr(&c.func);
            let (args, spans) = self.args(c.args.iter().cloned());
            let callee = match f {
                Operand::Place(p) => Callee::Indirect(p),
                _ => {
                    let places = args.iter().flat_map(|a| a.places()).cloned().collect();
                    self.emit(StmtKind::Use { places }, span);
                    return Operand::Other { places: vec![] };
                }
            };
            let t = self.temp();
            self.emit(
                StmtKind::Call {
                    dst: Some(t.clone()),
                    callee,
                    args,
                    arg_spans: spans,
                },
                span,
            );
            return Operand::Place(t);
        };
        let path = path_text(&p.path);
        let name = path_last(&p.path);
        let (args, spans) = self.args(c.args.iter().cloned());
        if self.m.forget_functions.contains(&path) && args.len() == 1 {
            if let Some((g, _)) = self.guard_of(&args[0]) {
                self.mark_moved(&g, span);
            }
            return Operand::Other { places: vec![] };
        }
        if self.m.is_drop(&path) && args.len() == 1 {
            if let Some((g, _)) = self.guard_of(&args[0]) {
                self.drop_guard(&g, span);
                self.mark_moved(&g, span);
            }
            return Operand::Other { places: vec![] };
        }
        let wraps = matches!(name.as_str(), "Some" | "Ok") || path.ends_with("Box::new");
        if wraps && args.len() == 1 {
            return args.into_iter().next().unwrap_or(Operand::Null);
        }
        if let Some(mc) = self.m.function(&path).cloned() {
            return self.model_call(&mc, None, args, spans, &path, span);
        }
        // A guard passed by value belongs to the callee now.
        self.escape(&args, span);
        Operand::Place(self.emit_call(&name, &path, args, spans, span))
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall, span: Span) -> Operand {
        let recv = self.expr(&m.receiver);
        let method = m.method.to_string();
        let (args, spans) = self.args(m.args.iter().cloned());
        if self.m.option_unwrap.contains(&method) {
            return self.unwrap_guard(recv, span);
        }
        if let Some(mc) = self.m.methods.get(&method).cloned() {
            return self.model_call(&mc, Some(recv), args, spans, &method, span);
        }
        self.escape(&args, span);
        let recv_span = self.span_of(&m.receiver);
        let recv = self.borrow(recv, recv_span);
        let mut all = vec![recv];
        all.extend(args);
        let mut all_spans = vec![recv_span];
        all_spans.extend(spans);
        Operand::Place(self.emit_call(&method, &method, all, all_spans, span))
    }

    pub fn mac(&mut self, m: &syn::Macro, span: Span) -> Operand {
        let name = macro_name(m);
        if DIVERGING_MACROS.contains(&name.as_str()) {
            self.terminate_dead(Terminator::Unreachable);
            return Operand::Other { places: vec![] };
        }
        let parsed = m
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated);
        match parsed {
            Ok(exprs) => {
                // Macro arguments are borrowed (`format_args!`), never moved.
                let v = self.list(exprs.iter(), false);
                let places: Vec<Place> = v.places().into_iter().cloned().collect();
                if !places.is_empty() {
                    self.emit(StmtKind::Use { places }, span);
                }
            }
            Err(_) => self.opaque_tokens(m.tokens.clone(), span, false),
        }
        Operand::Other { places: vec![] }
    }

    fn labeled_block(&mut self, b: &syn::Block, label: Option<&syn::Label>, span: Span) -> Operand {
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

    fn loop_body(
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

    fn loop_index(&self, label: Option<&syn::Lifetime>) -> Option<usize> {
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

    fn if_expr(&mut self, i: &syn::ExprIf, span: Span) -> Operand {
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

    fn match_expr(&mut self, m: &syn::ExprMatch, span: Span) -> Operand {
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

pub fn path_last(p: &syn::Path) -> String {
    p.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn is_some_like(p: &syn::Path) -> bool {
    matches!(path_last(p).as_str(), "Some" | "Ok")
}

/// Whether a pattern moves (part of) the value it matches.
fn binds_by_value(p: &Pat) -> bool {
    match p {
        Pat::Ident(i) => i.by_ref.is_none(),
        Pat::Type(t) => binds_by_value(&t.pat),
        Pat::Paren(p) => binds_by_value(&p.pat),
        _ => false,
    }
}

fn const_names(op: &Operand) -> Option<Vec<String>> {
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
