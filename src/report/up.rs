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
