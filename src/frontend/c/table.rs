//! The kernel macro table (`kernel_macros.toml`, embedded).

use foldhash::{HashMap, HashMapExt};
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Raw {
    blank: Vec<String>,
    blank_call: Vec<String>,
    rename: Vec<Rename>,
    type_arg: Vec<TypeArg>,
    iterator: Vec<Iter>,
    generic_iterator: Generic,
    transparent: Vec<String>,
    assign: Vec<String>,
    noreturn: Vec<String>,
    syscall_define: Vec<String>,
    decl_macro: DeclMacro,
    guard: Vec<GuardSpec>,
}

/// A cleanup.h guard class: the calls that take and drop its lock.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GuardSpec {
    pub class: String,
    pub lock: String,
    pub unlock: String,
    /// `DEFINE_GUARD_COND`: held only when `lock` returned non-zero.
    #[serde(default)]
    pub cond: bool,
}

#[derive(Debug, Deserialize)]
struct DeclMacro {
    prefixes: Vec<String>,
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Rename {
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
struct TypeArg {
    name: String,
    arg: usize,
}

#[derive(Debug, Deserialize)]
struct Iter {
    name: String,
    cursor: i32,
    #[serde(default)]
    once: bool,
    #[serde(default)]
    prefix: bool,
    #[serde(default)]
    blank_args: Vec<usize>,
}

#[derive(Debug, Deserialize)]
struct Generic {
    prefixes: Vec<String>,
    infixes: Vec<String>,
    cursor: i32,
}

/// How an iterator macro is lowered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IterSpec {
    /// Index of the argument receiving each element, if any.
    pub cursor: Option<usize>,
    /// The body runs once (`scoped_guard`), not in a loop.
    pub once: bool,
    pub blank_args: Vec<usize>,
}

/// What the normaliser does with an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroKind {
    Blank,
    BlankCall,
    Rename(String),
    TypeArg(usize),
    SyscallDefine,
}

#[derive(Debug)]
pub struct Table {
    pub ident: HashMap<String, MacroKind>,
    iter_exact: HashMap<String, IterSpec>,
    iter_prefix: Vec<(String, IterSpec)>,
    generic_prefixes: Vec<String>,
    generic_infixes: Vec<String>,
    generic_cursor: Option<usize>,
    pub transparent: Vec<String>,
    pub assign: Vec<String>,
    pub noreturn: Vec<String>,
    decl_macro: DeclMacro,
    pub guards: HashMap<String, GuardSpec>,
}

fn cursor(c: i32) -> Option<usize> {
    usize::try_from(c).ok()
}

impl Table {
    fn load() -> Table {
        let raw: Raw = toml::from_str(include_str!("kernel_macros.toml"))
            .expect("embedded kernel_macros.toml is valid");
        let mut ident = HashMap::new();
        for n in raw.blank {
            ident.insert(n, MacroKind::Blank);
        }
        for n in raw.blank_call {
            ident.insert(n, MacroKind::BlankCall);
        }
        for r in raw.rename {
            ident.insert(r.from, MacroKind::Rename(r.to));
        }
        for t in raw.type_arg {
            ident.insert(t.name, MacroKind::TypeArg(t.arg));
        }
        for s in raw.syscall_define {
            for n in 0..=6 {
                ident.insert(format!("{s}{n}"), MacroKind::SyscallDefine);
            }
        }
        let mut iter_exact = HashMap::new();
        let mut iter_prefix = Vec::new();
        for i in raw.iterator {
            let spec = IterSpec {
                cursor: cursor(i.cursor),
                once: i.once,
                blank_args: i.blank_args,
            };
            if i.prefix {
                iter_prefix.push((i.name.clone(), spec.clone()));
            }
            iter_exact.insert(i.name, spec);
        }
        // Longest prefix first.
        iter_prefix.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Table {
            ident,
            iter_exact,
            iter_prefix,
            generic_prefixes: raw.generic_iterator.prefixes,
            generic_infixes: raw.generic_iterator.infixes,
            generic_cursor: cursor(raw.generic_iterator.cursor),
            guards: raw
                .guard
                .into_iter()
                .map(|g| (g.class.clone(), g))
                .collect(),
            transparent: raw.transparent,
            assign: raw.assign,
            noreturn: raw.noreturn,
            decl_macro: raw.decl_macro,
        }
    }

    /// The iterator spec for a macro name, if it names an iterator.
    pub fn iterator(&self, name: &str) -> Option<IterSpec> {
        if let Some(s) = self.iter_exact.get(name) {
            return Some(s.clone());
        }
        if let Some((_, s)) = self.iter_prefix.iter().find(|(p, _)| name.starts_with(p)) {
            return Some(s.clone());
        }
        let generic = self.generic_prefixes.iter().any(|p| name.starts_with(p))
            || self
                .generic_infixes
                .iter()
                .any(|i| name.contains(i.as_str()));
        generic.then(|| IterSpec {
            cursor: self.generic_cursor,
            once: false,
            blank_args: Vec::new(),
        })
    }

    /// Does `name(var, ...)` declare `var`?
    pub fn is_decl_macro(&self, name: &str) -> bool {
        self.decl_macro.names.iter().any(|n| n == name)
            || self
                .decl_macro
                .prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
    }

    pub fn is_transparent(&self, name: &str) -> bool {
        self.transparent.iter().any(|n| n == name)
    }
    pub fn is_assign(&self, name: &str) -> bool {
        self.assign.iter().any(|n| n == name)
    }
    pub fn is_noreturn(&self, name: &str) -> bool {
        self.noreturn.iter().any(|n| n == name)
    }
}

/// The embedded table, parsed once.
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(Table::load)
}
