//! The C front end (kernel-style C through tree-sitter-c).
//!
//! Pipeline per file: [`preproc`] (evaluate `#if` against the defines,
//! blank directives) → [`normalize`] (kernel macro shapes from
//! `kernel_macros.toml`) → tree-sitter → [`lower`] (CST → IR). Both text
//! passes keep every byte offset, so all spans point into the original text.

mod annot;
mod budget;
mod expr;
mod field;
mod func;
mod guards;
#[cfg(test)]
mod hostile_tests;
mod lower;
mod normalize;
mod preproc;
mod regs;
pub mod slice;
mod table;
#[cfg(test)]
mod tests;

use crate::frontend::Defines;
use crate::ir::{Parse, Unit};
use crate::source::SourceFile;
use tree_sitter::{Node, Tree};

/// Parse within the budget of [`budget`]: usually one tree, several when
/// the file had to be parsed in chunks (or `split` asks for one tree per
/// top-level piece).
fn parse(text: &[u8], split: bool) -> Vec<Tree> {
    if split {
        budget::parse_pieces(text, budget::top_level_pieces(text))
    } else {
        budget::parse_bounded(text)
    }
}

/// The text tree-sitter sees: original length, directives evaluated and
/// kernel macros rewritten.
pub fn normalized_text(file: &SourceFile, defines: &Defines) -> Vec<u8> {
    let pre = preproc::preprocess(file.text.as_bytes(), defines, false);
    normalize::normalize(pre).text
}

/// The cleanup.h guard classes the front end lowers (`kernel_macros.toml`).
pub fn guard_classes() -> Vec<String> {
    let mut v: Vec<String> = table::table().guards.keys().cloned().collect();
    v.sort();
    v
}

/// Lower every function definition and every callback registration of a
/// C file. Never panics; unparsable input gives an empty or partial unit.
///
/// Unknown conditionals are kept for tree-sitter; when that breaks the
/// parse of some function, the file is parsed again with every unknown
/// conditional taking its first branch, and functions (matched by the
/// offset of their name) that come out clean there replace the broken
/// ones.
///
/// When functions are still missing (a syntax error tree-sitter could not
/// recover from, e.g. a few unclosed `(`, swallows the rest of the file),
/// the first-branch text is parsed once more in top-level pieces (cut
/// after each line starting with `}`), and the functions found there are
/// merged the same way.
pub fn lower_file(file: &SourceFile, defines: &Defines) -> Unit {
    lower_file_sliced(file, defines, None)
}

/// [`lower_file`], parsing only the functions that can matter when a
/// [`slice::Slice`] is given; the others are left out of the unit.
pub fn lower_file_sliced(
    file: &SourceFile,
    defines: &Defines,
    slice: Option<&slice::Slice>,
) -> Unit {
    let src = file.text.as_bytes();
    if src.len() >= u32::MAX as usize / 2 {
        return Unit::default();
    }
    let mut blanked = Vec::new();
    // `done`: bodies of functions already lowered cleanly, blanked after
    // slicing (so that what is kept does not change) because a re-parse
    // only serves the others.
    let mut lower = |pre: Vec<u8>, split: bool, done: &[std::ops::Range<usize>]| {
        let mut pre = pre;
        if let Some(slice) = slice {
            let plan = slice::plan(&pre, slice);
            slice::blank(&mut pre, &plan);
            blanked.extend(plan);
        }
        slice::blank(&mut pre, done);
        lower_text(pre, defines, split)
    };
    let pre = preproc::preprocess(src, defines, false);
    let kept = preproc::has_directive(&pre);
    let mut unit = lower(pre, false, &[]);
    let broken = unit.functions.iter().any(|f| f.opaque_regions > 0);
    if kept && (broken || unit.functions.is_empty() || dropped(src, &unit)) {
        let done = clean_bodies(src, &unit);
        let alt = lower(preproc::preprocess(src, defines, true), false, &done);
        merge(&mut unit, alt, Parse::FirstBranch);
    }
    if dropped(src, &unit) {
        let done = clean_bodies(src, &unit);
        let alt = lower(preproc::preprocess(src, defines, true), true, &done);
        merge(&mut unit, alt, Parse::Pieces);
    }
    if !blanked.is_empty() {
        blanked.sort_by_key(|r| r.start);
        unit.functions.retain(|f| {
            let (start, end) = (f.span.start as usize, f.span.end as usize);
            let i = blanked.partition_point(|r| r.start < start);
            blanked.get(i).map_or(true, |r| r.end > end)
        });
    }
    unit.count_opaque();
    unit
}

/// The functions of the parse of `file` in which every unknown
/// conditional takes its first branch (the second parse of
/// [`lower_file`]), without any fallback.
pub fn lower_first_branch(file: &SourceFile, defines: &Defines) -> Unit {
    let src = file.text.as_bytes();
    if src.len() >= u32::MAX as usize / 2 {
        return Unit::default();
    }
    lower_text(preproc::preprocess(src, defines, true), defines, false)
}

/// Cheap sign that functions were swallowed by a top-level parse error:
/// fewer functions than kernel-style `{` lines opening a body.
fn dropped(src: &[u8], unit: &Unit) -> bool {
    unit.functions.len() < lone_braces(src)
}

/// Lines of `text` that are exactly `{` (kernel style: a body opens).
pub fn lone_braces(text: &[u8]) -> usize {
    text.split(|&c| c == b'\n').filter(|l| *l == b"{").count()
}

/// Whether a line inside a body starts with `}`: the body may have
/// swallowed other functions, so the re-parses do not blank it.
pub fn has_closing_line(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\n}").is_some()
}

/// The text strictly inside the braces of each function lowered cleanly,
/// unless a line inside starts with `}` (it may have swallowed others).
fn clean_bodies(src: &[u8], unit: &Unit) -> Vec<std::ops::Range<usize>> {
    unit.functions
        .iter()
        .filter(|f| f.opaque_regions == 0)
        .filter_map(|f| {
            let (from, end) = (f.name_span.end as usize, f.span.end as usize);
            if end <= from || src.get(end - 1) != Some(&b'}') {
                return None;
            }
            let open = from + memchr::memchr(b'{', &src[from..end])?;
            let inner = open + 1..end - 1;
            (!has_closing_line(&src[inner.clone()])).then_some(inner)
        })
        .collect()
}

/// Functions of `alt` (made by the parse `parse`) replace the broken ones
/// of `unit` at the same name offset, and fill in those `unit` lacks.
fn merge(unit: &mut Unit, alt: Unit, parse: Parse) {
    use foldhash::HashMap;
    let mut by_name: HashMap<u32, crate::ir::Function> = alt
        .functions
        .into_iter()
        .filter(|f| f.opaque_regions == 0)
        .map(|mut f| {
            f.parse = parse;
            (f.name_span.start, f)
        })
        .collect();
    for f in &mut unit.functions {
        if f.opaque_regions > 0 {
            if let Some(g) = by_name.remove(&f.name_span.start) {
                *f = g;
            }
        } else {
            by_name.remove(&f.name_span.start);
        }
    }
    // Functions the first parse lost entirely.
    let known: foldhash::HashSet<u32> = unit.functions.iter().map(|f| f.name_span.start).collect();
    let mut extra: Vec<_> = by_name
        .into_values()
        .filter(|f| !known.contains(&f.name_span.start))
        .collect();
    if !extra.is_empty() {
        unit.functions.append(&mut extra);
        unit.functions.sort_by_key(|f| f.span.start);
    }
    let regs: foldhash::HashSet<u32> = unit.registrations.iter().map(|r| r.span.start).collect();
    unit.registrations.extend(
        alt.registrations
            .into_iter()
            .filter(|r| !regs.contains(&r.span.start)),
    );
}

fn lower_text(pre: Vec<u8>, defines: &Defines, split: bool) -> Unit {
    // Annotations are read from the text before normalisation blanks the
    // kernel's lock macros.
    let annotated = annot::may_have(&pre).then(|| pre.clone());
    let norm = normalize::normalize(pre);
    let trees = parse(&norm.text, split);
    let cx = lower::Ctx {
        text: &norm.text,
        iters: &norm.iters,
        decls: &norm.decls,
        defines,
    };
    let mut unit = Unit::default();
    // Iterative walk over top-level items (no recursion on hostile depth).
    let mut stack: Vec<Node> = trees.iter().rev().map(|t| t.root_node()).collect();
    let mut items = Vec::new();
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" => items.push(n),
            "declaration" => {
                regs::registrations(&cx, n, &mut unit.registrations);
                if let Some(d) = annotated
                    .as_deref()
                    .and_then(|text| annot::declaration(&cx, text, n))
                {
                    unit.declarations.push(d);
                }
            }
            "translation_unit"
            | "ERROR"
            | "preproc_if"
            | "preproc_ifdef"
            | "preproc_else"
            | "preproc_elif"
            | "preproc_elifdef"
            | "linkage_specification"
            | "declaration_list" => {
                let mut c = n.walk();
                let children: Vec<Node> = n.named_children(&mut c).collect();
                stack.extend(children.into_iter().rev());
            }
            _ => {}
        }
    }
    items.sort_by_key(|n| n.start_byte());
    unit.functions = items
        .into_iter()
        .filter_map(|n| func::lower_function(&cx, n))
        .collect();
    if let Some(text) = &annotated {
        for f in &mut unit.functions {
            f.annotations = annot::of_definition(text, f);
        }
    }
    unit
}
