//! Abstract values: symbolic objects, known integers and bit-flag facts.

use foldhash::HashMap;
use std::collections::BTreeMap;

/// A symbolic object (a pointer or integer value whose identity matters),
/// interned per analysed function.
pub type ObjId = u32;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// A parameter or global, as it was on entry.
    Root(String),
    /// `o->field` (or `o.field`) as loaded from memory.
    Field(ObjId, String),
    /// `*o`
    Deref(ObjId),
    /// The result of the statement at (block, index).
    Fresh(usize, usize),
    /// The value of a variable after the call at (block, index) was given
    /// its address.
    Clobbered(usize, usize, String),
    /// The storage of a local struct (`struct vm_fault vmf`): `vmf.vma` is
    /// its field `vma`, and `&vmf` is this object too.
    Local(String),
}

/// The per-function object arena.
#[derive(Debug, Default)]
pub struct Objs {
    kinds: Vec<ObjKind>,
    ids: HashMap<ObjKind, ObjId>,
}

impl Objs {
    pub fn intern(&mut self, kind: ObjKind) -> ObjId {
        if let Some(&id) = self.ids.get(&kind) {
            return id;
        }
        let id = self.kinds.len() as ObjId;
        self.kinds.push(kind.clone());
        self.ids.insert(kind, id);
        id
    }

    pub fn kind(&self, id: ObjId) -> &ObjKind {
        &self.kinds[id as usize]
    }

    pub fn root(&mut self, name: &str) -> ObjId {
        self.intern(ObjKind::Root(name.to_string()))
    }

    pub fn field(&mut self, o: ObjId, f: &str) -> ObjId {
        self.intern(ObjKind::Field(o, f.to_string()))
    }

    /// Express an object as a path from a root: `("vmf", ["vma", "vm_mm"])`.
    pub fn path(&self, mut id: ObjId) -> Option<(String, Vec<String>)> {
        let mut fields = Vec::new();
        loop {
            match self.kind(id) {
                ObjKind::Root(name) => {
                    fields.reverse();
                    return Some((name.clone(), fields));
                }
                ObjKind::Field(o, f) => {
                    fields.push(f.clone());
                    id = *o;
                }
                ObjKind::Deref(_)
                | ObjKind::Fresh(..)
                | ObjKind::Clobbered(..)
                | ObjKind::Local(_) => return None,
            }
        }
    }
}

/// What is known of the bits of an integer value, by constant name.
/// Distinct names are assumed to be distinct bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BitVal {
    /// Bits known set (`true`) or known clear (`false`).
    pub known: BTreeMap<String, bool>,
    /// Every bit not in `known` is clear (the value is exactly the set bits).
    pub exact: bool,
}

impl BitVal {
    pub fn zero() -> Self {
        BitVal {
            known: BTreeMap::new(),
            exact: true,
        }
    }

    pub fn constant(name: &str) -> Self {
        let mut b = Self::zero();
        b.known.insert(name.to_string(), true);
        b
    }

    pub fn bit(&self, name: &str) -> Option<bool> {
        match self.known.get(name) {
            Some(&v) => Some(v),
            None if self.exact => Some(false),
            None => None,
        }
    }

    /// Whether the value is non-zero.
    pub fn truthy(&self) -> Option<bool> {
        if self.known.values().any(|&v| v) {
            Some(true)
        } else if self.exact {
            Some(false)
        } else {
            None
        }
    }

    pub fn or(&self, other: &BitVal) -> BitVal {
        let mut known = BTreeMap::new();
        for name in self.known.keys().chain(other.known.keys()) {
            let v = match (self.bit(name), other.bit(name)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            if let Some(v) = v {
                known.insert(name.clone(), v);
            }
        }
        BitVal {
            known,
            exact: self.exact && other.exact,
        }
    }

    /// Any of `mask` set?
    pub fn any(&self, mask: &[String]) -> Option<bool> {
        let mut all_clear = true;
        for m in mask {
            match self.bit(m) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => all_clear = false,
            }
        }
        if all_clear {
            Some(false)
        } else {
            None
        }
    }

    pub fn join(&self, other: &BitVal) -> BitVal {
        if self == other {
            return self.clone();
        }
        let known = self
            .known
            .iter()
            .filter(|(k, v)| other.bit(k) == Some(**v))
            .map(|(k, v)| (k.clone(), *v))
            .chain(
                other
                    .known
                    .iter()
                    .filter(|(k, v)| self.bit(k) == Some(**v))
                    .map(|(k, v)| (k.clone(), *v)),
            )
            .collect();
        // Two different exact values: the bits they disagree on are unknown.
        BitVal {
            known,
            exact: false,
        }
    }
}

/// The abstract value of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Val {
    /// Nothing known.
    Top,
    Obj(ObjId),
    Int(i64),
    Null,
    /// A combination of named constants (and symbolic values).
    Bits(BitVal),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_facts_follow_or_and_tests() {
        let flags = BitVal::constant("FAULT_FLAG_DEFAULT").or(&BitVal::constant("FAULT_FLAG_USER"));
        assert_eq!(flags.bit("FAULT_FLAG_VMA_LOCK"), Some(false));
        let locked = flags.or(&BitVal::constant("FAULT_FLAG_VMA_LOCK"));
        assert_eq!(locked.bit("FAULT_FLAG_VMA_LOCK"), Some(true));
        let unknown = BitVal::default();
        assert_eq!(unknown.or(&flags).bit("FAULT_FLAG_VMA_LOCK"), None);
        let mask = vec!["A".to_string(), "B".to_string()];
        assert_eq!(BitVal::constant("B").any(&mask), Some(true));
        assert_eq!(BitVal::zero().any(&mask), Some(false));
        assert_eq!(BitVal::zero().truthy(), Some(false));
        assert_eq!(
            BitVal::constant("A").join(&BitVal::constant("B")).bit("A"),
            None
        );
    }
}
