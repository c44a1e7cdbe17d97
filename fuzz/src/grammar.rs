//! A small grammar of kernel fault-handler fragments, built with
//! `arbitrary`, printed as C. It reaches the analysis far more often than
//! mutated bytes do: every program parses, names the model's functions and
//! mixes lock/unlock, flag tests, helpers that drop the lock, gotos, loops
//! and `VM_FAULT_RETRY` returns.

use arbitrary::Arbitrary;
use std::fmt::Write;

/// Deeper nesting is cut (printed as an empty block).
const MAX_DEPTH: usize = 10;
/// At most this many statements are printed per program.
const MAX_STMTS: usize = 400;

#[derive(Arbitrary, Debug)]
pub struct Program {
    pub funcs: Vec<Func>,
    /// Register function `fault` (index into `funcs`) in a
    /// `vm_operations_struct`, with `.map_pages` or not.
    pub ops: Option<(u8, bool, OpsField)>,
    pub guard_config: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum OpsField {
    Fault,
    PageMkwrite,
    PfnMkwrite,
    HugeFault,
}

#[derive(Arbitrary, Debug)]
pub struct Func {
    pub sig: Sig,
    pub is_static: bool,
    pub body: Vec<Stmt>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Sig {
    /// `vm_fault_t NAME(struct vm_fault *vmf)`
    Fault,
    /// `void NAME(struct pt_regs *regs, unsigned long address, unsigned int flags)`
    ArchFault,
    /// `int NAME(struct mm_struct *mm, struct vm_area_struct *vma)`
    Helper,
    /// `vm_fault_t NAME(struct vm_fault *vmf, unsigned int flags)`
    FaultFlags,
}

#[derive(Arbitrary, Debug)]
pub enum Stmt {
    Lock(Lock),
    Unlock(Lock),
    Assert(Assert),
    Call(Call),
    /// `ret = CALL;`
    AssignCall(Call),
    UseVma(VmaExpr, Field),
    SetVma(VmaSource),
    SetFlags(FlagBits),
    If(Cond, Vec<Stmt>, Option<Vec<Stmt>>),
    While(Cond, Vec<Stmt>),
    DoWhile(Vec<Stmt>, Cond),
    For(Vec<Stmt>),
    Switch(Vec<(u8, Vec<Stmt>)>),
    Goto(Label),
    Label(Label),
    Return(RetVal),
    Break,
    Continue,
    /// `#ifdef CONFIG_PER_VMA_LOCK ... #else ... #endif`
    Ifdef(ConfigSym, Vec<Stmt>, Option<Vec<Stmt>>),
    /// The canonical open-coded release.
    ManualRelease,
    /// The canonical open-coded assert.
    ManualAssert,
    /// A call to another function of the program (index).
    CallFunc(u8, bool),
    Block(Vec<Stmt>),
    Unreachable,
    /// A fragment the front end may not parse.
    Garbage(Garbage),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Lock {
    MmapRead,
    MmapWrite,
    VmaRead,
    HugetlbRead,
    Fault,
    MmapReadNonOwner,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Assert {
    MmapLocked,
    MmapWriteLocked,
    VmaLocked,
    FaultLocked,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Call {
    HandleMmFault(bool),
    RawHandleMmFault,
    HandleUserfault,
    FilemapFault,
    FolioLockOrRetry,
    VmfAnonPrepare,
    RawVmfAnonPrepare,
    MmapReadLockKillable,
    MmapReadTrylock,
    MmapWriteDowngrade,
    MmapWriteLockNested,
    HugetlbTrylock,
    VmaStartRead,
    Unknown(u8),
    UnknownWithVmf,
    UnknownWithVma,
    UnknownWithAddrOf,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum VmaExpr {
    Vma,
    VmfVma,
    Prev,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Field {
    Start,
    End,
    Flags,
    Mm,
    File,
    Ops,
    /// Pass it to an unknown function.
    Pass,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum VmaSource {
    VmfVma,
    FindVma,
    VmaLookup,
    FindVmaPrev,
    LockVmaUnderRcu,
    LockMmAndFindVma,
    FindExtend,
    Null,
    Prev,
    ErrPtr,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum FlagBits {
    OrVmaLock,
    ClearVmaLock,
    OrTried,
    Default,
    FromVmf,
}

#[derive(Arbitrary, Debug)]
pub enum Cond {
    FlagVmaLock,
    LocalFlagVmaLock,
    RetRetry,
    RetCompleted,
    RetRetryOrCompleted,
    RetError,
    Ret,
    RetEqRetry,
    VmaNull,
    VmaIsErr,
    VmaShared,
    Trylock(Lock),
    Killable,
    Unknown(u8),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Unlikely(Box<Cond>),
    Ternary(Box<Cond>, Box<Cond>, Box<Cond>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Label {
    Out,
    Unlock,
    Retry,
    LockMmap,
    Done,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum RetVal {
    Retry,
    Completed,
    Sigbus,
    Zero,
    Ret,
    RetOrRetry,
    Nothing,
    Errno,
    Vma,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ConfigSym {
    PerVmaLock,
    Userfaultfd,
    Unknown,
    Zero,
    One,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Garbage {
    UnbalancedOpen,
    UnbalancedClose,
    Macro,
    StatementExpr,
    Asm,
    Ident,
    GnuRange,
    LongExpr(u8),
    Directive,
    Comment,
}

const NAMES: [&str; 6] = [
    "f_fault", "g_helper", "h_fault", "do_fault", "lock_it", "drop_it",
];

fn fname(i: usize) -> String {
    let base = NAMES[i % NAMES.len()];
    if i < NAMES.len() {
        base.to_string()
    } else {
        format!("{base}{i}")
    }
}

struct Printer {
    out: String,
    stmts: usize,
    nfuncs: usize,
}

impl Printer {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth + 1 {
            self.out.push('\t');
        }
    }

    fn line(&mut self, depth: usize, s: &str) {
        self.indent(depth);
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn block(&mut self, stmts: &[Stmt], depth: usize) {
        for s in stmts {
            if self.stmts >= MAX_STMTS {
                return;
            }
            self.stmts += 1;
            self.stmt(s, depth);
        }
    }

    fn braced(&mut self, head: &str, body: &[Stmt], depth: usize) {
        self.line(depth, &format!("{head} {{"));
        if depth < MAX_DEPTH {
            self.block(body, depth + 1);
        }
        self.line(depth, "}");
    }

    fn stmt(&mut self, s: &Stmt, d: usize) {
        match s {
            Stmt::Lock(l) => {
                let t = lock_call(*l, true);
                self.line(d, &format!("{t};"));
            }
            Stmt::Unlock(l) => {
                let t = lock_call(*l, false);
                self.line(d, &format!("{t};"));
            }
            Stmt::Assert(a) => {
                let t = match a {
                    Assert::MmapLocked => "mmap_assert_locked(mm)",
                    Assert::MmapWriteLocked => "mmap_assert_write_locked(mm)",
                    Assert::VmaLocked => "vma_assert_locked(vma)",
                    Assert::FaultLocked => "assert_fault_locked(vmf)",
                };
                self.line(d, &format!("{t};"));
            }
            Stmt::Call(c) => {
                let t = call(*c);
                self.line(d, &format!("{t};"));
            }
            Stmt::AssignCall(c) => {
                let t = call(*c);
                self.line(d, &format!("ret = {t};"));
            }
            Stmt::UseVma(v, f) => {
                let v = vma_expr(*v);
                let t = match f {
                    Field::Start => format!("addr = {v}->vm_start;"),
                    Field::End => format!("if (address >= {v}->vm_end) ret = VM_FAULT_SIGSEGV;"),
                    Field::Flags => format!("{v}->vm_flags |= VM_MIXEDMAP;"),
                    Field::Mm => format!("mm = {v}->vm_mm;"),
                    Field::File => format!("file = get_file({v}->vm_file);"),
                    Field::Ops => format!("ret = {v}->vm_ops->fault(vmf);"),
                    Field::Pass => format!("vma_touch({v}, address);"),
                };
                self.line(d, &t);
            }
            Stmt::SetVma(src) => {
                let t = match src {
                    VmaSource::VmfVma => "vma = vmf->vma;",
                    VmaSource::FindVma => "vma = find_vma(mm, address);",
                    VmaSource::VmaLookup => "vma = vma_lookup(mm, address);",
                    VmaSource::FindVmaPrev => "vma = find_vma_prev(mm, address, &prev);",
                    VmaSource::LockVmaUnderRcu => "vma = lock_vma_under_rcu(mm, address);",
                    VmaSource::LockMmAndFindVma => "vma = lock_mm_and_find_vma(mm, address, regs);",
                    VmaSource::FindExtend => "vma = find_extend_vma_locked(mm, address);",
                    VmaSource::Null => "vma = NULL;",
                    VmaSource::Prev => "prev = vma;",
                    VmaSource::ErrPtr => "vma = ERR_PTR(-ENOMEM);",
                };
                self.line(d, t);
            }
            Stmt::SetFlags(f) => {
                let t = match f {
                    FlagBits::OrVmaLock => "flags |= FAULT_FLAG_VMA_LOCK;",
                    FlagBits::ClearVmaLock => "flags &= ~FAULT_FLAG_VMA_LOCK;",
                    FlagBits::OrTried => "flags |= FAULT_FLAG_TRIED;",
                    FlagBits::Default => "flags = FAULT_FLAG_DEFAULT;",
                    FlagBits::FromVmf => "flags = vmf->flags;",
                };
                self.line(d, t);
            }
            Stmt::If(c, then, els) => {
                let c = cond(c, 0);
                self.braced(&format!("if ({c})"), then, d);
                if let Some(e) = els {
                    self.braced("else", e, d);
                }
            }
            Stmt::While(c, body) => {
                let c = cond(c, 0);
                self.braced(&format!("while ({c})"), body, d);
            }
            Stmt::DoWhile(body, c) => {
                let c = cond(c, 0);
                self.braced("do", body, d);
                self.line(d, &format!("while ({c});"));
            }
            Stmt::For(body) => self.braced("for (i = 0; i < nr; i++)", body, d),
            Stmt::Switch(cases) => {
                self.line(d, "switch (ret) {");
                for (i, (k, body)) in cases.iter().enumerate().take(8) {
                    if i == 0 && k % 4 == 0 {
                        self.line(d, "default:");
                    } else {
                        self.line(d, &format!("case {}:", k % 16));
                    }
                    if d < MAX_DEPTH {
                        self.block(body, d + 1);
                    }
                    if k & 1 == 1 {
                        self.line(d + 1, "break;");
                    }
                }
                self.line(d, "}");
            }
            Stmt::Goto(l) => self.line(d, &format!("goto {};", label(*l))),
            Stmt::Label(l) => {
                // Labels at depth 0 only, so each appears once per function
                // scope most of the time; duplicates are part of the game.
                self.out.push_str(label(*l));
                self.out.push_str(":\n");
            }
            Stmt::Return(r) => {
                let t = match r {
                    RetVal::Retry => "return VM_FAULT_RETRY;",
                    RetVal::Completed => "return VM_FAULT_COMPLETED;",
                    RetVal::Sigbus => "return VM_FAULT_SIGBUS;",
                    RetVal::Zero => "return 0;",
                    RetVal::Ret => "return ret;",
                    RetVal::RetOrRetry => "return ret | VM_FAULT_RETRY;",
                    RetVal::Nothing => "return;",
                    RetVal::Errno => "return -EINTR;",
                    RetVal::Vma => "return vma;",
                };
                self.line(d, t);
            }
            Stmt::Break => self.line(d, "break;"),
            Stmt::Continue => self.line(d, "continue;"),
            Stmt::Ifdef(sym, then, els) => {
                let head = match sym {
                    ConfigSym::PerVmaLock => "#ifdef CONFIG_PER_VMA_LOCK",
                    ConfigSym::Userfaultfd => "#if IS_ENABLED(CONFIG_USERFAULTFD)",
                    ConfigSym::Unknown => "#if defined(CONFIG_FOO) && !defined(CONFIG_BAR)",
                    ConfigSym::Zero => "#if 0",
                    ConfigSym::One => "#if 1",
                };
                self.out.push_str(head);
                self.out.push('\n');
                if d < MAX_DEPTH {
                    self.block(then, d + 1);
                }
                if let Some(e) = els {
                    self.out.push_str("#else\n");
                    if d < MAX_DEPTH {
                        self.block(e, d + 1);
                    }
                }
                self.out.push_str("#endif\n");
            }
            Stmt::ManualRelease => {
                self.line(d, "if (vmf->flags & FAULT_FLAG_VMA_LOCK)");
                self.line(d + 1, "vma_end_read(vmf->vma);");
                self.line(d, "else");
                self.line(d + 1, "mmap_read_unlock(vmf->vma->vm_mm);");
            }
            Stmt::ManualAssert => {
                self.line(d, "if (vmf->flags & FAULT_FLAG_VMA_LOCK)");
                self.line(d + 1, "vma_assert_locked(vmf->vma);");
                self.line(d, "else");
                self.line(d + 1, "mmap_assert_locked(vmf->vma->vm_mm);");
            }
            Stmt::CallFunc(i, assign) => {
                let n = fname(*i as usize % self.nfuncs.max(1));
                let args = match i / 64 {
                    0 => "vmf",
                    1 => "mm, vma",
                    2 => "regs, address, flags",
                    _ => "vmf, flags",
                };
                let t = if *assign {
                    format!("ret = {n}({args});")
                } else {
                    format!("{n}({args});")
                };
                self.line(d, &t);
            }
            Stmt::Block(b) => self.braced("", b, d),
            Stmt::Unreachable => self.line(d, "BUG();"),
            Stmt::Garbage(g) => {
                let t = match g {
                    Garbage::UnbalancedOpen => "if (ret && (vma->vm_flags {".to_string(),
                    Garbage::UnbalancedClose => "} ) ;".to_string(),
                    Garbage::Macro => "VM_BUG_ON_VMA(!vma, vma); WARN_ON_ONCE(1)".to_string(),
                    Garbage::StatementExpr => {
                        "ret = ({ int __x = vma->vm_pgoff; __x ? mmap_read_trylock(mm) : 0; });"
                            .to_string()
                    }
                    Garbage::Asm => "asm volatile(\"\" ::: \"memory\");".to_string(),
                    Garbage::Ident => "vm_fault_t vm_fault_t vm_fault_t;".to_string(),
                    Garbage::GnuRange => "switch (ret) { case 1 ... 5: ret = 0; }".to_string(),
                    Garbage::LongExpr(n) => {
                        let mut s = "ret = ".to_string();
                        for i in 0..(*n as usize) {
                            let _ = write!(s, "(vma->vm_flags & {i}) + ");
                        }
                        s.push_str("0;");
                        s
                    }
                    Garbage::Directive => {
                        "#define mmap_read_unlock(mm) do { } while (0)".to_string()
                    }
                    Garbage::Comment => {
                        "/* mmap_read_unlock(mm); */ // vma_end_read(vma);".to_string()
                    }
                };
                if matches!(g, Garbage::Directive) {
                    self.out.push_str(&t);
                    self.out.push('\n');
                } else {
                    self.line(d, &t);
                }
            }
        }
    }
}

fn lock_call(l: Lock, acquire: bool) -> &'static str {
    match (l, acquire) {
        (Lock::MmapRead, true) => "mmap_read_lock(mm)",
        (Lock::MmapRead, false) => "mmap_read_unlock(mm)",
        (Lock::MmapWrite, true) => "mmap_write_lock(mm)",
        (Lock::MmapWrite, false) => "mmap_write_unlock(mm)",
        (Lock::VmaRead, true) => "vma_start_read(vma)",
        (Lock::VmaRead, false) => "vma_end_read(vma)",
        (Lock::HugetlbRead, true) => "hugetlb_vma_lock_read(vma)",
        (Lock::HugetlbRead, false) => "hugetlb_vma_unlock_read(vma)",
        (Lock::Fault, true) => "mmap_read_lock(vmf->vma->vm_mm)",
        (Lock::Fault, false) => "release_fault_lock(vmf)",
        (Lock::MmapReadNonOwner, true) => "mmap_read_lock(vma->vm_mm)",
        (Lock::MmapReadNonOwner, false) => "mmap_read_unlock_non_owner(mm)",
    }
}

fn call(c: Call) -> String {
    match c {
        Call::HandleMmFault(vma_lock) => {
            if vma_lock {
                "handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK, regs)".into()
            } else {
                "handle_mm_fault(vma, address, flags, regs)".into()
            }
        }
        Call::RawHandleMmFault => "__handle_mm_fault(vma, address, flags)".into(),
        Call::HandleUserfault => "handle_userfault(vmf, VM_UFFD_MISSING)".into(),
        Call::FilemapFault => "filemap_fault(vmf)".into(),
        Call::FolioLockOrRetry => "folio_lock_or_retry(folio, vmf)".into(),
        Call::VmfAnonPrepare => "vmf_anon_prepare(vmf)".into(),
        Call::RawVmfAnonPrepare => "__vmf_anon_prepare(vmf)".into(),
        Call::MmapReadLockKillable => "mmap_read_lock_killable(mm)".into(),
        Call::MmapReadTrylock => "mmap_read_trylock(mm)".into(),
        Call::MmapWriteDowngrade => "mmap_write_downgrade(mm)".into(),
        Call::MmapWriteLockNested => "mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)".into(),
        Call::HugetlbTrylock => "hugetlb_vma_trylock_read(vma)".into(),
        Call::VmaStartRead => "vma_start_read(vma)".into(),
        Call::Unknown(n) => format!("do_something{}(address)", n % 4),
        Call::UnknownWithVmf => "do_fault_work(vmf)".into(),
        Call::UnknownWithVma => "do_vma_work(vma, vmf->pgoff)".into(),
        Call::UnknownWithAddrOf => "fill_ret(&ret, &vma)".into(),
    }
}

fn vma_expr(v: VmaExpr) -> &'static str {
    match v {
        VmaExpr::Vma => "vma",
        VmaExpr::VmfVma => "vmf->vma",
        VmaExpr::Prev => "prev",
    }
}

fn label(l: Label) -> &'static str {
    match l {
        Label::Out => "out",
        Label::Unlock => "out_unlock",
        Label::Retry => "retry",
        Label::LockMmap => "lock_mmap",
        Label::Done => "done",
    }
}

fn cond(c: &Cond, depth: usize) -> String {
    if depth > 6 {
        return "ret".into();
    }
    match c {
        Cond::FlagVmaLock => "vmf->flags & FAULT_FLAG_VMA_LOCK".into(),
        Cond::LocalFlagVmaLock => "flags & FAULT_FLAG_VMA_LOCK".into(),
        Cond::RetRetry => "ret & VM_FAULT_RETRY".into(),
        Cond::RetCompleted => "ret & VM_FAULT_COMPLETED".into(),
        Cond::RetRetryOrCompleted => "ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)".into(),
        Cond::RetError => "ret & VM_FAULT_ERROR".into(),
        Cond::Ret => "ret".into(),
        Cond::RetEqRetry => "ret == VM_FAULT_RETRY".into(),
        Cond::VmaNull => "!vma".into(),
        Cond::VmaIsErr => "IS_ERR(vma)".into(),
        Cond::VmaShared => "vma->vm_flags & VM_SHARED".into(),
        Cond::Trylock(l) => match l {
            Lock::MmapWrite => "mmap_write_trylock(mm)".into(),
            Lock::HugetlbRead => "hugetlb_vma_trylock_read(vma)".into(),
            Lock::VmaRead => "vma_start_read(vma)".into(),
            _ => "mmap_read_trylock(mm)".into(),
        },
        Cond::Killable => "mmap_read_lock_killable(mm)".into(),
        Cond::Unknown(n) => match n % 4 {
            0 => "fault_signal_pending(ret, regs)".into(),
            1 => "user_mode(regs)".into(),
            2 => "vma->vm_pgoff > nr".into(),
            _ => "need_resched()".into(),
        },
        Cond::Not(c) => format!("!({})", cond(c, depth + 1)),
        Cond::And(a, b) => format!("({}) && ({})", cond(a, depth + 1), cond(b, depth + 1)),
        Cond::Or(a, b) => format!("({}) || ({})", cond(a, depth + 1), cond(b, depth + 1)),
        Cond::Unlikely(c) => format!("unlikely({})", cond(c, depth + 1)),
        Cond::Ternary(a, b, c) => format!(
            "({}) ? ({}) : ({})",
            cond(a, depth + 1),
            cond(b, depth + 1),
            cond(c, depth + 1)
        ),
    }
}

impl Program {
    /// The program as C text.
    pub fn to_c(&self) -> String {
        let nfuncs = self.funcs.len().clamp(1, 64);
        let mut p = Printer {
            out: String::new(),
            stmts: 0,
            nfuncs,
        };
        if self.guard_config {
            p.out.push_str("#ifdef CONFIG_MMU\n");
        }
        for (i, f) in self.funcs.iter().take(64).enumerate() {
            let name = fname(i);
            let st = if f.is_static { "static " } else { "" };
            let head = match f.sig {
                Sig::Fault => format!("{st}vm_fault_t {name}(struct vm_fault *vmf)"),
                Sig::ArchFault => format!(
                    "{st}void {name}(struct pt_regs *regs, unsigned long address, unsigned int flags)"
                ),
                Sig::Helper => {
                    format!("{st}int {name}(struct mm_struct *mm, struct vm_area_struct *vma)")
                }
                Sig::FaultFlags => {
                    format!("{st}vm_fault_t {name}(struct vm_fault *vmf, unsigned int flags)")
                }
            };
            p.out.push_str(&head);
            p.out.push_str("\n{\n");
            let mut locals = vec![
                "\tvm_fault_t ret = 0;",
                "\tstruct vm_area_struct *prev = NULL;",
                "\tstruct folio *folio = NULL;",
                "\tstruct file *file;",
                "\tunsigned long addr;",
                "\tint i, nr = 4;",
            ];
            match f.sig {
                Sig::Fault | Sig::FaultFlags => {
                    locals.push("\tstruct vm_area_struct *vma = vmf->vma;");
                    locals.push("\tstruct mm_struct *mm = vma->vm_mm;");
                    locals.push("\tunsigned long address = vmf->address;");
                    locals.push("\tstruct pt_regs *regs = NULL;");
                    if matches!(f.sig, Sig::Fault) {
                        locals.push("\tunsigned int flags = vmf->flags;");
                    }
                }
                Sig::ArchFault => {
                    locals.push("\tstruct vm_area_struct *vma;");
                    locals.push("\tstruct mm_struct *mm = current->mm;");
                    locals.push("\tstruct vm_fault *vmf = NULL;");
                }
                Sig::Helper => {
                    locals.push("\tunsigned long address = vma->vm_start;");
                    locals.push("\tunsigned int flags = 0;");
                    locals.push("\tstruct pt_regs *regs = NULL;");
                    locals.push("\tstruct vm_fault *vmf = NULL;");
                }
            }
            for l in locals {
                p.out.push_str(l);
                p.out.push('\n');
            }
            p.out.push('\n');
            p.block(&f.body, 0);
            p.out.push_str("}\n\n");
        }
        if self.guard_config {
            p.out.push_str("#endif\n");
        }
        if let Some((i, map_pages, field)) = self.ops {
            let name = fname(i as usize % nfuncs);
            let field = match field {
                OpsField::Fault => "fault",
                OpsField::PageMkwrite => "page_mkwrite",
                OpsField::PfnMkwrite => "pfn_mkwrite",
                OpsField::HugeFault => "huge_fault",
            };
            let _ = writeln!(
                p.out,
                "static const struct vm_operations_struct f_vm_ops = {{\n\t.{field}\t= {name},"
            );
            if map_pages {
                p.out.push_str("\t.map_pages\t= filemap_map_pages,\n");
            }
            p.out.push_str("};\n");
        }
        p.out
    }
}
