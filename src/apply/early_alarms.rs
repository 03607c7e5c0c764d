//! A fresh `up`'s alarms are put while the notifier path is still being built, with their
//! actions **off**, and armed once the path is whole: the `PutMetricAlarm` floor (3 per second:
//! 1,000 alarms take at least 334 s) hides the key → role → function → subscription chain
//! instead of following it.
//!
//! Nothing is lost by it. A new alarm starts in INSUFFICIENT_DATA and CloudWatch evaluates it
//! soon after
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>);
//! with actions off, a first ALARM reaches nobody — and CloudWatch never repeats a state
//! change's actions
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>,
//! "Alarm actions"). So once the path is whole the alarms are armed (EnableAlarmActions, 100
//! names a call), read back (DescribeAlarms, 100 a call), and each already in ALARM is announced
//! by `up` itself (`announce.rs`), as an alarm found in ALARM when its path was completed. A
//! later change runs the alarm's own actions. A run stopped before the arming leaves alarms with
//! actions off: the next `up` sees that as drift, puts them armed once its path is whole and
//! announces those in ALARM (`why: actions-off`).
//!
//! Only alarms this run creates, and only when the path is incomplete before it
//! (`state::announce::path_incomplete`): with a whole path an alarm is put armed at once.

use super::alarms::{Armed, put_each, set_actions};
use super::announce::{self as announcing, Announced};
use crate::aws::Clients;
use crate::state::announce::{self, Silenced};
use crate::state::desired::Desired;
use crate::state::plan::{Action, Plan};
use anyhow::Result;
use std::time::SystemTime;

/// The alarms a run puts early: those it creates (moves aside: `alarm_moves.rs` puts them) when
/// the path to the notifier is incomplete before it; none otherwise. Pure.
pub fn early(plan: &Plan) -> Vec<String> {
    if !announce::path_incomplete(plan) {
        return Vec::new();
    }
    plan.alarms
        .iter()
        .filter(|c| c.action == Action::Create)
        .filter(|c| !plan.alarm_moves.iter().any(|m| m.to == c.name))
        .map(|c| c.name.clone())
        .collect()
}

/// Puts `names` with their actions off, a few at a time, each waiting out throttling.
pub async fn put_unarmed(
    clients: &Clients,
    desired: &Desired,
    names: &[String],
    topic_arn: &str,
) -> Result<()> {
    let specs = names
        .iter()
        .filter_map(|n| desired.alarms.iter().find(|a| a.name == *n));
    put_each(clients, &desired.env, specs, topic_arn, Armed::No).await
}

/// Once the path is whole: `names` armed, then each in ALARM since before the arming announced.
pub async fn arm(clients: &Clients, names: &[String], topic_arn: &str) -> Result<Vec<Announced>> {
    set_actions(clients, names, true).await?;
    let armed_at = SystemTime::now();
    let mut announced = Vec::new();
    for alarm in announcing::read(clients, names.to_vec()).await? {
        if announce::silent_in_alarm(&alarm, armed_at) {
            announced.push(
                announcing::publish(clients, topic_arn, &alarm, Silenced::PathIncomplete).await?,
            );
        }
    }
    Ok(announced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures::desired_fixture;
    use crate::state::observed::Observed;
    use crate::state::plan::drift;

    #[test]
    fn only_new_alarms_of_a_path_not_yet_whole_go_early() {
        let d = desired_fixture();
        // A fresh env: nothing observed, every alarm created, the path incomplete.
        let mut plan = drift(&d, &Observed::default());
        let all: Vec<String> = d.alarms.iter().map(|a| a.name.clone()).collect();
        assert_eq!(early(&plan), all);
        // An alarm the run updates is put armed after the path, as before.
        plan.alarms[0].action = Action::Update;
        assert_eq!(early(&plan), all[1..]);
        // With the path whole, nothing goes early.
        for c in [
            &mut plan.topic,
            &mut plan.function.change,
            &mut plan.permission,
            &mut plan.subscription,
        ] {
            c.action = Action::Unchanged;
        }
        assert!(early(&plan).is_empty());
    }
}
