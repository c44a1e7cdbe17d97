//! A lenient unified-diff parser. Written by hand because the leniency
//! that mail archives need is ours: hunk line counts that no longer match,
//! context lines whose leading space (or indentation) was lost, lines
//! wrapped by a mailer, text around the diff. Line counts are used only to
//! tell where a hunk ends when the next line is not a diff line.

/// What a hunk line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Context,
    Add,
    Del,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    /// The line without its `+`/`-`/` ` prefix.
    pub text: String,
    /// The line had no prefix: a context line whose leading space was
    /// lost, or the tail of a line wrapped by a mailer.
    pub bare: bool,
    /// The line as it appeared in the patch (what a reply quotes).
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// 1-based first line of the old side (the line after which to insert
    /// when the old side is empty), as the header says.
    pub old_start: usize,
    pub old_count: usize,
    pub new_start: usize,
    pub new_count: usize,
    /// Text after the second `@@` (usually the enclosing function).
    pub section: String,
    /// The header line as it appeared.
    pub header: String,
    pub lines: Vec<Line>,
}

/// The diff of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePatch {
    /// `None` for a new file.
    pub old_path: Option<String>,
    /// `None` for a deleted file.
    pub new_path: Option<String>,
    /// `diff --git ...` or `--- ...` line, as it appeared (for quoting).
    pub header: String,
    pub hunks: Vec<Hunk>,
    pub binary: bool,
}

impl FilePatch {
    /// The path the change is shown under: the new path, else the old one.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }
}

/// `a/x` → `x`; `/dev/null` → `None`; a tab-separated timestamp and
/// surrounding quotes are dropped.
fn header_path(s: &str) -> Option<String> {
    let s = s.split('\t').next().unwrap_or("").trim_end();
    let s = s.trim_matches('"');
    if s == "/dev/null" || s.is_empty() {
        return None;
    }
    let s = s
        .strip_prefix("a/")
        .or_else(|| s.strip_prefix("b/"))
        .unwrap_or(s);
    Some(s.to_string())
}

/// `a/X b/Y` of a `diff --git` line. With spaces in names the split is
/// ambiguous; the `---`/`+++` lines, when present, override it.
fn git_paths(rest: &str) -> (Option<String>, Option<String>) {
    match rest.find(" b/") {
        Some(i) => (header_path(&rest[..i]), header_path(&rest[i + 1..])),
        None => match rest.split_once(' ') {
            Some((a, b)) => (header_path(a), header_path(b)),
            None => (header_path(rest), header_path(rest)),
        },
    }
}

/// `@@ -a[,b] +c[,d] @@ section`.
fn hunk_header(l: &str) -> Option<Hunk> {
    let rest = l.strip_prefix("@@ -")?;
    let (ranges, section) = rest.split_once(" @@").unwrap_or((rest, ""));
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(usize, usize)> {
        let (s, c) = r.split_once(',').unwrap_or((r, "1"));
        Some((s.trim().parse().ok()?, c.trim().parse().ok()?))
    };
    let (old_start, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some(Hunk {
        old_start,
        old_count,
        new_start,
        new_count,
        section: section.trim().to_string(),
        header: l.to_string(),
        lines: Vec::new(),
    })
}

/// A scissors line (`-- >8 --`, `---8<---`): what follows or precedes it
/// is cut off, so it is never a removed line.
fn scissors(l: &str) -> bool {
    let t = l.trim();
    (t.contains("8<") || t.contains(">8"))
        && t.starts_with('-')
        && t.chars().all(|c| "-8<> ".contains(c) || c.is_alphabetic())
}

/// Does line `j` end the current hunk whatever the counts say?
fn ends_hunk(lines: &[&str], j: usize, counts_done: bool) -> bool {
    let l = lines[j];
    scissors(l)
        || l.starts_with("diff --git ")
        || (l.starts_with("@@ -") && hunk_header(l).is_some())
        || l == "-- "
        || (l.starts_with("--- ")
            && lines.get(j + 1).is_some_and(|n| n.starts_with("+++ "))
            && (counts_done || lines.get(j + 2).is_some_and(|n| n.starts_with("@@ "))))
}

/// Counts used up, an unprefixed line: is it still part of the hunk (the
/// counts are stale) because a change line follows shortly?
fn more_changes(lines: &[&str], j: usize) -> bool {
    for k in j + 1..lines.len().min(j + 8) {
        if ends_hunk(lines, k, true) {
            return false;
        }
        if lines[k].starts_with('+') || lines[k].starts_with('-') {
            return true;
        }
    }
    false
}

/// Read the body of hunk `h` starting at line `start`; returns the index
/// of the first line after it.
fn read_hunk(lines: &[&str], start: usize, h: &mut Hunk) -> usize {
    let (mut old_left, mut new_left) = (h.old_count, h.new_count);
    let mut j = start;
    while j < lines.len() {
        let done = old_left == 0 && new_left == 0;
        if ends_hunk(lines, j, done) {
            break;
        }
        let l = lines[j];
        let (kind, text, bare) = match l.as_bytes().first() {
            Some(b'+') => (Kind::Add, &l[1..], false),
            Some(b'-') => (Kind::Del, &l[1..], false),
            Some(b' ') => (Kind::Context, &l[1..], false),
            Some(b'\\') => {
                j += 1;
                continue;
            }
            _ if done && !more_changes(lines, j) => break,
            _ => (Kind::Context, l, true),
        };
        match kind {
            Kind::Context => {
                old_left = old_left.saturating_sub(1);
                new_left = new_left.saturating_sub(1);
            }
            Kind::Add => new_left = new_left.saturating_sub(1),
            Kind::Del => old_left = old_left.saturating_sub(1),
        }
        h.lines.push(Line {
            kind,
            text: text.to_string(),
            bare,
            raw: l.to_string(),
        });
        j += 1;
    }
    // Blank lines between the diff and what follows it.
    while h
        .lines
        .last()
        .is_some_and(|l| l.bare && l.text.trim().is_empty())
    {
        h.lines.pop();
    }
    j
}

/// Every file diff in `text`; text that is not part of a diff is skipped.
pub fn parse(text: &str) -> Vec<FilePatch> {
    let lines: Vec<&str> = text.lines().collect();
    let mut files = Vec::new();
    let mut cur: Option<FilePatch> = None;
    // `cur` came from a `diff --git` line and has not seen `---`/`+++` yet.
    let mut git_header = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(rest) = l.strip_prefix("diff --git ") {
            files.extend(cur.take());
            let (old_path, new_path) = git_paths(rest);
            cur = Some(FilePatch {
                old_path,
                new_path,
                header: l.to_string(),
                ..FilePatch::default()
            });
            git_header = true;
            i += 1;
            continue;
        }
        if l.starts_with("--- ") && lines.get(i + 1).is_some_and(|n| n.starts_with("+++ ")) {
            let (old_path, new_path) = (header_path(&l[4..]), header_path(&lines[i + 1][4..]));
            match cur.as_mut() {
                Some(fp) if git_header && fp.hunks.is_empty() => {
                    fp.old_path = old_path;
                    fp.new_path = new_path;
                }
                _ => {
                    files.extend(cur.take());
                    cur = Some(FilePatch {
                        old_path,
                        new_path,
                        header: l.to_string(),
                        ..FilePatch::default()
                    });
                }
            }
            git_header = false;
            i += 2;
            continue;
        }
        if let Some(fp) = cur.as_mut() {
            if let Some(mut h) = hunk_header(l) {
                i = read_hunk(&lines, i + 1, &mut h);
                fp.hunks.push(h);
                git_header = false;
                continue;
            }
            if git_header {
                if let Some(p) = l.strip_prefix("rename from ") {
                    fp.old_path = header_path(p);
                } else if let Some(p) = l.strip_prefix("rename to ") {
                    fp.new_path = header_path(p);
                } else if l.starts_with("new file mode") {
                    fp.old_path = None;
                } else if l.starts_with("deleted file mode") {
                    fp.new_path = None;
                }
            }
            if l.starts_with("Binary files ") || l == "GIT binary patch" {
                fp.binary = true;
            }
        }
        i += 1;
    }
    files.extend(cur);
    files
}

/// Hunks with no file header above them (a reply quoting only a piece of
/// a patch), as a diff of `path`. `None` when there is no hunk.
pub fn parse_headerless(text: &str, path: &str) -> Option<FilePatch> {
    let lines: Vec<&str> = text.lines().collect();
    let mut fp = FilePatch {
        old_path: Some(path.to_string()),
        new_path: Some(path.to_string()),
        header: format!("--- a/{path}"),
        ..FilePatch::default()
    };
    let mut i = 0;
    while i < lines.len() {
        match hunk_header(lines[i]) {
            Some(mut h) => {
                i = read_hunk(&lines, i + 1, &mut h);
                fp.hunks.push(h);
            }
            None => i += 1,
        }
    }
    (!fp.hunks.is_empty()).then_some(fp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_diff_with_rename_new_delete_and_binary() {
        let text = "\
diff --git a/old.c b/new.c
similarity index 90%
rename from old.c
rename to new.c
--- a/old.c
+++ b/new.c
@@ -1,2 +1,2 @@ int f(void)
 a
-b
+c
diff --git a/n.c b/n.c
new file mode 100644
--- /dev/null
+++ b/n.c
@@ -0,0 +1 @@
+x
diff --git a/d.c b/d.c
deleted file mode 100644
--- a/d.c
+++ /dev/null
@@ -1 +0,0 @@
-y
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
";
        let f = parse(text);
        assert_eq!(f.len(), 4);
        assert_eq!(
            (f[0].old_path.as_deref(), f[0].new_path.as_deref()),
            (Some("old.c"), Some("new.c"))
        );
        assert_eq!(f[0].hunks[0].section, "int f(void)");
        assert_eq!(f[0].hunks[0].lines.len(), 3);
        assert_eq!((f[1].old_path.as_deref(), f[1].path()), (None, "n.c"));
        assert_eq!((f[2].new_path.as_deref(), f[2].path()), (None, "d.c"));
        assert!(f[3].binary && f[3].hunks.is_empty());
    }

    #[test]
    fn lenient_counts_and_lost_spaces() {
        // Counts say 2 lines, there are 4; one context line lost its space;
        // trailing mail text after the signature is not part of the hunk.
        let text = "--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,1 @@\n a\nb lost space\n-c\n+d\n-- \n2.43.0\n";
        let f = parse(text);
        let l = &f[0].hunks[0].lines;
        assert_eq!(l.len(), 4);
        assert!(l[1].bare && l[1].kind == Kind::Context && l[1].text == "b lost space");
        // A scissors line after the hunk is not a removed line.
        for cut in ["---8<---", "-- >8 --", "--8<-- cut here --8<--"] {
            let f = parse(&format!(
                "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n{cut}\nThanks\n"
            ));
            assert_eq!(f[0].hunks[0].lines.len(), 2, "{cut}");
        }
        assert!(!scissors("-\tx = 8 << 2;"));
        // Counts done: unprefixed text ends the hunk.
        let f = parse("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\nThanks!\n");
        assert_eq!(f[0].hunks[0].lines.len(), 2);
    }

    #[test]
    fn garbage_gives_nothing() {
        assert!(parse("hello\n@@ nonsense @@\n--- \n").is_empty());
        assert!(parse("").is_empty());
    }
}
