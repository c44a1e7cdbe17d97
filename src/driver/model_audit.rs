//! `faultlock model-audit [TREE]`: what the tree's mm lock headers define
//! that the lock model (for the tree's release) does not describe: functions
//! that take, drop or assert mmap_lock or a per-VMA lock (they call a model
//! entry with a lock effect, or touch `mmap_lock` / `vm_refcnt` directly),
//! and cleanup.h guard classes the C front end does not lower.

use super::{EXIT_ERROR, EXIT_OK};
use crate::config::Config;
use crate::ir::{Callee, Operand, StmtKind};
use crate::model::{EffectKind, LockModel};
use crate::source::SourceFile;
use std::collections::BTreeSet;
use std::path::Path;

/// The files a maintainer's lock API lives in.
const FILES: &[&str] = &[
    "include/linux/mmap_lock.h",
    "include/linux/mm.h",
    "include/linux/mm_types.h",
    "include/linux/hugetlb.h",
    "include/linux/userfaultfd_k.h",
    "mm/mmap_lock.c",
    "mm/hugetlb.c",
];

/// Raw lock fields whose direct use makes a function a lock primitive.
const LOCK_FIELDS: &[&str] = &["mmap_lock", "vm_refcnt", "vm_lock_seq"];

pub fn run(tree: Option<&Path>, kernel: Option<crate::model::KernelVersion>) -> i32 {
    let tree = tree.unwrap_or(Path::new("."));
    let config = match Config::resolve(None, Some(tree)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let (model, opts) = match config.apply_kernel(kernel, Config::tree_kernel(tree)) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut defines = model.defines.clone();
    for (n, v) in &opts.defines {
        defines
            .defined
            .insert(n.clone(), v.clone().unwrap_or_else(|| "1".into()));
    }
    println!("kernel {} ({})", opts.kernel.version, opts.kernel.source);
    let mut read = 0;
    let mut missing = 0;
    for rel in FILES {
        let path = tree.join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        read += 1;
        let file = SourceFile::from_bytes(*rel, &bytes);
        for line in audit_file(&file, &model, &defines) {
            println!("{line}");
            missing += 1;
        }
    }
    if read == 0 {
        eprintln!(
            "error: {}: none of the mm lock files ({}) found; is this a kernel tree?",
            tree.display(),
            FILES.join(", ")
        );
        return EXIT_ERROR;
    }
    println!("{missing} lock function(s) or guard class(es) not in the model");
    EXIT_OK
}

/// One line per function or guard class of `file` the model lacks.
fn audit_file(
    file: &SourceFile,
    model: &LockModel,
    defines: &crate::frontend::Defines,
) -> Vec<String> {
    let unit = crate::frontend::c::lower_file(file, defines);
    let known = |name: &str| model.api(name).is_some();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in &unit.functions {
        if known(&f.name) || !seen.insert(f.name.clone()) {
            continue;
        }
        let mut why: BTreeSet<String> = BTreeSet::new();
        for s in f.blocks.iter().flat_map(|b| &b.stmts) {
            let StmtKind::Call { callee, args, .. } = &s.kind else {
                continue;
            };
            if let Callee::Direct { name, .. } = callee {
                if let Some(api) = model.api(name) {
                    if api.effects.iter().any(|e| e.kind != EffectKind::Uses) {
                        why.insert(format!("calls {name}()"));
                    }
                }
            }
            for a in args {
                let text = match a {
                    Operand::Place(p) | Operand::AddrOf(p) => p.to_string(),
                    _ => continue,
                };
                if let Some(field) = LOCK_FIELDS.iter().find(|f| text.contains(*f)) {
                    why.insert(format!("uses ->{field}"));
                }
            }
        }
        if !why.is_empty() {
            let (line, _) = file.line_col(f.name_span.start);
            let why: Vec<String> = why.into_iter().collect();
            out.push(format!(
                "{}:{line}: function {}: {}",
                file.path,
                f.name,
                why.join(", ")
            ));
        }
    }
    let classes = crate::frontend::c::guard_classes();
    for (i, l) in file.text.lines().enumerate() {
        let l = l.trim_start();
        let Some(rest) = l
            .strip_prefix("DEFINE_GUARD(")
            .or_else(|| l.strip_prefix("DEFINE_LOCK_GUARD_1("))
            .map(|r| (r, ""))
            .or_else(|| l.strip_prefix("DEFINE_GUARD_COND(").map(|r| (r, "cond")))
        else {
            continue;
        };
        let mut parts = rest.0.split(',').map(str::trim);
        let base = parts.next().unwrap_or_default();
        let class = if rest.1 == "cond" {
            format!("{base}{}", parts.next().unwrap_or_default())
        } else {
            base.to_string()
        };
        if !class.is_empty() && !classes.contains(&class) {
            out.push(format!(
                "{}:{}: guard class {class}: not lowered",
                file.path,
                i + 1
            ));
        }
    }
    out
}
