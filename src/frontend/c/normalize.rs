//! Offset-preserving rewrites of kernel macro shapes (see
//! `kernel_macros.toml`). Two linear passes: one lexes (code mask and
//! bracket matching), one rewrites identifiers in place.

use super::table::{table, IterSpec, MacroKind};
use foldhash::{HashMap, HashMapExt};

/// An iterator macro rewritten to `while`.
#[derive(Debug, Clone)]
pub struct IterSite {
    /// The macro name as written.
    pub name: String,
    pub spec: IterSpec,
}

pub struct Normalized {
    pub text: Vec<u8>,
    /// Iterator sites keyed by the byte offset of the macro name.
    pub iters: HashMap<usize, IterSite>,
    /// Declaration macros (`DEFINE_WAIT(w);` → `T__________ w ;`) keyed by
    /// the offset of the placeholder type; the value is the macro name.
    pub decls: HashMap<usize, String>,
}

const C_KEYWORDS: &[&[u8]] = &[
    b"if",
    b"while",
    b"for",
    b"switch",
    b"return",
    b"sizeof",
    b"case",
    b"do",
    b"else",
    b"goto",
    b"typeof",
    b"__typeof__",
    b"__typeof",
    b"_Alignof",
    b"alignof",
    b"offsetof",
    b"__builtin_offsetof",
    b"_Generic",
    b"asm",
    b"__asm__",
    b"__asm",
    b"volatile",
    b"__volatile__",
    b"_Static_assert",
    b"static_assert",
    b"__attribute__",
    b"defined",
];

/// Is `s` a type naming a struct/union/enum (`struct x`, `struct x *`)?
fn is_tagged_type(s: &[u8]) -> bool {
    let t = s.trim_ascii();
    let rest = [&b"struct"[..], b"union", b"enum"]
        .iter()
        .find_map(|k| t.strip_prefix(*k));
    let Some(rest) = rest else { return false };
    if !rest.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return false;
    }
    let rest = rest.trim_ascii_start();
    let l = rest.iter().take_while(|&&c| is_ident(c)).count();
    l > 0
        && rest[l..]
            .iter()
            .all(|&c| c == b'*' || c.is_ascii_whitespace())
}

pub(super) const NONE: u32 = u32::MAX;

pub(super) struct Lexed {
    /// `true` for bytes of code (not comment, string or char literal).
    pub code: Vec<bool>,
    /// For each bracket, the offset of its match (or NONE).
    pub close: Vec<u32>,
}

pub(super) fn lex(b: &[u8]) -> Lexed {
    let n = b.len();
    let mut code = vec![true; n];
    let mut close = vec![NONE; n];
    let mut stack: Vec<usize> = Vec::new();
    // Per bracket kind, the indices into `stack` of its openers, so that
    // finding the nearest opener of a kind is O(1) (a scan of `stack` made
    // `((((...]]]]` quadratic).
    let mut by_kind: [Vec<usize>; 3] = Default::default();
    let kind = |c: u8| match c {
        b'(' | b')' => 0,
        b'[' | b']' => 1,
        _ => 2,
    };
    let mut i = 0;
    while i < n {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < n && b[i] != b'\n' {
                    code[i] = false;
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let st = i;
                i += 2;
                while i < n && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(n);
                code[st..i].fill(false);
                continue;
            }
            b'"' | b'\'' => {
                let st = i;
                i += 1;
                while i < n && b[i] != c && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(n);
                code[st..i].fill(false);
                continue;
            }
            b'(' | b'[' | b'{' => {
                by_kind[kind(c)].push(stack.len());
                stack.push(i);
            }
            b')' | b']' | b'}' => {
                // Pop to the nearest matching opener; unmatched closers are ignored.
                if let Some(&k) = by_kind[kind(c)].last() {
                    close[stack[k]] = i as u32;
                    close[i] = stack[k] as u32;
                    stack.truncate(k);
                    for v in &mut by_kind {
                        while v.last().is_some_and(|&x| x >= k) {
                            v.pop();
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Lexed { code, close }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Blank `r` to spaces, keeping newlines.
fn blank(b: &mut [u8], r: std::ops::Range<usize>) {
    for x in &mut b[r] {
        if *x != b'\n' {
            *x = b' ';
        }
    }
}

/// Replace a type argument by a same-length placeholder identifier (`T___`).
fn placeholder(b: &mut [u8], mut s: usize, mut e: usize) {
    while s < e && b[s].is_ascii_whitespace() {
        s += 1;
    }
    while e > s && b[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    if s == e {
        return;
    }
    for (k, x) in b[s..e].iter_mut().enumerate() {
        if *x != b'\n' {
            *x = if k == 0 { b'T' } else { b'_' };
        }
    }
}

struct Scan<'a> {
    b: Vec<u8>,
    lx: &'a Lexed,
}

impl Scan<'_> {
    /// Next code byte at or after `i` that is not whitespace.
    fn next_sig(&self, mut i: usize) -> Option<usize> {
        while i < self.b.len() {
            if self.lx.code[i] && !self.b[i].is_ascii_whitespace() {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// `(` right after `i` (skipping blanks) and its matching `)`.
    fn parens(&self, i: usize) -> Option<(usize, usize)> {
        let o = self.next_sig(i)?;
        if self.b[o] != b'(' || self.lx.close[o] == NONE || (self.lx.close[o] as usize) < o {
            return None;
        }
        Some((o, self.lx.close[o] as usize))
    }

    /// Is the word before `i` (skipping blanks) `do`?
    fn after_do(&self, i: usize) -> bool {
        let mut j = i;
        while j > 0 && (!self.lx.code[j - 1] || self.b[j - 1].is_ascii_whitespace()) {
            j -= 1;
        }
        j >= 2 && &self.b[j - 2..j] == b"do" && (j == 2 || !is_ident(self.b[j - 3]))
    }

    /// Top-level argument ranges of the list `(open, close)`.
    fn args(&self, open: usize, close: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut st = open + 1;
        let mut i = open + 1;
        while i < close {
            if self.lx.code[i] {
                match self.b[i] {
                    b'(' | b'[' | b'{'
                        if self.lx.close[i] != NONE && self.lx.close[i] as usize > i =>
                    {
                        i = self.lx.close[i] as usize;
                    }
                    b',' => {
                        out.push((st, i));
                        st = i + 1;
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        out.push((st, close));
        out
    }
}

/// Blank bytes that cannot be C: control characters other than whitespace
/// (NUL, ...) and U+FFFD, which stands for invalid UTF-8 in the lossily
/// decoded text. They are never part of a valid token, and tree-sitter's
/// error recovery is very slow on long runs of them (a 100 KB file of
/// random bytes took seconds). Inside comments and literals they are
/// blanked too: their content is never analysed. Returns whether anything
/// was blanked.
pub fn blank_stray(b: &mut [u8]) -> bool {
    const FFFD: &[u8] = "\u{fffd}".as_bytes();
    let mut any = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) || c == 0x7f {
            b[i] = b' ';
            any = true;
        } else if c == FFFD[0] && b[i..].starts_with(FFFD) {
            b[i..i + 3].fill(b' ');
            any = true;
            i += 3;
            continue;
        }
        i += 1;
    }
    any
}

/// Blank non-ASCII characters in code (outside comments and literals).
/// C code has none there (Linux has none in mm/, fs/, kernel/, arch/x86,
/// drivers/gpu); in binary junk they are mostly letters, which tree-sitter
/// takes as identifier characters, and its error recovery over such junk
/// was several times slower. A multi-byte character is code or not as a
/// whole, so the text stays valid UTF-8.
fn blank_non_ascii_code(b: &mut [u8], code: &[bool]) {
    for (c, &is_code) in b.iter_mut().zip(code) {
        if is_code && *c >= 0x80 {
            *c = b' ';
        }
    }
}

/// Rewrite kernel macro shapes; `b` keeps its length. Stray bytes (see
/// [`blank_stray`]) and non-ASCII characters in code become spaces.
pub fn normalize(mut b: Vec<u8>) -> Normalized {
    blank_stray(&mut b);
    let lx = lex(&b);
    blank_non_ascii_code(&mut b, &lx.code);
    let t = table();
    let mut sc = Scan { b, lx: &lx };
    let mut iters = HashMap::new();
    let mut decls = HashMap::new();
    let n = sc.b.len();
    let mut last_sig = b';';
    let mut last_sig_pos = 0usize;
    let mut last_word = (0usize, 0usize);
    let mut i = 0;
    while i < n {
        if !lx.code[i] || sc.b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let c = sc.b[i];
        if c.is_ascii_digit() {
            while i < n && (is_ident(sc.b[i]) || sc.b[i] == b'.') {
                i += 1;
            }
            last_sig = b'0';
            continue;
        }
        if c == b'#' {
            // A kept preprocessor conditional: a statement boundary.
            while i < n && sc.b[i] != b'\n' {
                i += if sc.b[i] == b'\\' { 2 } else { 1 };
            }
            last_sig = b';';
            continue;
        }
        if !is_ident(c) {
            last_sig = c;
            last_sig_pos = i;
            i += 1;
            continue;
        }
        let s = i;
        while i < n && is_ident(sc.b[i]) {
            i += 1;
        }
        let e = i;
        let word = String::from_utf8_lossy(&sc.b[s..e]).into_owned();
        let word = word.as_str();
        match t.ident.get(word) {
            Some(MacroKind::Blank) => {
                blank(&mut sc.b, s..e);
                continue;
            }
            Some(MacroKind::BlankCall) => {
                let end = sc.parens(e).map_or(e, |(_, c)| c + 1);
                blank(&mut sc.b, s..end);
                i = end;
                continue;
            }
            Some(MacroKind::Rename(to)) => {
                blank(&mut sc.b, s..e);
                let l = to.len().min(e - s);
                sc.b[s..s + l].copy_from_slice(&to.as_bytes()[..l]);
            }
            Some(MacroKind::TypeArg(k)) => {
                if let Some((o, cl)) = sc.parens(e) {
                    if let Some(&(a, z)) = sc.args(o, cl).get(*k) {
                        placeholder(&mut sc.b, a, z);
                    }
                }
            }
            Some(MacroKind::SyscallDefine) => syscall_define(&mut sc, s, e),
            None if t.is_decl_macro(word)
                && (matches!(last_sig, b';' | b'{' | b'}')
                    || (last_sig == b'a'
                        && matches!(&sc.b[last_word.0..last_word.1], b"static" | b"const")))
                && decl_macro(&mut sc, s, e) =>
            {
                decls.insert(s, word.to_string());
            }
            None => {
                if last_sig != b'a' && last_sig != b'*' && !C_KEYWORDS.contains(&word.as_bytes()) {
                    if let Some((o, cl)) = sc.parens(e) {
                        for (a, z) in sc.args(o, cl) {
                            if is_tagged_type(&sc.b[a..z]) {
                                placeholder(&mut sc.b, a, z);
                            }
                        }
                    }
                }
                let stmt_ctx = matches!(last_sig, b';' | b'{' | b'}' | b')' | b':')
                    || (last_sig == b'a'
                        && matches!(&sc.b[last_word.0..last_word.1], b"else" | b"do"));
                if stmt_ctx && e - s >= 5 {
                    if let Some(spec) = t.iterator(word) {
                        if let Some((o, cl)) = sc.parens(e) {
                            let after = sc.next_sig(cl + 1).map(|p| sc.b[p]);
                            let body = matches!(after, Some(c) if c == b'{' || is_ident(c)
                                || matches!(c, b'(' | b'*' | b'+' | b'-'));
                            // `do { ... } for_each_x(...);`: the do-while condition.
                            let do_while = last_sig == b'}'
                                && after == Some(b';')
                                && lx.close[last_sig_pos] != NONE
                                && sc.after_do(lx.close[last_sig_pos] as usize);
                            if body || do_while {
                                let name = word.to_string();
                                let args = sc.args(o, cl);
                                for &k in &spec.blank_args {
                                    if let Some(&(a, z)) = args.get(k) {
                                        placeholder(&mut sc.b, a, z);
                                    }
                                }
                                blank(&mut sc.b, s..e);
                                sc.b[s..s + 5].copy_from_slice(b"while");
                                iters.insert(s, IterSite { name, spec });
                            }
                        }
                    }
                }
            }
        }
        last_sig = b'a';
        last_word = (s, e);
    }
    Normalized {
        text: sc.b,
        iters,
        decls,
    }
}

/// `NAME(var, ...);` → `T___ var      ;` when followed by `;` or `=`.
fn decl_macro(sc: &mut Scan, s: usize, e: usize) -> bool {
    let Some((o, cl)) = sc.parens(e) else {
        return false;
    };
    if !matches!(sc.next_sig(cl + 1).map(|p| sc.b[p]), Some(b';' | b'=')) {
        return false;
    }
    let args = sc.args(o, cl);
    let (a, z) = args[0];
    let var = sc.b[a..z].trim_ascii();
    if var.is_empty() || !var.iter().all(|&c| is_ident(c)) || var[0].is_ascii_digit() {
        return false;
    }
    placeholder(&mut sc.b, s, o);
    sc.b[o] = b' ';
    blank(&mut sc.b, z..cl + 1);
    true
}

/// `SYSCALL_DEFINEn(name, t1, a1, ...)` -> `long name(t1 a1, ...)`.
fn syscall_define(sc: &mut Scan, s: usize, e: usize) {
    let Some((o, cl)) = sc.parens(e) else { return };
    let args = sc.args(o, cl);
    let (ns, ne) = args[0];
    if args.len() == 1 {
        // No parameters: move the name left to make room for `(`.
        let name: Vec<u8> = sc.b[ns..ne]
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let room = cl - s;
        if 5 + name.len() + 1 > room || name.contains(&b'\n') {
            return;
        }
        blank(&mut sc.b, s..cl);
        sc.b[s..s + 5].copy_from_slice(b"long ");
        sc.b[s + 5..s + 5 + name.len()].copy_from_slice(&name);
        sc.b[s + 5 + name.len()] = b'(';
        return;
    }
    blank(&mut sc.b, s..o + 1);
    sc.b[s..s + 4].copy_from_slice(b"long");
    // The comma after the name opens the parameter list.
    sc.b[ne] = b'(';
    // Commas between a type and its parameter name become spaces.
    for (k, &(_, z)) in args.iter().enumerate().skip(1) {
        if k % 2 == 1 && z < cl {
            sc.b[z] = b' ';
        }
    }
}
