//! Rebuilding the hunks of a file diff alone, as C that parses, when there
//! is no pre-image to apply them to. Each hunk becomes code of its own:
//! nothing carries over from one hunk to the next (the hidden lines between
//! them can hold a `return` or a label), so every hunk starts and ends with
//! nothing known but what its function head says.
//!
//! The structure comes from the hunk's own lines: function heads (a line
//! that is exactly `{`, kernel style, after a head that has parentheses),
//! braces (outside comments, strings and directives), and, when the
//! indentation survived, the column a line starts at. The header's section
//! text is only used for the function a hunk starts inside of.

use super::apply::{Image, LineSrc, Side};
use super::diff::{FilePatch, Hunk, Kind};

/// Hunks are not placed past this line (real files are far shorter).
pub const MAX_FRAGMENT_LINE: usize = 1 << 20;

/// The condition of a block opened above a hunk and closed inside it: an
/// unknown value, so both ways are explored (`} else {` needs an `if`).
const UNKNOWN_COND: &str = "faultlock_hidden_condition";

/// One kept line of a hunk, scanned.
struct Scanned {
    /// The code of the line: comments, strings and character literals
    /// blanked, directives kept as they are.
    code: String,
    /// `{` minus `}` in the code (0 for directives).
    delta: isize,
    /// The line starts inside a block comment.
    in_comment: bool,
    /// The line starts with white space.
    indent: bool,
}

fn scan(lines: &[&str]) -> Vec<Scanned> {
    let mut out = Vec::with_capacity(lines.len());
    let mut in_comment = false;
    for l in lines {
        let starts_in_comment = in_comment;
        let b = l.as_bytes();
        let mut code = String::with_capacity(l.len());
        let mut i = 0;
        let directive = !in_comment && l.trim_start().starts_with('#');
        while i < b.len() {
            let c = b[i];
            if in_comment {
                if c == b'*' && b.get(i + 1) == Some(&b'/') {
                    in_comment = false;
                    i += 2;
                } else {
                    i += 1;
                }
                code.push(' ');
                continue;
            }
            match c {
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    in_comment = true;
                    i += 2;
                    code.push(' ');
                }
                b'/' if b.get(i + 1) == Some(&b'/') => break,
                b'"' | b'\'' => {
                    let q = c;
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    code.push_str("\"\"");
                }
                _ => {
                    // Keep whole characters (the text may not be ASCII).
                    let ch = l[i..].chars().next().unwrap_or(' ');
                    code.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        let delta = if directive {
            0
        } else {
            code.bytes()
                .map(|b| match b {
                    b'{' => 1,
                    b'}' => -1,
                    _ => 0,
                })
                .sum()
        };
        out.push(Scanned {
            code,
            delta,
            in_comment: starts_in_comment,
            indent: l.starts_with([' ', '\t']),
        });
    }
    out
}

/// A function head shown by a hunk: lines `start..brace`, the body's `{`
/// on line `brace`; `cut` when its first lines are above the hunk.
#[derive(Debug, Clone, Copy)]
struct Head {
    start: usize,
    cut: bool,
}

const CONTROL: [&str; 8] = [
    "if", "else", "for", "while", "switch", "do", "return", "case",
];

fn heads(s: &[Scanned], indented: bool) -> Vec<Head> {
    let mut out: Vec<Head> = Vec::new();
    for j in 0..s.len() {
        let c = &s[j].code;
        if c.trim() != "{" || (indented && s[j].indent) || s[j].in_comment {
            continue;
        }
        let mut k = j;
        while k > 0 {
            let p = &s[k - 1];
            let t = p.code.trim();
            if t.is_empty()
                || t.starts_with('#')
                || t.ends_with([';', '{', '}'])
                || out.last().is_some_and(|h| h.start >= k - 1)
            {
                break;
            }
            k -= 1;
        }
        if k == j {
            continue;
        }
        let text: String = s[k..j].iter().map(|l| l.code.as_str()).collect();
        let first_word = s[k]
            .code
            .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .find(|w| !w.is_empty())
            .unwrap_or("");
        if !text.contains(['(', ')']) || CONTROL.contains(&first_word) {
            continue;
        }
        let balance = text.matches('(').count() as isize - text.matches(')').count() as isize;
        let starts_indented = s[k].indent;
        let cut = k == 0 && (balance < 0 || (indented && starts_indented));
        if indented && starts_indented && !cut {
            continue;
        }
        out.push(Head { start: k, cut });
    }
    out
}

/// The head the section text gives, made complete: unclosed parentheses
/// closed (git cuts long heads), or a made-up name when there is none.
fn section_head(h: &Hunk, hi: usize) -> String {
    if !h.section.contains('(') {
        return format!("static void faultlock_fragment_{}(void)", hi + 1);
    }
    let mut head = h.section.clone();
    let unclosed = head
        .matches('(')
        .count()
        .saturating_sub(head.matches(')').count());
    if unclosed > 0 {
        head = head.trim_end_matches([',', ' ']).to_string();
        head.push_str(&")".repeat(unclosed));
    }
    head
}

/// The first part of a head whose rest the hunk shows (it starts inside
/// the parameter list): the section when it is that first part, else its
/// name and `(`, else a made-up name.
fn section_head_start(h: &Hunk, hi: usize) -> String {
    let s = h.section.trim_end();
    let unclosed = s.matches('(').count() > s.matches(')').count();
    match s.find('(') {
        Some(_) if unclosed => s.to_string(),
        Some(i) => s[..=i].to_string(),
        None => format!("static void faultlock_fragment_{}(", hi + 1),
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte offsets of `name` as a whole identifier in `code`.
fn ident_at(code: &str, name: &str) -> Vec<usize> {
    code.match_indices(name)
        .filter(|(i, _)| {
            let before = code[..*i].chars().next_back();
            let after = code[i + name.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The `struct vm_fault *NAME` parameter of a head.
fn fault_param(head: &str, fault_struct: &str) -> Option<String> {
    let pat = format!("struct {fault_struct}");
    let i = head.find(&pat)?;
    let rest = head[i + pat.len()..].trim_start().strip_prefix('*')?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|&c| is_ident(c))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// `vma` used by the hunk but bound above it, in a function that has the
/// fault: it is taken as the fault's VMA (`vma = vmf->vma`, the kernel's
/// habit). Left unbound it would be a VMA of its own, and releasing it
/// would leave the fault's lock looking held.
fn vma_binding(head: &str, s: &[Scanned]) -> Option<String> {
    let vmf = fault_param(head, "vm_fault")?;
    if !ident_at(head, "vma").is_empty() {
        return None;
    }
    for l in s {
        let at = ident_at(&l.code, "vma");
        let Some(&first) = at.first() else { continue };
        let before = l.code[..first].trim_end();
        let after = l.code[first + 3..].trim_start();
        // Declared or assigned in view before any other use: bound here.
        let assigned = after.starts_with('=') && !after.starts_with("==");
        let declared = before.ends_with('*') && before.contains("struct");
        if assigned || declared {
            return None;
        }
        return Some(format!(" struct vm_area_struct *vma = {vmf}->vma;"));
    }
    None
}

/// The define a directive's comment names (`#else /* !CONFIG_X */`,
/// `#else /* CONFIG_X */`: both name the `#if`'s symbol).
fn named_define(directive: &str) -> Option<String> {
    let c = directive.split_once("/*")?.1;
    let c = c.split("*/").next()?.trim();
    let name = c.strip_prefix('!').unwrap_or(c).trim();
    let ok = !name.is_empty() && name.chars().all(is_ident);
    ok.then(|| name.to_string())
}

/// Lines of a hunk in a dead branch of a conditional whose `#if` is above
/// the hunk: at an `#else` that names a known symbol `X` (kernel style),
/// the lines before it are for `X` and those after it, up to `#endif`, for
/// `!X`. `true` marks a line to blank.
fn dead_branches(lines: &[&str], is_defined: &dyn Fn(&str) -> Option<bool>) -> Vec<bool> {
    let mut dead = vec![false; lines.len()];
    let mut depth = 0usize; // conditionals opened inside the hunk
    let mut region_start = 0usize; // first line of the current outer branch
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let Some(d) = t.strip_prefix('#') else {
            continue;
        };
        let word: String = d
            .trim_start()
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        match word.as_str() {
            "if" | "ifdef" | "ifndef" => depth += 1,
            "endif" if depth > 0 => depth -= 1,
            "endif" => region_start = i + 1,
            "else" if depth == 0 => {
                let def = named_define(t).and_then(|n| is_defined(&n));
                match def {
                    Some(true) => {
                        let end = lines[i + 1..]
                            .iter()
                            .position(|l| l.trim_start().starts_with("#endif"))
                            .map_or(lines.len(), |p| i + 1 + p);
                        dead[i + 1..end].iter_mut().for_each(|x| *x = true);
                    }
                    Some(false) => dead[region_start..i].iter_mut().for_each(|x| *x = true),
                    None => {}
                }
                region_start = i + 1;
            }
            _ => {}
        }
    }
    dead
}

/// The display column a line's code starts at (tabs to 8).
fn column(code: &str) -> usize {
    let mut col = 0;
    for c in code.chars() {
        match c {
            '\t' => col = (col / 8 + 1) * 8,
            ' ' => col += 1,
            _ => break,
        }
    }
    col
}

/// A hunk that starts with statements indented deeper than the code line
/// after them, with no brace among them, starts in the body of a brace-less
/// `if`/`for`/`while` whose head it does not show: the index of the last
/// such line, so that they are checked under an unknown condition rather
/// than as the function's own path (a `return` there would end it).
fn hidden_body(s: &[Scanned]) -> Option<usize> {
    let code = |l: &Scanned| {
        let t = l.code.trim();
        !(t.is_empty() || l.in_comment || t.starts_with('#'))
    };
    let mut lines = s.iter().enumerate().filter(|(_, l)| code(l));
    let (_, first) = lines.next()?;
    let deep = column(&first.code);
    let mut last = None;
    for (i, l) in s.iter().enumerate().filter(|(_, l)| code(l)) {
        let t = l.code.trim();
        if column(&l.code) >= deep {
            if l.delta != 0 || t.contains(['{', '}']) {
                return None;
            }
            last = Some(i);
            continue;
        }
        let after_statement = last.is_some_and(|j| s[j].code.trim_end().ends_with(';'));
        let ok = column(&l.code) > 0 && !t.starts_with('}') && !t.starts_with("else");
        return (ok && after_statement).then_some(last?);
    }
    None
}

/// The lines of one side of `fp`, each hunk at the line its header gives
/// (gaps filled with empty lines), made to parse as C on its own.
/// `is_defined` tells which configuration symbols are known defined.
pub fn fragment_with(
    fp: &FilePatch,
    side: Side,
    is_defined: &dyn Fn(&str) -> Option<bool>,
) -> Image {
    let mut out = Image::default();
    for (hi, h) in fp.hunks.iter().enumerate() {
        let want = if side == Side::New {
            Kind::Add
        } else {
            Kind::Del
        };
        let kept: Vec<(usize, &str)> = h
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.kind == Kind::Context || l.kind == want)
            .map(|(i, l)| (i, l.text.as_str()))
            .collect();
        // A hostile header must not make us fill gigabytes of blank lines.
        let start = match side {
            Side::New => h.new_start,
            Side::Old => h.old_start,
        }
        .clamp(1, MAX_FRAGMENT_LINE);
        while out.src.len() + 1 < start {
            out.push("", LineSrc::Filler);
        }
        if kept.is_empty() {
            continue;
        }
        let texts: Vec<&str> = kept.iter().map(|(_, t)| *t).collect();
        let dead = dead_branches(&texts, is_defined);
        let texts: Vec<&str> = texts
            .iter()
            .zip(&dead)
            .map(|(t, d)| if *d { "" } else { *t })
            .collect();
        let s = scan(&texts);
        let indented = s.iter().any(|l| l.indent && !l.in_comment);
        let hs = heads(&s, indented);
        let prefix_end = hs.first().map_or(s.len(), |h| h.start);
        let (mut rel, mut min) = (0isize, 0isize);
        let (mut closes_fn, mut inside) = (false, false);
        for l in &s[..prefix_end] {
            rel += l.delta;
            min = min.min(rel);
            let t = l.code.trim();
            if t.is_empty() || l.in_comment || t.starts_with('#') {
                continue;
            }
            if indented {
                closes_fn |= !l.indent && t.starts_with('}');
                inside |= l.indent;
            } else {
                inside |= t.ends_with([';', '{', '}']) && !t.starts_with('}');
            }
        }
        if !indented && hs.first().is_some_and(|h| !h.cut) {
            closes_fn = true;
        }
        // Blocks open where the hunk starts.
        let open = if closes_fn {
            (-min).max(isize::from(inside))
        } else if inside {
            1 - min
        } else {
            -min
        };
        let hidden = if indented {
            hidden_body(&s[..prefix_end])
        } else {
            None
        };
        let opener = if hs.first().is_some_and(|h| h.cut) {
            Some(section_head_start(h, hi))
        } else if open > 0 {
            let head = section_head(h, hi);
            let mut o = format!("{head} {{");
            if let Some(b) = vma_binding(&head, &s) {
                o.push_str(&b);
            }
            for _ in 1..open + isize::from(hidden.is_some()) {
                o.push_str(&format!(" if ({UNKNOWN_COND}) {{"));
            }
            Some(o)
        } else {
            None
        };
        let opener_has_hidden = opener.is_some() && !hs.first().is_some_and(|h| h.cut) && open > 0;
        if let Some(o) = opener {
            match (out.src.last(), out.text.is_empty()) {
                (Some(LineSrc::Filler), false) => {
                    out.text.pop();
                    if !out.text.is_empty() && !out.text.ends_with('\n') {
                        out.text.push(' ');
                    }
                    out.text.push_str(&o);
                    out.text.push('\n');
                }
                _ => out.push(&o, LineSrc::Filler),
            }
        }
        let mut depth = if hs.first().is_some_and(|h| h.cut) {
            0
        } else {
            open
        };
        let mut next_head = hs.iter().peekable();
        for (n, ((li, _), l)) in kept.iter().zip(&s).enumerate() {
            let mut text = texts[n].to_string();
            if next_head.peek().is_some_and(|h| h.start == n) {
                next_head.next();
                if depth > 0 && n > 0 {
                    text = format!("{} {text}", "}".repeat(depth as usize));
                }
                depth = 0;
            }
            depth = (depth + l.delta).max(0);
            if opener_has_hidden && hidden == Some(n) {
                text.push_str(" }");
            }
            out.push(&text, LineSrc::Hunk(hi, *li));
        }
        if depth > 0 {
            out.push(&"}".repeat(depth as usize), LineSrc::Filler);
        }
    }
    out
}
