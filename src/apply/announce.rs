//! Announce what CloudWatch will not: an existing alarm already in ALARM when `up` completed
//! its path to the notifier (`state::announce` says which alarms and why). Reads only the
//! candidates (DescribeAlarms by name, 100 a call) and publishes one message per silent alarm
//! to the env's topic, so Slack (through the notifier) and the e-mail subscribers hear of it.

use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::state::announce::{self, Silenced};
use anyhow::Result;
use aws_sdk_cloudwatch::types::MetricAlarm;
use serde::Serialize;
use std::time::SystemTime;

/// DescribeAlarms takes at most 100 alarm names
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html>).
const NAMES_PER_CALL: usize = 100;

/// An alarm announced as found in ALARM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announced {
    pub alarm: String,
    /// When it entered ALARM (CloudWatch's time).
    pub since: Option<String>,
    pub why: Silenced,
}

/// Read `candidates` (armed at `path_whole_at` if their path was incomplete, at `alarms_at` if
/// their own actions were off) and announce those in ALARM since before that.
pub async fn announce(
    clients: &Clients,
    topic_arn: &str,
    candidates: &[(String, Silenced)],
    path_whole_at: SystemTime,
    alarms_at: SystemTime,
) -> Result<Vec<Announced>> {
    let mut announced = Vec::new();
    for batch in candidates.chunks(NAMES_PER_CALL) {
        let names: Vec<String> = batch.iter().map(|(n, _)| n.clone()).collect();
        for alarm in read(clients, names).await? {
            let name = alarm.alarm_name().unwrap_or_default().to_string();
            let Some((_, why)) = batch.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let armed_at = match why {
                Silenced::PathIncomplete => path_whole_at,
                Silenced::ActionsOff => alarms_at,
            };
            if !announce::silent_in_alarm(&alarm, armed_at) {
                continue;
            }
            announced.push(publish(clients, topic_arn, &alarm, *why).await?);
        }
    }
    Ok(announced)
}

/// Publish the announcement of `alarm`, found in ALARM, to the env's topic.
pub(crate) async fn publish(
    clients: &Clients,
    topic_arn: &str,
    alarm: &MetricAlarm,
    why: Silenced,
) -> Result<Announced> {
    let (subject, message) = announce::message(alarm);
    clients
        .sns
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message)
        .send()
        .await
        .aws("SNS Publish (alarm found in ALARM)")?;
    Ok(Announced {
        alarm: alarm.alarm_name().unwrap_or_default().to_string(),
        since: alarm
            .state_transitioned_timestamp()
            .or(alarm.state_updated_timestamp())
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        why,
    })
}

/// The alarms named, read by name (DescribeAlarms takes at most 100 names a call: more are read
/// in several calls).
pub(crate) async fn read(clients: &Clients, names: Vec<String>) -> Result<Vec<MetricAlarm>> {
    let mut found = Vec::new();
    for batch in names.chunks(NAMES_PER_CALL) {
        let mut token: Option<String> = None;
        loop {
            let page = retry::through_throttling(retry::budget(), || {
                let names = batch.to_vec();
                let token = token.clone();
                async move {
                    clients
                        .cloudwatch
                        .describe_alarms()
                        .set_alarm_names(Some(names))
                        .set_next_token(token)
                        .send()
                        .await
                        .aws("CloudWatch DescribeAlarms")
                }
            })
            .await?;
            found.extend(page.metric_alarms().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}
