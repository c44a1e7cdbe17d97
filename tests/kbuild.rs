//! `faultlock kbuild`: the `$(CHECK)` hook of the kernel build, fed the
//! command line kbuild really passed for mm/memory.c (recorded from Linux
//! 6.12, x86_64 defconfig, out-of-tree build `make O=out C=2
//! CHECK=recorder mm/memory.o`), replayed in a small stand-in tree (our own
//! headers and source, no kernel code) with the same source/object layout.

mod common;

use common::{faultlock, stderr, stdout, tree};

/// `$(CHECKFLAGS) $(c_flags) $<` for mm/memory.o, one argument per line
/// as the recorder received them, with the source tree's path replaced by
/// `@SRCTREE@`; kbuild ran it from the object tree.
const KBUILD_ARGS: &str = include_str!("kbuild_cmdline.txt");

/// The stand-in for include/linux/kconfig.h: it pulls in autoconf.h.
const KCONFIG_H: &str = "\
#ifndef __LINUX_KCONFIG_H
#define __LINUX_KCONFIG_H

#include <generated/autoconf.h>

#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#endif
";

const AUTOCONF_H: &str = "\
/* Automatically generated file; DO NOT EDIT. */
#define CONFIG_MMU 1
#define CONFIG_PER_VMA_LOCK 1
#define CONFIG_USERFAULTFD 1
#define CONFIG_64BIT 1
";

/// An mmap_lock assert that is only compiled with CONFIG_PER_VMA_LOCK, and
/// a use after unlock only compiled without __KERNEL__.
const MEMORY_C: &str = "\
static void dev_assert_fault(struct vm_fault *vmf)
{
#ifndef CONFIG_PER_VMA_LOCK
\tassert_fault_locked(vmf);
#else
\tmmap_assert_locked(vmf->vma->vm_mm);
#endif
}

static unsigned long g(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long x = 0;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
#ifdef __KERNEL__
\tx = vma->vm_start;
\tmmap_read_unlock(mm);
#else
\tmmap_read_unlock(mm);
\tx = vma->vm_start;
#endif
\treturn x;
}
";

/// `linux/` (source tree) and `out/` (object tree, with autoconf.h).
fn kernel_tree(autoconf: &str) -> tempfile::TempDir {
    tree(&[
        ("linux/include/linux/kconfig.h", KCONFIG_H),
        (
            "linux/include/linux/compiler-version.h",
            "#define __LINUX_COMPILER_VERSION_H\n",
        ),
        (
            "linux/include/linux/compiler_types.h",
            "#ifndef __LINUX_COMPILER_TYPES_H\n#define __LINUX_COMPILER_TYPES_H\n#define __user\n#endif\n",
        ),
        ("linux/mm/memory.c", MEMORY_C),
        ("out/include/generated/autoconf.h", autoconf),
    ])
}

fn srctree(d: &tempfile::TempDir) -> String {
    d.path().join("linux").to_str().unwrap().to_string()
}

/// Run the recorded command from the object tree, with `before` (our own
/// options) first and `extra` compiler flags before the file name, as
/// `CF=` would add them.
fn run(d: &tempfile::TempDir, before: &[&str], extra: &[&str]) -> std::process::Output {
    let recorded = KBUILD_ARGS.replace("@SRCTREE@", &srctree(d));
    let recorded: Vec<&str> = recorded.lines().collect();
    let (file, flags) = recorded.split_last().unwrap();
    let mut args = vec!["kbuild"];
    args.extend_from_slice(before);
    args.extend(flags);
    args.extend_from_slice(extra);
    args.push(file);
    faultlock(&d.path().join("out"), &args)
}

#[test]
fn recorded_command_line_gives_gcc_style_lines_on_stderr() {
    let d = kernel_tree(AUTOCONF_H);
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "findings do not stop the build");
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        format!("{}/mm/memory.c:6:9: error: mmap_lock asserted on a path that runs under the per-VMA lock only [mmap_assert_under_vma_lock]\n", srctree(&d)),
    );
    let o = run(&d, &["--fail-on-error"], &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn command_line_defines_drive_if_evaluation() {
    let d = kernel_tree(AUTOCONF_H);
    let o = run(&d, &[], &["-UCONFIG_PER_VMA_LOCK"]);
    assert_eq!(stderr(&o), "");
    // The last -D/-U of a name wins: __KERNEL__ is defined by the recorded
    // line, then undefined.
    let o = run(&d, &[], &["-U", "__KERNEL__"]);
    let err = stderr(&o);
    assert!(err.contains("[mmap_assert_under_vma_lock]"), "{err}");
    assert!(
        err.contains("/mm/memory.c:22:13: error: VMA `vma` used after the mmap_lock protecting it was released [vma_use_after_unlock]\n"),
        "{err}"
    );
}

#[test]
fn autoconf_decides_config_options() {
    // CONFIG_PER_VMA_LOCK is not set in this configuration: known
    // undefined, although faultlock's model assumes it by default.
    let d = kernel_tree("#define CONFIG_MMU 1\n");
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
    let o = run(&d, &[], &["-DCONFIG_PER_VMA_LOCK"]);
    assert!(
        stderr(&o).contains("[mmap_assert_under_vma_lock]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_include_and_missing_file_are_errors() {
    let d = kernel_tree(AUTOCONF_H);
    std::fs::remove_file(d.path().join("linux/include/linux/kconfig.h")).unwrap();
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("kconfig.h"), "{}", stderr(&o));
    let o = faultlock(d.path(), &["kbuild", "-D__KERNEL__", "-nostdinc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no source file"), "{}", stderr(&o));
}

#[test]
fn config_excludes_apply() {
    let d = kernel_tree(AUTOCONF_H);
    std::fs::write(
        d.path().join("linux/faultlock.toml"),
        "exclude = [\"mm/**\"]\n",
    )
    .unwrap();
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
}

/// A use after unlock compiled only with CONFIG_FOO_TRACE, an option the
/// model does not know; and a function with a region that does not parse.
const TRACE_C: &str = "\
static unsigned long t(struct mm_struct *mm, unsigned long a)
{
\tstruct vm_area_struct *vma;
\tunsigned long x = 0;

\tmmap_read_lock(mm);
\tvma = find_vma(mm, a);
\tmmap_read_unlock(mm);
#ifdef CONFIG_FOO_TRACE
\tx = vma->vm_start;
#endif
\treturn x;
}
";

#[test]
fn with_autoconf_read_every_other_config_option_is_unset() {
    let d = kernel_tree(AUTOCONF_H);
    std::fs::write(d.path().join("linux/mm/memory.c"), TRACE_C).unwrap();
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o),
        "",
        "CONFIG_FOO_TRACE is not in autoconf.h: not compiled"
    );
    let with = format!("{AUTOCONF_H}#define CONFIG_FOO_TRACE 1\n");
    std::fs::write(d.path().join("out/include/generated/autoconf.h"), with).unwrap();
    let o = run(&d, &[], &[]);
    assert!(
        stderr(&o).contains("/mm/memory.c:10:13: error: VMA `vma` used after"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn fail_on_error_is_accepted_anywhere() {
    let d = kernel_tree(AUTOCONF_H);
    let o = run(&d, &[], &["--fail-on-error"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("[mmap_assert_under_vma_lock]"));
}

#[test]
fn a_missing_autoconf_says_how_to_get_one() {
    let d = kernel_tree(AUTOCONF_H);
    std::fs::remove_file(d.path().join("out/include/generated/autoconf.h")).unwrap();
    let o = run(&d, &[], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("run `make prepare`"), "{err}");
    assert!(err.contains("-I DIR/include"), "{err}");
}

#[test]
fn the_config_search_stops_at_the_kernel_tree_top() {
    let d = kernel_tree(AUTOCONF_H);
    // A configuration above the tree that would hide everything.
    std::fs::write(d.path().join("faultlock.toml"), "exclude = [\"**\"]\n").unwrap();
    let o = run(&d, &[], &[]);
    assert_eq!(
        stderr(&o),
        "",
        "without a kernel top, the file above applies"
    );
    for f in ["Makefile", "Kbuild", "MAINTAINERS"] {
        std::fs::write(d.path().join("linux").join(f), "").unwrap();
    }
    let o = run(&d, &[], &[]);
    assert!(
        stderr(&o).contains("[mmap_assert_under_vma_lock]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn columns_follow_the_tab_stop_and_unparsed_code_is_noted() {
    let d = kernel_tree(AUTOCONF_H);
    let o = run(&d, &["--tabstop", "4"], &[]);
    assert!(
        stderr(&o).contains("/mm/memory.c:6:5: error:"),
        "{}",
        stderr(&o)
    );
    std::fs::write(d.path().join("linux/faultlock.toml"), "tabstop = 2\n").unwrap();
    let o = run(&d, &[], &[]);
    assert!(
        stderr(&o).contains("/mm/memory.c:6:3: error:"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        d.path().join("linux/mm/memory.c"),
        "static void p(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\tint x = (((((;\n\tmmap_read_unlock(mm);\n}\n",
    )
    .unwrap();
    let o = run(&d, &[], &[]);
    assert!(
        stderr(&o).ends_with("/mm/memory.c:1: note: faultlock could not parse part of `p`; findings in it may be missing [faultlock]\n"),
        "{}",
        stderr(&o)
    );
}
