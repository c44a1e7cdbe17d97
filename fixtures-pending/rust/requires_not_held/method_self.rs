// requires() on a method, naming a field of `self`.
use faultlock_attrs as faultlock;

struct Mm {
    raw: *mut bindings::mm_struct,
}

impl Mm {
    #[faultlock::requires(mmap_read(self.raw))]
    unsafe fn walk(&self) {
        bindings::mmap_assert_locked(self.raw);
    }
}

unsafe fn caller(m: &Mm) {
    bindings::mmap_read_lock(m.raw);
    bindings::mmap_read_unlock(m.raw);
    m.walk(); //~ ERROR requires_not_held
}
