//! Applying a file diff in memory, leniently: context is compared with
//! whitespace folded (lost indentation still matches), hunks may have
//! moved, and lines wrapped by a mailer are joined back. Without the
//! pre-image, `fragment` rebuilds what the hunks show.

use super::diff::{FilePatch, Kind, Line};
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

/// What one hunk line does at its place: keep text line `k` (hunk line
/// `li`), drop it, or add a line.
enum Step {
    Keep(usize, usize),
    Drop(usize, usize),
    Add(String, usize),
}

/// Try `lines` (hunk lines `base..` of a hunk) at pre-image line `at`,
/// joining at most `wraps` unprefixed lines to the line before them (as
/// the tails of lines a mailer wrapped); the steps and the pre-image line
/// after them.
fn place(
    pre: &[String],
    lines: &[Line],
    base: usize,
    at: usize,
    mut wraps: usize,
) -> Option<(Vec<Step>, usize)> {
    let (mut steps, mut k, mut i) = (Vec::new(), at, 0);
    'lines: while i < lines.len() {
        let line = &lines[i];
        if line.kind == Kind::Add {
            steps.push(Step::Add(line.text.clone(), base + i));
            i += 1;
            continue;
        }
        let step = |k| {
            if line.kind == Kind::Context {
                Step::Keep(k, base + i)
            } else {
                Step::Drop(k, base + i)
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
            for (m, tail) in lines.iter().enumerate().skip(i + 1).take(3.min(wraps)) {
                if !tail.bare {
                    break;
                }
                joined.push(' ');
                joined.push_str(&tail.text);
                if normalise(&joined) == pre[k] {
                    steps.push(step(k));
                    k += 1;
                    wraps -= m - i;
                    i = m + 1;
                    continue 'lines;
                }
            }
        }
        // The wrapped tail of an added line.
        if let (true, true, Some(Step::Add(text, _))) = (line.bare, wraps > 0, steps.last_mut()) {
            text.push(' ');
            text.push_str(line.text.trim_start());
            wraps -= 1;
            i += 1;
            continue;
        }
        return None;
    }
    Some((steps, k))
}

/// How far `patch` and `git apply -C1` go: up to this many lines of
/// leading and of trailing context may be ignored.
pub const MAX_FUZZ: usize = 2;

/// Which way one hunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Applied at `line` (1-based, in the text it was applied to),
    /// `offset` lines from where its header says, ignoring `fuzz` lines
    /// of context at each end.
    Applied {
        line: usize,
        offset: isize,
        fuzz: usize,
    },
    /// Its reverse applies: the text already has what the hunk makes.
    AlreadyApplied { line: usize, fuzz: usize },
    /// Neither it nor its reverse is in the text, even with fuzz.
    Unplaced,
}

/// A file diff applied hunk by hunk: the text after it, the text before
/// it (the input, with the already applied hunks undone), and per hunk
/// which way it went.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub post: Image,
    pub pre: String,
    pub placements: Vec<Placement>,
}

/// The hunk's lines with add and delete swapped.
fn reversed(lines: &[Line]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| Line {
            kind: match l.kind {
                Kind::Add => Kind::Del,
                Kind::Del => Kind::Add,
                Kind::Context => Kind::Context,
            },
            ..l.clone()
        })
        .collect()
}

/// The context lines at the start and at the end of `lines`.
fn edge_context(lines: &[Line]) -> (usize, usize) {
    let lead = lines.iter().take_while(|l| l.kind == Kind::Context).count();
    let trail = lines[lead..]
        .iter()
        .rev()
        .take_while(|l| l.kind == Kind::Context)
        .count();
    (lead, trail)
}

/// A place for `lines` (of a hunk expected at `expected`, 0-based), at
/// or after `next`, ignoring `fuzz` lines of context at each end: the
/// nearest to `expected`, as `patch` searches. The line, the steps and the
/// end. `None` also when this fuzz ignores no more than one less would.
fn locate(
    norm: &[String],
    lines: &[Line],
    (expected, next): (usize, usize),
    fuzz: usize,
    wraps: usize,
) -> Option<(usize, Vec<Step>, usize)> {
    let has_old = lines.iter().any(|l| l.kind != Kind::Add);
    let (lead, trail) = edge_context(lines);
    let (a, b) = (fuzz.min(lead), fuzz.min(trail));
    if fuzz > 0 && (a, b) == ((fuzz - 1).min(lead), (fuzz - 1).min(trail)) {
        return None;
    }
    let kept = &lines[a..lines.len() - b];
    // Fuzz must leave something of the old side to match.
    if has_old && !kept.iter().any(|l| l.kind != Kind::Add) {
        return None;
    }
    if !has_old {
        let at = expected.clamp(next, norm.len());
        return place(norm, kept, a, at, wraps).map(|(s, e)| (at, s, e));
    }
    let want = (expected + a).clamp(next, norm.len());
    for d in 0..=norm.len() {
        for at in [want.checked_add(d), want.checked_sub(d)]
            .into_iter()
            .flatten()
            .filter(|&at| at >= next && at <= norm.len())
        {
            if let Some((steps, end)) = place(norm, kept, a, at, wraps) {
                return Some((at, steps, end));
            }
        }
    }
    None
}

/// Apply `fp` to `text` hunk by hunk: each hunk is found by its context
/// (whitespace folded, wrapped lines joined) with offset and up to
/// [`MAX_FUZZ`] lines of fuzz; a hunk whose reverse is found instead is
/// already applied; a hunk found neither way is left out. Hand-written
/// rather than `diffy`/`patch`: those match context exactly, and mail
/// needs the leniency above.
pub fn apply_hunks(text: &str, fp: &FilePatch) -> Applied {
    let lines: Vec<&str> = text.lines().collect();
    let norm: Vec<String> = lines.iter().map(|l| normalise(l)).collect();
    // Where each placed hunk went: text lines `at..end`, its steps, whether
    // reversed, its index.
    let mut spans: Vec<(usize, usize, Vec<Step>, bool, usize)> = Vec::new();
    let mut placements = Vec::new();
    let mut next = 0usize;
    let mut delta: isize = 0;
    for (hi, h) in fp.hunks.iter().enumerate() {
        let has_old = h.lines.iter().any(|l| l.kind != Kind::Add);
        let stated = if has_old {
            h.old_start.saturating_sub(1)
        } else {
            h.old_start
        };
        let expected = (stated as isize + delta).clamp(0, lines.len() as isize) as usize;
        let back = reversed(&h.lines);
        let new_stated = if back.iter().any(|l| l.kind != Kind::Add) {
            h.new_start.saturating_sub(1)
        } else {
            h.new_start
        };
        let back_expected = (new_stated as isize + delta).clamp(0, lines.len() as isize) as usize;
        let changes = h.lines.iter().any(|l| l.kind != Kind::Context);
        // Lines wrapped by a mailer make more lines than the header
        // counts; with the counts right, an unprefixed line is context
        // that lost its indentation, never a tail.
        let side = |k: Kind| h.lines.iter().filter(|l| l.kind != k).count();
        let wrapped = side(Kind::Add) > h.old_count || side(Kind::Del) > h.new_count;
        let wraps = if wrapped { usize::MAX } else { 0 };
        // Forward, then reversed (already applied), at each fuzz: an exact
        // reverse beats a fuzzy forward.
        let found = (0..=MAX_FUZZ).find_map(|fuzz| {
            let forward =
                locate(&norm, &h.lines, (expected, next), fuzz, wraps).map(|r| (false, fuzz, r));
            forward.or_else(|| {
                changes
                    .then(|| locate(&norm, &back, (back_expected, next), fuzz, wraps))
                    .flatten()
                    .map(|r| (true, fuzz, r))
            })
        });
        let Some((is_back, fuzz, (at, steps, end))) = found else {
            placements.push(Placement::Unplaced);
            continue;
        };
        let lead = fuzz.min(edge_context(&h.lines).0);
        let start = at - lead.min(at);
        placements.push(if is_back {
            delta = start as isize - new_stated as isize;
            Placement::AlreadyApplied {
                line: start + 1,
                fuzz,
            }
        } else {
            let offset = start as isize - stated as isize;
            delta = offset;
            Placement::Applied {
                line: start + 1,
                offset,
                fuzz,
            }
        });
        spans.push((at, end, steps, is_back, hi));
        next = end;
    }
    let mut post = Image::default();
    let mut pre = String::new();
    let mut copied = 0;
    for (at, end, steps, back, hi) in spans {
        for (i, l) in lines.iter().enumerate().take(at).skip(copied) {
            post.push(l, LineSrc::Pre(i));
            pre.push_str(l);
            pre.push('\n');
        }
        for s in steps {
            // Forward, the text is the pre side; reversed, the post side.
            let (keep, add) = match &s {
                Step::Keep(k, li) => (Some((*k, *li)), None),
                Step::Drop(k, li) => (back.then_some((*k, *li)), None),
                Step::Add(t, li) => (None, Some((t.as_str(), *li))),
            };
            if let Some((k, li)) = keep {
                post.push(lines[k], LineSrc::Hunk(hi, li));
            }
            match (&s, back) {
                (Step::Keep(k, _) | Step::Drop(k, _), false) | (Step::Keep(k, _), true) => {
                    pre.push_str(lines[*k]);
                    pre.push('\n');
                }
                _ => {}
            }
            if let Some((t, li)) = add {
                if back {
                    pre.push_str(t);
                    pre.push('\n');
                } else {
                    post.push(t, LineSrc::Hunk(hi, li));
                }
            }
        }
        copied = end;
    }
    for (i, l) in lines.iter().enumerate().skip(copied) {
        post.push(l, LineSrc::Pre(i));
        pre.push_str(l);
        pre.push('\n');
    }
    Applied {
        post,
        pre,
        placements,
    }
}

/// Apply `fp` to `pre`. Errors name the first hunk that does not apply.
pub fn apply(pre: &str, fp: &FilePatch) -> Result<Image, String> {
    let a = apply_hunks(pre, fp);
    match a.placements.iter().position(|p| *p == Placement::Unplaced) {
        Some(hi) => Err(format!(
            "{}: hunk {} (`{}`) does not apply: its context is not in the file",
            fp.path(),
            hi + 1,
            fp.hunks[hi].header
        )),
        None => Ok(a.post),
    }
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

    /// A file that moved on: three lines more above the function, and
    /// the last context line of the hunk changed since.
    const MOVED: &str = "/* a */\n/* b */\n/* c */\nint f(void)\n{\n\tint a = 1;\n\tcall(a, b, c);\n\treturn a + 0;\n}\n";

    #[test]
    fn hunks_move_with_offset_and_fuzz_and_applied_ones_are_seen() {
        let patch = "--- a/f.c\n+++ b/f.c\n@@ -2,4 +2,4 @@ int f(void)\n {\n \tint a = 1;\n-\tcall(a, b, c);\n+\tcall(a, b, d);\n \treturn a;\n";
        let fp = &parse(patch)[0];
        let a = apply_hunks(MOVED, fp);
        assert_eq!(
            a.placements,
            [Placement::Applied {
                line: 5,
                offset: 3,
                fuzz: 1
            }]
        );
        assert!(a.post.text.contains("\tcall(a, b, d);\n\treturn a + 0;\n"));
        assert_eq!(a.pre, MOVED);
        // The same hunk on the result: already applied; the text before
        // the patch is rebuilt by undoing it.
        let again = apply_hunks(&a.post.text, fp);
        assert_eq!(
            again.placements,
            [Placement::AlreadyApplied { line: 5, fuzz: 1 }]
        );
        assert_eq!(again.post.text, a.post.text);
        assert_eq!(again.pre, MOVED);
        assert_eq!(again.post.src[6], LineSrc::Hunk(0, 3));
        // Neither way: left out, the rest still applies.
        let two = format!("{patch}@@ -20,2 +20,2 @@\n nothing\n-like\n+this\n");
        let b = apply_hunks(MOVED, &parse(&two)[0]);
        assert_eq!(b.placements[1], Placement::Unplaced);
        assert_eq!(b.post.text, a.post.text);
        assert!(apply(MOVED, &parse(&two)[0]).is_err());
    }

    #[test]
    fn unprefixed_lines_are_wrapped_tails_only_past_the_header_counts() {
        // Indentation stripped (context lines unprefixed), counts exact:
        // the context after the added line must match, not be glued to it.
        let patch = "--- a/f.c\n+++ b/f.c\n@@ -4,4 +4,5 @@\nint f(void)\n{\n+\tint q = 0;\nint a = 1;\ncall(a, b, c);\n";
        let fp = &parse(patch)[0];
        assert_eq!(
            apply_hunks(MOVED, fp).placements,
            [Placement::Applied {
                line: 4,
                offset: 0,
                fuzz: 0
            }]
        );
        let other = "/* a */\n/* b */\n/* c */\nint f(void)\n{\n\tint a = 2;\n}\n";
        assert_eq!(apply_hunks(other, fp).placements, [Placement::Unplaced]);
    }

    #[test]
    fn fuzz_stops_before_the_changed_lines() {
        // Only the changed line would be left to match at fuzz 2 ignoring
        // more than the context: the hunk is not placed on a lookalike.
        let patch = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n x\n-\tint a = 1;\n+\tint a = 2;\n y\n";
        let a = apply_hunks(MOVED, &parse(patch)[0]);
        assert_eq!(
            a.placements,
            [Placement::Applied {
                line: 5,
                offset: 4,
                fuzz: 1
            }]
        );
        let none = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n x\n-\tint q = 1;\n+\tint q = 2;\n y\n";
        assert_eq!(
            apply_hunks(MOVED, &parse(none)[0]).placements,
            [Placement::Unplaced]
        );
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
