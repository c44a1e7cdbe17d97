//! Expressions (three-address, temporaries in evaluation order) and
//! conditions (atomic [`Cond`]s, negation by swapping successors).

use super::field;
use super::lower::{is_caps, kids, span, Lower, MAX_DEPTH};
use super::preproc::{eval_is_enabled, parse_int};
use super::table::table;
use crate::ir::*;
use crate::source::Span;
use tree_sitter::Node;

/// Strip parentheses (not statement expressions) and casts.
fn strip(mut n: Node) -> Node {
    for _ in 0..MAX_DEPTH {
        match n.kind() {
            "parenthesized_expression" => match kids(n).as_slice() {
                [c] if c.kind() != "compound_statement" => n = *c,
                _ => return n,
            },
            "cast_expression" => match n.child_by_field_id(field::value().get()) {
                Some(v) => n = v,
                None => return n,
            },
            _ => return n,
        }
    }
    n
}

fn op_of<'t>(n: Node<'t>, src: &'t [u8]) -> &'t str {
    n.child_by_field_id(field::operator().get())
        .and_then(|o| std::str::from_utf8(&src[o.byte_range()]).ok())
        .unwrap_or("")
}

fn places_of(op: &Operand) -> Vec<Place> {
    op.places().into_iter().cloned().collect()
}

impl Lower<'_> {
    fn is_zero(&self, n: Node) -> bool {
        let n = strip(n);
        match n.kind() {
            "null" | "false" => true,
            "number_literal" => parse_int(self.cx.str(n)) == Some(0),
            "identifier" => self.cx.str(n) == "NULL",
            _ => false,
        }
    }

    fn branch(&mut self, kind: CondKind, n: Node, t: BlockId, f: BlockId, stmt: Option<Span>) {
        let term = match &kind {
            CondKind::Truthy(Operand::Int(v)) => Terminator::Goto(if *v != 0 { t } else { f }),
            CondKind::Truthy(Operand::Null) => Terminator::Goto(f),
            _ => Terminator::Branch {
                cond: Cond {
                    kind,
                    span: span(n),
                },
                then_bb: t,
                else_bb: f,
                stmt_span: stmt,
            },
        };
        self.terminate(term);
    }

    /// Lower condition `n`, ending the current block with a branch to `t`
    /// when it holds and to `f` otherwise.
    pub fn cond(&mut self, n: Node, t: BlockId, f: BlockId, stmt: Option<Span>) {
        if n.has_error() {
            self.opaque(n);
            self.terminate(Terminator::Multi(vec![t, f]));
            return;
        }
        if self.depth > MAX_DEPTH {
            self.opaque(n);
            self.terminate(Terminator::Multi(vec![t, f]));
            return;
        }
        self.depth += 1;
        self.cond_inner(n, t, f, stmt);
        self.depth -= 1;
    }

    fn cond_inner(&mut self, n: Node, t: BlockId, f: BlockId, stmt: Option<Span>) {
        let n = strip(n);
        let src = self.cx.text;
        match n.kind() {
            "unary_expression" if op_of(n, src) == "!" => {
                if let Some(a) = n.child_by_field_id(field::argument().get()) {
                    return self.cond(a, f, t, stmt);
                }
            }
            "binary_expression" => {
                let (Some(l), Some(r)) = (
                    n.child_by_field_id(field::left().get()),
                    n.child_by_field_id(field::right().get()),
                ) else {
                    return self.cond_value(n, t, f, stmt);
                };
                match op_of(n, src) {
                    "&&" => {
                        let mid = self.new_block();
                        self.cond(l, mid, f, None);
                        self.cur = mid;
                        return self.cond(r, t, f, None);
                    }
                    "||" => {
                        let mid = self.new_block();
                        self.cond(l, t, mid, None);
                        self.cur = mid;
                        return self.cond(r, t, f, None);
                    }
                    op @ ("==" | "!=") => {
                        let (t2, f2) = if op == "==" { (t, f) } else { (f, t) };
                        if self.is_zero(r) {
                            return self.cond(l, f2, t2, stmt);
                        }
                        if self.is_zero(l) {
                            return self.cond(r, f2, t2, stmt);
                        }
                        let lhs = self.expr(l);
                        let rhs = self.expr(r);
                        return self.branch(CondKind::Eq { lhs, rhs }, n, t2, f2, stmt);
                    }
                    "&" => {
                        let kind = self.bit_test(l, r);
                        return self.branch(kind, n, t, f, stmt);
                    }
                    _ => {}
                }
            }
            "call_expression" => {
                if let Some(a) = self.transparent_arg(n) {
                    return self.cond(a, t, f, stmt);
                }
            }
            "comma_expression" => {
                if let (Some(l), Some(r)) = (
                    n.child_by_field_id(field::left().get()),
                    n.child_by_field_id(field::right().get()),
                ) {
                    self.expr_stmt(l);
                    return self.cond(r, t, f, stmt);
                }
            }
            "conditional_expression" => {
                if let (Some(c), Some(a), Some(b)) = (
                    n.child_by_field_id(field::condition().get()),
                    n.child_by_field_id(field::consequence().get()),
                    n.child_by_field_id(field::alternative().get()),
                ) {
                    let (x, y) = (self.new_block(), self.new_block());
                    self.cond(c, x, y, None);
                    self.cur = x;
                    self.cond(a, t, f, None);
                    self.cur = y;
                    return self.cond(b, t, f, None);
                }
            }
            _ => {}
        }
        self.cond_value(n, t, f, stmt)
    }

    fn cond_value(&mut self, n: Node, t: BlockId, f: BlockId, stmt: Option<Span>) {
        let v = self.expr(n);
        let kind = match v {
            Operand::Other { places } => CondKind::Unknown { places },
            v => CondKind::Truthy(v),
        };
        self.branch(kind, n, t, f, stmt);
    }

    /// Constant names of a mask `A` or `A | B | ...` (left to right; an
    /// explicit stack, since `|` chains can be arbitrarily deep).
    fn mask(&self, n: Node) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            let n = strip(n);
            match n.kind() {
                "identifier" => {
                    let s = self.cx.str(n);
                    if !is_caps(s) || self.vars.contains(s) {
                        return None;
                    }
                    out.push(s.to_string());
                }
                "binary_expression" if op_of(n, self.cx.text) == "|" => {
                    stack.push(n.child_by_field_id(field::right().get())?);
                    stack.push(n.child_by_field_id(field::left().get())?);
                }
                _ => return None,
            }
        }
        Some(out)
    }

    fn bit_test(&mut self, l: Node, r: Node) -> CondKind {
        if let Some(mask) = self.mask(r) {
            let value = self.expr(l);
            return CondKind::BitTest { value, mask };
        }
        if let Some(mask) = self.mask(l) {
            let value = self.expr(r);
            return CondKind::BitTest { value, mask };
        }
        let mut places = places_of(&self.expr(l));
        for p in places_of(&self.expr(r)) {
            if !places.contains(&p) {
                places.push(p);
            }
        }
        CondKind::Unknown { places }
    }

    /// The argument of `likely(x)`-like calls.
    fn transparent_arg<'t>(&self, call: Node<'t>) -> Option<Node<'t>> {
        let f = call.child_by_field_id(field::function().get())?;
        if f.kind() != "identifier" || !table().is_transparent(self.cx.str(f)) {
            return None;
        }
        kids(call.child_by_field_id(field::arguments().get())?)
            .first()
            .copied()
    }

    /// Lower an expression statement (value unused).
    pub fn expr_stmt(&mut self, n: Node) {
        let s = strip(n);
        match s.kind() {
            "call_expression" => {
                self.call(s, None, false);
            }
            "assignment_expression"
            | "update_expression"
            | "comma_expression"
            | "conditional_expression"
            | "parenthesized_expression" => {
                self.expr(s);
            }
            _ => {
                let v = self.expr(s);
                let places = places_of(&v);
                if !places.is_empty() {
                    self.emit(StmtKind::Use { places }, span(n));
                }
            }
        }
    }

    /// `dst = n` (declaration initialisers, plain assignments).
    pub fn expr_into(&mut self, n: Node, dst: Place, sp: Span) {
        let s = strip(n);
        if s.kind() == "call_expression" && self.transparent_arg(s).is_none() {
            self.call(s, Some(dst), true);
            return;
        }
        if s.kind() == "initializer_list" {
            self.init_fields(s, &dst);
            return;
        }
        let src = self.expr(n);
        self.emit(StmtKind::Assign { dst, src }, sp);
    }

    /// `x = { .a = v, .b.c = w, u }`: one assignment per designated field
    /// (`x.a = v`, `x.b.c = w`), so that the fields of an on-stack struct
    /// alias what they were given; other items are only read.
    fn init_fields(&mut self, list: Node, dst: &Place) {
        if self.depth > MAX_DEPTH {
            let v = self.other(&kids(list));
            self.use_places(&v, span(list));
            return;
        }
        self.depth += 1;
        for item in kids(list) {
            let value = match item.kind() {
                "initializer_pair" => item.child_by_field_id(field::value().get()),
                _ => None,
            };
            let mut c = item.walk();
            let fields: Option<Vec<String>> = item
                .children_by_field_id(field::designator(), &mut c)
                .map(|d| match d.kind() {
                    "field_designator" => d.named_child(0).map(|f| self.cx.str(f).to_string()),
                    "field_identifier" => Some(self.cx.str(d).to_string()),
                    _ => None,
                })
                .collect();
            match (value, fields) {
                (Some(v), Some(fields)) if !fields.is_empty() => {
                    let mut p = dst.clone();
                    p.proj.extend(fields.into_iter().map(Proj::Field));
                    self.expr_into(v, p, span(item));
                }
                (Some(v), _) => {
                    let v = self.expr(v);
                    self.use_places(&v, span(item));
                }
                (None, _) => {
                    let v = self.other(&[item]);
                    self.use_places(&v, span(item));
                }
            }
        }
        self.depth -= 1;
    }

    fn use_places(&mut self, v: &Operand, sp: Span) {
        let places = places_of(v);
        if !places.is_empty() {
            self.emit(StmtKind::Use { places }, sp);
        }
    }

    /// A place for an lvalue (a temporary holds non-place values).
    pub fn lvalue(&mut self, n: Node) -> Place {
        match self.expr(n) {
            Operand::Place(p) => p,
            v => self.materialize(v, span(n)),
        }
    }

    fn materialize(&mut self, v: Operand, sp: Span) -> Place {
        let t = self.temp();
        self.emit(
            StmtKind::Assign {
                dst: t.clone(),
                src: v,
            },
            sp,
        );
        t
    }

    pub fn expr(&mut self, n: Node) -> Operand {
        if n.kind() == "ERROR" || n.is_missing() || self.depth > MAX_DEPTH {
            let places = super::lower::scan_places(self.cx.text, n.byte_range(), &self.vars);
            self.opaque(n);
            return Operand::Other { places };
        }
        self.depth += 1;
        let v = self.expr_inner(n);
        self.depth -= 1;
        v
    }

    fn ident(&self, s: &str) -> Operand {
        if self.vars.contains(s) {
            return Operand::Place(Place::var(s));
        }
        match s {
            "NULL" => Operand::Null,
            "true" | "TRUE" => Operand::Int(1),
            "false" | "FALSE" => Operand::Int(0),
            _ if is_caps(s) => Operand::Const(s.to_string()),
            _ => Operand::Place(Place::var(s)),
        }
    }

    fn expr_inner(&mut self, n: Node) -> Operand {
        let src = self.cx.text;
        let field = |f: &str| n.child_by_field_name(f);
        match n.kind() {
            "identifier" => self.ident(self.cx.str(n)),
            "null" => Operand::Null,
            "true" => Operand::Int(1),
            "false" => Operand::Int(0),
            "number_literal" => parse_int(self.cx.str(n))
                .map(Operand::Int)
                .unwrap_or(Operand::Other { places: vec![] }),
            "string_literal"
            | "concatenated_string"
            | "char_literal"
            | "sizeof_expression"
            | "alignof_expression"
            | "offsetof_expression" => Operand::Other { places: vec![] },
            "parenthesized_expression" => {
                let ks = kids(n);
                match ks.as_slice() {
                    [c] if c.kind() == "compound_statement" => self.stmt_expr(*c),
                    [c] => self.expr(*c),
                    _ => self.other(&ks),
                }
            }
            "cast_expression" | "extension_expression" => {
                match field("value").or_else(|| kids(n).last().copied()) {
                    Some(v) => self.expr(v),
                    None => Operand::Other { places: vec![] },
                }
            }
            "field_expression" => {
                let (Some(a), Some(fl)) = (field("argument"), field("field")) else {
                    return self.other(&kids(n));
                };
                let name = self.cx.str(fl).to_string();
                let arrow = n
                    .child_by_field_id(field::operator().get())
                    .is_some_and(|o| &src[o.byte_range()] == b"->");
                let base = self.expr(a);
                let mut p = match (base, arrow) {
                    (Operand::Place(p), _) => p,
                    (Operand::AddrOf(p), true) => {
                        let mut p = p;
                        p.proj.push(Proj::Field(name));
                        return Operand::Place(p);
                    }
                    (v, _) => self.materialize(v, span(a)),
                };
                if arrow {
                    p.proj.push(Proj::Deref);
                }
                p.proj.push(Proj::Field(name));
                Operand::Place(p)
            }
            "pointer_expression" => {
                let Some(a) = field("argument") else {
                    return Operand::Other { places: vec![] };
                };
                let v = self.expr(a);
                if op_of(n, src) == "&" {
                    match v {
                        Operand::Place(p) => Operand::AddrOf(p),
                        v => Operand::Other {
                            places: places_of(&v),
                        },
                    }
                } else {
                    let mut p = match v {
                        Operand::Place(p) => p,
                        Operand::AddrOf(p) => return Operand::Place(p),
                        v => self.materialize(v, span(a)),
                    };
                    p.proj.push(Proj::Deref);
                    Operand::Place(p)
                }
            }
            "subscript_expression" => {
                let (Some(a), Some(i)) = (field("argument"), field("index")) else {
                    return self.other(&kids(n));
                };
                let mut p = self.lvalue(a);
                let iv = self.expr(i);
                let ip = places_of(&iv);
                if !ip.is_empty() {
                    self.emit(StmtKind::Use { places: ip }, span(i));
                }
                p.proj.push(Proj::Index);
                Operand::Place(p)
            }
            "call_expression" => self.call(n, None, true),
            "assignment_expression" => self.assign(n),
            "update_expression" => match field("argument") {
                Some(a) => {
                    let p = self.lvalue(a);
                    let src = Operand::Other {
                        places: vec![p.clone()],
                    };
                    self.emit(
                        StmtKind::Assign {
                            dst: p.clone(),
                            src,
                        },
                        span(n),
                    );
                    Operand::Place(p)
                }
                None => Operand::Other { places: vec![] },
            },
            "binary_expression" => {
                let (Some(l), Some(r)) = (field("left"), field("right")) else {
                    return self.other(&kids(n));
                };
                match op_of(n, src) {
                    "&&" | "||" => self.bool_value(n),
                    "|" => {
                        let mut ops = Vec::new();
                        for v in [self.expr(l), self.expr(r)] {
                            match v {
                                Operand::Or(xs) => ops.extend(xs),
                                v => ops.push(v),
                            }
                        }
                        Operand::Or(ops)
                    }
                    "&" => {
                        let a = self.expr(l);
                        let b = self.expr(r);
                        Operand::And(Box::new(a), Box::new(b))
                    }
                    _ => self.other(&[l, r]),
                }
            }
            "unary_expression" => {
                let Some(a) = field("argument") else {
                    return Operand::Other { places: vec![] };
                };
                if op_of(n, src) == "-" && a.kind() == "number_literal" {
                    if let Some(v) = parse_int(self.cx.str(a)) {
                        return Operand::Int(v.wrapping_neg());
                    }
                }
                self.other(&[a])
            }
            "conditional_expression" => self.cond_value_expr(n),
            "comma_expression" => {
                if let Some(l) = field("left") {
                    self.expr_stmt(l);
                }
                match field("right") {
                    Some(r) => self.expr(r),
                    None => Operand::Other { places: vec![] },
                }
            }
            "compound_statement" => self.stmt_expr(n),
            // `(struct vm_fault){ .vma = vma }`: a temporary with those fields.
            "compound_literal_expression" => match field("value") {
                Some(v) if v.kind() == "initializer_list" => {
                    let t = self.temp();
                    // Typed like a declared local, so the struct is known.
                    if let Some(ty) =
                        field("type").and_then(|d| d.child_by_field_id(field::ty().get()))
                    {
                        self.locals.push(Var {
                            name: t.base.clone(),
                            ty: TypeRef {
                                base: super::lower::type_base(self.cx, ty),
                                ptr: 0,
                            },
                            span: span(n),
                        });
                    }
                    self.init_fields(v, &t);
                    Operand::Place(t)
                }
                _ => self.other(&kids(n)),
            },
            _ => self.other(&kids(n)),
        }
    }

    /// `Other` reading the places of every sub-expression.
    fn other(&mut self, parts: &[Node]) -> Operand {
        let mut places = Vec::new();
        for &p in parts {
            if matches!(
                p.kind(),
                "type_descriptor" | "string_literal" | "field_identifier" | "comment"
            ) {
                continue;
            }
            let v = if p.kind() == "initializer_pair" {
                match p.child_by_field_id(field::value().get()) {
                    Some(v) => self.expr(v),
                    None => continue,
                }
            } else {
                self.expr(p)
            };
            for x in places_of(&v) {
                if !places.contains(&x) {
                    places.push(x);
                }
            }
        }
        Operand::Other { places }
    }

    /// `({ ...; value; })`: statements inline, value of the last one.
    fn stmt_expr(&mut self, c: Node) -> Operand {
        let ks = kids(c);
        let Some((last, init)) = ks.split_last() else {
            return Operand::Other { places: vec![] };
        };
        for s in init {
            self.stmt(*s);
        }
        if last.kind() == "expression_statement" && !last.has_error() {
            if let Some(e) = kids(*last).first() {
                return self.expr(*e);
            }
        }
        self.stmt(*last);
        Operand::Other { places: vec![] }
    }

    /// `&&`/`||` used as a value: branches joining into a temporary.
    fn bool_value(&mut self, n: Node) -> Operand {
        let t = self.temp();
        let (a, b, join) = (self.new_block(), self.new_block(), self.new_block());
        self.cond(n, a, b, None);
        for (bb, v) in [(a, 1), (b, 0)] {
            self.cur = bb;
            self.emit(
                StmtKind::Assign {
                    dst: t.clone(),
                    src: Operand::Int(v),
                },
                span(n),
            );
            self.goto(join);
        }
        self.cur = join;
        Operand::Place(t)
    }

    /// `c ? a : b` (and GNU `c ?: b`) as a value.
    fn cond_value_expr(&mut self, n: Node) -> Operand {
        let (Some(c), Some(alt)) = (
            n.child_by_field_id(field::condition().get()),
            n.child_by_field_id(field::alternative().get()),
        ) else {
            return self.other(&kids(n));
        };
        let t = self.temp();
        let (a, b, join) = (self.new_block(), self.new_block(), self.new_block());
        match n.child_by_field_id(field::consequence().get()) {
            Some(cons) => {
                self.cond(c, a, b, None);
                self.cur = a;
                self.expr_into(cons, t.clone(), span(cons));
                self.goto(join);
            }
            None => {
                self.expr_into(c, t.clone(), span(c));
                self.branch(
                    CondKind::Truthy(Operand::Place(t.clone())),
                    c,
                    join,
                    b,
                    None,
                );
            }
        }
        self.cur = b;
        self.expr_into(alt, t.clone(), span(alt));
        self.goto(join);
        self.cur = join;
        Operand::Place(t)
    }

    fn assign(&mut self, n: Node) -> Operand {
        let (Some(l), Some(r)) = (
            n.child_by_field_id(field::left().get()),
            n.child_by_field_id(field::right().get()),
        ) else {
            return self.other(&kids(n));
        };
        let op = op_of(n, self.cx.text).to_string();
        let dst = self.lvalue(l);
        match op.as_str() {
            "=" => self.expr_into(r, dst.clone(), span(n)),
            "|=" => {
                let mut ops = vec![Operand::Place(dst.clone())];
                match self.expr(r) {
                    Operand::Or(xs) => ops.extend(xs),
                    v => ops.push(v),
                }
                self.emit(
                    StmtKind::Assign {
                        dst: dst.clone(),
                        src: Operand::Or(ops),
                    },
                    span(n),
                );
            }
            _ => {
                let v = self.expr(r);
                let mut places = vec![dst.clone()];
                places.extend(places_of(&v).into_iter().filter(|p| *p != dst));
                self.emit(
                    StmtKind::Assign {
                        dst: dst.clone(),
                        src: Operand::Other { places },
                    },
                    span(n),
                );
            }
        }
        Operand::Place(dst)
    }

    /// A call; `dst` receives the result, or a temporary when `want`.
    pub fn call(&mut self, n: Node, dst: Option<Place>, want: bool) -> Operand {
        let (Some(func), Some(arglist)) = (
            n.child_by_field_id(field::function().get()),
            n.child_by_field_id(field::arguments().get()),
        ) else {
            return self.other(&kids(n));
        };
        let func = strip(func);
        let mut args: Vec<Node> = kids(arglist);
        let mut pre_args: Vec<Operand> = Vec::new();
        let mut pre_spans: Vec<Span> = Vec::new();
        let mut name: Option<String> = None;
        let t = table();
        if func.kind() == "identifier" {
            let s = self.cx.str(func).to_string();
            if t.is_transparent(&s) && !args.is_empty() {
                for extra in &args[1..] {
                    self.expr_stmt(*extra);
                }
                return match dst {
                    Some(d) => {
                        self.expr_into(args[0], d.clone(), span(n));
                        Operand::Place(d)
                    }
                    None => self.expr(args[0]),
                };
            }
            if t.is_assign(&s) && args.len() == 2 {
                let p = self.lvalue(args[0]);
                self.expr_into(args[1], p.clone(), span(n));
                return Operand::Place(p);
            }
            if matches!(
                s.as_str(),
                "IS_ENABLED" | "IS_BUILTIN" | "IS_REACHABLE" | "IS_MODULE"
            ) && args.len() == 1
                && args[0].kind() == "identifier"
            {
                if let Some(v) = eval_is_enabled(&s, self.cx.str(args[0]), self.cx.defines) {
                    let v = Operand::Int(v as i64);
                    if let Some(d) = dst {
                        self.emit(
                            StmtKind::Assign {
                                dst: d,
                                src: v.clone(),
                            },
                            span(n),
                        );
                    }
                    return v;
                }
            }
            if !self.vars.contains(&s) {
                name = Some(s);
            }
        } else if func.kind() == "call_expression" {
            // `guard(type)(args)`: one call with the inner arguments first.
            let inner = func.child_by_field_id(field::function().get());
            if let (Some(g), Some(ia)) = (inner, func.child_by_field_id(field::arguments().get())) {
                if g.kind() == "identifier" {
                    name = Some(self.cx.str(g).to_string());
                    for a in kids(ia) {
                        let v = match a.kind() {
                            "identifier" => Operand::Const(self.cx.str(a).to_string()),
                            _ => self.expr(a),
                        };
                        pre_args.push(v);
                        pre_spans.push(span(a));
                    }
                }
            }
        }
        let callee = match name {
            Some(name) => Callee::Direct {
                path: name.clone(),
                name,
            },
            None => Callee::Indirect(self.lvalue(func)),
        };
        let mut ops = pre_args;
        let mut spans = pre_spans;
        for a in args.drain(..) {
            ops.push(self.expr(a));
            spans.push(span(a));
        }
        let dst = match dst {
            Some(d) => Some(d),
            None if want => Some(self.temp()),
            None => None,
        };
        let noreturn = callee.name().is_some_and(|c| t.is_noreturn(c));
        self.emit(
            StmtKind::Call {
                dst: dst.clone(),
                callee,
                args: ops,
                arg_spans: spans,
            },
            span(n),
        );
        if noreturn {
            self.terminate_dead(Terminator::Unreachable);
        }
        match dst {
            Some(d) => Operand::Place(d),
            None => Operand::Other { places: vec![] },
        }
    }
}
