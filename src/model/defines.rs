//! Preprocessor symbols a check assumes (`-D`/`-U`, autoconf.h, the
//! project's settings). They belong to the model's inputs, so the front end
//! and the model both read them from here.

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
