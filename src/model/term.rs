//! Lock terms: `mmap_read(mm)`, `vma_read(vmf->vma)`, `selected(vma, flags)`.
//! The same vocabulary serves model data and, later, annotations.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockKind {
    MmapRead,
    MmapWrite,
    /// mmap_lock in either mode (asserts, VMA protection).
    Mmap,
    VmaRead,
    HugetlbVmaRead,
    /// The fault lock of a `struct vm_fault`.
    Fault,
    /// Per-VMA lock of arg 0 if the flags value arg 1 has the VMA-lock flag,
    /// else mmap_lock of arg 0's mm.
    Selected,
    /// mmap_lock of arg 0's mm if the flags value arg 1 lacks the VMA-lock
    /// flag; no lock otherwise (before 6.6, `handle_mm_fault()` under the
    /// per-VMA lock kept it on VM_FAULT_RETRY).
    SelectedMmap,
    /// Not a lock: a VMA that the callee dereferences.
    Use,
}

/// An expression over a call's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathExpr {
    /// The call's result.
    Return,
    /// Whichever lock of the kind is held (`mmap(*)`).
    Any,
    /// Parameter `index`, then `->field` for each field.
    Param { index: usize, fields: Vec<String> },
    /// The object parameter `index` points into, at `field`: the parameter
    /// is declared `&mm->mmap_sem` and the term names `mm` (the argument
    /// must be written `&X->mmap_sem`; any other argument names no lock).
    Member { index: usize, field: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub kind: LockKind,
    pub args: Vec<PathExpr>,
}

pub fn parse_term(text: &str, params: &[String]) -> Result<Term, String> {
    let text = text.trim();
    let open = text
        .find('(')
        .filter(|_| text.ends_with(')'))
        .ok_or_else(|| format!("`{text}` is not a lock term like `mmap_read(mm)`"))?;
    let name = text[..open].trim();
    let kind = match name {
        "mmap_read" => LockKind::MmapRead,
        "mmap_write" => LockKind::MmapWrite,
        "mmap" => LockKind::Mmap,
        "vma_read" => LockKind::VmaRead,
        "hugetlb_vma_read" => LockKind::HugetlbVmaRead,
        "fault_lock" => LockKind::Fault,
        "selected" => LockKind::Selected,
        "selected_mmap" => LockKind::SelectedMmap,
        other => return Err(format!("unknown lock kind `{other}`")),
    };
    let inner = &text[open + 1..text.len() - 1];
    let args = inner
        .split(',')
        .map(|a| parse_path(a, params))
        .collect::<Result<Vec<_>, _>>()?;
    let want = if matches!(kind, LockKind::Selected | LockKind::SelectedMmap) {
        2
    } else {
        1
    };
    if args.len() != want {
        return Err(format!("`{name}` takes {want} argument(s)"));
    }
    Ok(Term { kind, args })
}

pub fn parse_path(text: &str, params: &[String]) -> Result<PathExpr, String> {
    let text = text.trim();
    if text == "return" {
        return Ok(PathExpr::Return);
    }
    if text == "*" {
        return Ok(PathExpr::Any);
    }
    let mut parts = text.split("->").map(str::trim);
    let base = parts.next().unwrap_or_default();
    let member = params.iter().enumerate().find_map(|(i, p)| {
        let (b, field) = p.strip_prefix('&')?.split_once("->")?;
        (b.trim() == base).then(|| (i, field.trim().to_string()))
    });
    if let Some((index, field)) = member {
        if parts.next().is_some() {
            return Err(format!(
                "`{text}`: `{base}` stands for a struct; name it alone"
            ));
        }
        return Ok(PathExpr::Member { index, field });
    }
    let index = params.iter().position(|p| p == base).ok_or_else(|| {
        format!(
            "`{base}` is not a parameter (params: {})",
            params.join(", ")
        )
    })?;
    let fields: Vec<String> = parts.map(str::to_string).collect();
    if fields
        .iter()
        .any(|f| f.is_empty() || !f.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return Err(format!("`{text}` is not a path like `vmf->vma`"));
    }
    Ok(PathExpr::Param { index, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        let p = vec!["vmf".to_string(), "flags".to_string()];
        let t = parse_term("vma_read(vmf->vma)", &p).unwrap();
        assert_eq!(t.kind, LockKind::VmaRead);
        assert_eq!(
            t.args,
            vec![PathExpr::Param {
                index: 0,
                fields: vec!["vma".into()]
            }]
        );
        assert_eq!(
            parse_term("selected(vmf, flags)", &p).unwrap().args.len(),
            2
        );
        assert!(parse_term("selected(vmf)", &p).is_err());
        assert!(parse_term("bogus(vmf)", &p).is_err());
        assert!(parse_term("mmap_read", &p).is_err());
        assert_eq!(parse_path("*", &p).unwrap(), PathExpr::Any);
        let sem = vec!["&mm->mmap_sem".to_string()];
        assert_eq!(
            parse_term("mmap_read(mm)", &sem).unwrap().args,
            vec![PathExpr::Member {
                index: 0,
                field: "mmap_sem".into()
            }]
        );
        assert!(parse_term("mmap_read(mm->x)", &sem).is_err());
    }
}
