//! Helpers shared by the fuzz targets: the whole check pipeline with its
//! determinism check, and the grammar of kernel fault-handler fragments.

pub mod grammar;

use faultlock::check::{self, CheckOptions, Report};
use faultlock::model::LockModel;
use faultlock::render::{self, Files, Format};
use faultlock::source::SourceFile;
use std::sync::OnceLock;

pub fn model() -> &'static LockModel {
    static MODEL: OnceLock<LockModel> = OnceLock::new();
    MODEL.get_or_init(LockModel::builtin)
}

fn single_thread() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool")
    })
}

/// Run the whole pipeline (front end, analysis, lints, every renderer) on
/// `files`, twice: once on the global pool and once on a one-thread pool.
/// Panics if the two runs disagree (ARCHITECTURE.md: output is
/// deterministic whatever the thread count).
pub fn check_twice(files: &[SourceFile], no_prefilter: bool) -> Report {
    let opts = CheckOptions {
        no_prefilter,
        ..CheckOptions::default()
    };
    let a = check::check(files, model(), &opts);
    let b = single_thread().install(|| check::check(files, model(), &opts));
    assert_eq!(
        a.diagnostics, b.diagnostics,
        "diagnostics differ between runs"
    );
    assert_eq!(a.notes, b.notes, "notes differ between runs");
    assert_eq!(a.stats, b.stats, "stats differ between runs");
    let table = Files::new(files.iter().cloned());
    for format in [Format::Human, Format::Json, Format::Gcc] {
        let mut out = Vec::new();
        render::render(&mut out, format, &a.diagnostics, &table, false)
            .expect("rendering into a Vec cannot fail");
    }
    a
}
