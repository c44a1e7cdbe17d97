//! `faultlock review` input: patches as plain diffs, `git format-patch`
//! mails or mboxes, and replies that quote a patch. `mail` decodes mail,
//! `quote` removes reply quoting, `diff` parses (leniently) unified diffs,
//! `apply` applies them in memory or rebuilds fragments, `compare` tells
//! what a patch introduces from what it fixes.

pub mod apply;
pub mod compare;
pub mod diff;
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
}

/// Every patch in `input` (a diff, a mail, an mbox, or a reply quoting a
/// patch), in order. Errors when no file diff is found at all.
pub fn parse_input(input: &[u8]) -> Result<Vec<Patch>, String> {
    let mut patches = Vec::new();
    for m in mail::split(input) {
        let body = quote::dequote(&m.body).unwrap_or(m.body);
        let files = diff::parse(&body);
        if !files.is_empty() {
            patches.push(Patch {
                mail: m.mail,
                files,
            });
        }
    }
    if patches.is_empty() {
        return Err("no patch found in the input (expected a unified diff, a `git format-patch` mail or mbox, or a reply quoting a patch)".into());
    }
    Ok(patches)
}
