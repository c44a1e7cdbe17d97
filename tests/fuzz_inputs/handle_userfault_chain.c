/*
 * Hand reduction of fault_grammar_timeout_handle_userfault_loop.c: straight
 * line code, no loop, no branch. Each handle_userfault() call splits every
 * state three ways (RETRY / COMPLETED / neither) inside one block, and the
 * states are only bounded at block entry, so time and memory grow ~2.6x per
 * call: 16 calls 1.7 s / 1.2 GB, 18 calls 13.7 s / 5.2 GB, 20 would need
 * tens of GB.
 */
vm_fault_t f_fault(struct vm_fault *vmf)
{
	vm_fault_t ret = 0;

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
	ret = handle_userfault(vmf, VM_UFFD_MISSING);
	ret = handle_userfault(vmf, VM_UFFD_MISSING);
	ret = handle_userfault(vmf, VM_UFFD_MISSING);
	ret = handle_userfault(vmf, VM_UFFD_MISSING);
	ret = handle_userfault(vmf, VM_UFFD_MISSING);
	return ret;
}
