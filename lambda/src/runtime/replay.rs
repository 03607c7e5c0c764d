//! Replayed alerts (`elb-watch replay`, issue 13): an event Lambda could not deliver was kept in
//! the env's SQS queue and is sent again, later, through this same function. `elb-watch replay`
//! invokes it with the original SNS event plus a marker:
//!
//! ```json
//! {"Records": [...], "elbWatchReplay": {"firstFiredAt": "2026-11-20T03:15:42.118Z",
//!                                       "queuedAt": "2026-11-20T03:19:01.000Z"}}
//! ```
//!
//! A replayed message must not read as news: it says it is late and when it first fired (the
//! alarm's `StateChangeTime`, else the marker's `firstFiredAt`, the SNS publish time); the
//! words are [`late`](crate::render::late)'s. Pure.

use serde_json::Value;

use crate::event::parse::Notification;
use crate::render::blocks::format_time;

/// Top-level member of the invocation payload that marks a replay.
pub const FIELD: &str = "elbWatchReplay";

/// What the marker says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// When the alert was first published (SNS `Timestamp` of the original event).
    pub first_fired_at: Option<String>,
    /// When Lambda gave up on it and put it on the queue.
    pub queued_at: Option<String>,
}

/// The marker, if the payload carries one (any object under [`FIELD`]; its members optional).
pub fn parse(payload: &Value) -> Option<Replay> {
    let marker = payload.get(FIELD)?.as_object()?;
    let text = |k: &str| marker.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(Replay {
        first_fired_at: text("firstFiredAt"),
        queued_at: text("queuedAt"),
    })
}

/// When the alert first fired: the alarm's own state-change time, else the marker's.
pub fn first_fired(notification: &Notification, replay: &Replay) -> Option<String> {
    let from_alarm = match notification {
        Notification::Alarm(a) => a.state_change_time.clone(),
        Notification::Other { .. } => None,
    };
    from_alarm
        .or_else(|| replay.first_fired_at.clone())
        .map(|t| format_time(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse::parse_notification;
    use serde_json::json;

    use crate::test_support::MINIMAL_ALARM as ALARM;

    #[test]
    fn only_a_marked_payload_is_a_replay() {
        assert_eq!(parse(&json!({"Records": []})), None);
        assert_eq!(parse(&json!({"Records": [], FIELD: "yes"})), None);
        let r = parse(&json!({"Records": [], FIELD: {"firstFiredAt": "2026-11-20T03:15:42Z"}}))
            .unwrap();
        assert_eq!(r.first_fired_at.as_deref(), Some("2026-11-20T03:15:42Z"));
        assert_eq!(r.queued_at, None);
    }

    #[test]
    fn the_alarms_own_time_wins_over_the_sns_publish_time() {
        let n = parse_notification(Some("ALARM"), ALARM);
        let replay = Replay {
            first_fired_at: Some("2026-11-20T03:16:00.000Z".into()),
            queued_at: None,
        };
        let when = first_fired(&n, &replay);
        assert_eq!(when.as_deref(), Some("2026-11-20 03:15:42 UTC"));
    }

    #[test]
    fn a_plain_message_uses_the_marker_time_or_says_it_is_unknown() {
        let n = parse_notification(Some("hello"), "plain text");
        let r = Replay {
            first_fired_at: Some("2026-11-20T03:16:00Z".into()),
            queued_at: None,
        };
        assert_eq!(
            first_fired(&n, &r).as_deref(),
            Some("2026-11-20 03:16:00 UTC")
        );
        assert_eq!(first_fired(&n, &Replay::default()), None);
    }
}
