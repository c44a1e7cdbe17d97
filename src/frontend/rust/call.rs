//! Rust calls → IR: plain and method calls mapped through the Rust model
//! (guards, identities, `bindings::`), and macros.

use super::expr::{macro_name, path_last, path_text, DIVERGING_MACROS};
use super::lower::{GuardVal, Lower};
use crate::ir::*;
use crate::model::{Arg, RustCall};
use crate::source::Span;
use syn::Expr;

impl Lower<'_> {
    pub(super) fn emit_call(
        &mut self,
        name: &str,
        path: &str,
        args: Vec<Operand>,
        spans: Vec<Span>,
        span: Span,
    ) -> Place {
        let t = self.temp();
        self.emit(
            StmtKind::Call {
                dst: Some(t.clone()),
                callee: Callee::Direct {
                    name: name.to_string(),
                    path: path.to_string(),
                },
                args,
                arg_spans: spans,
            },
            span,
        );
        t
    }

    pub(super) fn args(&mut self, args: impl Iterator<Item = Expr>) -> (Vec<Operand>, Vec<Span>) {
        let mut ops = Vec::new();
        let mut spans = Vec::new();
        for a in args {
            spans.push(self.span_of(&a));
            ops.push(self.expr(&a));
        }
        (ops, spans)
    }

    /// A model call (`call` / `identity` / `guard`) with receiver `recv`.
    pub(super) fn model_call(
        &mut self,
        c: &RustCall,
        recv: Option<Operand>,
        args: Vec<Operand>,
        spans: Vec<Span>,
        written: &str,
        span: Span,
    ) -> Operand {
        let pick = |a: &Arg| -> Option<(Operand, Span)> {
            match a {
                Arg::Receiver => recv.clone().map(|r| (r, span)),
                Arg::Index(i) => args.get(*i).cloned().map(|o| (o, spans[*i])),
            }
        };
        match c {
            RustCall::Identity(a) => {
                let v = pick(a).map_or(Operand::Other { places: vec![] }, |(o, _)| o);
                let t = self.temp();
                self.assign(t.clone(), v, span);
                Operand::Place(t)
            }
            RustCall::Call {
                name,
                args: cargs,
                guard,
            } => {
                let picked: Vec<(Operand, Span)> = cargs.iter().filter_map(pick).collect();
                let (ops, sps): (Vec<Operand>, Vec<Span>) = picked.into_iter().unzip();
                let t = self.emit_call(name, written, ops, sps, span);
                let Some(g) = guard else {
                    return Operand::Place(t);
                };
                let held = if g.holds_result {
                    Operand::Place(t.clone())
                } else {
                    recv.clone().unwrap_or(Operand::Other { places: vec![] })
                };
                let t = if g.option {
                    t
                } else {
                    // A plain guard's value is what it holds.
                    let v = self.temp();
                    self.assign(v.clone(), held.clone(), span);
                    v
                };
                let held = if g.option {
                    held
                } else {
                    Operand::Place(t.clone())
                };
                self.new_guard_temp(
                    &t,
                    GuardVal {
                        release: g.release.clone(),
                        held,
                        option: g.option,
                    },
                    span,
                );
                Operand::Place(t)
            }
        }
    }

    pub(super) fn call(&mut self, c: &syn::ExprCall, span: Span) -> Operand {
        let Expr::Path(p) = &*c.func else {
            let f = self.expr(&c.func);
            let (args, spans) = self.args(c.args.iter().cloned());
            let callee = match f {
                Operand::Place(p) => Callee::Indirect(p),
                _ => {
                    let places = args.iter().flat_map(|a| a.places()).cloned().collect();
                    self.emit(StmtKind::Use { places }, span);
                    return Operand::Other { places: vec![] };
                }
            };
            let t = self.temp();
            self.emit(
                StmtKind::Call {
                    dst: Some(t.clone()),
                    callee,
                    args,
                    arg_spans: spans,
                },
                span,
            );
            return Operand::Place(t);
        };
        let path = path_text(&p.path);
        let name = path_last(&p.path);
        let (args, spans) = self.args(c.args.iter().cloned());
        if self.m.forget_functions.contains(&path) && args.len() == 1 {
            if let Some((g, _)) = self.guard_of(&args[0]) {
                self.mark_moved(&g, span);
            }
            return Operand::Other { places: vec![] };
        }
        if self.m.is_drop(&path) && args.len() == 1 {
            if let Some((g, _)) = self.guard_of(&args[0]) {
                self.drop_guard(&g, span);
                self.mark_moved(&g, span);
            }
            return Operand::Other { places: vec![] };
        }
        let wraps = matches!(name.as_str(), "Some" | "Ok") || path.ends_with("Box::new");
        if wraps && args.len() == 1 {
            return args.into_iter().next().unwrap_or(Operand::Null);
        }
        if let Some(mc) = self.m.function(&path).cloned() {
            return self.model_call(&mc, None, args, spans, &path, span);
        }
        // A guard passed by value belongs to the callee now.
        self.escape(&args, span);
        Operand::Place(self.emit_call(&name, &path, args, spans, span))
    }

    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall, span: Span) -> Operand {
        let recv = self.expr(&m.receiver);
        let method = m.method.to_string();
        let (args, spans) = self.args(m.args.iter().cloned());
        if self.m.option_unwrap.contains(&method) {
            return self.unwrap_guard(recv, span);
        }
        if let Some(mc) = self.m.methods.get(&method).cloned() {
            return self.model_call(&mc, Some(recv), args, spans, &method, span);
        }
        self.escape(&args, span);
        let recv_span = self.span_of(&m.receiver);
        let recv = self.borrow(recv, recv_span);
        let mut all = vec![recv];
        all.extend(args);
        let mut all_spans = vec![recv_span];
        all_spans.extend(spans);
        Operand::Place(self.emit_call(&method, &method, all, all_spans, span))
    }

    pub fn mac(&mut self, m: &syn::Macro, span: Span) -> Operand {
        let name = macro_name(m);
        if DIVERGING_MACROS.contains(&name.as_str()) {
            self.terminate_dead(Terminator::Unreachable);
            return Operand::Other { places: vec![] };
        }
        let parsed = m
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated);
        match parsed {
            Ok(exprs) => {
                // Macro arguments are borrowed (`format_args!`), never moved.
                let v = self.list(exprs.iter(), false);
                let places: Vec<Place> = v.places().into_iter().cloned().collect();
                if !places.is_empty() {
                    self.emit(StmtKind::Use { places }, span);
                }
            }
            Err(_) => self.opaque_tokens(m.tokens.clone(), span, false),
        }
        Operand::Other { places: vec![] }
    }
}
