//! The whole message for an event that is to be posted: the alert as [`blocks`] renders it,
//! then the marks its circumstances call for, each a notice leading the text and the
//! attachment — found in ALARM when `elb-watch up` completed the path, replayed from the
//! undelivered-alerts queue, or older than the incident state it would have changed. Pure.

use serde_json::Value;

use crate::enrich::targets::Enrichment;
use crate::event::incident::Plan;
use crate::event::parse::{AlarmState, Notification};
use crate::render::{blocks, late};

/// An event re-sent by `elb-watch replay`, and when it first fired (formatted, if known:
/// [`runtime::replay::first_fired`](crate::runtime::replay::first_fired)).
pub struct Replayed {
    pub first_fired: Option<String>,
}

/// The payload to post for `notification`, given what enrichment found, the plan decided for
/// it and whether it is a replay; `channel` is webhook mode's channel override.
pub fn message(
    notification: &Notification,
    found: &Enrichment,
    plan: &Plan,
    replay: Option<&Replayed>,
    channel: Option<&str>,
) -> Value {
    let mut payload = blocks::render(notification, found, channel);
    if let Notification::Alarm(a) = notification
        && a.found_at_setup()
    {
        blocks::mark_found_at_setup(&mut payload);
    }
    if let Some(r) = replay {
        late::mark_replayed(&mut payload, r.first_fired.as_deref());
    } else if let (Plan::Late(newer), Notification::Alarm(a)) = (plan, notification) {
        let at = a.state_change_time.as_deref().map(blocks::format_time);
        late::mark_superseded(
            &mut payload,
            a.new_state == AlarmState::Alarm,
            at.as_deref(),
            newer,
        );
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::targets::Targets;
    use crate::event::incident::Superseded;
    use crate::event::parse::parse_notification;

    use crate::test_support::MINIMAL_ALARM as ALARM;

    fn text(payload: &Value) -> &str {
        payload["text"].as_str().unwrap()
    }

    #[test]
    fn each_circumstance_adds_its_mark() {
        let n = parse_notification(Some("ALARM"), ALARM);
        let found: Enrichment = Targets::NotApplicable.into();
        let plain = message(&n, &found, &Plan::Open, None, None);
        assert!(!text(&plain).contains("Delivered late"), "{}", text(&plain));

        let first = Replayed {
            first_fired: Some("2026-11-20 03:15:42 UTC".into()),
        };
        let replayed = message(&n, &found, &Plan::Standalone, Some(&first), None);
        assert!(
            text(&replayed).starts_with(
                ":hourglass: Delivered late — first fired at 2026-11-20 03:15:42 UTC."
            ),
            "{}",
            text(&replayed)
        );

        let newer = Superseded {
            alarm: false,
            at_ms: 1_795_144_632_118,
        };
        let superseded = message(&n, &found, &Plan::Late(newer), None, None);
        assert!(
            text(&superseded).starts_with(
                ":hourglass: Delivered late — fired at 2026-11-20 03:15:42 UTC; it has recovered"
            ),
            "{}",
            text(&superseded)
        );
    }
}
