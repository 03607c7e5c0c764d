//! Alarms whose ALARM may never have reached anyone, and the message that announces them. Pure.
//!
//! CloudWatch runs an alarm's actions once per state change, while actions are enabled
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>,
//! "Alarm actions"). An alarm that went to ALARM while its path to the notifier was not whole —
//! no topic, function, invoke permission or subscription, or its own actions off or aimed
//! elsewhere — stays in ALARM silently: CloudWatch will not send that change again. `up` arms
//! alarms only once the path is whole (`apply::apply`), so an alarm it creates announces its
//! own first ALARM; for alarms that existed before the path was (re)completed, `up` publishes
//! the announcement itself, in CloudWatch's own notification format so the notifier and e-mail
//! subscribers read it like any other, marked with [`ANNOUNCEMENT_FIELD`].

use crate::state::observed::{AlarmObs, Observed};
use crate::state::plan::{Action, Plan};
use aws_sdk_cloudwatch::types::MetricAlarm;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// The field that marks an announcement (the notifier renders it as "found in ALARM at set-up").
pub const ANNOUNCEMENT_FIELD: &str = "ElbWatchAnnouncement";
pub const FOUND_AT_SETUP: &str = "found-in-alarm-at-setup";

/// How far past the moment an alarm's path was completed a transition still counts as "before"
/// it: the transition time is CloudWatch's clock, the moment is this machine's. A transition
/// announced twice (CloudWatch's own notification and ours) is a duplicate the notifier can
/// drop by its `StateChangeTime`; one announced never is an outage nobody hears of.
pub const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(5);

/// Why an existing alarm's ALARM may have been lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Silenced {
    /// The topic → function path was not whole before this run.
    PathIncomplete,
    /// The alarm's own actions were disabled or not aimed at the topic.
    ActionsOff,
}

/// Whether this run completes a path to the notifier that was not whole before it.
pub fn path_incomplete(plan: &Plan) -> bool {
    [
        plan.topic.action,
        plan.function.change.action,
        plan.permission.action,
        plan.subscription.action,
    ]
    .contains(&Action::Create)
}

/// Why the observed alarm `a` could not reach the notifier before this run, if it could not.
pub fn silenced(a: &AlarmObs, path_incomplete: bool, topic_arn: &str) -> Option<Silenced> {
    let aimed = a.actions_enabled && a.alarm_actions == [topic_arn.to_string()];
    if path_incomplete {
        Some(Silenced::PathIncomplete)
    } else if !aimed {
        Some(Silenced::ActionsOff)
    } else {
        None
    }
}

/// The env's existing alarms (kept by this plan) that could not reach the notifier before this
/// run, with why. New alarms are never here: they are created with the path whole; nor moved
/// ones: their move announces them (`apply::alarm_moves`).
pub fn candidates(observed: &Observed, plan: &Plan, topic_arn: &str) -> Vec<(String, Silenced)> {
    let path_incomplete = path_incomplete(plan);
    let kept = |a: &AlarmObs| {
        plan.alarms
            .iter()
            .any(|c| c.name == a.name && c.action != Action::Delete)
            && !plan.alarm_moves.iter().any(|m| m.to == a.name)
    };
    observed
        .alarms
        .iter()
        .filter(|a| kept(a))
        .filter_map(|a| Some((a.name.clone(), silenced(a, path_incomplete, topic_arn)?)))
        .collect()
}

/// Whether `alarm` (read after arming) is in ALARM since before `armed_at`, so that CloudWatch
/// will not announce it.
pub fn silent_in_alarm(alarm: &MetricAlarm, armed_at: SystemTime) -> bool {
    if alarm.state_value().map(|s| s.as_str()) != Some("ALARM") {
        return false;
    }
    let Some(since) = transitioned_at(alarm) else {
        // No timestamp: announce rather than risk silence.
        return true;
    };
    since <= armed_at + CLOCK_SKEW_MARGIN
}

/// When the alarm last changed state: `StateTransitionedTimestamp`, or `StateUpdatedTimestamp`
/// where the answer has no such field (it is later or equal, never earlier).
fn transitioned_at(alarm: &MetricAlarm) -> Option<SystemTime> {
    let t = alarm
        .state_transitioned_timestamp()
        .or(alarm.state_updated_timestamp())?;
    SystemTime::try_from(*t).ok()
}

/// CloudWatch's notification time format: `2026-11-20T03:15:42.118+0000`.
fn notification_time(t: &aws_smithy_types::DateTime) -> String {
    let text = t
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    let bare = text.trim_end_matches('Z');
    let (whole, frac) = bare.split_once('.').unwrap_or((bare, ""));
    format!("{whole}.{:0<3}+0000", &frac[..frac.len().min(3)])
}

/// The announcement of `alarm`, found in ALARM: CloudWatch's alarm notification for its
/// transition into ALARM (its own reason and time), marked with [`ANNOUNCEMENT_FIELD`].
/// `(subject, message)` for SNS Publish (subjects are at most 100 characters).
pub fn message(alarm: &MetricAlarm) -> (String, String) {
    let name = alarm.alarm_name().unwrap_or_default();
    let arn = alarm.alarm_arn().unwrap_or_default();
    let region = arn.split(':').nth(3).unwrap_or_default();
    let since = alarm
        .state_transitioned_timestamp()
        .or(alarm.state_updated_timestamp());
    let dims: Vec<Value> = alarm
        .dimensions()
        .iter()
        .map(|d| json!({"value": d.value(), "name": d.name()}))
        .collect();
    let message = json!({
        "AlarmName": name,
        "AlarmDescription": alarm.alarm_description(),
        "AWSAccountId": arn.split(':').nth(4).unwrap_or_default(),
        "AlarmConfigurationUpdatedTimestamp":
            alarm.alarm_configuration_updated_timestamp().map(notification_time),
        "NewStateValue": "ALARM",
        "NewStateReason": alarm.state_reason().unwrap_or_default(),
        "StateChangeTime": since.map(notification_time),
        "Region": region,
        "AlarmArn": arn,
        // The state before is not in DescribeAlarms' answer; a new alarm's first state.
        "OldStateValue": "INSUFFICIENT_DATA",
        "OKActions": alarm.ok_actions(),
        "AlarmActions": alarm.alarm_actions(),
        "InsufficientDataActions": alarm.insufficient_data_actions(),
        "Trigger": {
            "MetricName": alarm.metric_name(),
            "Namespace": alarm.namespace(),
            "StatisticType": "Statistic",
            "Statistic": alarm.statistic().map(|s| s.as_str().to_uppercase()),
            "Unit": null,
            "Dimensions": dims,
            "Period": alarm.period(),
            "EvaluationPeriods": alarm.evaluation_periods(),
            "DatapointsToAlarm": alarm.datapoints_to_alarm().or(alarm.evaluation_periods()),
            "ComparisonOperator": alarm.comparison_operator().map(|c| c.as_str()),
            "Threshold": alarm.threshold(),
            "TreatMissingData": alarm.treat_missing_data().unwrap_or("missing"),
            "EvaluateLowSampleCountPercentile": "",
        },
        ANNOUNCEMENT_FIELD: FOUND_AT_SETUP,
    });
    let subject: String = format!("ALARM: \"{name}\" in {region} (found at set-up)")
        .chars()
        .take(100)
        .collect();
    (subject, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::{Dimension, StateValue, Statistic};
    use aws_smithy_types::DateTime;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:elb-watch-t-alarms";

    fn alarm(state: StateValue, since_s: i64) -> MetricAlarm {
        MetricAlarm::builder()
            .alarm_name("elb-watch-t-web-tg-HealthyHostCount")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch-t-web-tg-HealthyHostCount")
            .state_value(state)
            .state_reason("Threshold Crossed: no datapoints")
            .state_transitioned_timestamp(DateTime::from_millis(since_s * 1000 + 118))
            .state_updated_timestamp(DateTime::from_millis(since_s * 1000 + 900_000))
            .namespace("AWS/ApplicationELB")
            .metric_name("HealthyHostCount")
            .statistic(Statistic::Minimum)
            .dimensions(Dimension::builder().name("TargetGroup").value("targetgroup/web-tg/1").build())
            .alarm_actions(TOPIC)
            .ok_actions(TOPIC)
            .threshold(1.0)
            .build()
    }

    fn at(s: i64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s as u64)
    }

    #[test]
    fn an_alarm_in_alarm_since_before_arming_is_silent_one_after_is_not() {
        let armed = at(1_795_000_000);
        assert!(silent_in_alarm(
            &alarm(StateValue::Alarm, 1_794_999_000),
            armed
        ));
        // Within the clock-skew margin: announced (a duplicate beats silence).
        assert!(silent_in_alarm(
            &alarm(StateValue::Alarm, 1_795_000_003),
            armed
        ));
        // Well after arming: CloudWatch sent it.
        assert!(!silent_in_alarm(
            &alarm(StateValue::Alarm, 1_795_000_060),
            armed
        ));
        assert!(!silent_in_alarm(
            &alarm(StateValue::Ok, 1_794_999_000),
            armed
        ));
    }

    #[test]
    fn the_message_is_cloudwatchs_with_the_transition_time_and_the_mark() {
        let (subject, message) = message(&alarm(StateValue::Alarm, 1_795_000_000));
        let m: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(m["NewStateValue"], "ALARM");
        assert_eq!(m["StateChangeTime"], "2026-11-18T11:06:40.118+0000");
        assert_eq!(m["NewStateReason"], "Threshold Crossed: no datapoints");
        assert_eq!(m["Trigger"]["Statistic"], "MINIMUM");
        assert_eq!(m["Trigger"]["Dimensions"][0]["name"], "TargetGroup");
        assert_eq!(m["AWSAccountId"], "123456789012");
        assert_eq!(m[ANNOUNCEMENT_FIELD], FOUND_AT_SETUP);
        assert!(subject.len() <= 100 && subject.starts_with("ALARM: "));
    }

    #[test]
    fn times_have_three_decimals_and_an_offset() {
        assert_eq!(
            notification_time(&DateTime::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40.000+0000"
        );
    }
}
