//! The invocation handler: SNS records in, Slack messages out.
//!
//! Every record of the event is processed (not only the first). If any record cannot be
//! delivered the invocation returns an error, which makes Lambda retry the *whole* event
//! asynchronously (twice by default) and then send it to the DLQ / on-failure destination;
//! records already delivered are posted again on retry. SNS delivers one record per
//! invocation in practice, so this only duplicates anything for hand-made multi-record events.

use std::collections::HashMap;
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

use crate::alarm::{self, AlarmState, Notification};
use crate::config::{self, HookSource, Settings, Webhook};
use crate::decide::{self, Decision};
use crate::deliver;
use crate::enrich::{self, Enrichment, Targets};
use crate::history;
use crate::kind::{self, LbKind};
use crate::outage::{self, Outage};
use crate::render;

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
    source: HookSource,
    webhook: OnceCell<Webhook>,
    http: reqwest::Client,
    /// Loaded on first use (KMS at init, or the first enrichment): a plain-URL cold start does
    /// not pay for it before its first `/next`.
    sdk: OnceCell<SdkConfig>,
    elbv2: Mutex<HashMap<String, elbv2::Client>>,
    cloudwatch: Mutex<HashMap<String, cloudwatch::Client>>,
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
        let source = config::hook_source(var);
        let http = deliver::http_client(settings.retry.timeout);
        Self::with_sdk(settings, source, http, OnceCell::new())
    }

    pub fn new(
        settings: Settings,
        source: HookSource,
        http: reqwest::Client,
        sdk: SdkConfig,
    ) -> Self {
        Self::with_sdk(settings, source, http, OnceCell::new_with(Some(sdk)))
    }

    fn with_sdk(
        settings: Settings,
        source: HookSource,
        http: reqwest::Client,
        sdk: OnceCell<SdkConfig>,
    ) -> Self {
        Self {
            settings,
            source,
            webhook: OnceCell::new(),
            http,
            sdk,
            elbv2: Mutex::new(HashMap::new()),
            cloudwatch: Mutex::new(HashMap::new()),
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

    /// The webhook, decrypted once. A failure is not cached: the next invocation tries again
    /// (a KMS throttle at cold start must not poison the environment), and a permanent
    /// problem (missing variable, bad ciphertext) is reported clearly on each invocation.
    pub async fn webhook(&self) -> Result<&Webhook, String> {
        self.webhook
            .get_or_try_init(|| async {
                match &self.source {
                    HookSource::Missing => Err(format!(
                        "no webhook configured: set {} (KMS ciphertext) or {}",
                        config::ENV_KMS_HOOK,
                        config::ENV_PLAIN_HOOK
                    )),
                    HookSource::Plain(url) => config::normalize_url(url)
                        .map_err(|e| format!("{}: {e}", config::ENV_PLAIN_HOOK)),
                    HookSource::Kms(ciphertext) => {
                        let client = kms::Client::new(self.sdk().await);
                        let plain = config::decrypt_hook(
                            &client,
                            ciphertext,
                            self.settings.function_name.as_deref(),
                        )
                        .await?;
                        config::normalize_url(&plain)
                            .map_err(|e| format!("decrypted {}: {e}", config::ENV_KMS_HOOK))
                    }
                }
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

    /// Never let enrichment eat the time delivery needs: at most a third of what is left.
    fn enrich_budget(&self, deadline: Instant) -> Duration {
        let left = deadline.saturating_duration_since(Instant::now());
        self.settings.enrich_timeout.min(left / 3)
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
                enrich::describe_instance_health(&client, name, budget).await
            }
            (false, _, Some(arn)) => {
                enrich::describe_target_health(&self.elbv2_client(region).await, &arn, budget).await
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

        let webhook = self.webhook().await.map_err(|e| {
            tracing::error!(error = %e, "configuration error");
            diagnostic(ERR_CONFIG, e)
        })?;

        let event = alarm::parse_event(&payload).map_err(|e| {
            tracing::error!(error = %e, "invalid event");
            diagnostic(ERR_EVENT, e)
        })?;

        // `elb-watch replay` re-sends an alert Lambda could not deliver: it is marked as late.
        let replay = crate::replay::parse(&payload);
        let total = event.records.len();
        let mut delivered = 0usize;
        let mut skipped = 0usize;
        let mut failures = Vec::new();
        for (index, record) in event.records.iter().enumerate() {
            let notification = alarm::parse_notification(
                record.subject.as_deref(),
                record.message.as_deref().unwrap_or(""),
            );
            if let Decision::Skip(why) = decide::decide(&notification) {
                skipped += 1;
                if let Notification::Alarm(a) = &notification {
                    tracing::info!(
                        record = index,
                        message_id = record.message_id.as_deref().unwrap_or(""),
                        kind = "alarm",
                        alarm = %a.name,
                        state = a.new_state.as_str(),
                        old_state = a.old_state.as_ref().map(AlarmState::as_str).unwrap_or(""),
                        outcome = "skipped",
                        reason = why,
                        "not posted to Slack"
                    );
                }
                continue;
            }
            let found = Enrichment {
                targets: self.targets_for(&notification, deadline).await,
                outage: self.outage_for(&notification, deadline).await,
            };
            let mut payload =
                render::render(&notification, &found, self.settings.channel.as_deref());
            if let Some(r) = &replay {
                let first = crate::replay::first_fired(&notification, r);
                crate::replay::mark_late(&mut payload, first.as_deref());
            }
            let body = serde_json::to_vec(&payload).expect("a serde_json::Value always serialises");

            let (kind, name, state) = match &notification {
                Notification::Alarm(a) => ("alarm", a.name.as_str(), a.new_state.as_str()),
                Notification::Other { .. } => ("other", "", ""),
            };
            let started = Instant::now();
            match deliver::post(&self.http, webhook, &body, &self.settings.retry, deadline).await {
                Ok(ok) => {
                    delivered += 1;
                    tracing::info!(
                        record = index,
                        message_id = record.message_id.as_deref().unwrap_or(""),
                        kind,
                        alarm = name,
                        state,
                        outcome = "delivered",
                        replayed = replay.is_some(),
                        attempts = ok.attempts,
                        status = ok.status,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "slack message delivered"
                    );
                }
                Err(e) => {
                    tracing::error!(
                        record = index,
                        message_id = record.message_id.as_deref().unwrap_or(""),
                        kind,
                        alarm = name,
                        state,
                        outcome = "failed",
                        attempts = e.attempts,
                        status = e.last_status,
                        permanent = e.permanent,
                        error = %e.message,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "slack message NOT delivered"
                    );
                    failures.push(format!("record {index}: {e}"));
                }
            }
        }

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
}
