//! The invocation handler: SNS records in, Slack messages out — to the incoming webhook, or
//! in Slack app mode through the Web API, one thread per incident ([`crate::slack::app`]); the mode
//! comes from the environment ([`config::mode`]).
//!
//! Every record of the event is processed (not only the first). If any record cannot be
//! delivered the invocation returns an error, which makes Lambda retry the *whole* event
//! asynchronously (twice by default) and then send it to the DLQ / on-failure destination;
//! records already delivered are posted again on retry. SNS delivers one record per
//! invocation in practice, so this only duplicates anything for hand-made multi-record events.
//!
//! The end of a maintenance window ([`window_end`]) comes without records: its alarms still
//! in ALARM that changed state during the window are looked up in CloudWatch and each goes
//! through the same stages as an SNS record, as the notification CloudWatch would have sent.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch as cloudwatch;
use aws_sdk_elasticloadbalancing as elb;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use aws_sdk_kms as kms;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::enrich::history;
use crate::enrich::outage::{self, Outage};
use crate::enrich::targets::{self, Enrichment, Targets};
use crate::enrich::{graph, metric_image};
use crate::event::decide::{self, Decision};
use crate::event::incident::{self, Plan};
use crate::event::kind::{self, LbKind};
use crate::event::parse::{self, AlarmState, Notification};
use crate::event::synthesized;
use crate::render::message::{self, Replayed};
use crate::runtime::config::{self, BotToken, Mode, SecretSource, Settings, Webhook};
use crate::runtime::replay;
use crate::runtime::window_end::{self, Verdict, WindowEnded};
use crate::runtime::window_lookup;
use crate::slack::app;
use crate::slack::thread_store;
use crate::slack::uploads;
use crate::slack::web_api::WebApi;
use crate::slack::webhook;

/// Time kept in reserve before the invocation deadline, to report an error ourselves instead
/// of being killed by the Lambda timeout.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// Error categories, reported as Lambda's `errorType`.
pub const ERR_CONFIG: &str = "ElbWatch.ConfigError";
pub const ERR_EVENT: &str = "ElbWatch.InvalidEvent";
pub const ERR_DELIVERY: &str = "ElbWatch.DeliveryFailed";

fn diagnostic(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: message.into(),
    }
}

/// State kept for the life of the execution environment (cold start to shutdown).
pub struct Notifier {
    settings: Settings,
    mode: Mode,
    webhook: OnceCell<Webhook>,
    /// App mode: the Web API client (token decrypted once).
    web_api: OnceCell<WebApi>,
    http: reqwest::Client,
    /// Loaded on first use (KMS at init, or the first enrichment): a plain-URL cold start does
    /// not pay for it before its first `/next`.
    sdk: OnceCell<SdkConfig>,
    elbv2: Mutex<HashMap<String, elbv2::Client>>,
    cloudwatch: Mutex<HashMap<String, cloudwatch::Client>>,
    /// App mode: the graphs of this invocation's alerts, posted once every alert's text is
    /// out (a window's end announces many alarms: no text waits for another's graph).
    graphs: Mutex<Vec<GraphJob>>,
    /// App mode: when this environment last handled each alarm's incident (alarm ARN → epoch
    /// ms, after its tag writes): a notification older than that may lack them
    /// ([`thread_store::snapshot_state`]).
    handled: Mutex<HashMap<String, i64>>,
}

/// Where messages go.
enum Target<'a> {
    Webhook(&'a Webhook),
    App { api: &'a WebApi, channel: &'a str },
}

/// An alert's graph to post in its thread (app mode), once the invocation's texts are out.
struct GraphJob {
    alarm: parse::Alarm,
    /// The SNS `Message` (its `Trigger` is the graph's metric).
    raw: String,
    outage: Outage,
    channel: String,
    /// The thread's parent.
    thread_ts: String,
}

/// A delivered message, for the log.
struct Sent {
    attempts: u32,
    status: Option<u16>,
    plan: &'static str,
    thread_ts: Option<String>,
    /// App mode: the channel and the `ts` of the thread's parent the message is in (or is).
    thread: Option<(String, String)>,
}

/// The wall clock, epoch milliseconds.
fn now_ms() -> i64 {
    chrono::DateTime::<chrono::Utc>::from(SystemTime::now()).timestamp_millis()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Milliseconds since `started`, to 0.01 ms (for the graph's log lines).
fn ms_since(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

/// The client of `region` from `clients`, made on first use (alarms name their region).
fn regional<C: Clone>(
    clients: &Mutex<HashMap<String, C>>,
    region: &str,
    make: impl FnOnce(aws_config::Region) -> C,
) -> C {
    let mut clients = clients.lock().unwrap_or_else(|p| p.into_inner());
    clients
        .entry(region.to_owned())
        .or_insert_with(|| make(aws_config::Region::new(region.to_owned())))
        .clone()
}

impl Notifier {
    /// Reads the environment and loads the AWS SDK configuration (which honours
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, the Lambda credentials...). Never fails: a
    /// configuration problem is reported by every invocation instead.
    pub async fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        let (settings, warnings) = config::settings_from(var);
        for w in warnings {
            tracing::warn!(problem = %w, "ignoring invalid setting");
        }
        let mode = config::mode(var);
        // Which mode, never a value (the variables hold secrets).
        tracing::info!(mode = mode.name(), "slack delivery mode");
        let http = crate::slack::http::http_client(settings.retry.timeout);
        Self::with_sdk(settings, mode, http, OnceCell::new())
    }

    pub fn new(settings: Settings, mode: Mode, http: reqwest::Client, sdk: SdkConfig) -> Self {
        Self::with_sdk(settings, mode, http, OnceCell::new_with(Some(sdk)))
    }

    fn with_sdk(
        settings: Settings,
        mode: Mode,
        http: reqwest::Client,
        sdk: OnceCell<SdkConfig>,
    ) -> Self {
        Self {
            settings,
            mode,
            webhook: OnceCell::new(),
            web_api: OnceCell::new(),
            http,
            sdk,
            elbv2: Mutex::new(HashMap::new()),
            cloudwatch: Mutex::new(HashMap::new()),
            graphs: Mutex::new(Vec::new()),
            handled: Mutex::new(HashMap::new()),
        }
    }

    /// The AWS SDK configuration (honours `AWS_ENDPOINT_URL`, `AWS_REGION`, the Lambda
    /// credentials...), with an HTTP client on rustls + ring.
    async fn sdk(&self) -> &SdkConfig {
        self.sdk
            .get_or_init(|| async {
                let http = aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https();
                aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .http_client(http)
                    .load()
                    .await
            })
            .await
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Decrypts what the mode needs (at init, so that cold invocations are cheaper); the error
    /// is a configuration problem.
    pub async fn prepare(&self) -> Result<(), String> {
        self.target().await.map(drop)
    }

    /// Where messages go, its secret decrypted once. A failure is not cached: the next
    /// invocation tries again (a KMS throttle at cold start must not poison the environment),
    /// and a permanent problem (missing variable, bad ciphertext) is reported clearly on each
    /// invocation.
    async fn target(&self) -> Result<Target<'_>, String> {
        match &self.mode {
            Mode::Webhook(source) => self.webhook(source).await.map(Target::Webhook),
            Mode::App { token, api_url } => {
                let channel = self.settings.channel.as_deref().ok_or_else(|| {
                    format!(
                        "Slack app mode needs {}: the ID of the channel to post in (C0123ABCD)",
                        config::ENV_CHANNEL
                    )
                })?;
                let api = self
                    .web_api
                    .get_or_try_init(|| async {
                        let root = config::api_root(api_url.as_deref())?;
                        let token = self
                            .secret(token, config::ENV_KMS_TOKEN, config::ENV_PLAIN_TOKEN)
                            .await?;
                        let token = BotToken::new(&token)?;
                        Ok::<_, String>(WebApi::new(self.http.clone(), root, token))
                    })
                    .await?;
                Ok(Target::App { api, channel })
            }
        }
    }

    /// The plain value of a secret: as set, or decrypted with KMS (`kms_var` names the
    /// variable in errors).
    async fn secret(
        &self,
        source: &SecretSource,
        kms_var: &str,
        plain_var: &str,
    ) -> Result<String, String> {
        match source {
            SecretSource::Missing => Err(format!("neither {kms_var} nor {plain_var} is set")),
            SecretSource::Plain(value) => Ok(value.clone()),
            SecretSource::Kms(ciphertext) => {
                let client = kms::Client::new(self.sdk().await);
                config::decrypt_secret(
                    &client,
                    kms_var,
                    ciphertext,
                    self.settings.function_name.as_deref(),
                )
                .await
            }
        }
    }

    async fn webhook(&self, source: &SecretSource) -> Result<&Webhook, String> {
        self.webhook
            .get_or_try_init(|| async {
                if *source == SecretSource::Missing {
                    return Err(format!(
                        "no Slack destination configured: set {} (KMS ciphertext) or {} for the \
                         incoming webhook, or {} / {} (and {}) for Slack app mode",
                        config::ENV_KMS_HOOK,
                        config::ENV_PLAIN_HOOK,
                        config::ENV_KMS_TOKEN,
                        config::ENV_PLAIN_TOKEN,
                        config::ENV_CHANNEL
                    ));
                }
                let url = self
                    .secret(source, config::ENV_KMS_HOOK, config::ENV_PLAIN_HOOK)
                    .await?;
                let var = match source {
                    SecretSource::Kms(_) => format!("decrypted {}", config::ENV_KMS_HOOK),
                    _ => config::ENV_PLAIN_HOOK.to_owned(),
                };
                config::normalize_url(&url).map_err(|e| format!("{var}: {e}"))
            })
            .await
    }

    async fn elbv2_client(&self, region: &str) -> elbv2::Client {
        let sdk = self.sdk().await;
        regional(&self.elbv2, region, |region| {
            elbv2::Client::from_conf(elbv2::config::Builder::from(sdk).region(region).build())
        })
    }

    async fn cloudwatch_client(&self, region: &str) -> cloudwatch::Client {
        let sdk = self.sdk().await;
        regional(&self.cloudwatch, region, |region| {
            cloudwatch::Client::from_conf(
                cloudwatch::config::Builder::from(sdk)
                    .region(region)
                    .build(),
            )
        })
    }

    /// A window's CloudWatch calls (the alarms to announce): each at most a third of what is
    /// left, and no more than 5 s or the enrichment timeout, whichever is longer.
    fn lookup_budget(&self, deadline: Instant) -> Duration {
        let left = deadline.saturating_duration_since(Instant::now());
        self.settings
            .enrich_timeout
            .max(Duration::from_secs(5))
            .min(left / 3)
    }

    /// Never let enrichment eat the time delivery needs: at most a third of what is left.
    fn enrich_budget(&self, deadline: Instant) -> Duration {
        let left = deadline.saturating_duration_since(Instant::now());
        self.settings.enrich_timeout.min(left / 3)
    }

    /// App mode: where a load-balancer alarm's thread is kept (its tag), when it can be kept.
    async fn tag_store(
        &self,
        notification: &Notification,
        deadline: Instant,
    ) -> Option<app::TagStore> {
        let Notification::Alarm(alarm) = notification else {
            return None;
        };
        if !incident::is_threaded(notification) {
            return None;
        }
        let (Some(region), Some(arn)) = (alarm.region(), alarm.arn.clone()) else {
            return None;
        };
        Some(app::TagStore {
            client: self.cloudwatch_client(region).await,
            alarm_arn: arn,
            // Like enrichment, the tag calls must leave delivery most of the time left.
            timeout: self.enrich_budget(deadline),
        })
    }

    /// App mode: the incident's stored state, and the alarm's tags (for its runbook): from the
    /// notification's own tags when that snapshot can stand for the alarm's tag now
    /// ([`thread_store::snapshot_state`]: no ListTagsForResource), else read from the alarm.
    async fn incident_state(
        &self,
        store: &app::TagStore,
        notification: &Notification,
    ) -> (Option<incident::Stored>, Option<BTreeMap<String, String>>) {
        let Notification::Alarm(alarm) = notification else {
            return (None, None);
        };
        let now_ms = now_ms();
        let last = lock(&self.handled).get(&store.alarm_arn).copied();
        match thread_store::snapshot_state(alarm, now_ms, last) {
            Ok(stored) => {
                tracing::debug!(
                    alarm = %alarm.name,
                    "incident state from the tags in the notification (no ListTagsForResource)"
                );
                (stored, alarm.payload_tags().cloned())
            }
            Err(why) => {
                tracing::debug!(alarm = %alarm.name, reason = why, "reading the alarm's tags");
                let (stored, tags) = app::read_state(store, &alarm.name).await;
                (stored, tags.or_else(|| alarm.payload_tags().cloned()))
            }
        }
    }

    /// DescribeTargetHealth for ALARM notifications of target-group alarms.
    async fn targets_for(&self, notification: &Notification, deadline: Instant) -> Targets {
        let Notification::Alarm(alarm) = notification else {
            return Targets::NotApplicable;
        };
        if !self.settings.enrich || alarm.new_state != AlarmState::Alarm {
            return Targets::NotApplicable;
        }
        let Some(region) = alarm.region() else {
            return Targets::NotApplicable;
        };
        let budget = self.enrich_budget(deadline);
        let classic = kind::kind_of(alarm) == Some(LbKind::Classic);
        let answer = match (
            classic,
            alarm.load_balancer_name(),
            alarm.target_group_arn(),
        ) {
            (true, Some(name), _) => {
                let client = elb::Client::from_conf(
                    elb::config::Builder::from(self.sdk().await)
                        .region(aws_config::Region::new(region.to_owned()))
                        .build(),
                );
                targets::describe_instance_health(&client, name, budget).await
            }
            (false, _, Some(arn)) => {
                targets::describe_target_health(&self.elbv2_client(region).await, &arn, budget)
                    .await
            }
            _ => return Targets::NotApplicable,
        };
        let arn = alarm
            .target_group_arn()
            .or_else(|| alarm.load_balancer_name().map(String::from))
            .unwrap_or_default();
        match answer {
            Ok(report) => {
                tracing::info!(
                    alarm = %alarm.name,
                    registered = report.registered,
                    unhealthy = report.unhealthy.len(),
                    "target health fetched"
                );
                Targets::Report(report)
            }
            Err(e) => {
                if classic {
                    tracing::warn!(
                        alarm = %alarm.name,
                        load_balancer = %arn,
                        error = %e,
                        "DescribeInstanceHealth failed; sending the alert without instance details"
                    );
                } else {
                    tracing::warn!(
                        alarm = %alarm.name,
                        target_group = %arn,
                        error = %e,
                        "DescribeTargetHealth failed; sending the alert without target details"
                    );
                }
                Targets::Unavailable
            }
        }
    }

    /// DescribeAlarmHistory for recoveries: how long the alarm was in ALARM. Any failure —
    /// refused, throttled, timed out, no ALARM in the history — leaves the outage unknown and
    /// the recovery is posted as it was before outages were stated.
    async fn outage_for(&self, notification: &Notification, deadline: Instant) -> Outage {
        let Notification::Alarm(alarm) = notification else {
            return Outage::NotApplicable;
        };
        // Only the load balancers' alarms: the role may read the history of those alone (not
        // of the alarms on the alerting path, nor of anyone else's alarm on the topic).
        if !self.settings.enrich || !outage::is_recovery(alarm) || kind::kind_of(alarm).is_none() {
            return Outage::NotApplicable;
        }
        let (Some(region), Some(ok_at)) = (alarm.region(), alarm.state_changed_at()) else {
            tracing::warn!(
                alarm = %alarm.name,
                "recovery without a region or StateChangeTime; sending it without its duration"
            );
            return Outage::Unknown;
        };
        let budget = self.enrich_budget(deadline);
        let client = self.cloudwatch_client(region).await;
        let entries = match history::state_updates(&client, &alarm.name, ok_at, budget).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(
                    alarm = %alarm.name,
                    error = %e,
                    "DescribeAlarmHistory failed; sending the recovery without its duration"
                );
                return Outage::Unknown;
            }
        };
        match outage::outage(&entries, ok_at) {
            Ok(span) => {
                tracing::info!(
                    alarm = %alarm.name,
                    since = %span.since.to_rfc3339(),
                    outage_s = span.duration().num_seconds(),
                    "outage found in the alarm history"
                );
                Outage::Known(span)
            }
            Err(why) => {
                tracing::warn!(
                    alarm = %alarm.name,
                    items = entries.len(),
                    problem = %why,
                    "no outage in the alarm history; sending the recovery without its duration"
                );
                Outage::Unknown
            }
        }
    }

    /// Handles one invocation. `deadline` is the invocation's deadline (`LambdaEvent`
    /// context).
    pub async fn handle(&self, payload: Value, deadline: SystemTime) -> Result<Value, Diagnostic> {
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(DEADLINE_MARGIN);
        let deadline = Instant::now() + left;

        lock(&self.graphs).clear();
        let target = self.target().await.map_err(|e| {
            tracing::error!(error = %e, "configuration error");
            diagnostic(ERR_CONFIG, e)
        })?;

        // `elb-watch replay` re-sends an alert Lambda could not deliver: it is marked as late.
        let replay = replay::parse(&payload);

        if let Some(marker) = window_end::parse(&payload) {
            let marker = marker.map_err(|e| {
                tracing::error!(error = %e, "invalid event");
                diagnostic(ERR_EVENT, e)
            })?;
            return self
                .window_ended(&marker, &target, replay.as_ref(), deadline)
                .await;
        }

        let event = parse::parse_event(&payload).map_err(|e| {
            tracing::error!(error = %e, "invalid event");
            diagnostic(ERR_EVENT, e)
        })?;
        let total = event.records.len();
        let (mut delivered, mut skipped) = (0usize, 0usize);
        let mut failures = Vec::new();
        for (index, record) in event.records.iter().enumerate() {
            let record = Record {
                index,
                message_id: record.message_id.as_deref().unwrap_or(""),
                raw: record.message.as_deref().unwrap_or(""),
                notification: parse::parse_notification(
                    record.subject.as_deref(),
                    record.message.as_deref().unwrap_or(""),
                ),
                window: None,
            };
            match self
                .process(&record, &target, replay.as_ref(), deadline)
                .await
            {
                Processed::Delivered => delivered += 1,
                Processed::Skipped => skipped += 1,
                Processed::Failed(why) => failures.push(why),
            }
        }

        self.post_graphs(&target, deadline).await;
        if failures.is_empty() {
            Ok(json!({"records": total, "delivered": delivered, "skipped": skipped}))
        } else {
            Err(diagnostic(
                ERR_DELIVERY,
                format!(
                    "{} of {} record(s) not delivered to Slack: {}",
                    failures.len(),
                    total,
                    failures.join("; ")
                ),
            ))
        }
    }

    /// The end of maintenance window `marker`: its alarms (named, and each rule's targets) that
    /// are still in ALARM and changed state during the window, each through [`Self::process`]
    /// as the notification CloudWatch would have sent. A failed CloudWatch call is an error
    /// (Lambda retries the invocation, then the on-failure destination keeps it), as is an
    /// alarm not delivered.
    async fn window_ended(
        &self,
        marker: &WindowEnded,
        target: &Target<'_>,
        replay: Option<&replay::Replay>,
        deadline: Instant,
    ) -> Result<Value, Diagnostic> {
        let window = marker.window.as_str();
        let lookup_failed = |call: &str, what: &str, e: String| {
            tracing::error!(
                window,
                call,
                target = what,
                error = %e,
                "window end: CloudWatch call failed; its alarms are not announced"
            );
            diagnostic(
                ERR_DELIVERY,
                format!("window {window}: {call} {what} failed: {e}"),
            )
        };
        let Some(region) = self.sdk().await.region().map(|r| r.as_ref().to_owned()) else {
            let e = "no AWS region (AWS_REGION) for the window's CloudWatch calls".to_owned();
            tracing::error!(window, error = %e, "configuration error");
            return Err(diagnostic(ERR_CONFIG, e));
        };
        let client = self.cloudwatch_client(&region).await;

        let mut targets = Vec::with_capacity(marker.rules.len());
        for rule in &marker.rules {
            match window_lookup::rule_targets(&client, rule, self.lookup_budget(deadline))
                .await
                .map_err(|e| lookup_failed("GetAlarmMuteRule", rule, e))?
            {
                Some(names) => targets.push(names),
                None => tracing::warn!(
                    window = %marker.window,
                    rule = %rule,
                    "mute rule gone (ended by unmute or down): nothing to announce from it"
                ),
            }
        }
        let names = window_end::alarm_names(marker, targets.iter().map(Vec::as_slice));
        let in_alarm = if names.is_empty() {
            Vec::new()
        } else {
            window_lookup::in_alarm(&client, &names, self.lookup_budget(deadline))
                .await
                .map_err(|e| {
                    lookup_failed("DescribeAlarms", &format!("({} alarms)", names.len()), e)
                })?
        };

        let now = chrono::DateTime::<chrono::Utc>::from(SystemTime::now());
        let mut announce = Vec::new();
        for alarm in &in_alarm {
            let facts = synthesized::facts(alarm);
            match window_end::verdict(&facts, now, marker.muted_for_s) {
                Verdict::Announce => announce.push(alarm),
                Verdict::Skip(why) => tracing::debug!(
                    window,
                    alarm = %facts.name,
                    state_change_time = %facts
                        .changed_at
                        .map(synthesized::notification_time)
                        .unwrap_or_default(),
                    reason = why,
                    "window end: not announced"
                ),
            }
        }
        let checked = names.len();
        if announce.is_empty() {
            tracing::info!(
                window,
                rules = marker.rules.len(),
                checked,
                in_alarm = in_alarm.len(),
                announced = 0,
                muted_for_s = marker.muted_for_s,
                "window end: no alarm of the window is still in ALARM from a change during \
                 it; nothing to post"
            );
            return Ok(json!({"window": window, "checked": checked, "announced": 0,
                             "delivered": 0, "skipped": 0}));
        }

        let (mut delivered, mut skipped) = (0usize, 0usize);
        let mut failures = Vec::new();
        for (index, alarm) in announce.iter().enumerate() {
            let message = synthesized::notification(alarm).to_string();
            let record = Record {
                index,
                message_id: "",
                raw: &message,
                notification: parse::parse_notification(Some("ALARM"), &message),
                window: Some(window),
            };
            match self.process(&record, target, replay, deadline).await {
                Processed::Delivered => delivered += 1,
                Processed::Skipped => skipped += 1,
                Processed::Failed(why) => failures.push(why),
            }
        }
        self.post_graphs(target, deadline).await;
        let announced = announce.len();
        tracing::info!(
            window,
            rules = marker.rules.len(),
            checked,
            in_alarm = in_alarm.len(),
            announced,
            delivered,
            skipped,
            failed = failures.len(),
            muted_for_s = marker.muted_for_s,
            "window end: alarms still in ALARM announced"
        );
        if failures.is_empty() {
            Ok(
                json!({"window": window, "checked": checked, "announced": announced,
                      "delivered": delivered, "skipped": skipped}),
            )
        } else {
            Err(diagnostic(
                ERR_DELIVERY,
                format!(
                    "window {window}: {} of {announced} alarm(s) not delivered to Slack: {}",
                    failures.len(),
                    failures.join("; ")
                ),
            ))
        }
    }

    /// One record through the stages, in order: decide (worth a post?) → the incident's
    /// stored state (app mode) → plan (with order) → enrich → render → deliver.
    async fn process(
        &self,
        record: &Record<'_>,
        target: &Target<'_>,
        replay: Option<&replay::Replay>,
        deadline: Instant,
    ) -> Processed {
        let notification = &record.notification;
        if let Decision::Skip(why) = decide::decide(notification) {
            record.skipped(why);
            return Processed::Skipped;
        }
        // The alarm's tags: from the notification (webhook mode, or app mode's snapshot), or
        // read with the thread tag (app mode).
        let payload_tags =
            || message::alarm_of(notification).and_then(|a| a.payload_tags().cloned());
        let (plan, tags, alarm_tags) = match target {
            Target::Webhook(_) => (Plan::Standalone, None, payload_tags()),
            Target::App { channel, .. } => {
                let tags = self.tag_store(notification, deadline).await;
                let (stored, alarm_tags) = match &tags {
                    Some(store) => self.incident_state(store, notification).await,
                    None => (None, payload_tags()),
                };
                match incident::plan(notification, stored.as_ref(), channel, replay.is_some()) {
                    Ok(plan) => (plan, tags, alarm_tags),
                    Err(why) => {
                        record.skipped(why);
                        return Processed::Skipped;
                    }
                }
            }
        };
        let found = Enrichment {
            targets: self.targets_for(notification, deadline).await,
            outage: self.outage_for(notification, deadline).await,
        };
        let replayed = replay.map(|r| Replayed {
            first_fired: replay::first_fired(notification, r),
        });
        let mut payload = message::message(
            notification,
            &found,
            &plan,
            replayed.as_ref(),
            record.window,
            self.settings.channel.as_deref(),
        );
        let (runbook, bad_tag) =
            message::runbook(alarm_tags.as_ref(), self.settings.runbook_url.as_deref());
        if let Some(why) = bad_tag.filter(|_| message::shows_runbook(notification)) {
            tracing::warn!(
                alarm = record.alarm_name(),
                problem = %why,
                "ignoring the alarm's runbook tag (an https URL of at most 3000 characters)"
            );
        }
        let extras = message::Extras {
            mentions: &self.settings.mentions,
            runbook: runbook.as_deref(),
        };
        message::add_extras(&mut payload, notification, &plan, replay.is_some(), &extras);

        let started = Instant::now();
        let sent = match target {
            Target::Webhook(webhook) => {
                let body =
                    serde_json::to_vec(&payload).expect("a serde_json::Value always serialises");
                webhook::post(&self.http, webhook, &body, &self.settings.retry, deadline)
                    .await
                    .map(|ok| Sent {
                        attempts: ok.attempts,
                        status: Some(ok.status),
                        plan: "webhook",
                        thread_ts: None,
                        thread: None,
                    })
            }
            Target::App { api, channel } => {
                let at_ms = match notification {
                    Notification::Alarm(a) => incident::event_ms(a),
                    Notification::Other { .. } => None,
                };
                let incident = app::Incident {
                    notification,
                    rendered: &payload,
                    outage: &found.outage,
                    at_ms,
                };
                app::deliver(
                    api,
                    channel,
                    incident,
                    plan,
                    tags.as_ref(),
                    &self.settings.retry,
                    deadline,
                )
                .await
                .map(|ok| Sent {
                    attempts: ok.attempts,
                    status: None,
                    plan: ok.plan,
                    thread: Some((ok.channel, ok.thread_ts.clone().unwrap_or(ok.ts))),
                    thread_ts: ok.thread_ts,
                })
            }
        };
        if let Some(store) = &tags {
            let now_ms = now_ms();
            lock(&self.handled).insert(store.alarm_arn.clone(), now_ms);
        }
        let thread = sent.as_ref().ok().and_then(|s| s.thread.clone());
        let processed = record.outcome(sent, replay.is_some(), started);
        // The text is out; its graph follows in its thread once every text of the invocation
        // is (app mode, best effort: [`Self::post_graphs`]).
        if let (Target::App { .. }, Some((channel, thread_ts)), Notification::Alarm(alarm)) =
            (target, thread, notification)
            && self.settings.enrich
            && graph::wanted(alarm)
        {
            lock(&self.graphs).push(GraphJob {
                alarm: (**alarm).clone(),
                raw: record.raw.to_owned(),
                outage: found.outage.clone(),
                channel,
                thread_ts,
            });
        }
        processed
    }

    /// App mode: the graphs queued by this invocation's alerts, in order, after their texts.
    async fn post_graphs(&self, target: &Target<'_>, deadline: Instant) {
        let jobs = std::mem::take(&mut *lock(&self.graphs));
        if let Target::App { api, .. } = target {
            for job in &jobs {
                self.post_graph(job, api, deadline).await;
            }
        }
    }

    /// App mode, after the alert is posted: the alarm's graph (GetMetricWidgetImage, at most
    /// [`metric_image::IMAGE_TIMEOUT`]) uploaded into the incident's thread. Best effort: a
    /// refused, throttled or slow image call, or a refused upload (`missing_scope` for
    /// `files:write`, …), leaves the alert without its graph, with a warning saying why.
    async fn post_graph(&self, job: &GraphJob, api: &WebApi, deadline: Instant) {
        let (alarm, channel, thread_ts) =
            (&job.alarm, job.channel.as_str(), job.thread_ts.as_str());
        let (Some(region), Ok(message)) = (alarm.region(), serde_json::from_str::<Value>(&job.raw))
        else {
            return;
        };
        let now = chrono::DateTime::<chrono::Utc>::from(SystemTime::now());
        let window = graph::window(alarm, &job.outage, now);
        let Some(widget) = graph::widget(&message, &window) else {
            tracing::debug!(alarm = %alarm.name, "no metric in the alarm's message: no graph");
            return;
        };
        let started = Instant::now();
        let left = deadline.saturating_duration_since(started);
        let budget = metric_image::IMAGE_TIMEOUT.min(left / 3);
        let client = self.cloudwatch_client(region).await;
        let png = match metric_image::png(&client, &widget, budget).await {
            Ok(png) => png,
            Err(e) => {
                tracing::warn!(
                    alarm = %alarm.name,
                    error = %e,
                    image_ms = ms_since(started),
                    "GetMetricWidgetImage failed; the alert stays without its graph"
                );
                return;
            }
        };
        let image_ms = ms_since(started);
        let alt = graph::alt_text(alarm, &window);
        let filename = graph::filename(alarm);
        let file = uploads::Upload {
            filename: &filename,
            title: &alarm.name,
            alt_txt: &alt,
            bytes: &png,
        };
        let into = uploads::Destination { channel, thread_ts };
        let upload_deadline = deadline.min(Instant::now() + uploads::BUDGET);
        match uploads::share(api, &file, &into, &self.settings.retry, upload_deadline).await {
            Ok(shared) => tracing::info!(
                alarm = %alarm.name,
                file_id = %shared.file_id,
                bytes = png.len(),
                image_ms,
                upload_ms = ms_since(started) - image_ms,
                attempts = shared.attempts,
                thread_ts,
                "alarm graph posted in the thread"
            ),
            Err(e) => tracing::warn!(
                alarm = %alarm.name,
                slack_error = e.slack_error.as_deref().unwrap_or(""),
                fix = e.fix.as_deref().unwrap_or(""),
                error = %e.message,
                image_ms,
                "Slack refused the alarm graph's upload; the alert stays without its graph"
            ),
        }
    }
}

/// One SNS record of the invocation, parsed; or an alarm announced at a window's end.
struct Record<'a> {
    index: usize,
    message_id: &'a str,
    /// The SNS `Message` as sent (the alarm's metric definition for its graph).
    raw: &'a str,
    notification: Notification,
    /// The maintenance window whose end announces it (not an SNS record).
    window: Option<&'a str>,
}

/// What became of a record.
enum Processed {
    Delivered,
    Skipped,
    /// Why, for the invocation's error.
    Failed(String),
}

impl Record<'_> {
    fn alarm_name(&self) -> &str {
        match &self.notification {
            Notification::Alarm(a) => &a.name,
            Notification::Other { .. } => "",
        }
    }

    /// `(kind, alarm, state)` for the log.
    fn what(&self) -> (&'static str, &str, &str) {
        match &self.notification {
            Notification::Alarm(a) => ("alarm", a.name.as_str(), a.new_state.as_str()),
            Notification::Other { .. } => ("other", "", ""),
        }
    }

    /// `(test, test_id)` for the log: whether this is a test and the id `elb-watch test` gave
    /// it (`""` for none), which `elb-watch test` looks for in the log group.
    fn test(&self) -> (bool, &str) {
        match &self.notification {
            Notification::Alarm(a) => (a.is_test(), a.test_id().unwrap_or("")),
            Notification::Other { .. } => (false, ""),
        }
    }

    fn skipped(&self, why: &str) {
        let Notification::Alarm(a) = &self.notification else {
            return;
        };
        tracing::info!(
            record = self.index,
            message_id = self.message_id,
            kind = "alarm",
            alarm = %a.name,
            state = a.new_state.as_str(),
            old_state = a.old_state.as_ref().map(AlarmState::as_str).unwrap_or(""),
            state_change_time = a.state_change_time.as_deref().unwrap_or(""),
            test = a.is_test(),
            test_id = a.test_id().unwrap_or(""),
            window = self.window.unwrap_or(""),
            outcome = "skipped",
            reason = why,
            "not posted to Slack"
        );
    }

    /// Logs the delivery's outcome: one line, what Slack refused and the operator's fix
    /// included.
    fn outcome(
        &self,
        sent: Result<Sent, crate::slack::http::DeliveryError>,
        replayed: bool,
        started: Instant,
    ) -> Processed {
        let (kind, name, state) = self.what();
        let (test, test_id) = self.test();
        let index = self.index;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match sent {
            Ok(ok) => {
                tracing::info!(
                    record = index,
                    message_id = self.message_id,
                    kind,
                    alarm = name,
                    state,
                    test,
                    test_id,
                    window = self.window.unwrap_or(""),
                    outcome = "delivered",
                    replayed,
                    attempts = ok.attempts,
                    status = ok.status,
                    plan = ok.plan,
                    thread_ts = ok.thread_ts.as_deref().unwrap_or(""),
                    elapsed_ms,
                    "slack message delivered"
                );
                Processed::Delivered
            }
            Err(e) if e.slack_error.is_some() => {
                // One line saying what Slack refused and what the operator must fix.
                tracing::error!(
                    record = index,
                    message_id = self.message_id,
                    kind,
                    alarm = name,
                    state,
                    test,
                    test_id,
                    window = self.window.unwrap_or(""),
                    outcome = "failed",
                    attempts = e.attempts,
                    slack_error = e.slack_error.as_deref().unwrap_or(""),
                    fix = e.fix.as_deref().unwrap_or(""),
                    elapsed_ms,
                    "slack message NOT delivered: Slack refused it"
                );
                let fix = e.fix.as_deref().unwrap_or("");
                Processed::Failed(format!("record {index}: {e}; fix: {fix}"))
            }
            Err(e) => {
                tracing::error!(
                    record = index,
                    message_id = self.message_id,
                    kind,
                    alarm = name,
                    state,
                    test,
                    test_id,
                    window = self.window.unwrap_or(""),
                    outcome = "failed",
                    attempts = e.attempts,
                    status = e.last_status,
                    permanent = e.permanent,
                    error = %e.message,
                    elapsed_ms,
                    "slack message NOT delivered"
                );
                Processed::Failed(format!("record {index}: {e}"))
            }
        }
    }
}
