//! The Rust front end (syn): Rust for Linux code → the same IR as C.
//!
//! Only syntax is used (no type checking, no name resolution), so files
//! that do not compile, or whose crates are missing, are still checked.
//! Spans are byte offsets of the original text (`proc-macro2`'s
//! `span-locations`).
//!
//! * Functions: free functions, methods of `impl` blocks and trait default
//!   methods, in modules and nested in bodies. A function is named by its
//!   own identifier (`mmap_read_lock`, not `MmWithUser::mmap_read_lock`),
//!   so that calls `x.name()` and `Type::name()` resolve to it the way C
//!   calls resolve by name.
//! * Bodies (`expr.rs`, `lower.rs`): guards of the `[rust]` model section
//!   are lowered into plain calls of the C model's entries (see `lower.rs`).
//! * Annotations: `#[faultlock::KIND(ARGS)]` and `#[cfg_attr(faultlock,
//!   faultlock::KIND(ARGS))]` become `KIND(ARGS)` texts; on foreign and
//!   bodiless trait functions they make declarations.
//! * Registrations: struct expressions such as `bindings::vm_operations_struct
//!   { fault: Some(my_fault), .. }` register callbacks, like C initializers.
//! * Recovery: when the file does not parse, it is cut at top-level items
//!   and each is parsed alone; a function that still does not parse becomes
//!   one opaque region (its calls kept). Parsing runs on a thread with a
//!   large stack, and inputs nested deeper than a bound are not given to
//!   syn at all (syn's parser recurses).

mod call;
mod control;
mod expr;
mod lower;
mod scan;
mod split;
#[cfg(test)]
mod tests;
mod types;

use crate::ir::{Annotation, Declaration, Function, Registration, StmtKind, Terminator, Unit, Var};
use crate::model::{LockModel, RustModel};
use crate::source::{SourceFile, Span};
use lower::Lower;
use std::sync::OnceLock;
use syn::spanned::Spanned;
use syn::visit::Visit;
use types::type_ref;

/// Stack of the parsing thread: syn and the lowering recurse.
const STACK: usize = 256 << 20;

fn builtin() -> &'static RustModel {
    static M: OnceLock<RustModel> = OnceLock::new();
    M.get_or_init(|| LockModel::builtin().rust)
}

/// Lower every function of a Rust file. Never panics on any input (a
/// defect inside is re-raised for the caller's `catch_unwind`).
pub fn lower_file(file: &SourceFile) -> Unit {
    lower_with(file, builtin())
}

pub fn lower_with(file: &SourceFile, m: &RustModel) -> Unit {
    let text = split::sanitize(&file.text);
    let run = || {
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(s, || lower_text(&text, m))
                .map(|h| h.join())
        })
    };
    match run() {
        Ok(Ok(unit)) => unit,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // No thread could be started: parse on this one.
        Err(_) => lower_text(&text, m),
    }
}

fn lower_text(text: &str, m: &RustModel) -> Unit {
    let mut unit = Unit::default();
    let whole_ok = split::parsable(text);
    match whole_ok.then(|| syn::parse_file(text)) {
        Some(Ok(f)) => Items { m, text, base: 0 }.file(&f, &mut unit),
        _ => {
            for r in split::pieces(text) {
                let piece = &text[r.clone()];
                let parsed = split::parsable(piece).then(|| syn::parse_file(piece));
                match parsed {
                    Some(Ok(f)) => Items {
                        m,
                        text: piece,
                        base: r.start,
                    }
                    .file(&f, &mut unit),
                    _ => salvage(piece, r.start, &mut unit),
                }
            }
        }
    }
    unit.count_opaque();
    unit
}

/// A top-level piece syn cannot parse: each `fn NAME` in it becomes a
/// function with one opaque region holding the names it calls.
fn salvage(piece: &str, base: usize, unit: &mut Unit) {
    for (name, at) in split::fn_names(piece) {
        let span = Span::new(base + at, base + piece.len());
        let calls = split::called_names(&piece[at..]);
        unit.functions.push(Function {
            name: name.to_string(),
            span,
            name_span: Span::new(base + at, base + at + name.len()),
            params: Vec::new(),
            locals: Vec::new(),
            ret: Default::default(),
            annotations: Vec::new(),
            blocks: vec![crate::ir::Block {
                stmts: vec![crate::ir::Stmt {
                    kind: StmtKind::Opaque {
                        places: Vec::new(),
                        calls,
                    },
                    span,
                }],
                term: Terminator::Return { value: None, span },
            }],
            opaque_regions: 1,
            parse: crate::ir::Parse::Primary,
        });
    }
}

struct Items<'a> {
    m: &'a RustModel,
    text: &'a str,
    base: usize,
}

impl Items<'_> {
    fn sp(&self, s: proc_macro2::Span) -> Span {
        let r = s.byte_range();
        Span::new(self.base + r.start, self.base + r.end)
    }

    fn file(&self, f: &syn::File, unit: &mut Unit) {
        for item in &f.items {
            self.item(item, unit);
        }
        let mut regs = Registrations {
            items: self,
            out: Vec::new(),
        };
        regs.visit_file(f);
        unit.registrations.extend(regs.out);
    }

    fn item(&self, item: &syn::Item, unit: &mut Unit) {
        match item {
            syn::Item::Fn(f) => self.function(&f.attrs, &f.sig, &f.block, item.span(), unit),
            syn::Item::Impl(i) => {
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        self.function(&f.attrs, &f.sig, &f.block, it.span(), unit);
                    }
                }
            }
            syn::Item::Trait(t) => {
                for it in &t.items {
                    if let syn::TraitItem::Fn(f) = it {
                        match &f.default {
                            Some(b) => self.function(&f.attrs, &f.sig, b, it.span(), unit),
                            None => self.declaration(&f.attrs, &f.sig, it.span(), unit),
                        }
                    }
                }
            }
            syn::Item::ForeignMod(fm) => {
                for it in &fm.items {
                    if let syn::ForeignItem::Fn(f) = it {
                        self.declaration(&f.attrs, &f.sig, it.span(), unit);
                    }
                }
            }
            syn::Item::Mod(m) => {
                for it in m.content.iter().flat_map(|(_, items)| items) {
                    self.item(it, unit);
                }
            }
            _ => {}
        }
    }

    /// The annotation of each parameter of a `[rust.param_locks]` type
    /// (`vma: &VmaNew`), placed on the parameter.
    fn param_lock_annotations(&self, sig: &syn::Signature) -> Vec<Annotation> {
        let mut out = Vec::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            let syn::Pat::Ident(id) = &*pt.pat else {
                continue;
            };
            let ty = type_ref(&pt.ty);
            if let Some(l) = self.m.param_locks.get(&ty.base).filter(|_| ty.ptr == 1) {
                out.push(Annotation {
                    text: l.annotation.replace("{}", &id.ident.to_string()),
                    span: self.sp(input.span()),
                });
            }
        }
        out
    }

    fn params(&self, sig: &syn::Signature) -> Vec<Var> {
        let mut out = Vec::new();
        for (i, input) in sig.inputs.iter().enumerate() {
            let span = self.sp(input.span());
            match input {
                syn::FnArg::Receiver(r) => out.push(Var {
                    name: "self".into(),
                    ty: type_ref(&r.ty),
                    span,
                }),
                syn::FnArg::Typed(pt) => {
                    let name = match &*pt.pat {
                        syn::Pat::Ident(id) => id.ident.to_string(),
                        _ => format!("$arg{i}"),
                    };
                    let mut ty = type_ref(&pt.ty);
                    if let Some(l) = self.m.param_locks.get(&ty.base).filter(|_| ty.ptr == 1) {
                        ty.base = l.c_type.clone();
                    }
                    out.push(Var { name, ty, span });
                }
            }
        }
        out
    }

    fn ret(sig: &syn::Signature) -> crate::ir::TypeRef {
        match &sig.output {
            syn::ReturnType::Default => Default::default(),
            syn::ReturnType::Type(_, t) => type_ref(t),
        }
    }

    fn function(
        &self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        span: proc_macro2::Span,
        unit: &mut Unit,
    ) {
        let mut l = Lower::new(self.m, self.base);
        let params = self.params(sig);
        let mut annotations = self.annotations(attrs);
        annotations.extend(self.param_lock_annotations(sig));
        for p in &params {
            l.vars.insert(p.name.clone());
        }
        // Parameters bound by patterns (`(a, b): (T, U)`).
        for (i, input) in sig.inputs.iter().enumerate() {
            if let syn::FnArg::Typed(pt) = input {
                if !matches!(&*pt.pat, syn::Pat::Ident(_)) {
                    let v = crate::ir::Operand::Place(crate::ir::Place::var(format!("$arg{i}")));
                    let sp = self.sp(pt.span());
                    l.push_scope();
                    l.bind(&pt.pat, v, sp);
                    l.scopes.pop();
                }
            }
        }
        let value = l.block(block);
        let close = self.sp(block.brace_token.span.close());
        let value = (!matches!(sig.output, syn::ReturnType::Default)).then_some(value);
        l.finish(value, close);
        let nested = std::mem::take(&mut l.nested);
        unit.functions.push(Function {
            name: sig.ident.to_string(),
            span: self.sp(span),
            name_span: self.sp(sig.ident.span()),
            params,
            locals: l.locals,
            ret: Self::ret(sig),
            annotations,
            blocks: l.blocks,
            opaque_regions: l.opaque,
            parse: crate::ir::Parse::Primary,
        });
        for f in &nested {
            self.function(&f.attrs, &f.sig, &f.block, f.span(), unit);
        }
    }

    fn declaration(
        &self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        span: proc_macro2::Span,
        unit: &mut Unit,
    ) {
        let annotations = self.annotations(attrs);
        if annotations.is_empty() {
            return;
        }
        unit.declarations.push(Declaration {
            name: sig.ident.to_string(),
            span: self.sp(span),
            name_span: self.sp(sig.ident.span()),
            params: self.params(sig),
            ret: Self::ret(sig),
            annotations,
        });
    }

    /// `#[faultlock::KIND(ARGS)]` and `#[cfg_attr(faultlock,
    /// faultlock::KIND(ARGS))]`, as the source text `KIND(ARGS)`.
    fn annotations(&self, attrs: &[syn::Attribute]) -> Vec<Annotation> {
        let mut out = Vec::new();
        for a in attrs {
            let whole = Span::new(
                self.sp(a.pound_token.span).start as usize,
                self.sp(a.bracket_token.span.close()).end as usize,
            );
            let mut metas = vec![a.meta.clone()];
            if a.path().is_ident("cfg_attr") {
                let parsed = a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                );
                metas = match parsed {
                    Ok(list) if list.first().is_some_and(|c| c.path().is_ident("faultlock")) => {
                        list.into_iter().skip(1).collect()
                    }
                    _ => Vec::new(),
                };
            }
            for meta in metas {
                if let Some(text) = self.annotation_text(&meta) {
                    out.push(Annotation { text, span: whole });
                }
            }
        }
        out
    }

    fn annotation_text(&self, meta: &syn::Meta) -> Option<String> {
        let segs = &meta.path().segments;
        if segs.len() != 2 || segs[0].ident != "faultlock" {
            return None;
        }
        let start = self.sp(segs[1].ident.span()).start as usize;
        let end = match meta {
            syn::Meta::Path(_) => self.sp(segs[1].ident.span()).end,
            syn::Meta::List(l) => self.sp(l.delimiter.span().close()).end,
            syn::Meta::NameValue(nv) => self.sp(nv.value.span()).end,
        } as usize;
        self.text
            .get(start - self.base..end - self.base)
            .map(str::to_string)
    }
}

/// Struct expressions naming functions: `S { field: Some(f), field2: g, .. }`.
struct Registrations<'a, 'b> {
    items: &'b Items<'a>,
    out: Vec<Registration>,
}

impl<'ast> Visit<'ast> for Registrations<'_, '_> {
    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        let mut fields = Vec::new();
        for f in &s.fields {
            let syn::Member::Named(field) = &f.member else {
                continue;
            };
            let mut e = &f.expr;
            if let syn::Expr::Call(c) = e {
                let is_some =
                    matches!(&*c.func, syn::Expr::Path(p) if expr::path_last(&p.path) == "Some");
                if is_some && c.args.len() == 1 {
                    e = &c.args[0];
                }
            }
            if let syn::Expr::Path(p) = e {
                let name = expr::path_last(&p.path);
                if name != "None" {
                    fields.push((field.to_string(), name));
                }
            }
        }
        if !fields.is_empty() {
            self.out.push(Registration {
                struct_type: expr::path_last(&s.path),
                fields,
                span: self.items.sp(s.span()),
            });
        }
        syn::visit::visit_expr_struct(self, s);
    }
}
