//! A Slack-incoming-webhook-compatible HTTP sink on 127.0.0.1 with scriptable faults.
//!
//! `POST` to any path (e.g. `/services/T000/B000/XXXX`) is recorded with its arrival time and
//! answered like Slack does: `200 ok`, or `400 invalid_payload` for a body that is not JSON.
//! The [`Behaviour`] decides which answer each request gets:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use elb_watch_testkit::slack_sink::{Behaviour, Reply, SlackSink};
//! let sink = SlackSink::start(Behaviour::Sequence(vec![
//!     Reply::TooMany { retry_after_s: 1 },
//!     Reply::Status(500),
//!     Reply::Ok,
//! ]))
//! .await?;
//! // SLACK_WEBHOOK_URL = sink.url()
//! assert!(sink.wait_for_messages(1, std::time::Duration::from_secs(10)).await);
//! assert_eq!(sink.received().len(), 1);
//! assert_eq!(sink.requests(), 3);
//! # Ok(()) }
//! ```
//!
//! `received()` holds only the messages Slack would have *posted* (answered 200); every
//! request, whatever its answer, is in `log()`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Notify;

/// One answer of the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `200 ok`: the message is posted.
    Ok,
    /// Any status with Slack-like body (`500 internal_error`, `404 no_service`...).
    Status(u16),
    /// `429` with `Retry-After: <retry_after_s>`.
    TooMany { retry_after_s: u64 },
    /// Accept the request and answer nothing for `for_` (make it longer than the client
    /// timeout), then `504`. Never counts as a delivered message.
    Hang { for_: Duration },
}

/// How the sink answers successive requests.
#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    /// Always `200 ok`.
    AlwaysOk,
    /// These replies in order, then `200 ok` forever.
    Sequence(Vec<Reply>),
    /// This reply to every request.
    Always(Reply),
    /// Each request independently fails with probability `fault_ratio`, the fault being one of
    /// 429 (Retry-After 1), 500, or a hang of `hang` — chosen by a PRNG seeded with `seed`, so
    /// a run is reproducible for a given request order.
    Random {
        seed: u64,
        fault_ratio: f64,
        hang: Duration,
    },
    /// Like Slack's "1 message per second" guidance: at most `per_second` accepted requests in
    /// any sliding one-second window; the others get `429` with `Retry-After: 1`.
    RateLimit { per_second: u32 },
}

/// A request as the sink saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub path: String,
    /// Parsed JSON body (`Value::String` of the raw text if it was not JSON).
    pub body: Value,
    /// What the sink answered (for `Hang`, the status it would have sent late: 200).
    pub reply: Reply,
}

/// A message the sink accepted (answered 200).
#[derive(Clone, Debug)]
pub struct Message {
    pub at: Instant,
    pub path: String,
    pub body: Value,
}

type Callback = Box<dyn Fn(&Message) + Send + Sync>;

struct Inner {
    behaviour: Behaviour,
    script: VecDeque<Reply>,
    rng: SplitMix64,
    window: VecDeque<Instant>,
    log: Vec<Request>,
    messages: Vec<Message>,
    on_message: Option<Arc<Callback>>,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Notify,
}

/// The running sink; stops when dropped.
pub struct SlackSink {
    shared: Arc<Shared>,
    server: crate::server::LocalServer,
}

impl SlackSink {
    /// Binds 127.0.0.1 on a free port and serves in the current tokio runtime.
    pub async fn start(behaviour: Behaviour) -> anyhow::Result<Self> {
        let script = match &behaviour {
            Behaviour::Sequence(replies) => replies.iter().cloned().collect(),
            _ => VecDeque::new(),
        };
        let seed = match &behaviour {
            Behaviour::Random { seed, .. } => *seed,
            _ => 0,
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                behaviour,
                script,
                rng: SplitMix64(seed),
                window: VecDeque::new(),
                log: Vec::new(),
                messages: Vec::new(),
                on_message: None,
            }),
            changed: Notify::new(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = crate::server::LocalServer::start(app).await?;
        Ok(Self { shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// A webhook URL on this sink, shaped like Slack's.
    pub fn url(&self) -> String {
        format!(
            "http://{}/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            self.server.addr()
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bodies of the accepted messages, in arrival order.
    pub fn received(&self) -> Vec<Value> {
        self.lock()
            .messages
            .iter()
            .map(|m| m.body.clone())
            .collect()
    }

    /// Accepted messages with arrival time and path.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().messages.clone()
    }

    /// Number of requests of any outcome.
    pub fn requests(&self) -> usize {
        self.lock().log.len()
    }

    /// Every request with the reply it got.
    pub fn log(&self) -> Vec<Request> {
        self.lock().log.clone()
    }

    /// Arrival time of the first request of any outcome (cold-start benchmarks).
    pub fn first_request_at(&self) -> Option<Instant> {
        self.lock().log.first().map(|r| r.at)
    }

    /// Replaces the behaviour (and restarts a sequence) for the following requests.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        let mut inner = self.lock();
        inner.script = match &behaviour {
            Behaviour::Sequence(replies) => replies.iter().cloned().collect(),
            _ => VecDeque::new(),
        };
        if let Behaviour::Random { seed, .. } = &behaviour {
            inner.rng = SplitMix64(*seed);
        }
        inner.window.clear();
        inner.behaviour = behaviour;
    }

    /// Calls `f` for each accepted message (from the server task; keep it quick).
    pub fn on_message(&self, f: impl Fn(&Message) + Send + Sync + 'static) {
        self.lock().on_message = Some(Arc::new(Box::new(f)));
    }

    /// Prints each accepted message to stdout in a readable form (for the demo).
    pub fn print_messages(&self) {
        self.on_message(|m| println!("{}", render_for_terminal(&m.body)));
    }

    /// Waits until at least `n` messages were accepted; false on timeout.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(|i| i.messages.len() >= n, timeout).await
    }

    /// Waits until at least `n` requests (any outcome) arrived; false on timeout.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(|i| i.log.len() >= n, timeout).await
    }

    async fn wait_until(&self, cond: impl Fn(&Inner) -> bool, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if cond(&self.lock()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return cond(&self.lock());
            }
        }
    }
}

/// Decides the reply for one request (under the lock).
fn decide(inner: &mut Inner, now: Instant) -> Reply {
    match inner.behaviour.clone() {
        Behaviour::AlwaysOk => Reply::Ok,
        Behaviour::Sequence(_) => inner.script.pop_front().unwrap_or(Reply::Ok),
        Behaviour::Always(reply) => reply,
        Behaviour::Random {
            fault_ratio, hang, ..
        } => {
            if inner.rng.next_f64() >= fault_ratio {
                Reply::Ok
            } else {
                match inner.rng.next_u64() % 3 {
                    0 => Reply::TooMany { retry_after_s: 1 },
                    1 => Reply::Status(500),
                    _ => Reply::Hang { for_: hang },
                }
            }
        }
        Behaviour::RateLimit { per_second } => {
            while inner
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                inner.window.pop_front();
            }
            if inner.window.len() < per_second as usize {
                inner.window.push_back(now);
                Reply::Ok
            } else {
                Reply::TooMany { retry_after_s: 1 }
            }
        }
    }
}

fn slack_error_body(status: u16) -> &'static str {
    match status {
        400 => "invalid_payload",
        403 => "action_prohibited",
        404 => "no_service",
        410 => "channel_is_archived",
        429 => "rate_limited",
        _ => "internal_error",
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: Uri,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    if method != axum::http::Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "invalid_method").into_response();
    }
    let parsed = serde_json::from_slice::<Value>(&body);
    let (reply, callback, message) = {
        let mut inner = shared.inner.lock().unwrap_or_else(|p| p.into_inner());
        let reply = if parsed.is_err() {
            Reply::Status(400)
        } else {
            decide(&mut inner, now)
        };
        let body_value = match &parsed {
            Ok(v) => v.clone(),
            Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
        };
        inner.log.push(Request {
            at: now,
            path: uri.path().to_owned(),
            body: body_value.clone(),
            reply: reply.clone(),
        });
        // A hung request is "accepted" only if the client is still there when it answers;
        // it is recorded as a message below in that case.
        let message = (reply == Reply::Ok).then(|| Message {
            at: now,
            path: uri.path().to_owned(),
            body: body_value,
        });
        if let Some(m) = &message {
            inner.messages.push(m.clone());
        }
        (reply, inner.on_message.clone(), message)
    };
    shared.changed.notify_waiters();
    if let (Some(cb), Some(m)) = (callback, &message) {
        cb(m);
    }
    match reply {
        Reply::Ok => (StatusCode::OK, "ok").into_response(),
        Reply::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, slack_error_body(code)).into_response()
        }
        Reply::TooMany { retry_after_s } => {
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, "rate_limited").into_response();
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(retry_after_s),
            );
            resp
        }
        Reply::Hang { for_ } => {
            // If the client gives up first, hyper drops this future: nothing is recorded as
            // delivered, exactly like a Slack that never answered.
            tokio::time::sleep(for_).await;
            (StatusCode::GATEWAY_TIMEOUT, "timeout").into_response()
        }
    }
}

/// Human-readable rendering of a webhook payload: the fallback `text`, then each block's text
/// (headers, sections, fields, context, buttons with their URL), indented. Used by [`SlackSink::print_messages`].
pub fn render_for_terminal(payload: &Value) -> String {
    let mut out = String::new();
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let mut blocks: Vec<&Value> = payload["blocks"]
        .as_array()
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    for a in payload["attachments"].as_array().into_iter().flatten() {
        blocks.extend(a["blocks"].as_array().into_iter().flatten());
    }
    if let Some(channel) = payload["channel"].as_str() {
        out.push_str(&format!("[{channel}] "));
    }
    if blocks.is_empty() {
        out.push_str(&unescape(payload["text"].as_str().unwrap_or("")));
        return out;
    }
    out.push_str("─── Slack message ───");
    for b in blocks {
        let mut lines = Vec::new();
        if let Some(t) = b["text"]["text"].as_str() {
            lines.push(unescape(t));
        }
        for f in b["fields"].as_array().into_iter().flatten() {
            if let Some(t) = f["text"].as_str() {
                lines.push(unescape(t).replace('\n', ": "));
            }
        }
        for e in b["elements"].as_array().into_iter().flatten() {
            if let Some(t) = e["text"].as_str() {
                lines.push(unescape(t));
            }
            // A button: its label and where it goes.
            if let (Some(label), Some(url)) = (e["text"]["text"].as_str(), e["url"].as_str()) {
                lines.push(format!("[{} → {url}]", unescape(label)));
            }
        }
        for l in lines {
            for line in l.lines() {
                out.push_str("\n  ");
                out.push_str(line);
            }
        }
    }
    out
}

/// Small seeded PRNG (SplitMix64): reproducible fault patterns without extra dependencies.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn post(url: &str, body: &str) -> (u16, Option<String>, String) {
        // Minimal HTTP/1.1 client over TcpStream: the testkit has no HTTP client dependency.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        let status = resp[9..12].parse().unwrap();
        let retry_after = resp.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after: ")
                .map(str::to_owned)
        });
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
        (status, retry_after, body)
    }

    #[tokio::test]
    async fn sequence_then_ok() {
        let sink = SlackSink::start(Behaviour::Sequence(vec![
            Reply::TooMany { retry_after_s: 1 },
            Reply::Status(500),
        ]))
        .await
        .unwrap();
        let url = sink.url();
        assert_eq!(post(&url, "{}").await.0, 429);
        assert_eq!(post(&url, "{}").await.0, 500);
        let (status, _, body) = post(&url, r#"{"text":"hi"}"#).await;
        assert_eq!((status, body.as_str()), (200, "ok"));
        assert_eq!(post(&url, "{}").await.0, 200);
        assert_eq!(sink.requests(), 4);
        assert_eq!(sink.received().len(), 2);
        assert_eq!(sink.received()[0]["text"], "hi");
        assert!(sink.log()[0].path.starts_with("/services/"));
    }

    #[tokio::test]
    async fn too_many_sets_retry_after_and_invalid_json_is_400() {
        let sink = SlackSink::start(Behaviour::Always(Reply::TooMany { retry_after_s: 7 }))
            .await
            .unwrap();
        let (status, retry_after, body) = post(&sink.url(), "{}").await;
        assert_eq!(status, 429);
        assert_eq!(retry_after.as_deref(), Some("7"));
        assert_eq!(body, "rate_limited");
        let (status, _, body) = post(&sink.url(), "not json").await;
        assert_eq!((status, body.as_str()), (400, "invalid_payload"));
        assert!(sink.received().is_empty());
    }

    #[tokio::test]
    async fn rate_limit_window() {
        let sink = SlackSink::start(Behaviour::RateLimit { per_second: 2 })
            .await
            .unwrap();
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(post(&sink.url(), "{}").await.0);
        }
        assert_eq!(statuses, vec![200, 200, 429, 429]);
        tokio::time::sleep(Duration::from_millis(1050)).await;
        assert_eq!(post(&sink.url(), "{}").await.0, 200);
    }

    #[tokio::test]
    async fn random_faults_are_seeded() {
        let pattern = |seed| {
            let mut inner_rng = SplitMix64(seed);
            (0..200)
                .map(|_| inner_rng.next_f64() < 0.3)
                .collect::<Vec<_>>()
        };
        assert_eq!(pattern(42), pattern(42));
        assert_ne!(pattern(42), pattern(43));
        let faults = pattern(42).iter().filter(|f| **f).count();
        assert!(
            (30..=90).contains(&faults),
            "{faults} faults of 200 at ratio 0.3"
        );

        let sink = SlackSink::start(Behaviour::Random {
            seed: 9,
            fault_ratio: 1.0,
            hang: Duration::from_millis(10),
        })
        .await
        .unwrap();
        for _ in 0..10 {
            let status = post(&sink.url(), "{}").await.0;
            assert!([429, 500, 504].contains(&status), "{status}");
        }
        assert!(sink.received().is_empty());
    }

    #[tokio::test]
    async fn waiting_and_callback() {
        let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        sink.on_message(move |m| seen2.lock().unwrap().push(m.body.clone()));
        assert!(!sink.wait_for_messages(1, Duration::from_millis(50)).await);
        let url = sink.url();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            post(&url, r#"{"text":"a"}"#).await;
        });
        assert!(sink.wait_for_messages(1, Duration::from_secs(5)).await);
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(sink.first_request_at().is_some());
    }

    #[test]
    fn terminal_rendering_unescapes_and_flattens() {
        let payload = serde_json::json!({
            "channel": "#ops",
            "text": "fallback",
            "attachments": [{"color": "danger", "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "ALARM: a &lt;b&gt;"}},
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*LB*\nweb"}]},
            ]}]
        });
        let text = render_for_terminal(&payload);
        assert!(text.starts_with("[#ops] "), "{text}");
        assert!(text.contains("\n  ALARM: a <b>"), "{text}");
        assert!(text.contains("\n  *LB*: web"), "{text}");
    }
}
