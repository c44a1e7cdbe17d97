//! Lowering of function definitions: signature, statements and the CFG.
//! Expressions and conditions are in `expr.rs`.

use super::field;
use super::normalize::IterSite;
use crate::frontend::Defines;
use crate::ir::*;
use crate::source::Span;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use tree_sitter::Node;

/// Subtrees deeper than this are lowered as one opaque region.
pub const MAX_DEPTH: u32 = 256;

/// Longest `a->b.c` chain kept for a place found in an opaque region; the
/// rest of a longer chain is read past (its prefix is still a use).
pub const MAX_SCANNED_PROJ: usize = 64;

pub struct Ctx<'a> {
    /// The normalised text (same offsets as the original).
    pub text: &'a [u8],
    pub iters: &'a HashMap<usize, IterSite>,
    /// Declaration macros by placeholder offset (see `normalize`).
    pub decls: &'a HashMap<usize, String>,
    pub defines: &'a Defines,
}

impl Ctx<'_> {
    pub fn str(&self, n: Node) -> &str {
        std::str::from_utf8(&self.text[n.byte_range()]).unwrap_or("")
    }
}

pub fn span(n: Node) -> Span {
    Span::new(n.start_byte(), n.end_byte())
}

/// Named children without comments.
pub fn kids(n: Node) -> Vec<Node> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|c| c.kind() != "comment")
        .collect()
}

pub struct Lower<'a> {
    pub cx: &'a Ctx<'a>,
    pub blocks: Vec<Block>,
    pub cur: BlockId,
    ntemp: u32,
    labels: HashMap<String, BlockId>,
    breaks: Vec<BlockId>,
    conts: Vec<BlockId>,
    /// Open switches: case targets and whether a default was seen.
    switches: Vec<(Vec<BlockId>, bool)>,
    pub vars: HashSet<String>,
    pub locals: Vec<Var>,
    pub opaque: u32,
    pub depth: u32,
    /// Open block scopes and the cleanup.h guards taken in each (`guards.rs`).
    pub guard_scopes: Vec<Vec<super::guards::HeldGuard>>,
    /// `guard_scopes.len()` where each `breaks`/`conts` target was pushed.
    brk_depths: Vec<usize>,
    cont_depths: Vec<usize>,
}

impl CfgBuilder for Lower<'_> {
    fn cfg_parts(&mut self) -> (&mut Vec<Block>, &mut BlockId, &mut u32) {
        (&mut self.blocks, &mut self.cur, &mut self.ntemp)
    }
}

impl<'a> Lower<'a> {
    pub fn new(cx: &'a Ctx<'a>) -> Self {
        Lower {
            cx,
            blocks: Vec::new(),
            cur: 0,
            ntemp: 0,
            labels: HashMap::new(),
            breaks: Vec::new(),
            conts: Vec::new(),
            switches: Vec::new(),
            vars: HashSet::new(),
            locals: Vec::new(),
            opaque: 0,
            depth: 0,
            guard_scopes: Vec::new(),
            brk_depths: Vec::new(),
            cont_depths: Vec::new(),
        }
    }

    /// Emit an opaque region for `n` with the places found in its text.
    pub fn opaque(&mut self, n: Node) {
        let places = scan_places(self.cx.text, n.byte_range(), &self.vars);
        let calls = scan_calls(self.cx.text, n.byte_range());
        self.emit(StmtKind::Opaque { places, calls }, span(n));
        self.opaque += 1;
    }

    pub fn label(&mut self, name: &str) -> BlockId {
        if let Some(&b) = self.labels.get(name) {
            return b;
        }
        let b = self.new_block();
        self.labels.insert(name.to_string(), b);
        b
    }

    pub fn stmt(&mut self, n: Node) {
        if self.depth > MAX_DEPTH {
            self.opaque(n);
            return;
        }
        self.depth += 1;
        self.stmt_inner(n);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, n: Node) {
        let leaf = matches!(
            n.kind(),
            "expression_statement"
                | "declaration"
                | "return_statement"
                | "goto_statement"
                | "break_statement"
                | "continue_statement"
        );
        if n.kind() == "ERROR" || n.is_missing() || (leaf && n.has_error()) {
            self.opaque(n);
            return;
        }
        if !leaf {
            // Stray ERROR children of structured statements.
            for c in kids(n) {
                if c.kind() == "ERROR" || c.is_missing() {
                    self.opaque(c);
                }
            }
        }
        match n.kind() {
            "compound_statement" => {
                self.guard_scopes.push(Vec::new());
                for c in kids(n) {
                    self.stmt(c);
                }
                self.pop_guard_scope();
            }
            "seh_try_statement" | "seh_finally_clause" | "attributed_statement" => {
                for c in kids(n) {
                    self.stmt(c);
                }
            }
            "expression_statement" => {
                if let Some(e) = kids(n).first() {
                    if !(e.kind() == "call_expression" && self.guard_stmt(*e)) {
                        self.expr_stmt(*e);
                    }
                }
            }
            "declaration" => self.declaration(n),
            "if_statement" => self.if_stmt(n),
            "while_statement" => match self.cx.iters.get(&n.start_byte()) {
                Some(site) => self.iterator(n, site.clone()),
                None => self.while_stmt(n),
            },
            "do_statement" => self.do_stmt(n),
            "for_statement" => self.for_stmt(n),
            "switch_statement" => self.switch_stmt(n),
            "case_statement" => self.case_stmt(n),
            "break_statement" => match self.breaks.last() {
                Some(&b) => {
                    self.release_guards_above(self.brk_depths.last().copied().unwrap_or(0));
                    self.terminate_dead(Terminator::Goto(b))
                }
                None => self.opaque(n),
            },
            "continue_statement" => match self.conts.last() {
                Some(&b) => {
                    self.release_guards_above(self.cont_depths.last().copied().unwrap_or(0));
                    self.terminate_dead(Terminator::Goto(b))
                }
                None => self.opaque(n),
            },
            "goto_statement" => {
                let name = n
                    .child_by_field_id(field::label().get())
                    .map(|l| self.cx.str(l));
                let b = self.label(name.unwrap_or(""));
                self.terminate_dead(Terminator::Goto(b));
            }
            "labeled_statement" => {
                let name = n
                    .child_by_field_id(field::label().get())
                    .map(|l| self.cx.str(l));
                let b = self.label(name.unwrap_or(""));
                self.goto(b);
                self.cur = b;
                let label = n.child_by_field_id(field::label().get()).map(|l| l.id());
                for c in kids(n).into_iter().filter(|c| Some(c.id()) != label) {
                    self.stmt(c);
                }
            }
            "return_statement" => {
                let mut value = kids(n).first().map(|e| self.expr(*e));
                if self.guards_held() {
                    // Read the value before the guards are released.
                    if let Some(v) = value.take() {
                        let t = self.temp();
                        self.emit(
                            StmtKind::Assign {
                                dst: t.clone(),
                                src: v,
                            },
                            span(n),
                        );
                        value = Some(Operand::Place(t));
                    }
                    self.release_guards_above(0);
                }
                self.terminate_dead(Terminator::Return {
                    value,
                    span: span(n),
                });
            }
            "preproc_if" | "preproc_ifdef" => self.preproc(n),
            "type_definition"
            | "preproc_def"
            | "preproc_function_def"
            | "preproc_call"
            | "preproc_include"
            | "function_definition"
            | "linkage_specification"
            | "comment"
            | "struct_specifier"
            | "union_specifier"
            | "enum_specifier" => {}
            k if k.ends_with("_expression") || k == "identifier" => self.expr_stmt(n),
            _ => self.opaque(n),
        }
    }

    fn if_stmt(&mut self, n: Node) {
        let (Some(c), Some(body)) = (
            n.child_by_field_id(field::condition().get()),
            n.child_by_field_id(field::consequence().get()),
        ) else {
            self.opaque(n);
            return;
        };
        let then_bb = self.new_block();
        let else_bb = self.new_block();
        self.cond(c, then_bb, else_bb, Some(span(n)));
        let join = self.new_block();
        self.cur = then_bb;
        self.stmt(body);
        self.goto(join);
        self.cur = else_bb;
        if let Some(alt) = n.child_by_field_id(field::alternative().get()) {
            for s in kids(alt) {
                self.stmt(s);
            }
        }
        self.goto(join);
        self.cur = join;
    }

    pub(super) fn loop_body(&mut self, body: Option<Node>, brk: BlockId, cont: BlockId) {
        self.breaks.push(brk);
        self.conts.push(cont);
        self.brk_depths.push(self.guard_scopes.len());
        self.cont_depths.push(self.guard_scopes.len());
        if let Some(b) = body {
            self.stmt(b);
        }
        self.breaks.pop();
        self.conts.pop();
        self.brk_depths.pop();
        self.cont_depths.pop();
    }

    fn while_stmt(&mut self, n: Node) {
        let head = self.new_block();
        self.goto(head);
        self.cur = head;
        let body = self.new_block();
        let exit = self.new_block();
        match n.child_by_field_id(field::condition().get()) {
            Some(c) => self.cond(c, body, exit, None),
            None => self.goto(body),
        }
        self.cur = body;
        self.loop_body(n.child_by_field_id(field::body().get()), exit, head);
        self.goto(head);
        self.cur = exit;
    }

    /// An iterator macro (normalised to `while`): `cursor = name(args)` at
    /// the head, then a choice between the body and the exit.
    fn iterator(&mut self, n: Node, site: IterSite) {
        if self.scoped_guard(n, &site) {
            return;
        }
        let head = self.new_block();
        self.goto(head);
        self.cur = head;
        if let Some(c) = n.child_by_field_id(field::condition().get()) {
            self.iter_call(n, c, &site);
        }
        let body = self.new_block();
        let exit = self.new_block();
        if site.spec.once {
            self.goto(body);
            self.cur = body;
            self.loop_body(n.child_by_field_id(field::body().get()), exit, exit);
            self.goto(exit);
        } else {
            self.terminate(Terminator::Multi(vec![body, exit]));
            self.cur = body;
            self.loop_body(n.child_by_field_id(field::body().get()), exit, head);
            self.goto(head);
        }
        self.cur = exit;
    }

    /// `cursor = name(other args)` for an iterator site whose (normalised)
    /// parenthesised arguments are `cond` and whose name starts at `at`.
    fn iter_call(&mut self, at: Node, cond: Node, site: &IterSite) {
        let mut args = Vec::new();
        let mut e = kids(cond).first().copied();
        while let Some(x) = e {
            if x.kind() == "comma_expression" {
                args.extend(x.child_by_field_id(field::left().get()));
                e = x.child_by_field_id(field::right().get());
            } else {
                args.push(x);
                e = None;
            }
        }
        let cursor = site.spec.cursor.and_then(|k| args.get(k).copied());
        let dst = cursor.map(|c| self.lvalue(c));
        let mut ops = Vec::new();
        let mut spans = Vec::new();
        for a in args {
            if Some(a.id()) == cursor.map(|c| c.id()) {
                continue;
            }
            ops.push(self.expr(a));
            spans.push(span(a));
        }
        let name = site.name.clone();
        self.emit(
            StmtKind::Call {
                dst,
                callee: Callee::Direct {
                    path: name.clone(),
                    name,
                },
                args: ops,
                arg_spans: spans,
            },
            Span::new(at.start_byte(), at.start_byte() + site.name.len()),
        );
    }

    fn do_stmt(&mut self, n: Node) {
        let body = self.new_block();
        let test = self.new_block();
        let exit = self.new_block();
        self.goto(body);
        self.cur = body;
        self.loop_body(n.child_by_field_id(field::body().get()), exit, test);
        self.goto(test);
        self.cur = test;
        let mut c = n.walk();
        let kw = n.children(&mut c).find(|c| c.kind() == "while");
        let site = kw.and_then(|w| self.cx.iters.get(&w.start_byte()).cloned());
        match (n.child_by_field_id(field::condition().get()), site) {
            // `do { } for_each_vma_range(...);`
            (Some(c), Some(site)) => {
                self.iter_call(kw.unwrap_or(c), c, &site);
                self.terminate(Terminator::Multi(vec![body, exit]));
            }
            (Some(c), None) => self.cond(c, body, exit, None),
            (None, _) => self.goto(exit),
        }
        self.cur = exit;
    }

    fn for_stmt(&mut self, n: Node) {
        if let Some(init) = n.child_by_field_id(field::initializer().get()) {
            if init.kind() == "declaration" {
                self.declaration(init);
            } else {
                self.expr_stmt(init);
            }
        }
        let head = self.new_block();
        self.goto(head);
        self.cur = head;
        let body = self.new_block();
        let update = self.new_block();
        let exit = self.new_block();
        match n.child_by_field_id(field::condition().get()) {
            Some(c) => self.cond(c, body, exit, None),
            None => self.goto(body),
        }
        self.cur = body;
        self.loop_body(n.child_by_field_id(field::body().get()), exit, update);
        self.goto(update);
        self.cur = update;
        if let Some(u) = n.child_by_field_id(field::update().get()) {
            self.expr_stmt(u);
        }
        self.goto(head);
        self.cur = exit;
    }

    fn switch_stmt(&mut self, n: Node) {
        if let Some(c) = n.child_by_field_id(field::condition().get()) {
            let v = self.expr(c);
            let places: Vec<Place> = v.places().into_iter().cloned().collect();
            if !places.is_empty() {
                self.emit(StmtKind::Use { places }, span(c));
            }
        }
        let dispatch = self.cur;
        let exit = self.new_block();
        self.cur = self.new_block();
        self.switches.push((Vec::new(), false));
        self.breaks.push(exit);
        self.brk_depths.push(self.guard_scopes.len());
        if let Some(b) = n.child_by_field_id(field::body().get()) {
            self.stmt(b);
        }
        self.breaks.pop();
        self.brk_depths.pop();
        self.goto(exit);
        let (mut targets, has_default) = self.switches.pop().unwrap_or_default();
        if !has_default {
            targets.push(exit);
        }
        self.blocks[dispatch].term = Terminator::Multi(targets);
        self.cur = exit;
    }

    fn case_stmt(&mut self, n: Node) {
        let bb = self.new_block();
        self.goto(bb);
        self.cur = bb;
        let value = n.child_by_field_id(field::value().get());
        if let Some(sw) = self.switches.last_mut() {
            sw.0.push(bb);
            if value.is_none() {
                sw.1 = true;
            }
        }
        for c in kids(n) {
            if Some(c.id()) != value.map(|v| v.id()) {
                self.stmt(c);
            }
        }
    }

    /// An unknown preprocessor conditional: a choice between its branches.
    fn preproc(&mut self, n: Node) {
        let dispatch = self.cur;
        let join = self.new_block();
        let mut alts = Vec::new();
        let mut node = Some(n);
        let mut has_else = false;
        while let Some(g) = node.take() {
            let bb = self.new_block();
            alts.push(bb);
            self.cur = bb;
            let skip: Vec<usize> = ["condition", "name", "alternative"]
                .iter()
                .filter_map(|f| g.child_by_field_name(f).map(|c| c.id()))
                .collect();
            for c in kids(g) {
                if !skip.contains(&c.id()) {
                    self.stmt(c);
                }
            }
            self.goto(join);
            match g.child_by_field_id(field::alternative().get()) {
                Some(a) if a.kind() == "preproc_else" => {
                    has_else = true;
                    node = Some(a);
                }
                Some(a) => node = Some(a),
                None => {}
            }
            if g.kind() == "preproc_else" {
                node = None;
            }
        }
        if !has_else {
            alts.push(join);
        }
        self.blocks[dispatch].term = Terminator::Multi(alts);
        self.cur = join;
    }

    fn declaration(&mut self, n: Node) {
        let base = n
            .child_by_field_id(field::ty().get())
            .map(|t| type_base(self.cx, t))
            .unwrap_or_default();
        let mut c = n.walk();
        let decls: Vec<Node> = n
            .children_by_field_id(field::declarator(), &mut c)
            .collect();
        for d in decls {
            let info = declarator(self.cx, d);
            let Some((name, name_node)) = info.name else {
                continue;
            };
            if info.is_function {
                continue;
            }
            self.vars.insert(name.to_string());
            self.locals.push(Var {
                name: name.to_string(),
                ty: TypeRef {
                    base: base.clone(),
                    ptr: info.ptr,
                },
                span: span(name_node),
            });
            if let Some(v) = info.init {
                let dst = Place::var(name);
                self.expr_into(v, dst, span(d));
            }
        }
    }
}

/// What a declarator declares.
pub struct DeclInfo<'t> {
    pub name: Option<(&'t str, Node<'t>)>,
    pub ptr: u8,
    pub init: Option<Node<'t>>,
    /// A function (prototype), not a variable or function pointer.
    pub is_function: bool,
    pub params: Option<Node<'t>>,
}

pub fn declarator<'t>(cx: &'t Ctx, mut d: Node<'t>) -> DeclInfo<'t> {
    let mut info = DeclInfo {
        name: None,
        ptr: 0,
        init: None,
        is_function: false,
        params: None,
    };
    for _ in 0..MAX_DEPTH {
        match d.kind() {
            "identifier" | "field_identifier" | "type_identifier" => {
                info.name = Some((cx.str(d), d));
                return info;
            }
            "init_declarator" => {
                info.init = d.child_by_field_id(field::value().get());
            }
            "pointer_declarator" | "abstract_pointer_declarator" => {
                info.ptr = info.ptr.saturating_add(1);
                // A pointer inside a function declarator: a function pointer.
                info.is_function = false;
            }
            "function_declarator" => {
                info.params = d.child_by_field_id(field::parameters().get());
                info.is_function = true;
            }
            "parenthesized_declarator" | "attributed_declarator" => {
                match kids(d)
                    .into_iter()
                    .find(|c| !c.kind().starts_with("attribute"))
                {
                    Some(c) => {
                        d = c;
                        continue;
                    }
                    None => return info,
                }
            }
            _ => {}
        }
        match d.child_by_field_id(field::declarator().get()) {
            Some(c) => d = c,
            None => return info,
        }
    }
    info
}

/// The base name of a type specifier: struct tag, typedef or scalar name.
pub fn type_base(cx: &Ctx, t: Node) -> String {
    if let Some(m) = cx.decls.get(&t.start_byte()) {
        return m.clone();
    }
    match t.kind() {
        "struct_specifier" | "union_specifier" | "enum_specifier" => t
            .child_by_field_id(field::name().get())
            .map(|n| cx.str(n).to_string())
            .unwrap_or_default(),
        _ => cx.str(t).split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

const KEYWORDS: &[&str] = &[
    "if",
    "else",
    "while",
    "for",
    "do",
    "switch",
    "case",
    "default",
    "return",
    "goto",
    "break",
    "continue",
    "sizeof",
    "struct",
    "union",
    "enum",
    "typedef",
    "static",
    "const",
    "volatile",
    "extern",
    "inline",
    "unsigned",
    "signed",
    "int",
    "long",
    "short",
    "char",
    "void",
    "bool",
    "float",
    "double",
    "register",
    "auto",
    "restrict",
    "typeof",
    "__typeof__",
    "asm",
    "__asm__",
    "true",
    "false",
    "NULL",
];

/// Is `s` an ALL_CAPS name (a constant when not a variable)?
pub fn is_caps(s: &str) -> bool {
    s.bytes().any(|c| c.is_ascii_uppercase())
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Identifiers and `a->b.c` chains in a text region (for opaque regions).
/// Names called in a region (`name(`, not keywords), in order, without
/// repeats.
pub fn scan_calls(b: &[u8], r: std::ops::Range<usize>) -> Vec<String> {
    let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let end = r.end.min(b.len());
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut i = r.start;
    while i < end {
        if !id(b[i]) || (i > r.start && id(b[i - 1])) {
            i += 1;
            continue;
        }
        let s = i;
        while i < end && id(b[i]) {
            i += 1;
        }
        let mut j = i;
        while j < end && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        let word = std::str::from_utf8(&b[s..i]).unwrap_or("");
        if j < end
            && b[j] == b'('
            && !b[s].is_ascii_digit()
            && !KEYWORDS.contains(&word)
            && seen.insert(word)
        {
            out.push(word.to_string());
        }
    }
    out
}

pub fn scan_places(b: &[u8], r: std::ops::Range<usize>, vars: &HashSet<String>) -> Vec<Place> {
    let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out: Vec<Place> = Vec::new();
    let mut seen: HashSet<Place> = HashSet::new();
    let end = r.end.min(b.len());
    let mut i = r.start;
    let mut prev_kw_type = false;
    while i < end {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < end && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < end && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < end && b[i] != c && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            while i < end && id(b[i]) {
                i += 1;
            }
            continue;
        }
        if !id(c) {
            i += 1;
            continue;
        }
        let s = i;
        while i < end && id(b[i]) {
            i += 1;
        }
        let word = std::str::from_utf8(&b[s..i]).unwrap_or("");
        let after_type_kw = prev_kw_type;
        prev_kw_type = matches!(word, "struct" | "union" | "enum");
        if KEYWORDS.contains(&word) || after_type_kw || (is_caps(word) && !vars.contains(word)) {
            continue;
        }
        let mut p = Place::var(word);
        // Follow `->f` / `.f` projections.
        loop {
            let mut j = i;
            while j < end && matches!(b[j], b' ' | b'\t' | b'\n') {
                j += 1;
            }
            let arrow = b[j..end].starts_with(b"->");
            let dot = !arrow && j < end && b[j] == b'.';
            if !arrow && !dot {
                break;
            }
            let mut k = j + if arrow { 2 } else { 1 };
            while k < end && matches!(b[k], b' ' | b'\t' | b'\n') {
                k += 1;
            }
            let fs = k;
            while k < end && id(b[k]) {
                k += 1;
            }
            if fs == k || b[fs].is_ascii_digit() {
                break;
            }
            let f = std::str::from_utf8(&b[fs..k]).unwrap_or("");
            if p.proj.len() < MAX_SCANNED_PROJ {
                if arrow {
                    p.proj.push(Proj::Deref);
                }
                p.proj.push(Proj::Field(f.to_string()));
            }
            i = k;
        }
        // A callee name is not a place (unless it is a function pointer variable).
        let mut j = i;
        while j < end && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if p.proj.is_empty() && j < end && b[j] == b'(' && !vars.contains(word) {
            continue;
        }
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    out
}
