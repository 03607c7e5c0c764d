//! A local stand-in for the Slack Web API on 127.0.0.1 (a free port): `auth.test`,
//! `conversations.info`, `chat.postMessage`, `chat.update` and a file upload
//! (`files.getUploadURLExternal`, the bytes POSTed to its `upload_url` — `/upload/v1/<id>` on
//! the stand-in —, `files.completeUploadExternal`: [`files`]), with Slack's documented request
//! shapes, response shapes and errors, and scriptable faults.
//!
//! Methods are served at `POST /api/<method>` like `https://slack.com/api/<method>`
//! (<https://docs.slack.dev/apis/web-api>): token in `Authorization: Bearer xoxb-…` (or a
//! `token` form argument), arguments as JSON (`application/json; charset=utf-8`) or
//! form-encoded. Every message posted is kept per channel — parents, thread replies and each
//! message's versions — so a test can read back a thread: the ALARM parent, its replies, and
//! the parent after its update.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use elb_watch_testkit::slack_api::{Fault, Scope, SlackApi, Workspace, DEFAULT_TOKEN};
//! let slack = SlackApi::start(Workspace::default()).await?; // #alerts = C0ALERTS
//! // The next 2 chat.postMessage calls answer 429 with Retry-After: 1.
//! slack.queue(Scope::method("chat.postMessage"), 2, Fault::RateLimited { retry_after_s: 1 });
//! // SLACK_API_URL = slack.base_url(), token = DEFAULT_TOKEN
//! # let parent_ts = "";
//! let thread = slack.thread("#alerts", parent_ts).expect("posted");
//! assert_eq!(thread.replies.len(), 1);
//! assert_eq!(thread.parent.edits(), 1);
//! # Ok(()) }
//! ```
//!
//! Order of checks for a call: unknown method (HTTP 404 `unknown_method`), unreadable body
//! (`invalid_json`, `invalid_post_type`...), then a scripted [`Fault`] if one applies, then the
//! workspace: token (`not_authed`, `invalid_auth`, `token_revoked`), scope (`missing_scope`),
//! and the method's own errors (see [`workspace`]).

mod faults;
mod files;
mod request;
mod workspace;

pub use faults::{Fault, Plan, Scope};
pub use files::{ALT_TXT_MAX, File, Share};
pub use request::{Malformed, Parsed};
pub use workspace::{
    Answer, Channel, Content, DEFAULT_TOKEN, METHODS, Message, TEXT_MAX, Thread, Token, Workspace,
};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// A call as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Call {
    pub at: Instant,
    pub method: String,
    /// The HTTP method (`POST`, `GET`).
    pub http_method: String,
    pub content_type: Option<String>,
    /// The token presented, if any.
    pub token: Option<String>,
    /// The arguments (empty when the body could not be read).
    pub args: serde_json::Map<String, Value>,
    /// What it answered.
    pub answer: Answer,
}

struct Inner {
    workspace: Workspace,
    plan: Plan,
    calls: Vec<Call>,
    uploads: Vec<UploadPost>,
}

/// A POST to an upload URL (not a Web API method: no token, raw bytes).
#[derive(Clone, Debug)]
pub struct UploadPost {
    pub at: Instant,
    pub file_id: String,
    pub content_type: Option<String>,
    pub bytes: usize,
    /// The HTTP status answered.
    pub status: u16,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Notify,
}

/// The running stand-in; stops when dropped.
pub struct SlackApi {
    shared: Arc<Shared>,
    server: crate::server::LocalServer,
}

impl SlackApi {
    /// Binds 127.0.0.1 on a free port and serves `workspace` in the current tokio runtime.
    pub async fn start(workspace: Workspace) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                workspace,
                plan: Plan::default(),
                calls: Vec::new(),
                uploads: Vec::new(),
            }),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/api/{method}", any(handle))
            .route("/upload/v1/{file_id}", axum::routing::post(upload))
            .with_state(Arc::clone(&shared));
        let server = crate::server::LocalServer::start(app).await?;
        let root = format!("http://{}/upload/v1/", server.addr());
        shared
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .workspace
            .upload_root = root;
        Ok(Self { shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The API root, like `https://slack.com/api/`: append the method name.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.server.addr())
    }

    /// The URL of one method, e.g. `method_url("chat.postMessage")`.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}{method}", self.base_url())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `fault` as the answer to the next `times` calls in `scope`.
    pub fn queue(&self, scope: Scope, times: usize, fault: Fault) {
        self.lock().plan.queue(scope, times, fault);
    }

    /// Answers `fault` to every call in `scope` until [`SlackApi::clear_faults`].
    pub fn always(&self, scope: Scope, fault: Fault) {
        self.lock().plan.always(scope, fault);
    }

    /// Removes every scripted fault.
    pub fn clear_faults(&self) {
        self.lock().plan.clear();
    }

    /// Adds (or replaces) a token.
    pub fn add_token(&self, token: Token) {
        let mut inner = self.lock();
        let ws = std::mem::replace(&mut inner.workspace, Workspace::empty());
        inner.workspace = ws.with_token(token);
    }

    /// Revokes a token: every later call with it answers `token_revoked`.
    pub fn revoke_token(&self, token: &str) {
        for t in self.lock().workspace.tokens.iter_mut() {
            if t.token == token {
                t.revoked = true;
            }
        }
    }

    /// Adds (or replaces, by ID) a channel.
    pub fn add_channel(&self, channel: Channel) {
        let mut inner = self.lock();
        let ws = std::mem::replace(&mut inner.workspace, Workspace::empty());
        inner.workspace = ws.with_channel(channel);
    }

    /// Removes a channel (ID or name): calls naming it answer `channel_not_found`.
    pub fn remove_channel(&self, id_or_name: &str) {
        let mut inner = self.lock();
        if let Some(id) = inner.workspace.channel(id_or_name).map(|c| c.id.clone()) {
            inner.workspace.channels.retain(|c| c.id != id);
        }
    }

    /// Archives a channel (ID or name): posting and updating in it answer `is_archived`
    /// (<https://docs.slack.dev/reference/methods/chat.postMessage#errors>, `chat.update`'s
    /// likewise).
    pub fn archive_channel(&self, id_or_name: &str) {
        let mut inner = self.lock();
        if let Some(id) = inner.workspace.channel(id_or_name).map(|c| c.id.clone()) {
            for c in inner.workspace.channels.iter_mut().filter(|c| c.id == id) {
                c.is_archived = true;
            }
        }
    }

    /// Sets the workspace's message-edit window ([`Workspace::edit_window`]): messages older
    /// than `window` answer `edit_window_closed` to `chat.update`.
    pub fn set_edit_window(&self, window: Option<Duration>) {
        self.lock().workspace.edit_window = window;
    }

    /// Sets whether the app is in a channel (ID or name); not in it, posting answers
    /// `not_in_channel`.
    pub fn set_member(&self, id_or_name: &str, is_member: bool) {
        let mut inner = self.lock();
        if let Some(id) = inner.workspace.channel(id_or_name).map(|c| c.id.clone()) {
            for c in inner.workspace.channels.iter_mut().filter(|c| c.id == id) {
                c.is_member = is_member;
            }
        }
    }

    /// Deletes a message (see [`Workspace::delete_message`]); `false` when there was none.
    pub fn delete_message(&self, channel: &str, ts: &str) -> bool {
        self.lock().workspace.delete_message(channel, ts)
    }

    /// A copy of the workspace (tokens, channels, every message).
    pub fn workspace(&self) -> Workspace {
        self.lock().workspace.clone()
    }

    /// Visible messages of a channel (ID or name), replies included, in posting order.
    pub fn messages(&self, channel: &str) -> Vec<Message> {
        self.lock().workspace.messages_in(channel)
    }

    /// Top-level messages of a channel (ID or name), in posting order.
    pub fn parents(&self, channel: &str) -> Vec<Message> {
        self.messages(channel)
            .into_iter()
            .filter(|m| m.thread_ts.is_none())
            .collect()
    }

    /// Replies posted with a `thread_ts` naming no message: accepted by Slack, shown nowhere.
    pub fn orphans(&self) -> Vec<Message> {
        let inner = self.lock();
        inner
            .workspace
            .messages
            .iter()
            .filter(|m| !m.visible)
            .cloned()
            .collect()
    }

    /// The thread of the top-level message `ts` in `channel` (ID or name).
    pub fn thread(&self, channel: &str, ts: &str) -> Option<Thread> {
        self.lock().workspace.thread(channel, ts)
    }

    /// Every file uploaded (from its ticket on), in order.
    pub fn files(&self) -> Vec<File> {
        self.lock().workspace.files.clone()
    }

    /// The files shared in the thread of `thread_ts` in `channel` (ID or name).
    pub fn files_in_thread(&self, channel: &str, thread_ts: &str) -> Vec<File> {
        let inner = self.lock();
        let Some(id) = inner.workspace.channel(channel).map(|c| c.id.clone()) else {
            return Vec::new();
        };
        inner.workspace.files_in_thread(&id, thread_ts)
    }

    /// Every POST to an upload URL, in arrival order.
    pub fn upload_posts(&self) -> Vec<UploadPost> {
        self.lock().uploads.clone()
    }

    /// Every call with its answer, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Number of calls of `method` (any outcome).
    pub fn calls_of(&self, method: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .count()
    }

    /// Waits until at least `n` calls (any method, any outcome) arrived; false on timeout.
    pub async fn wait_for_calls(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().calls.len() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.lock().calls.len() >= n;
            }
        }
    }
}

/// The bytes of a file, POSTed to its upload URL.
async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(file_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, text) = {
        let mut inner = shared.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (status, text) = inner.workspace.receive_upload(&file_id, &body);
        inner.uploads.push(UploadPost {
            at: Instant::now(),
            file_id,
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            bytes: body.len(),
            status,
        });
        (status, text)
    };
    shared.changed.notify_waiters();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, text).into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    http_method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let content_type = header(header::CONTENT_TYPE).map(str::to_owned);
    let parsed = request::parse(
        header(header::AUTHORIZATION),
        content_type.as_deref(),
        uri.query(),
        &body,
    );
    let (token, args) = match &parsed {
        Ok(p) => (p.token.clone(), p.args.clone()),
        Err(_) => (None, serde_json::Map::new()),
    };
    let answer = {
        let mut inner = shared.inner.lock().unwrap_or_else(|p| p.into_inner());
        let answer = if !METHODS.contains(&method.as_str()) {
            Answer {
                status: 404,
                retry_after_s: None,
                body: json!({"ok": false, "error": "unknown_method", "req_method": method}),
            }
        } else {
            match &parsed {
                Err(Malformed(error)) => Answer::error(error),
                Ok(p) => {
                    let mut a = match inner.plan.take(&method) {
                        Some(fault) => fault.answer(),
                        None => inner.workspace.call(&method, p.token.as_deref(), &p.args),
                    };
                    if p.missing_charset {
                        a.body["warning"] = json!("missing_charset");
                        a.body["response_metadata"] = json!({"warnings": ["missing_charset"]});
                    }
                    a
                }
            }
        };
        inner.calls.push(Call {
            at: Instant::now(),
            method: method.clone(),
            http_method: http_method.to_string(),
            content_type,
            token,
            args,
            answer: answer.clone(),
        });
        answer
    };
    shared.changed.notify_waiters();
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, axum::Json(answer.body)).into_response();
    if let Some(s) = answer.retry_after_s {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}
