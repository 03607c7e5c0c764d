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
        let members: Vec<(String, String)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("TagKeys.member.{}", i + 1), k.clone()))
            .collect();
        let mut form: Vec<(&str, &str)> = vec![
            ("Action", "UntagResource"),
            ("Version", "2010-08-01"),
            ("ResourceARN", &arn),
        ];
        form.extend(members.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if super::alarms::moto_query(shared, headers, &form)
            .await
            .is_some()
        {
            shared.lock().count("alarm-tags-deleted", "DeleteAlarms");
        }
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
}
