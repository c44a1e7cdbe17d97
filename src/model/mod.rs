//! The lock model: which calls acquire, release or assert which lock.

use crate::frontend::Defines;

#[derive(Debug, Clone, Default)]
pub struct LockModel {
    pub defines: Defines,
}

impl LockModel {
    pub fn builtin() -> LockModel {
        LockModel::default()
    }
}
