//! What an environment should look like, computed from the inputs and what discovery found.
//! Pure: no AWS calls.

use crate::discovery::TargetGroup;
use crate::naming::Names;
use crate::policy;
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

/// Alarm settings (README "From a failing target to Slack" has the detection arithmetic).
pub const METRIC: &str = "HealthyHostCount";
pub const NAMESPACE: &str = "AWS/ApplicationELB";
pub const PERIOD_S: i32 = 60;
pub const STATISTIC: &str = "Minimum";
pub const COMPARISON: &str = "LessThanThreshold";
/// ALARM when 2 of the last 3 one-minute periods breach ("M out of N"): one late or missing
/// datapoint (1 of 3) never pages, two bad minutes do.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation>
pub const EVALUATION_PERIODS: i32 = 3;
pub const DATAPOINTS_TO_ALARM: i32 = 2;
/// A target group with no registered targets publishes no `HealthyHostCount` at all; with the
/// default `missing` its alarm would sit in INSUFFICIENT_DATA and say nothing about the biggest
/// outage there is. `breaching` counts a missing minute as a bad one, so no data reaches ALARM.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>
pub const TREAT_MISSING_DATA: &str = "breaching";

/// The account, partition and region `up` works in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub account_id: String,
    pub partition: String,
    pub region: String,
}

impl Identity {
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
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub load_balancer: String,
    pub target_group: String,
    /// `LoadBalancer` and `TargetGroup` dimension values.
    pub lb_dimension: String,
    pub tg_dimension: String,
    pub threshold: f64,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
    pub treat_missing_data: String,
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
    pub description: String,
    /// Plain (non-secret) environment variables; the encrypted URL is handled apart.
    pub channel: Option<String>,
}

/// Everything `up` should leave in place for one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    pub env: String,
    pub identity: Identity,
    pub role_name: String,
    pub role_arn: String,
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
    pub alarms: Vec<AlarmSpec>,
    /// Target groups behind the ALBs that get no alarm, and why (shown by `up` and `status`).
    pub warnings: Vec<Warning>,
    /// The inputs, recorded as tags on the topic so `status` knows what `up` asked for.
    pub settings: BTreeMap<String, String>,
}

/// The inputs of `up` that shape resources (the webhook URL is not among them: it is secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub env: String,
    pub albs: Vec<String>,
    pub channel: Option<String>,
    pub min_healthy: u32,
    pub email: Option<String>,
    pub log_retention_days: i32,
    pub code_sha256: String,
}

/// Tag keys under which the topic records the inputs.
pub const SETTING_ALBS: &str = "elb-watch:albs";
pub const SETTING_MIN_HEALTHY: &str = "elb-watch:min-healthy";
pub const SETTING_CHANNEL: &str = "elb-watch:slack-channel";
pub const SETTING_EMAIL: &str = "elb-watch:email";
pub const SETTING_RETENTION: &str = "elb-watch:log-retention-days";

/// Whether a topic tag key is one of the recorded inputs.
pub fn is_setting_key(key: &str) -> bool {
    [
        SETTING_ALBS,
        SETTING_MIN_HEALTHY,
        SETTING_CHANNEL,
        SETTING_EMAIL,
        SETTING_RETENTION,
    ]
    .contains(&key)
}

pub fn settings_tags(inputs: &Inputs) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(SETTING_ALBS.to_string(), inputs.albs.join(" "));
    m.insert(
        SETTING_MIN_HEALTHY.to_string(),
        inputs.min_healthy.to_string(),
    );
    m.insert(
        SETTING_RETENTION.to_string(),
        inputs.log_retention_days.to_string(),
    );
    if let Some(c) = &inputs.channel {
        m.insert(SETTING_CHANNEL.to_string(), c.clone());
    }
    if let Some(e) = &inputs.email {
        m.insert(SETTING_EMAIL.to_string(), e.clone());
    }
    m
}

/// Rebuild the inputs `up` recorded on the topic (for `status`).
pub fn inputs_from_settings(
    env: &str,
    tags: &BTreeMap<String, String>,
    code_sha256: &str,
) -> Option<Inputs> {
    Some(Inputs {
        env: env.to_string(),
        albs: tags
            .get(SETTING_ALBS)?
            .split_whitespace()
            .map(String::from)
            .collect(),
        channel: tags.get(SETTING_CHANNEL).cloned(),
        min_healthy: tags.get(SETTING_MIN_HEALTHY)?.parse().ok()?,
        email: tags.get(SETTING_EMAIL).cloned(),
        log_retention_days: tags
            .get(SETTING_RETENTION)
            .and_then(|d| d.parse().ok())
            .unwrap_or(30),
        code_sha256: code_sha256.to_string(),
    })
}

pub fn alarm_description(env: &str, tg: &TargetGroup, min_healthy: u32) -> String {
    let what = if min_healthy == 1 {
        "no healthy targets".to_string()
    } else {
        format!("fewer than {min_healthy} healthy targets")
    };
    format!(
        "elb-watch {env}: ALB {} target group {} has {what}",
        tg.load_balancer, tg.name
    )
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
    let mut alarm_names = BTreeMap::new();
    let alarms = target_groups
        .iter()
        .filter(|tg| is_watchable(tg))
        .map(|tg| {
            // A target group name is unique in a region; should one serve two ALBs, the
            // second alarm is told apart by its ALB.
            let mut name = names.alarm(&tg.name);
            if alarm_names.contains_key(&name) {
                name = names.alarm(&format!("{}-{}", tg.load_balancer, tg.name));
            }
            alarm_names.insert(name.clone(), ());
            AlarmSpec {
                name,
                description: alarm_description(&inputs.env, tg, inputs.min_healthy),
                load_balancer: tg.load_balancer.clone(),
                target_group: tg.name.clone(),
                lb_dimension: tg.load_balancer_dimension.clone(),
                tg_dimension: tg.dimension.clone(),
                threshold: f64::from(inputs.min_healthy),
                period_s: PERIOD_S,
                evaluation_periods: EVALUATION_PERIODS,
                datapoints_to_alarm: DATAPOINTS_TO_ALARM,
                treat_missing_data: TREAT_MISSING_DATA.to_string(),
            }
        })
        .collect();
    Desired {
        env: inputs.env.clone(),
        identity: identity.clone(),
        trust_policy: policy::lambda_trust_policy(account_id),
        runtime_policy_name: "notifier-runtime".to_string(),
        runtime_policy: policy::runtime_policy(partition, region, account_id, &names.log_group()),
        decrypt_policy_name: names.decrypt_policy(),
        decrypt_policy_arn: format!(
            "arn:{partition}:iam::{account_id}:policy{}{}",
            crate::naming::IAM_PATH,
            names.decrypt_policy()
        ),
        key_alias: names.kms_alias(),
        key_policy: policy::key_policy(partition, account_id, &role_arn, &names.function()),
        topic_name: names.topic(),
        topic_arn: format!(
            "arn:{partition}:sns:{region}:{account_id}:{}",
            names.topic()
        ),
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
            description: format!("elb-watch {}: CloudWatch alarms to Slack", inputs.env),
            channel: inputs.channel.clone(),
        },
        permission_sid: names.invoke_permission_sid(),
        role_name: names.role(),
        role_arn,
        alarms,
        warnings: target_group_warnings(target_groups),
        settings: settings_tags(inputs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(lb: &str, name: &str) -> TargetGroup {
        TargetGroup {
            name: name.into(),
            arn: format!("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{name}/abc"),
            dimension: format!("targetgroup/{name}/abc"),
            protocol: "HTTP".into(),
            port: Some(80),
            target_type: "instance".into(),
            health_check_enabled: true,
            load_balancer: lb.into(),
            load_balancer_dimension: format!("app/{lb}/def"),
        }
    }

    fn inputs() -> Inputs {
        Inputs {
            env: "prod".into(),
            albs: vec!["web-alb".into()],
            channel: Some("#ops".into()),
            min_healthy: 2,
            email: None,
            log_retention_days: 14,
            code_sha256: "sha".into(),
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
        assert_eq!(d.alarms.len(), 2);
        let a = &d.alarms[0];
        assert_eq!(a.name, "elb-watch-prod-web-tg-HealthyHostCount");
        assert_eq!(a.threshold, 2.0);
        // No data (a target group with no targets) must page; one late datapoint must not.
        assert_eq!(a.treat_missing_data, "breaching");
        assert_eq!((a.datapoints_to_alarm, a.evaluation_periods), (2, 3));
        assert_eq!(a.period_s, 60);
        assert_eq!(a.lb_dimension, "app/web-alb/def");
        assert_eq!(a.tg_dimension, "targetgroup/web-tg/abc");
        assert_eq!(
            a.description,
            "elb-watch prod: ALB web-alb target group web-tg has fewer than 2 healthy targets"
        );
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
    fn a_target_group_behind_two_albs_gets_two_distinct_alarms() {
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        let d = desired(&inputs(), &id, &[tg("a", "shared"), tg("b", "shared")]);
        assert_ne!(d.alarms[0].name, d.alarms[1].name);
        assert_eq!(d.alarms[1].name, "elb-watch-prod-b-shared-HealthyHostCount");
    }

    #[test]
    fn a_target_group_without_health_checks_gets_a_warning_not_an_alarm() {
        let id = Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1");
        let mut lambda = tg("web-alb", "fn-tg");
        lambda.target_type = "lambda".into();
        lambda.health_check_enabled = false;
        let d = desired(&inputs(), &id, &[tg("web-alb", "web-tg"), lambda]);
        assert_eq!(d.alarms.len(), 1);
        assert_eq!(d.alarms[0].target_group, "web-tg");
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].target_group, "fn-tg");
    }

    #[test]
    fn settings_round_trip_through_tags() {
        let i = inputs();
        let back = inputs_from_settings("prod", &settings_tags(&i), "sha").unwrap();
        assert_eq!(back, i);
    }
}
