//! Lock annotations: the one vocabulary C comments, kernel macros and Rust
//! attributes share (documented in `lints/annotations.md`).
//!
//! ```text
//! ANNOTATION := KIND "(" TERM [ "," "when" "=" "\"" COND "\"" ] ")"
//! KIND       := requires | acquires | releases
//! TERM       := LOCK "(" PATH ")"
//! LOCK       := mmap_read | mmap_write | mmap | vma_read | hugetlb_vma_read | fault_lock
//! PATH       := PARAM { ("->" | ".") FIELD } | return      (return: acquires only)
//! COND       := nonnull | null | true | nonzero | false | zero | bits:A|B | nobits:A|B
//! ```
//!
//! Whitespace (newlines included) is allowed between tokens. An annotation
//! means what a lock-model entry with the same effect means: `requires` is
//! an `assert`, `acquires`/`releases` are `acquire`/`release` under the
//! optional condition on the result.

use super::term::{self, LockKind, PathExpr, Term};
use super::{parse_when, Effect, EffectKind, When};

/// What an annotation says about its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationKind {
    /// The caller must hold the lock; the function returns with it held.
    Requires,
    /// The function returns with the lock held (under the condition).
    Acquires,
    /// The function returns with the lock released (under the condition);
    /// it must be held on entry.
    Releases,
}

impl AnnotationKind {
    pub fn name(self) -> &'static str {
        match self {
            AnnotationKind::Requires => "requires",
            AnnotationKind::Acquires => "acquires",
            AnnotationKind::Releases => "releases",
        }
    }
}

/// A parsed annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockAnnotation {
    pub kind: AnnotationKind,
    pub term: Term,
    pub when: When,
}

impl LockAnnotation {
    /// The lock-model effect a caller sees.
    pub fn effect(&self) -> Effect {
        let kind = match self.kind {
            AnnotationKind::Requires => EffectKind::Assert,
            AnnotationKind::Acquires => EffectKind::Acquire,
            AnnotationKind::Releases => EffectKind::Release,
        };
        Effect {
            kind,
            term: self.term.clone(),
            when: self.when.clone(),
        }
    }
}

/// Annotation kinds, as the error messages list them.
pub const KINDS: &[&str] = &["requires", "acquires", "releases"];
/// Lock kinds an annotation may name.
pub const LOCKS: &[&str] = &[
    "mmap_read",
    "mmap_write",
    "mmap",
    "vma_read",
    "hugetlb_vma_read",
    "fault_lock",
];

/// Parse one annotation against the annotated function's parameter names.
/// The error says which part is wrong, why, and what is expected.
pub fn parse(text: &str, params: &[String]) -> Result<LockAnnotation, String> {
    let text = text.trim();
    let name_len = ident_len(text);
    let name = &text[..name_len];
    let kind = match name {
        "requires" => AnnotationKind::Requires,
        "acquires" => AnnotationKind::Acquires,
        "releases" => AnnotationKind::Releases,
        "" => {
            return Err(format!(
                "`{text}` is not an annotation; expected one of {} followed by `(`",
                list(KINDS)
            ))
        }
        other => {
            return Err(format!(
                "unknown annotation kind `{other}`; expected one of {}",
                list(KINDS)
            ))
        }
    };
    let rest = text[name_len..].trim_start();
    let Some(after_open) = rest.strip_prefix('(') else {
        return Err(format!(
            "expected `(` after `{name}`, like `{name}(mmap_read(mm))`"
        ));
    };
    let close = matching_paren(after_open)
        .ok_or_else(|| format!("unclosed `(` in `{text}`: missing `)`"))?;
    let trailing = after_open[close + 1..].trim();
    if !trailing.is_empty() {
        return Err(format!(
            "unexpected `{trailing}` after `{name}(...)`; write one annotation at a time"
        ));
    }
    let args = split_top_level(&after_open[..close]);
    let term_text = args[0].trim();
    if term_text.is_empty() {
        return Err(format!(
            "`{name}` needs a lock term, like `{name}(mmap_read(mm))`"
        ));
    }
    let term = parse_lock(term_text, params)?;
    if term.args[0] == PathExpr::Return && kind != AnnotationKind::Acquires {
        return Err(format!(
            "`{term_text}`: `return` names the result, which only `acquires` can lock"
        ));
    }
    let when = match &args[1..] {
        [] => When::Always,
        [w] => {
            if kind == AnnotationKind::Requires {
                return Err(
                    "`requires` takes no condition: the lock is needed on every call".to_string(),
                );
            }
            parse_condition(w.trim())?
        }
        [_, extra, ..] => {
            return Err(format!(
                "unexpected argument `{}` of `{name}`; expected a lock term and at most `when = \"COND\"`",
                extra.trim()
            ))
        }
    };
    Ok(LockAnnotation { kind, term, when })
}

/// `LOCK(PATH)`, with `.` accepted as a field separator (Rust).
fn parse_lock(text: &str, params: &[String]) -> Result<Term, String> {
    let lock_len = ident_len(text);
    let lock = &text[..lock_len];
    if !LOCKS.contains(&lock) {
        let what = if lock.is_empty() { text } else { lock };
        return Err(format!(
            "unknown lock kind `{what}`; expected one of {}",
            list(LOCKS)
        ));
    }
    let inner = text[lock_len..]
        .trim_start()
        .strip_prefix('(')
        .and_then(|r| matching_paren(r).map(|c| (r, c)))
        .filter(|(r, c)| r[c + 1..].trim().is_empty())
        .map(|(r, c)| &r[..c])
        .ok_or_else(|| {
            format!("`{text}` is not a lock term; expected `{lock}(PARAM)`, like `{lock}(mm)`")
        })?;
    if inner.trim() == "*" || inner.contains(',') {
        return Err(format!(
            "`{text}`: `{lock}` takes one parameter or a path from one, like `vmf->vma`"
        ));
    }
    let path = inner.replace('.', "->");
    if path.trim().is_empty() {
        return Err(format!("`{text}`: `{lock}` needs a parameter"));
    }
    let t = term::parse_term(&format!("{lock}({path})"), params).map_err(|e| {
        if params.is_empty() {
            format!("`{text}`: the function has no parameters to name")
        } else {
            format!("`{text}`: {e}")
        }
    })?;
    debug_assert!(!matches!(
        t.kind,
        LockKind::Selected | LockKind::SelectedMmap
    ));
    Ok(t)
}

/// `when = "COND"`.
fn parse_condition(arg: &str) -> Result<When, String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!("expected `when = \"COND\"`, found `{arg}`"));
    };
    if key.trim() != "when" {
        return Err(format!(
            "unknown argument `{}`; the only one is `when = \"COND\"`",
            key.trim()
        ));
    }
    let value = value.trim();
    let cond = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.contains('"'))
        .ok_or_else(|| format!("the condition must be a string in quotes, like `when = \"nonnull\"`; found `{value}`"))?;
    match parse_when(cond)? {
        When::Always => Err("`always` is the default; leave out `when`".to_string()),
        w => Ok(w),
    }
}

fn ident_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// Index of the `)` closing an already opened `(`, outside string quotes.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth == 0 => return Some(i),
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Split at commas outside parentheses and quotes.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<String> {
        ["vmf", "mm", "vma", "self"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn ok(text: &str) -> LockAnnotation {
        parse(text, &params()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        parse(text, &params()).expect_err(text)
    }

    fn param(index: usize, fields: &[&str]) -> PathExpr {
        PathExpr::Param {
            index,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn each_kind_parses() {
        let r = ok("requires(mmap_read(mm))");
        assert_eq!(r.kind, AnnotationKind::Requires);
        assert_eq!(r.term.kind, LockKind::MmapRead);
        assert_eq!(r.term.args, vec![param(1, &[])]);
        assert_eq!(r.when, When::Always);
        assert_eq!(r.effect().kind, EffectKind::Assert);

        let a = ok("acquires(vma_read(return), when = \"nonnull\")");
        assert_eq!(a.kind, AnnotationKind::Acquires);
        assert_eq!(a.term.args, vec![PathExpr::Return]);
        assert_eq!(a.when, When::NonNull);
        assert_eq!(a.effect().kind, EffectKind::Acquire);

        let rel =
            ok("releases(fault_lock(vmf), when = \"bits:VM_FAULT_RETRY|VM_FAULT_COMPLETED\")");
        assert_eq!(rel.kind, AnnotationKind::Releases);
        assert_eq!(rel.term.kind, LockKind::Fault);
        assert_eq!(
            rel.when,
            When::Bits(vec!["VM_FAULT_RETRY".into(), "VM_FAULT_COMPLETED".into()])
        );
        assert_eq!(rel.effect().kind, EffectKind::Release);
    }

    #[test]
    fn every_lock_condition_and_spelling() {
        for (lock, kind) in [
            ("mmap_read", LockKind::MmapRead),
            ("mmap_write", LockKind::MmapWrite),
            ("mmap", LockKind::Mmap),
            ("vma_read", LockKind::VmaRead),
            ("hugetlb_vma_read", LockKind::HugetlbVmaRead),
            ("fault_lock", LockKind::Fault),
        ] {
            assert_eq!(ok(&format!("requires({lock}(vma))")).term.kind, kind);
        }
        for (cond, when) in [
            ("nonnull", When::NonNull),
            ("null", When::Null),
            ("true", When::NonZero),
            ("nonzero", When::NonZero),
            ("false", When::Zero),
            ("zero", When::Zero),
            (
                "nobits:VM_FAULT_RETRY",
                When::NoBits(vec!["VM_FAULT_RETRY".into()]),
            ),
        ] {
            assert_eq!(
                ok(&format!("acquires(mmap_read(mm), when = \"{cond}\")")).when,
                when
            );
        }
        // Paths with `->` or `.`, `self`, whitespace and newlines anywhere.
        let a = ok(" releases (\n  mmap_read ( vma -> vm_mm ) ,\n  when = \"zero\" ) ");
        assert_eq!(a.term.args, vec![param(2, &["vm_mm"])]);
        assert_eq!(
            ok("requires(vma_read(self.vma))").term.args,
            vec![param(3, &["vma"])]
        );
    }

    #[test]
    fn each_error_is_precise() {
        let cases: &[(&str, &str)] = &[
            ("holds(mmap_read(mm))", "unknown annotation kind `holds`"),
            ("", "is not an annotation"),
            ("(mmap_read(mm))", "is not an annotation"),
            ("requires mmap_read(mm)", "expected `(` after `requires`"),
            ("requires(mmap_read(mm)", "unclosed `(`"),
            ("requires(mmap_read(mm)) extra", "unexpected `extra`"),
            ("requires()", "needs a lock term"),
            ("requires(spin(mm))", "unknown lock kind `spin`"),
            (
                "requires(selected(vma, mm))",
                "unknown lock kind `selected`",
            ),
            ("requires(mmap_read)", "is not a lock term"),
            ("requires(mmap_read(mm) x)", "is not a lock term"),
            ("requires(mmap_read(mm, vma))", "takes one parameter"),
            ("requires(mmap_read(*))", "takes one parameter"),
            ("requires(mmap_read())", "needs a parameter"),
            ("requires(mmap_read(task))", "`task` is not a parameter"),
            ("requires(mmap_read(vma->))", "is not a path"),
            ("releases(vma_read(return))", "only `acquires`"),
            (
                "requires(mmap_read(mm), when = \"nonnull\")",
                "takes no condition",
            ),
            (
                "acquires(mmap_read(mm), when = \"sometimes\")",
                "unknown condition `sometimes`",
            ),
            (
                "acquires(mmap_read(mm), when = \"bits:\")",
                "expected constant names",
            ),
            (
                "acquires(mmap_read(mm), when = nonnull)",
                "must be a string in quotes",
            ),
            (
                "acquires(mmap_read(mm), if = \"nonnull\")",
                "unknown argument `if`",
            ),
            (
                "acquires(mmap_read(mm), nonnull)",
                "expected `when = \"COND\"`",
            ),
            (
                "acquires(mmap_read(mm), when = \"always\")",
                "leave out `when`",
            ),
            (
                "acquires(mmap_read(mm), when = \"zero\", x)",
                "unexpected argument `x`",
            ),
        ];
        for (text, want) in cases {
            let e = err(text);
            assert!(e.contains(want), "{text}: got `{e}`, want `{want}`");
        }
        assert!(parse("requires(mmap_read(mm))", &[])
            .unwrap_err()
            .contains("no parameters"));
    }
}
