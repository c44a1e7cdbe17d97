// A VMA dereferenced on some path after the lock that protects it was
// released: the Coccinelle counterpart of faultlock's vma_use_after_unlock,
// used by scripts/compare.sh to compare speed (not precision: it does not
// know which lock protects which VMA, nor RETRY/COMPLETED results).
//
//   spatch --sp-file scripts/use_after_unlock.cocci --no-includes --dir mm

virtual report

// A local VMA pointer used after mmap_lock or its per-VMA lock is released,
// with no reassignment and no re-lock in between.
@vma_after_unlock exists@
struct vm_area_struct *v;
expression mm, E;
identifier fld;
position p1, p2;
@@

(
mmap_read_unlock@p1(mm);
|
mmap_write_unlock@p1(mm);
|
vma_end_read@p1(v);
)
... when != v = E
    when != mmap_read_lock(mm)
    when != mmap_write_lock(mm)
    when != mmap_read_lock_killable(mm)
    when != mmap_write_lock_killable(mm)
(
v@p2->fld
|
v@p2->fld = E
)

@script:python depends on vma_after_unlock@
p1 << vma_after_unlock.p1;
p2 << vma_after_unlock.p2;
@@
print("%s:%s:%s: VMA used after the unlock at line %s" % (p2[0].file, p2[0].line, p2[0].column, p1[0].line))

// The VMA of a fault used after the fault lock is released, or after a
// call that releases it when it returns VM_FAULT_RETRY or VM_FAULT_COMPLETED.
@fault_vma_after_release exists@
struct vm_fault *vmf;
expression E;
identifier fld;
position p1, p2;
@@

(
release_fault_lock@p1(vmf);
|
handle_userfault@p1(vmf, ...)
)
... when != vmf->vma = E
(
vmf@p2->vma->fld
|
vmf@p2->vma->fld = E
)

@script:python depends on fault_vma_after_release@
p1 << fault_vma_after_release.p1;
p2 << fault_vma_after_release.p2;
@@
print("%s:%s:%s: fault VMA used after the release at line %s" % (p2[0].file, p2[0].line, p2[0].column, p1[0].line))

// A VMA passed to handle_mm_fault() used after a result that says the lock
// was released (the arch fault-handler shape).
@vma_after_fault_retry exists@
struct vm_area_struct *v;
expression fault, E;
identifier fld;
position p1, p2;
@@

fault = handle_mm_fault@p1(v, ...);
...
if (\(fault & VM_FAULT_RETRY\|fault & VM_FAULT_COMPLETED\|fault & (VM_FAULT_RETRY|VM_FAULT_COMPLETED)\)) {
  ... when != v = E
(
  v@p2->fld
|
  v@p2->fld = E
)
  ...
}

@script:python depends on vma_after_fault_retry@
p1 << vma_after_fault_retry.p1;
p2 << vma_after_fault_retry.p2;
@@
print("%s:%s:%s: VMA used after handle_mm_fault() at line %s released its lock" % (p2[0].file, p2[0].line, p2[0].column, p1[0].line))
