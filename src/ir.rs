//! The language-neutral intermediate representation.
//!
//! Every front end lowers each function body into a [`Function`]: a control
//! flow graph of basic blocks holding [`Stmt`]s and ending in a
//! [`Terminator`]. Expressions are flattened three-address style: nested calls
//! are hoisted into temporaries (`$t0`, `$t1`, ...) in evaluation order, so
//! a call never appears inside an operand. Short-circuit `&&`/`||`, `?:`,
//! `!`, `likely()`/`unlikely()`, casts and parentheses are resolved by the
//! front end into branches, so a [`Cond`] is always atomic.
//!
//! Nothing past this module knows which language a function came from.

use crate::source::Span;

/// Index of a basic block inside [`Function::blocks`].
pub type BlockId = usize;

/// What a front end produced for one source file.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    pub functions: Vec<Function>,
    /// Struct initializers that register functions as callbacks, e.g.
    /// `static const struct vm_operations_struct x = { .fault = f, ... }`.
    pub registrations: Vec<Registration>,
    /// Functions declared without a body that carry lock annotations (C
    /// prototypes, Rust functions in `extern` blocks). They are applied at
    /// call sites like lock-model entries.
    pub declarations: Vec<Declaration>,
    /// Number of functions whose body contained at least one opaque region.
    /// Kept on the unit too so that parse health can be reported per file.
    pub opaque_functions: usize,
}

impl Unit {
    /// Recount [`Unit::opaque_functions`] from the functions.
    pub fn count_opaque(&mut self) {
        self.opaque_functions = self
            .functions
            .iter()
            .filter(|f| f.opaque_regions > 0)
            .count();
    }
}

/// A designated initializer of a struct that names functions.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Struct tag without `struct`, e.g. `vm_operations_struct`.
    pub struct_type: String,
    /// `(field, function name)` for every field initialised with a plain
    /// identifier, e.g. `("fault", "filemap_fault")`.
    pub fields: Vec<(String, String)>,
    pub span: Span,
}

/// A type as far as the analysis cares: the base name (struct tag or
/// scalar type name, qualifiers and `struct` removed) and pointer depth.
/// C `struct vm_fault *` and Rust `*mut bindings::vm_fault` both become
/// `{ base: "vm_fault", ptr: 1 }`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeRef {
    pub base: String,
    pub ptr: u8,
}

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub ty: TypeRef,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// The whole definition.
    pub span: Span,
    /// The function's name in its declarator.
    pub name_span: Span,
    pub params: Vec<Var>,
    /// Locals declared anywhere in the body (flat; shadowing is ignored).
    pub locals: Vec<Var>,
    pub ret: TypeRef,
    /// Lock annotations attached to the definition, as written in the
    /// annotation vocabulary (`releases(fault_lock(vmf))`, ...).
    pub annotations: Vec<Annotation>,
    pub blocks: Vec<Block>,
    /// Number of regions the front end could not parse and lowered as
    /// [`StmtKind::Opaque`]. Zero means the function was lowered cleanly.
    pub opaque_regions: u32,
    /// Which parse of its file this IR came from (C only).
    pub parse: Parse,
}

/// Which of the C front end's parses of a file a function came from (see
/// `frontend::c::lower_file`): the language server re-lowers an edited
/// function through the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parse {
    /// The text with unknown conditionals kept.
    #[default]
    Primary,
    /// Every unknown conditional taking its first branch.
    FirstBranch,
    /// The first-branch text parsed in top-level pieces.
    Pieces,
}

impl Function {
    pub const ENTRY: BlockId = 0;

    /// Declared type of a parameter or local, if any.
    pub fn var_type(&self, name: &str) -> Option<&TypeRef> {
        self.params
            .iter()
            .chain(self.locals.iter())
            .find(|v| v.name == name)
            .map(|v| &v.ty)
    }
}

/// A function declared without a body, with its lock annotations.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub name: String,
    pub span: Span,
    pub name_span: Span,
    pub params: Vec<Var>,
    pub ret: TypeRef,
    pub annotations: Vec<Annotation>,
}

/// A lock annotation on a function or declaration, in the one vocabulary
/// both languages share: `KIND(ARGS)`, e.g. `requires(mmap_read(mm))` or
/// `releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")`. Front ends
/// strip the comment or attribute syntax (`/* faultlock: ... */`,
/// `#[faultlock::...]`, `#[cfg_attr(faultlock, faultlock::...)]`) and
/// translate the kernel's own `__must_hold(...)`-style macros into it; they
/// do not validate it (the model layer does, and reports malformed text).
#[derive(Debug, Clone)]
pub struct Annotation {
    /// The annotation text, without comment or attribute syntax.
    pub text: String,
    /// Where it is written (the whole comment or attribute).
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub term: Terminator,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// `dst = src`. Compound assignment `x |= y` is lowered as
    /// `x = Or[x, y]`; other compound operators as `x = Other{uses}`.
    /// A declaration with initializer is an assignment too.
    Assign { dst: Place, src: Operand },
    /// A call. `dst` receives the result when it is used (assigned, tested or
    /// passed on); front ends use a temporary for results used in
    /// expressions.
    Call {
        dst: Option<Place>,
        callee: Callee,
        args: Vec<Operand>,
        /// Span of each argument, parallel to `args`.
        arg_spans: Vec<Span>,
    },
    /// Places read by an expression statement or a sub-expression with no
    /// other effect (e.g. `(void)vma->vm_flags;`, array indices, `sizeof`
    /// is excluded since it does not evaluate).
    Use { places: Vec<Place> },
    /// A region the front end could not parse. `places` are the
    /// identifiers (and `a->b` chains) found in the region; they count as
    /// uses so that nothing inside an unparsed region is lost. `calls` are
    /// the names the region calls (`name(`), so that a lock call hidden in
    /// it is not lost either.
    Opaque {
        places: Vec<Place>,
        calls: Vec<String>,
    },
    /// A structured annotation inside a body, e.g. a `faultlock:` comment.
    Annotation(Annotation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callee {
    /// A call by name. Rust paths keep their last segment in `name` and the
    /// full path in `path` (`bindings::vma_end_read` → name `vma_end_read`).
    Direct { name: String, path: String },
    /// A call through a function pointer, e.g. `vma->vm_ops->fault(vmf)`.
    /// The place is read (and dereferenced as its projections say).
    Indirect(Place),
}

impl Callee {
    pub fn name(&self) -> Option<&str> {
        match self {
            Callee::Direct { name, .. } => Some(name),
            Callee::Indirect(_) => None,
        }
    }
}

/// Building a function's CFG block by block, shared by the front ends: a
/// lowering context says where its blocks, current block and temporary
/// counter live, and gets the rest.
pub trait CfgBuilder {
    fn cfg_parts(&mut self) -> (&mut Vec<Block>, &mut BlockId, &mut u32);

    fn new_block(&mut self) -> BlockId {
        let (blocks, _, _) = self.cfg_parts();
        blocks.push(Block::default());
        blocks.len() - 1
    }

    fn emit(&mut self, kind: StmtKind, span: Span) {
        let (blocks, cur, _) = self.cfg_parts();
        blocks[*cur].stmts.push(Stmt { kind, span });
    }

    /// End the current block (if still open) with `t`.
    fn terminate(&mut self, t: Terminator) {
        let (blocks, cur, _) = self.cfg_parts();
        let b = &mut blocks[*cur];
        if matches!(b.term, Terminator::None) {
            b.term = t;
        }
    }

    fn goto(&mut self, target: BlockId) {
        self.terminate(Terminator::Goto(target));
    }

    /// Terminate and continue in a fresh (unreachable) block.
    fn terminate_dead(&mut self, t: Terminator) {
        self.terminate(t);
        let b = self.new_block();
        *self.cfg_parts().1 = b;
    }

    /// A fresh temporary, `$tN`.
    fn temp(&mut self) -> Place {
        let (_, _, n) = self.cfg_parts();
        let p = Place::var(format!("$t{n}"));
        *n += 1;
        p
    }
}

/// A memory location: a variable followed by projections.
/// `vmf->vma->vm_mm` is `vmf` `[Deref, Field(vma), Deref, Field(vm_mm)]`;
/// `(*vma).vm_flags` is the same as `vma->vm_flags`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub base: String,
    pub proj: Vec<Proj>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proj {
    /// Pointer dereference (`*p`, or the arrow of `p->f`).
    Deref,
    Field(String),
    /// `a[i]`; the index's own places are reported separately as uses.
    Index,
}

impl Place {
    pub fn var(name: impl Into<String>) -> Self {
        Place {
            base: name.into(),
            proj: Vec::new(),
        }
    }

    /// `self->field`
    pub fn arrow(&self, field: &str) -> Self {
        let mut p = self.clone();
        p.proj.push(Proj::Deref);
        p.proj.push(Proj::Field(field.to_string()));
        p
    }

    /// Every prefix of this place that is dereferenced by it, outermost
    /// first: for `vmf->vma->vm_mm` that is `vmf` then `vmf->vma`.
    pub fn deref_prefixes(&self) -> Vec<Place> {
        let mut out = Vec::new();
        for (i, p) in self.proj.iter().enumerate() {
            if matches!(p, Proj::Deref | Proj::Index) {
                out.push(Place {
                    base: self.base.clone(),
                    proj: self.proj[..i].to_vec(),
                });
            }
        }
        out
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = self.base.clone();
        let mut i = 0;
        while i < self.proj.len() {
            match (&self.proj[i], self.proj.get(i + 1)) {
                (Proj::Deref, Some(Proj::Field(name))) => {
                    s = format!("{s}->{name}");
                    i += 2;
                    continue;
                }
                (Proj::Deref, _) => s = format!("(*{s})"),
                (Proj::Field(name), _) => s = format!("{s}.{name}"),
                (Proj::Index, _) => s = format!("{s}[]"),
            }
            i += 1;
        }
        f.write_str(&s)
    }
}

/// A value as seen by the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// The value stored in a place (`vma`, `vmf->vma`, `$t0`).
    Place(Place),
    /// `&place`
    AddrOf(Place),
    /// A named constant: an identifier that is not a parameter, local or
    /// known global, written in capitals (`VM_FAULT_RETRY`, `FAULT_FLAG_VMA_LOCK`)
    /// or an enumerator.
    Const(String),
    Int(i64),
    /// `NULL`, `None`, `ptr::null_mut()`.
    Null,
    /// Bitwise or of operands: `flags | FAULT_FLAG_VMA_LOCK`,
    /// `VM_FAULT_RETRY | VM_FAULT_COMPLETED`.
    Or(Vec<Operand>),
    /// Bitwise and of a value with a mask: `ret & VM_FAULT_ERROR`.
    And(Box<Operand>, Box<Operand>),
    /// Any other expression; `places` are the places it reads.
    Other {
        places: Vec<Place>,
    },
}

impl Operand {
    /// All places read by evaluating this operand (not counting `AddrOf`
    /// roots, which are not read, though their deref prefixes are).
    pub fn places(&self) -> Vec<&Place> {
        let mut out = Vec::new();
        self.collect_places(&mut out);
        out
    }

    fn collect_places<'a>(&'a self, out: &mut Vec<&'a Place>) {
        match self {
            Operand::Place(p) | Operand::AddrOf(p) => out.push(p),
            Operand::Or(ops) => ops.iter().for_each(|o| o.collect_places(out)),
            Operand::And(a, b) => {
                a.collect_places(out);
                b.collect_places(out);
            }
            Operand::Other { places } => out.extend(places.iter()),
            Operand::Const(_) | Operand::Int(_) | Operand::Null => {}
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cond {
    pub kind: CondKind,
    /// The condition expression as written.
    pub span: Span,
}

/// An atomic branch condition; the branch's `then` successor is taken when
/// it holds. Negations are resolved by swapping successors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondKind {
    /// The operand is non-zero / non-NULL / `true` / `Some`.
    Truthy(Operand),
    /// `(value & (M1 | M2 | ...)) != 0` with named constants.
    BitTest { value: Operand, mask: Vec<String> },
    /// `lhs == rhs`.
    Eq { lhs: Operand, rhs: Operand },
    /// A condition the front end could not classify; `places` are read.
    Unknown { places: Vec<Place> },
}

#[derive(Debug, Clone, Default)]
pub enum Terminator {
    /// Not yet terminated; a front end must never leave this in output.
    #[default]
    None,
    Goto(BlockId),
    Branch {
        cond: Cond,
        then_bb: BlockId,
        else_bb: BlockId,
        /// The whole statement this branch came from (`if (...) ... else ...`),
        /// for suggestions that rewrite it. `None` for branches produced by
        /// `&&`, `||`, `?:` or loops.
        stmt_span: Option<Span>,
    },
    /// Non-deterministic choice (switch, unknown preprocessor conditional).
    Multi(Vec<BlockId>),
    Return {
        value: Option<Operand>,
        span: Span,
    },
    /// The path ends without returning (`BUG()`, `unreachable!()`, infinite
    /// loop exit).
    Unreachable,
}

impl Terminator {
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Terminator::Goto(b) => vec![*b],
            Terminator::Branch {
                then_bb, else_bb, ..
            } => vec![*then_bb, *else_bb],
            Terminator::Multi(bs) => bs.clone(),
            Terminator::None | Terminator::Return { .. } | Terminator::Unreachable => vec![],
        }
    }
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operand::Place(p) => write!(f, "{p}"),
            Operand::AddrOf(p) => write!(f, "&{p}"),
            Operand::Const(c) => f.write_str(c),
            Operand::Int(i) => write!(f, "{i}"),
            Operand::Null => f.write_str("NULL"),
            Operand::Or(ops) => {
                let parts: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
                write!(f, "({})", parts.join(" | "))
            }
            Operand::And(a, b) => write!(f, "({a} & {b})"),
            Operand::Other { places } => {
                let parts: Vec<String> = places.iter().map(|p| p.to_string()).collect();
                write!(f, "other{{{}}}", parts.join(", "))
            }
        }
    }
}

impl std::fmt::Display for CondKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CondKind::Truthy(o) => write!(f, "{o}"),
            CondKind::BitTest { value, mask } => write!(f, "{value} & {}", mask.join("|")),
            CondKind::Eq { lhs, rhs } => write!(f, "{lhs} == {rhs}"),
            CondKind::Unknown { places } => {
                let parts: Vec<String> = places.iter().map(|p| p.to_string()).collect();
                write!(f, "unknown{{{}}}", parts.join(", "))
            }
        }
    }
}

impl Function {
    /// A stable, human-readable dump of the CFG (for `faultlock dump-ir`
    /// and front-end tests).
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}{}", p.name, p.ty.base, "*".repeat(p.ty.ptr as usize)))
            .collect();
        let _ = writeln!(s, "fn {}({})", self.name, params.join(", "));
        for (i, b) in self.blocks.iter().enumerate() {
            let _ = writeln!(s, "  bb{i}:");
            for st in &b.stmts {
                let line = match &st.kind {
                    StmtKind::Assign { dst, src } => format!("{dst} = {src}"),
                    StmtKind::Call {
                        dst, callee, args, ..
                    } => {
                        let c = match callee {
                            Callee::Direct { path, .. } => path.clone(),
                            Callee::Indirect(p) => format!("(*{p})"),
                        };
                        let a: Vec<String> = args.iter().map(|o| o.to_string()).collect();
                        match dst {
                            Some(d) => format!("{d} = {c}({})", a.join(", ")),
                            None => format!("{c}({})", a.join(", ")),
                        }
                    }
                    StmtKind::Use { places } => {
                        let p: Vec<String> = places.iter().map(|p| p.to_string()).collect();
                        format!("use {}", p.join(", "))
                    }
                    StmtKind::Opaque { places, calls } => {
                        let p: Vec<String> = places.iter().map(|p| p.to_string()).collect();
                        if calls.is_empty() {
                            format!("opaque {}", p.join(", "))
                        } else {
                            format!("opaque {} calls {}", p.join(", "), calls.join(", "))
                        }
                    }
                    StmtKind::Annotation(a) => format!("annotation {}", a.text),
                };
                let _ = writeln!(s, "    {line}");
            }
            let t = match &b.term {
                Terminator::None => "<none>".to_string(),
                Terminator::Goto(t) => format!("goto bb{t}"),
                Terminator::Branch {
                    cond,
                    then_bb,
                    else_bb,
                    ..
                } => format!("if {} then bb{then_bb} else bb{else_bb}", cond.kind),
                Terminator::Multi(bs) => {
                    let v: Vec<String> = bs.iter().map(|b| format!("bb{b}")).collect();
                    format!("choose {}", v.join(", "))
                }
                Terminator::Return { value: Some(v), .. } => format!("return {v}"),
                Terminator::Return { value: None, .. } => "return".to_string(),
                Terminator::Unreachable => "unreachable".to_string(),
            };
            let _ = writeln!(s, "    {t}");
        }
        s
    }
}

/// `s` moved by `delta` bytes (saturating at the ends of the `u32` range).
pub fn shift_span(s: Span, delta: i64) -> Span {
    let mv = |x: u32| (i64::from(x) + delta).clamp(0, i64::from(u32::MAX)) as u32;
    Span {
        start: mv(s.start),
        end: mv(s.end),
    }
}

/// Moving spans, for a driver that keeps IR across edits (the language
/// server): text inserted or removed before a function moves all of its
/// spans by the same amount.
impl Function {
    /// Apply `f` to every span of the function (annotations included).
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        self.span = f(self.span);
        self.name_span = f(self.name_span);
        for v in self.params.iter_mut().chain(self.locals.iter_mut()) {
            v.span = f(v.span);
        }
        for a in &mut self.annotations {
            a.span = f(a.span);
        }
        for b in &mut self.blocks {
            for s in &mut b.stmts {
                s.span = f(s.span);
                match &mut s.kind {
                    StmtKind::Call { arg_spans, .. } => {
                        arg_spans.iter_mut().for_each(|sp| *sp = f(*sp));
                    }
                    StmtKind::Annotation(a) => a.span = f(a.span),
                    _ => {}
                }
            }
            match &mut b.term {
                Terminator::Branch {
                    cond, stmt_span, ..
                } => {
                    cond.span = f(cond.span);
                    if let Some(sp) = stmt_span {
                        *sp = f(*sp);
                    }
                }
                Terminator::Return { span, .. } => *span = f(*span),
                _ => {}
            }
        }
    }

    /// Move every span by `delta` bytes.
    pub fn shift(&mut self, delta: i64) {
        self.map_spans(&mut |s| shift_span(s, delta));
    }
}

impl Unit {
    /// Move every span at or after `from` by `delta` bytes (text of
    /// `delta` bytes inserted, or `-delta` removed, before `from`).
    pub fn shift_from(&mut self, from: u32, delta: i64) {
        let mv = |s: Span| {
            if s.start >= from {
                shift_span(s, delta)
            } else {
                s
            }
        };
        for f in self.functions.iter_mut().filter(|f| f.span.start >= from) {
            f.shift(delta);
        }
        for r in &mut self.registrations {
            r.span = mv(r.span);
        }
        for d in &mut self.declarations {
            d.span = mv(d.span);
            d.name_span = mv(d.name_span);
            for v in &mut d.params {
                v.span = mv(v.span);
            }
            for a in &mut d.annotations {
                a.span = mv(a.span);
            }
        }
    }
}
