//! Late messages: an alert that reaches Slack after the alarm has moved on says so first, so
//! that it does not read as news. Two causes: `elb-watch replay` re-sending an event from the
//! undelivered-alerts queue ([`mark_replayed`]), and an event older than the incident state
//! it would have changed — a Lambda retry after the recovery was delivered, say
//! ([`mark_superseded`], decided in [`incident`](crate::event::incident)). And an alarm that
//! went to ALARM while a maintenance window muted its actions, announced when the window ended
//! ([`mark_window_ended`], [`window_end`](crate::runtime::window_end)). Pure.

use chrono::DateTime;
use serde_json::Value;

use crate::event::incident::Superseded;
use crate::render::blocks::add_notice;
use crate::render::escaping::{escape, escape_truncate};

/// How much of a window's name a message shows (it is the operator's text).
pub const WINDOW_NAME_MAX: usize = 200;

/// The words a replayed message leads with.
pub fn late_line(first_fired: Option<&str>) -> String {
    match first_fired {
        Some(t) => format!("Delivered late — first fired at {}", escape(t)),
        None => "Delivered late — first fired earlier (time unknown)".to_owned(),
    }
}

/// Marks a rendered Slack payload as replayed: the fallback text leads with it, and a context
/// block at the top of the attachment says it, so both notifications and the message show it.
pub fn mark_replayed(payload: &mut Value, first_fired: Option<&str>) {
    let line = late_line(first_fired);
    add_notice(
        payload,
        &format!(":hourglass: {line}"),
        format!(
            ":hourglass: *{line}* (replayed from the undelivered-alerts queue by `elb-watch \
             replay`)"
        ),
        0,
    );
}

/// The words an alarm announced at the end of maintenance window `window` leads with (the
/// name escaped and cut to [`WINDOW_NAME_MAX`]).
pub fn window_line(window: &str) -> String {
    format!(
        "Muted during maintenance window `{}`; still in ALARM when it ended",
        // A backtick would end the code span early.
        escape_truncate(&window.replace('`', "'"), WINDOW_NAME_MAX)
    )
}

/// Marks a rendered payload as announced at the end of maintenance window `window`: its
/// mute rule kept CloudWatch from sending it when it happened.
pub fn mark_window_ended(payload: &mut Value, window: &str) {
    let line = window_line(window);
    add_notice(
        payload,
        &format!(":mute: {line}"),
        format!(
            ":mute: *{line}* — the window's mute rule held back CloudWatch's notification, \
             so this is the first time it is sent"
        ),
        0,
    );
}

/// `2026-11-20 03:15:42 UTC` of epoch milliseconds.
fn at(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "an unknown time".to_owned())
}

/// The words a superseded message leads with: what it says and what has happened since.
pub fn superseded_line(fired: bool, happened_at: Option<&str>, newer: &Superseded) -> String {
    let what = if fired { "fired" } else { "recovered" };
    let when = happened_at.map_or_else(String::new, |t| format!(" at {}", escape(t)));
    let since = if newer.alarm {
        format!(
            "it fired again at {} and that incident is open",
            at(newer.at_ms)
        )
    } else {
        format!("it has recovered since, at {}", at(newer.at_ms))
    };
    format!("Delivered late — {what}{when}; {since}")
}

/// Marks a rendered payload as older than the alarm's current incident state.
pub fn mark_superseded(
    payload: &mut Value,
    fired: bool,
    happened_at: Option<&str>,
    newer: &Superseded,
) {
    let line = superseded_line(fired, happened_at, newer);
    add_notice(
        payload,
        &format!(":hourglass: {line}"),
        format!(":hourglass: *{line}* (the thread was left as it is)"),
        0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::targets::Targets;
    use crate::event::parse::parse_notification;
    use crate::render::blocks::render;

    use crate::test_support::MINIMAL_ALARM as ALARM;

    #[test]
    fn a_replayed_alarm_says_it_is_late_and_when_it_first_fired() {
        let n = parse_notification(Some("ALARM"), ALARM);
        let mut payload = render(&n, &Targets::NotApplicable.into(), None);
        let before = payload["attachments"][0]["blocks"]
            .as_array()
            .unwrap()
            .len();
        mark_replayed(&mut payload, Some("2026-11-20 03:15:42 UTC"));
        let text = payload["text"].as_str().unwrap();
        assert!(
            text.starts_with(
                ":hourglass: Delivered late — first fired at 2026-11-20 03:15:42 UTC. "
            ),
            "{text}"
        );
        assert!(
            text.contains("ALARM"),
            "the alert itself is still there: {text}"
        );
        let blocks = payload["attachments"][0]["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), before + 1);
        assert_eq!(blocks[0]["type"], "context");
        assert!(
            blocks[0]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("*Delivered late — first fired at 2026-11-20 03:15:42 UTC*")
        );
        assert!(late_line(None).contains("time unknown"));
        // Hostile text is escaped.
        assert!(late_line(Some("<!channel>")).contains("&lt;!channel&gt;"));
    }

    #[test]
    fn an_alarm_muted_by_a_window_says_so_with_the_window_escaped() {
        use crate::test_support::{all_texts, assert_no_injection, assert_slack_limits};
        let n = parse_notification(Some("ALARM"), ALARM);
        let mut payload = render(&n, &Targets::NotApplicable.into(), None);
        let before = payload["attachments"][0]["blocks"]
            .as_array()
            .unwrap()
            .len();
        mark_window_ended(&mut payload, "deploy-42 <!channel> & co");
        assert_slack_limits(&payload);
        assert_no_injection(&payload);
        let escaped = "`deploy-42 &lt;!channel&gt; &amp; co`";
        let text = payload["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!(
                ":mute: Muted during maintenance window {escaped}; still in ALARM when it \
                 ended. "
            )),
            "{text}"
        );
        assert!(text.contains("ALARM"), "the alert is still there: {text}");
        let fallback = payload["attachments"][0]["fallback"].as_str().unwrap();
        assert!(fallback.starts_with(":mute: Muted during"), "{fallback}");
        let blocks = payload["attachments"][0]["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), before + 1);
        assert_eq!(blocks[0]["type"], "context");
        let note = blocks[0]["elements"][0]["text"].as_str().unwrap();
        assert!(note.contains(escaped), "{note}");
        assert!(
            all_texts(&payload)
                .iter()
                .all(|t| !t.contains("<!channel>"))
        );

        // A long name is cut, never past Slack's limits.
        let long = "w".repeat(5000);
        let line = window_line(&long);
        assert!(
            line.chars().count() < WINDOW_NAME_MAX + 80,
            "{}",
            line.len()
        );
        let mut payload = render(&n, &Targets::NotApplicable.into(), None);
        mark_window_ended(&mut payload, &long);
        assert_slack_limits(&payload);
    }

    #[test]
    fn a_superseded_event_says_what_happened_since() {
        let n = parse_notification(Some("ALARM"), ALARM);
        let mut payload = render(&n, &Targets::NotApplicable.into(), None);
        let recovered = Superseded {
            alarm: false,
            at_ms: 1_795_144_632_118,
        };
        mark_superseded(
            &mut payload,
            true,
            Some("2026-11-20 03:15:42 UTC"),
            &recovered,
        );
        let text = payload["text"].as_str().unwrap();
        assert!(
            text.starts_with(
                ":hourglass: Delivered late — fired at 2026-11-20 03:15:42 UTC; it has \
                 recovered since, at 2026-11-20 03:17:12 UTC. "
            ),
            "{text}"
        );
        let refired = Superseded {
            alarm: true,
            at_ms: 1_795_144_632_118,
        };
        let line = superseded_line(false, None, &refired);
        assert_eq!(
            line,
            "Delivered late — recovered; it fired again at 2026-11-20 03:17:12 UTC and that \
             incident is open"
        );
        assert!(superseded_line(true, Some("<@U1>"), &refired).contains("&lt;@U1&gt;"));
    }
}
