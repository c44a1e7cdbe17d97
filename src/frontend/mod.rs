//! Front ends: source text → [`crate::ir::Unit`]. One submodule per
//! language; the rest of the pipeline only sees the IR.

pub mod c;
pub mod rust;

use crate::ir::Unit;
use crate::source::SourceFile;
use std::collections::BTreeMap;

/// Preprocessor symbols known to be defined (with an optional value) or
/// known to be undefined. Anything not listed is unknown and both sides of a
/// conditional on it are explored.
#[derive(Debug, Clone, Default)]
pub struct Defines {
    pub defined: BTreeMap<String, String>,
    pub undefined: Vec<String>,
    /// Prefixes whose every name not in `defined` is known undefined
    /// (`CONFIG_` once the build's autoconf.h has been read).
    pub undefined_prefixes: Vec<String>,
}

impl Defines {
    /// `Some(true)` when `name` is known defined, `Some(false)` when known
    /// undefined, `None` when unknown.
    pub fn is_defined(&self, name: &str) -> Option<bool> {
        if self.defined.contains_key(name) {
            Some(true)
        } else if self.undefined.iter().any(|u| u == name)
            || self
                .undefined_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
        {
            Some(false)
        } else {
            None
        }
    }
}

/// Source languages faultlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    C,
    Rust,
}

impl Lang {
    pub fn of_path(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "c" | "h" => Some(Lang::C),
            "rs" => Some(Lang::Rust),
            _ => None,
        }
    }
}

/// Lower one file with the front end for its language. Files in another
/// language give an empty unit.
pub fn lower(file: &SourceFile, defines: &Defines) -> Unit {
    match Lang::of_path(&file.path) {
        Some(Lang::C) => c::lower_file(file, defines),
        Some(Lang::Rust) => rust::lower_file(file),
        None => Unit::default(),
    }
}
