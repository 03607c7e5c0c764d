//! A local Lambda Runtime API (version 2018-06-01) that drives the real `bootstrap` binary.
//!
//! Implements what a custom runtime calls:
//! - `GET  /2018-06-01/runtime/invocation/next` — long-polls until an event is queued; answers
//!   with the event and the headers `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`,
//!   `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error` — `202`;
//! - `POST /2018-06-01/runtime/init/error` — `202`; every waiting invocation then ends with
//!   [`Outcome::InitError`].
//!
//! ```no_run
//! # async fn demo(bootstrap: &std::path::Path) -> anyhow::Result<()> {
//! use elb_watch_testkit::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
//! use std::time::Duration;
//! let api = RuntimeApi::start().await?;
//! let function = FunctionProcess::spawn(bootstrap, &api, &[("SLACK_WEBHOOK_URL".into(), "http://...".into())])?;
//! let inv = api.invoke(serde_json::json!({"Records": []}), Duration::from_secs(10)).await?;
//! assert!(matches!(inv.outcome, Outcome::Response(_)), "{}", function.logs());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

/// Function name the harness uses unless the caller overrides `AWS_LAMBDA_FUNCTION_NAME`.
pub const FUNCTION_NAME: &str = "elb-watch-notifier";
/// Account in the invoked-function ARN.
pub const ACCOUNT_ID: &str = "123456789012";
/// Extra time the harness waits past an invocation's deadline before calling it timed out.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Body POSTed to `/invocation/{id}/response` (JSON, or a JSON string of the raw body).
    Response(Value),
    /// Body POSTed to `/invocation/{id}/error` (`{"errorType": .., "errorMessage": ..}`).
    Error(Value),
    /// Body POSTed to `/init/error`: the function failed before serving this invocation.
    InitError(Value),
}

impl Outcome {
    pub fn is_response(&self) -> bool {
        matches!(self, Outcome::Response(_))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Error(_))
    }

    /// `errorMessage` of an error / init error.
    pub fn error_message(&self) -> Option<&str> {
        match self {
            Outcome::Error(v) | Outcome::InitError(v) => v["errorMessage"].as_str(),
            Outcome::Response(_) => None,
        }
    }

    /// `errorType` of an error / init error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Outcome::Error(v) | Outcome::InitError(v) => v["errorType"].as_str(),
            Outcome::Response(_) => None,
        }
    }
}

/// A finished invocation.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From the moment the runtime received the event (`/next` answered) to its outcome:
    /// what Lambda bills as "Duration".
    pub duration: Duration,
    /// From [`RuntimeApi::submit`] to the outcome (includes waiting for the runtime to poll,
    /// i.e. the init phase on a cold start).
    pub total: Duration,
    /// When `/next` handed the event to the runtime (the submit time if it never did).
    pub dispatched_at: Instant,
    /// When the outcome arrived.
    pub finished_at: Instant,
}

struct Queued {
    request_id: String,
    event: Value,
    deadline_ms: u64,
}

struct PendingEntry {
    done: oneshot::Sender<(Outcome, Instant)>,
    dispatched: Option<Instant>,
}

struct Shared {
    tx: mpsc::UnboundedSender<Queued>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    pending: Mutex<HashMap<String, PendingEntry>>,
    init_error: watch::Sender<Option<Value>>,
    first_poll: watch::Sender<Option<Instant>>,
    polls: AtomicU64,
    function_arn: Mutex<String>,
}

/// The Runtime API server on 127.0.0.1:PORT; stops when dropped.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    next_id: AtomicU64,
    server: crate::server::LocalServer,
}

/// An invocation in flight; see [`RuntimeApi::submit`].
pub struct PendingInvocation {
    pub request_id: String,
    submitted: Instant,
    timeout: Duration,
    done: oneshot::Receiver<(Outcome, Instant)>,
    dispatched: Arc<Shared>,
    init_error: watch::Receiver<Option<Value>>,
}

impl PendingInvocation {
    /// Waits for the outcome, at most the invocation timeout plus [`DEADLINE_GRACE`].
    pub async fn wait(mut self) -> anyhow::Result<Invocation> {
        let limit = self.timeout + DEADLINE_GRACE;
        let init_error = async {
            // The watch guard must be gone before the next await: it is not `Send`, and
            // `wait()` runs in spawned tasks.
            let reported = match self.init_error.wait_for(Option::is_some).await {
                Ok(v) => Some(v.clone().unwrap_or(Value::Null)),
                Err(_) => None,
            };
            match reported {
                Some(v) => v,
                None => std::future::pending().await,
            }
        };
        let result = tokio::time::timeout(limit, async {
            tokio::select! {
                done = &mut self.done => done.ok(),
                err = init_error => Some((Outcome::InitError(err), Instant::now())),
            }
        })
        .await;
        let dispatched = {
            let mut pending = self.dispatched.pending.lock().unwrap();
            pending.remove(&self.request_id).and_then(|p| p.dispatched)
        };
        match result {
            Ok(Some((outcome, at))) => {
                let dispatched = dispatched.unwrap_or(self.submitted);
                Ok(Invocation {
                    request_id: self.request_id,
                    outcome,
                    duration: at.saturating_duration_since(dispatched),
                    total: at.saturating_duration_since(self.submitted),
                    dispatched_at: dispatched,
                    finished_at: at,
                })
            }
            Ok(None) => bail!(
                "runtime API stopped before invocation {} ended",
                self.request_id
            ),
            Err(_) => bail!(
                "invocation {} got no response or error within {:?} (was it {}? has the function \
                 process died? see FunctionProcess::logs())",
                self.request_id,
                limit,
                if dispatched.is_some() {
                    "stuck in the handler"
                } else {
                    "never polled for"
                }
            ),
        }
    }
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a free port and serves in the current tokio runtime.
    pub async fn start() -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            tx,
            rx: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            init_error: watch::channel(None).0,
            first_poll: watch::channel(None).0,
            polls: AtomicU64::new(0),
            function_arn: Mutex::new(format!(
                "arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{FUNCTION_NAME}"
            )),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let server = crate::server::LocalServer::start(app).await?;
        Ok(Self {
            shared,
            next_id: AtomicU64::new(1),
            server,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr().to_string()
    }

    /// ARN sent in `Lambda-Runtime-Invoked-Function-Arn`.
    pub fn set_function_arn(&self, arn: impl Into<String>) {
        *self.shared.function_arn.lock().unwrap() = arn.into();
    }

    /// Queues `event` with a deadline `timeout` from now and returns at once.
    pub fn submit(&self, event: Value, timeout: Duration) -> PendingInvocation {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        let request_id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (nanos >> 32) as u32,
            (nanos >> 16) as u16,
            n & 0xfff,
            (n >> 12) & 0xfff,
            (nanos ^ n.rotate_left(29)) & 0xffff_ffff_ffff
        );
        let deadline_ms = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let (done_tx, done_rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(
            request_id.clone(),
            PendingEntry {
                done: done_tx,
                dispatched: None,
            },
        );
        let submitted = Instant::now();
        // The receiver lives in `shared`, so sending cannot fail while `self` is alive.
        let _ = self.shared.tx.send(Queued {
            request_id: request_id.clone(),
            event,
            deadline_ms,
        });
        PendingInvocation {
            request_id,
            submitted,
            timeout,
            done: done_rx,
            dispatched: Arc::clone(&self.shared),
            init_error: self.shared.init_error.subscribe(),
        }
    }

    /// Queues `event` (deadline `timeout` from now) and waits for its outcome.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> anyhow::Result<Invocation> {
        self.submit(event, timeout).wait().await
    }

    /// When the runtime first called `/next` (end of its init phase), if it has.
    pub fn first_poll_at(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// Waits until the runtime polls `/next` for the first time; returns when it did.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let mut rx = self.shared.first_poll.subscribe();
        let at = tokio::time::timeout(timeout, rx.wait_for(Option::is_some))
            .await
            .context("the function did not poll /invocation/next in time")??;
        Ok(at.expect("checked by wait_for"))
    }

    /// Number of `/next` calls so far.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::Relaxed)
    }

    /// The body of `/init/error`, if the function reported one.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.borrow().clone()
    }
}

fn body_json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
        secs.as_secs() as u32,
        secs.as_nanos(),
        secs.subsec_nanos()
    )
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.polls.fetch_add(1, Ordering::Relaxed);
    shared.first_poll.send_if_modified(|first| {
        if first.is_none() {
            *first = Some(Instant::now());
            true
        } else {
            false
        }
    });
    let queued = {
        let mut rx = shared.rx.lock().await;
        rx.recv().await
    };
    let Some(q) = queued else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "runtime API shutting down",
        )
            .into_response();
    };
    if let Some(p) = shared.pending.lock().unwrap().get_mut(&q.request_id) {
        p.dispatched = Some(Instant::now());
    }
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", q.request_id);
    set("lambda-runtime-deadline-ms", q.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.lock().unwrap().clone(),
    );
    set("lambda-runtime-trace-id", trace_id());
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, q.event.to_string()).into_response()
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> Response {
    let mut pending = shared.pending.lock().unwrap();
    match pending.get_mut(id) {
        Some(entry) => {
            // Keep the entry (for its dispatch time) until the waiter removes it; a second
            // outcome for the same id is rejected like the real API does.
            let (tx, _) = oneshot::channel();
            let done = std::mem::replace(&mut entry.done, tx);
            if done.is_closed() {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"errorType": "InvalidStateTransition",
                        "errorMessage": "outcome already reported"})),
                )
                    .into_response();
            }
            let _ = done.send((outcome, Instant::now()));
            accepted()
        }
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorType": "InvalidRequestID",
                "errorMessage": format!("unknown request id {id}")})),
        )
            .into_response(),
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    finish(&shared, &id, Outcome::Response(body_json(&body)))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    finish(&shared, &id, Outcome::Error(body_json(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.init_error.send_replace(Some(body_json(&body)));
    accepted()
}

/// The real `bootstrap` binary running against a [`RuntimeApi`], as Lambda would run it.
///
/// The child gets a clean environment (no AWS credentials or profile of the caller leak in):
/// `PATH`, the Lambda variables `lambda_runtime` needs (`AWS_LAMBDA_FUNCTION_NAME`,
/// `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
/// `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`, `AWS_LAMBDA_RUNTIME_API`),
/// `AWS_REGION`, dummy credentials, and `AWS_ENDPOINT_URL=http://127.0.0.1:9` (refused at
/// once) so that nothing ever reaches real AWS unless the caller points it at an emulator.
/// `env` entries override these defaults.
///
/// stdout and stderr are captured (see [`logs`](Self::logs)); set
/// `ELB_WATCH_ECHO_FUNCTION_LOGS=1` to also copy them to the test's stderr. The process is
/// killed on drop.
pub struct FunctionProcess {
    child: Child,
    logs: Arc<Mutex<String>>,
    started_at: Instant,
}

impl FunctionProcess {
    /// The environment the child starts from (before `env` overrides).
    pub fn default_env(api: &RuntimeApi) -> Vec<(String, String)> {
        let stream = format!(
            "2026/11/20/[$LATEST]{:032x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        [
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{FUNCTION_NAME}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_RUNTIME_API", api.address()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Starts `bootstrap` as the function `function` deployed in the emulator runs it: with
    /// that function's own environment (from moto), its name, and the emulator's endpoint.
    pub fn spawn_deployed(
        bootstrap: &Path,
        api: &RuntimeApi,
        emu: &crate::emulator::Emulator,
        function: &str,
    ) -> anyhow::Result<Self> {
        let mut env: Vec<(String, String)> = emu.aws_env();
        env.extend(crate::topology::function_env(emu, function)?);
        env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), function.into()));
        Self::spawn(bootstrap, api, &env)
    }

    /// Starts `bootstrap` with [`default_env`](Self::default_env) overridden by `env`.
    pub fn spawn(
        bootstrap: &Path,
        api: &RuntimeApi,
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let mut vars: Vec<(String, String)> = Self::default_env(api);
        for (k, v) in env {
            vars.retain(|(existing, _)| existing != k);
            vars.push((k.clone(), v.clone()));
        }
        if let Some((_, name)) = vars.iter().find(|(k, _)| k == "AWS_LAMBDA_FUNCTION_NAME") {
            let region = vars
                .iter()
                .find(|(k, _)| k == "AWS_REGION")
                .map(|(_, r)| r.as_str())
                .unwrap_or("us-east-1");
            api.set_function_arn(format!(
                "arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
            ));
        }
        let mut cmd = Command::new(bootstrap);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started_at = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bootstrap.display()))?;
        let logs = Arc::new(Mutex::new(String::new()));
        let echo = std::env::var_os("ELB_WATCH_ECHO_FUNCTION_LOGS").is_some_and(|v| v != "0");
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        capture(stdout, Arc::clone(&logs), echo);
        capture(stderr, Arc::clone(&logs), echo);
        Ok(Self {
            child,
            logs,
            started_at,
        })
    }

    /// Everything the function wrote so far (stdout and stderr, line-interleaved).
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Log lines that parse as JSON objects (the notifier's structured logs).
    pub fn json_logs(&self) -> Vec<Value> {
        self.logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// The first structured log line matching `pred`, waiting up to `timeout` for it: the
    /// function's output is read by another task, so a line written just before the
    /// invocation's answer may not have been read when the answer arrives.
    pub async fn json_log_where(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        poll(timeout, || self.json_logs().into_iter().find(&pred)).await
    }

    /// Waits until the logs contain `needle`; false on timeout.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        poll(timeout, || self.logs().contains(needle).then_some(()))
            .await
            .is_some()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When the process was spawned (cold-start measurements start here).
    pub fn started_at(&self) -> Instant {
        self.started_at
    }

    /// Peak resident set size so far (`VmHWM` from `/proc/PID/status`), in KiB. Linux only;
    /// `None` once the process has exited.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// Current resident set size (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.child.id(), "VmRSS:")
    }

    /// `true` while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn capture(stream: impl Read + Send + 'static, logs: Arc<Mutex<String>>, echo: bool) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    if echo {
                        eprint!("[function] {text}");
                    }
                    let mut logs = logs.lock().unwrap();
                    logs.push_str(&text);
                    if !text.ends_with('\n') {
                        logs.push('\n');
                    }
                }
            }
        }
    });
}

/// `check()`'s first `Some`, trying every 20 ms until `timeout`; `None` then.
async fn poll<T>(timeout: Duration, check: impl Fn() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// (status, lower-cased headers, body) of a one-shot HTTP/1.1 request.
    async fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String, String) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap();
        (
            head[9..12].parse().unwrap(),
            head.to_ascii_lowercase(),
            body.to_owned(),
        )
    }

    fn header<'a>(head: &'a str, name: &str) -> &'a str {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in {head}"))
            .trim()
    }

    /// A hand-written "runtime" speaking raw HTTP exercises every endpoint.
    #[tokio::test]
    async fn protocol_round_trip() {
        let api = RuntimeApi::start().await.unwrap();
        let addr = api.address();
        assert!(api.first_poll_at().is_none());

        let ok = api.submit(json!({"n": 1}), Duration::from_secs(5));
        let failing = api.submit(json!({"n": 2}), Duration::from_secs(5));

        let (status, head, body) =
            http(&addr, "GET", "/2018-06-01/runtime/invocation/next", "").await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"n": 1})
        );
        let id = header(&head, "lambda-runtime-aws-request-id").to_owned();
        assert_eq!(id, ok.request_id);
        let deadline: u64 = header(&head, "lambda-runtime-deadline-ms").parse().unwrap();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(deadline > now_ms && deadline <= now_ms + 5_000);
        assert_eq!(
            header(&head, "lambda-runtime-invoked-function-arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:elb-watch-notifier"
        );
        assert!(header(&head, "lambda-runtime-trace-id").starts_with("root=1-"));
        assert!(api.first_poll_at().is_some());

        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        assert_eq!(http(&addr, "POST", &path, r#"{"done":true}"#).await.0, 202);
        // A second outcome for the same id is refused.
        assert_eq!(http(&addr, "POST", &path, "{}").await.0, 400);
        let inv = ok.wait().await.unwrap();
        assert_eq!(inv.outcome, Outcome::Response(json!({"done": true})));
        assert!(inv.total >= inv.duration);

        let (_, head, _) = http(&addr, "GET", "/2018-06-01/runtime/invocation/next", "").await;
        let id2 = header(&head, "lambda-runtime-aws-request-id").to_owned();
        assert_ne!(id, id2);
        let path = format!("/2018-06-01/runtime/invocation/{id2}/error");
        let err = r#"{"errorType":"X","errorMessage":"boom"}"#;
        assert_eq!(http(&addr, "POST", &path, err).await.0, 202);
        let inv = failing.wait().await.unwrap();
        assert!(inv.outcome.is_error());
        assert_eq!(inv.outcome.error_message(), Some("boom"));
        assert_eq!(inv.outcome.error_type(), Some("X"));

        assert_eq!(
            http(
                &addr,
                "POST",
                "/2018-06-01/runtime/invocation/nope/response",
                "{}"
            )
            .await
            .0,
            400
        );
        assert_eq!(api.polls(), 2);
    }

    #[tokio::test]
    async fn init_error_ends_waiting_invocations() {
        let api = RuntimeApi::start().await.unwrap();
        let pending = api.submit(json!({}), Duration::from_secs(30));
        let body = r#"{"errorType":"Runtime.Init","errorMessage":"bad config"}"#;
        assert_eq!(
            http(
                &api.address(),
                "POST",
                "/2018-06-01/runtime/init/error",
                body
            )
            .await
            .0,
            202
        );
        let inv = pending.wait().await.unwrap();
        assert!(matches!(inv.outcome, Outcome::InitError(_)));
        assert_eq!(inv.outcome.error_message(), Some("bad config"));
        assert!(api.init_error().is_some());
    }

    #[tokio::test]
    async fn unanswered_invocation_times_out() {
        let api = RuntimeApi::start().await.unwrap();
        let started = Instant::now();
        let err = api
            .invoke(json!({}), Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("never polled"), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(100) + DEADLINE_GRACE);
    }
}
