//! The files the server checks together: the workspace folders' C and Rust
//! files as read at start (prefiltered), overridden by the text of open
//! documents. Each file's IR is cached; a change re-lowers only the changed
//! files, then the analysis and lints run over all units, so findings keep
//! their whole-workspace interprocedural context.

use super::convert::{self, Fix};
use super::incremental;
use super::text::{Encoding, LineIndex};
use crate::check::{self, CheckOptions, Lowered, Prefilter, Report};
use crate::driver::check::read_sources;
use crate::frontend::Defines;
use crate::model::LockModel;
use crate::source::{SourceFile, Span};
use lsp_types::{Diagnostic, PublishDiagnosticsParams, Uri};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Workspace {
    model: LockModel,
    opts: CheckOptions,
    defines: Defines,
    prefilter: Prefilter,
    encoding: Encoding,
    files: Vec<SourceFile>,
    uris: Vec<Uri>,
    lowered: Lowered,
    /// The text each file's unit in `lowered` was lowered from (when it
    /// was parsed and lowered without failure): an edit of it is
    /// re-lowered function by function (see [`super::incremental`]).
    lowered_from: Vec<Option<Arc<str>>>,
    /// Each lowered function's position-free IR (the analysis cache's
    /// key) as a token of [`Self::interned`], indexed like the units;
    /// computed when a function is lowered.
    ir: Vec<Vec<Arc<str>>>,
    /// Tokens of the position-free IR texts of the lowered functions, by
    /// text: the analysis keys hold a short token instead of a function's
    /// whole IR, equal exactly when the texts are (see [`intern`]).
    interned: foldhash::HashMap<Arc<str>, Arc<str>>,
    /// The next token's number.
    next_token: u64,
    /// Edits re-lowered one function at a time (for tests and benches).
    quick_relowers: AtomicUsize,
    by_path: HashMap<String, usize>,
    /// Files whose text changed since they were last lowered.
    dirty: BTreeSet<usize>,
    /// Files read from a workspace folder: closing them restores the text
    /// on disk (and its diagnostics) instead of forgetting them.
    on_disk: Vec<bool>,
    /// Open documents and their versions.
    open: HashMap<usize, i32>,
    /// The diagnostics last published per file (only non-empty ones).
    published: BTreeMap<usize, Vec<Diagnostic>>,
    /// The version of each open document last published: every checked
    /// version of an open document is published, clean ones included, so
    /// the client knows it was checked.
    published_versions: HashMap<usize, i32>,
    /// The analysis results of the last check, per function, reused by the
    /// next one where a function's inputs did not change.
    analysis_cache: std::sync::Mutex<crate::analysis::FnCache>,
}

/// The faultlock path of a document: its file-system path for `file:`
/// URIs, the URI itself otherwise (e.g. `untitled:`).
pub fn uri_to_path(uri: &Uri) -> String {
    url::Url::parse(uri.as_str())
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
        .map_or_else(
            || uri.as_str().to_string(),
            |p| p.to_string_lossy().into_owned(),
        )
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    Uri::from_str(url.as_str()).ok()
}

impl Workspace {
    pub fn new(model: LockModel, opts: CheckOptions, encoding: Encoding) -> Self {
        Workspace {
            defines: check::effective_defines(&model, &opts),
            prefilter: Prefilter::new(&model),
            model,
            opts,
            encoding,
            files: Vec::new(),
            uris: Vec::new(),
            lowered: Lowered::default(),
            lowered_from: Vec::new(),
            ir: Vec::new(),
            interned: foldhash::HashMap::default(),
            next_token: 0,
            quick_relowers: AtomicUsize::new(0),
            by_path: HashMap::new(),
            dirty: BTreeSet::new(),
            on_disk: Vec::new(),
            open: HashMap::new(),
            published: BTreeMap::new(),
            published_versions: HashMap::new(),
            analysis_cache: Default::default(),
        }
    }

    /// Read the C and Rust files under `roots` (respecting ignore files
    /// unless the options say not to;
    /// only those the prefilter keeps). Files already open keep their
    /// in-memory text. Returns the read errors.
    pub fn index(&mut self, roots: &[PathBuf]) -> Vec<String> {
        if roots.is_empty() {
            return Vec::new();
        }
        let (files, errors) = read_sources(roots, !self.opts.no_ignore, Some(&self.model));
        for f in files.into_iter().filter(|f| !f.text.is_empty()) {
            let Some(uri) = path_to_uri(Path::new(&*f.path)) else {
                continue;
            };
            let i = self.slot(&f.path, uri);
            self.on_disk[i] = true;
            if !self.open.contains_key(&i) {
                self.files[i] = f;
                self.dirty.insert(i);
            }
        }
        errors
    }

    /// The index of `path`, adding an empty file when it is new.
    fn slot(&mut self, path: &str, uri: Uri) -> usize {
        if let Some(&i) = self.by_path.get(path) {
            return i;
        }
        let i = self.files.len();
        self.files.push(SourceFile::new(path, ""));
        self.uris.push(uri);
        self.lowered.set(i, None);
        self.lowered_from.push(None);
        self.ir.push(Vec::new());
        self.on_disk.push(false);
        self.by_path.insert(path.to_string(), i);
        i
    }

    /// A document was opened or changed: its text overrides the disk.
    pub fn set_text(&mut self, uri: Uri, text: Arc<str>, version: i32) {
        let path = uri_to_path(&uri);
        let i = self.slot(&path, uri.clone());
        // Diagnostics go to the URI as the client spells it.
        self.uris[i] = uri;
        self.files[i] = SourceFile::new(path.as_str(), text);
        self.open.insert(i, version);
        self.dirty.insert(i);
    }

    /// A document was closed: a workspace file goes back to its text on
    /// disk, any other file is forgotten (and its diagnostics cleared).
    pub fn close(&mut self, uri: &Uri) {
        let path = uri_to_path(uri);
        let Some(&i) = self.by_path.get(&path) else {
            return;
        };
        self.open.remove(&i);
        self.published_versions.remove(&i);
        let disk = self.on_disk[i]
            .then(|| std::fs::read(&path).ok())
            .flatten()
            .filter(|b| self.prefilter.is_match(b));
        self.files[i] = match disk {
            Some(bytes) => SourceFile::from_bytes(path.as_str(), &bytes),
            None => SourceFile::new(path.as_str(), ""),
        };
        self.dirty.insert(i);
    }

    /// How many edits were re-lowered one function at a time so far (see
    /// [`super::incremental`]).
    pub fn quick_relowers(&self) -> usize {
        self.quick_relowers.load(Ordering::Relaxed)
    }

    /// How many final-pass results the last check kept without making
    /// their keys (see `analysis::FnCache::skipped`).
    pub fn analysis_skips(&self) -> usize {
        self.analysis_cache.lock().map_or(0, |c| c.skipped())
    }

    /// How many distinct IR texts are interned (for tests: at most one
    /// per lowered function).
    pub fn interned_texts(&self) -> usize {
        self.interned.len()
    }

    /// Whether some file changed since it was last lowered.
    pub fn needs_relower(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Whether any document is open.
    pub fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Re-lower the files that changed (in parallel): an edit inside one
    /// function body re-lowers that function only.
    pub fn relower(&mut self) {
        use rayon::prelude::*;
        if self.dirty.is_empty() {
            return;
        }
        let dirty: Vec<usize> = std::mem::take(&mut self.dirty).into_iter().collect();
        let mut old: Vec<_> = dirty
            .iter()
            .map(|&i| {
                let text = self.lowered_from[i].take();
                let ir = std::mem::take(&mut self.ir[i]);
                (text, std::mem::take(&mut self.lowered.units[i]), ir)
            })
            .collect();
        let results: Vec<_> = dirty
            .par_iter()
            .zip(&mut old)
            .map(|(&i, (text, unit, ir))| {
                let file = &self.files[i];
                let quick = text
                    .as_deref()
                    .filter(|_| self.prefilter.is_match(file.text.as_bytes()))
                    .and_then(|t| incremental::relower(t, unit, file, &self.defines));
                match quick {
                    Some((u, changed)) => {
                        let mut ir = std::mem::take(ir);
                        if ir.len() != u.functions.len() {
                            ir = u.functions.iter().map(crate::analysis::ir_text).collect();
                        } else if let Some(k) = changed {
                            ir[k] = crate::analysis::ir_text(&u.functions[k]);
                            self.quick_relowers.fetch_add(1, Ordering::Relaxed);
                        }
                        (Some(Ok(u)), ir)
                    }
                    None => {
                        let r = check::lower_one(file, &self.defines, Some(&self.prefilter));
                        let ir = match &r {
                            Some(Ok(u)) => {
                                u.functions.iter().map(crate::analysis::ir_text).collect()
                            }
                            _ => Vec::new(),
                        };
                        (r, ir)
                    }
                }
            })
            .collect();
        for (i, (r, ir)) in dirty.into_iter().zip(results) {
            self.lowered_from[i] = matches!(r, Some(Ok(_))).then(|| self.files[i].text.clone());
            self.lowered.set(i, r);
            self.ir[i] = ir
                .into_iter()
                .map(|t| intern(&mut self.interned, &mut self.next_token, t))
                .collect();
        }
        // Forget the texts no function has any more.
        let live: foldhash::HashSet<&Arc<str>> = self.ir.iter().flatten().collect();
        self.interned.retain(|_, token| live.contains(token));
    }

    /// Analyse and lint every file with the cached units.
    pub fn check(&self) -> Report {
        // A panic during a check (caught by the worker) poisons the lock;
        // start from an empty cache then.
        let mut cache = self
            .analysis_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.analysis_cache.is_poisoned() {
            cache.clear();
            self.analysis_cache.clear_poison();
        }
        check::check_lowered_cached(
            &self.files,
            &self.lowered,
            &self.model,
            &self.opts,
            &mut cache,
            &self.ir,
        )
    }

    /// The documents whose diagnostics differ from those last published
    /// (cleared ones included) or that are open with a version not yet
    /// published, and the fixes of every document with
    /// diagnostics, by URI.
    pub fn diff(
        &mut self,
        report: &Report,
    ) -> (Vec<PublishDiagnosticsParams>, HashMap<String, DocFixes>) {
        // Line indexes of the files diagnostics point into, built once.
        let mut needed: BTreeSet<usize> = BTreeSet::new();
        for d in &report.diagnostics {
            needed.extend(self.by_path.get(&*d.file));
            needed.extend(d.labels.iter().filter_map(|l| self.by_path.get(&*l.file)));
        }
        let indexes: HashMap<usize, LineIndex> = needed
            .into_iter()
            .map(|i| (i, LineIndex::new(&self.files[i].text)))
            .collect();
        let locate = |path: &str, span: Span| {
            let i = *self.by_path.get(path)?;
            let r = indexes[&i].range(span.start as usize, span.end as usize, self.encoding);
            Some((self.uris[i].clone(), r))
        };
        let mut per_file: BTreeMap<usize, (Vec<Diagnostic>, Vec<Fix>)> = BTreeMap::new();
        for d in &report.diagnostics {
            if let Some((diag, fix)) = convert::diagnostic(d, &locate) {
                let entry = per_file.entry(self.by_path[&*d.file]).or_default();
                entry.0.push(diag);
                entry.1.extend(fix);
            }
        }
        let mut fixes = HashMap::new();
        let mut out = Vec::new();
        let unpublished = self
            .open
            .iter()
            .filter(|(i, v)| self.published_versions.get(i) != Some(v))
            .map(|(i, _)| i);
        let files: BTreeSet<usize> = per_file
            .keys()
            .chain(self.published.keys())
            .chain(unpublished)
            .copied()
            .collect();
        for i in files {
            let (diags, file_fixes) = per_file.remove(&i).unwrap_or_default();
            let uri = self.uris[i].clone();
            let version = self.open.get(&i).copied();
            fixes.insert(
                uri.as_str().to_string(),
                DocFixes {
                    version,
                    fixes: file_fixes,
                },
            );
            let same = self
                .published
                .get(&i)
                .map_or(diags.is_empty(), |p| *p == diags);
            if same && version.map_or(true, |v| self.published_versions.get(&i) == Some(&v)) {
                continue;
            }
            match version {
                Some(v) => self.published_versions.insert(i, v),
                None => self.published_versions.remove(&i),
            };
            if diags.is_empty() {
                self.published.remove(&i);
            } else {
                self.published.insert(i, diags.clone());
            }
            out.push(PublishDiagnosticsParams {
                uri,
                diagnostics: diags,
                version,
            });
        }
        (out, fixes)
    }
}

/// The quick fixes of one document, for the version they were computed on
/// (`None` for a file that is not open).
#[derive(Debug, Clone, Default)]
pub struct DocFixes {
    pub version: Option<i32>,
    pub fixes: Vec<Fix>,
}

/// The token of `text`, a position-free IR text, or `text` itself when it
/// is a token already (a function kept from the previous lowering). A
/// token starts with NUL, which no IR text does.
fn intern(
    interned: &mut foldhash::HashMap<Arc<str>, Arc<str>>,
    next: &mut u64,
    text: Arc<str>,
) -> Arc<str> {
    if text.starts_with('\0') {
        return text;
    }
    interned
        .entry(text)
        .or_insert_with(|| {
            *next += 1;
            format!("\0ir{next}").into()
        })
        .clone()
}
