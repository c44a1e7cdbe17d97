//! The `[vma_write]` section: which VMA fields need the VMA write lock,
//! which calls write-lock a VMA (or assert it), which return VMAs not yet
//! visible to readers, and which drop every VMA write lock of the mm.

use super::KernelVersion;
use serde::Deserialize;

/// What `vma_written_without_write_lock` needs. Empty (no fields) for a
/// release before the per-VMA lock, so nothing is checked there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmaWriteModel {
    /// Fields of `struct vm_area_struct` per-VMA-lock readers use.
    pub fields: Vec<String>,
    /// Call name → index of the VMA argument it write-locks (or asserts).
    pub locks: Vec<(String, usize)>,
    /// Calls whose result is a VMA no reader can see yet.
    pub fresh: Vec<String>,
    /// Calls that drop every VMA write lock (mmap_write_unlock, ...).
    pub end_all: Vec<String>,
    /// Helpers that store a field of a VMA argument without locking:
    /// name, argument index, field.
    pub writes: Vec<(String, usize, String)>,
}

impl VmaWriteModel {
    /// Whether this section describes `name` in any role.
    pub fn describes(&self, name: &str) -> bool {
        self.lock_arg(name).is_some()
            || self.write_of(name).is_some()
            || self.fresh.iter().chain(&self.end_all).any(|n| n == name)
    }

    pub fn lock_arg(&self, name: &str) -> Option<usize> {
        self.locks.iter().find(|(n, _)| n == name).map(|(_, a)| *a)
    }

    pub fn write_of(&self, name: &str) -> Option<(usize, &str)> {
        self.writes
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(_, a, f)| (*a, f.as_str()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVmaWrite {
    since: Option<String>,
    until: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    fresh: Vec<String>,
    #[serde(default)]
    end_all: Vec<String>,
    #[serde(default)]
    lock: Vec<RawCall>,
    #[serde(default)]
    writes: Vec<RawCall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    name: String,
    arg: usize,
    field: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn holds(since: &Option<String>, until: &Option<String>, v: KernelVersion) -> Result<bool, String> {
    let bound = |b: &Option<String>| b.as_deref().map(KernelVersion::parse).transpose();
    let (s, u) = (bound(since)?, bound(until)?);
    Ok(s.map_or(true, |s| s <= v) && u.map_or(true, |u| v <= u))
}

impl VmaWriteModel {
    /// Add a file's section for release `v` (later files extend earlier ones).
    pub(super) fn extend(&mut self, raw: RawVmaWrite, v: KernelVersion) -> Result<(), String> {
        if !holds(&raw.since, &raw.until, v)? {
            return Ok(());
        }
        self.fields.extend(raw.fields);
        self.fresh.extend(raw.fresh);
        self.end_all.extend(raw.end_all);
        for c in raw.lock {
            if holds(&c.since, &c.until, v)? {
                if c.field.is_some() {
                    return Err(format!("vma_write.lock.{}: `field` is for writes", c.name));
                }
                self.locks.push((c.name, c.arg));
            }
        }
        for c in raw.writes {
            if holds(&c.since, &c.until, v)? {
                let field = c
                    .field
                    .ok_or_else(|| format!("vma_write.writes.{}: needs `field`", c.name))?;
                self.writes.push((c.name, c.arg, field));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{KernelVersion, LockModel};

    fn model(v: &str) -> LockModel {
        LockModel::builtin_for(KernelVersion::parse(v).unwrap())
    }

    #[test]
    fn no_vma_write_lock_before_6_4() {
        assert!(model("6.3").vma_write.fields.is_empty());
        assert!(model("6.3").vma_write.lock_arg("vma_start_write").is_none());
        assert!(model("6.4")
            .vma_write
            .fields
            .iter()
            .any(|f| f == "vm_policy"));
    }

    #[test]
    fn killable_write_lock_only_in_newer_trees() {
        let old = model("6.12");
        assert_eq!(old.vma_write.lock_arg("vma_start_write"), Some(0));
        assert_eq!(old.vma_write.lock_arg("vma_start_write_killable"), None);
        assert_eq!(
            model("7.3").vma_write.lock_arg("vma_start_write_killable"),
            Some(0)
        );
        assert_eq!(
            old.vma_write.write_of("vm_flags_init"),
            Some((0, "vm_flags"))
        );
    }

    #[test]
    fn writes_need_a_field() {
        let bad =
            "[vma_write]\nfields = [\"vm_start\"]\n[[vma_write.writes]]\nname = \"f\"\narg = 0\n";
        let err = LockModel::from_sources(&[("x.toml", bad)]).unwrap_err();
        assert!(err.contains("needs `field`"), "{err}");
    }
}
