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

#[test]
fn smoke() {
    let d = dump("int f(struct vm_fault *vmf) { if (vmf->flags & FAULT_FLAG_VMA_LOCK) return g(vmf); return 0; }");
    println!("{d}");
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
        let tree = parse(&text).unwrap();
        let root = tree.root_node();
        let mut c = root.walk();
        for n in root.children(&mut c) {
            let (a, _) = f.line_col(n.start_byte() as u32);
            let (b, _) = f.line_col(n.end_byte() as u32);
            println!("{a}-{b} {} err={}", n.kind(), n.has_error());
        }
    }
    let u = lower_file(&f, &defines());
    for func in &u.functions {
        let (l, _) = f.line_col(func.span.start);
        println!("{l}: {} opaque={}", func.name, func.opaque_regions);
    }
}
