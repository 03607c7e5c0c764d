//! The strict-AWS layer: an HTTP proxy between the code under test and the emulator (moto) that
//! enforces what AWS documents and moto lets through. Every rule lives in its own module and
//! names, in a comment, the AWS page it models; `docs/strict-layer.md` has the table.
//!
//! ```text
//!  SDK ──► StrictProxy ──► moto
//!          1. throttling (token buckets at AWS's default quotas)        throttle.rs
//!          2. answer a page from the proxy's own pagination stash        paging.rs
//!          3. refuse: invalid tags, function busy, role not yet visible,  tags.rs, lambda.rs, propagation.rs,
//!             a just-deleted queue's name                                sqs.rs
//!          4. forward unchanged (signature, Host and body as sent)
//!          5. record (created roles/functions/tagged ARNs) and rewrite the answer:
//!             function state, GetFunction without Tags, Tagging API lag, small pages,
//!             a new alarm in INSUFFICIENT_DATA                          lambda.rs, tagging.rs, paging.rs, alarms.rs
//!          6. keep every alarm state change; answer DescribeAlarmHistory once moto
//!             has authorised it (moto has no such operation)              history.rs
//!          7. evaluate a new alarm and run its actions; deliver what a topic
//!             receives to its Lambda subscribers                         evaluation.rs, sns_delivery.rs
//!          8. answer GetMetricData's ELB HealthyHostCount from moto's
//!             target health (moto publishes no ELB metrics)             metric_data.rs
//!          9. run a one-time Scheduler schedule at its at() time: its Lambda
//!             target invoked asynchronously, then deleted (DELETE)       schedules.rs
//!         10. answer the alarm mute rule operations (and a rule's tags) once
//!             moto has authorised them (moto has none); an ACTIVE rule
//!             mutes its alarms' actions (step 7)                        mute_rules.rs
//!         11. keep each alarm's ActionConfiguration (refused if invalid,
//!             before step 4), add it to DescribeAlarms, and put the alarm's
//!             tags into its notifications (step 7)                      action_configuration.rs
//!         12. answer GetMetricWidgetImage with a small PNG once moto has
//!             authorised it, the MetricWidget validated (moto has none)  metric_image.rs
//! ```
//!
//! Requests are never modified on their way to moto (moto can verify SigV4 signatures when its
//! IAM enforcement is on); only answers are. Calls to `/moto-api/…` pass straight through.

pub mod action_configuration;
pub mod alarm_tags;
pub mod alarms;
pub mod denied;
pub mod evaluation;
pub mod healthy_hosts;
pub mod history;
pub mod key_tags;
pub mod lambda;
pub mod lambda_async;
pub mod metric_data;
pub mod metric_image;
pub mod mute_rules;
pub mod paging;
pub mod propagation;
pub mod protocol;
pub mod routed_by;
pub mod schedules;
pub mod sns_delivery;
pub mod sqs;
pub mod stale_tag;
pub mod tagging;
pub mod tags;
pub mod throttle;

use crate::emulator::{RecordedCall, parse_recorded};
use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use protocol::{Call, Protocol};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the layer enforces. [`StrictConfig::default`] is everything on, with delays short
/// enough for the test suite (the real AWS figures are next to each field).
#[derive(Debug, Clone)]
pub struct StrictConfig {
    /// Off: no proxy at all, the SDK talks to moto directly.
    pub enabled: bool,
    /// Tag keys/values checked against the documented limits (tags.rs).
    pub tags: bool,
    /// How long a new function stays `State: Pending`. AWS: typically 1–5 s for a zip
    /// function outside a VPC, up to minutes with VPC/EFS. Default 2 s.
    pub lambda_pending: Duration,
    /// How long `LastUpdateStatus: InProgress` lasts after an update. AWS: typically 1–10 s.
    /// Default 2 s.
    pub lambda_update: Duration,
    /// How long a new role cannot be assumed by Lambda / named in a key policy. AWS: IAM is
    /// eventually consistent, "changes may take several seconds" and up to ~10 s in practice.
    /// Default 3 s.
    pub role_propagation: Duration,
    /// How long a newly created / tagged resource stays invisible to Tagging API GetResources.
    /// AWS: seconds to minutes. Default 3 s.
    pub tagging_lag: Duration,
    /// Resources per Tagging API GetResources page (0: moto's). Default 1.
    pub tagging_page_size: usize,
    /// Items per page of every other paginated list/describe call (0: moto's). Default 2.
    pub page_size: usize,
    /// Multiplier of AWS's default request-rate quotas (1.0: the documented defaults; 0: no
    /// throttling). Default 1.0.
    pub rate_scale: f64,
    /// GetFunction answers without `Tags` (a caller without `lambda:ListTags`). Default on.
    pub strip_function_tags: bool,
    /// A new alarm starts in INSUFFICIENT_DATA; an updated one keeps its state. Default on.
    pub alarm_initial_state: bool,
    /// How long a deleted SQS queue's name cannot be re-created (sqs.rs). AWS: 60 s.
    /// Default 3 s (`ELB_WATCH_STRICT_QUEUE_REUSE_MS`); zero switches the rule off.
    pub queue_name_reuse: Duration,
    /// A deleted queue's name, URL, attributes and tags still answer for `queue_name_reuse`
    /// (sqs.rs, rule 16). AWS: deletion takes up to 60 s and calls during it may succeed.
    /// Default on.
    pub deleting_queue_answers: bool,
    /// Alarm state changes are kept and DescribeAlarmHistory answers them (moto has no such
    /// operation). Default on.
    pub alarm_history: bool,
    /// DeleteAlarms takes the alarms' tags with them (alarm_tags.rs). Default on.
    pub alarm_tags_die: bool,
    /// A new alarm's first evaluation this long after PutMetricAlarm created it, and its
    /// actions (evaluation.rs, rule 14). AWS: within about a minute. Default `None` (off): the
    /// suite's other tests set alarm states themselves.
    pub first_evaluation: Option<Duration>,
    /// SNS delivers what is published to a topic (Publish, alarm actions) to the topic's
    /// Lambda subscribers through rule 9's runner (sns_delivery.rs, rule 15). Default on.
    pub sns_delivery: bool,
    /// SetAlarmState that changes an alarm's state runs its actions, as on AWS (evaluation.rs,
    /// rule 17; needs `alarm_history`, whose read gives the state before). Default off: the
    /// suite's other tests deliver the events of the states they set themselves.
    pub set_state_actions: bool,
    /// After a SetAlarmState that changed an alarm's state, CloudWatch's next evaluation this
    /// long after sets it back to its actual state (evaluation.rs, rule 23). AWS: "often within
    /// seconds" (SetAlarmState). Default `None` (off).
    pub next_evaluation: Option<Duration>,
    /// A new KMS key is refused to its tag-authorised caller for this long (key_tags.rs, rule
    /// 18). AWS: up to five minutes. Default zero (off): only tag-authorised callers lag.
    pub key_tag_lag: Duration,
    /// DescribeTargetGroups' `LoadBalancerArns` recomputed from the listeners and rules
    /// (routed_by.rs, rule 19). Default on.
    pub routed_by: bool,
    /// GetMetricData answers ELB `HealthyHostCount` from moto's target health (metric_data.rs,
    /// rule 20; moto publishes no ELB metrics). Default on.
    pub metric_data: bool,
    /// PutAlarmMuteRule / GetAlarmMuteRule / ListAlarmMuteRules / DeleteAlarmMuteRule and a
    /// rule's tags are answered by the layer, and an ACTIVE rule mutes its alarms' actions
    /// (mute_rules.rs, rule 21; moto has no mute rules). Default on.
    pub mute_rules: bool,
    /// One-time EventBridge Scheduler schedules (`at(…)`, read as UTC) run at their time:
    /// the Lambda target invoked asynchronously with `Target.Input` through rule 9's runner
    /// if the execution role trusts `scheduler.amazonaws.com`, then deleted when
    /// `ActionAfterCompletion` is `DELETE` (schedules.rs, rule 22; moto stores schedules and
    /// runs none). Recurring schedules are stored, not run. Default on.
    pub scheduler_runs: bool,
    /// GetMetricWidgetImage is answered by the layer with a small real PNG once moto has
    /// authorised the call, the `MetricWidget` validated (metric_image.rs, rule 25; moto has no
    /// such operation). Default on.
    pub metric_image: bool,
    /// For tests: how long the layer waits before answering GetMetricWidgetImage. AWS: well
    /// under a second for a one-metric graph of an hour. Default zero.
    pub metric_image_delay: Duration,
    /// For tests: the error code GetMetricWidgetImage answers instead of the image
    /// (`AccessDenied` as HTTP 403, `Throttling` or any other as 400). Default `None`.
    pub metric_image_refusal: Option<String>,
    /// PutMetricAlarm's `ActionConfiguration` validated, kept per alarm, dropped with it and
    /// returned by DescribeAlarms; with `AlarmTagsPropagation` enabled the alarm's tags go into
    /// the SNS notifications its actions send (action_configuration.rs, rule 24; moto ignores
    /// the parameter). Default on.
    pub action_configuration: bool,
}

impl Default for StrictConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            tags: true,
            lambda_pending: Duration::from_secs(2),
            lambda_update: Duration::from_secs(2),
            role_propagation: Duration::from_secs(3),
            tagging_lag: Duration::from_secs(3),
            tagging_page_size: 1,
            page_size: 2,
            rate_scale: 1.0,
            strip_function_tags: true,
            alarm_initial_state: true,
            queue_name_reuse: Duration::from_secs(3),
            deleting_queue_answers: true,
            alarm_history: true,
            alarm_tags_die: true,
            first_evaluation: None,
            sns_delivery: true,
            set_state_actions: false,
            next_evaluation: None,
            key_tag_lag: Duration::ZERO,
            routed_by: true,
            metric_data: true,
            mute_rules: true,
            scheduler_runs: true,
            metric_image: true,
            metric_image_delay: Duration::ZERO,
            metric_image_refusal: None,
            action_configuration: true,
        }
    }
}

impl StrictConfig {
    /// No strict layer: the emulator as is (for debugging a test).
    pub fn off() -> Self {
        Self {
            enabled: false,
            tags: false,
            lambda_pending: Duration::ZERO,
            lambda_update: Duration::ZERO,
            role_propagation: Duration::ZERO,
            tagging_lag: Duration::ZERO,
            tagging_page_size: 0,
            page_size: 0,
            rate_scale: 0.0,
            strip_function_tags: false,
            alarm_initial_state: false,
            queue_name_reuse: Duration::ZERO,
            deleting_queue_answers: false,
            alarm_history: false,
            alarm_tags_die: false,
            first_evaluation: None,
            sns_delivery: false,
            set_state_actions: false,
            next_evaluation: None,
            key_tag_lag: Duration::ZERO,
            routed_by: false,
            metric_data: false,
            mute_rules: false,
            scheduler_runs: false,
            metric_image: false,
            metric_image_delay: Duration::ZERO,
            metric_image_refusal: None,
            action_configuration: false,
        }
    }

    /// The proxy in place but every rule off: a transparent pass-through. Tests switch single
    /// rules on from here.
    pub fn none() -> Self {
        Self {
            enabled: true,
            ..Self::off()
        }
    }

    /// [`StrictConfig::default`], or [`StrictConfig::off`] when `ELB_WATCH_STRICT=off`;
    /// `ELB_WATCH_STRICT_RATE_SCALE=<f64>` scales the request-rate quotas (0 = no throttling).
    pub fn from_env() -> Self {
        let mut c = match std::env::var("ELB_WATCH_STRICT").as_deref() {
            Ok("off") | Ok("0") | Ok("false") => return Self::off(),
            _ => Self::default(),
        };
        if let Some(scale) = std::env::var("ELB_WATCH_STRICT_RATE_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            c.rate_scale = scale;
        }
        if let Some(ms) = std::env::var("ELB_WATCH_STRICT_QUEUE_REUSE_MS")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            c.queue_name_reuse = Duration::from_millis(ms);
        }
        c
    }
}

/// Mutable state shared by the rules.
#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) throttle: throttle::Buckets,
    pub(crate) paging: paging::Stash,
    pub(crate) lambda: lambda::Functions,
    pub(crate) roles: propagation::Roles,
    pub(crate) tagging: tagging::Changes,
    /// Deleted SNS topics (stale_tag.rs, added by the `aws` branch).
    pub(crate) stale_tags: stale_tag::Deleted,
    /// Deleted SQS queues (sqs.rs).
    pub(crate) deleted_queues: sqs::Deleted,
    /// Queues being deleted (sqs.rs, rule 16).
    pub(crate) deleting_queues: sqs::Deleting,
    /// Alarm state changes (history.rs).
    pub(crate) history: history::Record,
    /// KMS keys within their tag-authorisation lag (key_tags.rs).
    pub(crate) key_tags: key_tags::Keys,
    /// Alarm mute rules (mute_rules.rs).
    pub(crate) mute_rules: mute_rules::Rules,
    /// EventBridge Scheduler schedules written through the layer (schedules.rs).
    pub(crate) schedules: schedules::Schedules,
    /// Alarms' ActionConfiguration and the notifications sent (action_configuration.rs).
    pub(crate) action_configuration: action_configuration::Store,
    /// rule:operation → how many times the rule acted.
    pub(crate) stats: BTreeMap<String, usize>,
}

impl Inner {
    pub(crate) fn count(&mut self, rule: &str, op: &str) {
        self.add(rule, op, 1);
    }

    /// Adds `n` to `rule:op` (a count, or a sum such as milliseconds spent).
    pub(crate) fn add(&mut self, rule: &str, op: &str, n: usize) {
        *self.stats.entry(format!("{rule}:{op}")).or_default() += n;
    }
}

pub(crate) struct Shared {
    pub(crate) config: StrictConfig,
    pub(crate) upstream: String,
    pub(crate) client: reqwest::Client,
    pub(crate) inner: Mutex<Inner>,
    /// Requests received while recording (`None`: not recording).
    recording: Mutex<Option<Vec<RecordedCall>>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The proxy; stops when dropped.
pub struct StrictProxy {
    shared: Arc<Shared>,
    server: crate::server::LocalServer,
}

impl StrictProxy {
    /// Serve in the current tokio runtime, forwarding to `upstream` (moto's URL).
    pub async fn start(upstream: &str, config: StrictConfig) -> Result<Self> {
        let shared = Arc::new(Shared {
            config,
            upstream: upstream.trim_end_matches('/').to_string(),
            client: crate::server::http_client_builder()
                .pool_max_idle_per_host(32)
                .build()?,
            inner: Mutex::new(Inner::default()),
            recording: Mutex::new(None),
        });
        // CreateFunction carries the ~10 MB zip: lift axum's 2 MB default body limit.
        let app = Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
            .with_state(Arc::clone(&shared));
        let server = crate::server::LocalServer::start(app).await?;
        Ok(Self { shared, server })
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn config(&self) -> &StrictConfig {
        &self.shared.config
    }

    /// How often each rule acted, as `rule:Operation` → count (`throttled:PutMetricAlarm`,
    /// `paged:DescribeAlarms`, `refused-tags:CreateRole`, `conflict:UpdateFunctionCode`, …).
    pub fn stats(&self) -> BTreeMap<String, usize> {
        self.shared.lock().stats.clone()
    }

    /// Start recording the AWS requests the layer accepts (clears an earlier recording). The
    /// layer records what the code under test sent — moto's own recorder would also see the
    /// layer's side calls and miss the pages it serves itself. Throttled attempts are not
    /// recorded (see `stats()`, `throttled:*`).
    pub fn start_recording(&self) {
        *self
            .shared
            .recording
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
    }

    /// Stop recording; what was received since `start_recording`, classified like moto's
    /// recording ([`crate::emulator::parse_recorded`]).
    pub fn stop_recording(&self) -> Vec<RecordedCall> {
        self.shared
            .recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default()
    }

    /// Sum of `stats()` entries whose rule is `rule`.
    pub fn count(&self, rule: &str) -> usize {
        let prefix = format!("{rule}:");
        self.stats()
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v)
            .sum()
    }
}

/// An answer from moto, before the rules rewrite it.
pub(crate) struct Upstream {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Upstream {
    pub(crate) fn ok(&self) -> bool {
        self.status.is_success()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn into_response(self) -> Response {
        let mut out = (self.status, self.body).into_response();
        for (k, v) in self.headers.iter() {
            if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                out.headers_mut().insert(k, v.clone());
            }
        }
        out
    }
}

/// A JSON 1.0 call to moto (`x-amz-target: <target>`) with the caller's credentials; its
/// answer, or `None` when moto refused it or could not be reached.
pub(crate) async fn moto_json(
    shared: &Shared,
    headers: &HeaderMap,
    target: &str,
    body: serde_json::Value,
) -> Option<serde_json::Value> {
    moto_json_as(shared, headers, None, target, body).await
}

/// [`moto_json`] on behalf of another service than the caller's: the credentials' scope names
/// `service` (moto takes the account and region from the scope, and routes by the service) —
/// what Lambda does with the function's role, for its logs and its on-failure queue.
pub(crate) async fn moto_json_as(
    shared: &Shared,
    headers: &HeaderMap,
    service: Option<&str>,
    target: &str,
    body: serde_json::Value,
) -> Option<serde_json::Value> {
    let mut req = shared
        .client
        .post(format!("{}/", shared.upstream))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target)
        .body(body.to_string());
    if let Some(auth) = headers.get("authorization").and_then(|a| a.to_str().ok()) {
        let auth = match service {
            Some(service) => scoped_to(auth, service),
            None => auth.to_string(),
        };
        req = req.header("authorization", auth);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    serde_json::from_slice(&resp.bytes().await.ok()?).ok()
}

/// A SigV4 `Authorization` header with its credential scope's service replaced.
fn scoped_to(auth: &str, service: &str) -> String {
    let Some(start) = auth.find("Credential=") else {
        return auth.to_string();
    };
    let scope_start = start + "Credential=".len();
    let end = auth[scope_start..]
        .find([',', ' '])
        .map_or(auth.len(), |e| scope_start + e);
    let mut parts: Vec<&str> = auth[scope_start..end].split('/').collect();
    if parts.len() == 5 {
        parts[3] = service;
    }
    format!(
        "{}{}{}",
        &auth[..scope_start],
        parts.join("/"),
        &auth[end..]
    )
}

/// Send a request to moto exactly as received (Host and signature included).
pub(crate) async fn forward(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Upstream, String> {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut req = shared
        .client
        .request(method.clone(), format!("{}{path}", shared.upstream))
        .body(body);
    for (k, v) in headers.iter() {
        if k != "content-length" && k != "connection" && k != "transfer-encoding" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(Upstream {
        status,
        headers,
        body,
    })
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = protocol::parse(&method, &uri, &headers, &body);
    let aws = !matches!(call.protocol, Protocol::Other | Protocol::Cbor);
    if !aws || !shared.config.enabled {
        return match forward(&shared, &method, &uri, &headers, body).await {
            Ok(up) => up.into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
        };
    }
    if shared.config.rate_scale > 0.0 {
        let mut inner = shared.lock();
        if let Some(resp) = throttle::check(&mut inner, &shared.config, &call) {
            return resp;
        }
    }
    record(&shared, &method, &uri, &headers, &body);
    if let Some(resp) = lambda_async::handle(&shared, &call, &method, &uri, &headers, &body).await {
        return resp;
    }
    if let Some(resp) = history::answer(&shared, &call, &method, &uri, &headers, &body).await {
        return resp;
    }
    if let Some(resp) = mute_rules::answer(&shared, &call, &method, &uri, &headers, &body).await {
        return resp;
    }
    if let Some(resp) = metric_image::answer(&shared, &call, &method, &uri, &headers, &body).await {
        return resp;
    }
    if let Some(resp) = before(&shared, &call) {
        return resp;
    }
    let prior = alarms::before(&shared, &call, &headers).await;
    let created = matches!(prior, Some(None));
    let prior_state = history::before(&shared, &call, &headers).await;
    let doomed = alarm_tags::before(&shared, &call, &headers).await;
    let kept_tags = alarm_tags::before_put(&shared, &call, &headers).await;
    let deleting = sqs::before_delete(&shared, &call, &headers).await;
    let up = match forward(&shared, &method, &uri, &headers, body).await {
        Ok(up) => up,
        Err(e) => return (StatusCode::BAD_GATEWAY, e).into_response(),
    };
    if let Some(refused) = denied::rewrite(&call, &up) {
        return refused;
    }
    let up = routed_by::rewrite(&shared, &call, &headers, up).await;
    let up = metric_data::rewrite(&shared, &call, &headers, up).await;
    let up = after(&shared, &call, up);
    history::after(&shared, &call, prior_state.clone(), up.ok());
    evaluation::after_set_state(&shared, &call, &headers, prior_state, up.ok()).await;
    alarms::after(&shared, &call, &headers, prior, up.ok()).await;
    evaluation::after_create(&shared, &call, &headers, created && up.ok());
    sns_delivery::after_publish(&shared, &call, &headers, up.ok()).await;
    schedules::after_write(&shared, &call, &headers, up.ok());
    alarm_tags::after(&shared, &headers, doomed, up.ok()).await;
    alarm_tags::after_put(&shared, &headers, kept_tags, up.ok()).await;
    sqs::after_delete(&shared, deleting, up.ok());
    up.into_response()
}

/// Add the request to the recording, when recording.
fn record(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) {
    let mut rec = shared.recording.lock().unwrap_or_else(|e| e.into_inner());
    let Some(calls) = rec.as_mut() else {
        return;
    };
    let headers_json: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.into())))
        .collect();
    let entry = serde_json::json!({
        "headers": headers_json,
        "method": method.as_str(),
        "url": format!("http://strict{uri}"),
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "body_encoded": true,
    });
    if let Ok(call) = parse_recorded(&entry) {
        calls.push(call);
    }
}

/// The rules that may answer instead of moto, in order (throttling came first).
fn before(shared: &Shared, call: &Call) -> Option<Response> {
    let c = &shared.config;
    let mut inner = shared.lock();
    if let Some(resp) = paging::from_stash(&mut inner, c, call) {
        return Some(resp);
    }
    if c.tags
        && let Some(resp) = tags::check(call)
    {
        inner.count("refused-tags", &call.operation);
        return Some(resp);
    }
    if c.metric_data
        && let Some(resp) = metric_data::check(call)
    {
        inner.count("metric-data", "refused");
        return Some(resp);
    }
    if let Some(resp) = stale_tag::check(&mut inner, call) {
        return Some(resp);
    }
    if let Some(resp) = sqs::check(&mut inner, c, call) {
        return Some(resp);
    }
    if c.deleting_queue_answers
        && let Some(resp) = sqs::answer_while_deleting(&mut inner, c, call)
    {
        return Some(resp);
    }
    if let Some(resp) = lambda::check(&mut inner, c, call) {
        return Some(resp);
    }
    if let Some(resp) = propagation::check(&mut inner, c, call) {
        return Some(resp);
    }
    if let Some(resp) = key_tags::check(&mut inner, c, call) {
        return Some(resp);
    }
    if let Some(resp) = action_configuration::check(&mut inner, c, call) {
        return Some(resp);
    }
    None
}

/// Record what moto did and rewrite its answer.
fn after(shared: &Shared, call: &Call, mut up: Upstream) -> Upstream {
    let c = &shared.config;
    let mut inner = shared.lock();
    if up.ok() {
        propagation::record(&mut inner, c, call, &up);
        key_tags::record(&mut inner, c, call, &up);
        tagging::record(&mut inner, c, call, &up);
        stale_tag::record(&mut inner, call);
        sqs::record(&mut inner, call);
        lambda::record(&mut inner, c, call, &up);
        up = lambda::rewrite(&mut inner, c, call, up);
        up = tagging::rewrite(&mut inner, c, call, up);
        action_configuration::record(&mut inner, c, call);
        up = action_configuration::rewrite(&mut inner, c, call, up);
        up = paging::rewrite(&mut inner, c, call, up);
    }
    up
}

/// A [`StrictProxy`] on its own tokio runtime (for sync callers such as
/// [`crate::emulator::Emulator`]); stops when dropped, also from inside another runtime.
pub struct BackgroundProxy {
    proxy: Option<StrictProxy>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BackgroundProxy {
    pub fn start(upstream: &str, config: StrictConfig) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strict-proxy")
            .enable_all()
            .build()?;
        let upstream = upstream.to_string();
        // block_on must not run inside another runtime: start from a plain thread.
        let (proxy, runtime) = std::thread::scope(|s| {
            s.spawn(move || {
                let proxy = runtime.block_on(StrictProxy::start(&upstream, config));
                (proxy, runtime)
            })
            .join()
            .expect("strict proxy start thread panicked")
        });
        Ok(Self {
            proxy: Some(proxy?),
            runtime: Some(runtime),
        })
    }

    pub fn proxy(&self) -> &StrictProxy {
        self.proxy.as_ref().expect("present until drop")
    }
}

impl Drop for BackgroundProxy {
    fn drop(&mut self) {
        // Dropping the server aborts its task; it must happen while the runtime still exists.
        if let Some(rt) = self.runtime.as_ref() {
            let _guard = rt.enter();
            self.proxy.take();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_scope_names_another_service() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/sns/aws4_request, \
                    SignedHeaders=host, Signature=abc";
        assert_eq!(
            scoped_to(auth, "logs"),
            "AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/logs/aws4_request, \
             SignedHeaders=host, Signature=abc"
        );
        assert_eq!(scoped_to("Bearer x", "logs"), "Bearer x");
    }
}
