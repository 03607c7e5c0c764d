//! Where an open incident's Slack thread is remembered: a tag on the CloudWatch alarm itself,
//! key [`TAG_KEY`], value `<channel id>/<ts>` (`C0ALERTS/1700000000.000100`).
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

pub const TAG_KEY: &str = "elb-watch:slack-thread";

/// A Slack thread: the parent message's channel ID and `ts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    pub channel: String,
    pub ts: String,
}

impl Thread {
    /// The tag value, `<channel>/<ts>`.
    pub fn to_tag_value(&self) -> String {
        format!("{}/{}", self.channel, self.ts)
    }
}

/// A Slack conversation ID (`C0ALERTS`, `G…`, `D…`): uppercase ASCII letters and digits.
fn is_channel_id(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A Slack `ts`: digits, a dot, digits (`1700000000.000100`).
fn is_ts(s: &str) -> bool {
    s.len() <= 32
        && s.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        })
}

/// Reads a tag value; the error says what is wrong (without repeating a long value).
pub fn parse(value: &str) -> Result<Thread, String> {
    let shown: String = value.chars().take(64).collect();
    let Some((channel, ts)) = value.trim().split_once('/') else {
        return Err(format!("{TAG_KEY}={shown:?} is not <channel>/<ts>"));
    };
    if !is_channel_id(channel) {
        return Err(format!("{TAG_KEY}={shown:?}: not a Slack channel ID"));
    }
    if !is_ts(ts) {
        return Err(format!("{TAG_KEY}={shown:?}: not a Slack message ts"));
    }
    Ok(Thread {
        channel: channel.to_owned(),
        ts: ts.to_owned(),
    })
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

/// Remembers `thread` on the alarm.
pub async fn write(
    client: &cloudwatch::Client,
    alarm_arn: &str,
    thread: &Thread,
    timeout: Duration,
) -> Result<(), String> {
    let tag = cloudwatch::types::Tag::builder()
        .key(TAG_KEY)
        .value(thread.to_tag_value())
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

/// Forgets the alarm's thread.
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

    #[test]
    fn format_and_parse_round_trip() {
        let t = Thread {
            channel: "C0ALERTS".into(),
            ts: "1700000000.000100".into(),
        };
        assert_eq!(t.to_tag_value(), "C0ALERTS/1700000000.000100");
        assert_eq!(parse(&t.to_tag_value()), Ok(t.clone()));
        assert_eq!(parse(" C0ALERTS/1700000000.000100\n"), Ok(t));
        // Every character is one AWS allows in a tag value.
        assert!(
            "G012AB3CD/1700000000.000100"
                .chars()
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
            "C0ALERTS/1700000000.0001.00",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let long = format!("C0ALERTS/{}", "9".repeat(300));
        let err = parse(&long).unwrap_err();
        assert!(err.len() < 200, "{err}");
    }
}
