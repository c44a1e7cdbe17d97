//! One function definition → [`Function`].

use super::field;
use super::lower::{declarator, kids, span, type_base, Ctx, Lower};
use crate::ir::*;
use crate::source::Span;
use tree_sitter::Node;

pub fn lower_function(cx: &Ctx, n: Node) -> Option<Function> {
    let decl = n.child_by_field_id(field::declarator().get())?;
    let body = n.child_by_field_id(field::body().get())?;
    let info = declarator(cx, decl);
    let (name, name_node) = info.name?;
    let ret = TypeRef {
        base: n
            .child_by_field_id(field::ty().get())
            .map(|t| type_base(cx, t))
            .unwrap_or_default(),
        ptr: info.ptr,
    };
    let params = info.params.map(|pl| params(cx, pl)).unwrap_or_default();
    let mut l = Lower::new(cx);
    l.vars.extend(params.iter().map(|p| p.name.clone()));
    l.cur = l.new_block();
    if decl.has_error() {
        l.opaque(decl);
    }
    l.stmt(body);
    let end = body.end_byte();
    l.terminate(Terminator::Return {
        value: None,
        span: Span::new(end.saturating_sub(1), end),
    });
    if body.has_error() && l.opaque == 0 {
        // Safety net: an error node the structured lowering did not visit.
        l.opaque(body);
    }
    let opaque_regions = l.opaque;
    let locals = std::mem::take(&mut l.locals);
    Some(Function {
        name: name.to_string(),
        span: span(n),
        name_span: span(name_node),
        params,
        locals,
        ret,
        annotations: Vec::new(),
        blocks: compact(l.blocks),
        opaque_regions,
        parse: crate::ir::Parse::Primary,
    })
}

/// The named parameters of a parameter list.
pub fn params(cx: &Ctx, list: Node) -> Vec<Var> {
    let mut params = Vec::new();
    for p in kids(list) {
        if p.kind() != "parameter_declaration" {
            continue;
        }
        let Some(d) = p.child_by_field_id(field::declarator().get()) else {
            continue;
        };
        let pi = declarator(cx, d);
        if let Some((pn, pnode)) = pi.name {
            params.push(Var {
                name: pn.to_string(),
                ty: TypeRef {
                    base: p
                        .child_by_field_id(field::ty().get())
                        .map(|t| type_base(cx, t))
                        .unwrap_or_default(),
                    ptr: pi.ptr,
                },
                span: span(pnode),
            });
        }
    }
    params
}

/// Drop blocks unreachable from the entry and renumber; unterminated
/// blocks (labels never defined) become `Unreachable`.
fn compact(mut blocks: Vec<Block>) -> Vec<Block> {
    for b in &mut blocks {
        if matches!(b.term, Terminator::None) {
            b.term = Terminator::Unreachable;
        }
    }
    // Thread jumps through empty `goto` blocks. Each block's final target
    // is computed once (a chain of `n` forwarding blocks is O(n), not
    // O(n^2)); a cycle of empty blocks stays where it is.
    let n = blocks.len();
    let forward = |b: BlockId| match &blocks[b].term {
        Terminator::Goto(t) if blocks[b].stmts.is_empty() && b != 0 && *t != b => Some(*t),
        _ => None,
    };
    let next: Vec<Option<BlockId>> = (0..n).map(forward).collect();
    let mut target: Vec<Option<BlockId>> = vec![None; n];
    let mut on_path = vec![false; n];
    for start in 0..n {
        let mut path = Vec::new();
        let mut b = start;
        let end = loop {
            if let Some(t) = target[b] {
                break t;
            }
            if on_path[b] {
                // A cycle of forwarding blocks: they resolve to themselves.
                break b;
            }
            match next[b] {
                Some(t) => {
                    on_path[b] = true;
                    path.push(b);
                    b = t;
                }
                None => {
                    target[b] = Some(b);
                    break b;
                }
            }
        };
        for p in path {
            on_path[p] = false;
            target[p] = Some(end);
        }
    }
    let resolve = |_: &[Block], b: BlockId| target[b].unwrap_or(b);
    for i in 0..n {
        let t = match std::mem::take(&mut blocks[i].term) {
            Terminator::Goto(t) => Terminator::Goto(resolve(&blocks, t)),
            Terminator::Branch {
                cond,
                then_bb,
                else_bb,
                stmt_span,
            } => Terminator::Branch {
                cond,
                then_bb: resolve(&blocks, then_bb),
                else_bb: resolve(&blocks, else_bb),
                stmt_span,
            },
            Terminator::Multi(bs) => {
                Terminator::Multi(bs.into_iter().map(|b| resolve(&blocks, b)).collect())
            }
            t => t,
        };
        blocks[i].term = t;
    }
    let mut map = vec![usize::MAX; blocks.len()];
    let mut order = Vec::new();
    map[0] = 0;
    order.push(0);
    // Breadth-first numbering keeps the output stable and readable.
    let mut i = 0;
    while i < order.len() {
        let b = order[i];
        for s in blocks[b].term.successors() {
            if map[s] == usize::MAX {
                map[s] = order.len();
                order.push(s);
            }
        }
        i += 1;
    }
    let mut out: Vec<Block> = Vec::with_capacity(order.len());
    for &b in &order {
        let mut blk = std::mem::take(&mut blocks[b]);
        blk.term = match blk.term {
            Terminator::Goto(t) => Terminator::Goto(map[t]),
            Terminator::Branch {
                cond,
                then_bb,
                else_bb,
                stmt_span,
            } => Terminator::Branch {
                cond,
                then_bb: map[then_bb],
                else_bb: map[else_bb],
                stmt_span,
            },
            Terminator::Multi(bs) => Terminator::Multi(bs.into_iter().map(|b| map[b]).collect()),
            t => t,
        };
        out.push(blk);
    }
    out
}
