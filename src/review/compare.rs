//! What a patch introduces and what it fixes: diagnostics of the
//! post-image whose fingerprint (lint, function, normalised statement,
//! occurrence; `crate::fingerprint`) the pre-image does not have, and the
//! other way round. Line numbers play no part.

use crate::diag::Diagnostic;
use crate::fingerprint::fingerprints;
use crate::render::Files;
use std::collections::HashSet;

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Post-image diagnostics absent before, in the post-image's order.
    pub introduced: Vec<Diagnostic>,
    /// Pre-image diagnostics absent after (pre-image positions).
    pub fixed: Vec<Diagnostic>,
}

pub fn compare(
    pre: &[Diagnostic],
    pre_files: &Files,
    post: &[Diagnostic],
    post_files: &Files,
) -> Outcome {
    let before = fingerprints(pre, pre_files);
    let after = fingerprints(post, post_files);
    let only = |diags: &[Diagnostic], mine: &[String], other: &[String]| {
        let other: HashSet<&String> = other.iter().collect();
        diags
            .iter()
            .zip(mine)
            .filter(|(_, f)| !other.contains(f))
            .map(|(d, _)| d.clone())
            .collect()
    };
    Outcome {
        introduced: only(post, &after, &before),
        fixed: only(pre, &before, &after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_util::*;
    use crate::source::SourceFile;

    #[test]
    fn moved_lines_are_neither_introduced_nor_fixed() {
        let d = use_after_unlock();
        let pre = files();
        let edited = format!("/* new */\n{SRC}");
        let mut moved = d.clone();
        moved.span.start += 10;
        moved.span.end += 10;
        let post = Files::new([SourceFile::new("dir/a.c", edited.as_str())]);
        let o = compare(std::slice::from_ref(&d), &pre, &[moved], &post);
        assert!(o.introduced.is_empty() && o.fixed.is_empty());
        let o = compare(&[], &pre, std::slice::from_ref(&d), &pre);
        assert_eq!((o.introduced.len(), o.fixed.len()), (1, 0));
        let o = compare(std::slice::from_ref(&d), &pre, &[], &pre);
        assert_eq!((o.introduced.len(), o.fixed.len()), (0, 1));
    }
}
