//! `faultlock model-audit`: on a small made-up kernel tree, it lists the lock
//! functions the model does not describe and that need an entry, and leaves
//! out (with the reason, under `--all`) internals, functions summarised from
//! their bodies and lock-word readers.

mod common;

use common::{faultlock, stderr, stdout, tree};

const MAKEFILE: &str = "VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 0\n";

/// Written for this test: one function of each kind.
const MMAP_LOCK_H: &str = r#"
static inline void mm_seq_begin(struct mm_struct *mm)
{
	do_raw_write_seqcount_begin(&mm->mm_lock_seq);
}

static inline void mmap_read_lock(struct mm_struct *mm)
{
	down_read(&mm->mmap_lock);
	mm_seq_begin(mm);
}

static inline int __vma_refcount_drop(struct vm_area_struct *vma)
{
	return __refcount_dec_and_test(&vma->vm_refcnt, NULL);
}

/* A new primitive built on an internal helper: needs an entry. */
static inline void vma_drop_reader(struct vm_area_struct *vma)
{
	__vma_refcount_drop(vma);
}

/* A new primitive changing the lock word itself: needs an entry. */
static inline void vma_take_reader(struct vm_area_struct *vma)
{
	refcount_inc(&vma->vm_refcnt);
}

/* Covered once vma_take_reader() has one. */
static inline void vma_take_two(struct vm_area_struct *a, struct vm_area_struct *b)
{
	vma_take_reader(a);
	vma_take_reader(b);
}

/* Only model calls: the analysis summarises it from its body. */
static inline struct vm_area_struct *lookup_locked(struct mm_struct *mm, unsigned long a)
{
	mmap_read_lock(mm);
	return vma_lookup(mm, a);
}

static inline bool vma_is_attached(struct vm_area_struct *vma)
{
	return refcount_read(&vma->vm_refcnt);
}

static inline void vma_lock_init(struct vm_area_struct *vma)
{
	vma->vm_lock_seq = UINT_MAX;
}

/* In the model's VMA write-lock section: not audited. */
static inline void vma_start_write(struct vm_area_struct *vma)
{
	refcount_inc(&vma->vm_refcnt);
}

DEFINE_GUARD(mmap_read_lock, struct mm_struct *, mmap_read_lock(_T), mmap_read_unlock(_T))
DEFINE_GUARD(mmap_lock_frob, struct mm_struct *, mmap_frob(_T), mmap_unfrob(_T))
"#;

#[test]
fn lists_what_needs_an_entry_and_says_why_the_rest_does_not() {
    let dir = tree(&[
        ("Makefile", MAKEFILE),
        ("include/linux/mmap_lock.h", MMAP_LOCK_H),
    ]);
    let o = faultlock(dir.path(), &["model-audit", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(": function ") || l.contains(": guard class "))
        .collect();
    assert_eq!(listed.len(), 3, "{out}");
    assert!(
        listed[0].contains("function vma_drop_reader: calls __vma_refcount_drop()"),
        "{out}"
    );
    assert!(
        listed[1].contains("function vma_take_reader: changes ->vm_refcnt through refcount_inc()"),
        "{out}"
    );
    assert!(
        listed[2].contains("guard class mmap_lock_frob: not lowered"),
        "{out}"
    );
    assert!(
        out.contains("3 lock function(s) or guard class(es) not in the model"),
        "{out}"
    );
    assert!(out.contains("(--all lists them)"), "{out}");

    let o = faultlock(dir.path(), &["model-audit", "--all", "."]);
    let out = stdout(&o);
    let reason = |name: &str| {
        out.lines()
            .find(|l| l.starts_with("  ") && l.contains(&format!("function {name}:")))
            .unwrap_or_else(|| panic!("{name} not in {out}"))
            .to_string()
    };
    assert!(reason("__vma_refcount_drop").contains("[internal"), "{out}");
    assert!(
        reason("mm_seq_begin").contains("[part(s) of model entries"),
        "{out}"
    );
    assert!(reason("vma_take_two").contains("[covered once"), "{out}");
    assert!(
        reason("lookup_locked").contains("[summarised from their bodies"),
        "{out}"
    );
    assert!(
        reason("vma_is_attached").contains("[read(s) or initialise(s)"),
        "{out}"
    );
    assert!(
        reason("vma_lock_init").contains("[read(s) or initialise(s)"),
        "{out}"
    );
    assert!(
        !out.contains("function mmap_read_lock"),
        "a model entry is not audited: {out}"
    );
    assert!(
        !out.contains("function vma_start_write"),
        "the VMA write-lock section counts as the model: {out}"
    );
}

#[test]
fn a_tree_without_mm_lock_files_is_an_error() {
    let dir = tree(&[("Makefile", MAKEFILE), ("README", "x\n")]);
    let o = faultlock(dir.path(), &["model-audit", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is this a kernel tree?"),
        "{}",
        stderr(&o)
    );
}
