//! The notification CloudWatch would have sent: for an alarm muted during a maintenance window
//! ([`window_end`](crate::runtime::window_end)), its DescribeAlarms `MetricAlarm` becomes the
//! alarm message SNS carries (the shape of `../shared/fixtures/sns-alarm-*.json`), so that it
//! goes through [`parse`](crate::event::parse) and the rest of the path like any ALARM. Pure.
//!
//! What DescribeAlarms does not say is left out rather than guessed: the state before
//! (`OldStateValue` is null, so the message shows `*ALARM*`, not `OK → ALARM`), and a long
//! region name this file does not know (the message then shows the region code alone).

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm, MetricDataQuery};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::runtime::window_end::AlarmFacts;

/// An SDK timestamp as a UTC instant, rounded to CloudWatch's millisecond (one that came as a
/// floating-point number of seconds is a hair off it).
pub fn instant(t: &AwsDateTime) -> Option<DateTime<Utc>> {
    let ms = (t.as_nanos() + 500_000).div_euclid(1_000_000);
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).ok()?)
}

/// CloudWatch's notification time format: `2026-11-20T03:15:42.118+0000`.
pub fn notification_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// When the alarm entered its state: `StateTransitionedTimestamp`, else `StateUpdatedTimestamp`
/// (later or equal: it also moves when only the evaluation state changes).
pub fn changed_at(alarm: &MetricAlarm) -> Option<DateTime<Utc>> {
    alarm
        .state_transitioned_timestamp()
        .or(alarm.state_updated_timestamp())
        .and_then(instant)
}

/// What [`verdict`](crate::runtime::window_end::verdict) needs to know of `alarm`.
pub fn facts(alarm: &MetricAlarm) -> AlarmFacts {
    AlarmFacts {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        state: alarm.state_value().map(|s| s.as_str().to_owned()),
        changed_at: changed_at(alarm),
        reason: alarm.state_reason().map(str::to_owned),
    }
}

/// The long region name CloudWatch writes in a notification's `Region`.
pub fn region_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "ca-central-1" => "Canada (Central)",
        "sa-east-1" => "South America (Sao Paulo)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "af-south-1" => "Africa (Cape Town)",
        "il-central-1" => "Israel (Tel Aviv)",
        _ => return None,
    })
}

/// `[{"value": …, "name": …}]`: the notification's lower-case dimension keys.
fn dimensions(dims: &[Dimension]) -> Vec<Value> {
    dims.iter()
        .map(|d| json!({"value": d.value(), "name": d.name()}))
        .collect()
}

/// A metric-math alarm's query as the notification writes it (`Trigger.Metrics[]`).
fn query(q: &MetricDataQuery) -> Value {
    let mut m = json!({"Id": q.id(), "ReturnData": q.return_data().unwrap_or(true)});
    if let Some(e) = q.expression() {
        m["Expression"] = json!(e);
    }
    if let Some(l) = q.label() {
        m["Label"] = json!(l);
    }
    if let Some(stat) = q.metric_stat() {
        let metric = stat.metric();
        m["MetricStat"] = json!({
            "Metric": {
                "Dimensions": dimensions(metric.map(|m| m.dimensions()).unwrap_or_default()),
                "MetricName": metric.and_then(|m| m.metric_name()),
                "Namespace": metric.and_then(|m| m.namespace()),
            },
            "Period": stat.period(),
            "Stat": stat.stat(),
        });
    }
    m
}

/// CloudWatch's alarm notification for `alarm`, which is in ALARM: its reason, and the time it
/// entered ALARM as `StateChangeTime`.
pub fn notification(alarm: &MetricAlarm) -> Value {
    let arn = alarm.alarm_arn().unwrap_or_default();
    let mut arn_parts = arn.split(':');
    let region = arn_parts.nth(3).unwrap_or_default();
    let account = arn_parts.next().unwrap_or_default();
    let mut trigger = json!({
        "Period": alarm.period(),
        "EvaluationPeriods": alarm.evaluation_periods(),
        "DatapointsToAlarm": alarm.datapoints_to_alarm().or(alarm.evaluation_periods()),
        "ComparisonOperator": alarm.comparison_operator().map(|c| c.as_str()),
        "Threshold": alarm.threshold(),
        "TreatMissingData": alarm.treat_missing_data().unwrap_or("missing"),
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile().unwrap_or(""),
    });
    if alarm.metrics().is_empty() {
        let (kind, stat) = match (alarm.statistic(), alarm.extended_statistic()) {
            (Some(s), _) => ("Statistic", Some(s.as_str().to_uppercase())),
            (None, Some(e)) => ("ExtendedStatistic", Some(e.to_owned())),
            (None, None) => ("Statistic", None),
        };
        trigger["MetricName"] = json!(alarm.metric_name());
        trigger["Namespace"] = json!(alarm.namespace());
        trigger["StatisticType"] = json!(kind);
        trigger[kind] = json!(stat);
        trigger["Unit"] = json!(alarm.unit().map(|u| u.as_str()));
        trigger["Dimensions"] = json!(dimensions(alarm.dimensions()));
    } else {
        let queries: Vec<Value> = alarm.metrics().iter().map(query).collect();
        if trigger["Period"].is_null() {
            trigger["Period"] = json!(
                alarm
                    .metrics()
                    .iter()
                    .find_map(|q| q.metric_stat().and_then(|s| s.period()))
            );
        }
        trigger["Metrics"] = json!(queries);
    }
    json!({
        "AlarmName": alarm.alarm_name(),
        "AlarmDescription": alarm.alarm_description(),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": alarm
            .alarm_configuration_updated_timestamp()
            .and_then(instant)
            .map(notification_time),
        "NewStateValue": "ALARM",
        "NewStateReason": alarm.state_reason().unwrap_or_default(),
        "StateChangeTime": changed_at(alarm).map(notification_time),
        "Region": region_name(region),
        "AlarmArn": arn,
        "OldStateValue": null,
        "OKActions": alarm.ok_actions(),
        "AlarmActions": alarm.alarm_actions(),
        "InsufficientDataActions": alarm.insufficient_data_actions(),
        "Trigger": trigger,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse::{AlarmState, Notification, parse_notification};
    use aws_sdk_cloudwatch::types::{
        ComparisonOperator, Metric, MetricStat, StateValue, Statistic,
    };

    const TOPIC: &str = "arn:aws:sns:ap-northeast-1:123456789012:elb-watch-prod-alarms";
    const NAME: &str = "elb-watch/prod/web-alb/web-tg/HealthyHostCount";

    fn dim(name: &str, value: &str) -> Dimension {
        Dimension::builder().name(name).value(value).build()
    }

    /// The MetricAlarm DescribeAlarms returns for the fixture's alarm
    /// (`sns-alarm-healthyhostcount-alarm.json`), under elb-watch's name.
    fn fixture_alarm() -> MetricAlarm {
        MetricAlarm::builder()
            .alarm_name(NAME)
            .alarm_arn(format!(
                "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:{NAME}"
            ))
            .alarm_description("web-alb has no healthy targets in web-tg")
            .alarm_configuration_updated_timestamp(AwsDateTime::from_millis(1_795_125_851_907))
            .actions_enabled(true)
            .ok_actions(TOPIC)
            .alarm_actions(TOPIC)
            .state_value(StateValue::Alarm)
            .state_reason(
                "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (20/11/26 03:14:00)] was \
                 less than or equal to the threshold (0.0) (minimum 1 datapoint for OK -> ALARM \
                 transition).",
            )
            // 2026-11-20T03:15:42.118Z, as a float of seconds would carry it.
            .state_transitioned_timestamp(AwsDateTime::from_secs_f64(1_795_144_542.118))
            .state_updated_timestamp(AwsDateTime::from_millis(1_795_145_000_000))
            .metric_name("HealthyHostCount")
            .namespace("AWS/ApplicationELB")
            .statistic(Statistic::Minimum)
            .dimensions(dim("TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09"))
            .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
            .period(60)
            .evaluation_periods(1)
            .datapoints_to_alarm(1)
            .threshold(0.0)
            .comparison_operator(ComparisonOperator::LessThanOrEqualToThreshold)
            .treat_missing_data("missing")
            .build()
    }

    fn parsed(v: &Value) -> crate::event::parse::Alarm {
        match parse_notification(Some("ALARM"), &v.to_string()) {
            Notification::Alarm(a) => *a,
            other => panic!("not an alarm: {other:?}"),
        }
    }

    #[test]
    fn the_fixture_alarm_becomes_the_fixture_message() {
        let v = notification(&fixture_alarm());
        assert_eq!(v["StateChangeTime"], "2026-11-20T03:15:42.118+0000");
        assert_eq!(
            v["AlarmConfigurationUpdatedTimestamp"],
            "2026-11-19T22:04:11.907+0000"
        );
        assert_eq!(v["Region"], "Asia Pacific (Tokyo)");
        assert_eq!(v["AWSAccountId"], "123456789012");
        assert_eq!(v["OldStateValue"], Value::Null);
        assert_eq!(v["AlarmActions"], json!([TOPIC]));
        let t = &v["Trigger"];
        assert_eq!(t["StatisticType"], "Statistic");
        assert_eq!(t["Statistic"], "MINIMUM");
        assert_eq!(t["Unit"], Value::Null);
        assert_eq!(
            t["Dimensions"][0],
            json!({"value": "targetgroup/web-tg/6d0ecf831eec9f09", "name": "TargetGroup"})
        );
        assert_eq!(t["TreatMissingData"], "missing");
        assert_eq!(t["EvaluateLowSampleCountPercentile"], "");

        let a = parsed(&v);
        assert_eq!(a.name, NAME);
        assert_eq!(a.new_state, AlarmState::Alarm);
        assert_eq!(a.old_state, None);
        assert!(
            a.reason
                .as_deref()
                .unwrap()
                .starts_with("Threshold Crossed")
        );
        assert_eq!(
            a.state_change_time.as_deref(),
            Some("2026-11-20T03:15:42.118+0000")
        );
        assert_eq!(a.metric.as_deref(), Some("HealthyHostCount"));
        assert_eq!(a.namespace.as_deref(), Some("AWS/ApplicationELB"));
        assert_eq!(a.statistic.as_deref(), Some("MINIMUM"));
        assert_eq!(a.period_s, Some(60));
        assert_eq!(a.comparison.as_deref(), Some("LessThanOrEqualToThreshold"));
        assert_eq!(a.threshold, Some(0.0));
        assert_eq!(a.region(), Some("ap-northeast-1"));
        assert_eq!(a.region_name.as_deref(), Some("Asia Pacific (Tokyo)"));
        assert_eq!(a.load_balancer_name(), Some("web-alb"));
        assert_eq!(
            a.target_group_arn().as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web-tg/6d0ecf831eec9f09"
            )
        );
        assert!(!a.is_test());
        assert!(!a.found_at_setup());
    }

    #[test]
    fn the_state_change_is_the_transition_else_the_update() {
        let alarm = fixture_alarm();
        let f = facts(&alarm);
        assert_eq!(f.state.as_deref(), Some("ALARM"));
        assert_eq!(
            f.changed_at.map(notification_time).as_deref(),
            Some("2026-11-20T03:15:42.118+0000")
        );
        let mut b = alarm.clone();
        b.state_transitioned_timestamp = None;
        assert_eq!(
            changed_at(&b).map(notification_time).as_deref(),
            Some("2026-11-20T03:23:20.000+0000")
        );
        b.state_updated_timestamp = None;
        assert_eq!(changed_at(&b), None);
        assert_eq!(notification(&b)["StateChangeTime"], Value::Null);
    }

    #[test]
    fn a_metric_math_alarm_keeps_its_queries() {
        let stat = MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("AWS/ApplicationELB")
                    .metric_name("HealthyHostCount")
                    .dimensions(dim("TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09"))
                    .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
                    .build(),
            )
            .period(60)
            .stat("Minimum")
            .build();
        let alarm = MetricAlarm::builder()
            .alarm_name("web-alb-healthy-ratio")
            .alarm_arn("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-alb-healthy-ratio")
            .state_value(StateValue::Alarm)
            .metrics(
                MetricDataQuery::builder()
                    .id("ratio")
                    .expression("healthy / 2")
                    .label("healthy ratio")
                    .return_data(true)
                    .build(),
            )
            .metrics(
                MetricDataQuery::builder()
                    .id("healthy")
                    .metric_stat(stat)
                    .return_data(false)
                    .build(),
            )
            .threshold(0.5)
            .comparison_operator(ComparisonOperator::LessThanThreshold)
            .build();
        let v = notification(&alarm);
        assert_eq!(v["Region"], "EU (Ireland)");
        let a = parsed(&v);
        assert_eq!(a.metric.as_deref(), Some("healthy ratio"));
        assert_eq!(a.namespace.as_deref(), Some("AWS/ApplicationELB"));
        assert_eq!(a.period_s, Some(60));
        assert_eq!(a.load_balancer_name(), Some("web-alb"));
        assert_eq!(a.target_group_name(), Some("web-tg"));
        assert_eq!(a.threshold, Some(0.5));
    }

    #[test]
    fn an_unknown_region_is_left_to_its_code() {
        let mut alarm = fixture_alarm();
        alarm.alarm_arn = Some("arn:aws:cloudwatch:xx-test-9:1:alarm:a".into());
        let v = notification(&alarm);
        assert_eq!(v["Region"], Value::Null);
        assert_eq!(parsed(&v).region(), Some("xx-test-9"));
    }
}
