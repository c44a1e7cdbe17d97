//! Re-lowering after an edit inside one C function body: only that
//! function goes through the front end again, the others keep their IR
//! with their spans moved by the edit's length.
//!
//! The function is lowered from a cut of the new text: the preprocessor
//! directive lines before it (in-file `#define`s and the `#if` structure
//! stay as the whole-file run sees them), then the function and the
//! function after it; the spans that come out are moved back by the
//! length of what was left out, so they are those of a whole-file run.
//! The front end runs its whole fallback chain on that cut (see
//! `frontend::c::lower_file`), so the function comes out of the same
//! parse as in a whole-file run. The result is used only when it is
//! certain to equal the whole-file run's:
//!
//! * the edit leaves the number of lone `{` lines (the front end's sign of
//!   swallowed functions) alone. When the file had fewer functions than
//!   such lines, the whole-file run parses it again (first branches, then
//!   top-level pieces) with the bodies of the clean functions blanked:
//!   then the function must come from the primary parse and have no line
//!   starting with `}` inside, before and after the edit, so that it is
//!   blanked in those parses, which see the same text as before but for
//!   the length of that blank and so find the same functions, moved;
//! * the edit lies strictly inside the body's braces and its lines hold
//!   no `#`, backslash or comment delimiter (no directive, continuation
//!   or comment that could reach beyond the function) and none starts
//!   with `}` (the cut of the front end's top-level pieces);
//! * the function came out clean before, and comes out clean again,
//!   alone, from the same parse (see [`Parse`]), with the same name and
//!   extent (moved by the edit), so its braces still match;
//! * the function before it (if any) came out clean from the primary
//!   parse: every parse enters the edited function at top level, as it
//!   did before; functions broken elsewhere in the file do not matter,
//!   since the edited function, clean in every parse the file went
//!   through, leaves every parse after it as it was. So when the file
//!   had functions from the first-branch parse, the edited function must
//!   also come out clean from that parse alone;
//! * the function after it (if any) comes out of the same text window
//!   equal to what it was, moved.
//!
//! Otherwise the caller lowers the whole file.

use crate::frontend::c::{has_closing_line, lone_braces};
use crate::frontend::{self, Defines, Lang};
use crate::ir::{Function, Parse, Unit};
use crate::source::SourceFile;

/// The unit of `new`, from `unit` (the unit of `old`, taken when this
/// succeeds), and the index of the re-lowered function (`None` when the
/// text did not change), when the edit from `old` to `new` lies inside
/// one function body; `None` when the whole file must be lowered.
pub fn relower(
    old: &str,
    unit: &mut Unit,
    new: &SourceFile,
    defines: &Defines,
) -> Option<(Unit, Option<usize>)> {
    if old == &*new.text {
        return Some((std::mem::take(unit), None));
    }
    if Lang::of_path(&new.path) != Some(Lang::C) {
        return None;
    }
    let (o, n) = (old.as_bytes(), new.text.as_bytes());
    if n.len() >= u32::MAX as usize / 2 {
        return None;
    }
    // The whole-file run re-parses the file (see `frontend::c::lower_file`).
    let reparsed = lone_braces(o) > unit.functions.len();
    let prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    let max_suffix = o.len().min(n.len()) - prefix;
    let suffix = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let (old_end, new_end) = (o.len() - suffix, n.len() - suffix);
    let delta = n.len() as i64 - o.len() as i64;
    let idx = unit.functions.iter().position(|f| {
        let (start, end) = (f.span.start as usize, f.span.end as usize);
        start <= prefix && old_end < end
    })?;
    let g = &unit.functions[idx];
    let clean_primary = |f: &Function| f.opaque_regions == 0 && f.parse == Parse::Primary;
    if g.opaque_regions > 0 || (idx > 0 && !clean_primary(&unit.functions[idx - 1])) {
        return None;
    }
    let (start, end) = (g.span.start as usize, g.span.end as usize);
    let open = start + o[start..end].iter().position(|&c| c == b'{')?;
    if o.get(end - 1) != Some(&b'}') || prefix <= open || old_end >= end - 1 {
        return None;
    }
    let new_fn_end = (end as i64 + delta) as usize;
    if reparsed
        && (g.parse != Parse::Primary
            || has_closing_line(&o[open + 1..end - 1])
            || has_closing_line(&n[open + 1..new_fn_end - 1]))
    {
        return None;
    }
    if !plain(lines(o, prefix, old_end)) || !plain(lines(n, prefix, new_end)) {
        return None;
    }
    if lone_braces(lines(o, prefix, old_end)) != lone_braces(lines(n, prefix, new_end)) {
        return None;
    }
    let moved = |s: u32| (i64::from(s) + delta) as usize;
    let next = unit.functions.get(idx + 1);
    let window_end = next.map_or(new_fn_end, |h| moved(h.span.end));
    let (text, base) = compact(&new.text, start, window_end);
    let cut = SourceFile::new(new.path.clone(), text);
    let lower = || {
        let alone = frontend::lower(&cut, defines);
        // A whole-file run also went through the first-branch parse.
        let first_branch = (g.parse == Parse::Primary
            && unit.functions.iter().any(|f| f.parse != Parse::Primary))
        .then(|| frontend::c::lower_first_branch(&cut, defines));
        (alone, first_branch)
    };
    let (mut lowered, first_branch) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(lower)).ok()?;
    let first_branch = first_branch.map(|mut u| {
        u.functions.iter_mut().for_each(|f| f.shift(base));
        u
    });
    lowered.functions.iter_mut().for_each(|f| f.shift(base));
    let same_extent = |f: &Function| {
        f.opaque_regions == 0
            && f.name == g.name
            && f.name_span == g.name_span
            && f.span.start == g.span.start
            && f.span.end as usize == new_fn_end
    };
    if let Some(alt) = first_branch {
        if !alt.functions.first().is_some_and(same_extent) {
            return None;
        }
    }
    let mut fs = lowered.functions.into_iter();
    let mut f = fs.next()?;
    if !same_extent(&f) || f.parse != g.parse {
        return None;
    }
    match (next, fs.next(), fs.next()) {
        (None, None, None) => {}
        (Some(h), Some(k), None) if same_moved(h, &k, delta) => {}
        _ => return None,
    }
    // Annotations are read from the text before the function, which the
    // edit did not touch (and the cut text does not have).
    f.annotations = g.annotations.clone();
    let mut out = std::mem::take(unit);
    out.shift_from(end as u32, delta);
    out.functions[idx] = f;
    out.count_opaque();
    Some((out, Some(idx)))
}

/// Whether `new` is `old` moved by `delta` bytes (annotations aside: the
/// cut text has none of the text they are read from).
fn same_moved(old: &Function, new: &Function, delta: i64) -> bool {
    let mut a = old.clone();
    a.shift(delta);
    a.annotations.clear();
    let mut b = new.clone();
    b.annotations.clear();
    format!("{a:?}") == format!("{b:?}")
}

/// The whole lines holding `text[from..to]`.
fn lines(text: &[u8], from: usize, to: usize) -> &[u8] {
    let start = text[..from]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let end = text[to..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(text.len(), |i| to + i);
    &text[start..end]
}

/// No directive, line continuation, block comment delimiter or line
/// starting with `}`.
fn plain(lines: &[u8]) -> bool {
    !lines.contains(&b'#')
        && !lines.split(|&c| c == b'\n').any(|l| l.starts_with(b"}"))
        && !lines.contains(&b'\\')
        && !lines.windows(2).any(|w| w == b"/*" || w == b"*/")
}

/// The text the edited function is lowered from: the preprocessor
/// directive lines (with their continuations) before `start`, in order,
/// then `text[start..end]`; and how far that text's offsets lie behind
/// the same bytes in `text` (add it to the spans lowered from it). Lines
/// dropped hold no directive, so the front end sees what a whole-file run
/// sees of them once the other functions are set aside: nothing; and none
/// of its passes depends on absolute offsets.
fn compact(text: &str, start: usize, end: usize) -> (String, i64) {
    let mut out = Vec::new();
    let mut continued = false;
    for line in text.as_bytes()[..start].split_inclusive(|&c| c == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let directive = continued || body.trim_ascii_start().starts_with(b"#");
        if directive {
            out.extend_from_slice(line);
        }
        continued = directive && body.trim_ascii_end().ends_with(b"\\");
    }
    let base = start as i64 - out.len() as i64;
    out.extend_from_slice(&text.as_bytes()[start..end]);
    // Whole lines are copied: still UTF-8.
    (String::from_utf8(out).unwrap_or_default(), base)
}
