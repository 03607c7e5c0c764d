//! `elb-watch mute` / `unmute` reports, and the mute-rule lines of `status`.

use crate::aws::CallStats;
use serde::Serialize;

/// One mute rule as reported.
#[derive(Debug, Clone, Serialize)]
pub struct MuteRuleLine {
    pub name: String,
    pub window: Option<String>,
    /// SCHEDULED, ACTIVE or EXPIRED (CloudWatch's).
    pub status: String,
    pub expression: String,
    pub duration: String,
    pub timezone: Option<String>,
    pub alarms: usize,
    pub description: Option<String>,
    /// The env's tags the rule lacks (drift).
    pub missing_tags: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MuteReport {
    pub env: String,
    pub region: String,
    pub window: String,
    /// `at(…)` or `cron(…)`, as put on the rules.
    pub expression: String,
    pub timezone: Option<String>,
    pub duration: String,
    /// One-time windows: start and end (UTC, ISO 8601).
    pub starts: Option<String>,
    pub ends: Option<String>,
    pub rules: Vec<MuteRuleLine>,
    /// Rules of this window from an earlier `mute` no longer needed (fewer alarms now).
    pub removed_rules: Vec<String>,
    /// Alarms muted, in all.
    pub alarms: usize,
    /// The window-end schedule: its name and expression.
    pub end_schedule: String,
    pub end_expression: String,
    pub api_calls: CallStats,
    pub duration_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct UnmuteReport {
    pub env: String,
    pub region: String,
    /// Windows ended, with their rules deleted.
    pub windows: Vec<String>,
    pub rules_deleted: Vec<String>,
    /// Windows that were active: the notifier was asked to announce what is still in ALARM.
    pub announced_windows: Vec<String>,
    pub api_calls: CallStats,
    pub duration_ms: u128,
}
