//! The whole message for an event that is to be posted: the alert as [`blocks`] renders it,
//! then the marks its circumstances call for, each a notice leading the text and the
//! attachment — a test (`elb-watch test`), found in ALARM when `elb-watch up` completed the path,
//! muted during a maintenance window, replayed from the undelivered-alerts queue, or older than
//! the incident state it would have changed. Pure.

use crate::enrich::outage::Outage;
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
/// it, whether it is a replay and whether it is announced at the end of a maintenance window
/// (`window`, its name); `channel` is webhook mode's channel override.
pub fn message(
    notification: &Notification,
    found: &Enrichment,
    plan: &Plan,
    replay: Option<&Replayed>,
    window: Option<&str>,
    channel: Option<&str>,
) -> Value {
    let mut payload = blocks::render(notification, found, channel);
    if let Notification::Alarm(a) = notification
        && a.found_at_setup()
    {
        blocks::mark_found_at_setup(&mut payload);
    }
    // A test's recovery: the env's test alarm back to OK, or a target group's own alarm back
    // from the ALARM `elb-watch test --target-group` set (its history says so).
    let ends_a_test = matches!(&found.outage, Outage::Known(span) if span.began_with_test);
    if let Notification::Alarm(a) = notification
        && (a.is_test() || ends_a_test)
    {
        blocks::mark_test(&mut payload, a.new_state != AlarmState::Alarm);
    }
    if let Some(w) = window {
        late::mark_window_ended(&mut payload, w);
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
        let plain = message(&n, &found, &Plan::Open, None, None, None);
        assert!(!text(&plain).contains("Delivered late"), "{}", text(&plain));

        let first = Replayed {
            first_fired: Some("2026-11-20 03:15:42 UTC".into()),
        };
        let replayed = message(&n, &found, &Plan::Standalone, Some(&first), None, None);
        assert!(
            text(&replayed).starts_with(
                ":hourglass: Delivered late — first fired at 2026-11-20 03:15:42 UTC."
            ),
            "{}",
            text(&replayed)
        );

        let muted = message(&n, &found, &Plan::Open, None, Some("deploy-42"), None);
        assert!(
            text(&muted).starts_with(
                ":mute: Muted during maintenance window `deploy-42`; still in ALARM when it \
                 ended. "
            ),
            "{}",
            text(&muted)
        );

        let newer = Superseded {
            alarm: false,
            at_ms: 1_795_144_632_118,
        };
        let superseded = message(&n, &found, &Plan::Late(newer), None, None, None);
        assert!(
            text(&superseded).starts_with(
                ":hourglass: Delivered late — fired at 2026-11-20 03:15:42 UTC; it has recovered"
            ),
            "{}",
            text(&superseded)
        );
    }

    /// A target group's own alarm back to OK after `elb-watch test --target-group` set it to
    /// ALARM: its history says a test began the outage, so the recovery is the test's.
    #[test]
    fn a_target_groups_recovery_from_a_test_is_the_tests() {
        let m = serde_json::json!({"AlarmName": "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "OldStateValue": "ALARM", "NewStateValue": "OK",
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "NewStateReason": "Threshold Crossed: 1 datapoint [1.0] was not less than the threshold (1.0)."});
        let n = parse_notification(Some("OK"), &m.to_string());
        let span = |began_with_test| crate::enrich::outage::Span {
            since: chrono::DateTime::from_timestamp(1_795_144_500, 0).unwrap(),
            until: chrono::DateTime::from_timestamp(1_795_144_542, 0).unwrap(),
            began_with_test,
        };
        let after = |began| {
            let found = Enrichment {
                outage: Outage::Known(span(began)),
                ..Targets::NotApplicable.into()
            };
            message(&n, &found, &Plan::Open, None, None, None)
        };
        let tested = after(true);
        assert!(
            text(&tested).starts_with(":test_tube: TEST recovery — no action needed."),
            "{}",
            text(&tested)
        );
        let real = after(false);
        assert!(!text(&real).contains("TEST"), "{}", text(&real));
    }

    /// A test says so before anything else, in the fallback text and the first block: set by
    /// `elb-watch test` (its reason), or the env's test alarm back to OK; nothing else is one.
    #[test]
    fn a_test_and_its_recovery_are_marked_as_needing_no_action() {
        use crate::test_support::{assert_slack_limits, blocks as blocks_of};
        let found: Enrichment = Targets::NotApplicable.into();
        let render = |name: &str, old: &str, new: &str, reason: &str| {
            let m = serde_json::json!({"AlarmName": name, "OldStateValue": old,
                "NewStateValue": new, "StateChangeTime": "2026-11-20T03:15:42.118+0000",
                "NewStateReason": reason});
            let n = parse_notification(Some(new), &m.to_string());
            let p = message(&n, &found, &Plan::Open, None, None, None);
            assert_slack_limits(&p);
            p
        };
        let set = "elb-watch test 7f3a-01: a test alert; no action needed";
        let tested = render(
            "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "OK",
            "ALARM",
            set,
        );
        assert!(
            text(&tested).starts_with(":test_tube: TEST — no action needed."),
            "{}",
            text(&tested)
        );
        let first = blocks_of(&tested)[0].to_string();
        assert!(first.contains("*TEST* — no action needed"), "{first}");

        let back = "Threshold Crossed: no datapoints were received for 3 periods";
        let recovered = render("elb-watch/prod/test", "ALARM", "OK", back);
        assert!(
            text(&recovered).starts_with(":test_tube: TEST recovery — no action needed."),
            "{}",
            text(&recovered)
        );
        let own = render("elb-watch/prod/test", "OK", "ALARM", set);
        assert!(text(&own).starts_with(":test_tube: TEST — no action needed."));

        for (name, reason) in [
            ("elb-watch/prod/web-alb/web-tg/HealthyHostCount", back),
            (
                "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
                "not an elb-watch test 1: x",
            ),
            (
                "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
                "elb-watch test : no id",
            ),
            ("elb-watch/prod/web-alb/test", back),
            ("elb-watch/prod/test/HealthyHostCount", back),
        ] {
            let p = render(name, "OK", "ALARM", reason);
            assert!(
                !text(&p).contains("TEST"),
                "{name} / {reason}: {}",
                text(&p)
            );
        }
    }
}
