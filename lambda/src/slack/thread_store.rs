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

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;

use crate::enrich::targets::sdk_error_text;
use crate::event::incident::is_channel_id;
pub use crate::event::incident::{Stored, Thread};

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

/// The alarm's [`TAG_KEY`] value, if it has one.
pub async fn read(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    timeout: Duration,
) -> Result<Option<String>, String> {
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
            .find(|t| t.key() == Some(TAG_KEY))
            .and_then(|t| t.value().map(str::to_owned)))
    })
    .await
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
