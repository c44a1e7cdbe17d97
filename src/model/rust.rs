//! The `[rust]` section of a lock model (`lints/models/rust-for-linux.toml`):
//! how Rust for Linux wrappers map onto C model entries. Read by the Rust
//! front end only; the format is documented at the top of that file.

use serde::Deserialize;
use std::collections::BTreeMap;

/// How the Rust front end lowers calls of the `kernel` crate's wrappers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RustModel {
    /// By method name.
    pub methods: BTreeMap<String, RustCall>,
    /// By path suffix (`VmaRef::from_raw`).
    pub functions: BTreeMap<String, RustCall>,
    pub drop_functions: Vec<String>,
    /// Calls that take a guard without releasing it (`mem::forget`).
    pub forget_functions: Vec<String>,
    pub option_unwrap: Vec<String>,
    /// Identifiers that make a Rust file worth parsing.
    pub identifiers: Vec<String>,
    pub anchors: Vec<String>,
    /// Wrapper types whose parameters come with a lock the caller holds
    /// (`&VmaNew`, write-locked in an `mmap` hook), by type name.
    pub param_locks: BTreeMap<String, ParamLock>,
}

/// A parameter type standing for a C object its caller has locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLock {
    /// The C struct the parameter is a pointer to (`vm_area_struct`).
    pub c_type: String,
    /// The annotation the function gets, with `{}` for the parameter's
    /// name (`requires(mmap_write({}->vm_mm))`).
    pub annotation: String,
}

/// An argument of the C entry a wrapper stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// The method's receiver.
    Receiver,
    /// The method's or function's argument of this index.
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustCall {
    /// The result is the same object as this argument.
    Identity(Arg),
    /// A call of the C entry `name` with these arguments; optionally the
    /// result is a lock guard.
    Call {
        name: String,
        args: Vec<Arg>,
        guard: Option<Guard>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// C entry called with the locked object when the guard is dropped.
    pub release: String,
    /// The locked object is the call's result (else the receiver).
    pub holds_result: bool,
    /// The call returns `Option<Guard>`.
    pub option: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRust {
    #[serde(default)]
    methods: BTreeMap<String, RawCall>,
    #[serde(default)]
    functions: BTreeMap<String, RawCall>,
    #[serde(default)]
    drop_functions: Vec<String>,
    #[serde(default)]
    forget_functions: Vec<String>,
    #[serde(default)]
    option_unwrap: Vec<String>,
    #[serde(default)]
    guard_types: Vec<String>,
    #[serde(default)]
    anchors: Vec<String>,
    #[serde(default)]
    param_locks: BTreeMap<String, RawParamLock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParamLock {
    c_type: String,
    annotation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    call: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    identity: Option<String>,
    guard: Option<RawGuard>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    release: String,
    holds: String,
    #[serde(default)]
    option: bool,
}

fn parse_arg(s: &str, method: bool) -> Result<Arg, String> {
    match s {
        "self" if method => Ok(Arg::Receiver),
        _ => s
            .parse()
            .map(Arg::Index)
            .map_err(|_| format!("`{s}` is not an argument (`self` or an index)")),
    }
}

fn parse_call(raw: RawCall, method: bool) -> Result<RustCall, String> {
    match (raw.call, raw.identity) {
        (Some(_), Some(_)) => Err("`call` and `identity` exclude each other".into()),
        (None, None) => Err("needs `call` or `identity`".into()),
        (None, Some(id)) => {
            if raw.guard.is_some() || !raw.args.is_empty() {
                return Err("`identity` takes no `args` or `guard`".into());
            }
            Ok(RustCall::Identity(parse_arg(&id, method)?))
        }
        (Some(name), None) => {
            let args = raw
                .args
                .iter()
                .map(|a| parse_arg(a, method))
                .collect::<Result<_, _>>()?;
            let guard = match raw.guard {
                None => None,
                Some(g) => Some(Guard {
                    release: g.release,
                    holds_result: match g.holds.as_str() {
                        "result" => true,
                        "self" if method => false,
                        h => return Err(format!("guard holds `{h}`: expected self or result")),
                    },
                    option: g.option,
                }),
            };
            Ok(RustCall::Call { name, args, guard })
        }
    }
}

impl RustModel {
    pub(super) fn extend(&mut self, raw: RawRust) -> Result<(), String> {
        for (kind, map, out, method) in [
            ("methods", raw.methods, &mut self.methods, true),
            ("functions", raw.functions, &mut self.functions, false),
        ] {
            for (name, call) in map {
                let c = parse_call(call, method).map_err(|e| format!("rust.{kind}.{name}: {e}"))?;
                out.insert(name, c);
            }
        }
        self.drop_functions.extend(raw.drop_functions);
        self.forget_functions.extend(raw.forget_functions);
        self.option_unwrap.extend(raw.option_unwrap);
        self.anchors.extend(raw.anchors);
        self.identifiers.extend(raw.guard_types);
        for (ty, l) in raw.param_locks {
            if !l.annotation.contains("{}") {
                return Err(format!(
                    "rust.param_locks.{ty}: `annotation` names the parameter as `{{}}`"
                ));
            }
            self.identifiers.push(ty.clone());
            self.param_locks.insert(
                ty,
                ParamLock {
                    c_type: l.c_type,
                    annotation: l.annotation,
                },
            );
        }
        let names: Vec<String> = self
            .methods
            .iter()
            .filter(|(_, c)| matches!(c, RustCall::Call { .. }))
            .map(|(n, _)| n.clone())
            .collect();
        self.identifiers.extend(names);
        self.identifiers.sort();
        self.identifiers.dedup();
        Ok(())
    }

    /// The entry of a path call, matched on the written path's last
    /// segments (`a::VmaRef::from_raw` matches `VmaRef::from_raw`).
    pub fn function(&self, path: &str) -> Option<&RustCall> {
        self.functions
            .iter()
            .find_map(|(k, c)| (path == k || path.ends_with(&format!("::{k}"))).then_some(c))
    }

    pub fn is_drop(&self, path: &str) -> bool {
        self.drop_functions.iter().any(|d| d == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LockModel;

    #[test]
    fn builtin_rust_section_maps_wrappers_onto_the_c_model() {
        let m = LockModel::builtin();
        let RustCall::Call { name, args, guard } = &m.rust.methods["lock_vma_under_rcu"] else {
            panic!("lock_vma_under_rcu is a call");
        };
        assert_eq!(name, "lock_vma_under_rcu");
        assert_eq!(args, &[Arg::Receiver, Arg::Index(0)]);
        let g = guard.as_ref().unwrap();
        assert!(g.holds_result && g.option && g.release == "vma_end_read");
        // Every call and release names an entry of the C model.
        for c in m.rust.methods.values().chain(m.rust.functions.values()) {
            if let RustCall::Call { name, guard, .. } = c {
                assert!(m.api(name).is_some(), "{name}");
                if let Some(g) = guard {
                    assert!(m.api(&g.release).is_some(), "{}", g.release);
                }
            }
        }
        assert_eq!(
            m.rust.function("kernel::mm::virt::VmaRef::from_raw"),
            Some(&RustCall::Identity(Arg::Index(0)))
        );
        assert_eq!(m.rust.function("from_raw"), None);
        assert!(m.identifiers().contains(&"VmaReadGuard".to_string()));
    }

    #[test]
    fn bad_rust_sections_are_rejected_with_context() {
        let bad = [
            (
                "[rust.methods.x]\ncall = \"a\"\nidentity = \"self\"\n",
                "exclude",
            ),
            ("[rust.functions.x]\nidentity = \"self\"\n", "`self`"),
            (
                "[rust.methods.x]\ncall = \"a\"\nguard = { release = \"b\", holds = \"it\" }\n",
                "holds",
            ),
            ("[rust]\nbogus = 1\n", "bogus"),
        ];
        for (text, needle) in bad {
            let err = LockModel::from_sources(&[("r.toml", text)]).unwrap_err();
            assert!(err.contains("r.toml") && err.contains(needle), "{err}");
        }
    }
}
