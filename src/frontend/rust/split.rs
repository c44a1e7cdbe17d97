//! A small lexer-level scan of Rust text (no parsing): blanking of a BOM
//! and shebang, bounds on what is given to syn, and cutting a file that
//! does not parse into top-level items.

use std::ops::Range;

/// Bracket nesting beyond which text is not given to syn.
const MAX_NESTING: usize = 128;
/// Tokens (roughly) beyond which one piece is not given to syn.
const MAX_TOKENS: usize = 200_000;
/// A run of prefix operators (`!!!!x`, `&&&&x`) or `else` keywords beyond
/// which the piece is not given to syn (both nest without brackets).
const MAX_RUN: usize = 256;

/// The text with a BOM and a `#!` first line replaced by spaces, so that
/// syn does not strip them and byte offsets stay those of the file.
pub fn sanitize(text: &str) -> String {
    let mut s = text.to_string();
    if s.starts_with('\u{feff}') {
        s.replace_range(0..3, "   ");
    }
    if s.starts_with("#!") && !s.starts_with("#![") {
        let end = s.find('\n').unwrap_or(s.len());
        let blank = " ".repeat(end);
        s.replace_range(0..end, &blank);
    }
    s
}

/// One pass over the text outside comments, strings and char literals.
/// Calls `f(offset, byte)` for every byte of code.
fn code_bytes(text: &str, mut f: impl FnMut(usize, u8)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'r' if matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    f(i, c);
                    i += 1;
                    continue;
                }
                j += 1;
                while j < b.len() {
                    if b[j] == b'"'
                        && b[j + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|&&h| h == b'#')
                            .count()
                            == hashes
                    {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 3;
                    while i < b.len() && b[i] != b'\'' && b[i] != b'\n' {
                        i += 1;
                    }
                } else {
                    let len = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                    if b.get(i + 1 + len) == Some(&b'\'') {
                        i += 1 + len;
                    }
                }
            }
            _ => f(i, c),
        }
        i += 1;
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Whether the text is within the bounds syn is trusted with.
pub fn parsable(text: &str) -> bool {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut tokens = 0usize;
    let mut run = 0usize;
    let mut elses = 0usize;
    let mut prev = b' ';
    let b = text.as_bytes();
    code_bytes(text, |i, c| {
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if matches!(c, b'!' | b'&' | b'*' | b'-') {
            run += 1;
        } else if !c.is_ascii_whitespace() {
            run = 0;
        }
        if c == b'e' && !is_ident(prev) && b[i..].starts_with(b"else") {
            elses += 1;
        }
        if !c.is_ascii_whitespace() && (prev.is_ascii_whitespace() || !is_ident(c)) {
            tokens += 1;
        }
        prev = c;
        max = max.max(if run > MAX_RUN { usize::MAX } else { 0 });
    });
    max <= MAX_NESTING && tokens <= MAX_TOKENS && elses <= MAX_RUN * 4
}

/// Words that start an item when written at the start of a line.
const ITEM_STARTS: &[&str] = &[
    "fn ", "pub ", "pub(", "impl", "unsafe ", "extern ", "#[", "mod ", "static ", "const ",
    "struct ", "enum ", "trait ",
];

/// Top-level items: each piece ends after a `}` or `;` at nesting depth 0,
/// or before an item keyword at the start of a line while unbalanced
/// brackets are still open (a trailing piece keeps whatever is left).
pub fn pieces(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let b = text.as_bytes();
    code_bytes(text, |i, c| {
        let line_start = i == 0 || b[i - 1] == b'\n';
        if depth > 0
            && line_start
            && i > start
            && ITEM_STARTS.iter().any(|k| b[i..].starts_with(k.as_bytes()))
        {
            out.push(start..i);
            start = i;
            depth = 0;
        }
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(start..i + 1);
                    start = i + 1;
                }
            }
            b';' if depth == 0 => {
                out.push(start..i + 1);
                start = i + 1;
            }
            _ => {}
        }
    });
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// Identifiers of the code, with their offsets.
fn idents(text: &str) -> Vec<(usize, &str)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    let mut last = 0;
    code_bytes(text, |i, c| {
        if is_ident(c) && !(start.is_none() && c.is_ascii_digit()) {
            if start.is_none() || last + 1 != i {
                if let Some(s) = start.take() {
                    runs.push((s, last + 1));
                }
                start = Some(i);
            }
            last = i;
        } else if let Some(s) = start.take() {
            runs.push((s, last + 1));
        }
    });
    if let Some(s) = start {
        runs.push((s, last + 1));
    }
    runs.into_iter()
        .filter_map(|(s, e)| text.get(s..e).map(|w| (s, w)))
        .collect()
}

/// `fn NAME` occurrences: (NAME, offset of NAME).
pub fn fn_names(text: &str) -> Vec<(&str, usize)> {
    let ids = idents(text);
    ids.windows(2)
        .filter(|w| w[0].1 == "fn")
        .map(|w| (w[1].1, w[1].0))
        .collect()
}

/// Names directly followed by `(` (after spaces): the calls of a region.
pub fn called_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (at, w) in idents(text) {
        let rest = text[at + w.len()..].trim_start();
        if rest.starts_with('(') && !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    out
}
