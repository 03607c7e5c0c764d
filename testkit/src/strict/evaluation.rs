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
use super::healthy_hosts::{self, Watched, ZoneCounts};
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

/// Rule 17 — SetAlarmState runs the alarm's actions when it changes the state (moto runs none).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>:
/// "When the updated state differs from the previous value, the action configured for the
/// appropriate state is invoked. For example, if your alarm is configured to send an Amazon SNS
/// message when an alarm is triggered, temporarily changing the alarm state to ALARM sends an SNS
/// message." Only while the alarm's actions are enabled ([`run_actions`]). `prior` is the state
/// before the call (rule 11's read, `history::before`). Off unless `set_state_actions` is set:
/// the suite's other tests deliver the events of the states they set themselves.
///
/// Rule 23 — the same page: "Metric alarms returns to their actual state quickly, often within
/// seconds." With [`StrictConfig::next_evaluation`](super::StrictConfig::next_evaluation) set,
/// the alarm is evaluated again that long after the change, and a change back runs its actions
/// like any other (the test alarm: no data, `notBreaching`, back to OK).
pub(crate) async fn after_set_state(
    shared: &Arc<Shared>,
    call: &Call,
    headers: &HeaderMap,
    prior: Option<String>,
    ok: bool,
) {
    if !ok {
        return;
    }
    let (Some(old), Some(name), Some(state)) =
        (prior, call.value("AlarmName"), call.value("StateValue"))
    else {
        return;
    };
    if old == state {
        return;
    }
    let headers = headers_for(headers, "monitoring");
    if let Some(delay) = shared.config.next_evaluation {
        let (shared, headers, name) = (Arc::clone(shared), headers.clone(), name.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            shared.lock().count("next-evaluation", "ran");
            evaluate_as(&shared, &headers, &name, true).await;
        });
    }
    if !shared.config.set_state_actions {
        return;
    }
    let Some(alarm) = alarm(shared, &headers, &name).await else {
        return;
    };
    let why = call.value("StateReason").unwrap_or_default();
    shared.lock().count("set-alarm-state", &state);
    run_actions(shared, &headers, &alarm, &old, &state, &why, now_ms()).await;
}

/// A JSON 1.0 CloudWatch call to moto.
async fn cloudwatch_json(
    shared: &Shared,
    headers: &HeaderMap,
    operation: &str,
    body: Value,
) -> Option<Value> {
    super::moto_json(
        shared,
        headers,
        &format!("GraniteServiceVersion20100801.{operation}"),
        body,
    )
    .await
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

/// Each registered target's (id, healthy) of what the alarm watches, from moto.
async fn targets(
    shared: &Shared,
    headers: &HeaderMap,
    watched: &Watched,
) -> Option<Vec<(String, bool)>> {
    let (service, form): (&str, Vec<(&str, &str)>) = match watched {
        Watched::TargetGroup { arn, .. } => (
            "elasticloadbalancing",
            vec![
                ("Action", "DescribeTargetHealth"),
                ("Version", "2015-12-01"),
                ("TargetGroupArn", arn),
            ],
        ),
        Watched::Classic { name } => (
            "elasticloadbalancing",
            vec![
                ("Action", "DescribeInstanceHealth"),
                ("Version", "2012-06-01"),
                ("LoadBalancerName", name),
            ],
        ),
    };
    let doc = super::alarms::moto_query(shared, &headers_for(headers, service), &form).await?;
    let (section, id_tag, healthy) = match watched {
        Watched::TargetGroup { .. } => {
            ("<TargetHealthDescriptions>", "Id", "<State>healthy</State>")
        }
        Watched::Classic { .. } => ("<InstanceStates>", "InstanceId", "<State>InService</State>"),
    };
    let section = doc.split(section).nth(1).unwrap_or("");
    Some(
        xml_members(section)
            .iter()
            .filter_map(|m| {
                let id = between(m, &format!("<{id_tag}>"), &format!("</{id_tag}>"))?;
                Some((id.to_string(), m.contains(healthy)))
            })
            .collect(),
    )
}

fn between<'a>(doc: &'a str, open: &str, close: &str) -> Option<&'a str> {
    doc.split(open).nth(1)?.split(close).next()
}

/// The zone of an EC2 instance, from moto (`None`: not an instance, or unknown).
async fn zone_of(shared: &Shared, headers: &HeaderMap, id: &str) -> Option<String> {
    if !id.starts_with("i-") {
        return None;
    }
    let doc = super::alarms::moto_query(
        shared,
        &headers_for(headers, "ec2"),
        &[
            ("Action", "DescribeInstances"),
            ("Version", "2016-11-15"),
            ("InstanceId.1", id),
        ],
    )
    .await?;
    between(&doc, "<availabilityZone>", "</availabilityZone>").map(str::to_string)
}

/// Healthy and registered targets per zone of what the alarm watches (targets whose zone is
/// unknown count under ""), or `None` when the alarm reads no ELB `HealthyHostCount`.
async fn zone_counts(shared: &Shared, headers: &HeaderMap, alarm: &Value) -> Option<ZoneCounts> {
    zone_counts_of(shared, headers, &healthy_hosts::watched(alarm)?).await
}

/// Healthy and registered targets per zone of one target group or Classic ELB, from moto
/// (`None` when moto does not answer).
pub(crate) async fn zone_counts_of(
    shared: &Shared,
    headers: &HeaderMap,
    watched: &Watched,
) -> Option<ZoneCounts> {
    let mut counts = ZoneCounts::new();
    for (id, healthy) in targets(shared, headers, watched).await? {
        let zone = zone_of(shared, headers, &id).await.unwrap_or_default();
        let entry = counts.entry(zone).or_default();
        entry.1 += 1;
        if healthy {
            entry.0 += 1;
        }
    }
    Some(counts)
}

/// The expression of elb-watch's percent alarm (`state::alarms::SHARE_EXPRESSION`): the healthy
/// share of a target group's targets in %, over `h` (`HealthyHostCount`, `Minimum`) and `u`
/// (`UnHealthyHostCount`, `Maximum`) (`IF`, `FILL`:
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html>).
const SHARE_EXPRESSION: &str = "IF(h + FILL(u, 0) > 0, 100 * h / (h + FILL(u, 0)), 0)";

/// The value the alarm evaluates from the per-zone counts ([`healthy_hosts::value`]); for
/// [`SHARE_EXPRESSION`], the share: `h` and `u` as the model reads the target group's own
/// figures (an ALB's the whole target group; otherwise per zone, `Minimum` the worst zone's
/// healthy, `Maximum` the worst zone's unhealthy, of the zones with targets registered).
/// Nothing registered anywhere publishes no `HealthyHostCount`: no value (missing data).
fn alarm_value(alarm: &Value, zones: &ZoneCounts) -> Option<f64> {
    let queries = alarm["Metrics"].as_array();
    let is_share = queries.into_iter().flatten().any(|q| {
        q["ReturnData"] != false
            && q["Expression"].as_str().map(str::trim) == Some(SHARE_EXPRESSION)
    });
    if !is_share {
        return healthy_hosts::value(alarm, zones);
    }
    let registered: Vec<(f64, f64)> = zones
        .values()
        .filter(|(_, registered)| *registered > 0)
        .map(|(h, r)| (*h as f64, (r - h) as f64))
        .collect();
    if registered.is_empty() {
        return None;
    }
    let whole = queries
        .into_iter()
        .flatten()
        .any(|q| q["Id"] == "h" && q["MetricStat"]["Metric"]["Namespace"] == "AWS/ApplicationELB");
    let (h, u) = if whole {
        registered
            .iter()
            .fold((0.0, 0.0), |(h, u), (zh, zu)| (h + zh, u + zu))
    } else {
        (
            registered
                .iter()
                .map(|(h, _)| *h)
                .fold(f64::INFINITY, f64::min),
            registered.iter().map(|(_, u)| *u).fold(0.0, f64::max),
        )
    };
    Some(if h + u > 0.0 {
        100.0 * h / (h + u)
    } else {
        0.0
    })
}

/// What the alarm's first evaluation finds: `Some(true)` breaching, `Some(false)` not,
/// `None` not evaluated (a metric this rule does not model, or missing data treated as
/// missing). `zones`: [`zone_counts`].
pub(crate) fn breaching(alarm: &Value, zones: Option<&ZoneCounts>) -> Option<bool> {
    let Some(value) = alarm_value(alarm, zones?) else {
        return match alarm["TreatMissingData"].as_str().unwrap_or("missing") {
            "breaching" => Some(true),
            "notBreaching" => Some(false),
            _ => None,
        };
    };
    let threshold = alarm["Threshold"].as_f64()?;
    Some(match alarm["ComparisonOperator"].as_str()? {
        "LessThanThreshold" => value < threshold,
        "LessThanOrEqualToThreshold" => value <= threshold,
        "GreaterThanThreshold" => value > threshold,
        "GreaterThanOrEqualToThreshold" => value >= threshold,
        _ => return None,
    })
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

/// The reason CloudWatch gives for a first evaluation's result (`value`: `None` for missing
/// data).
fn reason(alarm: &Value, value: Option<f64>, breach: bool, at_ms: i64) -> String {
    let periods = alarm["EvaluationPeriods"].as_i64().unwrap_or(1);
    let needed = alarm["DatapointsToAlarm"].as_i64().unwrap_or(periods);
    let threshold = alarm["Threshold"].as_f64().unwrap_or_default();
    let Some(value) = value else {
        let treated = if breach { "Breaching" } else { "NotBreaching" };
        return format!(
            "Threshold Crossed: no datapoints were received for {periods} periods and {periods} \
             missing datapoints were treated as [{treated}]."
        );
    };
    let when = chrono_like(at_ms - 60_000);
    let stamp = format!(
        "{}/{}/{} {}",
        &when[8..10],
        &when[5..7],
        &when[2..4],
        &when[11..19]
    );
    let points = vec![format!("{value:.1} ({stamp})"); needed as usize].join(", ");
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
        "Trigger": trigger(alarm, dims),
    })
}

/// The notification's `Trigger`: the metric, or a metric-math alarm's `Metrics` as CloudWatch
/// writes them (`../shared/fixtures/sns-alarm-metric-math.json`: lower-case dimension keys,
/// each query's `ReturnData`).
fn trigger(alarm: &Value, dims: Vec<Value>) -> Value {
    let mut trigger = json!({
        "EvaluationPeriods": alarm["EvaluationPeriods"],
        "DatapointsToAlarm": alarm.get("DatapointsToAlarm").cloned().unwrap_or(alarm["EvaluationPeriods"].clone()),
        "ComparisonOperator": alarm["ComparisonOperator"],
        "Threshold": alarm["Threshold"],
        "TreatMissingData": alarm.get("TreatMissingData").cloned().unwrap_or(json!("missing")),
        "EvaluateLowSampleCountPercentile": "",
    });
    if let Some(queries) = alarm["Metrics"].as_array().filter(|q| !q.is_empty()) {
        let metrics: Vec<Value> = queries
            .iter()
            .map(|q| {
                let mut m = if let Some(e) = q.get("Expression") {
                    let mut m = json!({"Expression": e, "Id": q["Id"]});
                    if let Some(l) = q.get("Label") {
                        m["Label"] = l.clone();
                    }
                    m
                } else {
                    let stat = &q["MetricStat"];
                    let dims: Vec<Value> = stat["Metric"]["Dimensions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| json!({"value": d["Value"], "name": d["Name"]}))
                        .collect();
                    json!({"Id": q["Id"], "MetricStat": {
                        "Metric": {"Dimensions": dims,
                                   "MetricName": stat["Metric"]["MetricName"],
                                   "Namespace": stat["Metric"]["Namespace"]},
                        "Period": stat["Period"], "Stat": stat["Stat"]}})
                };
                m["ReturnData"] = q.get("ReturnData").cloned().unwrap_or(json!(true));
                m
            })
            .collect();
        trigger["Period"] = queries
            .iter()
            .find_map(|q| q["MetricStat"].get("Period").cloned())
            .unwrap_or(json!(60));
        trigger["Metrics"] = json!(metrics);
        return trigger;
    }
    trigger["MetricName"] = alarm["MetricName"].clone();
    trigger["Namespace"] = alarm["Namespace"].clone();
    trigger["StatisticType"] = json!("Statistic");
    trigger["Statistic"] = json!(
        alarm["Statistic"]
            .as_str()
            .unwrap_or_default()
            .to_uppercase()
    );
    trigger["Unit"] = Value::Null;
    trigger["Dimensions"] = json!(dims);
    trigger["Period"] = alarm["Period"].clone();
    trigger
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
    evaluate_as(shared, headers, name, false).await;
}

/// [`evaluate`]; `unmodelled_is_missing`: a metric this layer does not model (not an ELB's
/// healthy count) is taken as missing data, which the alarm's `TreatMissingData` decides — what
/// CloudWatch's next evaluation after SetAlarmState finds for the env's test alarm (a metric
/// nobody publishes, [`StrictConfig::next_evaluation`](super::StrictConfig::next_evaluation)).
async fn evaluate_as(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    name: &str,
    unmodelled_is_missing: bool,
) {
    let Some(alarm) = alarm(shared, headers, name).await else {
        return;
    };
    let mut zones = zone_counts(shared, headers, &alarm).await;
    if zones.is_none() && unmodelled_is_missing && healthy_hosts::watched(&alarm).is_none() {
        zones = Some(ZoneCounts::new());
    }
    let Some(breach) = breaching(&alarm, zones.as_ref()) else {
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
    let value = zones.as_ref().and_then(|z| alarm_value(&alarm, z));
    let why = reason(&alarm, value, breach, at_ms);
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
    // Rule 21: an ACTIVE mute rule targeting the alarm mutes its actions. The alarm's state
    // has still changed (muted alarms keep evaluating); only the actions are skipped.
    {
        let name = alarm["AlarmName"].as_str().unwrap_or_default();
        let region = alarm["AlarmArn"]
            .as_str()
            .and_then(|a| a.split(':').nth(3))
            .unwrap_or_default();
        let mut inner = shared.lock();
        if super::mute_rules::is_muted(&inner, region, name, at_ms) {
            inner.count("alarm-actions", "muted");
            return Vec::new();
        }
    }
    let list = match state {
        "ALARM" => "AlarmActions",
        "OK" => "OKActions",
        _ => "InsufficientDataActions",
    };
    // Rule 24: the alarm's tags, when its ActionConfiguration propagates them.
    let mut message = notification(alarm, old, state, why, at_ms);
    super::action_configuration::add_tags(shared, headers, alarm, &mut message).await;
    let message = message.to_string();
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
        super::action_configuration::record_sent(shared, topic, &subject, &message);
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

    fn one_zone(healthy: usize, registered: usize) -> ZoneCounts {
        [("us-east-1a".to_string(), (healthy, registered))].into()
    }

    #[test]
    fn an_empty_or_unhealthy_target_group_breaches_a_healthy_one_does_not() {
        assert_eq!(breaching(&alarm(), Some(&one_zone(0, 0))), Some(true));
        assert_eq!(breaching(&alarm(), Some(&one_zone(0, 2))), Some(true));
        assert_eq!(breaching(&alarm(), Some(&one_zone(1, 2))), Some(false));
        let mut missing = alarm();
        missing["TreatMissingData"] = json!("missing");
        assert_eq!(breaching(&missing, Some(&one_zone(0, 0))), None);
        assert_eq!(breaching(&alarm(), None), None);
    }

    /// A percent alarm as elb-watch puts it (`apply::alarms::share_queries`), threshold 50 %.
    fn percent_alarm(namespace: &str) -> Value {
        let q = |id: &str, metric: &str, stat: &str| {
            json!({"Id": id, "ReturnData": false, "MetricStat": {"Metric": {
                "Namespace": namespace, "MetricName": metric,
                "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/web-tg/abc"},
                               {"Name": "LoadBalancer", "Value": "app/web-alb/def"}]},
                "Period": 60, "Stat": stat}})
        };
        let mut a = alarm();
        let o = a.as_object_mut().unwrap();
        for k in [
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
        ] {
            o.remove(k);
        }
        a["Threshold"] = json!(50.0);
        a["Metrics"] = json!([
            q("h", "HealthyHostCount", "Minimum"),
            q("u", "UnHealthyHostCount", "Maximum"),
            {"Id": "healthy", "Expression": SHARE_EXPRESSION,
             "Label": "healthy targets (%)", "ReturnData": true}
        ]);
        a
    }

    #[test]
    fn a_percent_alarm_evaluates_the_healthy_share() {
        let alb = percent_alarm("AWS/ApplicationELB");
        assert_eq!(
            healthy_hosts::watched(&alb),
            Some(Watched::TargetGroup {
                arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/abc"
                    .into(),
                namespace: "AWS/ApplicationELB".into()
            })
        );
        assert_eq!(alarm_value(&alb, &one_zone(1, 4)), Some(25.0));
        assert_eq!(alarm_value(&alb, &one_zone(2, 4)), Some(50.0));
        assert_eq!(alarm_value(&alb, &one_zone(0, 0)), None);
        assert_eq!(breaching(&alb, Some(&one_zone(1, 4))), Some(true));
        assert_eq!(breaching(&alb, Some(&one_zone(2, 4))), Some(false));
        assert_eq!(breaching(&alb, Some(&one_zone(3, 3))), Some(false));
        // Nothing registered: no HealthyHostCount, missing data, `breaching`.
        assert_eq!(breaching(&alb, Some(&one_zone(0, 0))), Some(true));
        // An ALB's figures are the whole target group's: 4 of 5 healthy.
        let two: ZoneCounts = [
            ("us-east-1a".to_string(), (1, 2)),
            ("us-east-1b".to_string(), (3, 3)),
        ]
        .into();
        assert_eq!(alarm_value(&alb, &two), Some(80.0));
        // An NLB's, per zone: the worst zone's healthy (1) and unhealthy (1).
        assert_eq!(
            alarm_value(&percent_alarm("AWS/NetworkELB"), &two),
            Some(50.0)
        );
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
