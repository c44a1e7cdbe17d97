//! Helpers shared by the end-to-end tests (CLI, configuration, SARIF,
//! baselines, the kbuild mode).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Use after `mmap_read_unlock()`: one `vma_use_after_unlock`.
pub const UAF: &str = "\
static unsigned long g(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long x;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tmmap_read_unlock(mm);
\tx = vma->vm_start;
\treturn x;
}
";

/// A temp dir holding `files` (relative path, contents).
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// Run the binary in `dir`.
pub fn faultlock(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run faultlock")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `(file, lint)` of every gcc-format finding line of `text`.
pub fn gcc_findings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.contains(": note: ") && l.ends_with(']'))
        .map(|l| {
            let file = l.split(':').next().unwrap().to_string();
            let lint = l
                .rsplit('[')
                .next()
                .unwrap()
                .trim_end_matches(']')
                .to_string();
            (file, lint)
        })
        .collect()
}
