//! Preprocessor pass: evaluates `#if`/`#ifdef`/... against [`Defines`] and
//! blanks what tree-sitter must not see, keeping every byte offset.
//!
//! * known-false branches and the directives of known conditionals are
//!   replaced by spaces (newlines kept);
//! * unknown conditionals are kept, so tree-sitter parses them as
//!   `preproc_if`/`preproc_ifdef` (lowered as alternatives), except inside
//!   initialiser braces, where all branches are kept and the directives
//!   blanked (the union of the fields);
//! * `#define`, `#undef`, `#include`, `#pragma`, ... are blanked; in-file
//!   `#define`/`#undef` are remembered for later conditions.

use crate::frontend::Defines;
use foldhash::{HashMap, HashMapExt};

#[derive(Clone)]
enum Local {
    Defined(String),
    Undefined,
    Unknown,
}

struct Frame {
    parent_live: bool,
    kept_open: bool,
    taken: bool,
    union: bool,
}

/// Brace/comment tracking over live code lines.
#[derive(Default)]
struct Lexer {
    in_comment: bool,
    /// One entry per open brace: is it an initialiser brace?
    braces: Vec<bool>,
    parens: u32,
    last_sig: u8,
}

impl Lexer {
    fn in_init(&self) -> bool {
        self.braces.last().copied().unwrap_or(false)
    }

    /// Scan `s` (one line or a part of one); `track` updates braces.
    fn scan(&mut self, s: &[u8], track: bool) {
        let mut i = 0;
        while i < s.len() {
            let c = s[i];
            if self.in_comment {
                if c == b'*' && s.get(i + 1) == Some(&b'/') {
                    self.in_comment = false;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            match c {
                b'/' if s.get(i + 1) == Some(&b'/') => return,
                b'/' if s.get(i + 1) == Some(&b'*') => {
                    self.in_comment = true;
                    i += 2;
                    continue;
                }
                b'"' | b'\'' => {
                    i += 1;
                    while i < s.len() && s[i] != c {
                        i += if s[i] == b'\\' { 2 } else { 1 };
                    }
                    self.last_sig = c;
                }
                b'{' if track => {
                    let init = self.last_sig == b'='
                        || (matches!(self.last_sig, b',' | b'{' | b'(') && self.in_init());
                    self.braces.push(init);
                    self.last_sig = c;
                }
                b'}' if track => {
                    self.braces.pop();
                    self.parens = 0;
                    self.last_sig = c;
                }
                b'(' if track => {
                    self.parens += 1;
                    self.last_sig = c;
                }
                b')' if track => {
                    self.parens = self.parens.saturating_sub(1);
                    self.last_sig = c;
                }
                b';' if track => {
                    self.parens = 0;
                    self.last_sig = c;
                }
                b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => {}
                _ => self.last_sig = c,
            }
            i += 1;
        }
    }
}

fn blank(out: &mut [u8], r: std::ops::Range<usize>) {
    for b in &mut out[r] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Run the pass; the result has the same length as `src`. With `first`,
/// every unknown conditional takes its first branch (the fallback used
/// when keeping the directives breaks the parse).
pub fn preprocess(src: &[u8], defines: &Defines, first: bool) -> Vec<u8> {
    let mut out = src.to_vec();
    let n = src.len();
    let mut lex = Lexer::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Frames on `stack` that are kept open or unions (kept in step with
    // `stack`, so that a directive does not scan the whole nesting).
    let mut unknown_open = 0usize;
    let mut live = true;
    let mut locals: HashMap<String, Local> = HashMap::new();
    let mut i = 0;
    while i < n {
        let line_end = memchr(b'\n', &src[i..]).map_or(n, |p| i + p);
        let mut j = i;
        while j < line_end && matches!(src[j], b' ' | b'\t') {
            j += 1;
        }
        if lex.in_comment || j >= line_end || src[j] != b'#' {
            if live {
                lex.scan(&src[i..line_end], true);
            } else {
                lex.scan(&src[i..line_end], false);
                blank(&mut out, i..line_end);
            }
            i = line_end + 1;
            continue;
        }
        // A directive: extend over continuation lines and unterminated comments.
        let end = directive_end(src, j);
        let text = &src[j + 1..end];
        let (kw, kw_off, rest) = keyword(text);
        let kw_start = j + 1 + kw_off;
        debug_assert!(
            stack.len() > 64
                || unknown_open == stack.iter().filter(|f| f.kept_open || f.union).count()
        );
        let unknown_frames = unknown_open > 0;
        let in_init = lex.in_init();
        // Inside an expression only one branch can be kept: the first.
        let in_expr = first || lex.parens > 0;
        let mut keep = false;
        match kw {
            "if" | "ifdef" | "ifndef" => {
                let v = if !live {
                    Some(false)
                } else {
                    match kw {
                        "if" => eval(rest, defines, &locals),
                        "ifdef" => lookup_defined(first_ident(rest), defines, &locals),
                        _ => {
                            let name = first_ident(rest);
                            match lookup_defined(name, defines, &locals) {
                                None if is_include_guard(src, end, name) => Some(0),
                                v => v,
                            }
                            .map(|d| (d == 0) as i64)
                        }
                    }
                    .map(|v| v != 0)
                };
                let v = if v.is_none() && in_expr {
                    Some(true)
                } else {
                    v
                };
                let mut f = Frame {
                    parent_live: live,
                    kept_open: false,
                    taken: false,
                    union: false,
                };
                match v {
                    Some(true) => f.taken = true,
                    Some(false) => live = false,
                    None if in_init => f.union = true,
                    None => {
                        f.kept_open = true;
                        keep = true;
                    }
                }
                unknown_open += usize::from(f.kept_open || f.union);
                stack.push(f);
            }
            "elif" | "elifdef" | "elifndef" => {
                if let Some(f) = stack.last_mut() {
                    if !f.parent_live || f.taken {
                        live = false;
                    } else {
                        let v =
                            match kw {
                                "elif" => eval(rest, defines, &locals).map(|v| v != 0),
                                "elifdef" => lookup_defined(first_ident(rest), defines, &locals)
                                    .map(|d| d != 0),
                                _ => lookup_defined(first_ident(rest), defines, &locals)
                                    .map(|d| d == 0),
                            };
                        let v = if v.is_none() && in_expr {
                            Some(true)
                        } else {
                            v
                        };
                        match v {
                            Some(true) => {
                                f.taken = true;
                                live = true;
                                if f.kept_open {
                                    // `#elif X` -> `#else`
                                    out[kw_start..kw_start + 4].copy_from_slice(b"else");
                                    blank(&mut out, kw_start + kw.len()..end);
                                    keep = true;
                                    if kw.len() > 4 {
                                        blank(&mut out, kw_start + 4..kw_start + kw.len());
                                    }
                                }
                            }
                            Some(false) => live = false,
                            None => {
                                live = true;
                                if f.union {
                                } else if f.kept_open {
                                    keep = true;
                                } else {
                                    // `#elif X` -> `#if   X`
                                    out[kw_start..kw_start + kw.len()].fill(b' ');
                                    let new: &[u8] = match kw {
                                        "elif" => b"if",
                                        "elifdef" => b"ifdef",
                                        _ => b"ifndef",
                                    };
                                    out[kw_start..kw_start + new.len()].copy_from_slice(new);
                                    f.kept_open = true;
                                    unknown_open += 1;
                                    keep = true;
                                }
                            }
                        }
                    }
                }
            }
            "else" => {
                if let Some(f) = stack.last_mut() {
                    if !f.parent_live || f.taken {
                        live = false;
                    } else {
                        live = true;
                        keep = f.kept_open;
                    }
                }
            }
            "endif" => {
                if let Some(f) = stack.pop() {
                    unknown_open -= usize::from(f.kept_open || f.union);
                    keep = f.parent_live && f.kept_open;
                    live = f.parent_live;
                }
            }
            "define" if live => {
                let name = first_ident(rest);
                if !name.is_empty() {
                    let value = rest.trim_start()[name.len()..].trim();
                    let v = if unknown_frames {
                        Local::Unknown
                    } else {
                        Local::Defined(value.to_string())
                    };
                    locals.insert(name.to_string(), v);
                }
            }
            "undef" if live => {
                let name = first_ident(rest);
                let v = if unknown_frames {
                    Local::Unknown
                } else {
                    Local::Undefined
                };
                locals.insert(name.to_string(), v);
            }
            _ => {}
        }
        if !keep {
            blank(&mut out, i..end);
        }
        // Track comment state through the directive's lines.
        let mut tmp = Lexer::default();
        tmp.scan(&src[j..end], false);
        lex.in_comment = tmp.in_comment;
        i = end + 1;
    }
    out
}

fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// End (exclusive, at the newline or EOF) of the directive starting at `j`.
fn directive_end(src: &[u8], j: usize) -> usize {
    let n = src.len();
    let mut i = j;
    let mut in_comment = false;
    while i < n {
        let c = src[i];
        if in_comment {
            if c == b'*' && src.get(i + 1) == Some(&b'/') {
                in_comment = false;
                i += 2;
                continue;
            }
        } else if c == b'/' && src.get(i + 1) == Some(&b'*') {
            in_comment = true;
            i += 2;
            continue;
        } else if c == b'/' && src.get(i + 1) == Some(&b'/') {
            // Line comment: runs to the end of the (possibly continued) line.
            while i < n && src[i] != b'\n' {
                i += 1;
            }
            if i > 0 && src[i - 1] == b'\\' {
                i += 1;
                continue;
            }
            return i;
        } else if c == b'\\' {
            let mut k = i + 1;
            if src.get(k) == Some(&b'\r') {
                k += 1;
            }
            if src.get(k) == Some(&b'\n') {
                i = k + 1;
                continue;
            }
        } else if c == b'\n' {
            return i;
        }
        i += 1;
    }
    n
}

/// Split directive text (after `#`) into keyword, its offset and the rest.
fn keyword(text: &[u8]) -> (&str, usize, &str) {
    let s = std::str::from_utf8(text).unwrap_or("");
    let t = s.trim_start_matches([' ', '\t']);
    let off = s.len() - t.len();
    let kw_len = t.bytes().take_while(|&c| is_ident(c)).count();
    (&t[..kw_len], off, &t[kw_len..])
}

fn first_ident(s: &str) -> &str {
    let t = s.trim_start();
    let l = t.bytes().take_while(|&c| is_ident(c)).count();
    &t[..l]
}

/// Is `#ifndef name` at `end` followed by `#define name` (an include guard)?
fn is_include_guard(src: &[u8], end: usize, name: &str) -> bool {
    let mut i = end;
    while i < src.len() && src[i].is_ascii_whitespace() {
        i += 1;
    }
    if src.get(i) != Some(&b'#') {
        return false;
    }
    let le = memchr(b'\n', &src[i..]).map_or(src.len(), |p| i + p);
    let (kw, _, rest) = keyword(&src[i + 1..le]);
    kw == "define" && first_ident(rest) == name && !name.is_empty()
}

fn lookup(name: &str, defines: &Defines, locals: &HashMap<String, Local>) -> Local {
    if let Some(l) = locals.get(name) {
        return l.clone();
    }
    if let Some(v) = defines.defined.get(name) {
        return Local::Defined(v.clone());
    }
    match defines.is_defined(name) {
        Some(false) => Local::Undefined,
        _ => Local::Unknown,
    }
}

/// 1/0 for defined/undefined, None when unknown.
fn lookup_defined(name: &str, defines: &Defines, locals: &HashMap<String, Local>) -> Option<i64> {
    match lookup(name, defines, locals) {
        Local::Defined(_) => Some(1),
        Local::Undefined => Some(0),
        Local::Unknown => None,
    }
}

// ---- condition evaluation (three-valued: None = unknown) ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Ident(String),
    Op(&'static str),
    Other,
}

fn tokenize(s: &str) -> Vec<Tok> {
    const OPS: [&str; 22] = [
        "||", "&&", "==", "!=", "<=", ">=", "<<", ">>", "(", ")", "!", "<", ">", "+", "-", "*",
        "/", "%", "&", "|", "^", "~",
    ];
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || c == b'\\' {
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            match s[i + 2..].find("*/") {
                Some(p) => i = i + 2 + p + 2,
                None => break,
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            break;
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(parse_int(&s[st..i]).map_or(Tok::Other, Tok::Num));
        } else if is_ident(c) {
            let st = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(Tok::Ident(s[st..i].to_string()));
        } else if let Some(op) = OPS.iter().find(|op| s[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            out.push(Tok::Other);
            i += s[i..].chars().next().map_or(1, |c| c.len_utf8());
        }
    }
    out
}

/// Parse a C integer literal (decimal, hex, octal; suffixes ignored).
pub fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as i64)
    } else if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        u64::from_str_radix(b, 2).ok().map(|v| v as i64)
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).ok().map(|v| v as i64)
    } else {
        t.parse::<u64>().ok().map(|v| v as i64)
    }
}

struct Eval<'a> {
    toks: Vec<Tok>,
    pos: usize,
    defines: &'a Defines,
    locals: &'a HashMap<String, Local>,
    depth: u32,
    bad: bool,
}

/// Evaluate an `#if` condition.
fn eval(s: &str, defines: &Defines, locals: &HashMap<String, Local>) -> Option<i64> {
    let mut e = Eval {
        toks: tokenize(s),
        pos: 0,
        defines,
        locals,
        depth: 0,
        bad: false,
    };
    let v = e.binary(0);
    if e.bad || e.pos != e.toks.len() {
        return None;
    }
    v
}

const PREC: [&[&str]; 10] = [
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn binary(&mut self, level: usize) -> Option<i64> {
        if level >= PREC.len() {
            return self.unary();
        }
        let mut l = self.binary(level + 1);
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op)) if PREC[level].contains(op) => *op,
                _ => return l,
            };
            self.pos += 1;
            let r = self.binary(level + 1);
            l = match op {
                "||" => match (l, r) {
                    (Some(a), _) if a != 0 => Some(1),
                    (_, Some(b)) if b != 0 => Some(1),
                    (Some(_), Some(_)) => Some(0),
                    _ => None,
                },
                "&&" => match (l, r) {
                    (Some(0), _) | (_, Some(0)) => Some(0),
                    (Some(_), Some(_)) => Some(1),
                    _ => None,
                },
                _ => match (l, r) {
                    (Some(a), Some(b)) => arith(op, a, b),
                    _ => None,
                },
            };
        }
    }

    fn unary(&mut self) -> Option<i64> {
        self.depth += 1;
        if self.depth > 200 {
            self.bad = true;
            self.pos = self.toks.len();
            return None;
        }
        let v = self.unary_inner();
        self.depth -= 1;
        v
    }

    fn unary_inner(&mut self) -> Option<i64> {
        if self.eat("!") {
            return self.unary().map(|v| (v == 0) as i64);
        }
        if self.eat("-") {
            return self.unary().map(|v| v.wrapping_neg());
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("~") {
            return self.unary().map(|v| !v);
        }
        if self.eat("(") {
            let v = self.binary(0);
            if !self.eat(")") {
                self.bad = true;
            }
            return v;
        }
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(v)) => Some(v),
            Some(Tok::Ident(name)) => {
                if name == "defined" {
                    let paren = self.eat("(");
                    let v = match self.peek().cloned() {
                        Some(Tok::Ident(x)) => {
                            self.pos += 1;
                            lookup_defined(&x, self.defines, self.locals)
                        }
                        _ => {
                            self.bad = true;
                            None
                        }
                    };
                    if paren && !self.eat(")") {
                        self.bad = true;
                    }
                    return v;
                }
                if self.peek() == Some(&Tok::Op("(")) {
                    return self.macro_call(&name);
                }
                match lookup(&name, self.defines, self.locals) {
                    Local::Defined(v) => parse_int(v.trim()),
                    Local::Undefined => Some(0),
                    Local::Unknown => None,
                }
            }
            _ => {
                self.bad = true;
                None
            }
        }
    }

    /// `IS_ENABLED(X)` and friends; other function-like macros are unknown.
    fn macro_call(&mut self, name: &str) -> Option<i64> {
        self.pos += 1; // (
        let start = self.pos;
        let mut depth = 1;
        while let Some(t) = self.peek() {
            if *t == Tok::Op("(") {
                depth += 1;
            } else if *t == Tok::Op(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            self.pos += 1;
        }
        let args: Vec<Tok> = self.toks[start..self.pos].to_vec();
        if !self.eat(")") {
            self.bad = true;
        }
        let arg = match args.as_slice() {
            [Tok::Ident(a)] => a.clone(),
            _ => return None,
        };
        let d = |n: &str| lookup_defined(n, self.defines, self.locals);
        match name {
            "IS_ENABLED" | "IS_REACHABLE" => match (d(&arg), d(&format!("{arg}_MODULE"))) {
                (Some(1), _) | (_, Some(1)) => Some(1),
                (Some(0), Some(0)) | (Some(0), None) => Some(0),
                _ => None,
            },
            "IS_BUILTIN" => d(&arg),
            "IS_MODULE" => match d(&format!("{arg}_MODULE")) {
                Some(v) => Some(v),
                None if d(&arg) == Some(1) => Some(0),
                None => None,
            },
            _ => None,
        }
    }
}

fn arith(op: &str, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "<" => (a < b) as i64,
        ">" => (a > b) as i64,
        "<=" => (a <= b) as i64,
        ">=" => (a >= b) as i64,
        "<<" => a.checked_shl(u32::try_from(b).ok()?)?,
        ">>" => a.checked_shr(u32::try_from(b).ok()?)?,
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" => a.checked_div(b)?,
        "%" => a.checked_rem(b)?,
        _ => return None,
    })
}

/// Evaluate `IS_ENABLED(X)`-like C expressions in code (not directives).
pub fn eval_is_enabled(name: &str, arg: &str, defines: &Defines) -> Option<bool> {
    let locals = HashMap::new();
    eval(&format!("{name}({arg})"), defines, &locals).map(|v| v != 0)
}

/// Does the text keep any preprocessor conditional (after [`preprocess`])?
pub fn has_directive(text: &[u8]) -> bool {
    let mut line_start = true;
    for &c in text {
        match c {
            b'\n' => line_start = true,
            b' ' | b'\t' => {}
            b'#' if line_start => return true,
            _ => line_start = false,
        }
    }
    false
}
