//! `faultlock review` input: patches as plain diffs, `git format-patch`
//! mails or mboxes, and replies that quote a patch. `mail` decodes mail,
//! `quote` removes reply quoting, `diff` parses (leniently) unified diffs,
//! `apply` applies them in memory or rebuilds fragments, `compare` tells
//! what a patch introduces from what it fixes.

pub mod apply;
pub mod compare;
pub mod diff;
pub mod fragment;
pub mod mail;
pub mod quote;
pub mod version;

pub use diff::FilePatch;
pub use mail::MailInfo;

/// One patch: the mail it came in (if any) and its file diffs.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub mail: Option<MailInfo>,
    pub files: Vec<FilePatch>,
    /// The diff was quoted in a reply: whom the quote is attributed to
    /// (`On ..., X wrote:`), when the reply says.
    pub quoted_from: Option<Option<String>>,
}

/// What the input holds: the patches to review, in order, and what was
/// left out of it (replies of a thread, older versions).
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub patches: Vec<Patch>,
    pub notes: Vec<String>,
}

/// Every patch in `input` (a diff, a mail, an mbox, or a reply quoting a
/// patch), in order. Errors when no file diff is found at all.
pub fn parse_input(input: &[u8]) -> Result<Vec<Patch>, String> {
    parse_input_notes(input).map(|i| i.patches)
}

/// A file path named in a reply's text (`mm/memory.c`), for quoted hunks
/// that have no file header.
fn path_named(body: &str) -> Option<String> {
    body.split(|c: char| c.is_whitespace() || "()<>,;:'\"`".contains(c))
        .map(|w| w.trim_start_matches("a/").trim_start_matches("b/"))
        .find(|w| {
            w.contains('/')
                && (w.ends_with(".c") || w.ends_with(".h") || w.ends_with(".rs"))
                && w.chars().all(|c| c.is_alphanumeric() || "/_.-".contains(c))
        })
        .map(str::to_string)
}

/// The diffs of one message: its own complete diffs (not quoted), else
/// the quoted diff with file headers, deepest quote first, else quoted
/// hunks without file headers, under the path the mail names.
fn patch_of(m: mail::Message) -> Option<Patch> {
    let own: Vec<FilePatch> = diff::parse(&m.body);
    let quotes = quote::quoted(&m.body);
    let complete = own
        .iter()
        .any(|f| !f.hunks.is_empty() || f.binary || f.old_path != f.new_path);
    if complete || (!own.is_empty() && quotes.is_empty()) {
        return Some(Patch {
            mail: m.mail,
            files: own,
            quoted_from: None,
        });
    }
    let with_headers = quotes.iter().find_map(|q| {
        let files = diff::parse(&q.text);
        (!files.is_empty()).then_some((q, files))
    });
    let (q, files) = match with_headers {
        Some(x) => x,
        None => {
            let q = quotes.first()?;
            let path = path_named(&m.body).unwrap_or_else(|| "unknown-file.c".into());
            (q, vec![diff::parse_headerless(&q.text, &path)?])
        }
    };
    Some(Patch {
        mail: m.mail,
        files,
        quoted_from: Some(q.author.clone()),
    })
}

/// `[PATCH v3 2/8]` → (3, 2); `[RFC PATCH 1/2]` → (1, 1); no tag → (1, 0).
fn version_and_number(subject: &str) -> (u32, u32) {
    let Some(tag) = subject.find('[').and_then(|a| {
        subject[a + 1..]
            .find(']')
            .map(|b| &subject[a + 1..a + 1 + b])
    }) else {
        return (1, 0);
    };
    let mut version = 1;
    let mut number = 0;
    for w in tag.split_whitespace() {
        if let Some(v) = w.strip_prefix('v').or_else(|| w.strip_prefix('V')) {
            version = v.parse().unwrap_or(version);
        } else if let Some((n, _)) = w.split_once('/') {
            number = n.parse().unwrap_or(number);
        }
    }
    (version, number)
}

fn is_reply(p: &Patch) -> bool {
    let subject = p
        .mail
        .as_ref()
        .and_then(|m| m.subject.as_deref())
        .unwrap_or("");
    let s = subject.trim_start().to_ascii_lowercase();
    p.quoted_from.is_some() || s.starts_with("re:") || s.starts_with("aw:")
}

/// Like [`parse_input`], with notes on what a thread's selection left out.
/// A thread (several mails, some of them patches that are not replies) is
/// reviewed as its series: the patches of the newest version, in patch
/// order; replies are left out, even those that carry a diff.
pub fn parse_input_notes(input: &[u8]) -> Result<Input, String> {
    let mut patches: Vec<Patch> = mail::split(input)
        .into_iter()
        .filter_map(patch_of)
        .collect();
    if patches.is_empty() {
        return Err("no patch found in the input (expected a unified diff, a `git format-patch` mail or mbox, or a reply quoting a patch)".into());
    }
    let mut notes = Vec::new();
    if patches.len() > 1 && patches.iter().any(|p| !is_reply(p)) {
        let replies = patches.iter().filter(|p| is_reply(p)).count();
        patches.retain(|p| !is_reply(p));
        let key = |p: &Patch| {
            version_and_number(
                p.mail
                    .as_ref()
                    .and_then(|m| m.subject.as_deref())
                    .unwrap_or(""),
            )
        };
        let newest = patches.iter().map(|p| key(p).0).max().unwrap_or(1);
        let older = patches.iter().filter(|p| key(p).0 != newest).count();
        patches.retain(|p| key(p).0 == newest);
        patches.sort_by_key(|p| key(p).1);
        if replies > 0 {
            notes.push(format!(
                "{} left out: replies are not the series' patches",
                plural(replies, "reply", "replies")
            ));
        }
        if older > 0 {
            notes.push(format!(
                "{} of older versions left out (reviewing v{newest})",
                plural(older, "patch", "patches")
            ));
        }
    }
    Ok(Input { patches, notes })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
