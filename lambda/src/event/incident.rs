//! What an alarm event does to its incident (Slack app mode, one thread per incident), given
//! what is stored on the alarm ([`Stored`], kept by [`thread_store`](crate::slack::thread_store))
//! and *when* the event happened. Pure; [`app`](crate::slack::app) carries the plan out.
//!
//! The stored state says which incident is open (its thread and the `StateChangeTime` of the
//! last ALARM it took in) or when the last one was closed. Every event is compared with it by
//! its own `StateChangeTime`, because events do not arrive in order: Lambda retries a failed
//! asynchronous invocation about one and then two minutes later
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>), by
//! which time the alarm's OK may have been delivered; `elb-watch replay` re-sends events hours
//! old; SNS itself may deliver a message more than once
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>).
//!
//! | event | stored | plan |
//! |---|---|---|
//! | `ALARM` at t | nothing, or closed before t | [`Plan::Open`]: post the parent, remember it open since t |
//! | `ALARM` at t | open since before t, same channel | [`Plan::FiredAgain`]: update the parent, reply broadcast to the channel |
//! | `ALARM` at t | open, in another channel than the env's | [`Plan::OpenMoved`]: a new thread in the env's channel, the old parent marked moved |
//! | recovery at t | open since before t | [`Plan::Resolve`] (another channel: [`Plan::ResolveElsewhere`]) |
//! | recovery at t | nothing, or closed before t | [`Plan::Close`]: post on its own, remember closed at t |
//! | any, at t | open since after t, or closed at or after t | [`Plan::Late`]: on its own, marked late, nothing remembered |
//! | the same state at the same t | — | skipped: [`DUPLICATE`] |
//! | a replay (`elb-watch replay`) | — | [`Plan::Standalone`], marked late by the renderer |
//! | anything else (other alarms on the topic, `INSUFFICIENT_DATA`, not an alarm) | — | [`Plan::Standalone`] |
//!
//! An event without a readable `StateChangeTime` is taken as news (the order cannot be told).
//! Only load-balancer alarms are threaded ([`kind::kind_of`], the rule of the outage lookup):
//! the role may tag those alone.

use crate::enrich::outage;
use crate::event::kind;
use crate::event::parse::{Alarm, AlarmState, Notification};

/// A Slack thread: the parent message's channel ID and `ts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    pub channel: String,
    pub ts: String,
}

/// What the alarm's tag says about its incidents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// An incident is open in `thread`; `since_ms` is the `StateChangeTime` (epoch ms) of the
    /// last ALARM it took in (`None` for a tag written before times were kept).
    Open {
        thread: Thread,
        since_ms: Option<i64>,
    },
    /// The last incident was closed by the recovery at `at_ms`.
    Closed { at_ms: i64 },
}

/// The newer state a late event would have overwritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Superseded {
    /// `true`: the alarm fired (again) at `at_ms`; `false`: it recovered at `at_ms`.
    pub alarm: bool,
    pub at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Post on its own; the stored state is left alone.
    Standalone,
    /// Older than the state it would change: post on its own, marked late; nothing stored.
    Late(Superseded),
    /// Post the parent, then remember the incident open in it.
    Open,
    /// The open thread is in a channel that is no longer the env's: open the incident's thread
    /// in the env's channel, then mark the old parent as moved (best effort).
    OpenMoved(Thread),
    /// Update the parent to say it fired again, then reply in its thread, broadcast to the
    /// channel (a reply alone notifies nobody who is not following the thread).
    FiredAgain(Thread),
    /// Update the parent to "resolved", reply in its thread, then remember the incident closed.
    Resolve(Thread),
    /// The open thread is in a channel that is no longer the env's: try to mark its parent
    /// resolved (best effort), post the recovery on its own in the env's channel, remember closed.
    ResolveElsewhere(Thread),
    /// A recovery with no thread to close: post on its own, remember the incident closed.
    Close,
}

/// Why an event is not posted at all: the same state change was already handled.
pub const DUPLICATE: &str =
    "the same state change (state and StateChangeTime) was already delivered";

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

/// The event's `StateChangeTime`, epoch milliseconds.
pub fn event_ms(alarm: &Alarm) -> Option<i64> {
    alarm.state_changed_at().map(|t| t.timestamp_millis())
}

/// A Slack conversation ID (`C0ALERTS`, `G…`, `D…`): uppercase ASCII letters and digits.
pub fn is_channel_id(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Whether a thread lives in another channel than the env's `channel` (a channel ID; a name
/// set by hand cannot be compared and is taken as the same).
fn moved(thread: &Thread, channel: &str) -> bool {
    is_channel_id(channel) && thread.channel != channel
}

/// The plan for a notification, the state stored on its alarm (`None`: no tag, an unreadable
/// tag, or the tag could not be read) and the env's current `channel`. `Err` is a reason to
/// post nothing ([`DUPLICATE`]).
pub fn plan(
    notification: &Notification,
    stored: Option<&Stored>,
    channel: &str,
    replayed: bool,
) -> Result<Plan, &'static str> {
    let Notification::Alarm(alarm) = notification else {
        return Ok(Plan::Standalone);
    };
    if !is_threaded(notification) || replayed {
        return Ok(Plan::Standalone);
    }
    let t = event_ms(alarm);
    // `a < b` only when both are known.
    let before = |a: Option<i64>, b: Option<i64>| matches!((a, b), (Some(a), Some(b)) if a < b);
    let fired = alarm.new_state == AlarmState::Alarm;
    Ok(match (fired, stored) {
        (true, None) => Plan::Open,
        (false, None) => Plan::Close,
        (_, Some(Stored::Open { since_ms, .. })) if fired && t.is_some() && t == *since_ms => {
            return Err(DUPLICATE);
        }
        (_, Some(Stored::Open { since_ms, .. })) if before(t, *since_ms) => {
            Plan::Late(Superseded {
                alarm: true,
                at_ms: since_ms.unwrap_or_default(),
            })
        }
        (_, Some(Stored::Closed { at_ms })) if !fired && t == Some(*at_ms) => {
            return Err(DUPLICATE);
        }
        (_, Some(Stored::Closed { at_ms })) if t.is_some_and(|t| t <= *at_ms) => {
            Plan::Late(Superseded {
                alarm: false,
                at_ms: *at_ms,
            })
        }
        (true, Some(Stored::Open { thread, .. })) if moved(thread, channel) => {
            Plan::OpenMoved(thread.clone())
        }
        (true, Some(Stored::Open { thread, .. })) => Plan::FiredAgain(thread.clone()),
        (false, Some(Stored::Open { thread, .. })) if moved(thread, channel) => {
            Plan::ResolveElsewhere(thread.clone())
        }
        (false, Some(Stored::Open { thread, .. })) => Plan::Resolve(thread.clone()),
        (true, Some(Stored::Closed { .. })) => Plan::Open,
        (false, Some(Stored::Closed { .. })) => Plan::Close,
    })
}

/// What to do instead when Slack refuses the thread — the parent's update or the reply
/// (deleted, archived, out of its edit window, moved, too long, not ours …): an ALARM opens a
/// new thread in the env's channel, a recovery goes out on its own there. Never a lost alert.
pub fn on_refused_thread(plan: &Plan) -> Plan {
    match plan {
        Plan::FiredAgain(_) | Plan::OpenMoved(_) => Plan::Open,
        Plan::Resolve(_) | Plan::ResolveElsewhere(_) => Plan::Close,
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse::parse_notification;
    use serde_json::json;

    const CHANNEL: &str = "C0ALERTS";
    /// 2026-11-20T03:15:42.118Z
    const T: i64 = 1_795_144_542_118;

    fn event_at(namespace: &str, old: &str, new: &str, at: &str) -> Notification {
        let msg = json!({
            "AlarmName": "elb-watch-prod-web-tg-HealthyHostCount",
            "NewStateValue": new, "OldStateValue": old,
            "StateChangeTime": at,
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch-prod-web-tg-HealthyHostCount",
            "Trigger": {"MetricName": "HealthyHostCount", "Namespace": namespace},
        });
        parse_notification(None, &msg.to_string())
    }

    fn alarm(namespace: &str, old: &str, new: &str) -> Notification {
        event_at(namespace, old, new, "2026-11-20T03:15:42.118+0000")
    }

    fn thread() -> Thread {
        Thread {
            channel: CHANNEL.into(),
            ts: "1700000000.000100".into(),
        }
    }

    fn open_since(ms: i64) -> Stored {
        Stored::Open {
            thread: thread(),
            since_ms: Some(ms),
        }
    }

    fn plan_of(n: &Notification, stored: Option<&Stored>) -> Result<Plan, &'static str> {
        plan(n, stored, CHANNEL, false)
    }

    #[test]
    fn alarm_and_recovery_with_and_without_a_thread() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        let ok = alarm("AWS/ApplicationELB", "ALARM", "OK");
        let earlier = open_since(T - 60_000);
        assert_eq!(plan_of(&fired, None), Ok(Plan::Open));
        assert_eq!(
            plan_of(&fired, Some(&earlier)),
            Ok(Plan::FiredAgain(thread()))
        );
        assert_eq!(plan_of(&ok, Some(&earlier)), Ok(Plan::Resolve(thread())));
        assert_eq!(plan_of(&ok, None), Ok(Plan::Close));
        // After a closed incident, a newer ALARM opens the next one, a newer OK closes again.
        let closed = Stored::Closed { at_ms: T - 1 };
        assert_eq!(plan_of(&fired, Some(&closed)), Ok(Plan::Open));
        assert_eq!(plan_of(&ok, Some(&closed)), Ok(Plan::Close));
        // Every load-balancer kind is threaded.
        for ns in ["AWS/NetworkELB", "AWS/GatewayELB", "AWS/ELB"] {
            assert_eq!(
                plan_of(&alarm(ns, "OK", "ALARM"), None),
                Ok(Plan::Open),
                "{ns}"
            );
        }
    }

    #[test]
    fn an_event_older_than_the_stored_state_is_late_and_changes_nothing() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        let ok = alarm("AWS/ApplicationELB", "ALARM", "OK");
        // Lambda's retry of an ALARM after its recovery was delivered.
        let recovered_later = Stored::Closed { at_ms: T + 90_000 };
        assert_eq!(
            plan_of(&fired, Some(&recovered_later)),
            Ok(Plan::Late(Superseded {
                alarm: false,
                at_ms: T + 90_000
            }))
        );
        // An old OK while a newer incident is open: it must not resolve it.
        let newer = open_since(T + 60_000);
        assert_eq!(
            plan_of(&ok, Some(&newer)),
            Ok(Plan::Late(Superseded {
                alarm: true,
                at_ms: T + 60_000
            }))
        );
        // An old ALARM into a newer open incident: late, not "fired again".
        assert!(matches!(
            plan_of(&fired, Some(&newer)),
            Ok(Plan::Late(Superseded { alarm: true, .. }))
        ));
        // An old OK after a newer recovery.
        assert!(matches!(
            plan_of(&ok, Some(&recovered_later)),
            Ok(Plan::Late(Superseded { alarm: false, .. }))
        ));
    }

    #[test]
    fn the_same_state_change_twice_is_posted_once() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        let ok = alarm("AWS/ApplicationELB", "ALARM", "OK");
        assert_eq!(plan_of(&fired, Some(&open_since(T))), Err(DUPLICATE));
        assert_eq!(
            plan_of(&ok, Some(&Stored::Closed { at_ms: T })),
            Err(DUPLICATE)
        );
    }

    #[test]
    fn without_times_events_are_taken_as_news() {
        let fired = event_at("AWS/ApplicationELB", "OK", "ALARM", "not a time");
        let ok = event_at("AWS/ApplicationELB", "ALARM", "OK", "");
        let legacy = Stored::Open {
            thread: thread(),
            since_ms: None,
        };
        assert_eq!(
            plan_of(&fired, Some(&legacy)),
            Ok(Plan::FiredAgain(thread()))
        );
        assert_eq!(plan_of(&ok, Some(&legacy)), Ok(Plan::Resolve(thread())));
        assert_eq!(
            plan_of(&fired, Some(&Stored::Closed { at_ms: T })),
            Ok(Plan::Open)
        );
        // A timed event against a legacy tag (no time kept) is news too.
        let timed = alarm("AWS/ApplicationELB", "OK", "ALARM");
        assert_eq!(
            plan_of(&timed, Some(&legacy)),
            Ok(Plan::FiredAgain(thread()))
        );
    }

    #[test]
    fn a_thread_in_another_channel_is_left_for_the_envs_channel() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        let ok = alarm("AWS/ApplicationELB", "ALARM", "OK");
        let earlier = open_since(T - 60_000);
        assert_eq!(
            plan(&fired, Some(&earlier), "C0NEW", false),
            Ok(Plan::OpenMoved(thread()))
        );
        assert_eq!(
            plan(&ok, Some(&earlier), "C0NEW", false),
            Ok(Plan::ResolveElsewhere(thread()))
        );
        // A channel name set by hand cannot be compared: same channel.
        assert_eq!(
            plan(&fired, Some(&earlier), "#alerts", false),
            Ok(Plan::FiredAgain(thread()))
        );
    }

    #[test]
    fn replays_and_everything_else_are_standalone() {
        let fired = alarm("AWS/ApplicationELB", "OK", "ALARM");
        assert_eq!(
            plan(&fired, Some(&open_since(T - 1)), CHANNEL, true),
            Ok(Plan::Standalone)
        );
        // An alarm on the alerting path (not a load balancer's): the role may not tag it.
        let other = alarm("AWS/Lambda", "OK", "ALARM");
        assert_eq!(
            plan_of(&other, Some(&open_since(T - 1))),
            Ok(Plan::Standalone)
        );
        // INSUFFICIENT_DATA, even with a thread open.
        let blind = alarm("AWS/ApplicationELB", "ALARM", "INSUFFICIENT_DATA");
        assert_eq!(
            plan_of(&blind, Some(&open_since(T - 1))),
            Ok(Plan::Standalone)
        );
        // An OK that ends no ALARM (decide() skips it; if it came here, no thread).
        let first = alarm("AWS/ApplicationELB", "INSUFFICIENT_DATA", "OK");
        assert_eq!(plan_of(&first, None), Ok(Plan::Standalone));
        // Not an alarm.
        let text = parse_notification(Some("hi"), "plain text");
        assert_eq!(plan_of(&text, None), Ok(Plan::Standalone));
        // No ARN: nowhere to keep a thread.
        let msg = json!({"AlarmName": "a", "NewStateValue": "ALARM",
            "Trigger": {"Namespace": "AWS/ApplicationELB"}});
        assert_eq!(
            plan_of(&parse_notification(None, &msg.to_string()), None),
            Ok(Plan::Standalone)
        );
    }

    #[test]
    fn a_refused_thread_becomes_a_new_message() {
        assert_eq!(on_refused_thread(&Plan::FiredAgain(thread())), Plan::Open);
        assert_eq!(on_refused_thread(&Plan::Resolve(thread())), Plan::Close);
        assert_eq!(
            on_refused_thread(&Plan::ResolveElsewhere(thread())),
            Plan::Close
        );
        assert_eq!(on_refused_thread(&Plan::Open), Plan::Open);
    }
}
