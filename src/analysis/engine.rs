//! The worklist over the CFG.

use super::finding::Finding;
use super::state::{LockKey, State};
use super::value::{ObjKind, Val};
use super::{FnAnalyzer, StepKind, MAX_STATES, MAX_VISITS, MAX_VISITS_PER_BLOCK};
use crate::ir::{Callee, Function, StmtKind, Terminator};
use crate::source::Span;
use std::collections::VecDeque;
use std::hash::BuildHasher;

/// A state reaching a `return`, with the returned value.
pub struct Exit {
    pub state: State,
    pub value: Option<Val>,
    pub span: Span,
}

impl FnAnalyzer<'_> {
    /// Run the dataflow from `entries`; returns the states that reach a
    /// `return`.
    pub fn run(&mut self, entries: Vec<State>) -> Vec<Exit> {
        let func: &Function = self.func;
        let n = func.blocks.len();
        let mut exits = Vec::new();
        if n == 0 {
            return exits;
        }
        let live = super::liveness::liveness(func);
        // The exact run needs about `MAX_STATES + 1` visits per block (each
        // distinct state, then the joins), so the bound grows with the CFG
        // and a large function is analysed in full in linear time.
        let max_visits = MAX_VISITS.max(n.saturating_mul(MAX_VISITS_PER_BLOCK));
        let mut seen: Vec<Vec<Seen>> = vec![Vec::new(); n];
        let mut merged = vec![false; n];
        let mut work: VecDeque<(usize, State)> = VecDeque::new();
        for st in entries {
            add(
                &live,
                &self.objs,
                &mut seen,
                &mut merged,
                &mut work,
                Function::ENTRY,
                st,
            );
        }
        let mut visits = 0usize;
        while let Some((b, st)) = work.pop_front() {
            visits += 1;
            if visits > max_visits {
                self.bounded = true;
                break;
            }
            let block = &func.blocks[b];
            let mut states = vec![st];
            for (i, s) in block.stmts.iter().enumerate() {
                let mut next: Vec<State> = Vec::new();
                for st in states {
                    for n in self.stmt(st, s, (b, i)) {
                        if !next.contains(&n) {
                            next.push(n);
                        }
                    }
                }
                // Calls split states inside a block too: bound them here as
                // at block entry, or a run of calls multiplies them.
                if next.len() > MAX_STATES {
                    let first = next.swap_remove(0);
                    next = vec![next.iter().fold(first, |acc, s| acc.join(s))];
                }
                visits += next.len().saturating_sub(1);
                states = next;
            }
            for st in states {
                match &block.term {
                    Terminator::Goto(t) => {
                        add(&live, &self.objs, &mut seen, &mut merged, &mut work, *t, st)
                    }
                    Terminator::Multi(ts) => {
                        let mut st = st;
                        self.note_choice(&mut st, block);
                        for t in ts {
                            add(
                                &live,
                                &self.objs,
                                &mut seen,
                                &mut merged,
                                &mut work,
                                *t,
                                st.clone(),
                            );
                        }
                    }
                    Terminator::Branch {
                        cond,
                        then_bb,
                        else_bb,
                        ..
                    } => {
                        let mut st = st;
                        let places: Vec<_> = cond_places(&cond.kind);
                        self.check_places(&mut st, places.iter(), cond.span);
                        let outcomes = self.branch(&st, &cond.kind);
                        let decided = outcomes.len() == 1;
                        for (taken, mut s) in outcomes {
                            if decided {
                                self.step(&mut s, cond.span, StepKind::Branch { taken });
                            }
                            let t = if taken { *then_bb } else { *else_bb };
                            add(&live, &self.objs, &mut seen, &mut merged, &mut work, t, s);
                        }
                    }
                    Terminator::Return { value, span } => {
                        let mut st = st;
                        let v = value.as_ref().map(|op| {
                            self.check_places(&mut st, op.places(), *span);
                            self.eval(&st, op)
                        });
                        self.check_return(&st, v.as_ref(), *span);
                        self.check_annotations(&st, v.as_ref(), *span);
                        exits.push(Exit {
                            state: st,
                            value: v,
                            span: *span,
                        });
                    }
                    Terminator::None | Terminator::Unreachable => {}
                }
            }
        }
        exits
    }

    /// `retry_with_lock_held`: an entry point returning RETRY while the
    /// per-VMA lock of its fault is held.
    fn check_return(&mut self, st: &State, v: Option<&Val>, span: Span) {
        let (Some(v), Some(vmf), true) = (v, st.fault, self.ctx.entry_point) else {
            return;
        };
        let retry_bit = self.model.fault.retry_bit.clone();
        if self.bits_of(st, v).bit(&retry_bit) != Some(true) {
            return;
        }
        let vma_field = self.model.fault.vma_field.clone();
        let Val::Obj(vma) = self.load_field(st, vmf, &vma_field) else {
            return;
        };
        let super::state::Status::Held { since, .. } = st.status(LockKey::Vma(vma)) else {
            return;
        };
        let retry_from = match v {
            Val::Obj(o) => match self.objs.kind(*o) {
                ObjKind::Fresh(b, i) => {
                    self.func.blocks[*b]
                        .stmts
                        .get(*i)
                        .and_then(|s| match &s.kind {
                            StmtKind::Call {
                                callee: Callee::Direct { name, .. },
                                ..
                            } => Some((s.span, name.clone())),
                            _ => None,
                        })
                }
                _ => None,
            },
            _ => None,
        };
        self.report(
            Finding::RetryWithLockHeld {
                at: span,
                retry_from,
                locked_at: *since,
            },
            st,
        );
    }
}

fn cond_places(c: &crate::ir::CondKind) -> Vec<crate::ir::Place> {
    use crate::ir::CondKind;
    match c {
        CondKind::Truthy(o) => o.places().into_iter().cloned().collect(),
        CondKind::BitTest { value, .. } => value.places().into_iter().cloned().collect(),
        CondKind::Eq { lhs, rhs } => lhs
            .places()
            .into_iter()
            .chain(rhs.places())
            .cloned()
            .collect(),
        CondKind::Unknown { places } => places.clone(),
    }
}

/// A state stored at a block, with its hash: most states a block sees
/// differ, and comparing hashes first keeps the duplicate check from
/// walking every map of every stored state.
#[derive(Clone)]
struct Seen {
    hash: u64,
    state: State,
}

fn hash_of(st: &State) -> u64 {
    foldhash::fast::FixedState::default().hash_one(st)
}

/// Queue `st` at block `b` unless an equal state is already there; past
/// [`MAX_STATES`] the block's states are joined into one.
#[allow(clippy::too_many_arguments)]
fn add(
    live: &super::liveness::Liveness,
    objs: &super::value::Objs,
    seen: &mut [Vec<Seen>],
    merged: &mut [bool],
    work: &mut VecDeque<(usize, State)>,
    b: usize,
    mut st: State,
) {
    let Some(slot) = seen.get_mut(b) else { return };
    st.env.retain(|name, _| live.is_live(b, name));
    st.retain_reachable(objs);
    if merged[b] {
        if slot[0].state == st {
            return;
        }
        let joined = slot[0].state.join(&st);
        if joined != slot[0].state {
            slot[0] = Seen {
                hash: 0,
                state: joined.clone(),
            };
            work.push_back((b, joined));
        }
        return;
    }
    let hash = hash_of(&st);
    if slot.iter().any(|s| s.hash == hash && s.state == st) {
        return;
    }
    if slot.len() >= MAX_STATES {
        let joined = slot.iter().fold(st, |acc, s| acc.join(&s.state));
        slot.clear();
        slot.push(Seen {
            hash: 0,
            state: joined.clone(),
        });
        merged[b] = true;
        work.push_back((b, joined));
        return;
    }
    slot.push(Seen {
        hash,
        state: st.clone(),
    });
    work.push_back((b, st));
}
