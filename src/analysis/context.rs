//! Entry contexts: which locks a function can start under.

use super::program::Program;
use super::state::{LockKey, State, Status, VmaInfo};
use super::value::BitVal;
use super::{Contexts, FnAnalyzer, StepKind};
use crate::ir::Unit;
use crate::model::{EffectKind, LockKind, LockModel, When};

/// How a function with a `struct vm_fault *` parameter can be entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryContext {
    /// It can run under the per-VMA lock (the VMA-lock flag may be set).
    pub vma_lock: bool,
    /// It can run under mmap_lock (the flag may be clear).
    pub mmap_lock: bool,
    /// Returning VM_FAULT_RETRY obliges it to have released the fault lock
    /// (a registered fault callback, or a model function with that contract).
    pub entry_point: bool,
    /// Registered as a callback: called through pointers, so its context is
    /// not narrowed by its direct callers.
    pub callback: bool,
}

impl Default for EntryContext {
    fn default() -> Self {
        EntryContext {
            vma_lock: true,
            mmap_lock: true,
            entry_point: false,
            callback: false,
        }
    }
}

/// Contexts from callback registrations and from the model's contracts.
pub fn entry_contexts(program: &Program, units: &[Unit], model: &LockModel) -> Contexts {
    let mut out = Contexts::default();
    for (id, (_, f)) in program.funcs.iter().enumerate() {
        let Some(api) = model.api(&f.name) else {
            continue;
        };
        let releases_on_retry = api.effects.iter().any(|e| {
            e.kind == EffectKind::Release
                && matches!(e.term.kind, LockKind::Fault | LockKind::VmaRead)
                && matches!(&e.when, When::Bits(b) if b.contains(&model.fault.retry_bit))
        });
        if releases_on_retry {
            out.insert(
                id,
                EntryContext {
                    entry_point: true,
                    ..EntryContext::default()
                },
            );
        }
    }
    // A callback registered anywhere with a per-VMA-capable field can run
    // under the per-VMA lock; one only registered in restricted fields of
    // initializers without the enabling field runs under mmap_lock only.
    let mut registered: Vec<(usize, bool, bool)> = Vec::new();
    for (file, reg) in units
        .iter()
        .enumerate()
        .flat_map(|(i, u)| u.registrations.iter().map(move |r| (i, r)))
    {
        for rule in model
            .callbacks
            .iter()
            .filter(|r| r.struct_type == reg.struct_type)
        {
            let vma_ok = match &rule.vma_lock_only_with {
                _ if rule.mmap_lock_only => false,
                None => true,
                Some(f) => reg.fields.iter().any(|(field, _)| field == f),
            };
            for (field, func) in &reg.fields {
                if rule.fields.contains(field) {
                    for &id in program.resolve(file, func) {
                        registered.push((id, vma_ok, rule.retry_contract));
                    }
                }
            }
        }
    }
    registered.sort();
    for (func, vma_ok, retry_contract) in registered {
        let e = out.entry(func).or_insert(EntryContext {
            vma_lock: false,
            mmap_lock: true,
            entry_point: false,
            callback: true,
        });
        e.callback = true;
        e.vma_lock |= vma_ok;
        e.entry_point |= retry_contract;
    }
    out
}

impl FnAnalyzer<'_> {
    /// The states a function starts in. A `struct vm_fault *` parameter
    /// gives one state per possible fault lock; `struct vm_area_struct *`
    /// parameters are VMAs protected by an unknown lock of the caller.
    pub fn entry_states(&mut self, for_summary: bool) -> Vec<State> {
        let fm = self.model.fault.clone();
        let mut base = State::default();
        for p in &self.func.params {
            if p.ty.ptr == 1 && p.ty.base == fm.vma_struct {
                let o = self.objs.root(&p.name);
                base.vmas.insert(
                    o,
                    VmaInfo {
                        prot: None,
                        epoch: None,
                        at: None,
                        reported: false,
                    },
                );
            }
        }
        let Some(vmf_param) = self
            .func
            .params
            .iter()
            .find(|p| p.ty.ptr == 1 && p.ty.base == fm.fault_struct)
        else {
            let kind = StepKind::Entry {
                lock: "",
                vma_lock: None,
            };
            self.step(&mut base, self.func.name_span, kind);
            return self.annotate_entries(vec![base]);
        };
        let vmf = self.objs.root(&vmf_param.name);
        let flags = self.objs.field(vmf, &fm.flags_field);
        let vma = self.objs.field(vmf, &fm.vma_field);
        let mm = self.objs.field(vma, &fm.mm_field);
        let mut flags_allowed = Vec::new();
        if self.ctx.vma_lock || for_summary {
            flags_allowed.push(true);
        }
        if self.ctx.mmap_lock || for_summary {
            flags_allowed.push(false);
        }
        let states = flags_allowed
            .into_iter()
            .map(|flag| {
                let mut st = base.clone();
                st.fault = Some(vmf);
                let mut bits = BitVal::default();
                bits.known.insert(fm.vma_lock_flag.clone(), flag);
                if flag {
                    for x in &fm.vma_lock_excludes {
                        bits.known.insert(x.clone(), false);
                    }
                }
                st.bits.insert(flags, bits);
                let (prot, held, not_held) = if flag {
                    (LockKey::Vma(vma), LockKey::Vma(vma), LockKey::Mmap(mm))
                } else {
                    (LockKey::Mmap(mm), LockKey::Mmap(mm), LockKey::Vma(vma))
                };
                st.locks.insert(
                    held,
                    Status::Held {
                        write: false,
                        since: None,
                    },
                );
                st.locks.insert(not_held, Status::NotHeld);
                st.vmas.insert(
                    vma,
                    VmaInfo {
                        prot: Some(prot),
                        epoch: Some(None),
                        at: None,
                        reported: false,
                    },
                );
                let kind = StepKind::Entry {
                    lock: held.describe(),
                    vma_lock: Some(flag),
                };
                self.step(&mut st, self.func.name_span, kind);
                st
            })
            .collect();
        self.annotate_entries(states)
    }
}
