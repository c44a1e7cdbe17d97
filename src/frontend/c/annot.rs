//! Lock annotations written in C, turned into the shared vocabulary
//! (`lints/annotations.md`):
//!
//! * a `/* faultlock: KIND(...) */` or `// faultlock: KIND(...)` comment
//!   directly before a definition or prototype (`faultlock: allow(...)` is a
//!   suppression, not an annotation, and is skipped);
//! * the kernel's `__must_hold(x)`, `__acquires(x)`, `__releases(x)` and
//!   `__cond_acquires(x)` in the header, when `x` is the mmap_lock of a
//!   parameter path (`&mm->mmap_lock`, `&vma->vm_mm->mmap_lock`). Every
//!   other argument (spinlocks, RCU, globals) is not ours and is ignored.
//!
//! The text scanned is the preprocessed one (same offsets as the original;
//! the normaliser later blanks the kernel macros for tree-sitter).

use super::field;
use super::func::params;
use super::lower::{declarator, span, type_base, Ctx};
use crate::ir::{Annotation, Declaration, Function, TypeRef, Var};
use crate::source::Span;
use tree_sitter::Node;

/// Whether a text can contain annotations at all (cheap; most files
/// cannot, and then nothing else here runs).
pub fn may_have(text: &[u8]) -> bool {
    let has = |needle: &str| memchr::memmem::find(text, needle.as_bytes()).is_some();
    has("faultlock")
        || (has("mmap_lock")
            && ["__must_hold", "__acquires", "__releases", "__cond_acquires"]
                .iter()
                .any(|m| has(m)))
}

/// The annotations of a function definition: comments before it and
/// kernel macros between its start and its body.
pub fn of_definition(text: &[u8], f: &Function) -> Vec<Annotation> {
    let start = f.span.start as usize;
    let end = (f.span.end as usize).min(text.len());
    let header_end = body_start(text, f.name_span.end as usize, end).unwrap_or(start);
    let mut out = comments_before(text, start);
    out.extend(kernel_macros(text, start, header_end, &f.params));
    out
}

/// A file-scope prototype with annotations, as a [`Declaration`].
pub fn declaration(cx: &Ctx, text: &[u8], decl: Node) -> Option<Declaration> {
    let d = decl.child_by_field_id(field::declarator().get())?;
    let info = declarator(cx, d);
    let (name, name_node) = info.name?;
    if !info.is_function {
        return None;
    }
    let params: Vec<Var> = info.params.map(|pl| params(cx, pl)).unwrap_or_default();
    let (start, end) = (decl.start_byte(), decl.end_byte());
    let mut annotations = comments_before(text, start);
    annotations.extend(kernel_macros(text, start, end, &params));
    if annotations.is_empty() {
        return None;
    }
    Some(Declaration {
        name: name.to_string(),
        span: span(decl),
        name_span: span(name_node),
        params,
        ret: TypeRef {
            base: decl
                .child_by_field_id(field::ty().get())
                .map(|t| type_base(cx, t))
                .unwrap_or_default(),
            ptr: info.ptr,
        },
        annotations,
    })
}

/// The `{` opening a definition's body: the first one after the name
/// outside parentheses, before the definition's end.
fn body_start(text: &[u8], from: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in text.get(from..end)?.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b'{' if depth == 0 => return Some(from + i),
            b';' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// Longest block comment looked at: annotations are short, and the bound
/// keeps the backward search linear over a file of many functions.
const MAX_COMMENT: usize = 4096;

/// `faultlock:` comments directly before `start` (only whitespace and other
/// comments in between), in source order.
fn comments_before(text: &[u8], start: usize) -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut p = start.min(text.len());
    loop {
        while p > 0 && text[p - 1].is_ascii_whitespace() {
            p -= 1;
        }
        let (open, body) = if text[..p].ends_with(b"*/") {
            let from = p.saturating_sub(MAX_COMMENT);
            let Some(open) = memchr::memmem::rfind(&text[from..p - 2], b"/*").map(|o| o + from)
            else {
                break;
            };
            (open, &text[open + 2..p - 2])
        } else {
            let line = text[..p]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1);
            let lead = text[line..p]
                .iter()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
            if !text[line + lead..p].starts_with(b"//") {
                break;
            }
            (line + lead, &text[line + lead + 2..p])
        };
        if let Some(a) = comment_annotation(body, Span::new(open, p)) {
            out.push(a);
        }
        p = open;
    }
    out.reverse();
    out
}

/// The annotation in a comment body, if it is a `faultlock:` one other
/// than `allow`. Continuation lines may start with `*`.
fn comment_annotation(body: &[u8], span: Span) -> Option<Annotation> {
    let body = String::from_utf8_lossy(body);
    let joined: Vec<&str> = body
        .lines()
        .map(|l| {
            let l = l.trim_start();
            l.strip_prefix('*').unwrap_or(l)
        })
        .collect();
    let joined = joined.join("\n");
    let rest = joined.trim().strip_prefix("faultlock:")?.trim();
    if crate::suppress::allow_args(rest).is_some() {
        return None;
    }
    Some(Annotation {
        text: rest.to_string(),
        span,
    })
}

/// The kernel's lock-context macros in `text[start..end]` whose argument is
/// a parameter's mmap_lock.
fn kernel_macros(text: &[u8], start: usize, end: usize, params: &[Var]) -> Vec<Annotation> {
    const MACROS: &[(&str, &str, &str)] = &[
        ("__must_hold", "requires", ""),
        ("__acquires", "acquires", ""),
        ("__releases", "releases", ""),
        ("__cond_acquires", "acquires", ", when = \"nonzero\""),
    ];
    let Some(region) = text.get(start..end.min(text.len())) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = memchr::memmem::find(&region[i..], b"__") {
        let pos = i + at;
        i = pos + 2;
        if pos > 0 && (region[pos - 1].is_ascii_alphanumeric() || region[pos - 1] == b'_') {
            continue;
        }
        let ident_len = region[pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let ident = std::str::from_utf8(&region[pos..pos + ident_len]).unwrap_or("");
        let Some((_, kind, cond)) = MACROS.iter().find(|(m, _, _)| *m == ident) else {
            continue;
        };
        let after = pos + ident_len;
        let open = after
            + region[after..]
                .iter()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        if region.get(open) != Some(&b'(') {
            continue;
        }
        let Some(close) = region[open..].iter().position(|&c| c == b')') else {
            continue;
        };
        let arg = String::from_utf8_lossy(&region[open + 1..open + close]);
        if let Some(path) = mmap_lock_path(&arg, params) {
            out.push(Annotation {
                text: format!("{kind}(mmap({path}){cond})"),
                span: Span::new(start + pos, start + open + close + 1),
            });
        }
        i = open + close + 1;
    }
    out
}

/// `&mm->mmap_lock` → `mm`, `&vma->vm_mm->mmap_lock` → `vma->vm_mm`, when
/// the path starts at a parameter.
fn mmap_lock_path(arg: &str, params: &[Var]) -> Option<String> {
    let compact: String = arg.chars().filter(|c| !c.is_whitespace()).collect();
    let path = compact
        .strip_prefix('&')?
        .strip_suffix("mmap_lock")?
        .strip_suffix("->")?;
    let mut parts = path.split("->");
    let root = parts.next()?;
    let well_formed = path
        .split("->")
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (well_formed && params.iter().any(|p| p.name == root)).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str) -> Var {
        Var {
            name: name.into(),
            ty: TypeRef::default(),
            span: Span::new(0, 0),
        }
    }

    #[test]
    fn comments_directly_before() {
        let t = b"int x;\n/* faultlock: requires(mmap_read(mm)) */\n/** doc */\n// faultlock: releases(mmap_read(mm))\n/* faultlock: allow(double_unlock) */\nvoid f(void)";
        let start = t.len() - "void f(void)".len();
        let anns = comments_before(t, start);
        let texts: Vec<&str> = anns.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["requires(mmap_read(mm))", "releases(mmap_read(mm))"]
        );
        let first = &t[anns[0].span.start as usize..anns[0].span.end as usize];
        assert_eq!(first, b"/* faultlock: requires(mmap_read(mm)) */");
        // Code between the comment and the item: not an annotation of it.
        let t = b"/* faultlock: requires(mmap_read(mm)) */ int y;\nvoid f(void)";
        assert!(comments_before(t, t.len() - 12).is_empty());
        // Multi-line block comment with leading stars.
        let t = b"/*\n * faultlock: releases(fault_lock(vmf),\n *   when = \"bits:VM_FAULT_RETRY\")\n */\nint g(void)";
        let anns = comments_before(t, t.len() - 11);
        assert_eq!(anns.len(), 1);
        assert!(anns[0].text.starts_with("releases(fault_lock(vmf),"));
        // A `*/` whose `/*` is further back than any annotation: the
        // search stops (it would be quadratic over many functions).
        let mut t = b"/* faultlock: requires(mmap_read(mm)) ".to_vec();
        t.extend(vec![b'x'; MAX_COMMENT]);
        t.extend(b" */\nvoid f(void)");
        assert!(comments_before(&t, t.len() - 12).is_empty());
    }

    #[test]
    fn kernel_macros_map_mmap_lock_only() {
        let params = vec![var("mm"), var("vma"), var("lock")];
        let t = b"void f(struct mm_struct *mm) __must_hold(&mm->mmap_lock) __releases(&vma->vm_mm->mmap_lock) __acquires(lock) __acquires(&init_mm.mmap_lock) __cond_acquires( & mm -> mmap_lock )";
        let anns = kernel_macros(t, 0, t.len(), &params);
        let texts: Vec<&str> = anns.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "requires(mmap(mm))",
                "releases(mmap(vma->vm_mm))",
                "acquires(mmap(mm), when = \"nonzero\")"
            ]
        );
        let s = anns[0].span;
        assert_eq!(
            &t[s.start as usize..s.end as usize],
            b"__must_hold(&mm->mmap_lock)"
        );
        assert!(kernel_macros(b"__must_hold(&other->mmap_lock)", 0, 30, &params).is_empty());
    }
}
