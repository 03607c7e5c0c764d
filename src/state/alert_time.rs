//! How long, at worst, from a failing target to its alarm: set by the target group's own health
//! check and by the alarm. Pure; shown by `up` (plan) and `status`, never acted on — elb-watch
//! does not change anyone's health checks.
//!
//! - The load balancer marks a target unhealthy after `UnhealthyThresholdCount` consecutive
//!   failed checks, one every `HealthCheckIntervalSeconds`: up to interval × threshold
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-healthchecks.html>).
//! - The alarm then needs `DatapointsToAlarm` breaching one-minute periods: 2 × 60 s.
//!
//! The figure is what those settings decide. CloudWatch's ingestion and evaluation (seconds, up
//! to about a minute) and the notifier (about a second) come on top: docs/performance.md "From a
//! failing target to Slack".

use super::alarms::AlarmSpec;
use super::warnings::Warning;
use crate::discovery::{LbKind, TargetGroup};
use serde::Serialize;

/// Target groups slower than this are flagged.
pub const LIMIT_S: i32 = 180;
/// The shortest health-check interval AWS accepts (all kinds).
pub const MIN_INTERVAL_S: i32 = 5;
/// The fewest consecutive failures AWS accepts as the unhealthy threshold.
pub const MIN_THRESHOLD: i32 = 2;
/// Kind of the warning for a target group over [`LIMIT_S`].
pub const SLOW_ALERT: &str = "slow-alert";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertTime {
    pub load_balancer: String,
    pub target_group: String,
    pub kind: LbKind,
    pub interval_s: i32,
    pub unhealthy_threshold: i32,
    /// interval × unhealthy threshold.
    pub detection_s: i32,
    /// DatapointsToAlarm × period.
    pub alarm_s: i32,
    pub worst_case_s: i32,
    /// Over [`LIMIT_S`].
    pub slow: bool,
}

/// The worst case for one watched target group, when its health check is known.
pub fn alert_time(tg: &TargetGroup, alarm: &AlarmSpec) -> Option<AlertTime> {
    let hc = tg.health_check?;
    let detection_s = hc.interval_s * hc.unhealthy_threshold;
    let alarm_s = alarm.datapoints_to_alarm * alarm.period_s;
    let worst_case_s = detection_s + alarm_s;
    Some(AlertTime {
        load_balancer: tg.load_balancer.clone(),
        target_group: tg.name.clone(),
        kind: tg.kind,
        interval_s: hc.interval_s,
        unhealthy_threshold: hc.unhealthy_threshold,
        detection_s,
        alarm_s,
        worst_case_s,
        slow: worst_case_s > LIMIT_S,
    })
}

/// `3 min 30 s`, `45 s`, `2 min`.
pub fn duration(s: i32) -> String {
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} s"),
        (min, 0) => format!("{min} min"),
        (min, sec) => format!("{min} min {sec} s"),
    }
}

/// The health-check settings that bring `t` within the limit: (unhealthy threshold, interval),
/// changing the threshold alone when that is enough, else the interval, else both.
pub fn within_limit(t: &AlertTime) -> Option<(i32, i32)> {
    let budget = LIMIT_S - t.alarm_s;
    if budget < MIN_INTERVAL_S * MIN_THRESHOLD {
        return None;
    }
    let threshold = budget / t.interval_s;
    if threshold >= MIN_THRESHOLD {
        return Some((threshold.min(t.unhealthy_threshold), t.interval_s));
    }
    let interval = budget / t.unhealthy_threshold;
    if interval >= MIN_INTERVAL_S {
        return Some((t.unhealthy_threshold, interval));
    }
    Some((MIN_THRESHOLD, budget / MIN_THRESHOLD))
}

/// The warning for a slow target group: its figure, why, and the setting to change.
pub fn slow_warning(t: &AlertTime, tg: &TargetGroup) -> Warning {
    let what = if tg.is_classic() {
        format!("Classic ELB {}", tg.load_balancer)
    } else {
        format!("target group {} behind {}", tg.name, tg.load_balancer)
    };
    let fix = match within_limit(t) {
        None => String::new(),
        Some((threshold, interval)) => {
            let mut parts = Vec::new();
            let mut args = Vec::new();
            if threshold != t.unhealthy_threshold {
                parts.push(format!("the unhealthy threshold to {threshold}"));
            }
            if interval != t.interval_s {
                parts.push(format!("the interval to {interval} s"));
            }
            let command = if tg.is_classic() {
                // Classic's ConfigureHealthCheck sets all five at once: keep the others.
                let (timeout_s, healthy) = tg
                    .health_check
                    .map_or((5, 10), |h| (h.timeout_s, h.healthy_threshold));
                args.push(format!(
                    "Target=<as now>,Interval={interval},Timeout={},UnhealthyThreshold={threshold},\
                     HealthyThreshold={}",
                    timeout_s.min(interval - 1).max(2),
                    healthy
                ));
                format!(
                    "aws elb configure-health-check --load-balancer-name {} --health-check {}",
                    tg.load_balancer,
                    args.join(" ")
                )
            } else {
                if threshold != t.unhealthy_threshold {
                    args.push(format!("--unhealthy-threshold-count {threshold}"));
                }
                if interval != t.interval_s {
                    args.push(format!("--health-check-interval-seconds {interval}"));
                }
                format!(
                    "aws elbv2 modify-target-group --target-group-arn {} {}",
                    tg.arn,
                    args.join(" ")
                )
            };
            format!(
                "; to be within {}, lower {} ({command})",
                duration(LIMIT_S),
                parts.join(" and ")
            )
        }
    };
    Warning {
        kind: SLOW_ALERT,
        load_balancer: tg.load_balancer.clone(),
        target_group: tg.name.clone(),
        target_group_arn: tg.arn.clone(),
        message: format!(
            "{what}: up to {} from a failing target to ALARM (health check every {} s × {} \
             failures = {}, then the alarm's {}){fix}. elb-watch does not change health checks",
            duration(t.worst_case_s),
            t.interval_s,
            t.unhealthy_threshold,
            duration(t.detection_s),
            duration(t.alarm_s),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::HealthCheck;
    use crate::naming::Names;
    use crate::state::alarms::target_group_alarms;
    use crate::state::fixtures;

    fn with_check(interval_s: i32, unhealthy_threshold: i32) -> (TargetGroup, AlarmSpec) {
        let tg = TargetGroup {
            health_check: Some(HealthCheck {
                interval_s,
                timeout_s: 5,
                unhealthy_threshold,
                healthy_threshold: 5,
            }),
            ..fixtures::target_group("web-alb", "web-tg")
        };
        let alarm = target_group_alarms(
            &Names::new("prod"),
            |_| crate::envfile::Threshold::Count(1),
            Default::default(),
            std::slice::from_ref(&tg),
        )
        .remove(0);
        (tg, alarm)
    }

    #[test]
    fn the_alb_defaults_are_exactly_three_minutes() {
        let (tg, alarm) = with_check(30, 2);
        let t = alert_time(&tg, &alarm).unwrap();
        assert_eq!((t.detection_s, t.alarm_s, t.worst_case_s), (60, 120, 180));
        assert!(!t.slow);
    }

    #[test]
    fn a_slow_health_check_is_flagged_with_the_setting_to_change() {
        let (tg, alarm) = with_check(30, 5);
        let t = alert_time(&tg, &alarm).unwrap();
        assert_eq!(t.worst_case_s, 270);
        assert!(t.slow);
        assert_eq!(within_limit(&t), Some((2, 30)));
        let w = slow_warning(&t, &tg);
        assert_eq!(w.kind, SLOW_ALERT);
        assert!(
            w.message.starts_with(
                "target group web-tg behind web-alb: up to 4 min 30 s from a failing target to \
                 ALARM (health check every 30 s × 5 failures = 2 min 30 s, then the alarm's 2 min)"
            ),
            "{}",
            w.message
        );
        assert!(
            w.message.contains("--unhealthy-threshold-count 2"),
            "{}",
            w.message
        );
        assert!(!w.message.contains("--health-check-interval-seconds"));

        // A long interval with the smallest threshold: the interval must change.
        let (tg, alarm) = with_check(60, 2);
        let t = alert_time(&tg, &alarm).unwrap();
        assert_eq!(within_limit(&t), Some((2, 30)));
        assert!(
            slow_warning(&t, &tg)
                .message
                .contains("--health-check-interval-seconds 30")
        );
    }

    #[test]
    fn a_classic_elb_gets_its_own_command_and_unknown_checks_no_figure() {
        let mut tg = fixtures::target_group("legacy", "legacy");
        tg.kind = LbKind::Classic;
        tg.health_check = Some(HealthCheck {
            interval_s: 30,
            timeout_s: 5,
            unhealthy_threshold: 4,
            healthy_threshold: 10,
        });
        let alarm = target_group_alarms(
            &Names::new("prod"),
            |_| crate::envfile::Threshold::Count(1),
            Default::default(),
            std::slice::from_ref(&tg),
        )
        .remove(0);
        let t = alert_time(&tg, &alarm).unwrap();
        let w = slow_warning(&t, &tg);
        assert!(
            w.message.starts_with("Classic ELB legacy: up to 4 min"),
            "{}",
            w.message
        );
        assert!(
            w.message.contains(
                "aws elb configure-health-check --load-balancer-name legacy --health-check \
                 Target=<as now>,Interval=30,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=10"
            ),
            "{}",
            w.message
        );
        tg.health_check = None;
        assert_eq!(alert_time(&tg, &alarm), None);
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(120), "2 min");
        assert_eq!(duration(210), "3 min 30 s");
    }
}
