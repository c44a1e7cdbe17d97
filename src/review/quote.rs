//! Replies that quote a patch: `> ` (possibly nested, `> > ` or `>>`)
//! before each quoted line, the reviewer's text interleaved unquoted or
//! quoted less deeply. Removing the quoting leaves the patch lines.

/// The quote depth of a line and the line without its markers (and
/// without the one space that follows the last `>`).
pub fn strip(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let next = if depth > 0 {
            rest.strip_prefix(' ')
                .filter(|r| r.starts_with('>'))
                .unwrap_or(rest)
        } else {
            rest
        };
        match next.strip_prefix('>') {
            Some(r) => {
                depth += 1;
                rest = r;
            }
            None => break,
        }
    }
    if depth > 0 {
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    (depth, rest)
}

/// A quoted patch: the text at one quote depth, unquoted, and who wrote
/// it (the `On ..., X wrote:` line that introduces that quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    pub depth: usize,
    pub text: String,
    pub author: Option<String>,
}

/// The quoted patch of a reply: the lines at the deepest quote level that
/// holds a diff or hunk header, unquoted; the reviewer's lines (other
/// levels) are dropped, except a non-blank line squeezed between two
/// quoted lines: the tail of a quoted line the mailer wrapped (reviewers
/// set their text off with blank lines). `None` when no quoted patch is
/// found.
pub fn dequote(body: &str) -> Option<String> {
    quoted(body).into_iter().next().map(|q| q.text)
}

/// Every quote level that holds a diff or hunk header, deepest first.
pub fn quoted(body: &str) -> Vec<Quoted> {
    let lines: Vec<(usize, &str)> = body.lines().map(strip).collect();
    let mut depths: Vec<usize> = lines
        .iter()
        .filter(|(d, t)| *d > 0 && (t.starts_with("@@ -") || t.starts_with("diff --git ")))
        .map(|(d, _)| *d)
        .collect();
    depths.sort_unstable_by(|a, b| b.cmp(a));
    depths.dedup();
    depths
        .into_iter()
        .map(|depth| {
            let mut out = String::new();
            let at = |i: usize| lines.get(i).is_some_and(|(d, _)| *d == depth);
            for (i, (d, t)) in lines.iter().enumerate() {
                let wrapped_tail =
                    *d != depth && i > 0 && at(i - 1) && at(i + 1) && !t.trim().is_empty();
                if wrapped_tail {
                    out.pop();
                    out.push(' ');
                }
                if *d == depth || wrapped_tail {
                    out.push_str(t);
                    out.push('\n');
                }
            }
            let first = lines.iter().position(|(d, _)| *d == depth).unwrap_or(0);
            Quoted {
                depth,
                text: out,
                author: attribution(&lines, first, depth),
            }
        })
        .collect()
}

/// The author named by the attribution line above the first line quoted
/// at `depth`: the nearest line at a shallower depth that ends in
/// `wrote:` (joined with the line before when the mailer wrapped it).
fn attribution(lines: &[(usize, &str)], first: usize, depth: usize) -> Option<String> {
    let i = (0..first)
        .rev()
        .find(|&i| lines[i].0 < depth && lines[i].1.trim_end().ends_with("wrote:"))?;
    let mut text = lines[i].1.trim().to_string();
    if !text.starts_with("On ") && i > 0 && lines[i - 1].0 == lines[i].0 {
        text = format!("{} {text}", lines[i - 1].1.trim());
    }
    author_of(&text)
}

/// `On Mon, 1 Jan 2024 10:00:00 +0000, A Dev <a@x> wrote:` → `A Dev <a@x>`;
/// also `On Mon, Jan 1, 2024 at 10:00 AM A Dev <a@x> wrote:` (no comma
/// before the name) and `A Dev wrote:`.
pub fn author_of(line: &str) -> Option<String> {
    let t = line.trim().strip_suffix("wrote:")?.trim_end();
    let Some(rest) = t.strip_prefix("On ") else {
        return (!t.is_empty()).then(|| t.to_string());
    };
    // After a time (`10:00`, `10:00:00AM`, `+0000`, `AM`/`PM`) or a comma.
    let words: Vec<&str> = rest.split(' ').collect();
    let mut from = 0;
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_end_matches(',');
        let time = w.contains(':') && w.chars().next().is_some_and(|c| c.is_ascii_digit());
        let zone = (w.starts_with(['+', '-']) && w.len() == 5) || w == "AM" || w == "PM";
        if time
            || zone
            || words[i].ends_with(',') && i + 1 < words.len() && time_before(&words[..=i])
        {
            from = i + 1;
        }
    }
    if from == 0 {
        from = rest.rfind(", ").map_or(0, |p| rest[..p].split(' ').count());
    }
    let name = words[from.min(words.len())..].join(" ");
    let name = name.trim().trim_end_matches(',').trim();
    (!name.is_empty()).then(|| name.to_string())
}

fn time_before(words: &[&str]) -> bool {
    words.iter().any(|w| w.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_nested_markers_and_one_space() {
        assert_eq!(strip("> +\tfoo();"), (1, "+\tfoo();"));
        assert_eq!(strip("> > -bar"), (2, "-bar"));
        assert_eq!(strip(">>  ctx"), (2, " ctx"));
        assert_eq!(strip(">"), (1, ""));
        assert_eq!(strip("plain"), (0, "plain"));
    }

    #[test]
    fn keeps_the_deepest_level_with_a_hunk() {
        let body = "On Mon, A wrote:\n> B wrote:\n> > @@ -1,2 +1,2 @@\n> >  a\n> Comment.\nMine.\n> > -b\n> > +c\n";
        assert_eq!(dequote(body).unwrap(), "@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
        assert_eq!(dequote("> no patch here\n"), None);
        // A wrapped quoted line's tail is joined back.
        let wrapped = "> @@ -1 +1 @@\n>  static int f(struct\nfoo *p)\n> +x\n";
        assert_eq!(
            dequote(wrapped).unwrap(),
            "@@ -1 +1 @@\n static int f(struct foo *p)\n+x\n"
        );
    }
}
