//! `faultlock kbuild`: the kernel build's `$(CHECK)` hook, used like sparse:
//! `make C=1 CHECK='faultlock kbuild'` (files being recompiled) or `C=2`
//! (all files). kbuild runs `$(CHECK) $(CHECKFLAGS) $(c_flags) file.c`;
//! this mode takes that compiler-style command line, honours `-D`, `-U`,
//! `-include`/`-imacros` (their object-like `#define`/`#undef` lines, and
//! `generated/autoconf.h` when one of them includes it, as
//! `include/linux/kconfig.h` does) for `#if` evaluation, ignores every other
//! flag, checks the named file and prints gcc-style lines to stderr, like
//! sparse. The exit status is 0 whatever the findings (kbuild runs CHECK
//! under `set -e`, so anything else would stop the build), 1 on error-level
//! findings with `--fail-on-error`, and 2 on usage or I/O errors.

use super::{check::read_selected_sources, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::check::check;
use crate::config::Config;
use crate::diag::Level;
use crate::model::KernelVersion;
use crate::render::{gcc, Files};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Compiler flags whose value is the next argument (when not attached).
const FLAGS_WITH_VALUE: &[&str] = &[
    "-o",
    "-MF",
    "-MT",
    "-MQ",
    "-x",
    "-isystem",
    "-idirafter",
    "-iquote",
    "-iprefix",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-isysroot",
    "-Xlinker",
    "-Xassembler",
    "-Xpreprocessor",
    "--param",
    "-aux-info",
    "-T",
    "-L",
];

/// What faultlock takes from a compiler command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CompilerArgs {
    /// Final state of every `-D`/`-U`d name, in name order: `Some(value)`
    /// defined, `None` undefined (the last flag for a name wins).
    pub macros: BTreeMap<String, Option<String>>,
    /// `-include` and `-imacros` files, in order.
    pub includes: Vec<PathBuf>,
    /// `-I` directories, in order.
    pub include_dirs: Vec<PathBuf>,
    /// Source files (arguments that are not flags).
    pub files: Vec<PathBuf>,
}

/// Read `-D`, `-U`, `-I`, `-include`, `-imacros` and the source files from a
/// compiler-style command line; every other flag is skipped (with its value
/// when it takes one).
pub fn parse_compiler_args(args: &[String]) -> Result<CompilerArgs, String> {
    let mut out = CompilerArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| -> Result<String, String> {
            match &a[flag.len()..] {
                "" => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`{flag}` needs a value")),
                v => Ok(v.to_string()),
            }
        };
        if a.starts_with("-D") {
            let (name, val) = super::cli::parse_define(&value("-D")?);
            out.macros
                .insert(name, Some(val.unwrap_or_else(|| "1".into())));
        } else if a.starts_with("-U") {
            out.macros.insert(value("-U")?, None);
        } else if a == "-include" || a == "-imacros" {
            out.includes.push(value(a)?.into());
        } else if a.starts_with("-I") {
            out.include_dirs.push(value("-I")?.into());
        } else if FLAGS_WITH_VALUE.contains(&a.as_str()) {
            value(a)?;
        } else if !a.starts_with('-') {
            out.files.push(a.into());
        }
    }
    Ok(out)
}

/// Object-like `#define NAME [VALUE]` (→ `Some(VALUE)`, `"1"` when empty)
/// and `#undef NAME` (→ `None`) lines of a header that are outside any
/// conditional (an include guard does not count), and the targets of its
/// `#include` lines.
fn header_macros(text: &str) -> (Macros, Vec<String>) {
    let mut macros = Vec::new();
    let mut includes = Vec::new();
    let mut depth = 0usize;
    // `#ifndef X` opening the file, until `#define X` confirms a guard.
    let mut guard: Option<(String, bool)> = None;
    let mut first_directive = true;
    for line in text.lines() {
        let Some(d) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let d = d.trim_start();
        let word = d
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("");
        let rest = d[word.len()..].trim();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let was_first = std::mem::replace(&mut first_directive, false);
        let guarded = guard.as_ref().is_some_and(|(_, confirmed)| *confirmed) as usize;
        match word {
            "ifndef" if was_first => {
                guard = Some((name, false));
                depth += 1;
            }
            "if" | "ifdef" | "ifndef" => depth += 1,
            "endif" => depth = depth.saturating_sub(1),
            "define" => {
                if let Some((g, confirmed @ false)) = &mut guard {
                    if *g == name && depth == 1 {
                        *confirmed = true;
                        continue;
                    }
                }
                let after = &rest[name.len()..];
                if depth == guarded && !name.is_empty() && !after.starts_with('(') {
                    let v = after.split("/*").next().unwrap_or("").trim();
                    let v = if v.is_empty() { "1" } else { v };
                    macros.push((name, Some(v.to_string())));
                }
            }
            "undef" if depth == guarded && !name.is_empty() => macros.push((name, None)),
            "include" => {
                let t = rest.trim_matches(|c| c == '<' || c == '>' || c == '"');
                includes.push(t.to_string());
            }
            _ => {}
        }
    }
    (macros, includes)
}

/// `(NAME, Some(VALUE))` for a define, `(NAME, None)` for an undef.
type Macros = Vec<(String, Option<String>)>;

/// The autoconf header kconfig.h pulls in.
const AUTOCONF: &str = "generated/autoconf.h";

/// Macros of the `-include`d files (and of `generated/autoconf.h` when one
/// of them includes it), in order; `Ok(true)` in the second place when
/// autoconf.h was read, so that every other `CONFIG_` is known undefined.
fn included_macros(cx: &CompilerArgs) -> Result<(Macros, bool), String> {
    let mut out = Vec::new();
    let mut autoconf = false;
    for inc in &cx.includes {
        let text = std::fs::read_to_string(inc)
            .map_err(|e| format!("cannot read -include {}: {e}", inc.display()))?;
        let (macros, nested) = header_macros(&text);
        if nested.iter().any(|n| n == AUTOCONF) && !autoconf {
            let found = cx
                .include_dirs
                .iter()
                .map(|d| d.join(AUTOCONF))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!(
                        "{} includes <{AUTOCONF}>, which is in no -I directory; run `make prepare` \
                         (with O=DIR for an out-of-tree build) or pass the build directory's \
                         include path (-I DIR/include)",
                        inc.display()
                    )
                })?;
            let text = std::fs::read_to_string(&found)
                .map_err(|e| format!("cannot read {}: {e}", found.display()))?;
            out.extend(header_macros(&text).0);
            autoconf = true;
        }
        out.extend(macros);
    }
    Ok((out, autoconf))
}

/// Our own options that kbuild's argument order may put among the
/// compiler's (`CHECK='faultlock kbuild' CHECKFLAGS=--fail-on-error`): they
/// are taken out wherever they are. Returns the compiler arguments.
fn own_flags(args: &[String], fail_on_error: &mut bool) -> Vec<String> {
    args.iter()
        .filter(|a| {
            let ours = *a == "--fail-on-error";
            *fail_on_error |= ours;
            !ours
        })
        .cloned()
        .collect()
}

pub fn run_kbuild(
    config: Option<&Path>,
    kernel: Option<KernelVersion>,
    mut fail_on_error: bool,
    tabstop: Option<u32>,
    args: &[String],
) -> i32 {
    let fail = |e: String| {
        eprintln!("faultlock: error: {e}");
        EXIT_ERROR
    };
    let args = own_flags(args, &mut fail_on_error);
    let cx = match parse_compiler_args(&args) {
        Ok(cx) => cx,
        Err(e) => return fail(e),
    };
    if cx.files.is_empty() {
        return fail("no source file on the command line".into());
    }
    let config = match Config::resolve(config, cx.files.first().map(PathBuf::as_path)) {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let tree = cx.files.first().and_then(|f| Config::tree_kernel(f));
    let (model, mut opts) = match config.apply_kernel(kernel, tree) {
        Ok(x) => x,
        Err(e) => return fail(e.to_string()),
    };
    let (from_headers, autoconf) = match included_macros(&cx) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    // Headers first, then the command line; the last word on a name wins.
    let mut state: BTreeMap<String, Option<String>> = BTreeMap::new();
    if autoconf {
        // As in the real build: an option autoconf.h does not define is
        // unset, whether the model knows it or not.
        opts.undefined_prefixes.push("CONFIG_".into());
        for name in model.defines.defined.keys() {
            if name.starts_with("CONFIG_") {
                state.insert(name.clone(), None);
            }
        }
    }
    for (name, value) in from_headers {
        state.insert(name, value);
    }
    state.extend(cx.macros.clone());
    for (name, value) in state {
        match value {
            Some(v) => opts.defines.push((name, Some(v))),
            None => opts.undefines.push(name),
        }
    }
    let (files, errors) = read_selected_sources(
        &cx.files,
        false,
        Some(&model),
        &|p| config.selects(p),
        &|_| {},
    );
    if let Some(e) = errors.first() {
        return fail(e.clone());
    }
    let report = if files.is_empty() {
        Default::default()
    } else {
        check(&files, &model, &opts)
    };
    let tabstop = tabstop
        .map(|t| t as usize)
        .or(config.tabstop)
        .unwrap_or(gcc::TABSTOP);
    let mut out = Vec::new();
    let _ = gcc::render(&mut out, &report.diagnostics, &Files::new(files), tabstop);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&out);
    for note in &report.notes {
        let _ = writeln!(err, "note: {note}");
    }
    // Silent on a clean file, as sparse is, but never about coverage.
    for (file, function, line) in &report.stats.opaque {
        let _ = writeln!(
            err,
            "{file}:{line}: note: faultlock could not parse part of `{function}`; findings in it may be missing [faultlock]"
        );
    }
    if !report.internal_errors.is_empty() {
        for e in &report.internal_errors {
            let _ = writeln!(err, "faultlock: error: internal error: {e}");
        }
        return EXIT_ERROR;
    }
    if fail_on_error && report.count(Level::Error) > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn compiler_flags() {
        let cx = parse_compiler_args(&args(
            "-D__linux__ -D X=2 -Wbitwise -UFOO -U BAR -DBAR -I./include -I inc2 \
             -include ./k.h -imacros m.h -o out.o -MF dep -x c -nostdinc \
             -DKBUILD_MODNAME=\"memory\" --arch=x86_64 mm/memory.c",
        ))
        .unwrap();
        assert_eq!(cx.macros["__linux__"], Some("1".into()));
        assert_eq!(cx.macros["X"], Some("2".into()));
        assert_eq!(cx.macros["FOO"], None);
        assert_eq!(cx.macros["BAR"], Some("1".into()), "the last flag wins");
        assert_eq!(cx.macros["KBUILD_MODNAME"], Some("\"memory\"".into()));
        assert_eq!(cx.include_dirs, [PathBuf::from("./include"), "inc2".into()]);
        assert_eq!(cx.includes, [PathBuf::from("./k.h"), "m.h".into()]);
        assert_eq!(cx.files, [PathBuf::from("mm/memory.c")]);
        assert!(parse_compiler_args(&args("-D")).is_err());
    }

    #[test]
    fn header_defines_outside_conditionals() {
        let (m, inc) = header_macros(
            "#ifndef G_H\n#define G_H\n#include <generated/autoconf.h>\n\
             #define A 1\n#define F(x) x\n#ifdef B\n#define C 1\n#endif\n\
             # define D /* c */\n#undef E\n#endif\n",
        );
        assert_eq!(
            m,
            [
                ("A".to_string(), Some("1".to_string())),
                ("D".to_string(), Some("1".to_string())),
                ("E".to_string(), None)
            ]
        );
        assert_eq!(inc, ["generated/autoconf.h"]);
        let (m, _) = header_macros("#define CONFIG_MMU 1\n#define CONFIG_X_MODULE 1\n");
        assert_eq!(m.len(), 2);
    }
}
