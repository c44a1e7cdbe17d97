/*
 * fault_grammar timeout (artifact timeout-1563ad7510b6fb5f88e95fe9524368923fe5455d),
 * minimised: a dozen handle_userfault() calls in a loop. Checking it took
 * ~1 s in release (>10 s under the ASan fuzz build); the cost grows by
 * about 2.6x per added call.
 */
vm_fault_t f_fault(struct vm_fault *vmf)
{
	for (i = 0; i < nr; i++) {
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = handle_userfault(vmf, VM_UFFD_MISSING);
		ret = fill_ret(&ret, &vma);
		ret = ({ int __x = vma->vm_pgoff; __x ? mmap_read_trylock(mm) : 0; });
	}
}
