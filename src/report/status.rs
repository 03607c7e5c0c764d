//! `elb-watch status`'s reports: the env's, and `status --alb`'s view of some ALBs.

use crate::discovery::{LoadBalancer, TargetGroup};
use crate::state::alert_time::AlertTime;
use crate::state::assess::{ResourceStatus, WebhookStatus};
use crate::state::desired::Inputs;
use crate::state::health::{AlarmState, TargetGroupHealth, TargetHealth};
use crate::state::slack::SlackAppStatus;
use crate::state::undelivered::UndeliveredStatus;
use crate::state::warnings::Warning;
use serde::Serialize;

/// The inputs `up` recorded on the topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedSettings {
    /// Load balancer names (`--lb`/`--alb`).
    pub albs: Vec<String>,
    /// `--all`.
    pub all: bool,
    /// `--tag` filters, `KEY=VALUE`.
    pub tags: Vec<String>,
    pub min_healthy: u32,
    pub slack_channel: Option<String>,
    /// Learnt from the topic's e-mail subscriptions: the address is not recorded in tags.
    pub email: Option<String>,
    pub log_retention_days: i32,
    pub permissions_boundary: Option<String>,
    /// `--mention`s, in Slack syntax.
    pub mentions: Vec<String>,
    /// `--runbook`.
    pub runbook: Option<String>,
    /// `--min-healthy-percent` (null: the threshold is `min_healthy`).
    pub min_healthy_percent: Option<u32>,
    /// The environments file's overrides, as `TG-GLOB@LB-GLOB < N` / `< P %` lines.
    pub overrides: Vec<String>,
}

impl From<&Inputs> for RecordedSettings {
    fn from(i: &Inputs) -> Self {
        RecordedSettings {
            albs: i.selection.names.clone(),
            all: i.selection.all,
            tags: i
                .selection
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            min_healthy: i.min_healthy,
            slack_channel: i.channel.clone(),
            email: i.email.clone(),
            log_retention_days: i.log_retention_days,
            permissions_boundary: i.permissions_boundary.clone(),
            mentions: i.mentions.clone(),
            runbook: i.runbook.clone(),
            min_healthy_percent: i.min_healthy_percent,
            overrides: i.overrides.iter().map(|o| o.to_string()).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub env: String,
    pub region: String,
    pub account_id: String,
    /// Anything of the env exists (keys pending deletion aside).
    pub exists: bool,
    /// Everything present and in sync: exit code 0.
    pub in_sync: bool,
    pub verdict: String,
    /// What `up` was last asked for; null when the topic or its tags are missing.
    pub settings: Option<RecordedSettings>,
    pub webhook: WebhookStatus,
    /// Slack app mode: the bot token and the channel, checked with Slack (null for a webhook).
    pub slack_app: Option<SlackAppStatus>,
    /// Alerts the notifier could not deliver, kept on the env's queue (null: no queue).
    pub undelivered: Option<UndeliveredStatus>,
    pub resources: Vec<ResourceStatus>,
    pub alarms: Vec<AlarmState>,
    pub target_groups: Vec<TargetGroupHealth>,
    /// Each watched target group's worst case from a failing target to ALARM.
    pub alert_times: Vec<AlertTime>,
    /// Target groups of the watched load balancers that get no alarm, or are slow to alarm.
    pub warnings: Vec<Warning>,
    /// Maintenance windows (`elb-watch mute`): the env's mute rules and what they mute now.
    pub mute: MuteStatus,
    /// Watched target groups whose ALARM messages show no runbook: no `elb-watch:runbook` tag
    /// (an https URL) on them or their load balancer, and no `--runbook` for the env
    /// (`TG behind LB`).
    pub without_runbook: Vec<String>,
}

/// The env's mute rules as `status` reports them.
#[derive(Debug, Default, Serialize)]
pub struct MuteStatus {
    pub rules: Vec<crate::report::MuteRuleLine>,
    /// Alarms an ACTIVE rule mutes now: their actions do not run.
    pub muted_now: Vec<String>,
    /// Windows not yet over whose window-end schedule is missing: their alarms would stay
    /// silent after them (drift).
    pub windows_without_end: Vec<String>,
    /// Why the rules could not be read (e.g. an operator policy without
    /// `cloudwatch:ListAlarmMuteRules`); status goes on without them.
    pub error: Option<String>,
}

/// `status --alb`: discovery's target groups with health.
#[derive(Debug, Serialize)]
pub struct AlbReport {
    pub env: String,
    pub load_balancers: Vec<LoadBalancer>,
    pub target_groups: Vec<AlbTargetGroup>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize)]
pub struct AlbTargetGroup {
    #[serde(flatten)]
    pub target_group: TargetGroup,
    /// The env's alarm on this target group, if any (matched by its metric dimensions).
    pub alarm: Option<String>,
    pub alarm_state: Option<String>,
    pub healthy: usize,
    pub targets: Vec<TargetHealth>,
}
