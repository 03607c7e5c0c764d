//! Undelivered alerts: the records Lambda puts on the env's queue when an asynchronous
//! invocation of the notifier failed every attempt, what `status` says about them and what
//! `replay` does with them. Pure.
//!
//! A record (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>):
//!
//! ```json
//! {"version": "1.0", "timestamp": "2026-11-20T03:19:01.000Z",
//!  "requestContext": {"requestId": "…", "functionArn": "…:$LATEST",
//!                     "condition": "RetriesExhausted", "approximateInvokeCount": 3},
//!  "requestPayload": {"Records": [{"Sns": {"Timestamp": "…", "Message": "{…alarm…}"}}]},
//!  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//!  "responsePayload": {"errorType": "ElbWatch.DeliveryFailed", "errorMessage": "…"}}
//! ```

use serde::Serialize;
use serde_json::{Value, json};

/// The member of a replayed invocation's payload the notifier reads as "this is late"
/// (`lambda/src/replay.rs`).
pub const REPLAY_FIELD: &str = "elbWatchReplay";

/// One queued record, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedAlert {
    pub message_id: String,
    pub receipt_handle: String,
    /// When the record was put on the queue (SQS `SentTimestamp`, ms since the epoch).
    pub sent_ms: i64,
    /// The original SNS event (`requestPayload`).
    pub payload: Value,
    /// SNS publish time of the original event: when the alert first fired.
    pub first_fired_at: Option<String>,
    /// The record's `timestamp`: when Lambda gave up.
    pub queued_at: Option<String>,
    /// The alarm and its new state, when the message is a CloudWatch alarm.
    pub alarm: Option<String>,
    pub state: Option<String>,
    /// Why the last attempt failed (`responsePayload.errorMessage`).
    pub error: Option<String>,
    /// Attempts Lambda made (`requestContext.approximateInvokeCount`).
    pub attempts: Option<u64>,
}

/// Parse a queue message body as an on-failure record; `None` when it is not one (a message
/// someone else sent to the queue is left there, and reported).
pub fn parse_record(
    message_id: &str,
    receipt_handle: &str,
    sent_ms: i64,
    body: &str,
) -> Option<QueuedAlert> {
    let v: Value = serde_json::from_str(body).ok()?;
    let payload = v.get("requestPayload")?.clone();
    if !payload.is_object() {
        return None;
    }
    let sns = &payload["Records"][0]["Sns"];
    let message: Option<Value> = sns["Message"]
        .as_str()
        .and_then(|m| serde_json::from_str(m).ok());
    let text = |v: &Value| v.as_str().map(String::from);
    Some(QueuedAlert {
        message_id: message_id.to_string(),
        receipt_handle: receipt_handle.to_string(),
        sent_ms,
        first_fired_at: text(&sns["Timestamp"]),
        queued_at: text(&v["timestamp"]),
        alarm: message.as_ref().and_then(|m| text(&m["AlarmName"])),
        state: message.as_ref().and_then(|m| text(&m["NewStateValue"])),
        error: text(&v["responsePayload"]["errorMessage"]),
        attempts: v["requestContext"]["approximateInvokeCount"].as_u64(),
        payload,
    })
}

/// Oldest first: by when the alert first fired (ISO 8601 UTC sorts as text), then by when it
/// was queued. SQS standard queues return messages in no particular order.
pub fn oldest_first(alerts: &mut [QueuedAlert]) {
    alerts.sort_by(|a, b| {
        (a.first_fired_at.as_deref(), a.sent_ms, &a.message_id).cmp(&(
            b.first_fired_at.as_deref(),
            b.sent_ms,
            &b.message_id,
        ))
    });
}

/// What `replay` sends the notifier: the original SNS event plus the replay marker.
pub fn replay_payload(alert: &QueuedAlert) -> Value {
    let mut payload = alert.payload.clone();
    if let Some(obj) = payload.as_object_mut() {
        obj.insert(
            REPLAY_FIELD.to_string(),
            json!({"firstFiredAt": alert.first_fired_at, "queuedAt": alert.queued_at}),
        );
    }
    payload
}

/// What `status` reports about the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndeliveredStatus {
    /// Alerts held (`ApproximateNumberOfMessages` + not visible + delayed).
    pub count: u64,
    /// Age of the oldest one seen, in seconds (`None` when the queue is empty).
    pub oldest_age_s: Option<u64>,
    /// The peek saw every message (≤ 10): the age is exact; otherwise it is that of the oldest
    /// of a sample, a lower bound.
    pub oldest_exact: bool,
}

impl UndeliveredStatus {
    pub fn new(count: u64, oldest_sent_ms: Option<i64>, now_ms: i64) -> Self {
        UndeliveredStatus {
            count,
            oldest_age_s: oldest_sent_ms
                .filter(|_| count > 0)
                .map(|t| ((now_ms - t).max(0) / 1000) as u64),
            oldest_exact: count <= 10,
        }
    }

    /// One line for people.
    pub fn describe(&self, env: &str) -> String {
        if self.count == 0 {
            return "none: every alert was delivered".to_string();
        }
        let age = match self.oldest_age_s {
            Some(s) => format!(
                ", oldest {}{}",
                if self.oldest_exact { "" } else { "at least " },
                human_age(s)
            ),
            None => String::new(),
        };
        format!(
            "{} alert(s) not delivered to Slack{age}: deliver them with `elb-watch --env {env} replay`",
            self.count
        )
    }
}

/// `42 s`, `5 min`, `3 h 12 min`, `2 d 4 h`.
pub fn human_age(s: u64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        120..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// What happened to one queued alert in `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayResult {
    /// Posted by the notifier and deleted from the queue.
    Delivered,
    /// The notifier failed: left on the queue.
    Failed,
    /// Not tried (an earlier one failed, or `--dry-run`): left on the queue.
    Left,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayedAlert {
    pub message_id: String,
    pub alarm: Option<String>,
    pub state: Option<String>,
    pub first_fired_at: Option<String>,
    pub queued_at: Option<String>,
    pub result: ReplayResult,
    /// Why the notifier failed (replay), or why the alert was undelivered (dry run).
    pub error: Option<String>,
}

/// `elb-watch replay`'s report.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub env: String,
    pub region: String,
    pub queue: String,
    pub dry_run: bool,
    /// Records found on the queue.
    pub found: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Still on the queue afterwards (failed, not tried, or not a record).
    pub left: usize,
    /// Messages on the queue that are not invocation records (left alone).
    pub unreadable: usize,
    pub alerts: Vec<ReplayedAlert>,
    pub api_calls: crate::aws::CallStats,
    pub duration_ms: u128,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fired: &str, alarm: &str) -> String {
        let message = json!({"AlarmName": alarm, "NewStateValue": "ALARM"}).to_string();
        json!({
            "version": "1.0",
            "timestamp": "2026-11-20T03:19:01.000Z",
            "requestContext": {"requestId": "r", "functionArn": "arn:f:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"EventSource": "aws:sns",
                "Sns": {"Timestamp": fired, "Message": message}}]},
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": "ElbWatch.DeliveryFailed", "errorMessage": "500"}
        })
        .to_string()
    }

    #[test]
    fn a_record_gives_back_the_original_event_and_what_fired() {
        let a = parse_record("m1", "h1", 5, &record("2026-11-20T03:15:42.118Z", "a1")).unwrap();
        assert_eq!(a.alarm.as_deref(), Some("a1"));
        assert_eq!(a.state.as_deref(), Some("ALARM"));
        assert_eq!(
            a.first_fired_at.as_deref(),
            Some("2026-11-20T03:15:42.118Z")
        );
        assert_eq!(a.queued_at.as_deref(), Some("2026-11-20T03:19:01.000Z"));
        assert_eq!(a.error.as_deref(), Some("500"));
        assert_eq!(a.attempts, Some(3));
        let p = replay_payload(&a);
        assert_eq!(
            p["Records"], a.payload["Records"],
            "the original event, unchanged"
        );
        assert_eq!(p[REPLAY_FIELD]["firstFiredAt"], "2026-11-20T03:15:42.118Z");
        assert!(parse_record("m", "h", 0, "not json").is_none());
        assert!(parse_record("m", "h", 0, r#"{"hello": 1}"#).is_none());
    }

    #[test]
    fn replay_goes_oldest_first_whatever_order_sqs_returned() {
        let mut alerts: Vec<QueuedAlert> = [
            ("m3", "2026-11-20T03:17:00.000Z", 1),
            ("m1", "2026-11-20T03:15:00.000Z", 3),
            ("m2", "2026-11-20T03:16:00.000Z", 2),
        ]
        .iter()
        .map(|(id, t, sent)| parse_record(id, "h", *sent, &record(t, id)).unwrap())
        .collect();
        oldest_first(&mut alerts);
        let ids: Vec<&str> = alerts.iter().map(|a| a.message_id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);
    }

    #[test]
    fn status_counts_and_ages_undelivered_alerts() {
        let s = UndeliveredStatus::new(3, Some(1_000), 601_000);
        assert_eq!(s.oldest_age_s, Some(600));
        assert!(s.oldest_exact);
        let line = s.describe("prod");
        assert!(line.starts_with("3 alert(s) not delivered"), "{line}");
        assert!(line.contains("oldest 10 min"), "{line}");
        assert!(line.contains("elb-watch --env prod replay"), "{line}");
        let many = UndeliveredStatus::new(50, Some(1_000), 61_000);
        assert!(many.describe("p").contains("oldest at least 60 s"));
        let none = UndeliveredStatus::new(0, Some(1), 2);
        assert_eq!(none.oldest_age_s, None);
        assert!(none.describe("p").starts_with("none"));
        assert_eq!(human_age(7_300), "2 h 1 min");
        assert_eq!(human_age(190_000), "2 d 4 h");
    }
}
