//! What the final pass over one function depends on, as a key: a cached
//! result (findings and fault-flag values passed to callees) is reused only
//! when the key is equal, so reuse gives the same results as a fresh run.
//!
//! The pass over `f` reads: `f` itself (its IR, spans included, so a
//! function that moved is analysed again), its file, its narrowed entry
//! context, the model (fixed for a cache's lifetime), and, through the
//! program and the summaries, only what the names it calls (and its own
//! name) resolve to: their summaries, the definitions they reach (ids and
//! parameter types) and the annotations of `f`. The key is the text of all
//! of these (`Debug`), compared whole, so there are no hash collisions.

use super::annotations;
use super::summary::{called_names, Summaries};
use super::EntryContext;
use crate::ir::Function;
use crate::model::LockModel;
use std::fmt::Write;

pub fn key(
    summaries: &Summaries,
    model: &LockModel,
    file: usize,
    f: &Function,
    ctx: EntryContext,
) -> String {
    let program = summaries.program;
    let mut k = format!("{file}\n{ctx:?}\n{f:?}\n");
    let mut names = called_names(f);
    // Indirect calls look up the empty name.
    names.extend([f.name.as_str(), ""]);
    names.sort_unstable();
    names.dedup();
    for n in names {
        let defs: Vec<_> = program
            .resolve(file, n)
            .into_iter()
            .map(|id| (id, program.funcs[id].0, &program.funcs[id].1.params))
            .collect();
        let _ = writeln!(
            k,
            "{n}|{}|{:?}|{defs:?}|{:?}",
            model.api(n).is_some(),
            summaries.get(file, n),
            program.annotations.declared(file, n),
        );
    }
    let _ = write!(k, "{:?}", annotations::of_function(program, file, f));
    k
}
