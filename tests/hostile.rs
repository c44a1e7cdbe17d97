//! Hostile input for `faultlock check`, end to end: every input gives a
//! result or a clear error, never a panic, a hang or a silent skip.
//!
//! Each case runs the real binary under a watchdog ([`HARD_LIMIT`]) that
//! only catches hangs and exponential blow-ups; how long each case took is
//! printed (`--nocapture`), not asserted, so a busy machine cannot fail the
//! suite. Runs are serialised (one at a time) so that the printed timings
//! measure the case, not the other tests running beside it.

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Debug builds (plain `cargo test`) are many times slower; the limits are
/// meant for `cargo test --release`.
const SCALE: u64 = if cfg!(debug_assertions) { 20 } else { 1 };
/// No case may take longer (the run is killed and the test fails). Cases
/// take 0.1-3 s in release builds; a hang or an exponential blow-up takes
/// far longer than this, a loaded machine does not.
const HARD_LIMIT: Duration = Duration::from_secs(120 * SCALE);

static SERIAL: Mutex<()> = Mutex::new(());

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
            .collect()
    }

    fn errors(&self) -> usize {
        self.json().iter().filter(|d| d["level"] == "error").count()
    }
}

/// Run `faultlock` in `dir`, killing it after [`HARD_LIMIT`]. Fails on a
/// timeout, on a death by signal and on a panic message.
fn faultlock(dir: &Path, args: &[&str]) -> Run {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultlock"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run faultlock");
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = pipe(child.stdout.take().map(|s| Box::new(s) as _));
    let err = pipe(child.stderr.take().map(|s| Box::new(s) as _));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > HARD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("faultlock {args:?} still running after {HARD_LIMIT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    let stdout = String::from_utf8(out.join().unwrap()).expect("stdout is UTF-8");
    let stderr = String::from_utf8(err.join().unwrap()).expect("stderr is UTF-8");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("faultlock {args:?} killed by a signal: {status:?}\n{stderr}"));
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflowed"),
        "faultlock {args:?} crashed:\n{stderr}"
    );
    Run {
        code,
        stdout,
        stderr,
        took,
    }
}

/// Print how long a case took (figures, not assertions).
fn quick(r: &Run, what: &str) {
    eprintln!("{what}: {:?}", r.took);
}

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// The summary line's counts: (files, functions, errors, warnings).
fn summary(r: &Run) -> (usize, usize, usize, usize) {
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("faultlock: "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", r.stderr));
    let nums: Vec<usize> = line
        .split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2], nums[3])
}

/// Deterministic bytes (xorshift64).
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Use after `mmap_read_unlock()`: one `vma_use_after_unlock` at 9:6.
const UAF: &str = "\
static unsigned long uaf(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long x;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tmmap_read_unlock(mm);
\tx = vma->vm_start;
\treturn x;
}
";

/// `body` inside a function that takes and drops the mmap_lock (so it is
/// analysed), followed by [`UAF`]: the finding must survive whatever
/// `body` does to the parser.
fn with_uaf_after(body: &str) -> String {
    format!(
        "static void host(struct mm_struct *mm, struct vm_area_struct *vma)\n{{\n\tmmap_read_lock(mm);\n{body}\n\tmmap_read_unlock(mm);\n}}\n\n{UAF}"
    )
}

/// Check `src` as `name`; expect exactly the one [`UAF`] finding, on the
/// line where `uaf` has it, within the time limits.
fn expect_uaf_survives(name: &str, src: &str) -> Run {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), name, src);
    let r = faultlock(d.path(), &["check", "--format", "json", name]);
    let json = r.json();
    assert_eq!(r.code, 1, "{name}: {}\n{}", r.stdout, r.stderr);
    let want_line = src[..src.find("\tx = vma->vm_start").unwrap()]
        .matches('\n')
        .count()
        + 1;
    let found: Vec<_> = json
        .iter()
        .filter(|d| d["lint"] == "vma_use_after_unlock" && d["function"] == "uaf")
        .collect();
    assert_eq!(found.len(), 1, "{name}: {}", r.stdout);
    assert_eq!(found[0]["line"], want_line, "{name}");
    assert_eq!(found[0]["column"], 6, "{name}");
    eprintln!("{name}: {:?}", r.took);
    r
}

// ---- deep nesting ----

#[test]
fn two_hundred_thousand_nested_parentheses() {
    let n = 200_000;
    let body = format!("\tx = {}1{};", "(".repeat(n), ")".repeat(n));
    expect_uaf_survives("parens.c", &with_uaf_after(&body));
    // Never closed.
    let body = format!("\tx = {}1;", "(".repeat(n));
    expect_uaf_survives("open_parens.c", &with_uaf_after(&body));
}

#[test]
fn a_hundred_thousand_nested_blocks_and_ifs() {
    let n = 100_000;
    let cases = [
        ("braces.c", format!("{}{}", "{".repeat(n), "}".repeat(n))),
        ("ifs.c", format!("{};", "if (x) ".repeat(n))),
        (
            "if_blocks.c",
            format!("{}{}", "if (x) {".repeat(n), "}".repeat(n)),
        ),
        (
            "else_ifs.c",
            (0..n)
                .map(|i| format!("if (a == {i}) x = {i}; else "))
                .collect::<String>()
                + ";",
        ),
        ("open_braces.c", "{".repeat(n)),
    ];
    for (name, body) in cases {
        let src = with_uaf_after(&body);
        if name == "open_braces.c" {
            // The rest of the file is inside the unclosed block: a result,
            // not necessarily the finding.
            let d = tempfile::tempdir().unwrap();
            write(d.path(), name, &src);
            let r = faultlock(d.path(), &["check", "--format", "json", name]);
            assert!(r.code <= 1, "{}", r.stderr);
            quick(&r, name);
        } else {
            expect_uaf_survives(name, &src);
        }
    }
}

#[test]
fn deep_expressions_of_every_kind() {
    let n = 100_000;
    let cases = [
        (
            "mask.c",
            format!("\tif (x & ({}))\n\t\ty = 1;", vec!["A"; n].join("|")),
        ),
        ("arrows.c", format!("\tx = vma{};", "->f".repeat(n))),
        (
            "andand.c",
            format!("\tif ({})\n\t\ty = 1;", vec!["a"; n].join(" && ")),
        ),
        ("ternary.c", format!("\tx = {}c;", "a ? b : ".repeat(n / 2))),
        (
            "casts.c",
            format!("\tx = {}vma->vm_flags;", "(long)".repeat(n)),
        ),
        ("nots.c", format!("\tif ({}vma)\n\t\tz = 1;", "!".repeat(n))),
        ("subscripts.c", format!("\tx = a{};", "[i]".repeat(n))),
        (
            "calls.c",
            format!("\tx = {}vma{};", "g(".repeat(n / 2), ")".repeat(n / 2)),
        ),
        (
            "stmt_exprs.c",
            format!("\tx = {}1;{};", "({ ".repeat(n / 2), " })".repeat(n / 2)),
        ),
        ("commas.c", format!("\tx = ({});", vec!["a"; n].join(", "))),
        (
            "brackets.c",
            format!("\tx = {}{};", "([".repeat(n), "}".repeat(n)),
        ),
    ];
    for (name, body) in cases {
        expect_uaf_survives(name, &with_uaf_after(&body));
    }
}

#[test]
fn deep_preprocessor_nesting() {
    let n = 100_000;
    let cases = [
        (
            "known.c",
            format!(
                "{}{UAF}{}",
                "#ifdef CONFIG_MMU\n".repeat(n),
                "#endif\n".repeat(n)
            ),
        ),
        (
            "unknown.c",
            format!(
                "{}{UAF}{}",
                "#ifdef CONFIG_X\n".repeat(n),
                "#endif\n".repeat(n)
            ),
        ),
        (
            "defines.c",
            format!(
                "{}{}{UAF}{}",
                "#if 1\n".repeat(n),
                "#define Y 1\n".repeat(n),
                "#endif\n".repeat(n)
            ),
        ),
        (
            "expr.c",
            format!("#if {}1{}\n{UAF}#endif\n", "(".repeat(n), ")".repeat(n)),
        ),
    ];
    for (name, src) in cases {
        expect_uaf_survives(name, &src);
    }
}

/// Long chains of forwarding gotos and labels.
#[test]
fn goto_chains() {
    let n = 100_000;
    let mut fwd = String::from("\tgoto l0;\n");
    for i in 0..n {
        fwd.push_str(&format!("l{i}:\n\tgoto l{};\n", i + 1));
    }
    fwd.push_str(&format!("l{n}:\n\t;"));
    expect_uaf_survives("goto_chain.c", &with_uaf_after(&fwd));
    let labels: String = (0..n).map(|i| format!("m{i}:\n")).collect::<String>() + "\t;";
    expect_uaf_survives("labels.c", &with_uaf_after(&labels));
}

// ---- size ----

/// 10 MB on one line: a function whose string argument is 10 MB long, the
/// finding after it on the same line (its column counts characters).
#[test]
fn ten_megabyte_line() {
    let big = "A".repeat(10 << 20);
    let src = format!(
        "static unsigned long uaf(struct mm_struct *mm, unsigned long a) {{ struct vm_area_struct *vma; unsigned long x; mmap_read_lock(mm); vma = find_vma(mm, a); pr_info(\"{big}\"); mmap_read_unlock(mm); x = vma->vm_start; return x; }}\n"
    );
    let col = src.find("vma->vm_start").unwrap() + 1;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "long.c", &src);
    let r = faultlock(d.path(), &["check", "--format", "json", "long.c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json = r.json();
    assert_eq!(json.len(), 1, "{}", r.stdout);
    assert_eq!(json[0]["line"], 1);
    assert_eq!(json[0]["column"], col);
    eprintln!("took {:?}", r.took);
}

/// One long line of dense tokens (a 1 MB expression).
#[test]
fn megabyte_expression_on_one_line() {
    let body = format!("\tx = 1{};", " + a".repeat(250_000));
    expect_uaf_survives("dense.c", &with_uaf_after(&body));
}

/// 100,000 small functions, one in ten taking the mmap_lock (so they are
/// analysed; the others mention no lock and are not parsed), and the
/// finding at the very end.
#[test]
fn a_hundred_thousand_functions() {
    let n = 100_000;
    let mut src = String::with_capacity(n * 60);
    for i in 0..n {
        if i % 10 == 0 {
            src.push_str(&format!(
                "static int f{i}(struct mm_struct *mm)\n{{\n\tmmap_read_lock(mm);\n\tmmap_read_unlock(mm);\n\treturn {i};\n}}\n"
            ));
        } else {
            src.push_str(&format!(
                "static int f{i}(int a)\n{{\n\treturn a + {i};\n}}\n"
            ));
        }
    }
    src.push_str(UAF);
    let r = expect_uaf_survives("huge.c", &src);
    assert_eq!(summary(&r), (1, n / 10 + 1, 1, 0));
}

// ---- bytes that are not C ----

/// Random bytes with `.c` names (they mention `vm_fault`, so they are
/// parsed): a result, quickly, for each.
#[test]
fn random_bytes_with_c_names() {
    let d = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for seed in 0..16 {
        let mut b = b"vm_fault\n".to_vec();
        b.extend(random_bytes(seed, 64 << 10));
        let name = format!("r{seed}.c");
        write(d.path(), &name, &b);
        names.push(name);
    }
    for name in &names {
        let r = faultlock(d.path(), &["check", "--format", "json", name]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_eq!(summary(&r).0, 1, "{name}");
        quick(&r, name);
    }
    // All of them at once, and one of 1 MB.
    let mut b = b"vm_fault\n".to_vec();
    b.extend(random_bytes(99, 1 << 20));
    write(d.path(), "big.c", &b);
    let r = faultlock(d.path(), &["check", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(summary(&r).0, 17);
}

/// Token soup without statement ends (tree-sitter's error recovery is
/// superlinear on it) between two real functions: bounded, and the
/// function before it is still checked.
#[test]
fn token_soup_between_functions() {
    let words = ["a", "bb", "c1", "d_", "e", "*", "(", ")", "=", "+"];
    let r = random_bytes(7, 200_000);
    let mut soup = String::new();
    for (i, b) in r.iter().enumerate() {
        soup.push_str(words[*b as usize % words.len()]);
        soup.push(if i % 8 == 7 { '\n' } else { ' ' });
    }
    let src = format!("{UAF}{soup}\n{UAF}");
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "soup.c", &src);
    let r = faultlock(d.path(), &["check", "--format", "json", "soup.c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json = r.json();
    assert!(json.iter().any(|d| d["line"] == 9), "{}", r.stdout);
    quick(&r, "soup");
}

/// Invalid UTF-8 inside a function with a real finding: the finding is
/// reported, at the right line and column (columns count characters; an
/// invalid byte is one U+FFFD).
#[test]
fn invalid_utf8_keeps_positions() {
    let src: &[u8] = b"static unsigned long uaf(struct mm_struct *mm, unsigned long a)\n{\n\tstruct vm_area_struct *vma; /* \xff\xfe\xc3 */\n\tunsigned long x;\n\n\tmmap_read_lock(mm);\n\tvma = find_vma(mm, a);\n\tmmap_read_unlock(mm); \xff\xff\n\t\xe9\xe9x = \xff vma->vm_start;\n\treturn x;\n}\n";
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "bad_utf8.c", src);
    let r = faultlock(d.path(), &["check", "--format", "json", "bad_utf8.c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json = r.json();
    assert_eq!(json.len(), 1, "{}", r.stdout);
    let f = &json[0];
    assert_eq!(f["lint"], "vma_use_after_unlock");
    // `\t`, U+FFFD, U+FFFD, `x`, ` `, `=`, ` `, U+FFFD, ` `, then `vma`.
    assert_eq!(
        (f["line"].clone(), f["column"].clone()),
        (9.into(), 10.into())
    );
    assert_eq!(f["end_column"], 23);
    assert_eq!(f["related"][0]["line"], 8);
    assert_eq!(f["related"][0]["column"], 2);
    quick(&r, "invalid UTF-8");
    // The human output shows the line (lossily) without failing.
    let r = faultlock(d.path(), &["check", "bad_utf8.c"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("bad_utf8.c:9:10"), "{}", r.stdout);
}

/// NUL and other control bytes inside a function with a real finding.
#[test]
fn nul_bytes() {
    let src = UAF
        .replace("unsigned long x;", "unsigned long x;\0\0\x01")
        .replace("\tmmap_read_unlock(mm);", "\tmmap_read_unlock(mm);\0\x7f");
    expect_uaf_survives("nul.c", &src);
    // A file of NULs only.
    let d = tempfile::tempdir().unwrap();
    let mut b = b"vm_fault".to_vec();
    b.extend(vec![0u8; 1 << 20]);
    write(d.path(), "zeros.c", &b);
    let r = faultlock(d.path(), &["check", "zeros.c"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    quick(&r, "zeros");
}

#[test]
fn empty_and_blank_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "empty.c", "");
    write(d.path(), "newlines.c", "\n\n\n");
    write(d.path(), "spaces.h", "   \t ");
    write(d.path(), "bom.c", "\u{feff}");
    write(d.path(), "only_name.c", "vm_fault");
    write(d.path(), "uaf.c", UAF);
    let r = faultlock(d.path(), &["check", "--format", "json", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(summary(&r), (6, 1, 1, 0));
    quick(&r, "empty files");
}

// ---- paths ----

/// A dangling symlink named on the command line cannot be read: exit 2,
/// the message names it, the other files are still checked.
#[test]
fn unreadable_path_is_an_error_and_the_rest_is_checked() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "uaf.c", UAF);
    std::os::unix::fs::symlink("nowhere.c", d.path().join("dangling.c")).unwrap();
    let r = faultlock(
        d.path(),
        &["check", "--format", "json", "dangling.c", "uaf.c"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("dangling.c"), "{}", r.stderr);
    assert_eq!(r.errors(), 1, "{}", r.stdout);
    quick(&r, "dangling");
    // A missing path too.
    let r = faultlock(d.path(), &["check", "missing.c", "uaf.c"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.c"), "{}", r.stderr);
}

/// A directory named `x.c` is a directory: walked, not read as a file.
#[test]
fn directory_named_like_a_source_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "x.c/inner.c", UAF);
    write(d.path(), "y.c", UAF);
    let r = faultlock(d.path(), &["check", "--format", "json", "x.c", "y.c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let files: Vec<_> = r.json().iter().map(|d| d["file"].clone()).collect();
    assert_eq!(files, ["x.c/inner.c", "y.c"]);
    let r = faultlock(d.path(), &["check", "--format", "json", "."]);
    assert_eq!(r.errors(), 2, "{}", r.stdout);
}

/// Symlink loops inside a walked directory: no hang, the real files are
/// checked.
#[test]
fn symlink_loops_in_a_walked_directory() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "tree/a/uaf.c", UAF);
    let a = d.path().join("tree/a");
    std::os::unix::fs::symlink("..", a.join("up")).unwrap();
    std::os::unix::fs::symlink(".", a.join("self")).unwrap();
    std::os::unix::fs::symlink("../a", a.join("loop.c")).unwrap();
    std::os::unix::fs::symlink("l2.c", a.join("l1.c")).unwrap();
    std::os::unix::fs::symlink("l1.c", a.join("l2.c")).unwrap();
    let r = faultlock(d.path(), &["check", "--format", "json", "tree"]);
    assert!(r.code == 1 || r.code == 2, "{}", r.stderr);
    assert_eq!(r.errors(), 1, "{}", r.stdout);
    quick(&r, "symlink loops");
    // Named explicitly, a self-referencing link is a read error.
    let r = faultlock(d.path(), &["check", "tree/a/l1.c", "tree/a/uaf.c"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("l1.c"), "{}", r.stderr);
}

/// A FIFO named on the command line is not read (it would block until a
/// writer closes it): it is an error that names it.
#[test]
fn fifo_named_on_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "uaf.c", UAF);
    let st = Command::new("mkfifo")
        .arg(d.path().join("pipe.c"))
        .status()
        .unwrap();
    assert!(st.success());
    let r = faultlock(d.path(), &["check", "pipe.c", "uaf.c"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("pipe.c"));
}

/// A symlink to a source file inside a walked directory is checked.
#[test]
fn symlinked_file_in_a_walked_directory() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "real/uaf.c", UAF);
    write(d.path(), "tree/other.c", "");
    std::os::unix::fs::symlink("../real/uaf.c", d.path().join("tree/link.c")).unwrap();
    let r = faultlock(d.path(), &["check", "tree"]);
    assert!(
        r.code == 1 || r.stderr.contains("link.c"),
        "tree/link.c was neither checked nor reported:\n{}",
        r.stderr
    );
}

// ---- bounded cost ----

/// Hundreds of correlated `FAULT_FLAG_VMA_LOCK` tests: fast, and no error.
#[test]
fn hundreds_of_correlated_flag_tests() {
    let mut body = String::new();
    for i in 0..400 {
        body.push_str(&format!(
            "\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)\n\t\tx{} = vmf->vma->vm_flags;\n\telse\n\t\ty{} = vmf->vma->vm_start;\n",
            i % 7,
            i % 5
        ));
    }
    let mut local = String::new();
    for i in 0..400 {
        local.push_str(&format!(
            "\tif (flags & FAULT_FLAG_VMA_LOCK) {{\n\t\tif (c{})\n\t\t\tn++;\n\t}} else if (d{}) {{\n\t\tn--;\n\t}}\n",
            i % 13,
            i % 11
        ));
    }
    let src = format!(
        "static vm_fault_t corr(struct vm_fault *vmf)\n{{\n{body}\trelease_fault_lock(vmf);\n\treturn VM_FAULT_RETRY;\n}}\n\n\
         static vm_fault_t corr2(struct vm_fault *vmf)\n{{\n\tunsigned int flags = vmf->flags;\n\tint n = 0;\n{local}\
         \tif (!(flags & FAULT_FLAG_VMA_LOCK))\n\t\tmmap_read_unlock(vmf->vma->vm_mm);\n\telse\n\t\tvma_end_read(vmf->vma);\n\treturn VM_FAULT_RETRY;\n}}\n"
    );
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "corr.c", &src);
    let r = faultlock(d.path(), &["check", "--format", "json", "corr.c"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.errors(), 0);
    quick(&r, "correlated");
}

/// A maze of thousands of gotos over a VMA held under the mmap_lock the
/// whole time: fast, and no error.
#[test]
fn maze_of_gotos() {
    let n = 3_000;
    let r = random_bytes(5, n * 8);
    let pick = |i: usize| {
        let b = &r[i * 4..i * 4 + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize % n
    };
    let mut src = String::from(
        "static int maze(struct mm_struct *mm, unsigned long addr, int k)\n{\n\tstruct vm_area_struct *vma;\n\tint n = 0;\n\n\tmmap_read_lock(mm);\n\tvma = find_vma(mm, addr);\n\tif (!vma)\n\t\tgoto out;\n",
    );
    for i in 0..n {
        src.push_str(&format!(
            "L{i}:\n\tn += vma->vm_flags & {i};\n\tif (k & {})\n\t\tgoto L{};\n\tif (n > {i})\n\t\tgoto L{};\n",
            1u32 << (i % 30),
            pick(2 * i),
            pick(2 * i + 1)
        ));
    }
    src.push_str("out:\n\tmmap_read_unlock(mm);\n\treturn n;\n}\n");
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "maze.c", &src);
    let r = faultlock(d.path(), &["check", "--format", "json", "maze.c"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    quick(&r, "maze");
}

/// The release maze: `n` labels, each a bit test of `x` that jumps to a
/// random label, then `vma_end_read(vma)`. Almost every release is reached
/// after another one, so the exact result is (nearly) one `double_unlock`
/// per label; the bound on block visits grows with the function, so the run
/// is exact (no bound note) and linear in `n`.
fn release_maze(n: usize) {
    let r = random_bytes(11, n * 4);
    let mut src = String::from(
        "static vm_fault_t maze(struct vm_fault *vmf, int x)\n{\n\tstruct vm_area_struct *vma = vmf->vma;\n\n",
    );
    for i in 0..n {
        let b = &r[i * 4..i * 4 + 4];
        let target = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize % n;
        src.push_str(&format!(
            "l_{i}:\n\tif (x & {})\n\t\tgoto l_{target};\n\tvma_end_read(vma);\n",
            1u32 << (i % 30)
        ));
    }
    src.push_str("\treturn 0;\n}\n");
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "maze.c", &src);
    let r = faultlock(d.path(), &["check", "--format", "json", "maze.c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("bound"), "{}", r.stderr);
    let json = r.json();
    assert!(json.iter().all(|d| d["lint"] == "double_unlock"));
    assert!(json.len() * 10 > n * 9, "{} of {n}", json.len());
    quick(&r, &format!("release maze, n = {n}"));
}

#[test]
fn release_maze_3000() {
    release_maze(3_000);
}

#[test]
fn release_maze_10000() {
    release_maze(10_000);
}

// ---- determinism ----

/// Inputs whose parse runs into the parse budget give the same output for
/// any thread count too (the budget counts allocations, not time).
#[test]
fn garbage_output_is_identical_across_thread_counts() {
    let d = tempfile::tempdir().unwrap();
    let words = ["a", "bb", "c1", "*", "(", ")", "=", "+"];
    for seed in 0..8u64 {
        let mut b = format!("{UAF}\nvm_fault\n").into_bytes();
        if seed % 2 == 0 {
            b.extend(random_bytes(seed, 96 << 10));
        } else {
            for (i, x) in random_bytes(seed, 60_000).iter().enumerate() {
                b.extend(words[*x as usize % words.len()].as_bytes());
                b.push(if i % 9 == 8 { b'\n' } else { b' ' });
            }
        }
        b.extend(format!("\n{UAF}").into_bytes());
        write(d.path(), &format!("g{seed}.c"), &b);
    }
    let j1 = faultlock(d.path(), &["check", "--format", "json", "-j1", "."]);
    let j2 = faultlock(d.path(), &["check", "--format", "json", "-j2", "."]);
    assert_eq!(j1.stdout, j2.stdout);
    assert_eq!(summary(&j1), summary(&j2));
    assert!(j1.errors() >= 8, "{}", j1.stdout);
}

/// Byte-identical JSON for `-j1`, `-j2` and the default thread count, and
/// across runs, on a generated tree with findings in many files.
#[test]
fn output_is_identical_across_thread_counts() {
    let d = tempfile::tempdir().unwrap();
    let variants = [
        UAF.to_string(),
        "static void rel(struct vm_fault *vmf)\n{\n\tif (vmf->flags & FAULT_FLAG_VMA_LOCK)\n\t\tvma_end_read(vmf->vma);\n\telse\n\t\tmmap_read_unlock(vmf->vma->vm_mm);\n}\n".to_string(),
        "static vm_fault_t uf(struct vm_fault *vmf)\n{\n\tstruct vm_area_struct *vma = vmf->vma;\n\tvm_fault_t ret = handle_userfault(vmf, VM_UFFD_MISSING);\n\tif (ret & VM_FAULT_RETRY)\n\t\treturn vma->vm_flags & VM_SHARED ? ret : ret;\n\treturn ret;\n}\n".to_string(),
        "static void du(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\tmmap_read_unlock(mm);\n\tmmap_read_unlock(mm);\n}\n".to_string(),
    ];
    for i in 0..48 {
        let mut src = String::new();
        for k in 0..(1 + i % 4) {
            let v = &variants[(i + k) % variants.len()];
            // Distinct function names across files and within one.
            src.push_str(&v.replacen("(struct", &format!("_{i}_{k}(struct"), 1));
            src.push('\n');
        }
        write(d.path(), &format!("d{}/s{}/f{i}.c", i % 3, i % 5), &src);
    }
    let j1 = faultlock(d.path(), &["check", "--format", "json", "-j1", "."]);
    let j2 = faultlock(d.path(), &["check", "--format", "json", "-j2", "."]);
    let jn = faultlock(d.path(), &["check", "--format", "json", "."]);
    let again = faultlock(d.path(), &["check", "--format", "json", "-j2", "."]);
    assert_eq!(j1.code, 1, "{}", j1.stderr);
    assert!(j1.json().len() >= 48, "{}", j1.stdout);
    assert_eq!(j1.stdout, j2.stdout);
    assert_eq!(j1.stdout, jn.stdout);
    assert_eq!(j1.stdout, again.stdout);
    let gcc1 = faultlock(d.path(), &["check", "--format", "gcc", "-j1", "."]);
    let gcc2 = faultlock(d.path(), &["check", "--format", "gcc", "-j2", "."]);
    assert_eq!(gcc1.stdout, gcc2.stdout);
}
