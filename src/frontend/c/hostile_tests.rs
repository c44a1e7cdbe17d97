//! Hostile input for the C front end: one regression test per robustness
//! fix (each input used to overflow the stack or take quadratic time), and
//! property tests over arbitrary and mutated C text.
//!
//! Inputs run on a 2 MiB thread (what rayon's workers get) and must finish
//! within [`LIMIT`].

use super::*;
use crate::ir::*;
use crate::source::Span;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Meant for `cargo test --release`; debug builds get more room.
const LIMIT: Duration = Duration::from_secs(if cfg!(debug_assertions) { 200 } else { 10 });

fn defines() -> Defines {
    let mut d = Defines::default();
    for k in ["CONFIG_PER_VMA_LOCK", "CONFIG_MMU", "CONFIG_USERFAULTFD"] {
        d.defined.insert(k.to_string(), "1".to_string());
    }
    d
}

/// Run `f` on a 2 MiB thread; fail if it panics or takes longer than
/// [`LIMIT`].
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    match rx.recv_timeout(LIMIT) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no result after {:?}", start.elapsed())
        }
        Err(_) => panic!("{what}: panicked (or overflowed its stack)"),
    }
}

fn lower_src(src: String) -> (SourceFile, Unit) {
    let f = SourceFile::new("t.c", src);
    let u = lower_file(&f, &defines());
    (f, u)
}

fn lower_bounded(what: &str, src: String) -> (SourceFile, Unit) {
    let (f, u) = bounded(what, move || lower_src(src));
    check_ir(&f, &u).unwrap_or_else(|e| panic!("{what}: {e}"));
    (f, u)
}

/// The IR invariants every lowered unit must satisfy.
fn check_ir(file: &SourceFile, unit: &Unit) -> Result<(), String> {
    let len = file.text.len() as u32;
    let span_ok = |what: &str, s: Span| {
        if s.start <= s.end && s.end <= len {
            Ok(())
        } else {
            Err(format!("{what} span {s:?} outside the file (length {len})"))
        }
    };
    for r in &unit.registrations {
        span_ok("registration", r.span)?;
    }
    for f in &unit.functions {
        let name = &f.name;
        span_ok(name, f.span)?;
        span_ok(name, f.name_span)?;
        for v in f.params.iter().chain(&f.locals) {
            span_ok(&v.name, v.span)?;
        }
        if f.blocks.is_empty() {
            return Err(format!("{name}: no blocks"));
        }
        let n = f.blocks.len();
        for (i, b) in f.blocks.iter().enumerate() {
            for s in &b.stmts {
                span_ok(name, s.span)?;
                if let StmtKind::Call {
                    args, arg_spans, ..
                } = &s.kind
                {
                    if args.len() != arg_spans.len() {
                        return Err(format!("{name} bb{i}: args and arg spans differ"));
                    }
                    for a in arg_spans {
                        span_ok(name, *a)?;
                    }
                }
            }
            match &b.term {
                Terminator::None => return Err(format!("{name} bb{i}: Terminator::None")),
                Terminator::Branch {
                    cond, stmt_span, ..
                } => {
                    span_ok(name, cond.span)?;
                    if let Some(s) = stmt_span {
                        span_ok(name, *s)?;
                    }
                }
                Terminator::Return { span, .. } => span_ok(name, *span)?,
                _ => {}
            }
            if let Some(s) = b.term.successors().into_iter().find(|&s| s >= n) {
                return Err(format!("{name} bb{i}: successor bb{s} of {n} blocks"));
            }
        }
    }
    Ok(())
}

const PRE: &str =
    "static void f(struct mm_struct *mm, struct vm_area_struct *vma)\n{\n\tmmap_read_lock(mm);\n";
const POST: &str = "\n\tmmap_read_unlock(mm);\n}\n";

fn in_fn(body: &str) -> String {
    format!("{PRE}{body}{POST}")
}

// ---- regressions: one per fix ----

/// `x & (A | A | ...)`: the mask was collected recursively (stack
/// overflow at ~100,000 terms).
#[test]
fn deep_mask_does_not_overflow() {
    let terms = vec!["A"; 100_000].join("|");
    let (_, u) = lower_bounded("mask", in_fn(&format!("\tif (x & ({terms}))\n\t\ty = 1;")));
    let f = &u.functions[0];
    let mask = f.blocks.iter().find_map(|b| match &b.term {
        Terminator::Branch {
            cond:
                Cond {
                    kind: CondKind::BitTest { mask, .. },
                    ..
                },
            ..
        } => Some(mask.len()),
        _ => None,
    });
    assert_eq!(mask, Some(100_000));
}

/// `vma->f->f->...` beyond the depth bound is an opaque region; its place
/// was built by cloning the chain at every arrow (quadratic: minutes at
/// 100,000 arrows) and kept whole (quadratic again in the analysis).
#[test]
fn long_arrow_chain_is_linear_and_capped() {
    let chain = "->f".repeat(100_000);
    let (_, u) = lower_bounded("arrows", in_fn(&format!("\tx = vma{chain};")));
    for b in &u.functions[0].blocks {
        for s in &b.stmts {
            if let StmtKind::Opaque { places, .. } = &s.kind {
                for p in places {
                    assert!(p.proj.len() <= lower::MAX_SCANNED_PROJ, "{}", p.proj.len());
                }
            }
        }
    }
}

/// Many unmatched closers of another kind: `((((...]]]]`. The lexer
/// searched the whole bracket stack for each closer (quadratic).
#[test]
fn unmatched_closers_are_linear() {
    let n = 200_000;
    let src = in_fn(&format!("\tx = {}{};", "(".repeat(n), "]".repeat(n)));
    let len = src.len();
    let out = bounded("lex", move || normalize::normalize(src.into_bytes()).text);
    assert_eq!(out.len(), len);
}

/// Bracket matching is unchanged by the per-kind stacks: nearest opener
/// of the same kind, openers above it dropped, stray closers ignored.
#[test]
fn bracket_matching_pops_to_the_nearest_opener() {
    let b = b"( [ { ) ] }";
    let lx = normalize::lex(b);
    assert_eq!(lx.close[0], 6); // `(` .. `)`, dropping `[` and `{`
    assert_eq!(lx.close[2], normalize::NONE);
    assert_eq!(lx.close[4], normalize::NONE);
    assert_eq!(lx.close[8], normalize::NONE); // `]` has no opener left
}

/// 100,000 nested known conditionals: each directive scanned the whole
/// stack of open conditionals (quadratic).
#[test]
fn deep_known_conditionals_are_linear() {
    let n = 100_000;
    let src = format!(
        "{}{PRE}{POST}{}",
        "#ifdef CONFIG_MMU\n".repeat(n),
        "#endif\n".repeat(n)
    );
    let (_, u) = lower_bounded("ifdefs", src);
    assert_eq!(u.functions.len(), 1);
    let src = format!(
        "{}{}{PRE}{POST}{}",
        "#if 1\n".repeat(n),
        "#define X 1\n".repeat(n),
        "#endif\n".repeat(n)
    );
    let (_, u) = lower_bounded("defines", src);
    assert_eq!(u.functions.len(), 1);
}

/// Local defines inside an unknown conditional are unknown; after its
/// `#endif` they are known again (the open-unknown count follows the
/// stack).
#[test]
fn defines_after_an_unknown_conditional_are_known() {
    let src = "#ifdef CONFIG_UNKNOWN_X\n#define A 1\n#endif\n#define B 1\n#if B\nint kept;\n#endif\n#if A\nint maybe;\n#endif\n";
    let out = preproc::preprocess(src.as_bytes(), &defines(), false);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("int kept;"));
    assert!(!out.contains("#if B"));
    assert!(out.contains("#if A"), "{out}");
}

/// A chain of 100,000 forwarding `goto` blocks: each was followed to its
/// end separately (quadratic; over a minute).
#[test]
fn goto_chains_are_linear() {
    let n = 100_000;
    let mut body = String::from("\tgoto l0;\n");
    for i in 0..n {
        body.push_str(&format!("l{i}:\n\tgoto l{};\n", i + 1));
    }
    body.push_str(&format!("l{n}:\n\tx = vma->vm_flags;"));
    let (_, u) = lower_bounded("goto chain", in_fn(&body));
    // Threaded: the entry jumps straight to the last label.
    let f = &u.functions[0];
    assert!(f.blocks.len() < 10, "{} blocks", f.blocks.len());
    let mut rev = String::from("\tgoto l0;\n");
    for i in (1..=n).rev() {
        rev.push_str(&format!("l{i}:\n\tgoto l{};\n", i - 1));
    }
    rev.push_str("l0:\n\t;");
    lower_bounded("goto chain (reversed)", in_fn(&rev));
}

/// Forwarding blocks in a cycle (`a: goto b; b: goto a;`) stay a cycle.
#[test]
fn goto_cycles_stay_cycles() {
    let (_, u) = lower_bounded("cycle", in_fn("\tgoto a;\na:\n\tgoto b;\nb:\n\tgoto a;\n"));
    let f = &u.functions[0];
    // No path reaches a return.
    assert!(!f
        .blocks
        .iter()
        .any(|b| matches!(b.term, Terminator::Return { .. })));
}

/// An opaque region calling 100,000 distinct functions: the "called
/// names" list was deduplicated by a linear search (quadratic).
#[test]
fn opaque_region_with_many_calls_is_linear() {
    let calls: String = (0..100_000).map(|i| format!("g{i}(vma); ")).collect();
    // Nested deeper than the lowering goes: one opaque region.
    let (open, close) = ("{".repeat(300), "}".repeat(300));
    let (_, u) = lower_bounded("calls", in_fn(&format!("\t{open}{calls}{close}")));
    let n: usize = u.functions[0]
        .blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .map(|s| match &s.kind {
            StmtKind::Opaque { calls, .. } => calls.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    assert!(n >= 10_000, "{n}");
}

/// NUL bytes, other control characters and invalid UTF-8 (U+FFFD after
/// lossy decoding) are blanked: the statements around them lower cleanly
/// and spans are unchanged.
#[test]
fn stray_bytes_are_blanked() {
    let bytes = b"static void f(struct mm_struct *mm)\n{\n\tstruct vm_area_struct *vma;\0\x01\n\tmmap_read_lock(mm); /* \xc3\xa9 */\n\tvma = find_vma(mm, 0);\n\tmmap_read_unlock(mm); \xff\xfe\n\tx = \xc3\xa9\xe9 vma->vm_start;\x7f\n}\n";
    let file = SourceFile::from_bytes("t.c", bytes);
    let u = lower_file(&file, &defines());
    check_ir(&file, &u).unwrap();
    let f = &u.functions[0];
    assert_eq!(f.opaque_regions, 0, "{}", f.dump());
    let dump = f.dump();
    assert!(dump.contains("x = vma->vm_start"), "{dump}");
    let at = file.text.find("vma->vm_start").unwrap();
    let uses = f.blocks.iter().flat_map(|b| &b.stmts).any(|s| {
        matches!(&s.kind, StmtKind::Assign { .. })
            && s.span.start as usize <= at
            && at < s.span.end as usize
    });
    assert!(uses);
    let mut b = "a\0b\u{fffd}c\u{1}é\n".as_bytes().to_vec();
    assert!(normalize::blank_stray(&mut b));
    assert_eq!(b, "a b   c é\n".as_bytes());
    // Non-ASCII is blanked in code only.
    let out = normalize::normalize("x = é; /* é */ s = \"é\";".as_bytes().to_vec()).text;
    assert_eq!(out, "x =   ; /* é */ s = \"é\";".as_bytes());
}

/// Token soup tree-sitter's error recovery is slow on (seconds for 64 KB,
/// superlinear): the parse budget cuts it and the file is parsed in
/// chunks; real code around it still lowers.
#[test]
fn token_soup_is_bounded() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let words = ["a", "bb", "c1", "d_", "e", "*", "(", ")", "=", "+"];
    let mut soup = String::new();
    for _ in 0..20_000 {
        for _ in 0..8 {
            soup.push_str(words[(next() % words.len() as u64) as usize]);
            soup.push(' ');
        }
        soup.push('\n');
    }
    let clean = in_fn("\tx = vma->vm_flags;");
    let src = format!("{clean}{soup}{clean}");
    let text = src.clone().into_bytes();
    let len = text.len();
    let ends = bounded("soup parse", move || {
        budget::parse_bounded(&text)
            .iter()
            .map(|t| t.root_node().end_byte())
            .collect::<Vec<_>>()
    });
    // Parsed in chunks: the first one (up to the `}` of `f`) fits its
    // budget, the soup does not.
    assert!(
        !ends.is_empty() && ends.iter().all(|&e| e < len),
        "the budget should have cut the whole-file parse: {ends:?}"
    );
    let (_, u) = lower_bounded("soup", src);
    assert!(!u.functions.is_empty());
    assert_eq!(u.functions[0].name, "f");
    assert_eq!(u.functions[0].opaque_regions, 0);
}

/// A few unclosed `(` make tree-sitter turn the rest of the file into one
/// ERROR node: every function after them was lost (0 functions for the
/// file). Parsed again in top-level pieces, they are found.
#[test]
fn functions_after_an_unrecoverable_error_are_found() {
    let src = "static void host(struct mm_struct *mm)\n{\n\tx = ((((1;\n\tmmap_read_unlock(mm);\n}\n\nstatic int g(struct vm_area_struct *vma)\n{\n\treturn vma->vm_flags;\n}\n\nstatic int h(void)\n{\n\treturn 1;\n}\n";
    let (_, u) = lower_bounded("unclosed", src.to_string());
    let names: Vec<&str> = u.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(names.ends_with(&["g", "h"]), "{names:?}");
    assert!(u
        .functions
        .iter()
        .all(|f| f.name != "g" || f.opaque_regions == 0));
    let pieces = budget::top_level_pieces(src.as_bytes());
    assert_eq!(pieces.len(), 3);
    assert_eq!(
        &src[pieces[1].clone()],
        "\nstatic int g(struct vm_area_struct *vma)\n{\n\treturn vma->vm_flags;\n}\n"
    );
}

/// Where the budget cuts does not depend on what the thread parsed before
/// (a reused parser keeps pools of freed nodes, which changes how many
/// allocations the next parse makes).
#[test]
fn budget_cut_does_not_depend_on_history() {
    let soup = {
        let words = ["a", "bb", "(", ")", "=", "*", "+", "c1"];
        let mut x = 7u64;
        let mut s = String::new();
        for i in 0..60_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(words[(x % 8) as usize]);
            s.push(if i % 9 == 8 { '\n' } else { ' ' });
        }
        in_fn(&s)
    };
    let shape = |text: &[u8]| -> Vec<(usize, usize, String)> {
        budget::parse_bounded(text)
            .iter()
            .map(|t| {
                let r = t.root_node();
                (r.start_byte(), r.end_byte(), r.to_sexp())
            })
            .collect()
    };
    let first = shape(soup.as_bytes());
    for other in [in_fn("\tx = vma->vm_flags;"), "}}}} ((((".repeat(5_000)] {
        shape(other.as_bytes());
        assert!(shape(soup.as_bytes()) == first);
    }
}

/// Real code parses in one piece, within the budget.
#[test]
fn real_code_parses_whole() {
    let mut src = String::new();
    for i in 0..2_000 {
        src.push_str(&in_fn(&format!(
            "\tif (vma->vm_flags & VM_SHARED)\n\t\tx{i} = ({i} + y) * z[{i}];"
        )));
    }
    assert_eq!(budget::parse_bounded(src.as_bytes()).len(), 1);
}

#[test]
fn chunks_cut_at_lines_preferring_closing_braces() {
    let line = "x = 1;\n";
    let mut text = String::new();
    while text.len() < budget::CHUNK / 2 {
        text.push_str(line);
    }
    text.push_str("}\n");
    let brace_end = text.len();
    while text.len() < budget::CHUNK * 3 {
        text.push_str(line);
    }
    let cs = budget::chunks(text.as_bytes());
    assert_eq!(cs[0], 0..brace_end);
    for w in cs.windows(2) {
        assert_eq!(w[0].end, w[1].start);
    }
    assert_eq!(cs.last().unwrap().end, text.len());
    for c in &cs {
        assert!(c.start == 0 || text.as_bytes()[c.start - 1] == b'\n');
    }
    assert_eq!(budget::chunks(b""), vec![0..0]);
    assert_eq!(budget::chunks(b"no newline"), vec![0..10]);
}

// ---- property tests ----

/// Plain tokens: no macro of the table, no `struct`/`union`/`enum`, no
/// iterator-like names; normalisation must leave them alone.
const PLAIN: &[&str] = &[
    "a",
    "vma",
    "mm",
    "ret",
    "x1",
    "foo_bar",
    "vmf",
    "flags",
    "if",
    "else",
    "while",
    "for",
    "do",
    "return",
    "goto",
    "out",
    "int",
    "long",
    "unsigned",
    "static",
    "const",
    "void",
    "0",
    "42",
    "0x1f",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ";",
    ",",
    "->",
    ".",
    "*",
    "&",
    "|",
    "&&",
    "||",
    "!",
    "=",
    "==",
    "+",
    "-",
    "<",
    ">",
    "?",
    ":",
    "#",
    "#if X",
    "#endif",
    "#define Y 1",
    "\"str\"",
    "'c'",
    "\"",
    "'",
    "/* c */",
    "// c",
    "/*",
    "*/",
    "\\",
    " ",
    "\t",
    "\n",
    "\n\n",
    "é",
    "\u{0}",
    "\u{1b}",
    "\u{fffd}",
    "NULL",
    "VM_FAULT_RETRY",
    "FAULT_FLAG_VMA_LOCK",
];

/// Complete macro uses (balanced, with their argument lists).
const MACROS: &[&str] = &[
    "__user",
    "__must_check",
    "__acquires(x)",
    "__attribute__((unused))",
    "asm_inline",
    "container_of(p, struct page, lru)",
    "min_t(unsigned long, a, b)",
    "list_for_each_entry(pos, head, member) {",
    "for_each_vma(vmi, vma) {",
    "scoped_guard(mutex, &m) {",
    "DEFINE_WAIT(w);",
    "VMA_ITERATOR(vmi, mm, 0);",
    "SYSCALL_DEFINE2(mprotect, unsigned long, start, size_t, len)",
    "SYSCALL_DEFINE0(sync)",
    "likely(x)",
    "READ_ONCE(vma->vm_flags)",
];

fn is_stray(s: &str) -> bool {
    s.chars()
        .any(|c| c == '\u{fffd}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
}

fn token_stream() -> impl Strategy<Value = (String, Vec<std::ops::Range<usize>>)> {
    let tok = prop_oneof![
        8 => (0..PLAIN.len()).prop_map(|i| (PLAIN[i], false)),
        1 => (0..MACROS.len()).prop_map(|i| (MACROS[i], true)),
    ];
    proptest::collection::vec(tok, 0..120).prop_map(|toks| {
        let mut s = String::new();
        let mut macros = Vec::new();
        for (t, is_macro) in toks {
            // Separate tokens so that none merges into a macro name.
            s.push(' ');
            let start = s.len();
            s.push_str(t);
            if is_macro {
                macros.push(start..s.len());
            }
        }
        (s, macros)
    })
}

fn mutate(src: &[u8], muts: &[(u8, usize, usize, usize)]) -> Vec<u8> {
    const INSERT: &[&str] = &[
        "{",
        "}",
        "(",
        ")",
        ";",
        "#if X\n",
        "#else\n",
        "#endif\n",
        "goto out;",
        "out:",
        "if (",
        "else ",
        "/*",
        "*/",
        "\"",
        "'",
        "\\\n",
        "\0",
        "\u{fffd}",
        "switch (x) {",
        "case 1:",
        "default:",
        "do {",
        "} while (0);",
        "for (;;)",
        "return ",
        "break;",
        "continue;",
        "list_for_each_entry(a, b, c)",
        "scoped_guard(x) ",
        "DEFINE_WAIT(w);",
        "({ ",
        " })",
        " ? ",
        " : ",
        " && ",
        " || ",
        "->",
        "vma",
        "vmf->flags & FAULT_FLAG_VMA_LOCK",
        "mmap_read_unlock(mm);",
        "vma_end_read(vma);",
        "release_fault_lock(vmf);",
        "return VM_FAULT_RETRY;",
        "static int g(void)\n{\n",
        "SYSCALL_DEFINE1(x, int, a)",
    ];
    let mut b = src.to_vec();
    for &(kind, at, len, tok) in muts {
        let at = if b.is_empty() { 0 } else { at % (b.len() + 1) };
        let end = (at + len % 64).min(b.len());
        match kind % 5 {
            0 => {
                b.drain(at..end);
            }
            1 => {
                let t = INSERT[tok % INSERT.len()].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            2 => {
                let dup: Vec<u8> = b[at..end].to_vec();
                b.splice(at..at, dup);
            }
            3 => b.truncate(at),
            _ => {
                if at < b.len() {
                    b[at] = (tok % 256) as u8;
                }
            }
        }
    }
    b
}

fn fixtures() -> &'static [(String, Vec<u8>)] {
    static FIX: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FIX.get_or_init(|| {
        let mut out = Vec::new();
        let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c")];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "c") {
                    out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        assert!(!out.is_empty(), "no fixtures found");
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary text: same length, newlines exactly where they were,
    /// valid UTF-8 stays valid.
    #[test]
    fn normalize_keeps_length_and_lines(s in any::<String>()) {
        let out = normalize::normalize(s.clone().into_bytes()).text;
        prop_assert_eq!(out.len(), s.len());
        for (i, (&a, &b)) in s.as_bytes().iter().zip(&out).enumerate() {
            prop_assert_eq!(a == b'\n', b == b'\n', "newline changed at {}", i);
        }
        prop_assert!(std::str::from_utf8(&out).is_ok());
    }

    /// Every byte outside a macro use is kept (stray bytes become
    /// spaces); inside one, newlines are kept.
    #[test]
    fn normalize_changes_only_macros((s, macros) in token_stream()) {
        let out = normalize::normalize(s.clone().into_bytes()).text;
        prop_assert_eq!(out.len(), s.len());
        let in_macro = |i: usize| macros.iter().any(|r| r.contains(&i));
        for (i, c) in s.char_indices() {
            let n = c.len_utf8();
            let got = &out[i..i + n];
            if in_macro(i) {
                if c == '\n' {
                    prop_assert_eq!(got, b"\n");
                }
            } else if is_stray(&c.to_string()) {
                prop_assert!(got.iter().all(|&b| b == b' '), "stray {:?} at {} not blanked", c, i);
            } else if !c.is_ascii() && got.iter().all(|&b| b == b' ') {
                // Non-ASCII in code is blanked (in comments and literals it
                // is kept; which one this is depends on the context).
            } else {
                let want = c.to_string();
                prop_assert_eq!(got, want.as_bytes(), "byte {} changed in {:?}", i, s);
            }
        }
    }

    /// Lowering arbitrary text never panics and gives well-formed IR.
    #[test]
    fn lowering_arbitrary_text(b in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let f = SourceFile::from_bytes("t.c", &b);
        let u = lower_file(&f, &defines());
        prop_assert!(check_ir(&f, &u).is_ok(), "{:?}", check_ir(&f, &u));
    }

    /// Lowering plain-token soup (the shapes C has) never panics and gives
    /// well-formed IR.
    #[test]
    fn lowering_token_soup((s, _) in token_stream()) {
        let (f, u) = lower_src(format!("{PRE}{s}{POST}"));
        prop_assert!(check_ir(&f, &u).is_ok(), "{:?}", check_ir(&f, &u));
    }

    /// Mutated fixtures (real-looking C with deletions, duplications,
    /// truncations, stray bytes and inserted C fragments) lower to
    /// well-formed IR.
    #[test]
    fn lowering_mutated_fixtures(
        which in any::<usize>(),
        muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<usize>()), 1..8),
    ) {
        let fx = fixtures();
        let (_, src) = &fx[which % fx.len()];
        let b = mutate(src, &muts);
        let f = SourceFile::from_bytes("t.c", &b);
        let u = lower_file(&f, &defines());
        prop_assert!(check_ir(&f, &u).is_ok(), "{:?}", check_ir(&f, &u));
    }
}

/// Every fixture lowers to well-formed IR as it is.
#[test]
fn fixtures_lower_to_well_formed_ir() {
    for (path, src) in fixtures() {
        let f = SourceFile::from_bytes(path.as_str(), src);
        let u = lower_file(&f, &defines());
        check_ir(&f, &u).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}
