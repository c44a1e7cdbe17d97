use super::*;
use crate::ir::*;

fn defines() -> Defines {
    let mut d = Defines::default();
    for k in ["CONFIG_PER_VMA_LOCK", "CONFIG_MMU", "CONFIG_USERFAULTFD"] {
        d.defined.insert(k.to_string(), "1".to_string());
    }
    d.undefined.push("CONFIG_OFF".to_string());
    d
}

fn unit(src: &str) -> Unit {
    lower_file(&SourceFile::new("t.c", src), &defines())
}

fn func(src: &str) -> Function {
    let u = unit(src);
    assert_eq!(u.functions.len(), 1, "{src}");
    u.functions.into_iter().next().unwrap()
}

fn dump(src: &str) -> String {
    func(src).dump()
}

fn norm(src: &str) -> String {
    let f = SourceFile::new("t.c", src);
    let out = normalized_text(&f, &defines());
    assert_eq!(out.len(), src.len());
    String::from_utf8(out).unwrap()
}

fn snap(src: &str, expected: &str) {
    let got = dump(src);
    let want: String = expected
        .lines()
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(got, want, "\n--- got ---\n{got}");
}

fn first_cond(f: &Function) -> (CondKind, BlockId, BlockId) {
    for b in &f.blocks {
        if let Terminator::Branch {
            cond,
            then_bb,
            else_bb,
            ..
        } = &b.term
        {
            return (cond.kind.clone(), *then_bb, *else_bb);
        }
    }
    panic!("no branch in\n{}", f.dump());
}

// ---- normalisation ----

#[test]
fn normalisation_blank_and_blank_call() {
    let src = "static __always_inline int __must_check f(void __user *p) __releases(x) __acquires(&mm->lock)\n{ fallthrough; }";
    let out = norm(src);
    assert_eq!(
        out,
        "static                 int              f(void        *p)                                    \n{            ; }"
    );
    let a = "int x __attribute__((aligned(8), section(\".data\"))) = 1;";
    assert_eq!(norm(a), format!("int x {} = 1;", " ".repeat(45)));
}

#[test]
fn normalisation_keeps_bytes_outside_macros() {
    let src =
        "/* __user for_each_vma(a, b) { */ \"__rcu\" int g(void) { char c = '\\''; return c; }";
    // Comments and strings are untouched, code outside macros is untouched.
    assert_eq!(norm(src), src);
}

#[test]
fn normalisation_iterators() {
    let out = norm("void f(void) {\n\tfor_each_vma(vmi, vma) {\n\t\tg(vma);\n\t}\n\tlist_for_each_entry(p, &h, node)\n\t\tg(p);\n\tdo { } for_each_vma_range(vmi, vma, end);\n}\nvoid for_each_thing(int x) { for_each_cpu(c, m) g(c); walk_for_each(cb, d); }");
    assert_eq!(
        out,
        "void f(void) {\n\twhile       (vmi, vma) {\n\t\tg(vma);\n\t}\n\twhile              (p, &h, node)\n\t\tg(p);\n\tdo { } while             (vmi, vma, end);\n}\nvoid for_each_thing(int x) { while       (c, m) g(c); walk_for_each(cb, d); }"
    );
}

#[test]
fn normalisation_type_args_and_decl_macros() {
    let out = norm("void f(void) { struct x *p = container_of(q, struct x, node); n = min_t(unsigned long, a, b); s = mm_slot_entry(slot, struct ksm_slot, slot); static DEFINE_MUTEX(lock); DECLARE_BITMAP(map, N) = { 0 }; }");
    assert_eq!(
        out,
        "void f(void) { struct x *p = container_of(q, T_______, node); n = min_t(T____________, a, b); s = mm_slot_entry(slot, T______________, slot); static T___________ lock ; T_____________ map     = { 0 }; }"
    );
}

#[test]
fn normalisation_syscall_define() {
    assert_eq!(
        norm("SYSCALL_DEFINE2(munmap, unsigned long, addr, size_t, len)\n{"),
        "long            munmap( unsigned long  addr, size_t  len)\n{"
    );
    assert_eq!(norm("SYSCALL_DEFINE0(sync)\n{"), "long sync(          )\n{");
    let u = unit("SYSCALL_DEFINE2(munmap, unsigned long, addr, size_t, len)\n{ return do_munmap(addr, len); }");
    assert_eq!(u.functions[0].name, "munmap");
    assert_eq!(u.functions[0].params.len(), 2);
}

#[test]
fn preprocessor_known_and_unknown() {
    let src = "#define LOCAL 1\n#ifdef CONFIG_PER_VMA_LOCK\nint a;\n#else\nint b;\n#endif\n#if IS_ENABLED(CONFIG_OFF) || !defined(CONFIG_MMU)\nint c;\n#elif LOCAL && CONFIG_UNKNOWN\nint d;\n#else\nint e;\n#endif\n";
    let out = norm(src);
    assert_eq!(out.len(), src.len());
    assert!(out.contains("int a;") && !out.contains("int b;") && !out.contains("int c;"));
    // `#elif` on an unknown symbol becomes the opening `#if` of a kept group.
    assert!(out.contains("#if   LOCAL && CONFIG_UNKNOWN\nint d;\n#else\nint e;\n#endif"));
    assert!(!out.contains("#define") && !out.contains("#ifdef"));
    assert_eq!(out.matches('\n').count(), src.matches('\n').count());
}

#[test]
fn preprocessor_in_function_body() {
    let known = dump("int f(struct vm_fault *vmf) {\n#ifdef CONFIG_PER_VMA_LOCK\n\ta(vmf);\n#else\n\tb(vmf);\n#endif\n\treturn 0;\n}");
    assert!(
        known.contains("a(vmf)") && !known.contains("b(vmf)"),
        "{known}"
    );
    snap(
        "int f(int x) {\n#ifdef CONFIG_UNKNOWN\n\ta(x);\n#elif defined(CONFIG_OTHER)\n\tb(x);\n#else\n\tc(x);\n#endif\n\treturn 0;\n}",
        "
        fn f(x: int)
          bb0:
            choose bb1, bb2, bb3
          bb1:
            a(x)
            goto bb4
          bb2:
            b(x)
            goto bb4
          bb3:
            c(x)
            goto bb4
          bb4:
            return 0
        ",
    );
    // An unknown `#ifdef` without `#else`: the empty alternative.
    let d = dump("void f(int x) {\n#ifdef CONFIG_UNKNOWN\n\ta(x);\n#endif\n}");
    assert!(d.contains("choose bb1, bb2"), "{d}");
}

#[test]
fn preprocessor_fallback_when_conditional_breaks_syntax() {
    let f = func("int f(int x) {\n\tif (x)\n\t\ta();\n#ifdef CONFIG_UNKNOWN\n\telse if (x > 1)\n\t\tb();\n#endif\n\telse\n\t\tc();\nout:\n#ifdef CONFIG_UNKNOWN\n\td();\n#endif\n\treturn 0;\n}");
    assert_eq!(f.opaque_regions, 0, "{}", f.dump());
    assert!(f.dump().contains("b()"));
}

#[test]
fn preprocessor_inside_expressions_and_initializers() {
    let f = func("void f(int x) {\n\tg(x,\n#ifdef CONFIG_UNKNOWN\n\t  a(x),\n#else\n\t  1,\n#endif\n\t  2);\n}");
    assert_eq!(f.opaque_regions, 0, "{}", f.dump());
    let u = unit("static const struct vm_operations_struct ops = {\n\t.fault = f,\n#ifdef CONFIG_UNKNOWN\n\t.map_pages = filemap_map_pages,\n#endif\n};\n");
    assert_eq!(u.registrations.len(), 1);
    assert_eq!(u.registrations[0].fields.len(), 2);
}

// ---- lowering ----

#[test]
fn gotos_forward_and_backward() {
    snap(
        "int f(int a) { int i = 0; again: if (a) goto out; i++; if (i < 3) goto again; out: return i; }",
        "
        fn f(a: int)
          bb0:
            i = 0
            goto bb1
          bb1:
            if a then bb2 else bb3
          bb2:
            return i
          bb3:
            i = other{i}
            if unknown{i} then bb1 else bb2
        ",
    );
}

#[test]
fn loops_break_continue() {
    snap(
        "void f(int n) { while (n) { if (n == 3) break; if (n == 4) continue; n--; } do { g(); } while (0); for (int i = 0; i < n; i++) h(i); }",
        "
        fn f(n: int)
          bb0:
            goto bb1
          bb1:
            if n then bb2 else bb3
          bb2:
            if n == 3 then bb3 else bb4
          bb3:
            g()
            goto bb5
          bb4:
            if n == 4 then bb1 else bb6
          bb5:
            i = 0
            goto bb7
          bb6:
            n = other{n}
            goto bb1
          bb7:
            if unknown{i, n} then bb8 else bb9
          bb8:
            h(i)
            goto bb10
          bb9:
            return
          bb10:
            i = other{i}
            goto bb7
        ",
    );
}

#[test]
fn switch_with_fallthrough() {
    snap(
        "int f(int x) { int r = 0; switch (x) { case 1: r = 1; case 2: r = 2; break; default: r = 3; } return r; }",
        "
        fn f(x: int)
          bb0:
            r = 0
            use x
            choose bb1, bb2, bb3
          bb1:
            r = 1
            goto bb2
          bb2:
            r = 2
            goto bb4
          bb3:
            r = 3
            goto bb4
          bb4:
            return r
        ",
    );
}

#[test]
fn conditional_and_short_circuit_values() {
    snap(
        "int f(int a, int b) { int r = a ? g(a) : b; return r && b || !a; }",
        "
        fn f(a: int, b: int)
          bb0:
            if a then bb1 else bb2
          bb1:
            $t0 = g(a)
            goto bb3
          bb2:
            $t0 = b
            goto bb3
          bb3:
            r = $t0
            if r then bb4 else bb5
          bb4:
            if b then bb6 else bb5
          bb5:
            if a then bb7 else bb6
          bb6:
            $t1 = 1
            goto bb8
          bb7:
            $t1 = 0
            goto bb8
          bb8:
            return $t1
        ",
    );
}

#[test]
fn compound_assignment_and_temps() {
    snap(
        "vm_fault_t f(struct vm_fault *vmf) { vm_fault_t ret = 0; ret |= g(vmf); ret |= A | B; ret += 1; return h(k(vmf->vma)); }",
        "
        fn f(vmf: vm_fault*)
          bb0:
            ret = 0
            $t0 = g(vmf)
            ret = (ret | $t0)
            ret = (ret | A | B)
            ret = other{ret}
            $t1 = k(vmf->vma)
            $t2 = h($t1)
            return $t2
        ",
    );
}

#[test]
fn statement_expression_inline() {
    snap(
        "int f(int *p) { int v = ({ int t = g(p); t; }); return v; }",
        "
        fn f(p: int*)
          bb0:
            t = g(p)
            v = t
            return v
        ",
    );
}

#[test]
fn conditions_bittest_eq_truthy_with_swaps() {
    snap(
        "int f(struct vm_fault *vmf, int ret, void *p) { if (!(vmf->flags & FAULT_FLAG_VMA_LOCK)) a(); if ((ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) == 0) b(); if (p == NULL) c(); if (ret != VM_FAULT_OOM) d(); if (unlikely(!!ret)) e(); if (ret & mask) g(); return 0; }",
        "
        fn f(vmf: vm_fault*, ret: int, p: void*)
          bb0:
            if vmf->flags & FAULT_FLAG_VMA_LOCK then bb1 else bb2
          bb1:
            if ret & VM_FAULT_RETRY|VM_FAULT_COMPLETED then bb3 else bb4
          bb2:
            a()
            goto bb1
          bb3:
            if p then bb5 else bb6
          bb4:
            b()
            goto bb3
          bb5:
            if ret == VM_FAULT_OOM then bb7 else bb8
          bb6:
            c()
            goto bb5
          bb7:
            if ret then bb9 else bb10
          bb8:
            d()
            goto bb7
          bb9:
            e()
            goto bb10
          bb10:
            if unknown{ret, mask} then bb11 else bb12
          bb11:
            g()
            goto bb12
          bb12:
            return 0
        ",
    );
    let f = func("void f(struct vm_fault *vmf) { if (vmf->flags & FAULT_FLAG_VMA_LOCK) g(); }");
    let (k, _, _) = first_cond(&f);
    assert_eq!(
        k,
        CondKind::BitTest {
            value: Operand::Place(Place::var("vmf").arrow("flags")),
            mask: vec!["FAULT_FLAG_VMA_LOCK".into()],
        }
    );
    // stmt_span is the whole if statement.
    let src = "void f(int x) { if (!x) g(); else h(); }";
    let f = func(src);
    let stmt = f.blocks.iter().find_map(|b| match &b.term {
        Terminator::Branch { stmt_span, .. } => *stmt_span,
        _ => None,
    });
    assert_eq!(
        stmt.map(|s| &src[s.range()]),
        Some("if (!x) g(); else h();")
    );
}

#[test]
fn places_calls_and_operands() {
    snap(
        "void f(struct vm_area_struct *vma, int i) { vma->vm_ops->fault(vmf); x = (*vma).vm_flags; y = a[i].b; z = &vma->vm_mm; (void)vma->vm_start; WRITE_ONCE(vma->x, READ_ONCE(vmf->vma)); guard(mutex)(&lock); if (IS_ENABLED(CONFIG_PER_VMA_LOCK)) p(); if (IS_ERR(vma)) BUG(); q(); }",
        "
        fn f(vma: vm_area_struct*, i: int)
          bb0:
            (*vma->vm_ops->fault)(vmf)
            x = vma->vm_flags
            use i
            y = a[].b
            z = &vma->vm_mm
            use vma->vm_start
            vma->x = vmf->vma
            guard(mutex, &lock)
            goto bb1
          bb1:
            p()
            goto bb2
          bb2:
            $t0 = IS_ERR(vma)
            if $t0 then bb3 else bb4
          bb3:
            BUG()
            unreachable
          bb4:
            q()
            return
        ",
    );
}

#[test]
fn params_locals_and_types() {
    let f = func("static struct page *f(struct vm_fault *vmf, vm_fault_t r, const char **names, int (*cb)(int)) { struct vm_area_struct *vma = vmf->vma, *prev; unsigned long addr; return cb(1); }");
    assert_eq!(
        f.ret,
        TypeRef {
            base: "page".into(),
            ptr: 1
        }
    );
    let p: Vec<_> = f
        .params
        .iter()
        .map(|v| (v.name.as_str(), v.ty.base.as_str(), v.ty.ptr))
        .collect();
    assert_eq!(
        p,
        [
            ("vmf", "vm_fault", 1),
            ("r", "vm_fault_t", 0),
            ("names", "char", 2),
            ("cb", "int", 1)
        ]
    );
    let l: Vec<_> = f
        .locals
        .iter()
        .map(|v| (v.name.as_str(), v.ty.base.as_str(), v.ty.ptr))
        .collect();
    assert_eq!(
        l,
        [
            ("vma", "vm_area_struct", 1),
            ("prev", "vm_area_struct", 1),
            ("addr", "unsigned long", 0)
        ]
    );
    assert!(f.dump().contains("$t0 = (*cb)(1)"), "{}", f.dump());
}

#[test]
fn iterator_loops() {
    snap(
        "void f(struct mm_struct *mm) { VMA_ITERATOR(vmi, mm, 0); struct vm_area_struct *vma; for_each_vma(vmi, vma) { if (vma->vm_flags & VM_LOCKED) break; } list_for_each_entry(p, &mm->list, node) g(p); }",
        "
        fn f(mm: mm_struct*)
          bb0:
            goto bb1
          bb1:
            vma = for_each_vma(vmi)
            choose bb2, bb3
          bb2:
            if vma->vm_flags & VM_LOCKED then bb3 else bb1
          bb3:
            p = list_for_each_entry(&mm->list, node)
            choose bb4, bb5
          bb4:
            g(p)
            goto bb3
          bb5:
            return
        ",
    );
    let f = func("void f(struct mm_struct *mm) { VMA_ITERATOR(vmi, mm, 0); }");
    assert_eq!(f.locals[0].name, "vmi");
    assert_eq!(f.locals[0].ty.base, "VMA_ITERATOR");
    let d = dump("void f(void) { scoped_guard(mutex, &m) { if (x) break; g(); } h(); }");
    assert!(
        d.contains("scoped_guard(mutex, &m)") && !d.contains("choose"),
        "{d}"
    );
}

#[test]
fn error_regions_become_opaque() {
    let u = unit("int f(struct vm_fault *vmf) {\n\ta(vmf);\n\tFOO BAR vmf->vma->vm_mm baz ) (;\n\treturn 0;\n}\nint g(void) { return 1; }\n");
    assert_eq!(u.functions.len(), 2);
    assert_eq!(u.opaque_functions, 1);
    let f = &u.functions[0];
    assert!(f.opaque_regions >= 1);
    let places: Vec<String> = f
        .blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .filter_map(|s| match &s.kind {
            StmtKind::Opaque { places, .. } => Some(places.iter().map(|p| p.to_string())),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        places.contains(&"vmf->vma->vm_mm".to_string()),
        "{places:?}"
    );
    assert!(f.dump().contains("a(vmf)"));
    assert_eq!(u.functions[1].opaque_regions, 0);
}

#[test]
fn registrations() {
    let u = unit("static const struct vm_operations_struct foo_vm_ops = {\n\t.fault = foo_fault,\n\t.map_pages = filemap_map_pages,\n\t.page_mkwrite = &foo_mkwrite,\n\t.name = \"x\",\n};\nstatic struct ops arr[] = { { .a = f1 }, { .a = f2 } };\n");
    assert_eq!(u.registrations.len(), 3);
    let r = &u.registrations[0];
    assert_eq!(r.struct_type, "vm_operations_struct");
    assert_eq!(
        r.fields,
        [
            ("fault".to_string(), "foo_fault".to_string()),
            ("map_pages".to_string(), "filemap_map_pages".to_string()),
            ("page_mkwrite".to_string(), "foo_mkwrite".to_string()),
        ]
    );
    assert_eq!(u.registrations[2].fields[0].1, "f2");
}

#[test]
fn spans_point_into_original_text() {
    let src = "static __always_inline int f(struct vm_fault *vmf)\n{\n\tfor_each_vma(vmi, vma)\n\t\tvma_end_read(vma);\n\treturn 0;\n}\n";
    let f = func(src);
    assert_eq!(&src[f.name_span.range()], "f");
    let calls: Vec<&str> = f
        .blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .filter(|s| matches!(s.kind, StmtKind::Call { .. }))
        .map(|s| &src[s.span.range()])
        .collect();
    assert_eq!(calls, ["for_each_vma", "vma_end_read(vma)"]);
}

#[test]
fn deep_nesting_does_not_overflow() {
    let n = 100_000;
    let parens = format!(
        "int f(void) {{ return {}1{}; }}",
        "(".repeat(n),
        ")".repeat(n)
    );
    let blocks = format!("void g(void) {}{}", "{".repeat(n), "}".repeat(n));
    let ifs = format!("void h(int x) {{ {} }}", "if (x) ".repeat(n) + "x++;");
    for src in [parens, blocks, ifs] {
        let u = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || unit(&src))
            .unwrap()
            .join()
            .expect("no stack overflow");
        for f in &u.functions {
            assert!(f.blocks.iter().all(|b| !matches!(b.term, Terminator::None)));
        }
    }
}

#[test]
fn garbage_does_not_panic() {
    let mut seed = 0x9e3779b97f4a7c15u64;
    for len in [0usize, 1, 7, 100, 1000, 5000] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let f = SourceFile::from_bytes("r.c", &bytes);
        lower_file(&f, &defines());
    }
    let weird = "\0\0int f(\0) { #if\n#elif\n#else\n#endif\n#endif\n for_each_x( { __attribute__(( } \"unterminated\n SYSCALL_DEFINE0( container_of(,";
    lower_file(&SourceFile::new("w.c", weird), &defines());
    lower_file(
        &SourceFile::new("w.c", "int f(void) { ({ }); return ({ 1; }); x ?: y; } int"),
        &defines(),
    );
}

/// Parse health on the Debian kernel tree:
/// `FAULTLOCK_KERNEL=/var/cache/faultlock/linux-source-6.12 cargo test --release --lib kernel_health -- --ignored --nocapture`
/// (`FAULTLOCK_DUMP=fn1,fn2` prints those functions; `FAULTLOCK_OPAQUE=1` lists unhealthy ones).
#[test]
#[ignore]
fn kernel_health() {
    let Ok(root) = std::env::var("FAULTLOCK_KERNEL") else {
        return;
    };
    let dump: Vec<String> = std::env::var("FAULTLOCK_DUMP")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let list_opaque = std::env::var("FAULTLOCK_OPAQUE").is_ok();
    let mut areas: Vec<(&str, Vec<std::path::PathBuf>)> = Vec::new();
    let glob = |dir: &str| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "c"));
        v.sort();
        v
    };
    areas.push(("mm/*.c", glob("mm")));
    areas.push((
        "fs/userfaultfd.c",
        vec![format!("{root}/fs/userfaultfd.c").into()],
    ));
    let mut arch = Vec::new();
    for a in std::fs::read_dir(format!("{root}/arch")).unwrap().flatten() {
        let p = a.path().join("mm/fault.c");
        if p.exists() {
            arch.push(p);
        }
    }
    arch.sort();
    areas.push(("arch/*/mm/fault.c", arch));
    let d = defines();
    for (area, files) in areas {
        let t0 = std::time::Instant::now();
        let (mut total, mut bad, mut braces, mut bytes) = (0, 0, 0, 0);
        let mut per_file = Vec::new();
        for p in &files {
            let bytes_ = std::fs::read(p).unwrap();
            bytes += bytes_.len();
            let f = SourceFile::from_bytes(p.display().to_string(), &bytes_);
            let nb = f.text.lines().filter(|l| *l == "{").count();
            braces += nb;
            let u = lower_file(&f, &d);
            if u.functions.len() < nb {
                println!(
                    "  fewer functions than `{{` lines: {} {} < {nb}",
                    p.display(),
                    u.functions.len()
                );
            }
            total += u.functions.len();
            bad += u.opaque_functions;
            per_file.push((
                p.display().to_string(),
                u.functions.len(),
                u.opaque_functions,
            ));
            for func in &u.functions {
                if dump.contains(&func.name) {
                    println!("{} ({}):\n{}", func.name, p.display(), func.dump());
                }
                if list_opaque && func.opaque_regions > 0 {
                    println!(
                        "  opaque: {} {} ({})",
                        p.display(),
                        func.name,
                        func.opaque_regions
                    );
                    for st in func.blocks.iter().flat_map(|b| &b.stmts) {
                        if let StmtKind::Opaque { .. } = st.kind {
                            let snip: String = f.snippet(st.span).chars().take(150).collect();
                            let snip = snip.split_whitespace().collect::<Vec<_>>().join(" ");
                            println!("      {}: {snip}", f.line_col(st.span.start).0);
                        }
                    }
                }
            }
        }
        println!(
            "{area}: {} files, {bytes} bytes, {total} functions ({braces} `{{` lines), {bad} with opaque regions, health {:.2}%, {:?}",
            files.len(),
            100.0 * (total - bad) as f64 / total.max(1) as f64,
            t0.elapsed()
        );
        if std::env::var("FAULTLOCK_FILES").is_ok() {
            for (f, n, b) in per_file {
                println!("    {f}: {n} fns, {b} opaque");
            }
        }
    }
}

#[test]
#[ignore]
fn dump_file() {
    let Ok(p) = std::env::var("FAULTLOCK_FILE") else {
        return;
    };
    let f = SourceFile::from_bytes(p.clone(), &std::fs::read(&p).unwrap());
    if std::env::var("FAULTLOCK_NORM").is_ok() {
        println!(
            "{}",
            String::from_utf8_lossy(&normalized_text(&f, &defines()))
        );
    }
    if std::env::var("FAULTLOCK_TREE").is_ok() {
        let text = normalized_text(&f, &defines());
        for tree in parse(&text, false) {
            let root = tree.root_node();
            let mut c = root.walk();
            for n in root.children(&mut c) {
                let (a, _) = f.line_col(n.start_byte() as u32);
                let (b, _) = f.line_col(n.end_byte() as u32);
                println!("{a}-{b} {} err={}", n.kind(), n.has_error());
            }
        }
    }
    let u = lower_file(&f, &defines());
    for func in &u.functions {
        let (l, _) = f.line_col(func.span.start);
        println!("{l}: {} opaque={}", func.name, func.opaque_regions);
    }
}
