//! The lock model: which calls acquire, release or assert which lock, which
//! calls yield VMAs, and how fault entry points are registered. Loaded from
//! TOML data (`lints/models/*.toml`, embedded in the binary); the format is
//! documented at the top of `lints/models/linux-mm.toml`, that of the
//! `[vma_write]` section (the VMA write lock) at the top of
//! `lints/models/linux-mm-vma-write.toml`, that of `[owned]` (what a VMA
//! owns) at the top of `lints/models/linux-mm-owned.toml`.

pub mod annotation;
mod defines;
mod owned;
mod rust;
mod term;
mod version;
mod vma_write;

pub use defines::Defines;
pub use owned::OwnedModel;
pub use rust::{Arg, Guard, ParamLock, RustCall, RustModel};
pub use term::{LockKind, PathExpr, Term};
pub use version::{KernelChoice, KernelVersion};
pub use vma_write::VmaWriteModel;

use foldhash::{HashMap, HashMapExt};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The embedded model files, in load order (`(name, text)` pairs).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "linux-mm.toml",
        include_str!("../../lints/models/linux-mm.toml"),
    ),
    (
        "linux-mm-vma-write.toml",
        include_str!("../../lints/models/linux-mm-vma-write.toml"),
    ),
    (
        "linux-mm-owned.toml",
        include_str!("../../lints/models/linux-mm-owned.toml"),
    ),
    (
        "rust-for-linux.toml",
        include_str!("../../lints/models/rust-for-linux.toml"),
    ),
];

#[derive(Debug, Clone)]
pub struct LockModel {
    /// The kernel release the model was built for: entries whose
    /// `since`/`until` range excludes it were left out.
    pub version: KernelVersion,
    pub defines: Defines,
    pub fault: FaultModel,
    pub callbacks: Vec<CallbackRule>,
    pub apis: HashMap<String, Api>,
    /// Constants that stand for several bits (`FAULT_FLAG_DEFAULT`). Any
    /// other constant is taken as one bit of its own.
    pub composites: HashMap<String, Vec<String>>,
    /// Functions that never return (the path ends at the call).
    pub noreturn: Vec<String>,
    /// `BUG_ON(cond)`-like calls: the path goes on only if `cond` is false.
    pub bug_on: Vec<String>,
    /// Substrings the file prefilter looks for first (see
    /// `check::Prefilter`); identifiers that contain none are added.
    pub prefilter_anchors: Vec<String>,
    /// How Rust wrappers map onto the entries above (`[rust]`).
    pub rust: RustModel,
    /// The VMA write lock (`[vma_write]`, linux-mm-vma-write.toml).
    pub vma_write: VmaWriteModel,
    /// What a VMA owns (`[owned]`, linux-mm-owned.toml).
    pub owned: OwnedModel,
}

/// Names that make up the fault lock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultModel {
    #[serde(rename = "struct")]
    pub fault_struct: String,
    pub flags_field: String,
    pub vma_field: String,
    pub vma_lock_flag: String,
    pub retry_bit: String,
    pub vma_struct: String,
    pub mm_struct: String,
    pub mm_field: String,
    /// Fault flags never set together with the VMA-lock flag
    /// (`sanitize_fault_flags()`: no FAULT_FLAG_RETRY_NOWAIT under the
    /// per-VMA lock).
    #[serde(default)]
    pub vma_lock_excludes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackRule {
    #[serde(rename = "struct")]
    pub struct_type: String,
    pub fields: Vec<String>,
    /// The callback can run under the per-VMA lock only when the same
    /// initializer sets this field.
    #[serde(default)]
    pub vma_lock_only_with: Option<String>,
    /// The callback never runs under the per-VMA lock (its caller bails
    /// out to an mmap_lock retry first).
    #[serde(default)]
    pub mmap_lock_only: bool,
    /// A VM_FAULT_RETRY the callback returns reaches the fault handler, so
    /// the callback must have released the fault lock.
    #[serde(default)]
    pub retry_contract: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub params: Vec<String>,
    pub effects: Vec<Effect>,
    /// The result can only carry `results` when parameter `param` has
    /// `bit` (e.g. no VM_FAULT_RETRY without FAULT_FLAG_ALLOW_RETRY).
    pub results_need: Option<ResultsNeed>,
    /// When the result has any bit an effect's condition tests, it has none
    /// of these (a VM_FAULT_RETRY result carries no VM_FAULT_ERROR bit).
    pub exclusive_with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsNeed {
    pub param: usize,
    pub cond: ParamCond,
    pub results: Vec<String>,
}

/// What a parameter's value must be for a call's result to carry some bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamCond {
    /// The flags value has this bit (`bit = B` in model data).
    HasBit(String),
    /// The flags value lacks this bit (inferred summaries).
    LacksBit(String),
    /// The value is non-zero (`true`) or zero (`false`): a bool parameter
    /// (`truthy = true` in model data).
    Truthy(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub kind: EffectKind,
    pub term: Term,
    pub when: When,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectKind {
    Acquire,
    Release,
    MayRelease,
    Assert,
    Downgrade,
    ReturnsVma,
    /// The callee dereferences the VMA named by the term's path.
    Uses,
    /// The callee may do anything with the lock: its status becomes unknown.
    Forget,
}

/// A condition on the call's result under which an effect happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Always,
    NonZero,
    Zero,
    NonNull,
    Null,
    /// The result has any of these bits.
    Bits(Vec<String>),
    /// The result has none of these bits.
    NoBits(Vec<String>),
    /// Not a condition on the result: the callee wrote a zero (`nonzero =
    /// false`) or non-zero value through out-parameter `param`
    /// (`sets:*locked=0` in model data).
    Sets {
        param: usize,
        nonzero: bool,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    #[serde(default)]
    defines: BTreeMap<String, String>,
    fault: Option<FaultModel>,
    #[serde(default)]
    callbacks: Vec<CallbackRule>,
    /// `[api.NAME]` (one entry) or `[[api.NAME]]` (one per kernel range).
    #[serde(default)]
    api: BTreeMap<String, toml::Value>,
    #[serde(default)]
    composites: BTreeMap<String, String>,
    #[serde(default)]
    noreturn: Vec<String>,
    #[serde(default)]
    bug_on: Vec<String>,
    #[serde(default)]
    prefilter_anchors: Vec<String>,
    rust: Option<rust::RawRust>,
    vma_write: Option<vma_write::RawVmaWrite>,
    owned: Option<OwnedModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    /// First release the entry holds for.
    since: Option<String>,
    /// Last release the entry holds for (inclusive).
    until: Option<String>,
    params: Vec<String>,
    #[serde(default)]
    effects: Vec<RawEffect>,
    results_need: Option<RawNeed>,
    #[serde(default)]
    exclusive_with: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeed {
    param: String,
    bit: Option<String>,
    truthy: Option<bool>,
    results: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEffect {
    acquire: Option<String>,
    release: Option<String>,
    may_release: Option<String>,
    assert: Option<String>,
    downgrade: Option<String>,
    returns_vma: Option<String>,
    uses: Option<String>,
    forget: Option<String>,
    when: Option<String>,
}

impl LockModel {
    /// The built-in model. The embedded data is tested, so a failure here is
    /// a build defect.
    pub fn builtin() -> LockModel {
        Self::builtin_for(KernelVersion::NEWEST)
    }

    /// The built-in model for one kernel release.
    pub fn builtin_for(version: KernelVersion) -> LockModel {
        Self::from_sources_for(BUILTIN, version).expect("built-in lock model is valid")
    }

    /// [`LockModel::from_sources_for`] the newest known release.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<LockModel, String> {
        Self::from_sources_for(sources, KernelVersion::NEWEST)
    }

    /// Build a model from `(name, toml text)` pairs for kernel `version`;
    /// later sources extend and override earlier ones (an `api` entry
    /// replaces one of the same name). Entries whose `since`/`until` range
    /// excludes `version` are left out.
    pub fn from_sources_for(
        sources: &[(&str, &str)],
        version: KernelVersion,
    ) -> Result<LockModel, String> {
        let mut model = LockModel {
            version,
            defines: Defines::default(),
            fault: default_fault(),
            callbacks: Vec::new(),
            apis: HashMap::new(),
            composites: HashMap::new(),
            noreturn: Vec::new(),
            bug_on: Vec::new(),
            prefilter_anchors: Vec::new(),
            rust: RustModel::default(),
            vma_write: VmaWriteModel::default(),
            owned: OwnedModel::default(),
        };
        for (name, text) in sources {
            model.extend(name, text)?;
        }
        Ok(model)
    }

    fn extend(&mut self, name: &str, text: &str) -> Result<(), String> {
        let raw: RawModel = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        self.defines.defined.extend(raw.defines);
        if let Some(f) = raw.fault {
            self.fault = f;
        }
        self.callbacks.extend(raw.callbacks);
        if let Some(w) = raw.vma_write {
            self.vma_write
                .extend(w, self.version)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        if let Some(o) = raw.owned {
            self.owned.extend(o);
        }
        self.noreturn.extend(raw.noreturn);
        self.bug_on.extend(raw.bug_on);
        self.prefilter_anchors.extend(raw.prefilter_anchors);
        if let Some(r) = raw.rust {
            self.rust.extend(r).map_err(|e| format!("{name}: {e}"))?;
            self.prefilter_anchors
                .extend(self.rust.anchors.iter().cloned());
            self.prefilter_anchors.sort();
            self.prefilter_anchors.dedup();
        }
        for (c, bits) in raw.composites {
            self.composites
                .insert(c, bits.split('|').map(|b| b.trim().to_string()).collect());
        }
        for (fname, value) in raw.api {
            let Some(api) = self
                .pick_variant(&value)
                .map_err(|msg| format!("{name}: api.{fname}: {msg}"))?
            else {
                continue;
            };
            let mut effects = Vec::new();
            for e in api.effects {
                effects.push(
                    parse_effect(&e, &api.params)
                        .map_err(|msg| format!("{name}: api.{fname}: {msg}"))?,
                );
            }
            let results_need = match api.results_need {
                None => None,
                Some(n) => Some(ResultsNeed {
                    param: api
                        .params
                        .iter()
                        .position(|p| *p == n.param)
                        .ok_or_else(|| {
                            format!(
                                "{name}: api.{fname}: results_need: `{}` is not a parameter",
                                n.param
                            )
                        })?,
                    cond: match (n.bit, n.truthy) {
                        (Some(b), None) => ParamCond::HasBit(b),
                        (None, Some(t)) => ParamCond::Truthy(t),
                        _ => {
                            return Err(format!(
                                "{name}: api.{fname}: results_need needs exactly one of `bit`, `truthy`"
                            ))
                        }
                    },
                    results: n.results,
                }),
            };
            self.apis.insert(
                fname,
                Api {
                    params: api.params,
                    effects,
                    results_need,
                    exclusive_with: api.exclusive_with,
                },
            );
        }
        Ok(())
    }

    /// The variant of an `api` entry that holds for this model's version:
    /// a table, or an array of tables with `since`/`until` ranges (the
    /// last one that holds wins); `None` when none holds.
    fn pick_variant(&self, value: &toml::Value) -> Result<Option<RawApi>, String> {
        let variants: Vec<toml::Value> = match value {
            toml::Value::Array(a) => a.clone(),
            v => vec![v.clone()],
        };
        let mut picked = None;
        for v in variants {
            let api: RawApi = v
                .try_into()
                .map_err(|e: toml::de::Error| e.message().trim_end().to_string())?;
            let bound = |b: &Option<String>| b.as_deref().map(KernelVersion::parse).transpose();
            let (since, until) = (bound(&api.since)?, bound(&api.until)?);
            if since.map_or(true, |s| s <= self.version)
                && until.map_or(true, |u| self.version <= u)
            {
                picked = Some(api);
            }
        }
        Ok(picked)
    }

    /// A constant's bits: its members for a composite, else itself.
    pub fn expand_bits(&self, names: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for n in names {
            match self.composites.get(n) {
                Some(members) => out.extend(members.iter().cloned()),
                None => out.push(n.clone()),
            }
        }
        out
    }

    pub fn api(&self, name: &str) -> Option<&Api> {
        self.apis.get(name)
    }

    /// Every identifier whose presence makes a file worth parsing: the
    /// functions with a lock effect, the fault struct and its flag.
    pub fn identifiers(&self) -> Vec<String> {
        // An entry whose locks are all named through a member argument
        // (`down_read(&mm->mmap_sem)`) matters only where the member does.
        let member = |a: &Api| {
            let fields: Vec<&String> = a
                .effects
                .iter()
                .filter(|e| e.kind != EffectKind::Uses)
                .filter_map(|e| match e.term.args.first() {
                    Some(PathExpr::Member { field, .. }) => Some(field),
                    _ => None,
                })
                .collect();
            let all = a
                .effects
                .iter()
                .filter(|e| e.kind != EffectKind::Uses)
                .count();
            (!fields.is_empty() && fields.len() == all).then(|| fields[0].clone())
        };
        let mut ids: Vec<String> = self
            .apis
            .iter()
            .filter(|(_, a)| a.effects.iter().any(|e| e.kind != EffectKind::Uses))
            .map(|(n, a)| member(a).unwrap_or_else(|| n.clone()))
            .collect();
        ids.push(self.fault.fault_struct.clone());
        ids.push(self.fault.vma_lock_flag.clone());
        ids.extend(self.rust.identifiers.iter().cloned());
        // Lock annotations (`/* faultlock: ... */`, `#[faultlock::...]`).
        ids.push("faultlock".to_string());
        ids.sort();
        ids.dedup();
        ids
    }
}

fn default_fault() -> FaultModel {
    FaultModel {
        fault_struct: "vm_fault".into(),
        flags_field: "flags".into(),
        vma_field: "vma".into(),
        vma_lock_flag: "FAULT_FLAG_VMA_LOCK".into(),
        retry_bit: "VM_FAULT_RETRY".into(),
        vma_struct: "vm_area_struct".into(),
        mm_struct: "mm_struct".into(),
        mm_field: "vm_mm".into(),
        vma_lock_excludes: Vec::new(),
    }
}

fn parse_effect(e: &RawEffect, params: &[String]) -> Result<Effect, String> {
    let candidates = [
        (EffectKind::Acquire, &e.acquire),
        (EffectKind::Release, &e.release),
        (EffectKind::MayRelease, &e.may_release),
        (EffectKind::Assert, &e.assert),
        (EffectKind::Downgrade, &e.downgrade),
        (EffectKind::ReturnsVma, &e.returns_vma),
        (EffectKind::Uses, &e.uses),
        (EffectKind::Forget, &e.forget),
    ];
    let mut set = candidates
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)));
    let (kind, text) = set
        .next()
        .ok_or("an effect needs one of acquire, release, may_release, assert, downgrade, returns_vma, uses, forget")?;
    if set.next().is_some() {
        return Err("an effect has exactly one kind; use several effects".into());
    }
    let term = if kind == EffectKind::Uses {
        Term {
            kind: LockKind::Use,
            args: vec![term::parse_path(text, params)?],
        }
    } else {
        term::parse_term(text, params)?
    };
    let when = match e.when.as_deref() {
        Some(w) if w.trim().starts_with("sets:") => parse_sets(w, params)?,
        w => parse_when(w.unwrap_or("always"))?,
    };
    Ok(Effect { kind, term, when })
}

/// `sets:*P=V`: the callee wrote V (`0`, `false`, `null`; `1`, `true`,
/// `nonzero`, `nonnull`) through the out-parameter P.
fn parse_sets(text: &str, params: &[String]) -> Result<When, String> {
    let bad = || {
        format!("`{text}`: expected `sets:*PARAM=VALUE`, like `sets:*locked=0` or `sets:*unlocked=true`")
    };
    let rest = text.trim().strip_prefix("sets:").ok_or_else(bad)?;
    let (place, value) = rest.split_once('=').ok_or_else(bad)?;
    let name = place.trim().strip_prefix('*').ok_or_else(bad)?.trim();
    let param = params.iter().position(|p| p == name).ok_or_else(|| {
        format!(
            "`{text}`: `{name}` is not a parameter (params: {})",
            params.join(", ")
        )
    })?;
    let nonzero = match value.trim() {
        "0" | "false" | "null" | "zero" => false,
        "1" | "true" | "nonzero" | "nonnull" => true,
        _ => return Err(bad()),
    };
    Ok(When::Sets { param, nonzero })
}

/// A condition on a call's result, as written in model data and in
/// annotations (`nonnull`, `zero`, `bits:A|B`, ...).
pub fn parse_when(text: &str) -> Result<When, String> {
    let bits = |s: &str| -> Result<Vec<String>, String> {
        let names: Vec<String> = s.split('|').map(|b| b.trim().to_string()).collect();
        if names
            .iter()
            .any(|b| b.is_empty() || !b.chars().all(|c| c.is_alphanumeric() || c == '_'))
        {
            return Err(format!(
                "`{text}`: expected constant names separated by `|`, like `bits:VM_FAULT_RETRY|VM_FAULT_COMPLETED`"
            ));
        }
        Ok(names)
    };
    Ok(match text.trim() {
        "always" => When::Always,
        "nonzero" | "true" => When::NonZero,
        "zero" | "false" => When::Zero,
        "nonnull" => When::NonNull,
        "null" => When::Null,
        w => {
            if let Some(b) = w.strip_prefix("bits:") {
                When::Bits(bits(b)?)
            } else if let Some(b) = w.strip_prefix("nobits:") {
                When::NoBits(bits(b)?)
            } else {
                return Err(format!(
                    "unknown condition `{w}`; expected nonnull, null, true, nonzero, false, zero, bits:A|B or nobits:A|B"
                ));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_model_loads_and_covers_the_contract() {
        let m = LockModel::builtin();
        for name in [
            "mmap_read_lock",
            "mmap_read_lock_killable",
            "mmap_read_trylock",
            "mmap_write_lock",
            "mmap_write_lock_killable",
            "mmap_write_trylock",
            "mmap_read_unlock",
            "mmap_write_unlock",
            "mmap_write_downgrade",
            "mmap_assert_locked",
            "mmap_assert_write_locked",
            "lock_vma_under_rcu",
            "vma_start_read",
            "vma_end_read",
            "vma_assert_locked",
            "release_fault_lock",
            "assert_fault_locked",
            "handle_mm_fault",
            "__handle_mm_fault",
            "handle_userfault",
            "filemap_fault",
            "folio_lock_or_retry",
            "__folio_lock_or_retry",
            "vmf_anon_prepare",
            "__vmf_anon_prepare",
            "lock_mm_and_find_vma",
            "find_vma",
            "vma_lookup",
            "find_vma_prev",
            "vma_next",
            "for_each_vma",
            "hugetlb_vma_lock_read",
            "hugetlb_vma_unlock_read",
        ] {
            assert!(m.api(name).is_some(), "{name} missing from the model");
        }
        assert!(m.defines.is_defined("CONFIG_PER_VMA_LOCK") == Some(true));
        let hmf = m.api("handle_mm_fault").unwrap();
        assert_eq!(
            hmf.effects[1].when,
            When::Bits(vec!["VM_FAULT_RETRY".into(), "VM_FAULT_COMPLETED".into()])
        );
        assert_eq!(hmf.effects[1].term.kind, LockKind::Selected);
    }

    #[test]
    fn bad_models_are_rejected_with_context() {
        let err = LockModel::from_sources(&[(
            "x.toml",
            "[api.f]\nparams = [\"a\"]\neffects = [{ acquire = \"mmap_read(b)\" }]\n",
        )])
        .unwrap_err();
        assert!(err.contains("api.f") && err.contains("`b`"), "{err}");
        let err = LockModel::from_sources(&[("x.toml", "[api.f]\nparams = []\nbogus = 1\n")])
            .unwrap_err();
        assert!(err.contains("bogus"), "{err}");
        let sets = |when: &str| {
            LockModel::from_sources(&[(
                "x.toml",
                &format!("[api.f]\nparams = [\"mm\", \"locked\"]\neffects = [{{ release = \"mmap_read(mm)\", when = \"{when}\" }}]\n"),
            )])
        };
        let m = sets("sets:*locked=0").unwrap();
        assert_eq!(
            m.api("f").unwrap().effects[0].when,
            When::Sets {
                param: 1,
                nonzero: false
            }
        );
        assert!(sets("sets:*nope=0")
            .unwrap_err()
            .contains("`nope` is not a parameter"));
        assert!(sets("sets:locked=0")
            .unwrap_err()
            .contains("sets:*PARAM=VALUE"));
        assert!(sets("sets:*locked=maybe")
            .unwrap_err()
            .contains("sets:*PARAM=VALUE"));
    }
}
