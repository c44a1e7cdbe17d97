//! `faultlock model-audit [TREE]`: what the tree's mm lock headers define
//! that the lock model (for the tree's release) does not describe: functions
//! that take, drop or assert mmap_lock or a per-VMA lock (they call a model
//! entry with a lock effect, or touch `mmap_lock` / `vm_refcnt` directly),
//! and cleanup.h guard classes the C front end does not lower.

use super::{EXIT_ERROR, EXIT_OK};
use crate::config::Config;
use crate::ir::{Callee, Operand, Proj, StmtKind};
use crate::model::{EffectKind, LockModel};
use crate::source::SourceFile;
use std::collections::{BTreeMap, BTreeSet};
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
const LOCK_FIELDS: &[&str] = &["mmap_lock", "vm_refcnt", "vm_lock_seq", "mm_lock_seq"];

/// Calls that only read, assert or initialise a lock word: a function that
/// touches one only through these takes and drops nothing.
const READERS: &[&str] = &[
    "refcount_read",
    "refcount_set",
    "refcount_set_release",
    "READ_ONCE",
    "unlikely",
    "likely",
    "seqcount_init",
    "rwsem_is_locked",
    "rwsem_is_contended",
    "rwsem_assert_held",
    "rwsem_assert_held_write",
    "read_seqcount_retry",
    "raw_read_seqcount",
    "raw_seqcount_try_begin",
    "lockdep_is_held",
    "lockdep_assert_held",
    "lockdep_assert_held_write",
    "lockdep_assert_held_read",
    "ASSERT_EXCLUSIVE_WRITER",
    "init_rwsem",
    "lockdep_init_map",
    "prefetchw",
    "data_race",
];

pub fn run(tree: Option<&Path>, kernel: Option<crate::model::KernelVersion>, all: bool) -> i32 {
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
    let mut files = Vec::new();
    for rel in FILES {
        if let Ok(bytes) = std::fs::read(tree.join(rel)) {
            files.push(SourceFile::from_bytes(*rel, &bytes));
        }
    }
    if files.is_empty() {
        eprintln!(
            "error: {}: none of the mm lock files ({}) found; is this a kernel tree?",
            tree.display(),
            FILES.join(", ")
        );
        return EXIT_ERROR;
    }
    let report = audit(&files, &model, &defines);
    for line in &report.listed {
        println!("{line}");
    }
    println!(
        "{} lock function(s) or guard class(es) not in the model",
        report.listed.len()
    );
    let mut why: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, reason) in &report.left_out {
        *why.entry(reason.as_str()).or_default() += 1;
    }
    if !why.is_empty() {
        let parts: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
        println!(
            "left out, needing no entry: {}{}",
            parts.join("; "),
            if all { "" } else { " (--all lists them)" }
        );
    }
    if all {
        for (line, reason) in &report.left_out {
            println!("  {line}  [{reason}]");
        }
    }
    EXIT_OK
}

/// What the audit found: lines to list, and lines left out with the reason.
pub struct Report {
    pub listed: Vec<String>,
    pub left_out: Vec<(String, String)>,
}

/// A function of the audited files, before classification.
struct Seen {
    /// File index and line, for the order of the report.
    at: (usize, usize),
    line: String,
    internal: bool,
    /// How it changes a lock word itself (`changes ->vm_refcnt`), if it does.
    direct: BTreeSet<String>,
    /// Calls of model entries with a lock effect.
    model_calls: BTreeSet<String>,
    reads_lock_word: bool,
    callees: BTreeSet<String>,
}

const INTERNAL: &str =
    "internal lock helper(s) (static in a .c file or `__`-prefixed; their callers are listed)";
const MODEL_INTERNAL: &str =
    "part(s) of model entries (called by them and by no other audited function)";
const SUMMARISED: &str =
    "summarised from their bodies (every lock effect is a call of a model entry)";
const COVERED: &str = "covered once the listed function(s) they call have an entry";
const READS: &str = "read(s) or initialise(s) a lock word only";

/// Audit `files` together: a function changing a lock word itself, or
/// calling one that does, is listed unless it is internal; one whose lock
/// effects are all model calls is left out (the analysis infers its summary
/// from its body); guard classes the front end does not lower are listed.
pub fn audit(
    files: &[SourceFile],
    model: &LockModel,
    defines: &crate::frontend::Defines,
) -> Report {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    // What the model's own entries call, when their bodies are in the tree.
    let mut model_callees: BTreeSet<String> = BTreeSet::new();
    let mut guards = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let unit = crate::frontend::c::lower_file(file, defines);
        for f in &unit.functions {
            let in_model = model.api(&f.name).is_some() || model.vma_write.describes(&f.name);
            let head = file
                .text
                .get(f.span.start as usize..f.name_span.start as usize)
                .unwrap_or_default();
            let is_c = file.path.ends_with(".c");
            let (line, _) = file.line_col(f.name_span.start);
            let mut s = Seen {
                at: (fi, line),
                line: format!("{}:{line}: function {}", file.path, f.name),
                internal: f.name.starts_with("__") || (is_c && head.contains("static")),
                direct: BTreeSet::new(),
                model_calls: BTreeSet::new(),
                reads_lock_word: false,
                callees: BTreeSet::new(),
            };
            scan_function(f, model, &mut s);
            if in_model {
                model_callees.extend(s.callees);
                continue;
            }
            // `vma_lock_init()`: setting a lock word up is not locking.
            if f.name.ends_with("_init") && s.direct.iter().all(|d| d.starts_with("writes")) {
                s.reads_lock_word |= !s.direct.is_empty();
                s.direct.clear();
            }
            // A name defined twice (a `static inline` stub for another
            // config): the definition that does something with locks.
            let quiet =
                |x: &Seen| x.direct.is_empty() && x.model_calls.is_empty() && !x.reads_lock_word;
            if seen
                .get(&f.name)
                .map_or(true, |old| quiet(old) && !quiet(&s))
            {
                seen.insert(f.name.clone(), s);
            }
        }
        guards.extend(guard_lines(file));
    }
    // Lock-word changes reach the callers through calls of audited functions.
    let mut touches: BTreeSet<String> = seen
        .iter()
        .filter(|(_, s)| !s.direct.is_empty())
        .map(|(n, _)| n.clone())
        .collect();
    loop {
        let more: Vec<String> = seen
            .iter()
            .filter(|(n, s)| !touches.contains(*n) && s.callees.iter().any(|c| touches.contains(c)))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        touches.extend(more);
    }
    let mut report = Report {
        listed: Vec::new(),
        left_out: Vec::new(),
    };
    let mut order: Vec<(&String, &Seen)> = seen.iter().collect();
    order.sort_by_key(|(_, s)| s.at);
    for (name, s) in order {
        let mut why: Vec<String> = s.direct.iter().cloned().collect();
        // The callees through which it changes a lock word, and whether any
        // is internal (then only this function can get the entry).
        let vias: Vec<&String> = s.callees.iter().filter(|c| touches.contains(*c)).collect();
        let through_internal = vias.iter().any(|v| seen[*v].internal);
        for v in &vias {
            why.push(format!("calls {v}(), which changes a lock word"));
        }
        why.extend(s.model_calls.iter().map(|c| format!("calls {c}()")));
        let line = format!("{}: {}", s.line, why.join(", "));
        let called_by_audited = seen.values().any(|o| o.callees.contains(name));
        if touches.contains(name) {
            if model_callees.contains(name) && !called_by_audited {
                report.left_out.push((line, MODEL_INTERNAL.to_string()));
            } else if s.internal {
                report.left_out.push((line, INTERNAL.to_string()));
            } else if s.direct.is_empty() && !through_internal {
                report.left_out.push((line, COVERED.to_string()));
            } else {
                report.listed.push(line);
            }
        } else if !s.model_calls.is_empty() {
            report.left_out.push((line, SUMMARISED.to_string()));
        } else if s.reads_lock_word {
            report
                .left_out
                .push((format!("{}: uses a lock word", s.line), READS.to_string()));
        }
    }
    report.listed.extend(guards);
    report
}

/// What one function does to locks: model calls, lock-word changes and
/// reads, and the functions it calls.
fn scan_function(f: &crate::ir::Function, model: &LockModel, s: &mut Seen) {
    let field_in = |p: &crate::ir::Place| {
        LOCK_FIELDS
            .iter()
            .find(|x| {
                p.proj
                    .iter()
                    .any(|j| matches!(j, Proj::Field(f) if f == *x))
            })
            .copied()
    };
    for st in f.blocks.iter().flat_map(|b| &b.stmts) {
        match &st.kind {
            StmtKind::Call { callee, args, .. } => {
                let name = match callee {
                    Callee::Direct { name, .. } => name.as_str(),
                    Callee::Indirect(_) => "",
                };
                if let Some(api) = model.api(name) {
                    if api.effects.iter().any(|e| e.kind != EffectKind::Uses) {
                        s.model_calls.insert(name.to_string());
                    }
                } else if model.vma_write.describes(name) {
                    s.model_calls.insert(name.to_string());
                } else if !name.is_empty() {
                    s.callees.insert(name.to_string());
                }
                for a in args {
                    let (Operand::Place(p) | Operand::AddrOf(p)) = a else {
                        continue;
                    };
                    if let Some(field) = field_in(p) {
                        if READERS.contains(&name) || name.starts_with("trace_") {
                            s.reads_lock_word = true;
                        } else {
                            s.direct
                                .insert(format!("changes ->{field} through {name}()"));
                        }
                    }
                }
            }
            StmtKind::Assign { dst, .. } => {
                if let Some(field) = field_in(dst) {
                    s.direct.insert(format!("writes ->{field}"));
                }
            }
            _ => {}
        }
    }
}

/// The cleanup.h guard classes `file` defines that the front end does not
/// lower.
fn guard_lines(file: &SourceFile) -> Vec<String> {
    let mut out = Vec::new();
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
