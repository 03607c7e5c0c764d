//! Moves alarms named by an earlier version to today's names (`state::alarm_moves` pairs them)
//! without a false ALARM, a false recovery or losing an open incident's Slack thread:
//!
//! 1. the new alarm is put with its actions **off** (PutMetricAlarm `ActionsEnabled=false`): it
//!    starts in INSUFFICIENT_DATA and its first evaluation reaches nobody;
//! 2. the old alarm's actions go off (DisableAlarmActions), so its state and thread tag, read
//!    next, stay as read;
//! 3. an old alarm in ALARM: the new one is set to ALARM with the old reason (SetAlarmState; "when
//!    the updated state differs from the previous value, the action configured for the
//!    appropriate state is invoked" — hence with actions off:
//!    <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>).
//!    Its next evaluation keeps it there while the target group is still failing; an old alarm
//!    in OK needs nothing: the new one's INSUFFICIENT_DATA → OK is neither posted nor mailed;
//! 4. app mode: the thread tag (`elb-watch:slack-thread`) is copied, so the recovery resolves
//!    the incident's thread;
//! 5. the new alarm's actions go on (EnableAlarmActions); one that went to ALARM in between, or
//!    whose old alarm could not reach the notifier, is announced like any alarm found in ALARM;
//! 6. the old alarm is deleted.
//!
//! Each call takes up to 100 names where the API does (DisableAlarmActions, EnableAlarmActions,
//! DescribeAlarms, DeleteAlarms), and waits out throttling. A run stopped anywhere leaves the old
//! alarm in place, so the next `up` pairs them again and redoes the move from step 1.

use super::alarms::{Armed, NAMES_PER_CALL, put_each, set_actions};
use super::announce::{self as announcing, Announced};
use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients, limit};
use crate::policy::THREAD_TAG;
use crate::state::announce::{self, Silenced};
use crate::state::desired::Desired;
use crate::state::observed::Observed;
use crate::state::plan::Plan;
use anyhow::Result;
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue, Tag};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::time::SystemTime;

/// StateReason is at most 1,023 characters
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>).
const REASON_MAX: usize = 1023;

pub async fn move_alarms(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    topic_arn: &str,
) -> Result<Vec<Announced>> {
    if plan.alarm_moves.is_empty() {
        return Ok(Vec::new());
    }
    let olds: Vec<String> = plan.alarm_moves.iter().map(|m| m.from.clone()).collect();
    let news: Vec<String> = plan.alarm_moves.iter().map(|m| m.to.clone()).collect();

    // 1. The new alarms, actions off.
    let specs = plan
        .alarm_moves
        .iter()
        .filter_map(|m| desired.alarms.iter().find(|a| a.name == m.to));
    put_each(clients, &desired.env, specs, topic_arn, Armed::No).await?;

    // 2. The old ones silenced, then read.
    set_actions(clients, &olds, false).await?;
    let old_alarms = announcing::read(clients, olds.clone()).await?;
    let state_of = |name: &str| {
        old_alarms
            .iter()
            .find(|a| a.alarm_name() == Some(name))
            .and_then(|a| a.state_value().cloned())
    };

    // 3 and 4. State and thread carried over.
    let carry = plan.alarm_moves.iter().map(|m| {
        let old = old_alarms.iter().find(|a| a.alarm_name() == Some(&m.from));
        let threads = desired.function.slack_api.is_some();
        async move {
            let Some(old) = old else {
                return Ok(());
            };
            if old.state_value() == Some(&StateValue::Alarm) {
                set_alarm_state(clients, &m.to, old).await?;
            }
            if threads {
                copy_thread_tag(clients, old, &m.to).await?;
            }
            Ok::<(), anyhow::Error>(())
        }
    });
    stream::iter(carry)
        .buffer_unordered(limit::max_in_flight())
        .try_collect::<Vec<()>>()
        .await?;

    // 5. Armed; announced if in ALARM unheard.
    set_actions(clients, &news, true).await?;
    let armed_at = SystemTime::now();
    let path_incomplete = announce::path_incomplete(plan);
    let mut announced = Vec::new();
    for alarm in announcing::read(clients, news.clone()).await? {
        let Some(m) = plan
            .alarm_moves
            .iter()
            .find(|m| alarm.alarm_name() == Some(&m.to))
        else {
            continue;
        };
        let old_obs = observed.alarms.iter().find(|a| a.name == m.from);
        let unheard_before =
            old_obs.and_then(|o| announce::silenced(o, path_incomplete, topic_arn));
        let why = match (state_of(&m.from), unheard_before) {
            // The old alarm's ALARM was heard (its thread carried over): not again.
            (Some(StateValue::Alarm), None) => continue,
            (_, Some(why)) => why,
            // It went to ALARM between the put and the arming, with actions off.
            _ => Silenced::ActionsOff,
        };
        if announce::silent_in_alarm(&alarm, armed_at) {
            announced.push(announcing::publish(clients, topic_arn, &alarm, why).await?);
        }
    }

    // 6. The old names gone.
    for batch in olds.chunks(NAMES_PER_CALL) {
        let batch = batch.to_vec();
        retry::through_throttling(retry::budget(), || {
            let batch = batch.clone();
            async move {
                clients
                    .cloudwatch
                    .delete_alarms()
                    .set_alarm_names(Some(batch))
                    .send()
                    .await
                    .aws("CloudWatch DeleteAlarms")
            }
        })
        .await?;
    }
    Ok(announced)
}

/// The new alarm set to ALARM, with the old one's reason and where it came from.
async fn set_alarm_state(clients: &Clients, name: &str, old: &MetricAlarm) -> Result<()> {
    let reason = moved_reason(
        old.state_reason().unwrap_or_default(),
        old.alarm_name().unwrap_or_default(),
    );
    retry::through_throttling(retry::budget(), || {
        let reason = reason.clone();
        async move {
            clients
                .cloudwatch
                .set_alarm_state()
                .alarm_name(name)
                .state_value(StateValue::Alarm)
                .state_reason(reason)
                .send()
                .await
                .aws("CloudWatch SetAlarmState")
        }
    })
    .await?;
    Ok(())
}

/// The reason a moved alarm is set to ALARM with, within StateReason's limit.
pub fn moved_reason(old_reason: &str, old_name: &str) -> String {
    let tail = format!(" (moved from {old_name} by elb-watch up)");
    let room = REASON_MAX.saturating_sub(tail.chars().count());
    let head: String = old_reason.chars().take(room).collect();
    format!("{head}{tail}")
}

/// The old alarm's thread tag, if it has one, put on the new alarm.
async fn copy_thread_tag(clients: &Clients, old: &MetricAlarm, new_name: &str) -> Result<()> {
    let Some(old_arn) = old.alarm_arn() else {
        return Ok(());
    };
    let tags = retry::through_throttling(retry::budget(), || async {
        clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(old_arn)
            .send()
            .await
            .aws("CloudWatch ListTagsForResource")
    })
    .await?;
    let Some(thread) = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some(THREAD_TAG))
        .and_then(|t| t.value())
    else {
        return Ok(());
    };
    // The new alarm's ARN: the old one's with its name replaced (same account and region).
    let prefix = old_arn
        .strip_suffix(old.alarm_name().unwrap_or_default())
        .unwrap_or(old_arn);
    let new_arn = format!("{prefix}{new_name}");
    let tag = Tag::builder().key(THREAD_TAG).value(thread).build();
    retry::through_throttling(retry::budget(), || {
        let tag = tag.clone();
        let new_arn = new_arn.clone();
        async move {
            clients
                .cloudwatch
                .tag_resource()
                .resource_arn(new_arn)
                .tags(tag)
                .send()
                .await
                .aws("CloudWatch TagResource")
        }
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_alarms_reason_keeps_the_old_one_within_the_limit() {
        let r = moved_reason(
            "Threshold Crossed: 0 healthy",
            "elb-watch-p-web-HealthyHostCount",
        );
        assert_eq!(
            r,
            "Threshold Crossed: 0 healthy (moved from elb-watch-p-web-HealthyHostCount by elb-watch up)"
        );
        let long = moved_reason(&"x".repeat(2000), "old");
        assert_eq!(long.chars().count(), REASON_MAX);
        assert!(long.ends_with("(moved from old by elb-watch up)"));
    }
}
