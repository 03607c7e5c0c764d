//! `elb-watch up`'s report.

use crate::apply::announce::Announced;
use crate::aws::CallStats;
use crate::discovery;
use crate::progress::StepTiming;
use crate::state::alert_time::AlertTime;
use crate::state::cost::AlarmCost;
use crate::state::plan::Change;
use crate::state::warnings::Warning;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct UpReport {
    pub env: String,
    pub region: String,
    pub account_id: String,
    pub dry_run: bool,
    /// True when nothing needed to change.
    pub in_sync: bool,
    pub changes: Vec<Change>,
    pub target_groups: Vec<discovery::TargetGroup>,
    /// What the plan's alarms cost per month at the list price.
    pub cost: AlarmCost,
    /// Each watched target group's worst case from a failing target to ALARM.
    pub alert_times: Vec<AlertTime>,
    /// Each target group's alarm: its threshold and worst case to ALARM (the plan's alarm lines
    /// show them).
    pub alarm_lines: Vec<AlarmLine>,
    /// Target groups that get no alarm, or are slow to alarm, and why.
    pub warnings: Vec<Warning>,
    /// Existing alarms found in ALARM when `up` completed their path to the notifier, and
    /// announced by `up` (CloudWatch sends each state change once).
    pub announced: Vec<Announced>,
    pub api_calls: CallStats,
    /// Wall time of the whole command.
    pub duration_ms: u128,
    /// Wall time of applying the plan, and of each step: steps overlap, so their sum exceeds it.
    pub apply_ms: u128,
    pub steps: Vec<StepTiming>,
}

/// A target group's alarm as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmLine {
    pub alarm: String,
    pub load_balancer: String,
    pub target_group: String,
    /// `< 5 healthy`, `< 50 % healthy`.
    pub threshold: String,
    /// From a failing target to ALARM at worst; null when the health check is not known.
    pub worst_case_s: Option<i32>,
}

impl AlarmLine {
    /// `< 5 healthy · ALARM ≤ 2 min 30 s`.
    pub fn describe(&self) -> String {
        match self.worst_case_s {
            Some(s) => format!(
                "{} · ALARM ≤ {}",
                self.threshold,
                crate::state::alert_time::duration(s)
            ),
            None => self.threshold.clone(),
        }
    }
}

/// The alarm lines of the target groups' alarms (pure).
pub fn alarm_lines(
    alarms: &[crate::state::alarms::AlarmSpec],
    times: &[AlertTime],
) -> Vec<AlarmLine> {
    alarms
        .iter()
        .filter_map(|a| {
            let (lb, tg) = a.target_group()?;
            Some(AlarmLine {
                alarm: a.name.clone(),
                load_balancer: lb.to_string(),
                target_group: tg.to_string(),
                threshold: a.threshold_label(),
                worst_case_s: times
                    .iter()
                    .find(|t| t.load_balancer == lb && t.target_group == tg)
                    .map(|t| t.worst_case_s),
            })
        })
        .collect()
}
