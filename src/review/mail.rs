//! Mail input: a `git format-patch` file, an mbox of several, or a single
//! message (a patch or a reply). Headers, MIME, charsets and
//! quoted-printable are decoded by `mail-parser`; anything that is not
//! mail is a plain diff.

use mail_parser::{mailbox::mbox::MessageIterator, HeaderValue, MessageParser, MimeHeaders};

/// What a reply needs from the mail a patch came in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailInfo {
    pub subject: Option<String>,
    /// With angle brackets, e.g. `<20240101.1234@example.org>`.
    pub message_id: Option<String>,
    /// The `References` of the mail, with angle brackets.
    pub references: Vec<String>,
    /// `Name <address>` of the sender.
    pub from: Option<String>,
    /// `Name <address>` of each recipient, as the mail lists them.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The `Date:` header as written.
    pub date: Option<String>,
}

/// One message's decoded text and, when it was mail, its headers.
#[derive(Debug, Clone)]
pub struct Message {
    pub mail: Option<MailInfo>,
    pub body: String,
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// Does the input start with a mail header block (`Name: value` lines
/// naming at least one of the usual headers, then a blank line)?
fn looks_like_mail(text: &str) -> bool {
    let mut known = false;
    for line in text.lines() {
        if line.is_empty() {
            return known;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
        known |= ["from", "subject", "message-id", "date", "to"]
            .contains(&name.to_ascii_lowercase().as_str());
    }
    false
}

fn bracket(id: &str) -> String {
    if id.starts_with('<') {
        id.to_string()
    } else {
        format!("<{id}>")
    }
}

fn ids(v: &HeaderValue) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![bracket(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| bracket(t)).collect(),
        _ => Vec::new(),
    }
}

/// Decode one mail; `None` when the parser finds no message.
fn parse_mail(raw: &[u8]) -> Option<Message> {
    let m = MessageParser::default().parse(raw)?;
    let addr = |a: &mail_parser::Addr| match (a.name(), a.address()) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (None, Some(e)) => e.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    };
    let list = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| a.iter().map(addr).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    };
    let from = m.from().and_then(|a| a.first()).map(addr);
    let date = m
        .header_raw("Date")
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
    let info = MailInfo {
        subject: m
            .subject()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
        message_id: m.message_id().map(bracket),
        references: ids(m.references()),
        from: from.filter(|f| !f.is_empty()),
        to: list(m.to()),
        cc: list(m.cc()),
        date,
    };
    let mut body = String::new();
    for i in 0..m.text_body_count() {
        if let Some(t) = m.body_text(i) {
            body.push_str(&crlf(&t));
            if !body.ends_with('\n') {
                body.push('\n');
            }
        }
    }
    // A patch sent as a text attachment (`text/x-patch`, `text/x-diff`).
    for a in m.attachments() {
        let text_like = a
            .content_type()
            .is_some_and(|c| c.ctype().eq_ignore_ascii_case("text"));
        if let (true, Some(t)) = (text_like, a.text_contents()) {
            body.push_str(&crlf(t));
            if !body.ends_with('\n') {
                body.push('\n');
            }
        }
    }
    Some(Message {
        mail: Some(info),
        body,
    })
}

/// Split the input into messages: an mbox (`From ` separator lines) into
/// its mails, a single mail into one, anything else into one plain text.
pub fn split(input: &[u8]) -> Vec<Message> {
    let text = crlf(&String::from_utf8_lossy(input));
    let plain = || Message {
        mail: None,
        body: text.clone(),
    };
    if text.starts_with("From ") {
        let msgs: Vec<Message> = MessageIterator::new(text.as_bytes())
            .filter_map(Result::ok)
            .map(|m| {
                parse_mail(m.contents()).unwrap_or_else(|| Message {
                    mail: None,
                    body: String::from_utf8_lossy(m.contents()).into_owned(),
                })
            })
            .collect();
        return if msgs.is_empty() { vec![plain()] } else { msgs };
    }
    if looks_like_mail(&text) {
        if let Some(m) = parse_mail(text.as_bytes()) {
            return vec![m];
        }
    }
    vec![archive_page(&text).unwrap_or_else(plain)]
}

/// A mail as a web archive shows it, pasted as text: `From:`, `Date:`,
/// `Subject:` ... lines near the top, without the blank line that ends a
/// real header block (lore adds `[thread overview]`, `(raw)`), perhaps
/// after the subject on a line of its own. `None` when there is no `From:`
/// line with a `Subject:` or `Date:` one near it.
pub fn archive_page(text: &str) -> Option<Message> {
    let lines: Vec<&str> = text.lines().collect();
    let mut info = MailInfo::default();
    let mut last_header = None;
    let mut field: Option<&str> = None;
    for (i, l) in lines.iter().enumerate().take(80) {
        if let (Some(f), true) = (field, l.starts_with([' ', '\t'])) {
            if f == "to" || f == "cc" {
                let v = if f == "to" {
                    &mut info.to
                } else {
                    &mut info.cc
                };
                v.extend(addresses(l));
                last_header = Some(i);
                continue;
            }
        }
        field = None;
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let value = value
            .trim()
            .trim_end_matches("[thread overview]")
            .trim_end_matches("(raw)")
            .trim();
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "from" => info.from = Some(value.to_string()),
            "to" => info.to = addresses(value),
            "cc" => info.cc = addresses(value),
            "subject" => {
                info.subject = Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            "date" => info.date = Some(value.to_string()),
            "message-id" => info.message_id = Some(bracket(value)),
            "references" | "in-reply-to" => info.references.extend(
                value
                    .split_whitespace()
                    .filter(|v| v.contains('@'))
                    .map(bracket),
            ),
            _ => continue,
        }
        field = ["to", "cc"].into_iter().find(|f| *f == name);
        last_header = Some(i);
    }
    let last = last_header?;
    if info.from.is_none() || (info.subject.is_none() && info.date.is_none()) {
        return None;
    }
    if info.subject.is_none() {
        // The subject as the page's title, on a line of its own above.
        info.subject = lines
            .iter()
            .take(last)
            .map(|l| l.trim())
            .find(|l| l.contains("[PATCH") || l.starts_with("Re:") || l.starts_with("RE:"))
            .map(str::to_string);
    }
    info.references.dedup();
    let mut body = lines[last + 1..].join("\n");
    body.push('\n');
    Some(Message {
        mail: Some(info),
        body,
    })
}

/// `A <a@x>, "B, C" <b@x>` → each address; commas inside quotes or angle
/// brackets do not split.
fn addresses(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut angle) = (Vec::new(), String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' => angle = true,
            '>' => angle = false,
            ',' if !quoted && !angle => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_patch_mail_with_quoted_printable() {
        let raw = "From 1234 Mon Sep 17 00:00:00 2001\r\nFrom: A Dev <a@example.org>\r\nSubject: [PATCH] mm: x\r\nMessage-ID: <1@example.org>\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n--- a/x.c\r\n+++ b/x.c\r\n@@ -1 +1 @@\r\n-a =3D 1;\r\n+a =3D=\r\n 2;\r\n";
        let m = split(raw.as_bytes());
        assert_eq!(m.len(), 1);
        let info = m[0].mail.as_ref().unwrap();
        assert_eq!(info.subject.as_deref(), Some("[PATCH] mm: x"));
        assert_eq!(info.message_id.as_deref(), Some("<1@example.org>"));
        assert_eq!(info.from.as_deref(), Some("A Dev <a@example.org>"));
        assert!(m[0].body.contains("-a = 1;\n+a = 2;\n"), "{:?}", m[0].body);
    }

    #[test]
    fn plain_diff_is_not_mail() {
        let m = split(b"diff --git a/x b/x\n--- a/x\n+++ b/x\n");
        assert!(m[0].mail.is_none());
        assert!(!looks_like_mail("Note: hello\nworld\n"));
    }
}
