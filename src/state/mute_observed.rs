//! The env's alarm mute rules as CloudWatch holds them (reads only): ListAlarmMuteRules, then
//! for each rule named with the env's prefix GetAlarmMuteRule (its schedule, targets, status)
//! and ListTagsForResource (ownership: env `prod-mute`'s rules share env `prod`'s prefix).

use crate::aws::{AwsResultExt, Clients};
use crate::naming::{Names, TAG_ENV};
use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;

/// Reads in flight at once (CloudWatch's control-plane quotas are a few per second).
const CONCURRENT_READS: usize = 4;

/// One mute rule of the env.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MuteRuleObs {
    pub name: String,
    pub arn: String,
    /// The window it belongs to (from its name).
    pub window: Option<String>,
    /// SCHEDULED, ACTIVE or EXPIRED, as CloudWatch says.
    pub status: String,
    pub expression: String,
    pub duration: String,
    pub timezone: Option<String>,
    pub alarms: Vec<String>,
    pub description: Option<String>,
    #[serde(skip)]
    pub tags: BTreeMap<String, String>,
}

impl MuteRuleObs {
    /// Tagged as this env's.
    pub fn is_owned_by(&self, env: &str) -> bool {
        self.tags.get(TAG_ENV).map(String::as_str) == Some(env)
    }

    /// The env's tags that are missing or wrong on the rule (drift).
    pub fn tag_drift(&self, names: &Names) -> Vec<String> {
        names
            .tags()
            .into_iter()
            .filter(|(k, v)| self.tags.get(k) != Some(v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// Names of the rules with the env's prefix (any owner).
pub async fn rule_names(clients: &Clients, names: &Names) -> Result<Vec<String>> {
    let prefix = names.mute_rule_prefix();
    let pages: Vec<_> = clients
        .cloudwatch
        .list_alarm_mute_rules()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .aws("CloudWatch ListAlarmMuteRules")?;
    let mut found: Vec<String> = pages
        .iter()
        .flat_map(|p| p.alarm_mute_rule_summaries())
        .filter_map(|s| s.alarm_mute_rule_arn())
        .filter_map(|arn| {
            arn.split_once(":alarm-mute-rule:")
                .map(|(_, n)| n.to_string())
        })
        .filter(|n| n.starts_with(&prefix))
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// The env's mute rules (those its tags prove are its own; a rule of another env with the same
/// prefix is left out), by name.
pub async fn env_rules(clients: &Clients, names: &Names) -> Result<Vec<MuteRuleObs>> {
    let all = rule_names(clients, names).await?;
    let read: Vec<Option<MuteRuleObs>> = futures::stream::iter(all)
        .map(|name| read_rule(clients, names, name))
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    Ok(read
        .into_iter()
        .flatten()
        .filter(|r| r.is_owned_by(&names.env))
        .collect())
}

/// One rule; `None` when it went meanwhile.
async fn read_rule(clients: &Clients, names: &Names, name: String) -> Result<Option<MuteRuleObs>> {
    let got = clients
        .cloudwatch
        .get_alarm_mute_rule()
        .alarm_mute_rule_name(&name)
        .send()
        .await;
    let got = match got {
        // The API reference names the error `ResourceNotFound`; the SDK's model
        // `ResourceNotFoundException`.
        Err(e)
            if crate::aws::errors::code(&e).is_some_and(|c| c.starts_with("ResourceNotFound")) =>
        {
            return Ok(None);
        }
        other => other.aws("CloudWatch GetAlarmMuteRule")?,
    };
    let arn = got.alarm_mute_rule_arn().unwrap_or_default().to_string();
    let tags = clients
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .aws("CloudWatch ListTagsForResource")?;
    let schedule = got.rule().and_then(|r| r.schedule());
    Ok(Some(MuteRuleObs {
        window: crate::state::mute::window_of(&names.mute_rule_prefix(), &name),
        name,
        arn,
        status: got
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        expression: schedule
            .and_then(|s| s.expression())
            .unwrap_or_default()
            .to_string(),
        duration: schedule
            .and_then(|s| s.duration())
            .unwrap_or_default()
            .to_string(),
        timezone: schedule.and_then(|s| s.timezone()).map(str::to_string),
        alarms: got
            .mute_targets()
            .map(|t| t.alarm_names().to_vec())
            .unwrap_or_default(),
        description: got.description().map(str::to_string),
        tags: tags
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
    }))
}

/// Whether window `window` still has its window-end schedule (a one-time schedule deletes itself
/// once it ran: only a window not yet EXPIRED needs one).
pub async fn end_schedule_exists(clients: &Clients, names: &Names, window: &str) -> Result<bool> {
    match clients
        .scheduler
        .get_schedule()
        .group_name(names.schedule_group())
        .name(names.window_end_schedule(window))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if crate::aws::errors::code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(e).aws("Scheduler GetSchedule"),
    }
}

/// The windows of `rules` not yet over (a rule SCHEDULED or ACTIVE), by name.
pub fn open_windows(rules: &[MuteRuleObs]) -> Vec<String> {
    let mut out: Vec<String> = rules
        .iter()
        .filter(|r| r.status != "EXPIRED")
        .filter_map(|r| r.window.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}
