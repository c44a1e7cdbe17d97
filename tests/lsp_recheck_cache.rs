//! The language server's re-check re-lowers only the edited function
//! (`lsp::incremental`) and reuses per-function summaries and analysis
//! results (`analysis::analyze_cached`); after every edit of a random
//! sequence its report must equal a fresh `check::check` of the same texts.

use faultlock::check::{self, CheckOptions, Report};
use faultlock::lsp::text::Encoding;
use faultlock::lsp::workspace::{uri_to_path, Workspace};
use faultlock::model::LockModel;
use faultlock::source::SourceFile;
use lsp_types::Uri;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The C fixtures, concatenated in two documents (alternating files).
fn documents() -> [String; 2] {
    documents_where(|_| true)
}

/// The C fixtures `keep` accepts, concatenated in two documents.
fn documents_where(keep: impl Fn(&str) -> bool) -> [String; 2] {
    let mut paths = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "c") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|t| keep(t))
        .collect();
    let mut docs = [String::new(), String::new()];
    for (i, t) in texts.iter().enumerate() {
        docs[i % 2].push_str(t);
        docs[i % 2].push('\n');
    }
    docs
}

/// A small deterministic PRNG (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Lines to insert: neutral ones, and ones that break the lock discipline
/// (an extra release, a use of a VMA) wherever they land.
const INSERTS: &[&str] = &[
    "",
    "\t/* comment */",
    "\tvma_end_read(vma);",
    "\tvma_end_read(vmf->vma);",
    "\tmmap_read_unlock(mm);",
    "\tx = vma->vm_start;",
    "\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)\n\t\treturn VM_FAULT_RETRY;",
    "static int extra_fn(struct vm_fault *vmf)\n{\n\tvma_end_read(vmf->vma);\n\treturn 0;\n}",
];

fn edit(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = match rng.below(4) {
        // Above everything: every function moves.
        0 => 0,
        _ => rng.below(lines.len() + 1),
    };
    if rng.below(3) == 0 && !lines.is_empty() {
        let at = at.min(lines.len() - 1);
        lines.remove(at);
    } else {
        lines.insert(at, INSERTS[rng.below(INSERTS.len())].to_string());
    }
    lines.join("\n") + "\n"
}

/// The same report. Function counts are left out: a batch check parses
/// only the functions that can matter (`frontend/c/slice.rs`), the server
/// lowers them all so that it can re-lower one at a time.
fn same(a: &Report, b: &Report) -> bool {
    a.diagnostics == b.diagnostics
        && a.notes == b.notes
        && a.internal_errors == b.internal_errors
        && (a.stats.files, a.stats.files_parsed) == (b.stats.files, b.stats.files_parsed)
}

/// Statement lines inserted inside a body: neutral ones, ones that change
/// the function's findings or its summary (and so its callers'), and
/// ones the server must lower with the whole file (a `#`, a comment
/// delimiter).
const BODY_INSERTS: &[&str] = &[
    "\t;",
    "\tx = 1;",
    "\tvma_end_read(vma);",
    "\tvma_end_read(vmf->vma);",
    "\tmmap_read_unlock(mm);",
    "\tmmap_read_lock(mm);",
    "\tx = vma->vm_start;",
    "\treturn VM_FAULT_RETRY;",
    "\tif (x) {\n\t\tvma_end_read(vma);\n\t}",
    "\tfoo(\"#\");",
    "\t/* comment */",
];

/// An edit most of which lands inside a function body (between two
/// statement lines), the rest at the top (every function moves), in a
/// preprocessor line (`#if 0` and `#if 1` swapped, a `#define` added) or
/// removing a line.
fn body_edit(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let inside: Vec<usize> = (1..lines.len())
        .filter(|&i| lines[i - 1].starts_with('\t') && lines[i].starts_with('\t'))
        .collect();
    let directives: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with('#'))
        .collect();
    match rng.below(10) {
        0 => lines.insert(0, String::new()),
        1 if !directives.is_empty() => {
            let i = directives[rng.below(directives.len())];
            lines[i] = match lines[i].as_str() {
                "#if 0" => "#if 1".to_string(),
                "#if 1" => "#if 0".to_string(),
                l => format!("{l}\n#define FAULTLOCK_TEST_{i} 1"),
            };
        }
        2 if !inside.is_empty() => {
            lines.remove(inside[rng.below(inside.len())]);
        }
        _ if !inside.is_empty() => {
            let at = inside[rng.below(inside.len())];
            let new = BODY_INSERTS[rng.below(BODY_INSERTS.len())];
            lines.insert(at, new.to_string());
        }
        _ => lines.insert(0, String::new()),
    }
    lines.join("\n") + "\n"
}

#[test]
fn rechecks_after_edits_inside_bodies_equal_fresh_checks() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    // Fixtures lowered cleanly (no opaque function), so that edits can be
    // re-lowered function by function.
    let clean = |t: &str| {
        let unit = faultlock::frontend::lower(&SourceFile::new("f.c", t), &model.defines);
        unit.functions.iter().all(|f| f.opaque_regions == 0)
    };
    let texts = documents_where(clean);
    let quick = recheck_sequence(&model, &opts, texts, 60, body_edit);
    // Many edits land in a body and are re-lowered alone (the share
    // depends on the fixtures concatenated: edits on comment or `#` lines,
    // and bodies next to them, take the whole-file path).
    assert!(
        quick >= 10,
        "only {quick} edits were re-lowered one function at a time"
    );
}

#[test]
fn cached_rechecks_equal_fresh_checks_after_random_edits() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    recheck_sequence(&model, &opts, documents(), 24, edit);
}

/// Edits undone (the text goes back to an earlier one) reuse nothing
/// stale: the interned IR texts of the functions edited away are
/// forgotten, the restored ones are interned again, and every re-check
/// equals a fresh check.
#[test]
fn undone_edits_equal_fresh_checks_and_forget_old_ir() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    let mut ws = Workspace::new(model.clone(), opts.clone(), Encoding::Utf8);
    let uri = Uri::from_str("file:///ws/a.c").unwrap();
    let [original, _] = documents();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut text = original.clone();
    for step in 0..16 {
        text = if step % 3 == 2 {
            original.clone()
        } else {
            body_edit(&text, &mut rng)
        };
        ws.set_text(uri.clone(), Arc::from(text.as_str()), step + 1);
        ws.relower();
        let cached = ws.check();
        let file = SourceFile::new(uri_to_path(&uri).as_str(), text.as_str());
        let fresh = check::check(std::slice::from_ref(&file), &model, &opts);
        assert!(
            same(&cached, &fresh),
            "step {step}: cached re-check differs from a fresh check"
        );
        let functions = faultlock::frontend::lower(&file, &model.defines)
            .functions
            .len();
        assert!(
            ws.interned_texts() <= functions,
            "step {step}: {} IR texts interned for {functions} functions",
            ws.interned_texts()
        );
    }
}

/// Apply `steps` random edits (from `edit`) to one of the two documents
/// at a time; after each, the workspace's re-check must equal a fresh
/// check. Returns how many edits were re-lowered one function at a time.
fn recheck_sequence(
    model: &LockModel,
    opts: &CheckOptions,
    mut texts: [String; 2],
    steps: i32,
    edit: fn(&str, &mut Rng) -> String,
) -> usize {
    let mut ws = Workspace::new(model.clone(), opts.clone(), Encoding::Utf8);
    let uris = [
        Uri::from_str("file:///ws/a.c").unwrap(),
        Uri::from_str("file:///ws/b.c").unwrap(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for step in 0..steps {
        let version = step + 1;
        if step > 0 {
            let d = rng.below(2);
            texts[d] = edit(&texts[d], &mut rng);
        }
        for (uri, text) in uris.iter().zip(&texts) {
            ws.set_text(uri.clone(), Arc::from(text.as_str()), version);
        }
        ws.relower();
        let cached = ws.check();
        let files: Vec<SourceFile> = uris
            .iter()
            .zip(&texts)
            .map(|(u, t)| SourceFile::new(uri_to_path(u).as_str(), t.as_str()))
            .collect();
        let fresh = check::check(&files, model, opts);
        assert!(
            same(&cached, &fresh),
            "step {step}: cached re-check differs from a fresh check\ncached: {:#?}\nfresh: {:#?}",
            cached.diagnostics,
            fresh.diagnostics
        );
    }
    ws.quick_relowers()
}

/// Edits inside bodies keep the program's shape: the re-check keeps the
/// call graph and the results of the functions whose inputs did not
/// change without making their keys, and still equals a fresh check.
#[test]
fn body_edits_skip_unchanged_functions() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    let mut ws = Workspace::new(model.clone(), opts.clone(), Encoding::Utf8);
    let uri = Uri::from_str("file:///ws/a.c").unwrap();
    let [original, _] = documents();
    let lines: Vec<&str> = original.lines().collect();
    // Statement lines inside bodies, from the end (each edit keeps the
    // lines above it in place).
    let inside: Vec<usize> = (1..lines.len())
        .filter(|&i| {
            let stmt = |l: &str| l.starts_with('\t') && l.ends_with(';') && !l.contains(['#', '/']);
            stmt(lines[i - 1]) && stmt(lines[i])
        })
        .collect();
    assert!(inside.len() >= 3);
    let mut text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut skips = Vec::new();
    for (step, &at) in [0usize]
        .iter()
        .chain(inside.iter().rev().take(4))
        .enumerate()
    {
        if step > 0 {
            text.insert(at, "\tx = x + 1;".to_string());
        }
        let t = text.join("\n") + "\n";
        ws.set_text(uri.clone(), Arc::from(t.as_str()), step as i32 + 1);
        ws.relower();
        let cached = ws.check();
        let file = SourceFile::new(uri_to_path(&uri).as_str(), t.as_str());
        let fresh = check::check(std::slice::from_ref(&file), &model, &opts);
        assert!(same(&cached, &fresh), "step {step}");
        skips.push(ws.analysis_skips());
    }
    assert_eq!(skips[0], 0, "nothing to keep from before the first check");
    assert!(
        skips[1..].iter().all(|&n| n > 0),
        "body edits kept nothing: {skips:?}"
    );
}

/// A file of `fixtures/lsp/`.
fn lsp_fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/lsp")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// `fixtures/lsp/broken_primary.c`: one function the primary parse
/// breaks (it comes from the first-branch parse), clean ones around it.
fn broken_primary() -> String {
    lsp_fixture("broken_primary.c")
}

/// The names of the functions of `text` whose body edits are re-lowered
/// alone; every such unit must equal a whole-file lowering of the new
/// text, function for function.
fn relowered_alone(text: &str) -> Vec<String> {
    use faultlock::lsp::incremental;
    let model = LockModel::builtin();
    let defines = check::effective_defines(&model, &CheckOptions::default());
    let unit = faultlock::frontend::lower(&SourceFile::new("/ws/p.c", text), &defines);
    let lines: Vec<&str> = text.lines().collect();
    let mut quick = std::collections::BTreeSet::new();
    for at in 1..lines.len() {
        let inside = |l: &str| l.starts_with('\t') && !l.contains('#');
        if !inside(lines[at - 1]) || !inside(lines[at]) {
            continue;
        }
        for insert in ["\tx = x + 4;", "\tvma_end_read(vmf->vma);", "\tif (x) {"] {
            let mut new: Vec<&str> = lines.clone();
            new.insert(at, insert);
            let new = new.join("\n") + "\n";
            let file = SourceFile::new("/ws/p.c", new.as_str());
            let fresh = faultlock::frontend::lower(&file, &defines);
            let mut old = unit.clone();
            let Some((got, Some(k))) = incremental::relower(text, &mut old, &file, &defines) else {
                continue;
            };
            assert_eq!(
                format!("{:?}", got.functions),
                format!("{:?}", fresh.functions),
                "line {at}: {insert:?}"
            );
            assert_eq!(got.opaque_functions, fresh.opaque_functions);
            quick.insert(got.functions[k].name.clone());
        }
    }
    quick.into_iter().collect()
}

/// A function the primary parse breaks does not send an edit of another
/// function (or of itself) through the whole file: the function is
/// re-lowered alone through the parse it came from, and the unit equals
/// a whole-file lowering of the new text, function for function.
#[test]
fn edits_beside_a_function_the_primary_parse_breaks_are_relowered_alone() {
    use faultlock::ir::Parse;
    let model = LockModel::builtin();
    let defines = check::effective_defines(&model, &CheckOptions::default());
    let text = broken_primary();
    let unit = faultlock::frontend::lower(&SourceFile::new("/ws/p.c", text.as_str()), &defines);
    for f in &unit.functions {
        let want = if f.name == "broken_c" {
            Parse::FirstBranch
        } else {
            Parse::Primary
        };
        assert_eq!((f.parse, f.opaque_regions), (want, 0), "{}", f.name);
    }
    // `fault_d` follows the broken function: its edits take the
    // whole-file path.
    let want = ["broken_c", "fault_b", "fault_e", "helper_a"];
    assert_eq!(relowered_alone(&text), want);
}

/// A file with more lone `{` lines than functions is parsed again by the
/// whole-file lowering; edits of a function are still re-lowered alone,
/// except in a function with a line starting with `}` inside (the
/// re-parses do not blank it).
#[test]
fn edits_in_a_file_the_front_end_parses_again_are_relowered_alone() {
    let text = lsp_fixture("extra_braces.c");
    let lone = text.lines().filter(|l| *l == "{").count();
    let model = LockModel::builtin();
    let defines = check::effective_defines(&model, &CheckOptions::default());
    let unit = faultlock::frontend::lower(&SourceFile::new("/ws/p.c", text.as_str()), &defines);
    assert!(unit.functions.len() < lone, "the fixture lost its point");
    assert_eq!(relowered_alone(&text), ["fault_c", "fault_e", "helper_a"]);
}

/// Random edits of a file with a function the primary parse breaks:
/// every re-check equals a fresh check, and edits are re-lowered alone.
#[test]
fn rechecks_beside_a_broken_function_equal_fresh_checks() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    let [a, _] = documents();
    let quick = recheck_sequence(&model, &opts, [broken_primary(), a], 40, body_edit);
    assert!(quick >= 5, "only {quick} edits were re-lowered alone");
}

/// Random edits of a file the whole-file lowering parses again: every
/// re-check equals a fresh check, and edits are re-lowered alone.
#[test]
fn rechecks_in_a_file_parsed_again_equal_fresh_checks() {
    let model = LockModel::builtin();
    let opts = CheckOptions::default();
    let [a, _] = documents();
    let text = lsp_fixture("extra_braces.c");
    let quick = recheck_sequence(&model, &opts, [text, a], 40, body_edit);
    assert!(quick >= 5, "only {quick} edits were re-lowered alone");
}
