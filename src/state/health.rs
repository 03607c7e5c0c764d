//! How the watched things are doing right now: each target group's targets and their health
//! (DescribeTargetHealth; a Classic ELB's instances: DescribeInstanceHealth), and each alarm's
//! state. Reads plus pure summaries; no changes.

use crate::aws::{AwsResultExt, Clients, retry};
use crate::discovery::TargetGroup;
use crate::state::observed::AlarmObs;
use anyhow::Result;
use serde::Serialize;

/// One registered target and what the load balancer thinks of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealth {
    /// Instance id, IP address or Lambda ARN.
    pub id: String,
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `initial`, `unused`, `draining`, `unavailable`. A Classic ELB's
    /// `InService` / `OutOfService` / `Unknown` read as `healthy` / `unhealthy` / `unknown`.
    pub state: String,
    /// e.g. `Target.InvalidState`, `Target.FailedHealthChecks`.
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// A target group with its targets, and the alarm (if any) the env keeps on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetGroupHealth {
    pub name: String,
    pub arn: String,
    pub load_balancer: String,
    /// Name of the env's alarm on this target group, if the env watches it.
    pub alarm: Option<String>,
    /// The alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`), if it exists.
    pub alarm_state: Option<String>,
    /// Healthy targets; null when the count came from CloudWatch and it has no recent datapoint.
    pub healthy: Option<usize>,
    /// Where `healthy` comes from: `targets` (read one by one) or `metric` (CloudWatch's
    /// `HealthyHostCount`, for a group whose alarm is OK).
    pub healthy_from: HealthySource,
    /// The targets, read only where the alarm is not OK or `status --targets` asked; null
    /// otherwise.
    pub targets: Option<Vec<TargetHealth>>,
}

/// Where a target group's healthy count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthySource {
    Targets,
    Metric,
}

/// What `status` learnt of one target group: its targets, or only CloudWatch's count.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    Targets(Vec<TargetHealth>),
    Counted(Option<usize>),
}

/// Whether `status` reads a target group's targets one by one: when its alarm is anything but
/// OK (ALARM, INSUFFICIENT_DATA, missing, none), or when asked for every group (`--targets`).
/// An OK group gets CloudWatch's count instead ([`crate::state::healthy_counts`]).
pub fn needs_targets(alarm_state: Option<&str>, all: bool) -> bool {
    all || alarm_state != Some("OK")
}

/// The healthy targets of a list.
pub fn healthy_count(targets: &[TargetHealth]) -> usize {
    targets.iter().filter(|t| t.state == "healthy").count()
}

/// An alarm's current state and since when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmState {
    pub name: String,
    pub state: String,
    /// RFC 3339 time of the last state change.
    pub since: Option<String>,
    pub reason: String,
}

pub fn alarm_state(a: &AlarmObs) -> AlarmState {
    AlarmState {
        name: a.name.clone(),
        state: a.state.clone(),
        since: a.state_since.clone(),
        reason: a.state_reason.clone(),
    }
}

/// Pair each target group with what was learnt of it and the alarm watching it. `alarm_for`
/// names the env's alarm for a target group (by load balancer and name), `alarms` are the
/// alarms found.
pub fn target_group_health(
    groups: &[TargetGroup],
    seen: Vec<Observation>,
    alarm_for: impl Fn(&TargetGroup) -> Option<String>,
    alarms: &[AlarmObs],
) -> Vec<TargetGroupHealth> {
    groups
        .iter()
        .zip(seen)
        .map(|(tg, seen)| {
            let alarm = alarm_for(tg);
            let alarm_state = alarm_state_of(alarm.as_deref(), alarms);
            let (healthy, healthy_from, targets) = match seen {
                Observation::Targets(targets) => (
                    Some(healthy_count(&targets)),
                    HealthySource::Targets,
                    Some(targets),
                ),
                Observation::Counted(n) => (n, HealthySource::Metric, None),
            };
            TargetGroupHealth {
                name: tg.name.clone(),
                arn: tg.arn.clone(),
                load_balancer: tg.load_balancer.clone(),
                alarm,
                alarm_state,
                healthy,
                healthy_from,
                targets,
            }
        })
        .collect()
}

/// The state of the alarm named `alarm`, if it was found.
pub fn alarm_state_of(alarm: Option<&str>, alarms: &[AlarmObs]) -> Option<String> {
    let name = alarm?;
    alarms
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.state.clone())
}

/// A Classic ELB instance state in the words target groups use.
pub fn classic_state(state: &str) -> &'static str {
    match state {
        "InService" => "healthy",
        "OutOfService" => "unhealthy",
        _ => "unknown",
    }
}

/// DescribeTargetHealth (DescribeInstanceHealth for a Classic ELB) for every target group, a few
/// at a time, in the order given.
///
/// Both calls draw on the ELB API's shared `Describe*` token bucket (AWS: a burst of 40, then 10
/// per second per account and region,
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/throttling.html>). At
/// 1,000 target groups that outlasts the SDK's shared retry quota, so each read waits out
/// throttling on its own budget, started when its turn comes (as PutMetricAlarm does in
/// `apply/alarms.rs`).
pub async fn read_target_health(
    clients: &Clients,
    groups: &[&TargetGroup],
) -> Result<Vec<Vec<TargetHealth>>> {
    retry::each_through_throttling(groups.iter().copied(), |tg| read_one(clients, tg)).await
}

/// One target group's targets, or a Classic ELB's instances.
async fn read_one(clients: &Clients, tg: &TargetGroup) -> Result<Vec<TargetHealth>> {
    if tg.is_classic() {
        return read_instance_health(clients, &tg.load_balancer).await;
    }
    let out = clients
        .elb
        .describe_target_health()
        .target_group_arn(&tg.arn)
        .send()
        .await
        .aws("DescribeTargetHealth")?;
    Ok::<_, anyhow::Error>(
        out.target_health_descriptions()
            .iter()
            .map(|d| {
                let health = d.target_health();
                TargetHealth {
                    id: d
                        .target()
                        .and_then(|t| t.id())
                        .map(String::from)
                        .unwrap_or_default(),
                    port: d.target().and_then(|t| t.port()),
                    state: health
                        .and_then(|h| h.state())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_else(|| "unknown".to_string()),
                    reason: health
                        .and_then(|h| h.reason())
                        .map(|r| r.as_str().to_string()),
                    description: health.and_then(|h| h.description()).map(String::from),
                }
            })
            .collect(),
    )
}

/// A Classic ELB's registered instances and their state
/// (<https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeInstanceHealth.html>).
async fn read_instance_health(clients: &Clients, name: &str) -> Result<Vec<TargetHealth>> {
    let out = clients
        .elb_classic
        .describe_instance_health()
        .load_balancer_name(name)
        .send()
        .await
        .aws("Classic ELB DescribeInstanceHealth")?;
    Ok(out
        .instance_states()
        .iter()
        .map(|i| TargetHealth {
            id: i.instance_id().unwrap_or_default().to_string(),
            port: None,
            state: classic_state(i.state().unwrap_or_default()).to_string(),
            reason: i.reason_code().filter(|r| *r != "N/A").map(String::from),
            description: i.description().map(String::from),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(name: &str) -> TargetGroup {
        crate::state::fixtures::target_group("web-alb", name)
    }

    fn target(id: &str, state: &str) -> TargetHealth {
        TargetHealth {
            id: id.into(),
            port: Some(80),
            state: state.into(),
            reason: None,
            description: None,
        }
    }

    #[test]
    fn groups_get_their_targets_healthy_count_and_alarm_state() {
        let alarms = vec![AlarmObs {
            name: "a-web".into(),
            state: "ALARM".into(),
            ..Default::default()
        }];
        let out = target_group_health(
            &[tg("web"), tg("spare"), tg("api")],
            vec![
                Observation::Targets(vec![target("i-1", "healthy"), target("i-2", "unused")]),
                Observation::Targets(vec![]),
                Observation::Counted(Some(4)),
            ],
            |t| (t.name == "web").then(|| "a-web".to_string()),
            &alarms,
        );
        assert_eq!(out[0].healthy, Some(1));
        assert_eq!(out[0].healthy_from, HealthySource::Targets);
        assert_eq!(out[0].alarm_state.as_deref(), Some("ALARM"));
        assert_eq!(out[1].alarm, None);
        assert_eq!(out[1].targets.as_deref(), Some(&[][..]));
        assert_eq!(out[2].healthy, Some(4));
        assert_eq!(out[2].healthy_from, HealthySource::Metric);
        assert_eq!(out[2].targets, None);
    }

    #[test]
    fn only_a_group_whose_alarm_is_ok_goes_without_its_targets() {
        assert!(!needs_targets(Some("OK"), false));
        for state in [Some("ALARM"), Some("INSUFFICIENT_DATA"), None] {
            assert!(needs_targets(state, false), "{state:?}");
        }
        assert!(needs_targets(Some("OK"), true));
    }
}
