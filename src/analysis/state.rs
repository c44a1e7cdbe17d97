//! The abstract state of one path: values, facts, lock statuses and the
//! VMAs in play.

use super::path::Trail;
use super::value::{BitVal, ObjId, ObjKind, Objs, Val};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A comparison of a value with named constants: the value, the constants
/// (sorted), and its outcome on the path.
pub type Cond = (ObjId, Vec<String>, CondOp);

/// The outcome of a comparison with constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CondOp {
    /// Equal to exactly these constants (no constants: some value a
    /// `switch` chose by).
    Eq,
    /// Not equal to them.
    Ne,
    /// Some of these bits set.
    AnyBit,
    /// None of these bits set.
    NoBit,
}

/// One lock instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockKey {
    /// mmap_lock of an mm.
    Mmap(ObjId),
    /// Per-VMA lock of a VMA.
    Vma(ObjId),
    /// hugetlb VMA lock of a VMA.
    Hugetlb(ObjId),
}

impl LockKey {
    pub fn describe(self) -> &'static str {
        match self {
            LockKey::Mmap(_) => "mmap_lock",
            LockKey::Vma(_) => "per-VMA lock",
            LockKey::Hugetlb(_) => "hugetlb VMA lock",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Status {
    /// Held; `since` is the acquiring call (None: held on entry).
    Held {
        write: bool,
        since: Option<Span>,
    },
    /// Released at `at` by `by` (a callee name). `may`: the callee may have
    /// released it (a VMA use is wrong, a second release is not reported).
    Released {
        at: Span,
        by: Arc<str>,
        may: bool,
        /// It was acquired on this path within the function (so the
        /// function as a whole leaves it as it found it).
        own: bool,
    },
    /// Known not held (e.g. mmap_lock on a per-VMA-lock fault path).
    NotHeld,
    /// Known not held because the conditional acquire at `at` by `by`
    /// (`mmap_write_lock_killable()`, a lock wrapper) failed on this path:
    /// releasing it is a double unlock.
    Failed {
        at: Span,
        by: Arc<str>,
    },
    Unknown,
}

/// A VMA pointer value and the lock that keeps it valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VmaInfo {
    /// `None`: protected by an unknown lock of the caller.
    pub prot: Option<LockKey>,
    /// The acquisition of `prot` the VMA was obtained under (see
    /// `Status::Held::since`; `Some(None)`: held since entry), when known. A
    /// different acquisition at use means the lock was dropped and re-taken.
    pub epoch: Option<Option<Span>>,
    /// Where the VMA was obtained (None: on entry).
    pub at: Option<Span>,
    /// A use was already reported on this path; later uses stay quiet.
    pub reported: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct State {
    /// Local variables (parameters are looked up lazily as roots).
    pub env: BTreeMap<String, Val>,
    /// Field stores `o->f = v`.
    pub heap: BTreeMap<(ObjId, String), Val>,
    /// Bit facts of symbolic values (`ret & VM_FAULT_RETRY`, `vmf->flags`).
    pub bits: BTreeMap<ObjId, BitVal>,
    /// Truthiness facts (non-NULL, trylock succeeded, non-zero).
    pub truthy: BTreeMap<ObjId, bool>,
    pub locks: BTreeMap<LockKey, Status>,
    pub vmas: BTreeMap<ObjId, VmaInfo>,
    /// The vm_fault object whose flag selects the fault lock, if any.
    pub fault: Option<ObjId>,
    /// VMAs write-locked (or not yet visible to readers) on this path; only
    /// kept in functions that store VMA fields (see `analysis::vma_write`).
    pub vma_write: BTreeSet<ObjId>,
    /// Call results derived from an object the VMA owns (`file_inode(f)`
    /// → `f`), see `analysis::owned`.
    pub derived: BTreeMap<ObjId, ObjId>,
    /// Objects a reference was taken on (`get_file()`, `ihold()`).
    pub pinned: BTreeSet<ObjId>,
    /// Comparisons of parameter values with constants on this path
    /// (summary pass only; see `analysis::assert_cond`).
    pub conds: BTreeSet<Cond>,
    /// How this path got here (final pass only; never compared).
    pub trail: Trail,
}

impl State {
    pub fn status(&self, key: LockKey) -> &Status {
        self.locks.get(&key).unwrap_or(&Status::Unknown)
    }

    pub fn is_held(&self, key: LockKey) -> bool {
        matches!(self.status(key), Status::Held { .. })
    }

    pub fn any_mmap_held(&self) -> bool {
        self.locks
            .iter()
            .any(|(k, s)| matches!(k, LockKey::Mmap(_)) && matches!(s, Status::Held { .. }))
    }

    /// The only mmap_lock held, if exactly one is.
    pub fn single_held_mmap(&self) -> Option<LockKey> {
        let mut held = self
            .locks
            .iter()
            .filter(|(k, s)| matches!(k, LockKey::Mmap(_)) && matches!(s, Status::Held { .. }))
            .map(|(k, _)| *k);
        let first = held.next()?;
        held.next().is_none().then_some(first)
    }

    /// Forget everything known about a value that is being recomputed.
    pub fn forget_obj(&mut self, o: ObjId) {
        self.bits.remove(&o);
        self.truthy.remove(&o);
        self.vmas.remove(&o);
        self.derived.remove(&o);
        self.pinned.remove(&o);
        self.heap.retain(|(obj, _), _| *obj != o);
    }

    /// Drop the facts of call results nothing refers to any more (a dead
    /// `$t3` tested once), so that paths differing only in them merge
    /// instead of filling the block's state bound.
    pub fn retain_reachable(&mut self, objs: &Objs) {
        let mut refs: BTreeSet<ObjId> = BTreeSet::new();
        let val = |v: &Val| match v {
            Val::Obj(o) => Some(*o),
            _ => None,
        };
        refs.extend(self.env.values().filter_map(val));
        refs.extend(self.heap.values().filter_map(val));
        refs.extend(self.heap.keys().map(|(o, _)| *o));
        refs.extend(self.vmas.keys().copied());
        refs.extend(self.fault);
        refs.extend(self.locks.keys().map(|k| {
            let (LockKey::Mmap(o) | LockKey::Vma(o) | LockKey::Hugetlb(o)) = *k;
            o
        }));
        let reachable = |mut x: ObjId| loop {
            if refs.contains(&x) {
                return true;
            }
            match objs.kind(x) {
                ObjKind::Root(_) | ObjKind::Local(_) => return true,
                ObjKind::Field(p, _) | ObjKind::Deref(p) => x = *p,
                ObjKind::Fresh(..) | ObjKind::Clobbered(..) => return false,
            }
        };
        self.truthy.retain(|o, _| reachable(*o));
        self.bits.retain(|o, _| reachable(*o));
    }

    /// Least upper bound: what holds on both paths. Disagreements become
    /// unknown, so a joined state reports fewer findings, never more.
    pub fn join(&self, other: &State) -> State {
        fn join_map<K: Ord + Clone, V: Clone + PartialEq>(
            a: &BTreeMap<K, V>,
            b: &BTreeMap<K, V>,
        ) -> BTreeMap<K, V> {
            a.iter()
                .filter(|(k, v)| b.get(*k) == Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        let mut env: BTreeMap<String, Val> = BTreeMap::new();
        for (k, v) in self.env.iter().chain(other.env.iter()) {
            let same = self.env.get(k) == other.env.get(k);
            env.insert(k.clone(), if same { v.clone() } else { Val::Top });
        }
        let bits = self
            .bits
            .iter()
            .filter_map(|(k, v)| other.bits.get(k).map(|w| (*k, v.join(w))))
            .collect();
        State {
            env,
            heap: join_map(&self.heap, &other.heap),
            bits,
            truthy: join_map(&self.truthy, &other.truthy),
            locks: join_map(&self.locks, &other.locks),
            vmas: join_map(&self.vmas, &other.vmas),
            fault: if self.fault == other.fault {
                self.fault
            } else {
                None
            },
            vma_write: self
                .vma_write
                .intersection(&other.vma_write)
                .copied()
                .collect(),
            derived: join_map(&self.derived, &other.derived),
            // Pinned on either path: a join reports fewer findings, not more.
            pinned: self.pinned.union(&other.pinned).copied().collect(),
            conds: self.conds.intersection(&other.conds).cloned().collect(),
            trail: self.trail.clone(),
        }
    }
}
