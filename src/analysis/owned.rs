//! What a VMA owns: pointers reached from a VMA through the fields the model
//! lists (`vma->vm_file`, `vma->anon_vma`, ...) or through its accessors
//! (`file_inode(vma->vm_file)`) are as unsafe as the VMA once its lock is
//! released, unless a pinning call (`get_file()`, `ihold()`, ...) took a
//! reference on the path first.

use super::state::State;
use super::value::{ObjId, ObjKind, Val};
use super::FnAnalyzer;

/// Bound on the derivation chain walked from a use back to its VMA.
const MAX_DEPTH: usize = 16;

impl FnAnalyzer<'_> {
    /// The VMA `o` is owned by and the owned field it was reached through,
    /// unless something on the way was pinned. `direct`: only objects the
    /// owned field or an accessor yields (`file`, `inode`), not what they
    /// point to (`inode->i_sb`), count when passed to a callee, which may
    /// only carry the pointer along.
    pub(super) fn owner_vma(&self, st: &State, o: ObjId, direct: bool) -> Option<(ObjId, String)> {
        let owned = &self.model.owned;
        let mut x = o;
        for _ in 0..MAX_DEPTH {
            if st.pinned.contains(&x) {
                return None;
            }
            if let Some(&src) = st.derived.get(&x) {
                x = src;
                continue;
            }
            let ObjKind::Field(p, f) = self.objs.kind(x) else {
                return None;
            };
            if owned.is_driver_field(f) {
                return None;
            }
            if owned.is_field(f) && st.vmas.contains_key(p) {
                return Some((*p, f.clone()));
            }
            if direct {
                return None;
            }
            x = *p;
        }
        None
    }

    /// Record what a call derives from (an accessor's result is owned like
    /// its argument) or pins (its argument outlives the VMA's lock).
    pub(super) fn owned_call(&mut self, st: &mut State, name: &str, args: &[Val], result: ObjId) {
        let owned = &self.model.owned;
        let Some(Val::Obj(a)) = args.first() else {
            return;
        };
        if owned.is_accessor(name) {
            st.derived.insert(result, *a);
        } else if owned.is_pin(name) {
            st.pinned.insert(*a);
        } else if owned.pins_fault_file(name) {
            let vma_field = self.model.fault.vma_field.clone();
            if let Val::Obj(vma) = self.load_field(st, *a, &vma_field) {
                if let Val::Obj(file) = self.load_field(st, vma, "vm_file") {
                    st.pinned.insert(file);
                }
            }
        }
    }

    /// How to name the owning VMA in a message: its path, when it has one.
    pub(super) fn vma_text(&self, vma: ObjId) -> String {
        match self.objs.path(vma) {
            Some((root, fields)) if !fields.is_empty() => {
                format!("{root}->{}", fields.join("->"))
            }
            Some((root, _)) => root,
            None => "its VMA".to_string(),
        }
    }
}
