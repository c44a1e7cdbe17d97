//! The `[owned]` section: what a VMA owns (objects as unsafe as the VMA once
//! its lock is released), which calls derive owned pointers, and which calls
//! pin an object so that it outlives the release.

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedModel {
    /// `vm_area_struct` fields whose targets the VMA owns.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Calls whose result is owned by what owns their first argument.
    #[serde(default)]
    pub accessors: Vec<String>,
    /// Calls that take a reference on their first argument.
    #[serde(default)]
    pub pins: Vec<String>,
    /// Calls given the vm_fault first that pin its VMA's file before they
    /// drop the fault lock.
    #[serde(default)]
    pub pins_fault_file: Vec<String>,
    /// Fields of an owned object that point to a driver's own object, kept
    /// alive by the driver's reference counts (`file->private_data`): what
    /// is reached through them is not owned by the VMA.
    #[serde(default)]
    pub driver_fields: Vec<String>,
}

impl OwnedModel {
    pub(super) fn extend(&mut self, raw: OwnedModel) {
        self.fields.extend(raw.fields);
        self.accessors.extend(raw.accessors);
        self.pins.extend(raw.pins);
        self.pins_fault_file.extend(raw.pins_fault_file);
        self.driver_fields.extend(raw.driver_fields);
    }

    pub fn is_driver_field(&self, f: &str) -> bool {
        self.driver_fields.iter().any(|n| n == f)
    }

    pub fn is_field(&self, f: &str) -> bool {
        self.fields.iter().any(|n| n == f)
    }

    pub fn is_accessor(&self, name: &str) -> bool {
        self.accessors.iter().any(|n| n == name)
    }

    pub fn is_pin(&self, name: &str) -> bool {
        self.pins.iter().any(|n| n == name)
    }

    pub fn pins_fault_file(&self, name: &str) -> bool {
        self.pins_fault_file.iter().any(|n| n == name)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::LockModel;

    #[test]
    fn builtin_owned_section() {
        let m = LockModel::builtin();
        assert!(m.owned.is_field("vm_file"));
        assert!(!m.owned.is_field("vm_mm"));
        assert!(m.owned.is_accessor("file_inode"));
        assert!(m.owned.is_pin("get_file"));
    }
}
