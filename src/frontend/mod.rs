//! Front ends: source text → [`crate::ir::Unit`]. One submodule per
//! language; the rest of the pipeline only sees the IR.

pub mod c;
pub mod rust;

use crate::ir::Unit;
use crate::source::SourceFile;

pub use crate::model::Defines;

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
    lower_sliced(file, defines, None)
}

/// [`lower`], leaving out the C functions that cannot matter when a
/// slice is given. The Rust front end lowers every function.
pub fn lower_sliced(file: &SourceFile, defines: &Defines, slice: Option<&c::slice::Slice>) -> Unit {
    match Lang::of_path(&file.path) {
        Some(Lang::C) => c::lower_file_sliced(file, defines, slice),
        Some(Lang::Rust) => rust::lower_file(file),
        None => Unit::default(),
    }
}
