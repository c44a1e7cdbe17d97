use super::*;
use crate::ir::{Callee, StmtKind, TypeRef};

fn lower(src: &str) -> Unit {
    lower_file(&SourceFile::new("t.rs", src))
}

fn calls(f: &Function) -> Vec<String> {
    f.blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .filter_map(|s| match &s.kind {
            StmtKind::Call {
                callee: Callee::Direct { name, .. },
                ..
            } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn functions_in_impls_traits_modules_and_bodies_keep_their_own_names() {
    let u = lower(
        "mod m { impl S { fn a(&self) { fn inner() {} } } }\n\
         trait T { fn b(&self) { x(); } fn c(&self); }\n\
         fn d() {}",
    );
    let names: Vec<&str> = u.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "inner", "b", "d"]);
    assert_eq!(u.functions[0].params[0].name, "self");
    assert!(u.functions.iter().all(|f| f.opaque_regions == 0));
}

#[test]
fn extern_c_fault_parameter_is_a_vm_fault_pointer() {
    let u = lower(
        "unsafe extern \"C\" fn f(vmf: *mut bindings::vm_fault, r: &mut bindings::vm_fault) \
         -> bindings::vm_fault_t { (*vmf).flags }",
    );
    let f = &u.functions[0];
    assert_eq!(
        f.params[0].ty,
        TypeRef {
            base: "vm_fault".into(),
            ptr: 1
        }
    );
    assert_eq!(
        f.params[1].ty,
        TypeRef {
            base: "vm_fault".into(),
            ptr: 1
        }
    );
    assert_eq!(f.ret.base, "vm_fault_t");
    assert!(f.dump().contains("vmf->flags"), "{}", f.dump());
}

#[test]
fn bindings_calls_keep_the_last_segment_and_the_path() {
    let u =
        lower("fn f(v: *mut bindings::vm_area_struct) { unsafe { bindings::vma_end_read(v) }; }");
    let f = &u.functions[0];
    let found = f.blocks.iter().flat_map(|b| &b.stmts).any(|s| {
        matches!(&s.kind, StmtKind::Call { callee: Callee::Direct { name, path }, .. }
            if name == "vma_end_read" && path == "bindings::vma_end_read")
    });
    assert!(found, "{}", f.dump());
}

#[test]
fn guards_release_at_scope_end_in_reverse_order_and_not_after_a_move() {
    let u = lower(
        "fn f(mm: &MmWithUser, a: usize) {\n\
           let g = mm.mmap_read_lock();\n\
           let v = mm.lock_vma_under_rcu(a);\n\
         }\n\
         fn moved(mm: &MmWithUser) -> MmapReadGuard { let g = mm.mmap_read_lock(); g }\n\
         fn dropped(mm: &MmWithUser) { let g = mm.mmap_read_lock(); drop(g); x(); }",
    );
    assert_eq!(
        calls(&u.functions[0]),
        [
            "mmap_read_lock",
            "lock_vma_under_rcu",
            "vma_end_read",
            "mmap_read_unlock"
        ]
    );
    // The moved guard is still released on no path: its flag is cleared
    // before the scope-end test.
    let d = u.functions[1].dump();
    assert!(d.contains("g$live = 0"), "{d}");
    // After `drop(g)` the scope-end release is behind a cleared flag: the
    // analysis sees no second release.
    let src = "fn dropped(mm: &MmWithUser) { let g = mm.mmap_read_lock(); drop(g); x(); }";
    let report = crate::check::check(
        &[SourceFile::new("t.rs", src)],
        &LockModel::builtin(),
        &Default::default(),
    );
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(
        calls(&u.functions[2])[..3],
        ["mmap_read_lock", "mmap_read_unlock", "x"]
    );
}

#[test]
fn annotations_are_kept_as_source_text() {
    let src = "#[faultlock::requires(mmap_read(mm))]\n\
               #[cfg_attr(faultlock, faultlock::releases(fault_lock(vmf), when = \"bits:VM_FAULT_RETRY\"))]\n\
               #[inline]\n\
               fn f(mm: *mut bindings::mm_struct, vmf: *mut bindings::vm_fault) {}\n\
               extern \"C\" { #[faultlock::acquires(vma_read(return))] fn g(a: usize) -> *mut bindings::vm_area_struct; fn h(); }\n\
               trait T { #[faultlock::must_hold(mmap(self))] fn t(&self); }";
    let u = lower(src);
    let texts: Vec<&str> = u.functions[0]
        .annotations
        .iter()
        .map(|a| a.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "requires(mmap_read(mm))",
            "releases(fault_lock(vmf), when = \"bits:VM_FAULT_RETRY\")"
        ]
    );
    let a = &u.functions[0].annotations[0];
    assert_eq!(
        &src[a.span.range()],
        "#[faultlock::requires(mmap_read(mm))]"
    );
    let decls: Vec<(&str, &str)> = u
        .declarations
        .iter()
        .map(|d| (d.name.as_str(), d.annotations[0].text.as_str()))
        .collect();
    assert_eq!(
        decls,
        [
            ("g", "acquires(vma_read(return))"),
            ("t", "must_hold(mmap(self))")
        ]
    );
}

#[test]
fn registrations_from_struct_expressions() {
    let u = lower(
        "static OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {\n\
           fault: Some(my_fault), map_pages: Some(bindings::filemap_map_pages), close: None, ..ZERO };",
    );
    let r = &u.registrations[0];
    assert_eq!(r.struct_type, "vm_operations_struct");
    assert_eq!(
        r.fields,
        [
            ("fault".to_string(), "my_fault".to_string()),
            ("map_pages".to_string(), "filemap_map_pages".to_string())
        ]
    );
}

#[test]
fn a_broken_item_does_not_lose_the_others() {
    let src =
        "fn good(v: *mut bindings::vm_area_struct) { unsafe { bindings::vma_end_read(v) }; }\n\
               fn broken( { vma_end_read(x); let = ; }\n\
               fn after() { y(); }\n";
    let u = lower(src);
    let names: Vec<&str> = u.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"good") && names.contains(&"after"),
        "{names:?}"
    );
    let broken = u
        .functions
        .iter()
        .find(|f| f.name == "broken")
        .expect("salvaged");
    assert_eq!(broken.opaque_regions, 1);
    assert!(matches!(&broken.blocks[0].stmts[0].kind,
        StmtKind::Opaque { calls, .. } if calls.contains(&"vma_end_read".to_string())));
    assert_eq!(u.opaque_functions, 1);
}

#[test]
fn spans_are_byte_offsets_of_the_original_text_with_bom_and_shebang() {
    let src = "\u{feff}#!/usr/bin/env run\nfn héllo() { é(); }\nfn f() { g(); }";
    let u = lower(src);
    let f = u.functions.iter().find(|f| f.name == "f").unwrap();
    assert_eq!(&src[f.name_span.range()], "f");
    let h = &u.functions[0];
    assert_eq!(&src[h.name_span.range()], "héllo");
}

#[test]
fn hostile_inputs_never_panic() {
    let deep = format!("fn f() {{ {}x{} }}", "(".repeat(5000), ")".repeat(5000));
    let unary = format!("fn f() {{ let a = {}x; }}", "!".repeat(100_000));
    let chain = format!("fn f() {{ a{}; }}", ".b()".repeat(20_000));
    let elses = format!("fn f() {{ if a {{}} {} }}", "else if a {} ".repeat(3000));
    let unclosed = "fn f() { let x = \"abc; /* ".to_string();
    for src in [
        deep,
        unary,
        chain,
        elses,
        unclosed,
        "'".into(),
        "r#\"".into(),
        "}}}{{{".into(),
    ] {
        let _ = lower(&src);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_rust_never_panics(cut in 0usize..2000, junk in "[(){}\\[\\];,.'\"#!&*a-z0-9 \n]{0,40}") {
        let base = include_str!("../../../fixtures/rust/clean/per_vma_then_mmap_fallback.rs");
        let at = cut.min(base.len());
        let at = (0..=at).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
        let src = format!("{}{}{}", &base[..at], junk, &base[at..]);
        let u = lower(&src);
        for f in &u.functions {
            proptest::prop_assert!(f.blocks.iter().all(|b| !matches!(b.term, Terminator::None)));
            proptest::prop_assert!(f.span.end as usize <= src.len());
        }
    }
}

/// Diagnostics of a snippet checked alone, as `(line, lint)`.
fn diags(src: &str) -> Vec<(usize, &'static str)> {
    let file = SourceFile::new("t.rs", src);
    let report = crate::check::check(
        std::slice::from_ref(&file),
        &LockModel::builtin(),
        &Default::default(),
    );
    report
        .diagnostics
        .iter()
        .map(|d| (file.line_col(d.span.start).0, d.lint))
        .collect()
}

#[test]
fn guards_that_escape_are_not_released_here() {
    // Stored in a field, pushed into a collection, given to a callee: the
    // lock is not released at the end of this function's scope.
    for stored in [
        "self.g = g;",
        "v.push(g);",
        "keep(g);",
        "let t = (g, 1); keep(t);",
    ] {
        let src = format!(
            "fn f(&mut self, mm: &MmWithUser, a: usize) -> u64 {{\n\
             let g = mm.mmap_read_lock();\n\
             let p = g.vma_lookup(a).unwrap().as_ptr();\n\
             {stored}\n\
             unsafe {{ (*p).vm_flags }}\n\
             }}"
        );
        assert_eq!(diags(&src), [], "{stored}");
    }
}

#[test]
fn deferred_guard_and_conditional_drop_are_exact() {
    let src = "fn f(mm: &MmWithUser, a: usize, c: bool) -> u64 {\n\
               let g;\n\
               if c { g = mm.mmap_read_lock(); } else { return 0; }\n\
               let p = g.vma_lookup(a).unwrap().as_ptr();\n\
               if c { drop(g); }\n\
               unsafe { (*p).vm_flags }\n\
               }";
    assert_eq!(diags(src), [(6, "vma_use_after_unlock")]);
    let early = "fn f(mm: &MmWithUser, a: usize) -> u64 {\n\
                 loop {\n\
                 let g = mm.mmap_read_lock();\n\
                 let Some(v) = g.vma_lookup(a) else { continue; };\n\
                 let p = v.as_ptr();\n\
                 if unsafe { (*p).vm_flags } == 0 { break unsafe { (*p).vm_start }; }\n\
                 }\n\
                 }";
    assert_eq!(diags(early), []);
}
