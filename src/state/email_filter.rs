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

/// The e-mail subscription's filter policy.
pub fn policy() -> Value {
    json!({"$or": [{"NewStateValue": ["ALARM"]}, {"OldStateValue": ["ALARM"]}]})
}

/// How a subscription's filter attributes (as read back, `None` when absent) differ from
/// [`policy`] with scope [`SCOPE`]; empty when in sync.
pub fn drift(scope: Option<&str>, policy_text: Option<&str>) -> Vec<String> {
    let same_policy = policy_text
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .is_some_and(|p| p == policy());
    let mut r = Vec::new();
    if scope != Some(SCOPE) || !same_policy {
        r.push("filter policy (ALARM and recoveries only)".to_string());
    }
    r
}

/// Whether SNS would mail `message` (a CloudWatch notification body) under [`policy`]: the
/// rule the policy states, for tests and documentation. The emulator's own filter matcher is
/// what `tests/email_filter.rs` checks it against.
pub fn mailed(message: &Value) -> bool {
    message["NewStateValue"] == "ALARM" || message["OldStateValue"] == "ALARM"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_read_back_in_any_key_order_is_in_sync() {
        let text = r#"{"$or":[{"NewStateValue":["ALARM"]},{"OldStateValue":["ALARM"]}]}"#;
        assert!(drift(Some("MessageBody"), Some(text)).is_empty());
        assert_eq!(drift(None, Some(text)).len(), 1, "attribute scope");
        assert_eq!(drift(Some("MessageBody"), None).len(), 1);
        assert_eq!(drift(Some("MessageBody"), Some("{}")).len(), 1);
    }

    #[test]
    fn alarms_and_recoveries_are_mailed_a_first_ok_is_not() {
        let m = |old: &str, new: &str| json!({"OldStateValue": old, "NewStateValue": new});
        assert!(mailed(&m("OK", "ALARM")));
        assert!(mailed(&m("INSUFFICIENT_DATA", "ALARM")));
        assert!(mailed(&m("ALARM", "OK")));
        assert!(mailed(&m("ALARM", "INSUFFICIENT_DATA")));
        assert!(!mailed(&m("INSUFFICIENT_DATA", "OK")));
        assert!(!mailed(&m("OK", "INSUFFICIENT_DATA")));
    }
}
