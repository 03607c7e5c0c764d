//! Rule 14 — a new alarm is evaluated soon after it is created, and a state change runs the
//! alarm's actions once (moto evaluates nothing and runs no actions).
//!
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>:
//!   "When this operation creates an alarm, the alarm state is immediately set to
//!   INSUFFICIENT_DATA. The alarm is then evaluated and its state is set appropriately."
//!   A new alarm on a target group that is already empty or failing therefore goes to ALARM at
//!   its first evaluation (within about a minute on AWS; [`StrictConfig::first_evaluation`]
//!   here).
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>
//!   ("Alarm actions"): actions run when the alarm **changes** state, once per change, and only
//!   while actions are enabled. An alarm that entered ALARM while nothing listened on its topic
//!   is not announced again.
//! - The metric: `HealthyHostCount` of an ELBv2 target group (`AWS/ApplicationELB`,
//!   `AWS/NetworkELB`, `AWS/GatewayELB`, dimension `TargetGroup`) is the number of targets
//!   DescribeTargetHealth calls `healthy`
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>);
//!   a target group with no registered target publishes nothing, which the alarm's
//!   `TreatMissingData` decides (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>).
//!   Other metrics (Classic ELBs, the alerting path's alarms) are not evaluated: they stay in
//!   INSUFFICIENT_DATA as rule 8 left them.
//!
//! The message an action sends is CloudWatch's alarm notification (`../shared/fixtures/`),
//! delivered by rule 15 (`sns_delivery.rs`) to the topic's Lambda subscribers. The change is
//! kept in rule 11's history. Off unless `first_evaluation` is set: the suite's other tests
//! drive alarm states themselves.

use super::Shared;
use super::history::{StateChange, now_ms};
use super::lambda_async::{chrono_like, headers_for};
use super::protocol::Call;
use super::sns_delivery::{self, Delivery, xml_members};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;

/// After PutMetricAlarm created `call`'s alarm (rule 8 set it to INSUFFICIENT_DATA): its first
/// evaluation, in the background after the configured delay.
pub(crate) fn after_create(shared: &Arc<Shared>, call: &Call, headers: &HeaderMap, created: bool) {
    let Some(delay) = shared.config.first_evaluation else {
        return;
    };
    let Some(name) = call.value("AlarmName").filter(|_| created) else {
        return;
    };
    let shared = Arc::clone(shared);
    let headers = headers_for(headers, "monitoring");
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        evaluate(&shared, &headers, &name).await;
    });
}

/// A JSON 1.0 CloudWatch call to moto.
async fn cloudwatch_json(
    shared: &Shared,
    headers: &HeaderMap,
    operation: &str,
    body: Value,
) -> Option<Value> {
    let mut req = shared
        .client
        .post(format!("{}/", shared.upstream))
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "x-amz-target",
            format!("GraniteServiceVersion20100801.{operation}"),
        )
        .body(body.to_string());
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    serde_json::from_slice(&resp.bytes().await.ok()?).ok()
}

/// The alarm as moto holds it (DescribeAlarms' `MetricAlarms[0]`).
async fn alarm(shared: &Shared, headers: &HeaderMap, name: &str) -> Option<Value> {
    let v = cloudwatch_json(
        shared,
        headers,
        "DescribeAlarms",
        json!({"AlarmNames": [name]}),
    )
    .await?;
    v["MetricAlarms"].get(0).cloned()
}

/// Healthy and registered targets of an ELBv2 target group, from moto.
async fn target_counts(shared: &Shared, headers: &HeaderMap, arn: &str) -> Option<(usize, usize)> {
    let headers = headers_for(headers, "elasticloadbalancing");
    let doc = super::alarms::moto_query(
        shared,
        &headers,
        &[
            ("Action", "DescribeTargetHealth"),
            ("Version", "2015-12-01"),
            ("TargetGroupArn", arn),
        ],
    )
    .await?;
    let section = doc.split("<TargetHealthDescriptions>").nth(1).unwrap_or("");
    let members = xml_members(section);
    let healthy = members
        .iter()
        .filter(|m| m.contains("<State>healthy</State>"))
        .count();
    Some((healthy, members.len()))
}

/// What the alarm's first evaluation finds: `Some(true)` breaching, `Some(false)` not,
/// `None` not evaluated (a metric this rule does not model, or missing data treated as missing).
pub(crate) fn breaching(alarm: &Value, counts: Option<(usize, usize)>) -> Option<bool> {
    let (healthy, registered) = counts?;
    if registered == 0 {
        return match alarm["TreatMissingData"].as_str().unwrap_or("missing") {
            "breaching" => Some(true),
            "notBreaching" => Some(false),
            _ => None,
        };
    }
    let value = healthy as f64;
    let threshold = alarm["Threshold"].as_f64()?;
    Some(match alarm["ComparisonOperator"].as_str()? {
        "LessThanThreshold" => value < threshold,
        "LessThanOrEqualToThreshold" => value <= threshold,
        "GreaterThanThreshold" => value > threshold,
        "GreaterThanOrEqualToThreshold" => value >= threshold,
        _ => return None,
    })
}

fn dimension<'a>(alarm: &'a Value, name: &str) -> Option<&'a str> {
    alarm["Dimensions"]
        .as_array()?
        .iter()
        .find(|d| d["Name"] == name)?
        .get("Value")?
        .as_str()
}

/// The ARN of the alarm's target group, when it watches one's `HealthyHostCount`.
pub(crate) fn target_group_arn(alarm: &Value) -> Option<String> {
    let namespace = alarm["Namespace"].as_str()?;
    if alarm["MetricName"] != "HealthyHostCount"
        || !matches!(
            namespace,
            "AWS/ApplicationELB" | "AWS/NetworkELB" | "AWS/GatewayELB"
        )
    {
        return None;
    }
    let arn = alarm["AlarmArn"].as_str()?;
    let mut parts = arn.split(':');
    let (region, account) = (parts.nth(3)?, parts.next()?);
    let tg = dimension(alarm, "TargetGroup")?;
    Some(format!(
        "arn:aws:elasticloadbalancing:{region}:{account}:{tg}"
    ))
}

/// CloudWatch's timestamp form in notifications: `2026-11-20T03:15:42.118+0000`.
pub fn notification_time(ms: i64) -> String {
    chrono_like(ms).replace('Z', "+0000")
}

fn epoch_ms(v: &Value) -> i64 {
    v.as_f64()
        .map(|s| (s * 1000.0) as i64)
        .unwrap_or_else(now_ms)
}

/// The reason CloudWatch gives for a first evaluation's result.
fn reason(alarm: &Value, counts: (usize, usize), breach: bool, at_ms: i64) -> String {
    let periods = alarm["EvaluationPeriods"].as_i64().unwrap_or(1);
    let needed = alarm["DatapointsToAlarm"].as_i64().unwrap_or(periods);
    let threshold = alarm["Threshold"].as_f64().unwrap_or_default();
    if counts.1 == 0 {
        let treated = if breach { "Breaching" } else { "NotBreaching" };
        return format!(
            "Threshold Crossed: no datapoints were received for {periods} periods and {periods} \
             missing datapoints were treated as [{treated}]."
        );
    }
    let when = chrono_like(at_ms - 60_000);
    let stamp = format!(
        "{}/{}/{} {}",
        &when[8..10],
        &when[5..7],
        &when[2..4],
        &when[11..19]
    );
    let points = vec![format!("{:.1} ({stamp})", counts.0 as f64); needed as usize].join(", ");
    if breach {
        format!(
            "Threshold Crossed: {needed} out of the last {periods} datapoints [{points}] were less \
             than the threshold ({threshold:.1}) (minimum {needed} datapoints for OK -> ALARM \
             transition)."
        )
    } else {
        format!(
            "Threshold Crossed: 1 datapoint [{points}] was not less than the threshold \
             ({threshold:.1})."
        )
    }
}

/// CloudWatch's alarm notification for `alarm` entering `state` at `at_ms`.
pub fn notification(alarm: &Value, old: &str, state: &str, reason: &str, at_ms: i64) -> Value {
    let arn = alarm["AlarmArn"].as_str().unwrap_or_default();
    let dims: Vec<Value> = alarm["Dimensions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| json!({"value": d["Value"], "name": d["Name"]}))
        .collect();
    json!({
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription").cloned().unwrap_or(Value::Null),
        "AWSAccountId": arn.split(':').nth(4).unwrap_or_default(),
        "AlarmConfigurationUpdatedTimestamp":
            notification_time(epoch_ms(&alarm["AlarmConfigurationUpdatedTimestamp"])),
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": notification_time(at_ms),
        "Region": region_name(arn.split(':').nth(3).unwrap_or_default()),
        "AlarmArn": arn,
        "OldStateValue": old,
        "OKActions": alarm.get("OKActions").cloned().unwrap_or(json!([])),
        "AlarmActions": alarm.get("AlarmActions").cloned().unwrap_or(json!([])),
        "InsufficientDataActions": alarm.get("InsufficientDataActions").cloned().unwrap_or(json!([])),
        "Trigger": {
            "MetricName": alarm["MetricName"],
            "Namespace": alarm["Namespace"],
            "StatisticType": "Statistic",
            "Statistic": alarm["Statistic"].as_str().unwrap_or_default().to_uppercase(),
            "Unit": null,
            "Dimensions": dims,
            "Period": alarm["Period"],
            "EvaluationPeriods": alarm["EvaluationPeriods"],
            "DatapointsToAlarm": alarm.get("DatapointsToAlarm").cloned().unwrap_or(alarm["EvaluationPeriods"].clone()),
            "ComparisonOperator": alarm["ComparisonOperator"],
            "Threshold": alarm["Threshold"],
            "TreatMissingData": alarm.get("TreatMissingData").cloned().unwrap_or(json!("missing")),
            "EvaluateLowSampleCountPercentile": "",
        }
    })
}

/// The long region name CloudWatch writes in `Region` (the regions the suite uses; others as
/// their code).
fn region_name(code: &str) -> String {
    match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        "eu-central-1" => "EU (Frankfurt)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        other => other,
    }
    .to_string()
}

/// Evaluate `name` once: set its state in moto, keep the change in the history, run its
/// actions if they are enabled.
async fn evaluate(shared: &Arc<Shared>, headers: &HeaderMap, name: &str) {
    let Some(alarm) = alarm(shared, headers, name).await else {
        return;
    };
    let counts = match target_group_arn(&alarm) {
        Some(arn) => target_counts(shared, headers, &arn).await,
        None => None,
    };
    let Some(breach) = breaching(&alarm, counts) else {
        shared.lock().count("alarm-evaluation", "not-evaluated");
        return;
    };
    let old = alarm["StateValue"]
        .as_str()
        .unwrap_or("INSUFFICIENT_DATA")
        .to_string();
    let state = if breach { "ALARM" } else { "OK" };
    if old == state {
        return;
    }
    let at_ms = now_ms();
    let why = reason(&alarm, counts.unwrap_or_default(), breach, at_ms);
    let set = cloudwatch_json(
        shared,
        headers,
        "SetAlarmState",
        json!({"AlarmName": name, "StateValue": state, "StateReason": why}),
    )
    .await;
    if set.is_none() {
        return;
    }
    {
        let mut inner = shared.lock();
        inner.count("alarm-evaluation", state);
        if shared.config.alarm_history {
            inner.history.push(StateChange {
                region: alarm["AlarmArn"]
                    .as_str()
                    .and_then(|a| a.split(':').nth(3))
                    .unwrap_or("us-east-1")
                    .to_string(),
                alarm: name.to_string(),
                old_state: old.clone(),
                old_reason: alarm["StateReason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                new_state: state.to_string(),
                new_reason: why.clone(),
                at_ms,
            });
        }
    }
    run_actions(shared, headers, &alarm, &old, state, &why, at_ms).await;
}

/// The actions of a state change: each SNS topic of the new state's list gets CloudWatch's
/// notification, if the alarm's actions are enabled.
async fn run_actions(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    alarm: &Value,
    old: &str,
    state: &str,
    why: &str,
    at_ms: i64,
) -> Vec<Delivery> {
    if alarm["ActionsEnabled"] == false {
        shared.lock().count("alarm-actions", "disabled");
        return Vec::new();
    }
    let list = match state {
        "ALARM" => "AlarmActions",
        "OK" => "OKActions",
        _ => "InsufficientDataActions",
    };
    let message = notification(alarm, old, state, why, at_ms).to_string();
    let name = alarm["AlarmName"].as_str().unwrap_or_default();
    let region = alarm["AlarmArn"]
        .as_str()
        .and_then(|a| a.split(':').nth(3))
        .unwrap_or_default();
    let subject: String = format!("{state}: \"{name}\" in {}", region_name(region))
        .chars()
        .take(100)
        .collect();
    let mut outcomes = Vec::new();
    for topic in alarm[list].as_array().into_iter().flatten() {
        let Some(topic) = topic.as_str().filter(|t| t.contains(":sns:")) else {
            continue;
        };
        let headers = headers_for(headers, "sns");
        outcomes.extend(sns_delivery::deliver(shared, &headers, topic, &subject, &message).await);
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm() -> Value {
        json!({
            "AlarmName": "elb-watch-t-web-tg-HealthyHostCount",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch-t-web-tg-HealthyHostCount",
            "Namespace": "AWS/ApplicationELB", "MetricName": "HealthyHostCount",
            "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/web-tg/abc"},
                           {"Name": "LoadBalancer", "Value": "app/web-alb/def"}],
            "Threshold": 1.0, "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching", "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
            "Statistic": "Minimum", "Period": 60,
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:t"], "OKActions": [],
        })
    }

    #[test]
    fn an_empty_or_unhealthy_target_group_breaches_a_healthy_one_does_not() {
        assert_eq!(breaching(&alarm(), Some((0, 0))), Some(true));
        assert_eq!(breaching(&alarm(), Some((0, 2))), Some(true));
        assert_eq!(breaching(&alarm(), Some((1, 2))), Some(false));
        let mut missing = alarm();
        missing["TreatMissingData"] = json!("missing");
        assert_eq!(breaching(&missing, Some((0, 0))), None);
        assert_eq!(breaching(&alarm(), None), None);
    }

    #[test]
    fn the_target_group_comes_from_the_dimension_and_the_alarm_arn() {
        assert_eq!(
            target_group_arn(&alarm()).as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/abc")
        );
        let mut classic = alarm();
        classic["Namespace"] = json!("AWS/ELB");
        assert_eq!(target_group_arn(&classic), None);
    }

    #[test]
    fn the_notification_has_cloudwatchs_shape() {
        let n = notification(
            &alarm(),
            "INSUFFICIENT_DATA",
            "ALARM",
            "r",
            1_795_000_000_123,
        );
        assert_eq!(n["StateChangeTime"], "2026-11-18T11:06:40.123+0000");
        assert_eq!(n["AWSAccountId"], "123456789012");
        assert_eq!(n["Region"], "US East (N. Virginia)");
        assert_eq!(n["Trigger"]["Statistic"], "MINIMUM");
        assert_eq!(n["Trigger"]["Dimensions"][0]["name"], "TargetGroup");
        assert_eq!(n["OldStateValue"], "INSUFFICIENT_DATA");
    }
}
