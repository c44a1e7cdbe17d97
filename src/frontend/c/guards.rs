//! cleanup.h lock guards (`kernel_macros.toml`, `guard`): `guard(CLASS)(args);`,
//! `scoped_guard(CLASS, args) { }` and `scoped_cond_guard(CLASS, fail, args)
//! { }` become the class's lock call, and its unlock call at every exit of
//! the guard's scope: the end of the block (or of the scoped body), `break`
//! and `continue` out of it, and `return` (after the returned value is
//! read). A `goto` releases nothing: its target's scope is not known here.

use super::field;
use super::lower::{kids, span, Lower};
use super::normalize::IterSite;
use super::table::{table, GuardSpec};
use crate::ir::{Callee, CfgBuilder, Cond, CondKind, Operand, StmtKind, Terminator};
use crate::source::Span;
use tree_sitter::Node;

/// A guard taken in an open scope: what releases it.
#[derive(Debug, Clone)]
pub struct HeldGuard {
    unlock: String,
    args: Vec<Operand>,
    spans: Vec<Span>,
    at: Span,
}

impl Lower<'_> {
    fn call_named(&mut self, name: &str, args: Vec<Operand>, spans: Vec<Span>, at: Span) {
        self.emit(
            StmtKind::Call {
                dst: None,
                callee: Callee::Direct {
                    path: name.to_string(),
                    name: name.to_string(),
                },
                args,
                arg_spans: spans,
            },
            at,
        );
    }

    fn emit_release(&mut self, g: &HeldGuard) {
        self.call_named(&g.unlock, g.args.clone(), g.spans.clone(), g.at);
    }

    /// Release the guards of the scopes above `depth`, innermost first,
    /// keeping them open (for `break`, `continue`, `return`).
    pub fn release_guards_above(&mut self, depth: usize) {
        let held: Vec<HeldGuard> = self.guard_scopes[depth.min(self.guard_scopes.len())..]
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev().cloned())
            .collect();
        for g in &held {
            self.emit_release(g);
        }
    }

    /// Close the innermost scope: release its guards, newest first.
    pub fn pop_guard_scope(&mut self) {
        let held = self.guard_scopes.pop().unwrap_or_default();
        for g in held.iter().rev() {
            self.emit_release(g);
        }
    }

    pub fn guards_held(&self) -> bool {
        self.guard_scopes.iter().any(|s| !s.is_empty())
    }

    /// The class of `guard(CLASS)` / the first argument of a scoped guard.
    fn guard_class(&self, n: Node) -> Option<GuardSpec> {
        (n.kind() == "identifier")
            .then(|| table().guards.get(self.cx.str(n)).cloned())
            .flatten()
    }

    /// `guard(CLASS)(args);` as an expression statement: lowered when the
    /// class is known.
    pub fn guard_stmt(&mut self, call: Node) -> bool {
        let Some(inner) = call.child_by_field_id(field::function().get()) else {
            return false;
        };
        let (Some(g), Some(class_args), Some(args)) = (
            inner.child_by_field_id(field::function().get()),
            inner.child_by_field_id(field::arguments().get()),
            call.child_by_field_id(field::arguments().get()),
        ) else {
            return false;
        };
        if inner.kind() != "call_expression" || self.cx.str(g) != "guard" {
            return false;
        }
        let Some(spec) = kids(class_args).first().and_then(|c| self.guard_class(*c)) else {
            return false;
        };
        let args: Vec<Node> = kids(args);
        let ops: Vec<Operand> = args.iter().map(|a| self.expr(*a)).collect();
        let spans: Vec<Span> = args.iter().map(|a| span(*a)).collect();
        let at = span(call);
        self.call_named(&spec.lock, ops.clone(), spans.clone(), at);
        if let Some(scope) = self.guard_scopes.last_mut() {
            scope.push(HeldGuard {
                unlock: spec.unlock,
                args: ops,
                spans,
                at,
            });
        }
        true
    }

    /// `scoped_guard(CLASS, args) body` / `scoped_cond_guard(CLASS, fail,
    /// args) body` (normalised to `while`): lowered when the class is known.
    /// The failure statement of a conditional guard is not lowered (the
    /// normaliser blanks it): on failure the body is skipped.
    pub fn scoped_guard(&mut self, n: Node, site: &IterSite) -> bool {
        let cond_guard = match site.name.as_str() {
            "scoped_guard" => false,
            "scoped_cond_guard" => true,
            _ => return false,
        };
        let Some(c) = n.child_by_field_id(field::condition().get()) else {
            return false;
        };
        let mut args = Vec::new();
        let mut e = kids(c).first().copied();
        while let Some(x) = e {
            if x.kind() == "comma_expression" {
                args.extend(x.child_by_field_id(field::left().get()));
                e = x.child_by_field_id(field::right().get());
            } else {
                args.push(x);
                e = None;
            }
        }
        let Some(spec) = args.first().and_then(|a| self.guard_class(*a)) else {
            return false;
        };
        let rest = &args[if cond_guard { 2 } else { 1 }.min(args.len())..];
        let ops: Vec<Operand> = rest.iter().map(|a| self.expr(*a)).collect();
        let spans: Vec<Span> = rest.iter().map(|a| span(*a)).collect();
        let at = Span::new(n.start_byte(), n.start_byte() + site.name.len());
        let body = self.new_block();
        let exit = self.new_block();
        if cond_guard || spec.cond {
            let t = self.temp();
            self.emit(
                StmtKind::Call {
                    dst: Some(t.clone()),
                    callee: Callee::Direct {
                        path: spec.lock.clone(),
                        name: spec.lock.clone(),
                    },
                    args: ops.clone(),
                    arg_spans: spans.clone(),
                },
                at,
            );
            self.terminate(Terminator::Branch {
                cond: Cond {
                    kind: CondKind::Truthy(Operand::Place(t)),
                    span: at,
                },
                then_bb: body,
                else_bb: exit,
                stmt_span: None,
            });
        } else {
            self.call_named(&spec.lock, ops.clone(), spans.clone(), at);
            self.goto(body);
        }
        self.cur = body;
        self.guard_scopes.push(vec![HeldGuard {
            unlock: spec.unlock,
            args: ops,
            spans,
            at,
        }]);
        // `break`/`continue` in the body leave the guard's scope (it is a
        // one-pass `for` loop in cleanup.h).
        self.loop_body(n.child_by_field_id(field::body().get()), exit, exit);
        self.pop_guard_scope();
        self.goto(exit);
        self.cur = exit;
        true
    }
}
