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

/// The quoted patch of a reply: the lines at the deepest quote level that
/// holds a diff or hunk header, unquoted; the reviewer's lines (other
/// levels) are dropped, except a non-blank line squeezed between two
/// quoted lines: the tail of a quoted line the mailer wrapped (reviewers
/// set their text off with blank lines). `None` when no quoted patch is
/// found.
pub fn dequote(body: &str) -> Option<String> {
    let lines: Vec<(usize, &str)> = body.lines().map(strip).collect();
    let depth = lines
        .iter()
        .filter(|(d, t)| *d > 0 && (t.starts_with("@@ -") || t.starts_with("diff --git ")))
        .map(|(d, _)| *d)
        .max()?;
    let mut out = String::new();
    let at = |i: usize| lines.get(i).is_some_and(|(d, _)| *d == depth);
    for (i, (d, t)) in lines.iter().enumerate() {
        let wrapped_tail = *d != depth && i > 0 && at(i - 1) && at(i + 1) && !t.trim().is_empty();
        if wrapped_tail {
            out.pop();
            out.push(' ');
        }
        if *d == depth || wrapped_tail {
            out.push_str(t);
            out.push('\n');
        }
    }
    Some(out)
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
