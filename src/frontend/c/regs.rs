//! Callback registrations: `struct ops x = { .field = fn, ... };`.

use super::field;
use super::lower::{span, Ctx};
use crate::ir::Registration;
use tree_sitter::Node;

fn named(n: Node) -> Vec<Node> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|c| c.kind() != "comment")
        .collect()
}

/// Collect registrations from a file-scope declaration.
pub fn registrations(cx: &Ctx, decl: Node, out: &mut Vec<Registration>) {
    let Some(ty) = decl.child_by_field_id(field::ty().get()) else {
        return;
    };
    let struct_type = match ty.kind() {
        "struct_specifier" | "union_specifier" => match ty.child_by_field_id(field::name().get()) {
            Some(n) => cx.str(n).to_string(),
            None => return,
        },
        "type_identifier" => cx.str(ty).to_string(),
        _ => return,
    };
    let mut c = decl.walk();
    let decls: Vec<Node> = decl
        .children_by_field_id(field::declarator(), &mut c)
        .collect();
    for d in decls {
        if d.kind() != "init_declarator" {
            continue;
        }
        let Some(v) = d.child_by_field_id(field::value().get()) else {
            continue;
        };
        if v.kind() != "initializer_list" {
            continue;
        }
        let items = named(v);
        if items.iter().any(|i| i.kind() == "initializer_pair") {
            one(cx, &struct_type, v, decl, out);
        } else {
            // An array of structs: one registration per element.
            for i in items.into_iter().filter(|i| i.kind() == "initializer_list") {
                one(cx, &struct_type, i, i, out);
            }
        }
    }
}

fn one(cx: &Ctx, struct_type: &str, list: Node, sp: Node, out: &mut Vec<Registration>) {
    let mut fields = Vec::new();
    for p in named(list) {
        if p.kind() != "initializer_pair" {
            continue;
        }
        let mut c = p.walk();
        let des: Vec<Node> = p
            .children_by_field_id(field::designator(), &mut c)
            .collect();
        let [d] = des.as_slice() else { continue };
        let field = match d.kind() {
            "field_designator" => match d.named_child(0) {
                Some(f) => cx.str(f),
                None => continue,
            },
            "field_identifier" => cx.str(*d),
            _ => continue,
        };
        let Some(mut v) = p.child_by_field_id(field::value().get()) else {
            continue;
        };
        if v.kind() == "pointer_expression" && v.child(0).is_some_and(|o| o.kind() == "&") {
            match v.child_by_field_id(field::argument().get()) {
                Some(a) => v = a,
                None => continue,
            }
        }
        if v.kind() == "identifier" {
            fields.push((field.to_string(), cx.str(v).to_string()));
        }
    }
    if !fields.is_empty() {
        out.push(Registration {
            struct_type: struct_type.to_string(),
            fields,
            span: span(sp),
        });
    }
}
