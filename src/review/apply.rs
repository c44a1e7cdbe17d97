//! Applying a file diff in memory, leniently: context is compared with
//! whitespace folded (lost indentation still matches), hunks may have
//! moved, and lines wrapped by a mailer are joined back. Without the
//! pre-image, `fragment` rebuilds what the hunks show.

use super::diff::{FilePatch, Hunk, Kind};
use crate::fingerprint::normalise;

/// Where a line of a rebuilt image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSrc {
    /// Line `i` (0-based) of the pre-image.
    Pre(usize),
    /// Hunk `h`, line `l` of the file diff.
    Hunk(usize, usize),
    /// Filler of a fragment (a gap, or a synthesised function head/tail).
    Filler,
}

/// A rebuilt file: its text and, per line, where the line comes from.
#[derive(Debug, Clone, Default)]
pub struct Image {
    pub text: String,
    pub src: Vec<LineSrc>,
}

impl Image {
    pub(super) fn push(&mut self, line: &str, src: LineSrc) {
        self.text.push_str(line);
        self.text.push('\n');
        self.src.push(src);
    }
}

enum Step {
    Keep(usize, usize),
    Drop,
    Add(String, usize),
}

/// Try hunk `h` at pre-image line `at`; the steps and the pre-image line
/// after the hunk.
fn place(pre: &[String], h: &Hunk, at: usize) -> Option<(Vec<Step>, usize)> {
    let (mut steps, mut k, mut i) = (Vec::new(), at, 0);
    let lines = &h.lines;
    'lines: while i < lines.len() {
        let line = &lines[i];
        if line.kind == Kind::Add {
            steps.push(Step::Add(line.text.clone(), i));
            i += 1;
            continue;
        }
        let step = |k| {
            if line.kind == Kind::Context {
                Step::Keep(k, i)
            } else {
                Step::Drop
            }
        };
        if k < pre.len() {
            if normalise(&line.text) == pre[k] {
                steps.push(step(k));
                k += 1;
                i += 1;
                continue;
            }
            // A line wrapped by a mailer: its tail(s) follow unprefixed.
            let mut joined = line.text.clone();
            for (m, tail) in lines.iter().enumerate().skip(i + 1).take(3) {
                if !tail.bare {
                    break;
                }
                joined.push(' ');
                joined.push_str(&tail.text);
                if normalise(&joined) == pre[k] {
                    steps.push(step(k));
                    k += 1;
                    i = m + 1;
                    continue 'lines;
                }
            }
        }
        // The wrapped tail of an added line.
        if let (true, Some(Step::Add(text, _))) = (line.bare, steps.last_mut()) {
            text.push(' ');
            text.push_str(line.text.trim_start());
            i += 1;
            continue;
        }
        return None;
    }
    Some((steps, k))
}

/// Apply `fp` to `pre`. Errors name the first hunk that does not apply.
pub fn apply(pre: &str, fp: &FilePatch) -> Result<Image, String> {
    let pre_lines: Vec<&str> = pre.lines().collect();
    let norm: Vec<String> = pre_lines.iter().map(|l| normalise(l)).collect();
    let mut out = Image::default();
    let mut next = 0usize; // first pre-image line not yet copied
    let mut delta: isize = 0; // how far hunks were found from their headers
    for (hi, h) in fp.hunks.iter().enumerate() {
        let has_old = h.lines.iter().any(|l| l.kind != Kind::Add);
        let stated = if has_old {
            h.old_start.saturating_sub(1)
        } else {
            h.old_start
        };
        let expected = (stated as isize + delta).clamp(next as isize, pre_lines.len() as isize);
        let expected = expected as usize;
        let mut found = None;
        for d in 0..=pre_lines.len() {
            for at in [expected.checked_add(d), expected.checked_sub(d)]
                .into_iter()
                .flatten()
                .filter(|&at| at >= next && at <= pre_lines.len())
            {
                if let Some(r) = place(&norm, h, at) {
                    found = Some((at, r));
                    break;
                }
            }
            if found.is_some() || !has_old {
                break;
            }
        }
        let Some((at, (steps, end))) = found else {
            return Err(format!(
                "{}: hunk {} (`{}`) does not apply: its context is not in the file",
                fp.path(),
                hi + 1,
                h.header
            ));
        };
        delta = at as isize - stated as isize;
        for (i, l) in pre_lines.iter().enumerate().take(at).skip(next) {
            out.push(l, LineSrc::Pre(i));
        }
        for s in steps {
            match s {
                Step::Keep(k, li) => out.push(pre_lines[k], LineSrc::Hunk(hi, li)),
                Step::Add(text, li) => out.push(&text, LineSrc::Hunk(hi, li)),
                Step::Drop => {}
            }
        }
        next = end;
    }
    for (i, l) in pre_lines.iter().enumerate().skip(next) {
        out.push(l, LineSrc::Pre(i));
    }
    Ok(out)
}

/// Which side of a diff a fragment shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

/// The hunks alone, rebuilt as code of their own
/// (`super::fragment::fragment_with`), with no configuration known.
pub fn fragment(fp: &FilePatch, side: Side) -> Image {
    super::fragment::fragment_with(fp, side, &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::diff::parse;
    use crate::review::fragment::MAX_FRAGMENT_LINE;

    const PRE: &str = "int f(void)\n{\n\tint a = 1;\n\tcall(a, b, c);\n\treturn a;\n}\n";

    #[test]
    fn applies_with_moved_hunks_lost_indentation_and_wrapped_lines() {
        // Header off by 2 lines, indentation lost, a removed and an added
        // line wrapped.
        let patch = "--- a/f.c\n+++ b/f.c\n@@ -5,4 +5,4 @@\n int a = 1;\n-call(a, b,\nc);\n+call(a,\nb, d);\n return a;\n";
        let fp = &parse(patch)[0];
        let img = apply(PRE, fp).unwrap();
        assert_eq!(
            img.text,
            "int f(void)\n{\n\tint a = 1;\ncall(a, b, d);\n\treturn a;\n}\n"
        );
        assert_eq!(img.src[2], LineSrc::Hunk(0, 0));
        assert_eq!(img.src[5], LineSrc::Pre(5));
    }

    #[test]
    fn refuses_what_does_not_match() {
        let fp = &parse("--- a/f.c\n+++ b/f.c\n@@ -1,1 +1,1 @@\n-nothing like this\n+x\n")[0];
        assert!(apply(PRE, fp).is_err());
    }

    #[test]
    fn fragments_sit_at_header_lines_inside_their_function() {
        let patch = "--- a/f.c\n+++ b/f.c\n@@ -10,2 +10,3 @@ static int g(struct s *p,\n \tx = 1;\n+\ty = 2;\n \treturn x;\n";
        let img = fragment(&parse(patch)[0], Side::New);
        let lines: Vec<&str> = img.text.lines().collect();
        assert_eq!(lines[8], "static int g(struct s *p) {");
        assert_eq!(lines[10], "\ty = 2;");
        assert_eq!(lines[12], "}");
        let old = fragment(&parse(patch)[0], Side::Old);
        // No section (plain `diff -u`), inside a body: a made-up head.
        let plain = "--- a/f.c\n+++ b/f.c\n@@ -5,2 +5,3 @@\n \tx = 1;\n+\ty = 2;\n \treturn x;\n";
        let img = fragment(&parse(plain)[0], Side::New);
        assert_eq!(
            img.text.lines().nth(3),
            Some("static void faultlock_fragment_1(void) {")
        );
        let label = plain.replace("@@ -5,2 +5,3 @@", "@@ -5,2 +5,3 @@ out:");
        assert_eq!(fragment(&parse(&label)[0], Side::New).text, img.text);
        let huge = "--- a/f.c\n+++ b/f.c\n@@ -1 +18446744073709551615 @@\n+x\n";
        assert!(fragment(&parse(huge)[0], Side::New).src.len() <= MAX_FRAGMENT_LINE);
        assert_eq!(old.text.lines().nth(10), Some("\treturn x;"));
    }
}
