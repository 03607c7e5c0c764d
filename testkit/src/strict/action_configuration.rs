//! Rule 24 — an alarm's `ActionConfiguration`: kept, validated, described, and, with
//! `AlarmTagsPropagation` enabled, the alarm's tags in the notifications its actions send.
//!
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
//!   takes `ActionConfiguration`
//!   (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ActionConfiguration.html>:
//!   "Settings that change the content of the notifications and events that an alarm sends when
//!   its state changes"), and DescribeAlarms' `MetricAlarm` returns it; an update "completely
//!   overwrites the previous configuration", so a PutMetricAlarm without it clears it.
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmTagsPropagation.html>:
//!   `Enabled` is required; "specify either `IncludedTagKeys` or `ExcludedTagKeys`. You can't
//!   specify both. If you specify neither, all of the alarm's tags are included. This includes
//!   tags that you add to the alarm later."; each list 1 to 50 keys of 1 to 128 characters.
//!   "When this is `true`, you must have the `cloudwatch:ListTagsForResource` permission on the
//!   alarm to create or update it" — not checked here: moto's IAM enforcement authorises the
//!   PutMetricAlarm itself, and the layer cannot evaluate a second action's policy for it.
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html>:
//!   for Amazon SNS, CloudWatch includes the tags in the notification message; "Tag keys that
//!   begin with `aws:` are reserved for AWS and are never propagated"; each payload has a status
//!   field, `AlarmTagsStatus` for SNS, `SUCCESS` when "the tags were retrieved and any key filter
//!   was applied" (the list can be empty).
//!
//! moto 5.2.5 ignores `ActionConfiguration` (its PutMetricAlarm never reads it) and DescribeAlarms
//! does not return it. The layer refuses an invalid one before moto sees the call, keeps a valid
//! one per region and alarm name once moto accepted the PutMetricAlarm, drops it with
//! DeleteAlarms, and adds it to DescribeAlarms' `MetricAlarms[]` (JSON 1.0, what the CBOR bridge
//! hands it; the query protocol is not rewritten). When the layer runs an alarm's actions
//! (`evaluation.rs`, rules 14, 17, 23) and propagation is enabled, it reads the alarm's tags from
//! moto (ListTagsForResource on the alarm ARN, at the state change) and adds [`TAGS_FIELD`] and
//! [`STATUS_FIELD`] to the SNS message. The stored page excerpt this was written from does not
//! show the SNS example: the tags are written as the list CloudWatch's own `Tag` shape uses,
//! `[{"Key": …, "Value": …}]` (the guide speaks of "the list"; EventBridge's `alarmTags`, an
//! object, is not what SNS receives here), sorted by key.
//!
//! Every message the layer's alarm actions hand to SNS is kept (the last [`KEPT`]) for tests:
//! [`StrictProxy::alarm_notifications`].

use super::protocol::{self, Call, Protocol};
use super::{Inner, Shared, StrictConfig, StrictProxy, Upstream};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The SNS message's field with the propagated tags.
pub const TAGS_FIELD: &str = "AlarmTags";
/// The SNS message's status field (the guide's name for SNS; Lambda and EventBridge use
/// `alarmTagsStatus`).
pub const STATUS_FIELD: &str = "AlarmTagsStatus";
/// The tags were read and the key filter applied (the list may be empty).
pub const SUCCESS: &str = "SUCCESS";
/// The layer could not read the alarm's tags from moto (the guide's wording for this case was
/// not available; the tags field is then an empty list).
pub const FAILED: &str = "FAILED";
/// How many sent notifications the layer keeps.
pub const KEPT: usize = 200;

/// One notification the layer's alarm actions handed to SNS.
#[derive(Debug, Clone, PartialEq)]
pub struct SentNotification {
    pub topic: String,
    pub subject: String,
    /// The SNS `Message`, parsed.
    pub message: Value,
}

/// Each alarm's ActionConfiguration, by (region, alarm name), and the notifications sent.
#[derive(Default)]
pub(crate) struct Store {
    configs: BTreeMap<(String, String), Value>,
    sent: Vec<SentNotification>,
}

/// A refusal: the query error code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// A tag-key list of AlarmTagsPropagation checked against its documented limits.
fn check_keys(list: &Value, member: &str) -> Result<(), Refusal> {
    let at = format!("actionConfiguration.alarmTagsPropagation.{member}");
    let Some(keys) = list.as_array() else {
        return Err(refuse(
            "ValidationError",
            format!("1 validation error detected: Value at '{at}' must be a list of strings"),
        ));
    };
    if keys.is_empty() || keys.len() > 50 {
        let bound = if keys.is_empty() {
            "greater than or equal to 1"
        } else {
            "less than or equal to 50"
        };
        return Err(refuse(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{list}' at '{at}' failed to satisfy \
                 constraint: Member must have length {bound}"
            ),
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key.as_str() else {
            return Err(refuse(
                "ValidationError",
                format!(
                    "1 validation error detected: Value at '{at}.{}.member' must be a string",
                    i + 1
                ),
            ));
        };
        let n = key.chars().count();
        if !(1..=128).contains(&n) {
            let bound = if n == 0 {
                "greater than or equal to 1"
            } else {
                "less than or equal to 128"
            };
            return Err(refuse(
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{key}' at '{at}.{}.member' failed to \
                     satisfy constraint: Member must have length {bound}",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// A PutMetricAlarm's `ActionConfiguration` (JSON) checked as API_AlarmTagsPropagation
/// documents it.
pub fn validate(config: &Value) -> Result<(), Refusal> {
    if config.is_null() {
        return Ok(());
    }
    if !config.is_object() {
        return Err(refuse(
            "ValidationError",
            "1 validation error detected: Value at 'actionConfiguration' must be a structure",
        ));
    }
    let propagation = &config["AlarmTagsPropagation"];
    if propagation.is_null() {
        return Ok(());
    }
    match &propagation["Enabled"] {
        Value::Bool(_) => {}
        Value::Null => {
            return Err(refuse(
                "MissingParameter",
                "The parameter ActionConfiguration.AlarmTagsPropagation.Enabled is required.",
            ));
        }
        _ => {
            return Err(refuse(
                "ValidationError",
                "1 validation error detected: Value at \
                 'actionConfiguration.alarmTagsPropagation.enabled' must be a boolean",
            ));
        }
    }
    let included = &propagation["IncludedTagKeys"];
    let excluded = &propagation["ExcludedTagKeys"];
    if !included.is_null() && !excluded.is_null() {
        return Err(refuse(
            "InvalidParameterCombination",
            "You can't specify both IncludedTagKeys and ExcludedTagKeys in \
             ActionConfiguration.AlarmTagsPropagation.",
        ));
    }
    if !included.is_null() {
        check_keys(included, "includedTagKeys")?;
    }
    if !excluded.is_null() {
        check_keys(excluded, "excludedTagKeys")?;
    }
    Ok(())
}

/// Before forwarding: an invalid ActionConfiguration of a PutMetricAlarm is refused.
pub(crate) fn check(inner: &mut Inner, config: &StrictConfig, call: &Call) -> Option<Response> {
    if !config.action_configuration
        || !call.is("monitoring", "PutMetricAlarm")
        || !matches!(call.protocol, Protocol::Json { .. })
    {
        return None;
    }
    let ac = call.json.get("ActionConfiguration")?;
    let refusal = validate(ac).err()?;
    inner.count("action-configuration", &format!("refused-{}", refusal.code));
    Some(protocol::error(
        call,
        StatusCode::BAD_REQUEST,
        refusal.code,
        &refusal.message,
    ))
}

/// The alarm names of a JSON DeleteAlarms.
fn deleted_names(call: &Call) -> Vec<String> {
    call.json["AlarmNames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// After moto accepted the call: keep (or clear) a PutMetricAlarm's configuration, drop those
/// of deleted alarms.
pub(crate) fn record(inner: &mut Inner, config: &StrictConfig, call: &Call) {
    if !config.action_configuration || !matches!(call.protocol, Protocol::Json { .. }) {
        return;
    }
    if call.is("monitoring", "PutMetricAlarm") {
        let Some(name) = call.json_str("AlarmName") else {
            return;
        };
        let key = (call.region.clone(), name.to_string());
        match call
            .json
            .get("ActionConfiguration")
            .filter(|v| !v.is_null())
        {
            Some(ac) => {
                inner.action_configuration.configs.insert(key, ac.clone());
                inner.count("action-configuration", "stored");
            }
            None => {
                if inner.action_configuration.configs.remove(&key).is_some() {
                    inner.count("action-configuration", "cleared");
                }
            }
        }
    } else if call.is("monitoring", "DeleteAlarms") {
        for name in deleted_names(call) {
            let key = (call.region.clone(), name);
            if inner.action_configuration.configs.remove(&key).is_some() {
                inner.count("action-configuration", "dropped");
            }
        }
    }
}

/// DescribeAlarms' metric alarms with the ActionConfiguration the layer keeps for them.
pub(crate) fn rewrite(
    inner: &mut Inner,
    config: &StrictConfig,
    call: &Call,
    mut up: Upstream,
) -> Upstream {
    if !config.action_configuration
        || !call.is("monitoring", "DescribeAlarms")
        || !matches!(call.protocol, Protocol::Json { .. })
        || inner.action_configuration.configs.is_empty()
    {
        return up;
    }
    let mut body = up.json();
    let Some(alarms) = body["MetricAlarms"].as_array_mut() else {
        return up;
    };
    let mut added = 0;
    for alarm in alarms.iter_mut() {
        let Some(name) = alarm["AlarmName"].as_str() else {
            continue;
        };
        let key = (call.region.clone(), name.to_string());
        if let Some(ac) = inner.action_configuration.configs.get(&key) {
            alarm["ActionConfiguration"] = ac.clone();
            added += 1;
        }
    }
    if added > 0 {
        inner.add("action-configuration", "described", added);
        up.body = body.to_string().into();
    }
    up
}

/// The tags an SNS message carries under `propagation` (an `AlarmTagsPropagation`), from the
/// alarm's tags (`None`: they could not be read): the tags field and the status.
pub fn propagated(propagation: &Value, tags: Option<&[(String, String)]>) -> (Value, &'static str) {
    let Some(tags) = tags else {
        return (json!([]), FAILED);
    };
    let listed = |list: &Value, key: &str| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|k| k.as_str() == Some(key)))
    };
    let included = &propagation["IncludedTagKeys"];
    let excluded = &propagation["ExcludedTagKeys"];
    let kept: BTreeMap<&str, &str> = tags
        .iter()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("aws:"))
        .filter(|(k, _)| included.is_null() || listed(included, k))
        .filter(|(k, _)| excluded.is_null() || !listed(excluded, k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let list: Vec<Value> = kept
        .into_iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    (Value::Array(list), SUCCESS)
}

/// The alarm's tags from moto (`None` when moto did not answer).
async fn alarm_tags(
    shared: &Shared,
    headers: &HeaderMap,
    arn: &str,
) -> Option<Vec<(String, String)>> {
    let v = super::moto_json(
        shared,
        headers,
        "GraniteServiceVersion20100801.ListTagsForResource",
        json!({"ResourceARN": arn}),
    )
    .await?;
    Some(
        v["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t["Key"].as_str()?.to_string(),
                    t["Value"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
    )
}

/// When the alarm's AlarmTagsPropagation is enabled: its tags, read now, and the status into
/// `message` (CloudWatch's notification, `evaluation::notification`). `headers` carry the
/// CloudWatch credential scope.
pub(crate) async fn add_tags(
    shared: &Shared,
    headers: &HeaderMap,
    alarm: &Value,
    message: &mut Value,
) {
    if !shared.config.action_configuration {
        return;
    }
    let (Some(name), Some(arn)) = (alarm["AlarmName"].as_str(), alarm["AlarmArn"].as_str()) else {
        return;
    };
    let region = arn.split(':').nth(3).unwrap_or_default().to_string();
    let propagation = {
        let inner = shared.lock();
        match inner
            .action_configuration
            .configs
            .get(&(region, name.to_string()))
        {
            Some(ac) if ac["AlarmTagsPropagation"]["Enabled"] == true => {
                ac["AlarmTagsPropagation"].clone()
            }
            _ => return,
        }
    };
    let tags = alarm_tags(shared, headers, arn).await;
    let (list, status) = propagated(&propagation, tags.as_deref());
    message[TAGS_FIELD] = list;
    message[STATUS_FIELD] = json!(status);
    shared.lock().count("alarm-tags-propagated", status);
}

/// Keep a message the layer's alarm actions hand to SNS (the last [`KEPT`]).
pub(crate) fn record_sent(shared: &Shared, topic: &str, subject: &str, message: &str) {
    let mut inner = shared.lock();
    let sent = &mut inner.action_configuration.sent;
    sent.push(SentNotification {
        topic: topic.to_string(),
        subject: subject.to_string(),
        message: serde_json::from_str(message).unwrap_or(Value::Null),
    });
    if sent.len() > KEPT {
        let over = sent.len() - KEPT;
        sent.drain(..over);
    }
}

impl StrictProxy {
    /// The notifications the layer's alarm actions (rules 14, 17, 23) handed to SNS, oldest
    /// first (the last [`KEPT`]), whether or not a subscriber received them.
    pub fn alarm_notifications(&self) -> Vec<SentNotification> {
        self.shared.lock().action_configuration.sent.clone()
    }

    /// The ActionConfiguration the layer keeps for `alarm` in `region` (rule 24).
    pub fn action_configuration(&self, region: &str, alarm: &str) -> Option<Value> {
        self.shared
            .lock()
            .action_configuration
            .configs
            .get(&(region.to_string(), alarm.to_string()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<(String, String)> {
        [
            ("team", "web"),
            ("elb-watch:env", "prod"),
            ("aws:cloudformation:stack-name", "s"),
            ("AWS:Other", "x"),
            ("secret", "s3cr3t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn every_tag_but_aws_ones_sorted_by_key_without_a_filter() {
        let (list, status) = propagated(&json!({"Enabled": true}), Some(&tags()));
        assert_eq!(status, "SUCCESS");
        assert_eq!(
            list,
            json!([{"Key": "elb-watch:env", "Value": "prod"},
                   {"Key": "secret", "Value": "s3cr3t"},
                   {"Key": "team", "Value": "web"}])
        );
    }

    #[test]
    fn included_keys_keep_only_those_and_excluded_keys_drop_those() {
        let inc = json!({"Enabled": true,
                         "IncludedTagKeys": ["team", "aws:cloudformation:stack-name", "missing"]});
        assert_eq!(
            propagated(&inc, Some(&tags())).0,
            json!([{"Key": "team", "Value": "web"}])
        );
        let exc = json!({"Enabled": true, "ExcludedTagKeys": ["secret"]});
        assert_eq!(
            propagated(&exc, Some(&tags())).0,
            json!([{"Key": "elb-watch:env", "Value": "prod"}, {"Key": "team", "Value": "web"}])
        );
    }

    #[test]
    fn no_tags_is_an_empty_success_and_an_unread_list_fails() {
        assert_eq!(
            propagated(&json!({"Enabled": true}), Some(&[])),
            (json!([]), "SUCCESS")
        );
        assert_eq!(
            propagated(&json!({"Enabled": true}), None),
            (json!([]), "FAILED")
        );
    }

    fn code(v: Value) -> &'static str {
        validate(&v).expect_err("refused").code
    }

    #[test]
    fn the_documented_limits_are_enforced() {
        assert!(validate(&Value::Null).is_ok());
        assert!(validate(&json!({})).is_ok());
        assert!(validate(&json!({"AlarmTagsPropagation": {"Enabled": false}})).is_ok());
        assert!(
            validate(&json!({"AlarmTagsPropagation": {"Enabled": true,
                "IncludedTagKeys": ["team"]}}))
            .is_ok()
        );
        let fifty: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
        assert!(
            validate(&json!({"AlarmTagsPropagation": {"Enabled": true,
                "ExcludedTagKeys": fifty}}))
            .is_ok()
        );
        assert!(
            validate(&json!({"AlarmTagsPropagation": {"Enabled": true,
                "ExcludedTagKeys": ["k".repeat(128)]}}))
            .is_ok()
        );

        assert_eq!(
            code(json!({"AlarmTagsPropagation": {"Enabled": true,
                "IncludedTagKeys": ["a"], "ExcludedTagKeys": ["b"]}})),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(json!({"AlarmTagsPropagation": {"IncludedTagKeys": ["a"]}})),
            "MissingParameter"
        );
        assert_eq!(
            code(json!({"AlarmTagsPropagation": {"Enabled": true, "IncludedTagKeys": []}})),
            "ValidationError"
        );
        let fifty_one: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
        assert_eq!(
            code(json!({"AlarmTagsPropagation": {"Enabled": true,
                "IncludedTagKeys": fifty_one}})),
            "ValidationError"
        );
        let long = validate(&json!({"AlarmTagsPropagation": {"Enabled": true,
                "ExcludedTagKeys": ["ok", "k".repeat(129)]}}))
        .unwrap_err();
        assert_eq!(long.code, "ValidationError");
        assert!(
            long.message
                .contains("'actionConfiguration.alarmTagsPropagation.excludedTagKeys.2.member'"),
            "{}",
            long.message
        );
        assert_eq!(
            code(json!({"AlarmTagsPropagation": {"Enabled": true, "ExcludedTagKeys": [""]}})),
            "ValidationError"
        );
    }

    #[test]
    fn a_put_metric_alarm_call_is_refused_with_cloudwatchs_error_shape() {
        let call = protocol::cloudwatch_json_call(
            "PutMetricAlarm",
            json!({"AlarmName": "a", "ActionConfiguration": {"AlarmTagsPropagation":
                {"Enabled": true, "IncludedTagKeys": ["a"], "ExcludedTagKeys": ["b"]}}}),
        );
        let mut inner = Inner::default();
        let resp = check(&mut inner, &StrictConfig::default(), &call).expect("refused");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers()["x-amzn-query-error"],
            "InvalidParameterCombination;Sender"
        );
        assert_eq!(
            inner.stats["action-configuration:refused-InvalidParameterCombination"],
            1
        );
        assert!(check(&mut inner, &StrictConfig::none(), &call).is_none());
    }

    #[test]
    fn a_kept_configuration_is_described_cleared_by_an_update_and_dropped_with_the_alarm() {
        let c = StrictConfig::default();
        let mut inner = Inner::default();
        let ac = json!({"AlarmTagsPropagation": {"Enabled": true}});
        let put = protocol::cloudwatch_json_call(
            "PutMetricAlarm",
            json!({"AlarmName": "a", "ActionConfiguration": ac}),
        );
        record(&mut inner, &c, &put);
        let describe = protocol::cloudwatch_json_call("DescribeAlarms", json!({}));
        let described = |inner: &mut Inner| {
            let up = Upstream {
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                body: json!({"MetricAlarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]})
                    .to_string()
                    .into(),
            };
            rewrite(inner, &c, &describe, up).json()
        };
        let v = described(&mut inner);
        assert_eq!(v["MetricAlarms"][0]["ActionConfiguration"], ac);
        assert!(v["MetricAlarms"][1].get("ActionConfiguration").is_none());

        let update = protocol::cloudwatch_json_call("PutMetricAlarm", json!({"AlarmName": "a"}));
        record(&mut inner, &c, &update);
        assert!(
            described(&mut inner)["MetricAlarms"][0]
                .get("ActionConfiguration")
                .is_none()
        );

        record(&mut inner, &c, &put);
        let delete =
            protocol::cloudwatch_json_call("DeleteAlarms", json!({"AlarmNames": ["a", "b"]}));
        record(&mut inner, &c, &delete);
        assert!(inner.action_configuration.configs.is_empty());
        assert_eq!(inner.stats["action-configuration:dropped"], 1);
    }
}
