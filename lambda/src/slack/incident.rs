//! One Slack thread per incident (Slack app mode): what to do with a notification, given the
//! thread stored on its alarm ([`thread_store`](crate::slack::thread_store)). Pure; [`app`](crate::slack::app)
//! runs the plan.
//!
//! | notification | stored thread | plan |
//! |---|---|---|
//! | load-balancer alarm → `ALARM` | none | [`Plan::Open`]: post the parent, tag the alarm |
//! | load-balancer alarm → `ALARM` | open | [`Plan::FiredAgain`]: update the parent ("fired again"), reply |
//! | load-balancer recovery (`ALARM` → `OK`) | open | [`Plan::Resolve`]: update the parent ("resolved"), reply, untag |
//! | load-balancer recovery | none | [`Plan::Standalone`] |
//! | anything else (other alarms on the topic, `INSUFFICIENT_DATA`, not an alarm) | — | [`Plan::Standalone`] |
//!
//! Only load-balancer alarms are threaded ([`kind::kind_of`], the rule of the outage lookup):
//! the role may tag those alone.
//!
//! The parent is updated *before* the reply is posted: Slack accepts a reply whose `thread_ts`
//! names no message and shows it nowhere (slackapi/python-slack-sdk#840), whereas `chat.update`
//! of a missing message fails (`message_not_found`,
//! <https://docs.slack.dev/reference/methods/chat.update#errors>). So the update proves the
//! thread exists; when it says the thread is lost ([`on_lost_thread`]) the alert becomes a new
//! message — never a lost alert.

use crate::enrich::outage;
use crate::event::kind;
use crate::event::parse::{AlarmState, Notification};
use crate::slack::thread_store::Thread;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Post on its own, touch no thread.
    Standalone,
    /// Post the parent, then tag the alarm with it.
    Open,
    /// Update the parent to say it fired again, then reply in its thread.
    FiredAgain(Thread),
    /// Update the parent to "resolved", reply in its thread, then untag the alarm.
    Resolve(Thread),
    /// The stored thread is gone and a recovery closes nothing: post on its own, then untag.
    StandaloneAndForget,
}

/// Whether the notification belongs in a thread at all: the alarm's ARN (for the tag) and a
/// load-balancer alarm.
pub fn is_threaded(notification: &Notification) -> bool {
    match notification {
        Notification::Alarm(alarm) => {
            kind::kind_of(alarm).is_some()
                && alarm.arn.is_some()
                && alarm.region().is_some()
                && (alarm.new_state == AlarmState::Alarm || outage::is_recovery(alarm))
        }
        Notification::Other { .. } => false,
    }
}

/// The plan for a notification and the thread stored on its alarm (`None`: no tag, an
/// unreadable tag, or the tag could not be read).
pub fn plan(notification: &Notification, stored: Option<Thread>) -> Plan {
    if !is_threaded(notification) {
        return Plan::Standalone;
    }
    let Notification::Alarm(alarm) = notification else {
        return Plan::Standalone;
    };
    match (&alarm.new_state, stored) {
        (AlarmState::Alarm, None) => Plan::Open,
        (AlarmState::Alarm, Some(t)) => Plan::FiredAgain(t),
        (_, Some(t)) => Plan::Resolve(t),
        (_, None) => Plan::Standalone,
    }
}

/// What to do instead when the parent's update says the thread is lost: an ALARM opens a new
/// thread (and re-tags), a recovery goes out on its own (and the stale tag is removed).
pub fn on_lost_thread(plan: &Plan) -> Plan {
    match plan {
        Plan::FiredAgain(_) => Plan::Open,
        Plan::Resolve(_) => Plan::StandaloneAndForget,
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse::parse_notification;
    use serde_json::json;

    fn alarm(namespace: &str, old: &str, new: &str) -> Notification {
        let msg = json!({
            "AlarmName": "elb-watch-prod-web-tg-HealthyHostCount",
            "NewStateValue": new, "OldStateValue": old,
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch-prod-web-tg-HealthyHostCount",
            "Trigger": {"MetricName": "HealthyHostCount", "Namespace": namespace},
        });
        parse_notification(None, &msg.to_string())
    }

    fn thread() -> Thread {
        Thread {
            channel: "C0ALERTS".into(),
            ts: "1700000000.000100".into(),
        }
    }

    #[test]
    fn alarm_and_recovery_with_and_without_a_thread() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        let ok = alarm("AWS/ApplicationELB", "ALARM", "OK");
        assert_eq!(plan(&fired, None), Plan::Open);
        assert_eq!(plan(&fired, Some(thread())), Plan::FiredAgain(thread()));
        assert_eq!(plan(&ok, Some(thread())), Plan::Resolve(thread()));
        assert_eq!(plan(&ok, None), Plan::Standalone);
        // Every load-balancer kind is threaded.
        for ns in ["AWS/NetworkELB", "AWS/GatewayELB", "AWS/ELB"] {
            assert_eq!(plan(&alarm(ns, "OK", "ALARM"), None), Plan::Open, "{ns}");
        }
    }

    #[test]
    fn everything_else_is_standalone() {
        // An alarm on the alerting path (not a load balancer's): the role may not tag it.
        let other = alarm("AWS/Lambda", "OK", "ALARM");
        assert_eq!(plan(&other, Some(thread())), Plan::Standalone);
        // INSUFFICIENT_DATA, even with a thread open.
        let blind = alarm("AWS/ApplicationELB", "ALARM", "INSUFFICIENT_DATA");
        assert_eq!(plan(&blind, Some(thread())), Plan::Standalone);
        // An OK that ends no ALARM (decide() skips it; if it came here, no thread).
        let first = alarm("AWS/ApplicationELB", "INSUFFICIENT_DATA", "OK");
        assert_eq!(plan(&first, Some(thread())), Plan::Standalone);
        // Not an alarm.
        let text = parse_notification(Some("hi"), "plain text");
        assert_eq!(plan(&text, Some(thread())), Plan::Standalone);
        // No ARN: nowhere to keep a thread.
        let msg = json!({"AlarmName": "a", "NewStateValue": "ALARM",
            "Trigger": {"Namespace": "AWS/ApplicationELB"}});
        assert_eq!(
            plan(&parse_notification(None, &msg.to_string()), None),
            Plan::Standalone
        );
    }

    #[test]
    fn a_lost_thread_becomes_a_new_message() {
        assert_eq!(on_lost_thread(&Plan::FiredAgain(thread())), Plan::Open);
        assert_eq!(
            on_lost_thread(&Plan::Resolve(thread())),
            Plan::StandaloneAndForget
        );
        assert_eq!(on_lost_thread(&Plan::Open), Plan::Open);
    }
}
