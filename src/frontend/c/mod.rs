//! The C front end (kernel-style C through tree-sitter-c).
//!
//! Pipeline per file: [`preproc`] (evaluate `#if` against the defines,
//! blank directives) → [`normalize`] (kernel macro shapes from
//! `kernel_macros.toml`) → tree-sitter → [`lower`] (CST → IR). Both text
//! passes keep every byte offset, so all spans point into the original text.

mod expr;
mod func;
mod lower;
mod normalize;
mod preproc;
mod regs;
mod table;
#[cfg(test)]
mod tests;

use crate::frontend::Defines;
use crate::ir::Unit;
use crate::source::SourceFile;
use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn parse(text: &[u8]) -> Option<Tree> {
    PARSER.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&tree_sitter_c::LANGUAGE.into()).ok()?;
            *p = Some(parser);
        }
        let parser = p.as_mut()?;
        let tree = parser.parse(text, None);
        if tree.is_none() {
            parser.reset();
        }
        tree
    })
}

/// The text tree-sitter sees: original length, directives evaluated and
/// kernel macros rewritten.
pub fn normalized_text(file: &SourceFile, defines: &Defines) -> Vec<u8> {
    let pre = preproc::preprocess(file.text.as_bytes(), defines);
    normalize::normalize(pre).text
}

/// Lower every function definition and every callback registration of a
/// C file. Never panics; unparsable input gives an empty or partial unit.
pub fn lower_file(file: &SourceFile, defines: &Defines) -> Unit {
    let src = file.text.as_bytes();
    if src.len() >= u32::MAX as usize / 2 {
        return Unit::default();
    }
    let pre = preproc::preprocess(src, defines);
    let norm = normalize::normalize(pre);
    let Some(tree) = parse(&norm.text) else {
        return Unit::default();
    };
    let cx = lower::Ctx {
        text: &norm.text,
        iters: &norm.iters,
        defines,
    };
    let mut unit = Unit::default();
    // Iterative walk over top-level items (no recursion on hostile depth).
    let mut stack: Vec<Node> = vec![tree.root_node()];
    let mut items = Vec::new();
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" => items.push(n),
            "declaration" => regs::registrations(&cx, n, &mut unit.registrations),
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
    for n in items {
        if let Some(f) = func::lower_function(&cx, n) {
            if f.opaque_regions > 0 {
                unit.opaque_functions += 1;
            }
            unit.functions.push(f);
        }
    }
    unit
}
