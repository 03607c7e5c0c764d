//! What an environment should look like, computed from the inputs and what discovery found.
//! Pure: no AWS calls.

use crate::bundle::Arch;
use crate::discovery::{Selection, TargetGroup};
use crate::naming::Names;
use crate::policy;
use crate::state::alert_time::{AlertTime, alert_time, slow_warning};
use crate::state::warnings::{Warning, is_watchable, target_group_warnings};
use serde::Serialize;
use std::collections::BTreeMap;

/// Notifier function settings.
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
pub const MEMORY_MB: i32 = 128;
/// Long enough for Slack retries with backoff; the notifier stops retrying before it.
pub const TIMEOUT_S: i32 = 30;
/// Environment variable names the Python blueprint used; the notifier reads the same.
pub const ENV_HOOK: &str = "kmsEncryptedHookUrl";
pub const ENV_CHANNEL: &str = "slackChannel";
/// Slack app mode: the bot token, KMS-encrypted exactly like the webhook URL.
pub const ENV_TOKEN: &str = "kmsEncryptedSlackToken";
/// Slack app mode: the Web API root the notifier calls.
pub const ENV_SLACK_API: &str = "SLACK_API_URL";
/// Who ALARM messages notify: Slack mention tokens, space-separated (the notifier's
/// `runtime/config.rs` reads it).
pub const ENV_MENTIONS: &str = "ELB_WATCH_MENTIONS";
/// The env's runbook URL (https), for alarms without an `elb-watch:runbook` tag.
pub const ENV_RUNBOOK: &str = "ELB_WATCH_RUNBOOK_URL";
/// Slack's Web API root (<https://docs.slack.dev/apis/web-api>).
pub const DEFAULT_SLACK_API: &str = "https://slack.com/api/";

pub use super::alarms::{
    AlarmSpec, COMPARISON, DATAPOINTS_TO_ALARM, EVALUATION_PERIODS, METRIC, MetricSpec, PERIOD_S,
    STATISTIC, TREAT_MISSING_DATA, Watched, alarm_description,
};

/// Undelivered alerts (issue 13): a failed asynchronous invocation is retried twice by Lambda
/// (the most it allows), then its record goes to the env's SQS queue instead of being dropped.
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>
pub const MAX_RETRY_ATTEMPTS: i32 = 2;
/// How long Lambda keeps an event it could not yet run (throttled by the reserved concurrency,
/// or waiting between retries) before giving up on it and sending it to the queue. AWS allows
/// 60 s–6 h (default 6 h). One hour: the two retries take ~3 minutes (Lambda waits about 1 then
/// 2 minutes) and a storm of 100 alarms drains through 2 concurrent notifiers at Slack's ~1 post
/// per second in a few minutes, so live alerts are not cut short; but an alert still sitting in
/// Lambda's internal queue after an hour is invisible to everyone, while in the env's queue
/// `status` counts it, the depth alarm pages, and `replay` delivers it marked as late.
pub const MAX_EVENT_AGE_S: i32 = 3600;
/// How long the queue keeps an undelivered alert: 14 days, the most SQS allows
/// (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html>).
pub const QUEUE_RETENTION_S: i32 = 1_209_600;
/// Default reserved concurrency of the notifier: Slack accepts about one message per second
/// per webhook (<https://api.slack.com/docs/rate-limits>), so two notifiers keep it busy while
/// a storm of alarms neither races one webhook 100-fold nor eats the account's concurrency.
pub const DEFAULT_CONCURRENCY: u32 = 2;
/// Lambda keeps at least this much of the account's concurrency unreserved
/// (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html>).
pub const MIN_UNRESERVED: i32 = 100;

/// The undelivered-alerts queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueSpec {
    pub name: String,
    pub arn: String,
    pub retention_s: i32,
    /// Server-side encryption with SQS-owned keys (`SqsManagedSseEnabled`).
    pub sse: bool,
}

/// The function's asynchronous invocation configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsyncSpec {
    pub max_retry_attempts: i32,
    pub max_event_age_s: i32,
    /// ARN of the on-failure destination (the queue).
    pub on_failure: String,
}

/// The account, partition and region `up` works in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub account_id: String,
    pub partition: String,
    pub region: String,
}

impl Identity {
    /// The ARN of the alarm named `name`.
    pub fn alarm_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:cloudwatch:{}:{}:alarm:{name}",
            self.partition, self.region, self.account_id
        )
    }

    /// The env's notifier function's ARN.
    pub fn function_arn(&self, names: &Names) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition,
            self.region,
            self.account_id,
            names.function()
        )
    }

    /// The env's alarm topic's ARN.
    pub fn topic_arn(&self, names: &Names) -> String {
        format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition,
            self.region,
            self.account_id,
            names.topic()
        )
    }

    /// The env's decrypt-only policy's ARN.
    pub fn decrypt_policy_arn(&self, names: &Names) -> String {
        format!(
            "arn:{}:iam::{}:policy{}{}",
            self.partition,
            self.account_id,
            crate::naming::IAM_PATH,
            names.decrypt_policy()
        )
    }

    /// From the caller ARN STS returns (`arn:PARTITION:…`).
    pub fn from_caller(account_id: &str, caller_arn: &str, region: &str) -> Self {
        let partition = caller_arn.split(':').nth(1).unwrap_or("aws").to_string();
        Identity {
            account_id: account_id.to_string(),
            partition,
            region: region.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionSpec {
    pub name: String,
    pub role_arn: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub code_sha256: String,
    /// Lambda's `Architectures` value: `x86_64` or `arm64`.
    pub architecture: String,
    pub description: String,
    /// Plain (non-secret) environment variables; the encrypted secret is handled apart.
    pub channel: Option<String>,
    /// Slack app mode's Web API root; `None` in webhook mode.
    pub slack_api: Option<String>,
    /// `ELB_WATCH_MENTIONS`: who ALARM messages notify (Slack syntax, space-separated).
    pub mentions: Vec<String>,
    /// `ELB_WATCH_RUNBOOK_URL`: the env's default runbook.
    pub runbook: Option<String>,
}

impl FunctionSpec {
    /// The variable holding the encrypted secret: the bot token in app mode, else the webhook.
    pub fn secret_var(&self) -> &'static str {
        if self.slack_api.is_some() {
            ENV_TOKEN
        } else {
            ENV_HOOK
        }
    }

    /// The plain environment variables the function should have (the secret's apart).
    pub fn plain_env(&self) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        if let Some(c) = &self.channel {
            vars.insert(ENV_CHANNEL.to_string(), c.clone());
        }
        if let Some(api) = &self.slack_api {
            vars.insert(ENV_SLACK_API.to_string(), api.clone());
        }
        if !self.mentions.is_empty() {
            vars.insert(ENV_MENTIONS.to_string(), self.mentions.join(" "));
        }
        if let Some(r) = &self.runbook {
            vars.insert(ENV_RUNBOOK.to_string(), r.clone());
        }
        vars
    }
}

/// Everything `up` should leave in place for one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    pub env: String,
    pub identity: Identity,
    pub role_name: String,
    pub role_arn: String,
    /// The role's permissions boundary: `--permissions-boundary`'s policy, else elb-watch's
    /// own ([`crate::naming::BOUNDARY_POLICY`]).
    pub permissions_boundary: String,
    /// elb-watch's own boundary's document, when it is the role's boundary (`up` makes it).
    pub boundary_document: Option<serde_json::Value>,
    pub trust_policy: serde_json::Value,
    pub runtime_policy_name: String,
    pub runtime_policy: serde_json::Value,
    pub decrypt_policy_name: String,
    pub decrypt_policy_arn: String,
    pub key_alias: String,
    pub key_policy: serde_json::Value,
    pub topic_name: String,
    pub topic_arn: String,
    pub email: Option<String>,
    pub log_group: String,
    pub log_retention_days: i32,
    pub function: FunctionSpec,
    pub permission_sid: String,
    pub queue: QueueSpec,
    pub async_invoke: AsyncSpec,
    /// Reserved concurrency of the notifier.
    pub concurrency: u32,
    /// The target groups' alarms, then the three on the alerting path.
    pub alarms: Vec<AlarmSpec>,
    /// Target groups behind the ALBs that get no alarm, and why; and an alerting path that
    /// reaches nobody while the notifier fails (shown by `up` and `status`).
    pub warnings: Vec<Warning>,
    /// Each watched target group's worst case from a failing target to ALARM.
    pub alert_times: Vec<AlertTime>,
    /// The inputs, recorded as tags on the topic so `status` knows what `up` asked for.
    pub settings: BTreeMap<String, String>,
}

/// The inputs of `up` that shape resources (the webhook URL is not among them: it is secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub env: String,
    /// What to watch: `--lb` names, `--all`, `--tag` filters.
    pub selection: Selection,
    pub channel: Option<String>,
    pub min_healthy: u32,
    /// Whether `min_healthy` is per zone (`--per-zone`) or for the whole target group.
    pub zone_rule: ZoneRule,
    pub email: Option<String>,
    pub log_retention_days: i32,
    /// `--permissions-boundary`: the managed policy set as the role's permissions boundary.
    pub permissions_boundary: Option<String>,
    /// The `CodeSha256` of the package `up` deploys.
    pub code_sha256: String,
    pub arch: Arch,
    /// Whether the package is a prebuilt one (`--notifier-bootstrap`) rather than the embedded
    /// one: then its sha is recorded, so `status` knows what `up` deployed.
    pub prebuilt_code: bool,
    /// `--notifier-concurrency`: the notifier's reserved concurrency.
    pub notifier_concurrency: u32,
    /// Slack app mode (a bot token, one thread per incident): the Web API root. `None`: the
    /// webhook.
    pub slack_app: Option<String>,
    /// `--mention`: who ALARM messages notify, in Slack syntax (`<!here>`, `<!channel>`,
    /// `<!subteam^S0123>`, `<@U0123>`).
    pub mentions: Vec<String>,
    /// `--runbook`: the env's runbook (an alarm's own `elb-watch:runbook` tag wins).
    pub runbook: Option<String>,
    /// `--min-healthy-percent`: the env's threshold as a share of the target group's targets
    /// (instead of `min_healthy`).
    pub min_healthy_percent: Option<u32>,
    /// The environments file's per-target-group thresholds (the last match wins).
    pub overrides: Vec<crate::envfile::Override>,
}

impl Inputs {
    /// The threshold of one target group's alarm: the last override matching it (by load
    /// balancer and target group; a Classic ELB has no target group, matched as ""), else the
    /// env's own.
    pub fn threshold_for(&self, tg: &crate::discovery::TargetGroup) -> crate::envfile::Threshold {
        use crate::envfile::Threshold;
        let group = if tg.is_classic() {
            ""
        } else {
            tg.name.as_str()
        };
        self.overrides
            .iter()
            .rev()
            .find(|o| o.matches(&tg.load_balancer, group))
            .map(|o| o.threshold)
            .unwrap_or(match self.min_healthy_percent {
                Some(p) => Threshold::Percent(p),
                None => Threshold::Count(self.min_healthy),
            })
    }
}

pub use super::settings::is_setting_key;
use super::settings::{self, Settings, Unreadable};
use super::zones::ZoneRule;

/// What `status` shows as the e-mail address when `up` subscribed one but the topic has no
/// e-mail subscription left (the address itself is not recorded: it is personal data).
pub const EMAIL_NOT_RECORDED: &str = "(address not recorded)";

fn settings_of(inputs: &Inputs) -> Settings {
    Settings {
        albs: inputs.selection.names.clone(),
        select_all: inputs.selection.all,
        select_tags: inputs.selection.tags.clone(),
        min_healthy: inputs.min_healthy,
        per_zone: inputs.zone_rule == ZoneRule::PerZone,
        channel: inputs.channel.clone(),
        log_retention_days: inputs.log_retention_days,
        email_subscribed: inputs.email.is_some(),
        permissions_boundary: inputs.permissions_boundary.clone(),
        arch: (inputs.arch != Arch::X86_64).then(|| inputs.arch.lambda_name().to_string()),
        notifier_sha256: inputs.prebuilt_code.then(|| inputs.code_sha256.clone()),
        notifier_concurrency: (inputs.notifier_concurrency != DEFAULT_CONCURRENCY)
            .then_some(inputs.notifier_concurrency),
        slack_app: inputs.slack_app.clone(),
        mentions: inputs.mentions.clone(),
        runbook: inputs.runbook.clone(),
        min_healthy_percent: inputs.min_healthy_percent,
        overrides: inputs.overrides.clone(),
    }
}

/// The tags recording `inputs` on the topic (see [`settings`] for the encoding).
pub fn settings_tags(inputs: &Inputs) -> BTreeMap<String, String> {
    settings::to_tags(&settings_of(inputs))
}

/// Rebuild the inputs `up` recorded on the topic (for `status`). The e-mail address is not in
/// the tags: it comes from the topic's e-mail subscriptions (`email_endpoints`).
pub fn inputs_from_settings(
    env: &str,
    tags: &BTreeMap<String, String>,
    email_endpoints: &[String],
    code_sha256: &str,
) -> Result<Inputs, Unreadable> {
    let recorded = settings::from_tags(tags)?;
    let s = recorded.settings;
    let email = match (s.email_subscribed, recorded.legacy_email) {
        (false, _) => None,
        (true, Some(addr)) => Some(addr),
        (true, None) => Some(
            email_endpoints
                .iter()
                .min()
                .cloned()
                .unwrap_or_else(|| EMAIL_NOT_RECORDED.to_string()),
        ),
    };
    Ok(Inputs {
        env: env.to_string(),
        selection: Selection {
            names: s.albs,
            all: s.select_all,
            tags: s.select_tags,
        },
        channel: s.channel,
        min_healthy: s.min_healthy,
        zone_rule: if s.per_zone {
            ZoneRule::PerZone
        } else {
            ZoneRule::Whole
        },
        email,
        log_retention_days: s.log_retention_days,
        permissions_boundary: s.permissions_boundary,
        code_sha256: s
            .notifier_sha256
            .clone()
            .unwrap_or_else(|| code_sha256.to_string()),
        arch: match &s.arch {
            Some(a) => Arch::from_lambda_name(a).ok_or(Unreadable::Inconsistent)?,
            None => Arch::X86_64,
        },
        prebuilt_code: s.notifier_sha256.is_some(),
        notifier_concurrency: s.notifier_concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        slack_app: s.slack_app,
        mentions: s.mentions,
        runbook: s.runbook,
        min_healthy_percent: s.min_healthy_percent,
        overrides: s.overrides,
    })
}

pub fn desired(inputs: &Inputs, identity: &Identity, target_groups: &[TargetGroup]) -> Desired {
    let names = Names::new(&inputs.env);
    let Identity {
        account_id,
        partition,
        region,
    } = identity;
    let role_arn = format!(
        "arn:{partition}:iam::{account_id}:role{}{}",
        crate::naming::IAM_PATH,
        names.role()
    );
    let queue_arn = format!(
        "arn:{partition}:sqs:{region}:{account_id}:{}",
        names.queue()
    );
    let mut alarms = super::alarms::target_group_alarms(
        &names,
        |tg| inputs.threshold_for(tg),
        inputs.zone_rule,
        target_groups,
    );
    let watchable: Vec<&TargetGroup> = target_groups.iter().filter(|tg| is_watchable(tg)).collect();
    let alert_times: Vec<AlertTime> = watchable
        .iter()
        .zip(&alarms)
        .filter_map(|(tg, alarm)| alert_time(tg, alarm))
        .collect();
    alarms.extend(super::alarms::watcher_alarms(&names));
    let mut warnings = target_group_warnings(target_groups);
    warnings.extend(alert_times.iter().filter(|t| t.slow).filter_map(|t| {
        watchable
            .iter()
            .find(|tg| tg.name == t.target_group && tg.load_balancer == t.load_balancer)
            .map(|tg| slow_warning(t, tg))
    }));
    if inputs.email.is_none() {
        warnings.push(super::warnings::no_email_for_the_alerting_path(&inputs.env));
    }
    if let (None, Some(channel)) = (&inputs.slack_app, &inputs.channel) {
        warnings.push(super::warnings::webhook_channel_fixed(&inputs.env, channel));
    }
    Desired {
        env: inputs.env.clone(),
        identity: identity.clone(),
        trust_policy: policy::lambda_trust_policy(account_id),
        runtime_policy_name: "notifier-runtime".to_string(),
        runtime_policy: policy::runtime_policy(
            &policy::RuntimeScope {
                partition,
                region,
                account_id,
                log_group: &names.log_group(),
                alarm_pattern: &names.load_balancer_alarms_pattern(),
                mute_rule_pattern: &format!("{}*", names.mute_rule_prefix()),
                queue_arn: &queue_arn,
            },
            inputs.slack_app.is_some(),
        ),
        decrypt_policy_name: names.decrypt_policy(),
        decrypt_policy_arn: identity.decrypt_policy_arn(&names),
        key_alias: names.kms_alias(),
        key_policy: policy::key_policy(partition, account_id, &role_arn, &names.function()),
        topic_name: names.topic(),
        topic_arn: identity.topic_arn(&names),
        email: inputs.email.clone(),
        log_group: names.log_group(),
        log_retention_days: inputs.log_retention_days,
        function: FunctionSpec {
            name: names.function(),
            role_arn: role_arn.clone(),
            runtime: RUNTIME.to_string(),
            handler: HANDLER.to_string(),
            memory_mb: MEMORY_MB,
            timeout_s: TIMEOUT_S,
            code_sha256: inputs.code_sha256.clone(),
            architecture: inputs.arch.lambda_name().to_string(),
            description: format!("elb-watch {}: CloudWatch alarms to Slack", inputs.env),
            channel: inputs.channel.clone(),
            slack_api: inputs.slack_app.clone(),
            mentions: inputs.mentions.clone(),
            runbook: inputs.runbook.clone(),
        },
        permission_sid: names.invoke_permission_sid(),
        queue: QueueSpec {
            name: names.queue(),
            arn: queue_arn.clone(),
            retention_s: QUEUE_RETENTION_S,
            sse: true,
        },
        async_invoke: AsyncSpec {
            max_retry_attempts: MAX_RETRY_ATTEMPTS,
            max_event_age_s: MAX_EVENT_AGE_S,
            on_failure: queue_arn,
        },
        concurrency: inputs.notifier_concurrency,
        role_name: names.role(),
        role_arn,
        permissions_boundary: inputs
            .permissions_boundary
            .clone()
            .unwrap_or_else(|| crate::naming::boundary_arn(partition, account_id)),
        boundary_document: inputs
            .permissions_boundary
            .is_none()
            .then(|| crate::policy::notifier_boundary(partition)),
        alarms,
        warnings,
        alert_times,
        settings: settings_tags(inputs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(lb: &str, name: &str) -> TargetGroup {
        crate::state::fixtures::target_group(lb, name)
    }

    fn inputs() -> Inputs {
        Inputs {
            env: "prod".into(),
            selection: Selection::named(&["web-alb".into()]),
            channel: Some("#ops".into()),
            min_healthy: 2,
            zone_rule: ZoneRule::Whole,
            email: None,
            log_retention_days: 14,
            permissions_boundary: None,
            code_sha256: "sha".into(),
            arch: Arch::X86_64,
            prebuilt_code: false,
            notifier_concurrency: DEFAULT_CONCURRENCY,
            slack_app: None,
            mentions: Vec::new(),
            runbook: None,
            min_healthy_percent: None,
            overrides: Vec::new(),
        }
    }

    #[test]
    fn one_alarm_per_target_group_with_threshold_and_dimensions() {
        let id = Identity::from_caller(
            "123456789012",
            "arn:aws:iam::123456789012:user/x",
            "eu-west-1",
        );
        let d = desired(
            &inputs(),
            &id,
            &[tg("web-alb", "web-tg"), tg("web-alb", "api-tg")],
        );
        // Two target groups, then the three alarms on the alerting path and the test alarm.
        assert_eq!(d.alarms.len(), 6);
        assert_eq!(d.alarms[2].name, "elb-watch/prod/notifier-errors");
        let a = &d.alarms[0];
        assert_eq!(a.name, "elb-watch/prod/web-alb/web-tg/HealthyHostCount");
        assert_eq!(a.threshold, 2.0);
        // No data (a target group with no targets) must page; one late datapoint must not.
        assert_eq!(a.treat_missing_data, "breaching");
        assert_eq!((a.datapoints_to_alarm, a.evaluation_periods), (2, 3));
        assert_eq!(a.period_s, 60);
        assert_eq!(
            (a.metric.namespace.as_str(), a.metric.name.as_str()),
            ("AWS/ApplicationELB", "HealthyHostCount")
        );
        assert_eq!(
            a.metric.dimension_value("LoadBalancer"),
            Some("app/web-alb/def")
        );
        assert_eq!(
            a.metric.dimension_value("TargetGroup"),
            Some("targetgroup/web-tg/abc")
        );
        assert_eq!(a.target_group(), Some(("web-alb", "web-tg")));
        assert_eq!(
            a.description,
            "elb-watch prod: ALB web-alb target group web-tg has fewer than 2 healthy targets in \
             the target group as a whole"
        );
        // An ALB's own figure is the whole target group: no zone math.
        assert_eq!(a.metric.zones, None);
        assert_eq!(
            d.topic_arn,
            "arn:aws:sns:eu-west-1:123456789012:elb-watch-prod-alarms"
        );
        assert_eq!(
            d.role_arn,
            "arn:aws:iam::123456789012:role/elb-watch/elb-watch-prod-notifier"
        );
        assert_eq!(d.function.channel.as_deref(), Some("#ops"));
    }

    #[test]
    fn partition_comes_from_the_caller_arn() {
        let id = Identity::from_caller("1", "arn:aws-cn:iam::1:user/x", "cn-north-1");
        assert_eq!(id.partition, "aws-cn");
        let d = desired(&inputs(), &id, &[]);
        assert!(d.topic_arn.starts_with("arn:aws-cn:sns:cn-north-1:1:"));
    }

    #[test]
    fn a_target_group_behind_two_albs_gets_two_distinct_alarms_in_any_order() {
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        let d = desired(&inputs(), &id, &[tg("a", "shared"), tg("b", "shared")]);
        assert_ne!(d.alarms[0].name, d.alarms[1].name);
        assert_eq!(d.alarms[1].name, "elb-watch/prod/b/shared/HealthyHostCount");
        // Discovery's order does not decide which name watches which load balancer.
        let swapped = desired(&inputs(), &id, &[tg("b", "shared"), tg("a", "shared")]);
        let by_lb = |d: &Desired| {
            let mut v: Vec<(String, String)> = d
                .alarms
                .iter()
                .filter_map(|a| Some((a.target_group()?.0.to_string(), a.name.clone())))
                .collect();
            v.sort();
            v
        };
        assert_eq!(by_lb(&d), by_lb(&swapped));
    }

    #[test]
    fn a_target_group_without_health_checks_gets_a_warning_not_an_alarm() {
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        let mut lambda = tg("web-alb", "fn-tg");
        lambda.target_type = "lambda".into();
        lambda.health_check_enabled = false;
        let d = desired(&inputs(), &id, &[tg("web-alb", "web-tg"), lambda]);
        let watched: Vec<_> = d.alarms.iter().filter_map(|a| a.target_group()).collect();
        assert_eq!(watched, [("web-alb", "web-tg")]);
        // The target group's warning, the one about no e-mail subscriber, and the webhook's
        // fixed channel (`#ops` asked for in webhook mode).
        assert_eq!(d.warnings.len(), 3);
        assert_eq!(d.warnings[1].kind, crate::state::warnings::NO_EMAIL);
        assert_eq!(d.warnings[2].kind, crate::state::warnings::WEBHOOK_CHANNEL);
        let app = Inputs {
            slack_app: Some("https://slack.com/api/".into()),
            ..inputs()
        };
        let a = desired(&app, &id, &[tg("web-alb", "web-tg")]);
        assert!(
            a.warnings
                .iter()
                .all(|w| w.kind != crate::state::warnings::WEBHOOK_CHANNEL),
            "app mode chooses its channel: {:?}",
            a.warnings
        );
        assert_eq!(d.warnings[0].target_group, "fn-tg");
    }

    #[test]
    fn an_email_subscriber_is_what_the_alerting_path_alarms_need() {
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        let with = Inputs {
            email: Some("ops@example.com".into()),
            channel: None,
            ..inputs()
        };
        assert!(desired(&with, &id, &[]).warnings.is_empty());
        let without = Inputs {
            email: None,
            channel: None,
            ..inputs()
        };
        let w = desired(&without, &id, &[]).warnings;
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("--email"), "{}", w[0].message);
    }

    #[test]
    fn settings_round_trip_through_tags() {
        let i = Inputs {
            permissions_boundary: Some("arn:aws:iam::1:policy/Boundary".into()),
            ..inputs()
        };
        let back = inputs_from_settings("prod", &settings_tags(&i), &[], "sha").unwrap();
        assert_eq!(back, i);
        assert!(
            !settings_tags(&i).contains_key(settings::KEY_ARCH),
            "x86_64 is not recorded"
        );
    }

    #[test]
    fn an_arm64_prebuilt_notifier_is_recorded_for_status() {
        let i = Inputs {
            arch: Arch::Arm64,
            prebuilt_code: true,
            code_sha256: "prebuilt-sha".into(),
            ..inputs()
        };
        let tags = settings_tags(&i);
        assert_eq!(
            tags.get(settings::KEY_ARCH).map(String::as_str),
            Some("arm64")
        );
        let back = inputs_from_settings("prod", &tags, &[], "embedded-sha").unwrap();
        assert_eq!(
            back, i,
            "status wants the prebuilt code, not the embedded one"
        );
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        assert_eq!(desired(&back, &id, &[]).function.architecture, "arm64");
    }

    #[test]
    fn the_email_comes_from_the_subscriptions_not_the_tags() {
        let i = Inputs {
            email: Some("ops@example.com".into()),
            ..inputs()
        };
        let tags = settings_tags(&i);
        assert!(
            !tags.values().any(|v| v.contains("example.com")),
            "{tags:?}"
        );
        let subs = ["ops@example.com".to_string()];
        let back = inputs_from_settings("prod", &tags, &subs, "sha").unwrap();
        assert_eq!(back, i);
        let gone = inputs_from_settings("prod", &tags, &[], "sha").unwrap();
        assert_eq!(gone.email.as_deref(), Some(EMAIL_NOT_RECORDED));
        let none = inputs_from_settings("prod", &settings_tags(&inputs()), &subs, "sha").unwrap();
        assert_eq!(
            none.email, None,
            "an e-mail subscription `up` was not asked for"
        );
    }
}
