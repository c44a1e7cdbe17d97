//! faultlock's lock annotations as attribute macros on stable Rust.
//!
//! ```ignore
//! use faultlock_attrs as faultlock;
//!
//! #[faultlock::releases(fault_lock(vmf), when = "bits:VM_FAULT_RETRY")]
//! fn wait_for_io(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t { /* ... */ }
//! ```
//!
//! Each macro returns the item unchanged: the annotation is for faultlock,
//! which reads it from the source. What the macros add is a compile-time
//! check: a malformed annotation (unknown lock, unknown parameter, bad
//! condition, trailing tokens) is a compile error pointing at the culprit.
//! The vocabulary is documented in faultlock's `lints/annotations.md`
//! (`faultlock explain annotations`); faultlock's own parser
//! (`src/model/annotation.rs`) accepts exactly what these macros accept.

use proc_macro::TokenStream;
use proc_macro2::Span;
use syn::parse::{ParseStream, Parser};
use syn::{FnArg, Ident, LitStr, Pat, Signature, Token};

/// `#[requires(LOCK(PATH))]`: callers must hold the lock; the function
/// returns with it held.
#[proc_macro_attribute]
pub fn requires(attr: TokenStream, item: TokenStream) -> TokenStream {
    check(Kind::Requires, attr, item)
}

/// `#[acquires(LOCK(PATH))]` or `#[acquires(LOCK(PATH), when = "COND")]`:
/// the function returns with the lock held (when the result satisfies
/// COND). `PATH` may be `return`.
#[proc_macro_attribute]
pub fn acquires(attr: TokenStream, item: TokenStream) -> TokenStream {
    check(Kind::Acquires, attr, item)
}

/// `#[releases(LOCK(PATH))]` or `#[releases(LOCK(PATH), when = "COND")]`:
/// the function releases the lock (when the result satisfies COND).
#[proc_macro_attribute]
pub fn releases(attr: TokenStream, item: TokenStream) -> TokenStream {
    check(Kind::Releases, attr, item)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requires,
    Acquires,
    Releases,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Requires => "requires",
            Kind::Acquires => "acquires",
            Kind::Releases => "releases",
        }
    }
}

const LOCKS: &[&str] = &[
    "mmap_read",
    "mmap_write",
    "mmap",
    "vma_read",
    "hugetlb_vma_read",
    "fault_lock",
];
const CONDITIONS: &[&str] = &["nonnull", "null", "true", "nonzero", "false", "zero"];

fn check(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let params = match parameters(item.clone()) {
        Ok(p) => p,
        Err(e) => return with_error(e, item),
    };
    let parser = |input: ParseStream| annotation(kind, &params, input);
    match parser.parse(attr) {
        Ok(()) => item,
        Err(e) => with_error(e, item),
    }
}

/// The error, then the item unchanged (so that only the annotation is
/// reported, not every use of the item).
fn with_error(e: syn::Error, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = e.to_compile_error().into();
    out.extend(item);
    out
}

/// The parameter names of the annotated function, method or foreign
/// function (`self` for a receiver; `None` for a pattern parameter).
fn parameters(item: TokenStream) -> syn::Result<Vec<Option<String>>> {
    let sig: Signature = if let Ok(f) = syn::parse::<syn::ItemFn>(item.clone()) {
        f.sig
    } else if let Ok(f) = syn::parse::<syn::ForeignItemFn>(item.clone()) {
        f.sig
    } else if let Ok(f) = syn::parse::<syn::TraitItemFn>(item) {
        f.sig
    } else {
        return Err(syn::Error::new(
            Span::call_site(),
            "faultlock annotations go on functions, methods and foreign functions",
        ));
    };
    Ok(sig
        .inputs
        .iter()
        .map(|a| match a {
            FnArg::Receiver(_) => Some("self".to_string()),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            },
        })
        .collect())
}

/// `LOCK(PATH)` [`, when = "COND"`], nothing after.
fn annotation(kind: Kind, params: &[Option<String>], input: ParseStream) -> syn::Result<()> {
    if input.is_empty() {
        return Err(input.error(format!(
            "`{}` needs a lock term, like `{}(mmap_read(mm))`",
            kind.name(),
            kind.name()
        )));
    }
    let lock: Ident = input.parse()?;
    if !LOCKS.contains(&lock.to_string().as_str()) {
        return Err(syn::Error::new(
            lock.span(),
            format!(
                "unknown lock kind `{lock}`; expected one of {}",
                LOCKS.join(", ")
            ),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    path(kind, params, &lock, &content)?;
    if !content.is_empty() {
        return Err(content.error(format!(
            "`{lock}` takes one parameter or a path from one, like `vmf.vma`"
        )));
    }
    if input.is_empty() {
        return Ok(());
    }
    input.parse::<Token![,]>()?;
    let key: Ident = input.parse()?;
    if key != "when" {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown argument `{key}`; the only one is `when = \"COND\"`"),
        ));
    }
    if kind == Kind::Requires {
        return Err(syn::Error::new(
            key.span(),
            "`requires` takes no condition: the lock is needed on every call",
        ));
    }
    input.parse::<Token![=]>()?;
    let cond: LitStr = input.parse()?;
    condition(&cond)?;
    if !input.is_empty() {
        return Err(input
            .error("unexpected tokens after the annotation; write one annotation per attribute"));
    }
    Ok(())
}

/// `return`, or a parameter followed by `.field` / `->field`.
fn path(
    kind: Kind,
    params: &[Option<String>],
    lock: &Ident,
    input: ParseStream,
) -> syn::Result<()> {
    if input.peek(Token![return]) {
        let r: Token![return] = input.parse()?;
        if kind != Kind::Acquires {
            return Err(syn::Error::new(
                r.span,
                "`return` names the result, which only `acquires` can lock",
            ));
        }
        return Ok(());
    }
    let root: Ident = if input.peek(Token![self]) {
        let s: Token![self] = input.parse()?;
        Ident::new("self", s.span)
    } else if input.is_empty() {
        return Err(input.error(format!("`{lock}` needs a parameter")));
    } else {
        input.parse()?
    };
    let name = root.to_string();
    if !params.iter().any(|p| p.as_deref() == Some(name.as_str())) {
        let known: Vec<&str> = params.iter().flatten().map(String::as_str).collect();
        return Err(syn::Error::new(
            root.span(),
            format!(
                "`{name}` is not a parameter of this function (parameters: {})",
                known.join(", ")
            ),
        ));
    }
    while input.peek(Token![.]) || input.peek(Token![->]) {
        if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
        } else {
            input.parse::<Token![->]>()?;
        }
        let _field: Ident = input.parse()?;
    }
    Ok(())
}

/// A condition string of the vocabulary.
fn condition(cond: &LitStr) -> syn::Result<()> {
    let text = cond.value();
    let text = text.trim();
    if CONDITIONS.contains(&text) {
        return Ok(());
    }
    let bits = text
        .strip_prefix("bits:")
        .or_else(|| text.strip_prefix("nobits:"));
    let ok = bits.is_some_and(|b| {
        b.split('|').all(|n| {
            let n = n.trim();
            !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
    });
    if ok {
        return Ok(());
    }
    Err(syn::Error::new(
        cond.span(),
        format!(
            "unknown condition `{text}`; expected {}, bits:A|B or nobits:A|B",
            CONDITIONS.join(", ")
        ),
    ))
}
