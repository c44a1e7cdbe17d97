//! Which variables are live at the start of each block. The engine drops
//! dead variables from the states it stores, so paths that differ only in
//! values nobody reads again are not kept apart.

use crate::ir::{Callee, CondKind, Function, Operand, Place, StmtKind, Terminator};
use foldhash::{HashSet, HashSetExt};

pub struct Liveness {
    /// Names live on entry to each block.
    pub live_in: Vec<HashSet<String>>,
    /// Names whose address is taken anywhere: always live.
    pub escaped: HashSet<String>,
}

impl Liveness {
    pub fn is_live(&self, block: usize, name: &str) -> bool {
        self.escaped.contains(name) || self.live_in.get(block).is_some_and(|s| s.contains(name))
    }
}

fn read_operand<'f>(op: &'f Operand, out: &mut Vec<&'f str>, escaped: &mut HashSet<String>) {
    if let Operand::AddrOf(p) = op {
        escaped.insert(p.base.clone());
    }
    out.extend(op.places().into_iter().map(|p| p.base.as_str()));
}

/// (names read before any write, names written) of one block.
fn gen_kill<'f>(
    f: &'f Function,
    b: usize,
    escaped: &mut HashSet<String>,
) -> (Vec<&'f str>, HashSet<&'f str>) {
    let mut gen = Vec::new();
    let mut kill: HashSet<&str> = HashSet::new();
    let read = |names: Vec<&'f str>, kill: &HashSet<&str>, gen: &mut Vec<&'f str>| {
        gen.extend(names.into_iter().filter(|n| !kill.contains(n)));
    };
    let write = |p: &'f Place, kill: &mut HashSet<&'f str>, reads: &mut Vec<&'f str>| {
        if p.proj.is_empty() {
            kill.insert(p.base.as_str());
        } else {
            reads.push(p.base.as_str());
        }
    };
    let block = &f.blocks[b];
    for s in &block.stmts {
        let mut reads = Vec::new();
        let mut writes = Vec::new();
        match &s.kind {
            StmtKind::Assign { dst, src } => {
                read_operand(src, &mut reads, escaped);
                writes.push(dst);
            }
            StmtKind::Call {
                dst, callee, args, ..
            } => {
                for a in args {
                    read_operand(a, &mut reads, escaped);
                }
                if let Callee::Indirect(p) = callee {
                    reads.push(p.base.as_str());
                }
                writes.extend(dst.iter());
            }
            StmtKind::Use { places } | StmtKind::Opaque { places, .. } => {
                reads.extend(places.iter().map(|p| p.base.as_str()));
            }
            StmtKind::Annotation(_) => {}
        }
        let mut write_reads = Vec::new();
        let mut new_kills = HashSet::new();
        for w in writes {
            write(w, &mut new_kills, &mut write_reads);
        }
        reads.extend(write_reads);
        read(reads, &kill, &mut gen);
        kill.extend(new_kills);
    }
    let mut reads = Vec::new();
    match &block.term {
        Terminator::Branch { cond, .. } => match &cond.kind {
            CondKind::Truthy(o) | CondKind::BitTest { value: o, .. } => {
                read_operand(o, &mut reads, escaped)
            }
            CondKind::Eq { lhs, rhs } => {
                read_operand(lhs, &mut reads, escaped);
                read_operand(rhs, &mut reads, escaped);
            }
            CondKind::Unknown { places } => reads.extend(places.iter().map(|p| p.base.as_str())),
        },
        Terminator::Return { value: Some(v), .. } => read_operand(v, &mut reads, escaped),
        _ => {}
    }
    read(reads, &kill, &mut gen);
    (gen, kill)
}

pub fn liveness(f: &Function) -> Liveness {
    let n = f.blocks.len();
    let mut escaped = HashSet::new();
    let gk: Vec<_> = (0..n).map(|b| gen_kill(f, b, &mut escaped)).collect();
    let succs: Vec<Vec<usize>> = f
        .blocks
        .iter()
        .map(|b| b.term.successors().into_iter().filter(|&s| s < n).collect())
        .collect();
    let mut live_in: Vec<HashSet<String>> = vec![HashSet::new(); n];
    let mut changed = true;
    while changed {
        changed = false;
        for b in (0..n).rev() {
            let mut set: HashSet<String> = gk[b].0.iter().map(|s| s.to_string()).collect();
            for &s in &succs[b] {
                for name in &live_in[s] {
                    if !gk[b].1.contains(name.as_str()) {
                        set.insert(name.clone());
                    }
                }
            }
            if set.len() != live_in[b].len() {
                live_in[b] = set;
                changed = true;
            }
        }
    }
    Liveness { live_in, escaped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::{lower, Defines};
    use crate::source::SourceFile;

    #[test]
    fn dead_temporaries_and_locals_are_not_live() {
        let src =
            "int f(struct mm_struct *mm) { int a = g(); int b = h(); if (a) return 1; return b; }";
        let unit = lower(&SourceFile::new("x.c", src), &Defines::default());
        let f = &unit.functions[0];
        let l = liveness(f);
        let ret1 = f
            .blocks
            .iter()
            .position(|b| {
                matches!(
                    &b.term,
                    Terminator::Return {
                        value: Some(Operand::Int(1)),
                        ..
                    }
                )
            })
            .unwrap();
        assert!(!l.is_live(ret1, "a"));
        assert!(!l.is_live(ret1, "b"));
        assert!(l.is_live(0, "mm") || !l.is_live(0, "a"));
    }
}
