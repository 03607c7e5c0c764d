//! Rule 1 — tags checked against the documented limits on every operation here that takes
//! tags, refused with the service's own validation error.
//!
//! AWS's general tag rules (<https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html>,
//! and each service's `Tag` shape, e.g.
//! <https://docs.aws.amazon.com/efs/latest/ug/API_Tag.html>):
//! - key: 1–128 Unicode characters, value: 0–256, both matching
//!   `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$` (letters, separators/spaces, numbers and `_ . : / = + - @`);
//! - the `aws:` prefix (any case) is reserved for AWS;
//! - at most 50 user tags per resource (checked per request here).
//!
//! Error codes: IAM `InvalidInput` / `LimitExceeded`
//! (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html>), SNS
//! `InvalidParameter` / `TagLimitExceeded`
//! (<https://docs.aws.amazon.com/sns/latest/api/API_TagResource.html>), KMS `TagException`
//! (<https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html>), CloudWatch
//! `InvalidParameterValue` (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html>),
//! CloudWatch Logs `InvalidParameterException` / `TooManyTagsException`
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html>),
//! Lambda `InvalidParameterValueException`
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html>), SQS
//! `InvalidParameterValue` (SQS's tag limits: <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-tags.html>;
//! no tag-specific error code is documented).

use super::protocol::{self, Call};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::BTreeMap;

pub const MAX_KEY: usize = 128;
pub const MAX_VALUE: usize = 256;
pub const MAX_TAGS: usize = 50;

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. `\p{L}` is approximated by `char::is_alphabetic` (which also
/// admits the few non-letter alphabetic marks), `\p{N}` is exactly `char::is_numeric`, `\p{Z}`
/// is whitespace that is not a control character.
pub fn allowed_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

/// Why a tag is invalid, or `None`.
pub fn problem(key: &str, value: &str) -> Option<String> {
    let klen = key.chars().count();
    if klen == 0 || klen > MAX_KEY {
        return Some(format!(
            "tag key '{key}' must be 1 to {MAX_KEY} characters long"
        ));
    }
    if value.chars().count() > MAX_VALUE {
        return Some(format!(
            "the value of tag '{key}' must be at most {MAX_VALUE} characters long"
        ));
    }
    if let Some(c) = key.chars().find(|c| !allowed_char(*c)) {
        return Some(format!(
            "tag key '{key}' contains '{c}', which does not satisfy the pattern \
             [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*"
        ));
    }
    if let Some(c) = value.chars().find(|c| !allowed_char(*c)) {
        return Some(format!(
            "the value of tag '{key}' contains '{c}', which does not satisfy the pattern \
             [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Some(format!("tag key '{key}' uses the reserved prefix 'aws:'"));
    }
    None
}

/// The tags a request sets, as (key, value) pairs; `None` when the operation takes no tags.
pub fn tags_of(call: &Call) -> Option<Vec<(String, String)>> {
    let op = call.operation.as_str();
    match call.service.as_str() {
        "iam" if matches!(op, "CreateRole" | "TagRole" | "CreatePolicy" | "TagPolicy") => {
            Some(query_tags(call))
        }
        "sns" if matches!(op, "CreateTopic" | "TagResource") => Some(query_tags(call)),
        "monitoring" if matches!(op, "PutMetricAlarm" | "TagResource") => {
            if call.params.is_empty() {
                Some(json_tags(call.json.get("Tags"), "Key", "Value"))
            } else {
                Some(query_tags(call))
            }
        }
        "kms" if matches!(op, "CreateKey" | "TagResource") => {
            Some(json_tags(call.json.get("Tags"), "TagKey", "TagValue"))
        }
        "logs" if matches!(op, "CreateLogGroup" | "TagResource" | "TagLogGroup") => {
            Some(json_tags(call.json.get("tags"), "Key", "Value"))
        }
        "lambda" if matches!(op, "CreateFunction" | "TagResource") => {
            Some(json_tags(call.json.get("Tags"), "Key", "Value"))
        }
        // CreateQueue's member is `tags` (lower case), TagQueue's `Tags`; both maps.
        "sqs" if op == "CreateQueue" => Some(json_tags(call.json.get("tags"), "Key", "Value")),
        "sqs" if op == "TagQueue" => Some(json_tags(call.json.get("Tags"), "Key", "Value")),
        _ => None,
    }
}

/// `Tags.member.N.Key` / `Tags.member.N.Value`, in N order.
fn query_tags(call: &Call) -> Vec<(String, String)> {
    let mut by_n: BTreeMap<u32, (String, String)> = BTreeMap::new();
    for (k, v) in &call.params {
        let Some(rest) = k.strip_prefix("Tags.member.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse() else { continue };
        let e = by_n.entry(n).or_default();
        match field {
            "Key" => e.0 = v.clone(),
            "Value" => e.1 = v.clone(),
            _ => {}
        }
    }
    by_n.into_values().collect()
}

/// A JSON map `{"k": "v"}` or a list `[{"Key": k, "Value": v}]`.
fn json_tags(v: Option<&Value>, key: &str, value: &str) -> Vec<(String, String)> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|t| {
                (
                    t[key].as_str().unwrap_or_default().to_string(),
                    t[value].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// (code for an invalid tag, code for too many tags) of the service.
fn codes(call: &Call) -> (&'static str, &'static str) {
    match call.service.as_str() {
        "iam" => ("InvalidInput", "LimitExceeded"),
        "sns" => ("InvalidParameter", "TagLimitExceeded"),
        "kms" => ("TagException", "TagException"),
        "monitoring" => ("InvalidParameterValue", "LimitExceeded"),
        "logs" => ("InvalidParameterException", "TooManyTagsException"),
        // SQS documents no tag-specific code; its generic validation error.
        "sqs" => ("InvalidParameterValue", "InvalidParameterValue"),
        _ => (
            "InvalidParameterValueException",
            "InvalidParameterValueException",
        ),
    }
}

/// The service's error when a request sets an invalid tag.
pub fn check(call: &Call) -> Option<Response> {
    let tags = tags_of(call)?;
    let (invalid, too_many) = codes(call);
    if tags.len() > MAX_TAGS {
        return Some(protocol::error(
            call,
            StatusCode::BAD_REQUEST,
            too_many,
            &format!(
                "{} tags exceed the limit of {MAX_TAGS} tags per resource",
                tags.len()
            ),
        ));
    }
    for (k, v) in &tags {
        if let Some(p) = problem(k, v) {
            return Some(protocol::error(
                call,
                StatusCode::BAD_REQUEST,
                invalid,
                &format!("1 validation error detected: {p}"),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_general_pattern_and_limits() {
        assert_eq!(problem("elb-watch:env", "prod"), None);
        assert_eq!(problem("Name", "web alb/β 1+2=3 @x"), None);
        assert!(problem("elb-watch:slack-channel", "#ops").is_some());
        assert!(problem("k", "a,b").is_some());
        assert!(problem("", "v").is_some());
        assert!(problem(&"k".repeat(129), "v").is_some());
        assert_eq!(problem(&"k".repeat(128), &"v".repeat(256)), None);
        assert!(problem("k", &"v".repeat(257)).is_some());
        assert!(problem("AWS:foo", "v").is_some());
        assert!(problem("k", "line\nbreak").is_some());
    }
}
