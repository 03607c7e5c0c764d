//! What the e-mail subscription lets through. Pure.
//!
//! The topic carries every state change of every alarm; a person reading mail needs two kinds:
//! every ALARM (from any state, the alerting path's alarms and `up`'s "found in ALARM"
//! announcements included) and every change out of ALARM (the recovery). A new alarm's first
//! INSUFFICIENT_DATA → OK is neither, and `up --all` on a large account would otherwise mail
//! hundreds of them, teaching the address to be ignored.
//!
//! SNS filters on the message body when the subscription's `FilterPolicyScope` is
//! `MessageBody` (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html>);
//! CloudWatch's notification is a JSON object with top-level `NewStateValue` and
//! `OldStateValue`, and `"$or"` over two objects is SNS's OR across properties
//! (<https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html#or-operator>). A message that
//! is not JSON (someone publishing text to the topic) is not mailed. Changes to a filter policy
//! take up to 15 minutes to take effect on AWS
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>).

use serde_json::{Value, json};

pub const SCOPE_ATTRIBUTE: &str = "FilterPolicyScope";
pub const POLICY_ATTRIBUTE: &str = "FilterPolicy";
pub const SCOPE: &str = "MessageBody";

/// How `elb-watch test` starts the reason it gives `SetAlarmState` (the notifier's
/// `TEST_REASON`): tests are for Slack, not for the mailbox.
pub const TEST_REASON: &str = "elb-watch test ";

/// The e-mail subscription's filter policy: ALARM and recoveries, never a test (a reason set
/// by `elb-watch test`, or any change of the env's test alarm, `test_alarm`). `anything-but`
/// with `prefix`, and keys beside `$or` being ANDed with it:
/// <https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html>.
pub fn policy(test_alarm: &str) -> Value {
    json!({
        "$or": [{"NewStateValue": ["ALARM"]}, {"OldStateValue": ["ALARM"]}],
        "AlarmName": [{"anything-but": [test_alarm]}],
        "NewStateReason": [{"anything-but": {"prefix": TEST_REASON}}],
    })
}

/// How a subscription's filter attributes (as read back, `None` when absent) differ from
/// [`policy`] with scope [`SCOPE`]; empty when in sync.
pub fn drift(scope: Option<&str>, policy_text: Option<&str>, test_alarm: &str) -> Vec<String> {
    let same_policy = policy_text
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .is_some_and(|p| p == policy(test_alarm));
    let mut r = Vec::new();
    if scope != Some(SCOPE) || !same_policy {
        r.push("filter policy (ALARM and recoveries only, no tests)".to_string());
    }
    r
}

/// Whether SNS would mail `message` (a CloudWatch notification body) under [`policy`]: the
/// rule the policy states, for tests and documentation. The emulator's own filter matcher is
/// what `tests/email_filter.rs` checks it against.
pub fn mailed(message: &Value, test_alarm: &str) -> bool {
    let test = message["AlarmName"] == test_alarm
        || message["NewStateReason"]
            .as_str()
            .is_some_and(|r| r.starts_with(TEST_REASON));
    !test && (message["NewStateValue"] == "ALARM" || message["OldStateValue"] == "ALARM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_read_back_in_any_key_order_is_in_sync() {
        let t = "elb-watch/prod/test";
        let text = r#"{"NewStateReason":[{"anything-but":{"prefix":"elb-watch test "}}],
            "AlarmName":[{"anything-but":["elb-watch/prod/test"]}],
            "$or":[{"NewStateValue":["ALARM"]},{"OldStateValue":["ALARM"]}]}"#;
        assert!(drift(Some("MessageBody"), Some(text), t).is_empty());
        assert_eq!(drift(None, Some(text), t).len(), 1, "attribute scope");
        assert_eq!(drift(Some("MessageBody"), None, t).len(), 1);
        assert_eq!(drift(Some("MessageBody"), Some("{}"), t).len(), 1);
        let before_tests = r#"{"$or":[{"NewStateValue":["ALARM"]},{"OldStateValue":["ALARM"]}]}"#;
        assert_eq!(drift(Some("MessageBody"), Some(before_tests), t).len(), 1);
    }

    #[test]
    fn alarms_and_recoveries_are_mailed_a_first_ok_is_not() {
        let t = "elb-watch/prod/test";
        let m = |old: &str, new: &str| json!({"OldStateValue": old, "NewStateValue": new});
        assert!(mailed(&m("OK", "ALARM"), t));
        assert!(mailed(&m("INSUFFICIENT_DATA", "ALARM"), t));
        assert!(mailed(&m("ALARM", "OK"), t));
        assert!(mailed(&m("ALARM", "INSUFFICIENT_DATA"), t));
        assert!(!mailed(&m("INSUFFICIENT_DATA", "OK"), t));
        assert!(!mailed(&m("OK", "INSUFFICIENT_DATA"), t));
        let mut test = m("OK", "ALARM");
        test["NewStateReason"] = json!("elb-watch test 1: a test");
        assert!(!mailed(&test, t), "a test is not mailed");
        let mut own = m("ALARM", "OK");
        own["AlarmName"] = json!(t);
        assert!(!mailed(&own, t), "nor the test alarm's return to OK");
    }
}
