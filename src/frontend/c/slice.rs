//! Parse only what can matter: the bodies of function definitions that
//! cannot take part in a finding are blanked before tree-sitter sees them.
//!
//! A file that passed the prefilter mentions the lock model somewhere, but
//! most of its functions usually do not. Tree-sitter's cost is linear in
//! the text, so blanking those bodies (spaces, newlines kept: every byte
//! offset stays) saves most of the parse, and their lowering and analysis.
//!
//! Which bodies are kept is decided on the text alone, without parsing:
//! * the file is cut into definitions, with kernel-style bodies (a line
//!   that is just `{` after a declarator ending in `)`, up to the next line
//!   starting with `}`, braces balanced, no directive inside), and the gaps
//!   between them (declarations, tables, one-line functions, comments);
//!   only such bodies are ever blanked, gaps and other code never;
//! * a part is a *seed* when it mentions the model (the caller's test: the
//!   prefilter's identifiers) or carries a lock annotation;
//! * kept: the seeds, the parts that call a seed that touches a lock
//!   (transitively: a wrapper's callers keep its lock effects), the
//!   definitions that take a VMA (a caller in another file must see their
//!   summary, not an unknown function, which uses every VMA passed to it),
//!   and everything those call (transitively: callees keep their
//!   summaries). "Calls" over-approximates: every identifier naming a
//!   function the file defines.
//!
//! A seed that only names the fault struct (`vm_fault_t`, a handler's
//! `struct vm_fault *`) does not keep its callers: its summary has no lock
//! effect (it reaches no lock in its file), and a caller that hands it a
//! fault names the struct itself.
//!
//! A body left out mentions no lock, reaches none in its file, takes no
//! VMA and is called by no kept code of its file, so it can take part in
//! no finding there: the front end drops its function. Callers in other
//! files are not followed (as the file-level prefilter does not follow
//! them). `tests/ui.rs` runs every fixture through this path, and the
//! whole 6.12 and 7.3 trees give the same findings with and without it.

use foldhash::{HashMap, HashMapExt};
use std::ops::Range;

/// A part of the file: a function definition, or what lies between two
/// (declarations, tables, one-line functions, comments).
struct Node {
    text: Range<usize>,
    /// Where the names it defines are read (`ident(`): a definition's
    /// declarator, or all of a gap.
    head: Range<usize>,
    /// The bytes strictly inside the body's braces, when it can be blanked.
    inner: Option<Range<usize>>,
}

/// What to slice by.
pub struct Slice<'a> {
    /// Whether a part mentions the lock model (the prefilter's test).
    pub relevant: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// Whether a part that mentions the model mentions more than the fault
    /// struct (a lock, a release, an assert, the fault-lock flag).
    pub locks: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// The VMA struct's name: a definition whose declarator names it is
    /// kept, since a caller in another file would otherwise see an unknown
    /// function (which uses every VMA passed to it) instead of its summary.
    pub vma_struct: &'a str,
}

/// The inner ranges of the bodies to blank in `text` (sorted, disjoint).
pub fn plan(text: &[u8], slice: &Slice) -> Vec<Range<usize>> {
    let nodes = nodes(text);
    if nodes.iter().all(|n| n.inner.is_none()) {
        return Vec::new();
    }
    let mut defines: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for (name, called) in idents(&text[n.head.clone()]) {
            if called {
                defines.entry(name).or_default().push(i);
            }
        }
    }
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for (name, _) in idents(&text[n.text.clone()]) {
            if let Some(ds) = defines.get(name) {
                calls[i].extend(ds.iter().copied().filter(|&d| d != i));
            }
        }
        calls[i].sort_unstable();
        calls[i].dedup();
    }
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, cs) in calls.iter().enumerate() {
        for &c in cs {
            callers[c].push(i);
        }
    }
    // Seeds, and whether each touches a lock (else it only names the
    // fault struct).
    let seeds: Vec<(usize, bool)> = nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let t = &text[n.text.clone()];
            if super::annot::may_have(t) {
                Some((i, true))
            } else {
                (slice.relevant)(t).then(|| (i, (slice.locks)(t)))
            }
        })
        .collect();
    let locking: Vec<usize> = seeds.iter().filter(|s| s.1).map(|s| s.0).collect();
    let mut from = closure(&locking, &callers, &mut vec![false; nodes.len()]);
    from.extend(seeds.iter().filter(|s| !s.1).map(|s| s.0));
    let vma = slice.vma_struct.as_bytes();
    from.extend(
        (0..nodes.len())
            .filter(|&i| nodes[i].inner.is_some())
            .filter(|&i| memchr::memmem::find(&text[nodes[i].head.clone()], vma).is_some()),
    );
    let mut kept = vec![false; nodes.len()];
    closure(&from, &calls, &mut kept);
    nodes
        .into_iter()
        .zip(kept)
        .filter(|(_, keep)| !keep)
        .filter_map(|(n, _)| n.inner)
        .collect()
}

/// Everything reachable from `from` over `edges`, marked in `seen` (in
/// the order found).
fn closure(from: &[usize], edges: &[Vec<usize>], seen: &mut [bool]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack: Vec<usize> = from.to_vec();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut seen[i], true) {
            out.push(i);
            stack.extend(edges[i].iter().copied().filter(|&j| !seen[j]));
        }
    }
    out
}

/// Spaces over the ranges, newlines kept.
pub fn blank(text: &mut [u8], ranges: &[Range<usize>]) {
    for r in ranges {
        for b in &mut text[r.clone()] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
}

/// The file cut at kernel-style function bodies, in order.
fn nodes(text: &[u8]) -> Vec<Node> {
    let mut out = Vec::new();
    let mut prev_end = 0;
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end =
            memchr::memchr(b'\n', &text[line_start..]).map_or(text.len(), |i| line_start + i);
        let line = trim_end(&text[line_start..line_end]);
        if line == b"{" && header_ends_in_paren(&text[prev_end..line_start]) {
            let cut = body_end(text, line_start + 1);
            // A body that cannot be cut is kept whole, up to the next line
            // starting with `}`.
            let Some(close) = cut.or_else(|| next_closing_line(text, line_end)) else {
                break;
            };
            let end = memchr::memchr(b'\n', &text[close..]).map_or(text.len(), |i| close + i);
            // The declarator starts after the last `;` or `}` before it.
            let decl = text[prev_end..line_start]
                .iter()
                .rposition(|&b| b == b';' || b == b'}')
                .map_or(prev_end, |i| prev_end + i + 1);
            if decl > prev_end {
                out.push(Node {
                    text: prev_end..decl,
                    head: prev_end..decl,
                    inner: None,
                });
            }
            out.push(Node {
                text: decl..end,
                head: decl..line_start,
                inner: cut.map(|close| line_start + 1..close),
            });
            prev_end = end;
            line_start = end + 1;
            continue;
        }
        line_start = line_end + 1;
    }
    if prev_end < text.len() {
        out.push(Node {
            text: prev_end..text.len(),
            head: prev_end..text.len(),
            inner: None,
        });
    }
    out
}

/// The offset of the next `}` at the start of a line after `from`.
fn next_closing_line(text: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(&text[from..], b"\n}").map(|i| from + i + 1)
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &s[..n]
}

/// Whether the last significant byte before a `{` line is `)`: a
/// function's declarator (or an attribute after it), not an initialiser.
fn header_ends_in_paren(head: &[u8]) -> bool {
    let mut s = trim_end(head);
    // Trailing block comments (`/* ... */` after the declarator).
    while s.ends_with(b"*/") {
        match memchr::memmem::rfind(s, b"/*") {
            Some(i) => s = trim_end(&s[..i]),
            None => return false,
        }
    }
    s.last() == Some(&b')')
}

/// The offset of the `}` that closes a body opened just before `from`: the
/// first line starting with `}`, if braces are balanced up to it (comments,
/// strings and character literals skipped) and no directive comes first.
fn body_end(text: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    // At column 0 (the byte before `from` ends the `{` line).
    let mut at_line_start = false;
    while i < text.len() {
        let c = text[i];
        if at_line_start {
            if c == b'}' {
                return (depth == 0).then_some(i);
            }
            if c == b'#' {
                return None;
            }
            at_line_start = false;
        }
        match c {
            b'\n' => {
                at_line_start = true;
                i += 1;
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                let end = memchr::memmem::find(&text[i + 2..], b"*/")?;
                i += end + 4;
            }
            b'/' if text.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &text[i..]).map_or(text.len(), |n| i + n);
            }
            b'"' | b'\'' => {
                i += 1;
                while i < text.len() && text[i] != c && text[i] != b'\n' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Identifiers of `s`, each with whether `(` follows it.
fn idents(s: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() {
            let c = s[i];
            if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                    i += 1;
                }
                let mut j = i;
                while j < s.len() && (s[j] == b' ' || s[j] == b'\t') {
                    j += 1;
                }
                return Some((&s[start..i], s.get(j) == Some(&b'(')));
            }
            if c.is_ascii_digit() {
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(src: &str) -> String {
        let mut t = src.as_bytes().to_vec();
        let locks = |s: &[u8]| memchr::memmem::find(s, b"mmap_read_lock").is_some();
        let relevant = |s: &[u8]| locks(s) || memchr::memmem::find(s, b"vm_fault").is_some();
        let p = plan(
            &t,
            &Slice {
                relevant: &relevant,
                locks: &locks,
                vma_struct: "vm_area_struct",
            },
        );
        blank(&mut t, &p);
        String::from_utf8(t).unwrap()
    }

    #[test]
    fn blanks_only_unrelated_bodies() {
        let src = "static int helper(int x)\n{\n\treturn x + 1;\n}\n\n\
                   static int unrelated(int y)\n{\n\treturn y * 2;\n}\n\n\
                   static void locker(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\thelper(1);\n}\n\n\
                   static void caller(struct mm_struct *mm)\n{\n\tlocker(mm);\n}\n";
        let out = kept(src);
        assert_eq!(out.len(), src.len());
        assert!(out.contains("return x + 1;"), "callee kept:\n{out}");
        assert!(!out.contains("return y * 2;"), "unrelated blanked:\n{out}");
        assert!(out.contains("mmap_read_lock(mm);"));
        assert!(out.contains("locker(mm);"), "caller kept:\n{out}");
    }

    #[test]
    fn initialisers_and_unbalanced_bodies_are_never_blanked() {
        let src = "static const struct ops o =\n{\n\t.x = 1,\n};\n\n\
                   static int f(void)\n{\n#ifdef X\n\treturn 1;\n#endif\n\treturn 0;\n}\n\n\
                   static int g(void)\n{\n\treturn 2;\n}\n";
        let out = kept(src);
        assert!(out.contains(".x = 1,"));
        assert!(out.contains("return 1;"));
        assert!(!out.contains("return 2;"));
    }

    #[test]
    fn callers_of_what_only_names_the_fault_struct_are_blanked() {
        let src = "static int step(void)\n{\n\treturn 3;\n}\n\n\
                   static vm_fault_t handler(struct vm_fault *vmf)\n{\n\treturn step();\n}\n\n\
                   static int caller(void)\n{\n\treturn handler(0);\n}\n";
        let out = kept(src);
        assert!(out.contains("return step();"), "a seed is kept:\n{out}");
        assert!(out.contains("return 3;"), "its callees are kept:\n{out}");
        assert!(!out.contains("return handler(0);"), "{out}");
    }

    #[test]
    fn definitions_taking_a_vma_are_kept_with_their_callees() {
        let src = "static int inner(void)\n{\n\treturn 1;\n}\n\n\
                   int takes(struct vm_area_struct *vma)\n{\n\treturn inner();\n}\n\n\
                   int other(void)\n{\n\treturn 2;\n}\n";
        let out = kept(src);
        assert!(out.contains("return 1;"), "{out}");
        assert!(out.contains("return inner();"), "{out}");
        assert!(!out.contains("return 2;"), "{out}");
    }

    #[test]
    fn one_line_functions_between_bodies_keep_what_they_call() {
        let src = "static int a(void)\n{\n\treturn 1;\n}\n\n\
                   static int b(void)\n{\n\treturn 2;\n}\n\n\
                   static inline void c(struct mm_struct *mm) { mmap_read_lock(mm); a(); }\n\n\
                   static void d(struct mm_struct *mm)\n{\n\tc(mm);\n}\n\n\
                   static void e(void)\n{\n\tb();\n}\n";
        let out = kept(src);
        assert!(out.contains("return 1;"), "callee of a seed kept:\n{out}");
        assert!(
            out.contains("c(mm);"),
            "caller of a one-line seed kept:\n{out}"
        );
        assert!(!out.contains("return 2;"), "{out}");
        assert!(!out.contains("b();"), "{out}");
    }
}
