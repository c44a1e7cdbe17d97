//! The path that leads to a finding: the steps of one abstract path
//! (entry, calls that change a lock, outcomes of lock-dropping calls,
//! branches decided by those outcomes), kept in each state for the final
//! pass only. A trail is an explanation, not a fact: states and findings
//! that differ only in their trail are equal, so it never changes what is
//! merged or reported, and the first path found for a finding is kept.

use crate::source::Span;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Steps kept per path: the entry, then the most recent ones.
pub const MAX_STEPS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// The function starts with this lock held (`vma_lock`: the fault
    /// flag `FAULT_FLAG_VMA_LOCK` is set on entry; `None`: no fault).
    Entry {
        lock: &'static str,
        vma_lock: Option<bool>,
    },
    /// A call took the lock.
    Acquire {
        callee: Arc<str>,
        lock: &'static str,
    },
    /// A call returned a VMA (under the lock it names).
    Obtained {
        callee: Arc<str>,
        lock: &'static str,
    },
    /// A call released the lock (`may`: when it returned RETRY).
    Release {
        callee: Arc<str>,
        lock: &'static str,
        may: bool,
    },
    /// A call returned one outcome of those its lock effects depend on:
    /// bits it has or lacks (`VM_FAULT_RETRY`), or its truthiness
    /// (`Some(false)`: NULL or zero).
    Outcome {
        callee: Arc<str>,
        bits: Vec<(String, bool)>,
        truthy: Option<bool>,
    },
    /// A branch whose outcome the path's facts decide.
    Branch { taken: bool },
    /// The flags argument of a call was taken to have (or lack) the
    /// VMA-lock flag: the call follows both choices.
    Flag { callee: Arc<str>, set: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Step {
    pub at: Span,
    pub kind: StepKind,
}

/// The steps of one path, shared between the states split from it.
#[derive(Debug, Clone, Default)]
pub struct Trail(Option<Arc<Vec<Step>>>);

impl Trail {
    pub fn push(&mut self, at: Span, kind: StepKind) {
        let v = Arc::make_mut(self.0.get_or_insert_with(Default::default));
        if v.len() >= MAX_STEPS {
            v.remove(1);
        }
        v.push(Step { at, kind });
    }

    pub fn steps(&self) -> Vec<Step> {
        self.0.as_deref().cloned().unwrap_or_default()
    }
}

/// Trails are never compared: see the module comment.
impl PartialEq for Trail {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Trail {}

impl Hash for Trail {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// The path of a finding, equal to every other path (see the module
/// comment), so findings sort and deduplicate as without it.
#[derive(Debug, Clone, Default)]
pub struct Path(pub Vec<Step>);

impl PartialEq for Path {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Path {}

impl PartialOrd for Path {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Path {
    fn cmp(&self, _: &Self) -> Ordering {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_keeps_the_entry_and_the_latest() {
        let mut t = Trail::default();
        for i in 0..(MAX_STEPS as u32 + 5) {
            t.push(
                Span::new(i as usize, i as usize + 1),
                StepKind::Branch { taken: true },
            );
        }
        let s = t.steps();
        assert_eq!(s.len(), MAX_STEPS);
        assert_eq!(s[0].at.start, 0);
        assert_eq!(s[MAX_STEPS - 1].at.start, MAX_STEPS as u32 + 4);
        assert_eq!(s[1].at.start, 6);
    }

    #[test]
    fn trails_do_not_tell_states_apart() {
        let mut a = Trail::default();
        a.push(Span::new(0, 1), StepKind::Branch { taken: false });
        assert_eq!(a, Trail::default());
        assert_eq!(Path(a.steps()).cmp(&Path::default()), Ordering::Equal);
    }
}
