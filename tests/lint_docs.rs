//! The lint pages under `lints/` are documentation users read through
//! `faultlock explain`, so their examples must be true: every ```` ```c bad ````
//! block, checked alone as `<id>_bad.c`, produces at least one diagnostic and
//! only diagnostics of that lint; every ```` ```c good ```` block, checked alone
//! as `<id>_good.c`, produces none. ```` ```rust bad ```` / ```` ```rust good ````
//! blocks are checked the same way as `<id>_bad.rs` / `<id>_good.rs`.

use faultlock::check::{check, CheckOptions};
use faultlock::lints::{LintInfo, LINTS};
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Set while `check()` runs under `catch_unwind` on this thread.
    static IN_CHECK: Cell<bool> = const { Cell::new(false) };
    /// Message and location of the last panic caught in `check()`.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics inside `check()` are listed per example instead of printing a
/// backtrace each; every other panic goes to the default hook.
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CHECK.with(Cell::get) {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "<non-string panic payload>".to_string());
                let loc = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
            } else {
                default(info);
            }
        }));
    });
}

/// A fenced code block of a Markdown page.
#[derive(Debug, PartialEq, Eq)]
struct Block {
    /// Info string words, e.g. `["c", "bad"]`.
    info: Vec<String>,
    /// 1-based line of the opening fence.
    line: usize,
    code: String,
}

/// Fenced (```` ``` ````) code blocks of `md`, in order. An unterminated
/// block runs to the end of the page.
fn code_blocks(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (idx, line) in md.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match open.take() {
            None if fence => {
                open = Some(Block {
                    info: line.trim_start()[3..]
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    line: idx + 1,
                    code: String::new(),
                });
            }
            None => {}
            Some(block) if fence && line.trim() == "```" => blocks.push(block),
            Some(mut block) => {
                block.code.push_str(line);
                block.code.push('\n');
                open = Some(block);
            }
        }
    }
    blocks.extend(open);
    blocks
}

/// Languages of tested examples: info word and file extension.
const LANGS: &[(&str, &str)] = &[("c", "c"), ("rust", "rs")];

fn blocks_of<'a>(blocks: &'a [Block], kind: &str) -> impl Iterator<Item = &'a Block> + 'a {
    lang_blocks_of(blocks, "c", kind)
}

fn lang_blocks_of<'a>(
    blocks: &'a [Block],
    lang: &str,
    kind: &str,
) -> impl Iterator<Item = &'a Block> + 'a {
    let kind = kind.to_string();
    let lang = lang.to_string();
    blocks
        .iter()
        .filter(move |b| b.info.first() == Some(&lang) && b.info.contains(&kind))
}

#[test]
fn pages_are_well_formed() {
    let mut problems = Vec::new();
    for info in LINTS {
        let page = info.doc;
        let id = info.id;
        if page.lines().next() != Some(&format!("# {id}")[..]) {
            problems.push(format!("lints/{id}.md: first line must be `# {id}`"));
        }
        for heading in ["## Why", "## Example", "## Fix"] {
            if !page.lines().any(|l| l.trim_end() == heading) {
                problems.push(format!("lints/{id}.md: missing `{heading}`"));
            }
        }
        let blocks = code_blocks(page);
        if blocks_of(&blocks, "bad").count() == 0 {
            problems.push(format!("lints/{id}.md: no ```c bad block"));
        }
        if blocks_of(&blocks, "good").count() == 0 {
            problems.push(format!("lints/{id}.md: no ```c good block"));
        }
        for b in &blocks {
            let lang = b.info.first().map(String::as_str);
            if LANGS.iter().any(|(l, _)| Some(*l) == lang)
                && !(b.info.contains(&"bad".to_string()) || b.info.contains(&"good".to_string()))
            {
                problems.push(format!(
                    "lints/{id}.md:{}: {} block is neither `bad` nor `good` (so it is not tested)",
                    b.line,
                    lang.unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "lint pages:\n  {}",
        problems.join("\n  ")
    );
}

fn check_example(info: &LintInfo, block: &Block, kind: &str, ext: &str) -> Option<String> {
    let name = format!("{}_{kind}.{ext}", info.id);
    let file = SourceFile::new(name.as_str(), block.code.as_str());
    let files = [file.clone()];
    let where_ = format!("lints/{}.md:{} ({name})", info.id, block.line);
    IN_CHECK.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        check(&files, &LockModel::builtin(), &CheckOptions::default())
    }));
    IN_CHECK.with(|c| c.set(false));
    let report = match result {
        Ok(r) => r,
        Err(_) => {
            let msg = LAST_PANIC.with(|p| p.borrow_mut().take());
            return Some(format!(
                "{where_}: check() panicked: {}",
                msg.unwrap_or_else(|| "<no message>".to_string())
            ));
        }
    };
    let listed = report
        .diagnostics
        .iter()
        .map(|d| {
            let (l, c) = file.line_col(d.span.start);
            format!(
                "\n      {l}:{c}: {} {}: {}",
                d.level.as_str(),
                d.lint,
                d.message
            )
        })
        .collect::<String>();
    match kind {
        "bad" if report.diagnostics.is_empty() => {
            Some(format!("{where_}: bad example produces no diagnostic"))
        }
        "bad" if report.diagnostics.iter().any(|d| d.lint != info.id) => Some(format!(
            "{where_}: bad example produces other lints than `{}`:{listed}",
            info.id
        )),
        "good" if !report.diagnostics.is_empty() => {
            Some(format!("{where_}: good example is not clean:{listed}"))
        }
        _ => None,
    }
}

#[test]
fn examples_behave() {
    install_quiet_panic_hook();
    let mut problems = Vec::new();
    for info in LINTS {
        let blocks = code_blocks(info.doc);
        for kind in ["bad", "good"] {
            for (lang, ext) in LANGS {
                for block in lang_blocks_of(&blocks, lang, kind) {
                    problems.extend(check_example(info, block, kind, ext));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "lint page examples:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn code_block_extraction() {
    let md = "# x\n\ntext\n\n```c bad\nint a;\n  int b;\n```\n\n```text\nplain\n```\n  ```c good\nint c;\n  ```\n```c\nunterminated\n";
    let blocks = code_blocks(md);
    assert_eq!(blocks.len(), 4, "{blocks:?}");
    assert_eq!(blocks[0].info, ["c", "bad"]);
    assert_eq!(blocks[0].line, 5);
    assert_eq!(blocks[0].code, "int a;\n  int b;\n");
    assert_eq!(blocks[1].info, ["text"]);
    assert_eq!(blocks[2].info, ["c", "good"]);
    assert_eq!(blocks[2].code, "int c;\n");
    assert_eq!(blocks[3].code, "unterminated\n");
    assert_eq!(blocks_of(&blocks, "bad").count(), 1);
    assert_eq!(blocks_of(&blocks, "good").count(), 1);
}
