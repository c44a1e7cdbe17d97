//! Shared by the `manual_fault_lock_*` lints: `if` statements that test the
//! fault flag, with the straight-line calls on each side.

use super::context::LintCx;
use crate::diag::{Applicability, Diagnostic, Suggestion};
use crate::ir::{BlockId, Callee, CondKind, Function, Operand, Place, Proj, StmtKind, Terminator};
use crate::model::LockModel;
use crate::source::Span;

/// `if (X->flags & FAULT_FLAG_VMA_LOCK) <set> else <clear>` where each side
/// is a run of calls (possibly empty) that joins at the same block.
pub struct FaultBranch<'f> {
    /// The `vm_fault` expression `X`.
    pub vmf: Place,
    pub stmt_span: Span,
    /// Calls on the flag-set side: (callee, args).
    pub set: Vec<(&'f str, &'f [Operand])>,
    /// Calls on the flag-clear side.
    pub clear: Vec<(&'f str, &'f [Operand])>,
}

pub fn fault_branches<'f>(f: &'f Function, model: &LockModel) -> Vec<FaultBranch<'f>> {
    let mut out = Vec::new();
    for b in &f.blocks {
        let Terminator::Branch {
            cond,
            then_bb,
            else_bb,
            stmt_span: Some(stmt_span),
        } = &b.term
        else {
            continue;
        };
        let CondKind::BitTest {
            value: Operand::Place(p),
            mask,
        } = &cond.kind
        else {
            continue;
        };
        if mask.len() != 1 || mask[0] != model.fault.vma_lock_flag {
            continue;
        }
        let n = p.proj.len();
        if n < 2
            || p.proj[n - 2] != Proj::Deref
            || p.proj[n - 1] != Proj::Field(model.fault.flags_field.clone())
        {
            continue;
        }
        let vmf = Place {
            base: p.base.clone(),
            proj: p.proj[..n - 2].to_vec(),
        };
        let (a, b) = (chain(f, *then_bb), chain(f, *else_bb));
        let Some(join) = a.iter().find(|x| b.contains(x)).copied() else {
            continue;
        };
        let (Some(set), Some(clear)) = (calls_before(f, &a, join), calls_before(f, &b, join))
        else {
            continue;
        };
        out.push(FaultBranch {
            vmf,
            stmt_span: *stmt_span,
            set,
            clear,
        });
    }
    out
}

/// The blocks reached from `b` by unconditional jumps (at most a few).
fn chain(f: &Function, mut b: BlockId) -> Vec<BlockId> {
    let mut out = vec![b];
    while let Some(Terminator::Goto(t)) = f.blocks.get(b).map(|x| &x.term) {
        if out.contains(t) || out.len() > 8 {
            break;
        }
        out.push(*t);
        b = *t;
    }
    out
}

/// The calls in the blocks of `chain` before `join`, if those blocks hold
/// nothing but calls whose results are unused.
fn calls_before<'f>(
    f: &'f Function,
    chain: &[BlockId],
    join: BlockId,
) -> Option<Vec<(&'f str, &'f [Operand])>> {
    let mut calls = Vec::new();
    for &b in chain.iter().take_while(|&&b| b != join) {
        for s in &f.blocks[b].stmts {
            match &s.kind {
                StmtKind::Call {
                    dst: None,
                    callee: Callee::Direct { name, .. },
                    args,
                    ..
                } => calls.push((name.as_str(), args.as_slice())),
                _ => return None,
            }
        }
    }
    Some(calls)
}

/// `X->vma` for the vm_fault expression `X`.
pub fn vma_of(vmf: &Place, model: &LockModel) -> Place {
    vmf.arrow(&model.fault.vma_field)
}

/// The diagnostic of a `manual_fault_lock_*` lint: the whole `if`
/// statement, replaced by a call to `helper(vmf)`; machine-applicable when
/// `exact` (the calls named the fault's own VMA and mm).
pub struct HelperSuggestion<'a> {
    pub lint: &'static str,
    pub helper: &'a str,
    pub message: &'a str,
    pub note: String,
    pub exact: bool,
}

impl HelperSuggestion<'_> {
    pub fn diagnostic(
        self,
        cx: &LintCx,
        file: usize,
        f: &Function,
        br: &FaultBranch,
    ) -> Diagnostic {
        let vmf = br.vmf.to_string();
        let mut d = cx.diag(
            self.lint,
            file,
            Some(&f.name),
            br.stmt_span,
            self.message.to_string(),
        );
        d.notes.push(self.note);
        let text = &cx.files[file].text;
        let start = (br.stmt_span.start as usize).min(text.len());
        let end = (br.stmt_span.end as usize).clamp(start, text.len());
        let region = text.get(start..end).unwrap_or("");
        // Comments of the replaced statement move above the call, each on
        // its own line at the statement's indentation. A region that holds
        // a preprocessor line cannot be rewritten faithfully.
        let kept = comments(region);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..start]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let mut replacement = String::new();
        for c in kept.iter().flatten() {
            replacement.push_str(c);
            replacement.push('\n');
            replacement.push_str(&indent);
        }
        replacement.push_str(&format!("{}({vmf});", self.helper));
        d.suggestion = Some(Suggestion {
            message: format!("use `{}()`", self.helper),
            span: br.stmt_span,
            replacement,
            applicability: if self.exact && kept.is_some() {
                Applicability::MachineApplicable
            } else {
                Applicability::MaybeIncorrect
            },
        });
        d
    }
}

/// The comments of a C or Rust statement's text, in order (string and
/// character literals skipped); `None` when it holds a preprocessor line.
pub fn comments(text: &str) -> Option<Vec<&str>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if line_start => return None,
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                out.push(&text[i..end]);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |p| i + p);
                out.push(text[i..end].trim_end());
                i = end;
            }
            q @ (b'"' | b'\'') => {
                // A `'` that opens no character literal is a Rust lifetime.
                let close = (i + 1..b.len())
                    .scan(false, |esc, j| {
                        let c = b[j];
                        let r = (!*esc && c == q).then_some(j);
                        *esc = !*esc && c == b'\\';
                        Some((r, c))
                    })
                    .take_while(|&(_, c)| c != b'\n')
                    .find_map(|(r, _)| r);
                i = match close {
                    Some(j) if q == b'"' || j <= i + 3 => j + 1,
                    _ => i + 1,
                };
            }
            _ => i += 1,
        }
        line_start = false;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::comments;

    #[test]
    fn comments_of_a_statement() {
        assert_eq!(
            comments("if (x) /* a */\n\tf(\"/* no */\", '\"'); // b \nelse g(); /* c\n d */"),
            Some(vec!["/* a */", "// b", "/* c\n d */"])
        );
        assert_eq!(comments("if (x)\n#ifdef A\n\tf();\n#endif\n"), None);
        assert_eq!(comments("if a { f::<'a>(x) } // z"), Some(vec!["// z"]));
    }
}
