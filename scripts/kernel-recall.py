#!/usr/bin/env python3
"""Recall on real code: re-introduce known bug shapes into copies of real
Linux functions (in a temporary directory, never in the repo), run faultlock
on each copy with the tree's kernel version (`--kernel`) and check that the
seeded bug is reported, in the right function, with the expected lint, and
that the unmodified file has no such finding there (so the report is due to
the seed).

    scripts/kernel-recall.py                 # KERNEL=7.3 (default) or KERNEL=6.12
    KERNEL=6.12 FAULTLOCK_CACHE=/path scripts/kernel-recall.py

A seed is (name, file, function, old text, new text, expected lint) with an
optional seventh element, the first kernel release it applies to ("7.0"):
the shape needs an API that older trees do not have; and an optional
eighth, the first release it no longer applies to (the code was rewritten). File paths are the
newest tree's; MOVED maps them to older trees' paths. Other blocks of seeds
are appended to SEEDS with `SEEDS += [...]`.

Prints one line per seed and the recall; exits 1 if any seed is missed.
"""
import json
import os
import subprocess
import sys
import tempfile

KERNEL = os.environ.get("KERNEL", "7.3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "faultlock")

ARCH_RETRY_TEST = (
    "\tif (!(fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))\n\t\tvma_end_read(vma);",
    "\tvma_end_read(vma);",
)

# (name, file, function, old text, new text, expected lint)
SEEDS = [
    (
        "hugetlb: revert the switch to __vmf_anon_prepare() in hugetlb_no_page()",
        "mm/hugetlb.c", "hugetlb_no_page",
        "\t\t\tret = __vmf_anon_prepare(vmf);",
        "\t\t\tret = vmf_anon_prepare(vmf);",
        "vma_use_after_unlock",
    ),
    (
        "hugetlb: revert the switch to __vmf_anon_prepare() in hugetlb_wp()",
        "mm/hugetlb.c", "hugetlb_wp",
        "\tret = __vmf_anon_prepare(vmf);",
        "\tret = vmf_anon_prepare(vmf);",
        "vma_use_after_unlock",
    ),
    (
        "memory: read vma->vm_flags after __handle_mm_fault() in handle_mm_fault()",
        "mm/memory.c", "handle_mm_fault",
        "\t\tret = __handle_mm_fault(vma, address, flags);\n",
        "\t\tret = __handle_mm_fault(vma, address, flags);\n\tif (vma->vm_flags & VM_SHARED)\n\t\tret |= 0;\n",
        "vma_use_after_unlock",
    ),
    (
        "memory: use the VMA after vmf_anon_prepare() returned RETRY in do_anonymous_page()",
        "mm/memory.c", "do_anonymous_page",
        "\tret = vmf_anon_prepare(vmf);\n\tif (ret)\n\t\treturn ret;",
        "\tret = vmf_anon_prepare(vmf);\n\tif (ret) {\n\t\tcount_vm_event_vma(vma->vm_flags);\n\t\treturn ret;\n\t}",
        "vma_use_after_unlock",
    ),
    (
        "memory: use the VMA after handle_userfault() in do_anonymous_page()",
        "mm/memory.c", "do_anonymous_page",
        "\t\t\treturn handle_userfault(vmf, VM_UFFD_MISSING);",
        "\t\t\tret = handle_userfault(vmf, VM_UFFD_MISSING);\n\t\t\tif (vma->vm_flags & VM_SHARED)\n\t\t\t\tret |= 0;\n\t\t\treturn ret;",
        "vma_use_after_unlock",
    ),
    (
        "f2fs: use vmf->vma after filemap_fault() in f2fs_filemap_fault()",
        "fs/f2fs/file.c", "f2fs_filemap_fault",
        "\tret = filemap_fault(vmf);\n",
        "\tret = filemap_fault(vmf);\n\tif (vmf->vma->vm_flags & VM_SHARED)\n\t\tret |= 0;\n",
        "vma_use_after_unlock",
    ),
    (
        "gfs2: read the VMA's inode after filemap_fault() in gfs2_fault()",
        "fs/gfs2/file.c", "gfs2_fault",
        "\tret = filemap_fault(vmf);\n\tgfs2_glock_dq(&gh);",
        "\tret = filemap_fault(vmf);\n\tif (inode->i_size == 0)\n\t\tret |= 0;\n\tgfs2_glock_dq(&gh);",
        "vma_use_after_unlock",
    ),
] + [
    (
        f"{arch}: drop the RETRY/COMPLETED test before vma_end_read()",
        f"arch/{arch}/mm/fault.c", fn,
        ARCH_RETRY_TEST[0], ARCH_RETRY_TEST[1],
        "double_unlock",
    )
    for arch, fn in [
        ("x86", "do_user_addr_fault"),
        ("arm64", "do_page_fault"),
        ("arm", "do_page_fault"),
        ("powerpc", "___do_page_fault"),
        ("riscv", "handle_page_fault"),
        ("s390", "do_exception"),
    ]
] + [
    (
        f"userfaultfd: assert_fault_locked() #{i + 1} replaced by mmap_assert_locked()",
        "mm/userfaultfd.c", None,
        ("assert_fault_locked(vmf);", i),
        "mmap_assert_locked(vmf->vma->vm_mm);",
        "mmap_assert_under_vma_lock",
    )
    for i in range(3)
] + [
    # Issue 12: aliases through an on-stack struct vm_fault, and a release
    # in a same-file callee reaching its caller.
    (
        "hugetlb: hugetlb_fault() uses vma after hugetlb_wp(&vmf) released the lock (vmf_anon_prepare() in hugetlb_wp())",
        "mm/hugetlb.c", "hugetlb_fault",
        "\tret = __vmf_anon_prepare(vmf);",
        "\tret = vmf_anon_prepare(vmf);",
        "vma_use_after_unlock",
    ),
    (
        "hugetlb: use vma after handle_userfault(&vmf) on the stack vm_fault in hugetlb_fault()",
        "mm/hugetlb.c", "hugetlb_fault",
        "\t\t\treturn handle_userfault(&vmf, VM_UFFD_WP);",
        "\t\t\tret = handle_userfault(&vmf, VM_UFFD_WP);\n\t\t\tif (vma->vm_flags & VM_SHARED)\n\t\t\t\tret |= 0;\n\t\t\treturn ret;",
        "vma_use_after_unlock",
    ),
]


# Shapes that need the 7.x API (guards, vma_refcount_put(),
# vma_start_read_locked(), lock_next_vma()): 7.3 only.
SEEDS += [
    (
        "userfaultfd: a scoped_guard(mmap_read_lock) scope ends before the VMA is used in mrwprotect_range()",
        "mm/userfaultfd.c", "mrwprotect_range",
        "\tguard(mmap_read_lock)(dst_mm);\n",
        "\tscoped_guard(mmap_read_lock, dst_mm) {\n\t\tdst_vma = vma_lookup(dst_mm, start);\n\t}\n"
        "\tif (dst_vma && !userfaultfd_rwp(dst_vma))\n\t\treturn -ENOENT;\n\tguard(mmap_read_lock)(dst_mm);\n",
        "vma_use_after_unlock", "7.0",
    ),
    (
        "mmap_lock: use the VMA after vma_refcount_put() in lock_vma_under_rcu()",
        "mm/mmap_lock.c", "lock_vma_under_rcu",
        "\t\tvma_end_read(vma);\n\t\tgoto inval;",
        "\t\tvma_refcount_put(vma);\n\t\tcount_vm_vma_lock_event(vma->vm_flags);\n\t\tgoto inval;",
        "vma_use_after_unlock", "7.0",
    ),
    (
        "mmap_lock: vma_start_read_locked() after mmap_read_unlock() in lock_next_vma_under_mmap_lock()",
        "mm/mmap_lock.c", "lock_next_vma_under_mmap_lock",
        "\tvma = vma_next(vmi);\n\tif (vma) {",
        "\tvma = vma_next(vmi);\n\tmmap_read_unlock(mm);\n\tif (vma) {",
        "vma_use_after_unlock", "7.0",
    ),
    (
        "userfaultfd: use the VMA after the file-local wrapper uffd_mfill_unlock() in mfill_atomic_hugetlb()",
        "mm/userfaultfd.c", None,
        "\t\tup_read(&ctx->map_changing_lock);\n\t\tuffd_mfill_unlock(dst_vma);\n\t\treturn -EINVAL;",
        "\t\tup_read(&ctx->map_changing_lock);\n\t\tuffd_mfill_unlock(dst_vma);\n\t\treturn dst_vma->vm_flags ? -EINVAL : -EINVAL;",
        "vma_use_after_unlock", "7.0",
    ),
]

# Locks leaked on a return path and VMAs written without their write lock
# (both trees).
SEEDS += [
    (
        "mmap: return from vm_brk_flags() with mmap_lock held when check_brk_limits() fails",
        "mm/mmap.c", "vm_brk_flags",
        "\tret = check_brk_limits(addr, len);\n\tif (ret)\n\t\tgoto limits_failed;",
        "\tret = check_brk_limits(addr, len);\n\tif (ret)\n\t\treturn -EINVAL;",
        "lock_leaked_on_return",
    ),
    (
        "mempolicy: replace vma->vm_policy without vma_start_write() in mpol_rebind_mm()",
        "mm/mempolicy.c", "mpol_rebind_mm",
        "\t\tvma_start_write(vma);\n\t\tmpol_rebind_policy(vma->vm_policy, new);",
        "\t\tvma->vm_policy = mpol_rebind_copy(vma->vm_policy, new);",
        "vma_written_without_write_lock",
    ),
]

# A conditional acquire whose failure is ignored, then the release: the
# lock is not held on the failure path (issue 12 item 3). The 6.12 madvise
# form picks the mode by behaviour inline; 7.3 moved it into madvise_lock(),
# whose failure leaves the mode MADVISE_NO_LOCK (so its unlock does
# nothing), so that seed stops at 7.0 (eighth element: first release it no
# longer applies to). The task_mmu seed releases again after the
# unlock_ctx_mm() wrapper released `lock_ctx->mm`.
SEEDS += [
    (
        "util: ignore the failure of mmap_write_lock_killable() in vm_mmap_pgoff()",
        "mm/util.c", "vm_mmap_pgoff",
        "\t\tif (mmap_write_lock_killable(mm))\n\t\t\treturn -EINTR;\n\t\tret = do_mmap(",
        "\t\tmmap_write_lock_killable(mm);\n\t\tret = do_mmap(",
        "double_unlock",
    ),
    (
        "madvise: ignore the failure of the write lock chosen by behaviour in do_madvise()",
        "mm/madvise.c", "do_madvise",
        "\t\tif (mmap_write_lock_killable(mm))\n\t\t\treturn -EINTR;\n\t} else {",
        "\t\tmmap_write_lock_killable(mm);\n\t} else {",
        "double_unlock", "6.0", "7.0",
    ),
    (
        "task_mmu: release mmap_lock again after unlock_ctx_mm() in unlock_vma_range()",
        "fs/proc/task_mmu.c", "unlock_vma_range",
        "\tif (lock_ctx->mmap_locked) {\n\t\tunlock_ctx_mm(lock_ctx);\n\t} else {",
        "\tif (lock_ctx->mmap_locked) {\n\t\tunlock_ctx_mm(lock_ctx);\n\t\tmmap_read_unlock(lock_ctx->mm);\n\t} else {",
        "double_unlock", "7.0",
    ),
]

# Which mm (issue 12 item 4): the VMA's mmap_lock dropped under another
# spelling of its mm, and mmap_lock asserted where only the per-VMA lock is
# held (both trees).
SEEDS += [
    (
        "userfaultfd: drop current->mm for the VMA's mm, then read the VMA, in userfaultfd_remove()",
        "mm/userfaultfd.c", "userfaultfd_remove",
        "\tmmap_read_unlock(mm);\n\n\tmsg_init(&ewq.msg);",
        "\tmmap_read_unlock(current->mm);\n\n\tmsg_init(&ewq.msg);\n\tewq.msg.arg.remove.start = vma->vm_start;",
        "vma_use_after_unlock",
    ),
    (
        "userfaultfd: drop ctx->mm for the VMA's mm, then read the VMA, in userfaultfd_remove()",
        "mm/userfaultfd.c", "userfaultfd_remove",
        "\tmmap_read_unlock(mm);\n\n\tmsg_init(&ewq.msg);",
        "\tmmap_read_unlock(ctx->mm);\n\n\tmsg_init(&ewq.msg);\n\tewq.msg.arg.remove.start = vma->vm_start;",
        "vma_use_after_unlock",
    ),
    (
        "memory: assert current->mm's mmap_lock in do_anonymous_page(), reached under the per-VMA lock",
        "mm/memory.c", "do_anonymous_page",
        "static vm_fault_t do_anonymous_page(struct vm_fault *vmf)\n{\n\tstruct vm_area_struct *vma = vmf->vma;\n",
        "static vm_fault_t do_anonymous_page(struct vm_fault *vmf)\n{\n\tstruct vm_area_struct *vma = vmf->vma;\n\tmmap_assert_locked(current->mm);\n",
        "mmap_assert_under_vma_lock",
    ),
    (
        "x86: an mmap_lock assert in access_error(), called after lock_vma_under_rcu() in do_user_addr_fault()",
        "arch/x86/mm/fault.c", "do_user_addr_fault",
        "\t/* This is only called for the current mm, so: */\n\tbool foreign = false;\n",
        "\t/* This is only called for the current mm, so: */\n\tbool foreign = false;\n\n\tmmap_assert_locked(vma->vm_mm);\n",
        "mmap_assert_under_vma_lock",
    ),
]

# Newest path -> (last release with the old path, old path).
MOVED = {
    "mm/userfaultfd.c": ("6.12", "fs/userfaultfd.c"),
}


def version(v):
    return tuple(int(x) for x in v.split("."))


def seed_path(rel):
    moved = MOVED.get(rel)
    if moved and version(KERNEL) <= version(moved[0]):
        return moved[1]
    return rel


def tree_path():
    out = subprocess.run(
        [os.path.join(ROOT, "scripts", "kernel-corpus.sh")],
        check=True, capture_output=True, text=True,
        env=dict(os.environ, KERNEL=KERNEL),
    )
    return out.stdout.strip()


def findings(path):
    out = subprocess.run(
        [BIN, "check", "--no-ignore", "--kernel", KERNEL, "--format", "json", path],
        capture_output=True, text=True,
    )
    if out.returncode >= 2:
        sys.exit(f"faultlock failed on {path}:\n{out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def replace_nth(text, old, new, n):
    start = -1
    for _ in range(n + 1):
        start = text.find(old, start + 1)
        if start < 0:
            return None
    return text[:start] + new + text[start + len(old):]


def main():
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(ROOT, "Cargo.toml")],
        check=True,
    )
    tree = tree_path()
    found = 0
    seeds = [
        s for s in SEEDS
        if (len(s) < 7 or version(KERNEL) >= version(s[6]))
        and (len(s) < 8 or version(KERNEL) < version(s[7]))
    ]
    print(f"kernel {KERNEL}: {tree}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel, func, old, new, lint, *_ in seeds:
            rel = seed_path(rel)
            src = open(os.path.join(tree, rel), encoding="utf-8", errors="surrogateescape").read()
            nth = 0
            if isinstance(old, tuple):
                old, nth = old
            seeded = replace_nth(src, old, new, nth)
            if seeded is None:
                print(f"SKIP  {name}: pattern not found in {rel}")
                continue
            # Keep the file name: the copy is checked alone, like an editor would.
            copy = os.path.join(tmp, rel)
            orig = os.path.join(tmp, "orig", rel)
            for p, text in ((copy, seeded), (orig, src)):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(text)
            key = lambda d: (d["lint"], d["function"], d["message"])
            before = {key(d) for d in findings(orig) if d["lint"] == lint}
            after = [d for d in findings(copy) if d["lint"] == lint and (func is None or d["function"] == func)]
            new_ones = [d for d in after if key(d) not in before]
            if new_ones:
                found += 1
                d = new_ones[0]
                print(f"FOUND {name}\n      {rel}:{d['line']}:{d['column']}: {d['lint']}: {d['message']}")
            else:
                print(f"MISS  {name} (expected {lint})")
    total = len(seeds)
    print(f"recall: {found}/{total} seeded bug shapes reported")
    sys.exit(0 if found == total else 1)


if __name__ == "__main__":
    main()
