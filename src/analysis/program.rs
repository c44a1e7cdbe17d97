//! Everything analysed in one run, and how a call names a function: a
//! definition in the caller's own file wins (C `static` functions and
//! same-file helpers), otherwise every definition of that name elsewhere.

use super::annotations::Annotations;
use crate::ir::{Function, Unit};
use foldhash::{HashMap, HashMapExt};

/// Index of a function in [`Program::funcs`].
pub type FuncId = usize;

pub struct Program<'a> {
    /// `(file index, function)` for every lowered function.
    pub funcs: Vec<(usize, &'a Function)>,
    by_name: HashMap<&'a str, Vec<FuncId>>,
    /// The lock annotations of definitions and declarations.
    pub annotations: Annotations,
}

impl<'a> Program<'a> {
    pub fn new(units: &'a [Unit]) -> Self {
        let funcs: Vec<(usize, &Function)> = units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| u.functions.iter().map(move |f| (i, f)))
            .collect();
        let mut by_name: HashMap<&str, Vec<FuncId>> = HashMap::new();
        for (id, (_, f)) in funcs.iter().enumerate() {
            by_name.entry(f.name.as_str()).or_default().push(id);
        }
        let annotations = Annotations::new(units, &funcs);
        Program {
            funcs,
            by_name,
            annotations,
        }
    }

    /// The definitions a call to `name` from `file` can reach (several for
    /// `#ifdef` alternatives or same-named functions of other files).
    pub fn resolve(&self, file: usize, name: &str) -> &[FuncId] {
        let Some(all) = self.by_name.get(name) else {
            return &[];
        };
        // Ids grow with the file index: a file's definitions are a run.
        let lo = all.partition_point(|&i| self.funcs[i].0 < file);
        let hi = all.partition_point(|&i| self.funcs[i].0 <= file);
        if lo == hi {
            all
        } else {
            &all[lo..hi]
        }
    }
}
