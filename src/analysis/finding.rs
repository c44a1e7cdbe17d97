//! What the analysis reports; lints turn these into diagnostics.

use crate::source::Span;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finding {
    /// A VMA dereferenced (or passed to a callee that uses it) after the
    /// lock protecting it was released.
    UseAfterUnlock {
        at: Span,
        /// The VMA expression as written in the IR (`vma`, `vmf->vma`).
        vma: String,
        /// `Some(callee)` when the VMA is passed to a function.
        passed_to: Option<String>,
        lock: &'static str,
        released_at: Span,
        released_by: Arc<str>,
        /// The releasing call only may have released it (on RETRY).
        may: bool,
        obtained_at: Option<Span>,
        /// For an object the VMA owns (`inode`), rather than the VMA
        /// itself: the owning VMA and the field it was reached through.
        owner: Option<(String, String)>,
    },
    /// A lock released where it is already released.
    DoubleUnlock {
        at: Span,
        lock: &'static str,
        callee: String,
        first_at: Span,
        first_by: Arc<str>,
        /// `first_at` is not a release but an acquire that failed on this
        /// path (`if (lock(..)) ...` ignored): the lock was never taken.
        first_failed: bool,
    },
    /// An mmap_lock assert reachable while only the per-VMA lock is held.
    MmapAssertUnderVmaLock {
        at: Span,
        /// The call chain to the assert, outermost first, when it is in a
        /// callee: `["foo()", "bar()", "mmap_assert_locked()"]`.
        chain: Vec<String>,
        /// Where the per-VMA lock was taken (None: held on entry).
        vma_locked_at: Option<Span>,
        /// How the per-VMA lock came to be the only lock: "the fault flag
        /// FAULT_FLAG_VMA_LOCK is set on this path" and the like.
        reason: String,
    },
    /// A fault entry point returns VM_FAULT_RETRY with the per-VMA lock held.
    RetryWithLockHeld {
        at: Span,
        /// The call that produced the RETRY value, if any.
        retry_from: Option<(Span, String)>,
        locked_at: Option<Span>,
    },
    /// A VMA looked up under mmap_lock, used after the lock was dropped and
    /// re-taken.
    StaleVma {
        at: Span,
        vma: String,
        obtained_at: Option<Span>,
        relocked_at: Span,
    },
    /// A return path of an annotated function that contradicts one of its
    /// annotations.
    AnnotationMismatch {
        /// The return.
        at: Span,
        /// The annotation, whitespace collapsed.
        annotation: String,
        /// Where it is written (possibly a prototype in another file).
        ann_file: usize,
        ann_at: Span,
        lock: &'static str,
        /// How the return contradicts it, with `LOCK` standing for the
        /// lock: "with the LOCK still held", "without holding the LOCK", ...
        problem: &'static str,
        /// The release on this path, when the lock is released.
        released_at: Option<(Span, Arc<str>)>,
    },
    /// A call to a function annotated `requires(L)` on a path where L was
    /// released (`released_at`) or is known not held.
    RequiredLockNotHeld {
        at: Span,
        callee: String,
        annotation: String,
        ann_file: usize,
        ann_at: Span,
        lock: &'static str,
        released_at: Option<(Span, Arc<str>)>,
    },
    /// A lock taken in the function is still held at this return, while
    /// another return of the function has released it.
    LockLeaked {
        /// The leaking return.
        at: Span,
        lock: &'static str,
        /// The call that took it.
        taken_at: Span,
        /// A return where it is released, and the release on that path.
        released_return: Span,
        released_at: Span,
        released_by: Arc<str>,
    },
    /// A store to a VMA field per-VMA-lock readers use, on a path where the
    /// VMA is not write-locked.
    VmaWrittenUnlocked {
        at: Span,
        vma: String,
        field: String,
        /// `Some(callee)` when a helper stores the field.
        via: Option<String>,
        /// The mmap_lock acquisition on this path, and whether it is for
        /// write (else only the read lock is held: StackRot's shape).
        locked_at: Span,
        write: bool,
    },
    /// The analysis of this function hit its state bound and stopped early;
    /// findings after that point may be missing.
    Bounded { at: Span },
    /// The analysis of this function failed (a defect in faultlock).
    Internal { at: Span, message: String },
}

impl Finding {
    /// The primary span.
    pub fn primary(&self) -> Span {
        match self {
            Finding::UseAfterUnlock { at, .. }
            | Finding::DoubleUnlock { at, .. }
            | Finding::MmapAssertUnderVmaLock { at, .. }
            | Finding::RetryWithLockHeld { at, .. }
            | Finding::StaleVma { at, .. }
            | Finding::AnnotationMismatch { at, .. }
            | Finding::RequiredLockNotHeld { at, .. }
            | Finding::LockLeaked { at, .. }
            | Finding::VmaWrittenUnlocked { at, .. }
            | Finding::Bounded { at }
            | Finding::Internal { at, .. } => *at,
        }
    }
}
