//! Rule 13 — an alarm's tags go with it. A CloudWatch alarm's tags belong to the alarm: they
//! are listed, set and removed through its ARN (ListTagsForResource, TagResource and
//! UntagResource answer `ResourceNotFound` for an ARN that names no alarm,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html>,
//! errors), and an alarm made again under the same name starts with the tags its own
//! PutMetricAlarm gives. moto (5.2) keeps tags in a store keyed by ARN that DeleteAlarms never
//! clears, so an alarm deleted and made again (`down` then `up`, or an alarm re-created by
//! `up` after someone deleted it) would come back with the old tags — for Slack app mode,
//! with the thread of an incident the deleted alarm had open (`elb-watch:slack-thread`).
//!
//! The layer reads the doomed alarms' ARNs and tag keys from moto before forwarding
//! DeleteAlarms, and after moto deleted them removes those tags from moto's store.
//!
//! Rule 26 — PutMetricAlarm on an existing alarm leaves its tags alone: "If you are using this
//! operation to update an existing alarm, any tags you specify in this parameter are ignored.
//! To change the tags of an existing alarm, use TagResource or UntagResource"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>,
//! `Tags`). moto (5.2) applies them on every put. The layer reads an existing alarm's tags
//! before forwarding PutMetricAlarm and, once moto accepted it, puts back what the put
//! changed: tags it added are removed, values it changed are restored.

use super::Shared;
use super::protocol::{self, Call};
use axum::http::HeaderMap;
use serde_json::Value;

/// Each doomed alarm's ARN and tag keys.
pub(crate) type Doomed = Vec<(String, Vec<String>)>;

/// The alarm names of a DeleteAlarms call (JSON from the CBOR bridge, or query).
fn names(call: &Call) -> Vec<String> {
    if let Some(list) = call.json.get("AlarmNames").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
    }
    call.params
        .iter()
        .filter(|(k, _)| k.starts_with("AlarmNames.member."))
        .map(|(_, v)| v.clone())
        .collect()
}

/// Every `<name>…</name>` text in `doc`, in order.
fn xml_texts(doc: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    doc.split(open.as_str())
        .skip(1)
        .filter_map(|part| part.split_once(close.as_str()).map(|(t, _)| t))
        .map(protocol::xml_unescape)
        .collect()
}

pub(crate) async fn before(shared: &Shared, call: &Call, headers: &HeaderMap) -> Option<Doomed> {
    if !shared.config.alarm_tags_die || !call.is("monitoring", "DeleteAlarms") {
        return None;
    }
    let mut doomed = Vec::new();
    for name in names(call) {
        let Some(described) = super::alarms::moto_query(
            shared,
            headers,
            &[
                ("Action", "DescribeAlarms"),
                ("Version", "2010-08-01"),
                ("AlarmNames.member.1", &name),
            ],
        )
        .await
        else {
            continue;
        };
        let Some(arn) = protocol::xml_text(&described, "AlarmArn") else {
            continue;
        };
        let tags = super::alarms::moto_query(
            shared,
            headers,
            &[
                ("Action", "ListTagsForResource"),
                ("Version", "2010-08-01"),
                ("ResourceARN", &arn),
            ],
        )
        .await
        .map(|t| xml_texts(&t, "Key"))
        .unwrap_or_default();
        if !tags.is_empty() {
            doomed.push((arn, tags));
        }
    }
    Some(doomed)
}

pub(crate) async fn after(shared: &Shared, headers: &HeaderMap, doomed: Option<Doomed>, ok: bool) {
    let (Some(doomed), true) = (doomed, ok) else {
        return;
    };
    for (arn, keys) in doomed {
        if untag_in_moto(shared, headers, &arn, &keys).await {
            shared.lock().count("alarm-tags-deleted", "DeleteAlarms");
        }
    }
}

/// UntagResource straight to moto; whether moto accepted it.
async fn untag_in_moto(shared: &Shared, headers: &HeaderMap, arn: &str, keys: &[String]) -> bool {
    let members: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("TagKeys.member.{}", i + 1), k.clone()))
        .collect();
    let mut form: Vec<(&str, &str)> = vec![
        ("Action", "UntagResource"),
        ("Version", "2010-08-01"),
        ("ResourceARN", arn),
    ];
    form.extend(members.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    super::alarms::moto_query(shared, headers, &form)
        .await
        .is_some()
}

/// An existing alarm's ARN and tags (key, value), read before a PutMetricAlarm.
pub(crate) type KeptTags = (String, Vec<(String, String)>);

/// The alarm name of a PutMetricAlarm call.
fn put_name(call: &Call) -> Option<String> {
    call.json
        .get("AlarmName")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| call.param("AlarmName").map(String::from))
}

/// Every tag of `arn` in moto's store, in order.
async fn moto_tags(
    shared: &Shared,
    headers: &HeaderMap,
    arn: &str,
) -> Option<Vec<(String, String)>> {
    let doc = super::alarms::moto_query(
        shared,
        headers,
        &[
            ("Action", "ListTagsForResource"),
            ("Version", "2010-08-01"),
            ("ResourceARN", arn),
        ],
    )
    .await?;
    Some(
        doc.split("<member>")
            .skip(1)
            .filter_map(|m| {
                let key = xml_texts(m, "Key").into_iter().next()?;
                let value = xml_texts(m, "Value").into_iter().next().unwrap_or_default();
                Some((key, value))
            })
            .collect(),
    )
}

pub(crate) async fn before_put(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
) -> Option<KeptTags> {
    if !shared.config.alarm_tags_die || !call.is("monitoring", "PutMetricAlarm") {
        return None;
    }
    let name = put_name(call)?;
    let described = super::alarms::moto_query(
        shared,
        headers,
        &[
            ("Action", "DescribeAlarms"),
            ("Version", "2010-08-01"),
            ("AlarmNames.member.1", &name),
        ],
    )
    .await?;
    let arn = protocol::xml_text(&described, "AlarmArn")?;
    let tags = moto_tags(shared, headers, &arn).await?;
    Some((arn, tags))
}

/// What to undo (pure): the keys the put added, and the tags whose value it changed (with
/// their value before).
fn undo(
    before: &[(String, String)],
    now: &[(String, String)],
) -> (Vec<String>, Vec<(String, String)>) {
    let added = now
        .iter()
        .filter(|(k, _)| !before.iter().any(|(b, _)| b == k))
        .map(|(k, _)| k.clone())
        .collect();
    let changed = before
        .iter()
        .filter(|(k, v)| now.iter().any(|(n, nv)| n == k && nv != v))
        .cloned()
        .collect();
    (added, changed)
}

pub(crate) async fn after_put(
    shared: &Shared,
    headers: &HeaderMap,
    kept: Option<KeptTags>,
    ok: bool,
) {
    let (Some((arn, before)), true) = (kept, ok) else {
        return;
    };
    let Some(now) = moto_tags(shared, headers, &arn).await else {
        return;
    };
    let (added, changed) = undo(&before, &now);
    if !added.is_empty() {
        untag_in_moto(shared, headers, &arn, &added).await;
    }
    if !changed.is_empty() {
        let members: Vec<(String, String)> = changed
            .iter()
            .enumerate()
            .flat_map(|(i, (k, v))| {
                [
                    (format!("Tags.member.{}.Key", i + 1), k.clone()),
                    (format!("Tags.member.{}.Value", i + 1), v.clone()),
                ]
            })
            .collect();
        let mut form: Vec<(&str, &str)> = vec![
            ("Action", "TagResource"),
            ("Version", "2010-08-01"),
            ("ResourceARN", &arn),
        ];
        form.extend(members.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        super::alarms::moto_query(shared, headers, &form).await;
    }
    if !added.is_empty() || !changed.is_empty() {
        shared.lock().count("alarm-tags-kept", "PutMetricAlarm");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_tag_list_is_read() {
        let doc = "<Tags><member><Key>elb-watch:env</Key><Value>a</Value></member>\
                   <member><Key>a&amp;b</Key><Value>c</Value></member></Tags>";
        assert_eq!(xml_texts(doc, "Key"), ["elb-watch:env", "a&b"]);
        assert!(xml_texts("<Tags/>", "Key").is_empty());
    }

    #[test]
    fn a_put_on_an_existing_alarm_undoes_the_tags_it_added_or_changed() {
        let t = |k: &str, v: &str| (k.to_string(), v.to_string());
        let before = [t("elb-watch:env", "a"), t("elb-watch:slack-thread", "C/1")];
        let now = [
            t("elb-watch:env", "a"),
            t("elb-watch:slack-thread", "C/2"),
            t("elb-watch:runbook", "https://x"),
        ];
        let (added, changed) = undo(&before, &now);
        assert_eq!(added, ["elb-watch:runbook"]);
        assert_eq!(changed, [t("elb-watch:slack-thread", "C/1")]);
        assert_eq!(undo(&before, &before), (vec![], vec![]));
    }
}
