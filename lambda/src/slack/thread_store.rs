//! Where an alarm's incident state ([`Stored`]) is remembered: a tag on the CloudWatch alarm
//! itself, key [`TAG_KEY`], value
//! - `<channel id>/<ts>/<ms>` for an open incident (`C0ALERTS/1700000000.000100/1795144542118`:
//!   its thread, and the `StateChangeTime` in epoch ms of the last ALARM it took in); tags
//!   written before times were kept, `<channel id>/<ts>`, still read as open;
//! - `closed/<ms>` once the recovery at `<ms>` closed it, so that a late ALARM (a Lambda retry,
//!   a replay) cannot re-open it ([`incident`](crate::event::incident)).
//!
//! Why a tag on the alarm: nothing new to operate (no table, no bucket); it lives and dies
//! with the alarm (`elb-watch down` deleting the alarm deletes it); and the role's permission
//! is scoped to this env's load-balancer alarms (`elb-watch-ENV-*-HealthyHostCount`), like the
//! alarm-history read. `elb-watch up` re-putting an alarm does not wipe it: PutMetricAlarm
//! ignores `Tags` when it updates an existing alarm — tags of an existing alarm change through
//! TagResource / UntagResource only
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>,
//! "Tags"; documented after aws/aws-sdk#27).
//!
//! Calls: ListTagsForResource
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListTagsForResource.html>),
//! TagResource (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html>;
//! an existing key's value is replaced), UntagResource
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_UntagResource.html>),
//! each on the alarm's ARN and bounded by a timeout. Errors are lines for the log; the caller
//! decides what they cost (a lost tag costs a thread, never an alert).
//!
//! The value fits AWS's tag rules (at most 256 characters of letters, digits and
//! `_ . : / = + - @`): a channel ID is uppercase letters and digits, a `ts` digits and a dot.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;

use crate::enrich::targets::sdk_error_text;
pub use crate::event::incident::{Stored, Thread};
use crate::event::incident::{event_ms, is_channel_id};
use crate::event::parse::{Alarm, AlarmState};

pub const TAG_KEY: &str = "elb-watch:slack-thread";

/// The first part of a closed incident's value (lowercase: never a channel ID).
const CLOSED: &str = "closed";

/// The tag value of `stored`.
pub fn to_tag_value(stored: &Stored) -> String {
    match stored {
        Stored::Open {
            thread,
            since_ms: Some(ms),
        } => format!("{}/{}/{ms}", thread.channel, thread.ts),
        Stored::Open {
            thread,
            since_ms: None,
        } => format!("{}/{}", thread.channel, thread.ts),
        Stored::Closed { at_ms } => format!("{CLOSED}/{at_ms}"),
    }
}

/// A Slack `ts`: digits, a dot, digits (`1700000000.000100`).
fn is_ts(s: &str) -> bool {
    s.len() <= 32
        && s.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        })
}

/// Epoch milliseconds: digits only, at most 15 of them.
fn millis(s: &str) -> Option<i64> {
    (!s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Reads a tag value; the error says what is wrong (without repeating a long value).
pub fn parse(value: &str) -> Result<Stored, String> {
    let shown: String = value.chars().take(64).collect();
    let parts: Vec<&str> = value.trim().split('/').collect();
    match parts[..] {
        [CLOSED, ms] => millis(ms)
            .map(|at_ms| Stored::Closed { at_ms })
            .ok_or_else(|| format!("{TAG_KEY}={shown:?}: not a time in epoch milliseconds")),
        [channel, ts] | [channel, ts, _] => {
            if !is_channel_id(channel) {
                return Err(format!("{TAG_KEY}={shown:?}: not a Slack channel ID"));
            }
            if !is_ts(ts) {
                return Err(format!("{TAG_KEY}={shown:?}: not a Slack message ts"));
            }
            let since_ms = match parts.get(2) {
                None => None,
                Some(ms) => Some(millis(ms).ok_or_else(|| {
                    format!("{TAG_KEY}={shown:?}: not a time in epoch milliseconds")
                })?),
            };
            Ok(Stored::Open {
                thread: Thread {
                    channel: channel.to_owned(),
                    ts: ts.to_owned(),
                },
                since_ms,
            })
        }
        _ => Err(format!(
            "{TAG_KEY}={shown:?} is not <channel>/<ts>/<ms> nor {CLOSED}/<ms>"
        )),
    }
}

async fn bounded<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {} ms", timeout.as_millis())))
}

/// How old an event may be for the thread tag in its own notification to stand for the
/// alarm's current one: Lambda retries a failed asynchronous invocation about a minute later
/// and `elb-watch replay` hours later, by when the notifier may have moved the incident on.
pub const SNAPSHOT_FRESH_MS: i64 = 15_000;
/// A write of this environment's to the alarm's tag less than this before the event's
/// `StateChangeTime` (or after it) may be missing from the notification's snapshot.
pub const SNAPSHOT_MARGIN_MS: i64 = 2_000;

/// The incident state to plan with from the alarm's tags *in its notification*
/// ([`Alarm::payload_tags`]), when that snapshot can stand for the tag as it is now: `Ok` (no
/// ListTagsForResource needed); `Err(why)` when the tag must be read. CloudWatch takes the
/// snapshot when it sends the notification, so it lacks whatever the notifier wrote since — and
/// what it wrote for the previous state change if that write had not landed yet. It is used
/// only when:
/// - CloudWatch says it read the tags (`AlarmTagsStatus` `SUCCESS`) and the tag parses;
/// - the event is fresh (at most [`SNAPSHOT_FRESH_MS`] before `now_ms`: not a Lambda retry nor
///   a late delivery, after which the incident may have moved on);
/// - this execution environment has not handled the alarm since shortly before the event
///   (`last_local_ms`, [`SNAPSHOT_MARGIN_MS`]): an SNS duplicate, or an ALARM then its OK in
///   quick succession, is planned from the tag as read;
/// - the snapshot shows what the previous state change left: a recovery (ALARM → OK) sees its
///   incident open, an ALARM after an OK sees none open, an ALARM after INSUFFICIENT_DATA sees
///   its incident open. Any other snapshot — the write of the change just before may not have
///   landed — or any other transition is read.
pub fn snapshot_state(
    alarm: &Alarm,
    now_ms: i64,
    last_local_ms: Option<i64>,
) -> Result<Option<Stored>, &'static str> {
    let tags = alarm.payload_tags().ok_or(
        "the notification does not carry the alarm's tags (AlarmTagsPropagation off) or not \
         all of them (AlarmTagsStatus is not SUCCESS)",
    )?;
    let stored = match tags.get(TAG_KEY) {
        None => None,
        Some(value) => {
            Some(parse(value).map_err(|_| "the thread tag in the notification is not one")?)
        }
    };
    let t = event_ms(alarm).ok_or("the event has no StateChangeTime")?;
    if now_ms.saturating_sub(t) > SNAPSHOT_FRESH_MS {
        return Err(
            "the event is not fresh (a retry, a replay or a late delivery): the tag may \
                    have changed since the notification",
        );
    }
    if last_local_ms.is_some_and(|w| w >= t - SNAPSHOT_MARGIN_MS) {
        return Err(
            "this notifier handled the alarm around or after the event's time (a \
                    duplicate, or events in quick succession): its write may postdate the \
                    notification",
        );
    }
    let open = matches!(stored, Some(Stored::Open { .. }));
    let consistent = match (&alarm.old_state, &alarm.new_state) {
        (Some(AlarmState::Alarm), AlarmState::Ok) => open,
        (Some(AlarmState::Ok), AlarmState::Alarm) => !open,
        (Some(AlarmState::InsufficientData), AlarmState::Alarm) => open,
        _ => false,
    };
    if !consistent {
        return Err(
            "the snapshot does not show what the previous state change left (its write \
                    may not have landed when CloudWatch sent this)",
        );
    }
    Ok(stored)
}

/// Every tag of the alarm (ListTagsForResource).
pub async fn read_tags(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, String> {
    bounded(timeout, async {
        let out = client
            .list_tags_for_resource()
            .resource_arn(alarm_arn)
            .send()
            .await
            .map_err(|e| format!("ListTagsForResource: {}", sdk_error_text(&e)))?;
        Ok(out
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect())
    })
    .await
}

/// The alarm's [`TAG_KEY`] value, if it has one.
pub async fn read(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    timeout: Duration,
) -> Result<Option<String>, String> {
    Ok(read_tags(client, alarm_arn, timeout).await?.remove(TAG_KEY))
}

/// Remembers `stored` on the alarm.
pub async fn write(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    stored: &Stored,
    timeout: Duration,
) -> Result<(), String> {
    let tag = cloudwatch::types::Tag::builder()
        .key(TAG_KEY)
        .value(to_tag_value(stored))
        .build();
    bounded(timeout, async {
        client
            .tag_resource()
            .resource_arn(alarm_arn)
            .tags(tag)
            .send()
            .await
            .map(drop)
            .map_err(|e| format!("TagResource: {}", sdk_error_text(&e)))
    })
    .await
}

/// Forgets the alarm's incident state (a recovery without a time to remember).
pub async fn clear(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    timeout: Duration,
) -> Result<(), String> {
    bounded(timeout, async {
        client
            .untag_resource()
            .resource_arn(alarm_arn)
            .tag_keys(TAG_KEY)
            .send()
            .await
            .map(drop)
            .map_err(|e| format!("UntagResource: {}", sdk_error_text(&e)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> Thread {
        Thread {
            channel: "C0ALERTS".into(),
            ts: "1700000000.000100".into(),
        }
    }

    #[test]
    fn format_and_parse_round_trip() {
        let open = Stored::Open {
            thread: thread(),
            since_ms: Some(1_795_144_542_118),
        };
        assert_eq!(
            to_tag_value(&open),
            "C0ALERTS/1700000000.000100/1795144542118"
        );
        let closed = Stored::Closed {
            at_ms: 1_795_144_542_118,
        };
        assert_eq!(to_tag_value(&closed), "closed/1795144542118");
        for stored in [open, closed] {
            assert_eq!(parse(&to_tag_value(&stored)), Ok(stored.clone()));
        }
        // A tag written before times were kept is an open incident of unknown time.
        let legacy = Stored::Open {
            thread: thread(),
            since_ms: None,
        };
        assert_eq!(parse(" C0ALERTS/1700000000.000100\n"), Ok(legacy));
        // Every character is one AWS allows in a tag value.
        assert!(
            "G012AB3CD/1700000000.000100/1795144542118"
                .chars()
                .chain("closed/1795144542118".chars())
                .all(|c| c.is_ascii_alphanumeric() || "_.:/=+-@".contains(c))
        );
    }

    /// An alarm event as CloudWatch notifies it with the alarm's tags (`AlarmTags`,
    /// `AlarmTagsStatus`: the fixture `sns-alarm-with-tags.json`'s shape), at `T`.
    fn event(old: &str, new: &str, thread_tag: Option<&str>, status: &str) -> Alarm {
        let mut tags = vec![serde_json::json!({"Key": "elb-watch:env", "Value": "prod"})];
        if let Some(v) = thread_tag {
            tags.push(serde_json::json!({"Key": TAG_KEY, "Value": v}));
        }
        let m = serde_json::json!({"AlarmName": "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "OldStateValue": old, "NewStateValue": new,
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "AlarmTags": tags, "AlarmTagsStatus": status});
        match crate::event::parse::parse_notification(None, &m.to_string()) {
            crate::event::parse::Notification::Alarm(a) => *a,
            other => panic!("{other:?}"),
        }
    }

    /// 2026-11-20T03:15:42.118Z
    const T: i64 = 1_795_144_542_118;

    #[test]
    fn the_snapshot_in_the_notification_is_used_only_when_it_can_stand_for_the_tag() {
        let open = "C0ALERTS/1700000000.000100/1795144482118";
        let closed = "closed/1795144000000";
        let now = T + 1_500;
        let open_state = parse(open).unwrap();
        let closed_state = parse(closed).unwrap();
        // What the previous change left: trusted, no ListTagsForResource.
        let cases = [
            (("OK", "ALARM", None), Ok(None)),
            (
                ("OK", "ALARM", Some(closed)),
                Ok(Some(closed_state.clone())),
            ),
            (("ALARM", "OK", Some(open)), Ok(Some(open_state.clone()))),
            (
                ("INSUFFICIENT_DATA", "ALARM", Some(open)),
                Ok(Some(open_state.clone())),
            ),
        ];
        for ((old, new, tag), want) in cases {
            assert_eq!(
                snapshot_state(&event(old, new, tag, "SUCCESS"), now, None),
                want,
                "{old} → {new} with {tag:?}"
            );
        }
        // The write of the change just before may not have landed: read.
        for (old, new, tag) in [
            ("ALARM", "OK", None),
            ("ALARM", "OK", Some(closed)),
            ("OK", "ALARM", Some(open)),
            ("INSUFFICIENT_DATA", "ALARM", None),
            ("OK", "INSUFFICIENT_DATA", None),
        ] {
            assert!(
                snapshot_state(&event(old, new, tag, "SUCCESS"), now, None).is_err(),
                "{old} → {new} with {tag:?}"
            );
        }
        let fired = event("OK", "ALARM", None, "SUCCESS");
        // Not fresh: a Lambda retry a minute later, a replay.
        assert!(snapshot_state(&fired, T + 60_000, None).is_err());
        assert!(snapshot_state(&fired, T + SNAPSHOT_FRESH_MS, None).is_ok());
        // This environment handled the alarm after the event (an SNS duplicate) or just
        // before it: read. Long before: the snapshot has its write.
        assert!(snapshot_state(&fired, now, Some(T + 900)).is_err());
        assert!(snapshot_state(&fired, now, Some(T - 1_000)).is_err());
        assert!(snapshot_state(&fired, now, Some(T - 300_000)).is_ok());
        // No tags, or not all of them.
        assert!(snapshot_state(&event("OK", "ALARM", None, "FAILED"), now, None).is_err());
        let plain =
            crate::event::parse::parse_notification(None, crate::test_support::MINIMAL_ALARM);
        let crate::event::parse::Notification::Alarm(plain) = plain else {
            panic!()
        };
        assert!(snapshot_state(&plain, now, None).is_err());
        // A thread tag that is not one is read again (and judged there).
        assert!(snapshot_state(&event("OK", "ALARM", Some("junk"), "SUCCESS"), now, None).is_err());
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "C0ALERTS",
            "C0ALERTS/",
            "/1700000000.000100",
            "#alerts/1700000000.000100",
            "c0alerts/1700000000.000100",
            "C0ALERTS/1700000000",
            "C0ALERTS/1700000000.",
            "C0ALERTS/.000100",
            "C0ALERTS/17000000a0.000100",
            "C0ALERTS/1700000000.000100/extra",
            "C0ALERTS/1700000000.000100/",
            "C0ALERTS/1700000000.000100/1/2",
            "C0ALERTS/1700000000.0001.00",
            "closed/",
            "closed/-5",
            "closed/12a",
            "CLOSED/1795144542118",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let long = format!("C0ALERTS/{}", "9".repeat(300));
        let err = parse(&long).unwrap_err();
        assert!(err.len() < 200, "{err}");
    }
}
