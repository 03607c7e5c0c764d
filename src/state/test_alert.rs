//! `elb-watch test`: the reason it gives `SetAlarmState`, and what the notifier's log lines
//! say about that one test — delivered, refused, or nothing at all. Pure.
//!
//! The notifier logs one structured line per delivery with `test_id` (the `<ID>` of the reason
//! `elb-watch test <ID>: …`, `lambda/src/event/parse.rs`), `outcome`, `elapsed_ms` and what
//! Slack answered; Lambda sends those lines to the function's log group, where `test` reads them
//! (`FilterLogEvents`).

use super::email_filter::TEST_REASON;
use serde::Serialize;
use serde_json::Value;

/// The reason `elb-watch test` gives the alarm's state change.
pub fn reason(id: &str) -> String {
    format!("{TEST_REASON}{id}: a test alert sent by `elb-watch test`; no action needed")
}

/// A test's id: when it was sent and by which process (letters, digits and `-`).
pub fn new_id(now_ms: u128, pid: u32) -> String {
    format!("{now_ms:x}-{pid:x}")
}

/// One hop of the alert's way, with its time after the alarm's state was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub hop: &'static str,
    pub after_ms: i64,
}

/// Where the test alert got to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reached {
    /// Slack accepted the message.
    Delivered,
    /// The notifier ran and Slack refused or could not be reached.
    NotifierFailed,
    /// No log line of the notifier for this test within the wait.
    NotInvoked,
}

/// What the log lines say about test `id`. `events` are (log event timestamp in ms, message).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub reached: Reached,
    pub hops: Vec<Hop>,
    /// Slack's answer or the delivery error, for a failure.
    pub error: Option<String>,
    /// What to do about it.
    pub fix: Option<String>,
}

/// Reads the notifier's lines for test `id`, sent when the alarm was set at `set_ms`. A
/// delivery wins over a failure (Lambda retries a failed event); nothing is `None`.
pub fn find(events: &[(i64, String)], id: &str, set_ms: i64) -> Option<Finding> {
    let ours: Vec<(i64, Value)> = events
        .iter()
        .filter_map(|(t, m)| Some((*t, serde_json::from_str::<Value>(m).ok()?)))
        .filter(|(_, v)| v["fields"]["test_id"] == id)
        .collect();
    let line = |outcome: &str| ours.iter().find(|(_, v)| v["fields"]["outcome"] == outcome);
    let hops = |t: i64, v: &Value| {
        let answered = (t - set_ms).max(0);
        let spent = v["fields"]["elapsed_ms"].as_i64().unwrap_or(0);
        vec![
            Hop {
                hop: "alarm state set",
                after_ms: 0,
            },
            Hop {
                hop: "notifier invoked",
                after_ms: (answered - spent).max(0),
            },
            Hop {
                hop: "Slack answered",
                after_ms: answered,
            },
        ]
    };
    if let Some((t, v)) = line("delivered") {
        return Some(Finding {
            reached: Reached::Delivered,
            hops: hops(*t, v),
            error: None,
            fix: None,
        });
    }
    let (t, v) = line("failed")?;
    let f = &v["fields"];
    let text = |k: &str| f[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let error = text("slack_error")
        .map(|e| format!("Slack refused it: {e}"))
        .or_else(|| text("error").map(|e| format!("not delivered: {e}")));
    let fix = text("fix").unwrap_or_else(|| {
        "Lambda retries it; if every attempt fails the alert is kept on the undelivered queue: \
         fix the cause, then `elb-watch replay`"
            .to_string()
    });
    Some(Finding {
        reached: Reached::NotifierFailed,
        hops: hops(*t, v).into_iter().take(2).collect(),
        error,
        fix: Some(fix),
    })
}

/// Why nothing was heard from the notifier, given whether the topic has its subscription.
pub fn not_invoked(subscribed: bool, topic: &str, function: &str, env: &str) -> Finding {
    let fix = if subscribed {
        format!(
            "the notifier was not invoked: check that {topic} may invoke {function} (its \
             permission) and that the function runs (`elb-watch --env {env} status`)"
        )
    } else {
        format!(
            "the topic {topic} has no subscription for the notifier {function}: run \
             `elb-watch --env {env} up` to put it back"
        )
    };
    Finding {
        reached: Reached::NotInvoked,
        hops: vec![Hop {
            hop: "alarm state set",
            after_ms: 0,
        }],
        error: None,
        fix: Some(fix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(id: &str, outcome: &str, extra: Value) -> String {
        let mut fields = json!({"test_id": id, "outcome": outcome, "elapsed_ms": 120});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"level": "INFO", "fields": fields}).to_string()
    }

    #[test]
    fn the_reason_carries_the_id_the_notifier_reads() {
        let id = new_id(0x18f_0000_0000, 4242);
        assert_eq!(id, "18f00000000-1092");
        let r = reason(&id);
        assert!(r.starts_with("elb-watch test 18f00000000-1092: "), "{r}");
    }

    #[test]
    fn a_delivery_gives_three_hops_and_wins_over_an_earlier_failure() {
        let events = vec![
            (1_000, "not json".to_string()),
            (1_100, line("other", "delivered", json!({}))),
            (
                1_500,
                line("t1", "failed", json!({"slack_error": "rate_limited"})),
            ),
            (2_400, line("t1", "delivered", json!({"status": 200}))),
        ];
        let f = find(&events, "t1", 1_000).unwrap();
        assert_eq!(f.reached, Reached::Delivered);
        let after: Vec<i64> = f.hops.iter().map(|h| h.after_ms).collect();
        assert_eq!(after, vec![0, 1_280, 1_400]);
        assert!(find(&events, "t2", 1_000).is_none());
    }

    #[test]
    fn a_refusal_says_what_slack_answered_and_what_to_do() {
        let events = vec![(
            1_300,
            line(
                "t1",
                "failed",
                json!({"slack_error": "invalid_token", "fix": "make a new webhook"}),
            ),
        )];
        let f = find(&events, "t1", 1_000).unwrap();
        assert_eq!(f.reached, Reached::NotifierFailed);
        assert_eq!(f.error.as_deref(), Some("Slack refused it: invalid_token"));
        assert_eq!(f.fix.as_deref(), Some("make a new webhook"));
        let without_fix = vec![(1_300, line("t1", "failed", json!({"error": "timed out"})))];
        let f = find(&without_fix, "t1", 1_000).unwrap();
        assert_eq!(f.error.as_deref(), Some("not delivered: timed out"));
        assert!(f.fix.unwrap().contains("replay"));
    }

    #[test]
    fn silence_names_the_missing_subscription_or_the_invocation() {
        let gone = not_invoked(false, "arn:t", "fn", "prod");
        assert!(gone.fix.unwrap().contains("no subscription"));
        let silent = not_invoked(true, "arn:t", "fn", "prod");
        assert!(silent.fix.unwrap().contains("was not invoked"));
    }
}
