//! The path of a finding, worded: each step of the analysis' path
//! ([`crate::analysis::Step`]) as a label, consecutive steps at one place
//! joined into one.

use super::context::LintCx;
use crate::analysis::{Located, StepKind};
use crate::diag::Label;
use crate::ir::{Callee, StmtKind};
use crate::source::Span;

/// Longest condition text quoted in a branch step.
const MAX_COND: usize = 60;

/// The path of `l`. `anchors` are the places the finding's own labels name
/// (the release, the first unlock): one that the path lost (a join kept
/// another path's steps, or the bound dropped it) is added at its end, so
/// the path always reaches the cause.
pub fn path(cx: &LintCx, l: &Located, anchors: &[Label]) -> Vec<Label> {
    let mut out: Vec<Label> = Vec::new();
    let mut last: Option<Span> = None;
    for step in &l.path.0 {
        if let StepKind::Entry {
            vma_lock: Some(_), ..
        } = step.kind
        {
            out.extend(origin(cx, l));
        }
        let message = word(cx, l, &step.kind, step.at);
        if last == Some(step.at) {
            if let Some(prev) = out.last_mut() {
                join(&mut prev.message, &message, &step.kind);
                continue;
            }
        }
        last = Some(step.at);
        out.push(cx.label(l.file, step.at, message));
    }
    for a in anchors {
        if !out.iter().any(|s| s.span == a.span && s.file == a.file) {
            out.push(a.clone());
        }
    }
    out
}

/// Where a function with a fault comes from: its callback registration
/// (narrowed to `.field = name`), else a call to it.
fn origin(cx: &LintCx, l: &Located) -> Option<Label> {
    let f = &l.function;
    for r in &cx.units[l.file].registrations {
        let Some((field, _)) = r.fields.iter().find(|(_, name)| name == f) else {
            continue;
        };
        let text = cx.text(l.file, r.span);
        let at = text.find(&format!(".{field}")).and_then(|i| {
            let end = i + text[i..].find(f.as_str())? + f.len();
            Some(Span::new(
                r.span.start as usize + i,
                r.span.start as usize + end,
            ))
        });
        let message = format!(
            "`{f}()` is the `.{field}` callback of a `struct {}`: the kernel calls it with either fault lock",
            r.struct_type
        );
        return Some(cx.label(l.file, at.unwrap_or(r.span), message));
    }
    if let Some((file, caller, at)) = calls_of(cx, l.file, None, f).next() {
        return Some(cx.label(file, at, format!("`{caller}()` calls `{f}()` here")));
    }
    fault_param(cx, l)
}

/// The `struct vm_fault *` parameter of the finding's function, as written
/// in its head.
fn fault_param(cx: &LintCx, l: &Located) -> Option<Label> {
    let fs = &cx.model.fault.fault_struct;
    let func = cx.units[l.file]
        .functions
        .iter()
        .find(|g| g.name == l.function)?;
    let p = func
        .params
        .iter()
        .find(|p| p.ty.ptr == 1 && p.ty.base == *fs)?;
    let head = Span::new(func.name_span.end as usize, func.span.end as usize);
    let text = cx.text(l.file, head);
    let i = text.find(fs.as_str())?;
    let j = i + text[i..].find(p.name.as_str())? + p.name.len();
    let at = Span::new(head.start as usize + i, head.start as usize + j);
    let flag = &cx.model.fault.vma_lock_flag;
    let message = format!(
        "`{}` is a fault: with `{flag}` set in its flags it runs under the per-VMA lock alone",
        p.name
    );
    Some(cx.label(l.file, at, message))
}

/// Calls of `callee` (in the function `within`, or in any), the file
/// `first` first.
fn calls_of<'c>(
    cx: &'c LintCx,
    first: usize,
    within: Option<&'c str>,
    callee: &'c str,
) -> impl Iterator<Item = (usize, &'c str, Span)> + 'c {
    let order = std::iter::once(first).chain((0..cx.units.len()).filter(move |&i| i != first));
    order.flat_map(move |file| {
        cx.units[file]
            .functions
            .iter()
            .filter(move |g| within.map_or(true, |w| g.name == w) && g.name != callee)
            .flat_map(move |g| {
                g.blocks
                    .iter()
                    .flat_map(|b| &b.stmts)
                    .filter_map(move |s| match &s.kind {
                        StmtKind::Call {
                            callee: Callee::Direct { name, .. },
                            ..
                        } if name == callee => Some((file, g.name.as_str(), s.span)),
                        _ => None,
                    })
            })
    })
}

/// Steps down a call chain (`["f", "g", "mmap_assert_locked"]`, outermost
/// first): where each callee calls the next, as far as their definitions
/// are in the run.
pub fn chain(cx: &LintCx, file: usize, chain: &[String]) -> Vec<Label> {
    chain
        .windows(2)
        .filter_map(|w| {
            let (file, _, at) = calls_of(cx, file, Some(&w[0]), &w[1]).next()?;
            Some(cx.label(file, at, format!("`{}()` calls `{}()` here", w[0], w[1])))
        })
        .collect()
}

/// Add `next` to the message of a step at the same place: the callee
/// named once (`` `f()` returns 0, takes the mmap_lock ``), and a returned
/// VMA left out when the lock it comes under was just taken.
fn join(prev: &mut String, next: &str, kind: &StepKind) {
    if let StepKind::Obtained { lock, .. } = kind {
        if prev.contains(&format!("takes the {lock}")) {
            return;
        }
    }
    if prev.contains(next) {
        return;
    }
    let callee = prev.split_inclusive("()` ").next().unwrap_or("");
    match next.strip_prefix(callee) {
        Some(rest) if callee.ends_with("()` ") => *prev = format!("{prev}, {rest}"),
        _ => *prev = format!("{prev}; {next}"),
    }
}

fn word(cx: &LintCx, l: &Located, kind: &StepKind, at: Span) -> String {
    let flag = &cx.model.fault.vma_lock_flag;
    let f = &l.function;
    match kind {
        StepKind::Entry {
            vma_lock: Some(true),
            ..
        } => {
            format!("`{f}()` entered with `{flag}` set: the per-VMA lock is held, mmap_lock is not")
        }
        StepKind::Entry {
            vma_lock: Some(false),
            ..
        } => {
            format!("`{f}()` entered with `{flag}` clear: mmap_lock is held")
        }
        StepKind::Entry { .. } => format!("`{f}()` starts here"),
        StepKind::Acquire { callee, lock } => format!("`{callee}()` takes the {lock}"),
        StepKind::Obtained { callee, lock } => {
            format!("`{callee}()` returns the VMA, protected by the {lock}")
        }
        StepKind::Release {
            callee,
            lock,
            may: true,
        } => format!("`{callee}()` may have released the {lock}"),
        StepKind::Release { callee, lock, .. } => format!("`{callee}()` releases the {lock}"),
        StepKind::Outcome {
            callee,
            bits,
            truthy,
        } => {
            let has: Vec<&str> = bits
                .iter()
                .filter(|(_, v)| *v)
                .map(|(b, _)| b.as_str())
                .collect();
            let lacks: Vec<&str> = bits
                .iter()
                .filter(|(_, v)| !*v)
                .map(|(b, _)| b.as_str())
                .collect();
            let mut parts = Vec::new();
            if !has.is_empty() {
                parts.push(has.join(" | "));
            } else if let Some(t) = truthy {
                parts.push(
                    if *t {
                        "non-zero (non-NULL)"
                    } else {
                        "0 (NULL)"
                    }
                    .to_string(),
                );
            }
            if has.is_empty() && !lacks.is_empty() {
                parts.push(format!("without {}", lacks.join(" or ")));
            }
            format!("`{callee}()` returns {}", parts.join(" "))
        }
        StepKind::Branch { taken } => {
            let text: String = cx
                .text(l.file, at)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let text = if text.chars().count() > MAX_COND {
                let cut: String = text.chars().take(MAX_COND).collect();
                format!("{cut}…")
            } else {
                text
            };
            format!("`{text}` is {taken} on this path")
        }
        StepKind::Flag { callee, set } => {
            let how = if *set { "set" } else { "clear" };
            format!("taking `{flag}` as {how} in the flags given to `{callee}()`")
        }
    }
}
