//! The main loop: lifecycle (initialize → shutdown → exit), documents,
//! code actions, and errors for everything else. Checking happens on the
//! [`worker`](super::worker) thread; this loop only keeps document texts
//! and answers requests, so it stays responsive while a check runs.

use super::convert::touches;
use super::text::{apply_changes, Encoding};
use super::transport::{Incoming, Outgoing};
use super::worker::{self, log, Job, Shared};
use super::workspace::{uri_to_path, Workspace};
use crate::check::CheckOptions;
use crate::config::Config;
use crate::model::LockModel;
use crossbeam_channel::Sender;
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _,
};
use lsp_types::request::{CodeActionRequest, Initialize, Request as _, Shutdown};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, InitializeParams, InitializeResult, PositionEncodingKind,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

struct Doc {
    text: String,
    version: i32,
}

enum Phase {
    Uninitialized,
    Running,
    ShutDown,
}

pub struct Server {
    out: Sender<Outgoing>,
    phase: Phase,
    encoding: Encoding,
    docs: HashMap<String, Doc>,
    shared: Arc<Shared>,
    jobs: Option<Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

/// What to do after a message.
enum Flow {
    Continue,
    Exit(i32),
}

impl Server {
    pub fn new(out: Sender<Outgoing>) -> Self {
        Server {
            out,
            phase: Phase::Uninitialized,
            encoding: Encoding::Utf16,
            docs: HashMap::new(),
            shared: Arc::default(),
            jobs: None,
            worker: None,
        }
    }

    /// Serve until `exit` or the end of input. Returns the exit code: 0
    /// after `shutdown`, 1 otherwise (as the specification asks).
    pub fn serve(mut self, incoming: crossbeam_channel::Receiver<Incoming>) -> i32 {
        let mut code = 1;
        for msg in incoming {
            let flow = match msg {
                Incoming::Message(Message::Request(r)) => self.request(r),
                Incoming::Message(Message::Notification(n)) => self.notification(n),
                Incoming::Message(Message::Response(r)) => {
                    log(format!("ignored a response to request {}", r.id));
                    Flow::Continue
                }
                Incoming::Invalid { id, code, message } => {
                    log(format!("invalid message: {message}"));
                    self.send(Outgoing::Error {
                        id: id.unwrap_or(serde_json::Value::Null),
                        code,
                        message,
                    });
                    Flow::Continue
                }
            };
            if let Flow::Exit(c) = flow {
                code = c;
                break;
            }
            if matches!(self.phase, Phase::ShutDown) {
                code = 0;
            }
        }
        // Let the worker finish what it is doing, then stop it.
        self.jobs = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        code
    }

    fn send(&self, out: Outgoing) {
        let _ = self.out.send(out);
    }

    fn reply(&self, id: RequestId, result: Result<serde_json::Value, (ErrorCode, String)>) {
        let response = match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(Outgoing::Message(Message::Response(response)));
    }

    fn request(&mut self, r: Request) -> Flow {
        let result = match (&self.phase, r.method.as_str()) {
            (Phase::Uninitialized, Initialize::METHOD) => {
                params::<InitializeParams>(r.params).map(|p| self.initialize(p))
            }
            (Phase::Uninitialized, _) => Err((
                ErrorCode::ServerNotInitialized,
                "the server is not initialized".into(),
            )),
            (Phase::ShutDown, _) => {
                Err((ErrorCode::InvalidRequest, "the server is shut down".into()))
            }
            (Phase::Running, Initialize::METHOD) => {
                Err((ErrorCode::InvalidRequest, "already initialized".into()))
            }
            (Phase::Running, Shutdown::METHOD) => {
                self.phase = Phase::ShutDown;
                Ok(serde_json::Value::Null)
            }
            (Phase::Running, CodeActionRequest::METHOD) => {
                params::<CodeActionParams>(r.params).map(|p| self.code_actions(p))
            }
            (Phase::Running, m) => {
                Err((ErrorCode::MethodNotFound, format!("unknown method `{m}`")))
            }
        };
        self.reply(r.id, result);
        Flow::Continue
    }

    fn notification(&mut self, n: Notification) -> Flow {
        if n.method == "exit" {
            return Flow::Exit(if matches!(self.phase, Phase::ShutDown) {
                0
            } else {
                1
            });
        }
        if !matches!(self.phase, Phase::Running) {
            log(format!("ignored `{}` outside a session", n.method));
            return Flow::Continue;
        }
        let handled = match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                params(n.params).map(|p: lsp_types::DidOpenTextDocumentParams| {
                    let d = p.text_document;
                    self.docs.insert(
                        d.uri.as_str().to_string(),
                        Doc {
                            text: d.text,
                            version: d.version,
                        },
                    );
                    self.changed(d.uri);
                })
            }
            DidChangeTextDocument::METHOD => {
                params(n.params).and_then(|p: lsp_types::DidChangeTextDocumentParams| {
                    let uri = p.text_document.uri;
                    let doc = self.docs.get_mut(uri.as_str()).ok_or_else(|| {
                        (
                            ErrorCode::InvalidParams,
                            format!("didChange for {} which is not open", uri.as_str()),
                        )
                    })?;
                    apply_changes(&mut doc.text, p.content_changes, self.encoding);
                    doc.version = p.text_document.version;
                    self.changed(uri);
                    Ok(())
                })
            }
            DidCloseTextDocument::METHOD => {
                params(n.params).map(|p: lsp_types::DidCloseTextDocumentParams| {
                    let uri = p.text_document.uri;
                    self.docs.remove(uri.as_str());
                    let generation = self.next_generation();
                    self.job(Job::Close { uri, generation });
                })
            }
            // The text is already known from didOpen/didChange.
            DidSaveTextDocument::METHOD | "initialized" | "$/cancelRequest" | "$/setTrace" => {
                Ok(())
            }
            m => Err((
                ErrorCode::MethodNotFound,
                format!("unknown notification `{m}`"),
            )),
        };
        if let Err((_, message)) = handled {
            log(format!("ignored `{}`: {message}", n.method));
        }
        Flow::Continue
    }

    fn initialize(&mut self, p: InitializeParams) -> serde_json::Value {
        let utf8 = p
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        self.encoding = if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        #[allow(deprecated)] // root_uri: clients without workspace folders
        let roots: Vec<PathBuf> = match (&p.workspace_folders, &p.root_uri) {
            (Some(folders), _) if !folders.is_empty() => folders
                .iter()
                .map(|f| PathBuf::from(uri_to_path(&f.uri)))
                .collect(),
            (_, Some(root)) => vec![PathBuf::from(uri_to_path(root))],
            _ => Vec::new(),
        };
        let roots: Vec<PathBuf> = roots
            .into_iter()
            .filter(|r| r.is_absolute() && r.is_dir())
            .collect();
        let (model, mut opts) = workspace_settings(roots.first());
        // `initializationOptions: {"noIgnore": true}`: as `check --no-ignore`.
        opts.no_ignore |= p
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("noIgnore"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let ws = Workspace::new(model, opts, self.encoding);
        let (tx, rx) = crossbeam_channel::unbounded();
        let (out, shared) = (self.out.clone(), self.shared.clone());
        self.worker = Some(std::thread::spawn(move || worker::run(ws, rx, out, shared)));
        self.jobs = Some(tx);
        self.job(Job::Index(roots));
        self.phase = Phase::Running;
        let result = InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 {
                    PositionEncodingKind::UTF8
                } else {
                    PositionEncodingKind::UTF16
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "faultlock".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        };
        serde_json::to_value(result).unwrap_or_default()
    }

    /// Quick fixes whose diagnostic touches the requested range, if they
    /// were computed on the document's current version.
    fn code_actions(&self, p: CodeActionParams) -> serde_json::Value {
        let uri = p.text_document.uri;
        let version = self.docs.get(uri.as_str()).map(|d| d.version);
        let fixes = self.shared.fixes.lock().unwrap_or_else(|e| e.into_inner());
        let actions: Vec<CodeActionOrCommand> = fixes
            .get(uri.as_str())
            .filter(|f| f.version == version)
            .map(|f| {
                f.fixes
                    .iter()
                    .filter(|fix| touches(fix.diagnostic.range, p.range))
                    .map(|fix| CodeActionOrCommand::CodeAction(fix.to_code_action(&uri)))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::to_value(actions).unwrap_or_default()
    }

    fn next_generation(&self) -> u64 {
        self.shared.latest.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn changed(&mut self, uri: Uri) {
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return;
        };
        let (text, version) = (Arc::from(doc.text.as_str()), doc.version);
        let generation = self.next_generation();
        self.job(Job::Text {
            uri,
            text,
            version,
            generation,
        });
    }

    fn job(&self, job: Job) {
        if let Some(tx) = &self.jobs {
            let _ = tx.send(job);
        }
    }
}

/// Deserialize request or notification parameters.
fn params<P: DeserializeOwned>(v: serde_json::Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(v)
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

/// The workspace's `faultlock.toml` (found from the first folder upward) as
/// model and options. A broken one is logged and the defaults are used, so
/// that the editor keeps its diagnostics.
fn workspace_settings(root: Option<&PathBuf>) -> (LockModel, CheckOptions) {
    let Some(root) = root else {
        return (LockModel::builtin(), CheckOptions::default());
    };
    match Config::resolve(None, Some(root)).and_then(|c| c.apply()) {
        Ok(x) => x,
        Err(e) => {
            log(format!("{e}; using the default settings"));
            (LockModel::builtin(), CheckOptions::default())
        }
    }
}
