//! Alarms an earlier version named `elb-watch-ENV-TG-HealthyHostCount` (or
//! `elb-watch-ENV-notifier-errors`, …), moved to today's names (`naming`) by `up`. Pure: which
//! observed alarm becomes which desired one.
//!
//! A move must not cost the alarm what it knows: its state (an ALARM kept as ALARM, so that no
//! second ALARM is posted and no false recovery either) and, in app mode, its Slack thread (the
//! tag `elb-watch:slack-thread`). `apply::alarm_moves` does it with the new alarm's actions off
//! until its state and tag are in place; this module only pairs old with new.
//!
//! An old alarm is paired only with the desired alarm that watches the same metric (same
//! dimensions) under one of the names earlier versions gave it: the alarm named by discovery
//! order's fallback (`elb-watch-ENV-LB-TG-…`) for another load balancer than the one it watched
//! is not carried over to the wrong one; it is deleted like any alarm no longer wanted.

use super::alarms::{AlarmSpec, Watched};
use super::observed::AlarmObs;
use crate::naming::Names;
use serde::Serialize;

/// One alarm to move: its old name, observed, and the name it gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmMove {
    pub from: String,
    pub to: String,
}

/// The names earlier versions could have given `spec`'s alarm.
pub fn legacy_names(names: &Names, spec: &AlarmSpec) -> Vec<String> {
    match &spec.watched {
        Watched::TargetGroup {
            load_balancer,
            target_group,
        } => {
            let plain = names.legacy_alarm(target_group);
            let told_apart = names.legacy_alarm(&format!("{load_balancer}-{target_group}"));
            if load_balancer == target_group {
                // A Classic ELB: its "target group" is the load balancer itself.
                vec![plain]
            } else {
                vec![plain, told_apart]
            }
        }
        _ => names
            .legacy_watcher_alarms()
            .into_iter()
            .filter(|(_, new)| *new == spec.name)
            .map(|(old, _)| old)
            .collect(),
    }
}

/// Whether `obs` watches what `spec` does (its metric's dimensions; zone math is read back to
/// the same dimensions, so a move may also change the alarm's shape).
fn same_metric(spec: &AlarmSpec, obs: &AlarmObs) -> bool {
    let mut want = spec.metric.dimensions.clone();
    want.sort();
    let mut have = obs.dimensions.clone();
    have.sort();
    want == have && spec.metric.namespace == obs.namespace && spec.metric.name == obs.metric
}

/// The moves from this env's observed old-named alarms to the desired alarms that take over
/// from them. A desired alarm that already exists under its new name still gets its move
/// while the old one exists (a run stopped half way is finished by the next).
pub fn moves(names: &Names, desired: &[AlarmSpec], observed: &[AlarmObs]) -> Vec<AlarmMove> {
    desired
        .iter()
        .filter_map(|spec| {
            let candidates = legacy_names(names, spec);
            observed
                .iter()
                .find(|o| candidates.contains(&o.name) && same_metric(spec, o))
                .map(|o| AlarmMove {
                    from: o.name.clone(),
                    to: spec.name.clone(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures::desired_fixture;

    fn observed_as(spec: &AlarmSpec, name: &str) -> AlarmObs {
        AlarmObs {
            name: name.to_string(),
            namespace: spec.metric.namespace.clone(),
            metric: spec.metric.name.clone(),
            dimensions: spec.metric.dimensions.clone(),
            ..AlarmObs::default()
        }
    }

    #[test]
    fn an_old_named_alarm_moves_to_the_alarm_watching_the_same_metric() {
        let d = desired_fixture();
        let names = Names::new(&d.env);
        let spec = &d.alarms[0];
        let (lb, tg) = spec.target_group().unwrap();
        let old = observed_as(spec, &names.legacy_alarm(tg));
        assert_eq!(
            moves(&names, &d.alarms, &[old]),
            [AlarmMove {
                from: names.legacy_alarm(tg),
                to: names.target_group_alarm(lb, tg),
            }]
        );
    }

    #[test]
    fn an_old_name_on_another_metric_is_not_moved() {
        let d = desired_fixture();
        let names = Names::new(&d.env);
        let spec = &d.alarms[0];
        let (_, tg) = spec.target_group().unwrap();
        // Named for this target group, watching another load balancer's (the old fallback
        // name given in discovery order).
        let mut old = observed_as(spec, &names.legacy_alarm(tg));
        old.dimensions[0].1 = "app/other-alb/0123456789abcdef".into();
        assert!(moves(&names, &d.alarms, &[old]).is_empty());
    }

    #[test]
    fn the_alerting_paths_alarms_move_by_their_old_names() {
        let d = desired_fixture();
        let names = Names::new(&d.env);
        let spec = d
            .alarms
            .iter()
            .find(|a| a.name == names.notifier_errors_alarm())
            .unwrap();
        let old_name = format!("{}-notifier-errors", names.prefix());
        let old = observed_as(spec, &old_name);
        assert_eq!(
            moves(&names, &d.alarms, &[old]),
            [AlarmMove {
                from: old_name,
                to: names.notifier_errors_alarm(),
            }]
        );
    }
}
