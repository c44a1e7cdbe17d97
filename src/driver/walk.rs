//! Input collection: expand directories into source files.

use ignore::WalkBuilder;
use std::path::{Path, PathBuf};

/// Extensions faultlock looks at inside directories.
pub const EXTENSIONS: &[&str] = &["c", "h", "rs"];

/// Whether `path` has one of [`EXTENSIONS`].
pub fn wanted(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

/// Expand `paths` into files to check, sorted and deduplicated. A directory
/// is walked (in parallel, on the current rayon pool's thread count)
/// respecting `.gitignore`/`.ignore` and skipping hidden entries;
/// each yielded path is the given path joined with the relative path inside
/// it. A file named explicitly is always kept. Errors are `(path, reason)`.
pub fn collect(paths: &[PathBuf], respect_ignore: bool) -> (Vec<PathBuf>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        match std::fs::metadata(root) {
            Err(e) => errors.push((root.display().to_string(), e.to_string())),
            Ok(m) if m.is_file() => files.push(root.clone()),
            // FIFOs and devices would block or never end.
            Ok(m) if !m.is_dir() => {
                errors.push((root.display().to_string(), "not a regular file".to_string()))
            }
            Ok(_) => {
                let before = files.len();
                let found = std::sync::Mutex::new((Vec::new(), Vec::new()));
                WalkBuilder::new(root)
                    .hidden(true)
                    .git_ignore(respect_ignore)
                    .git_exclude(respect_ignore)
                    .ignore(respect_ignore)
                    // A user's global excludes would make output machine-dependent.
                    .git_global(false)
                    .require_git(false)
                    .follow_links(false)
                    .threads(rayon::current_num_threads())
                    .build_parallel()
                    .run(|| {
                        Box::new(|entry| {
                            let one = visit(root, entry);
                            if one != (None, None) {
                                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                                found.0.extend(one.0);
                                found.1.extend(one.1);
                            }
                            ignore::WalkState::Continue
                        })
                    });
                let (mut f, mut e) = found.into_inner().unwrap_or_else(|e| e.into_inner());
                e.sort();
                files.append(&mut f);
                errors.append(&mut e);
                if respect_ignore && files.len() == before && hidden_by_ignore_rules(root) {
                    // Not an error (the user may mean it), but never silent:
                    // Debian's linux-source tarball ignores its whole top
                    // level through .gitignore.
                    eprintln!(
                        "note: every C/Rust file under {} is excluded by .gitignore/.ignore rules; use --no-ignore to check them",
                        root.display()
                    );
                }
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// What one walked entry gives: a file to check, or an error.
fn visit(
    root: &Path,
    entry: Result<ignore::DirEntry, ignore::Error>,
) -> (Option<PathBuf>, Option<(String, String)>) {
    let e = match entry {
        Ok(e) => e,
        Err(err) => return (None, Some((root.display().to_string(), err.to_string()))),
    };
    let Some(t) = e.file_type() else {
        return (None, None);
    };
    if !wanted(e.path()) {
        return (None, None);
    }
    if t.is_file() {
        return (Some(e.into_path()), None);
    }
    if t.is_symlink() {
        // Links to files are checked; links to directories are not
        // followed (no loops), and a broken link is an error, not a skip.
        return match std::fs::metadata(e.path()) {
            Ok(m) if m.is_file() => (Some(e.into_path()), None),
            Ok(_) => (None, None),
            Err(err) => (
                None,
                Some((e.path().display().to_string(), err.to_string())),
            ),
        };
    }
    (None, None)
}

/// Whether `root` has a C or Rust file when ignore rules are not applied
/// (stops at the first one).
fn hidden_by_ignore_rules(root: &Path) -> bool {
    WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(false)
        .git_exclude(false)
        .ignore(false)
        .git_global(false)
        .follow_links(false)
        .build()
        .flatten()
        .any(|e| e.file_type().is_some_and(|t| t.is_file()) && wanted(e.path()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_sorted_and_respects_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::create_dir_all(root.join("gen")).unwrap();
        for f in [
            "b.c", "a.h", "sub/c.rs", "x.txt", ".git/h.c", "gen/g.c", "skip.c",
        ] {
            fs::write(root.join(f), "").unwrap();
        }
        fs::write(root.join(".gitignore"), "gen/\nskip.c\n").unwrap();
        let (files, errors) = collect(&[root.to_path_buf(), root.join("skip.c")], true);
        assert!(errors.is_empty());
        let rel: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(rel, ["a.h", "b.c", "skip.c", "sub/c.rs"]);
    }

    #[test]
    fn missing_path_is_an_error() {
        let (files, errors) = collect(&[PathBuf::from("/nonexistent/faultlock")], true);
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
