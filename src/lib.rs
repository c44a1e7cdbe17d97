//! faultlock: a static checker for lock discipline in page-fault and VMA
//! handling code. See ARCHITECTURE.md for the pipeline and the code map.

pub mod analysis;
pub mod baseline;
pub mod check;
pub mod config;
pub mod diag;
pub mod driver;
pub mod fingerprint;
pub mod fix;
pub mod frontend;
pub mod ir;
pub mod lints;
pub mod lsp;
pub mod model;
pub mod render;
pub mod review;
pub mod source;
pub mod suppress;
