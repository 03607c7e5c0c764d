//! `elb-watch mute` and `unmute`: maintenance windows with CloudWatch's own alarm mute rules.
//!
//! `mute` mutes the env's target-group alarms (those of `--lb`, or all; never the alerting
//! path's) in rules of at most 100 names, and schedules the window's end: an EventBridge
//! Scheduler schedule invokes the notifier then, which announces the muted alarms still in ALARM
//! (`apply/mute.rs` says why Scheduler). The schedule is made before the rules, so no window
//! exists without its announcement; a failed run leaves what a re-run completes. `unmute`
//! deletes a window's rules and schedule and asks the notifier to announce at once.

use super::connect;
use super::up::identity;
use crate::apply::mute as apply;
use crate::aws::{AwsResultExt, Clients};
use crate::cli::{GlobalOpts, MuteArgs, UnmuteArgs};
use crate::naming::{ALARM_METRIC, ALARM_SEPARATOR, Names};
use crate::progress::Progress;
use crate::report::{MuteReport, MuteRuleLine, UnmuteReport};
use crate::state::mute::{self, When, Window};
use crate::state::mute_observed::{self, MuteRuleObs};
use crate::{exit, output};
use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

pub async fn run_mute(global: &GlobalOpts, args: &MuteArgs) -> Result<u8> {
    let started = Instant::now();
    let when = match (&args.at, &args.cron) {
        (Some(start_s), _) => When::At { start_s: *start_s },
        (_, Some(expression)) => When::Cron {
            expression: expression.clone(),
            timezone: args.timezone.clone(),
        },
        _ => When::Now,
    };
    let now = now_s();
    let window = Window {
        name: args
            .name
            .clone()
            .unwrap_or_else(|| mute::default_name(&when, args.duration, now)),
        when,
        minutes: args.duration,
        reason: args.reason.clone(),
    };
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);
    let identity = identity(&clients).await?;

    let line = progress.start("reading the env's target-group alarms");
    let alarms = target_group_alarms(&clients, &names, &args.lbs).await?;
    line.done(&format!("{} to mute", alarms.len()));
    let plan =
        mute::plan(&names.mute_rule_prefix(), &window, &alarms, now).map_err(anyhow::Error::msg)?;
    let earlier: Vec<String> = mute_observed::rule_names(&clients, &names)
        .await?
        .into_iter()
        .filter(|n| mute::window_of(&names.mute_rule_prefix(), n).as_deref() == Some(&plan.window))
        .filter(|n| !plan.rules.iter().any(|r| &r.name == n))
        .collect();

    let function_arn = identity.function_arn(&names);
    let line = progress.start("scheduling the window's end (EventBridge Scheduler)");
    let role_arn =
        apply::ensure_scheduler(&clients, &names, &identity.account_id, &function_arn).await?;
    apply::put_end_schedule(&clients, &names, &plan, &role_arn, &function_arn).await?;
    line.done(&plan.end_schedule.expression);

    let line = progress.start(&format!("putting {} mute rule(s)", plan.rules.len()));
    apply::put_rules(&clients, &names, &plan).await?;
    for name in &earlier {
        apply::delete_rule(&clients, name).await?;
    }
    line.done("put");

    let report = MuteReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        window: plan.window.clone(),
        expression: plan.expression.clone(),
        timezone: plan.timezone.clone(),
        duration: plan.duration.clone(),
        starts: plan.start_s.map(mute::iso_utc),
        ends: plan.end_s.map(mute::iso_utc),
        rules: plan
            .rules
            .iter()
            .map(|r| MuteRuleLine {
                name: r.name.clone(),
                window: Some(plan.window.clone()),
                status: if plan.start_s.is_some_and(|s| s <= now) {
                    "ACTIVE".into()
                } else {
                    "SCHEDULED".into()
                },
                expression: plan.expression.clone(),
                duration: plan.duration.clone(),
                timezone: plan.timezone.clone(),
                alarms: r.alarms.len(),
                description: Some(plan.description.clone()),
                missing_tags: Vec::new(),
            })
            .collect(),
        removed_rules: earlier,
        alarms: alarms.len(),
        end_schedule: format!(
            "{}/{}",
            names.schedule_group(),
            names.window_end_schedule(&plan.window)
        ),
        end_expression: plan.end_schedule.expression.clone(),
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
    };
    output::print(global.output, &report, output::mute_table(&report))?;
    Ok(exit::OK)
}

/// The env's load-balancer alarms (`elb-watch/ENV/LB/…/HealthyHostCount`), of `lbs` only when
/// some are named (each must be one the env watches). Never the alerting path's or the test
/// alarm: they do not end in the metric's name.
async fn target_group_alarms(
    clients: &Clients,
    names: &Names,
    lbs: &[String],
) -> Result<Vec<String>> {
    let prefix = names.alarm_prefix();
    let pages: Vec<_> = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(&prefix)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .aws("CloudWatch DescribeAlarms")?;
    let suffix = format!("{ALARM_SEPARATOR}{ALARM_METRIC}");
    let all: Vec<String> = pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .filter_map(|a| a.alarm_name())
        .filter(|n| n.ends_with(&suffix))
        .map(str::to_string)
        .collect();
    let lb_of = |n: &str| {
        n.strip_prefix(&prefix)
            .and_then(|r| r.split(ALARM_SEPARATOR).next())
            .map(str::to_string)
    };
    if lbs.is_empty() {
        return Ok(all);
    }
    let watched: BTreeSet<String> = all.iter().filter_map(|n| lb_of(n)).collect();
    let unknown: Vec<&String> = lbs.iter().filter(|l| !watched.contains(*l)).collect();
    if !unknown.is_empty() {
        let env = &names.env;
        bail!(
            "env {env} watches no load balancer named {}: it watches {} (`elb-watch --env {env} \
             status` lists them)",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if watched.is_empty() {
                "none".to_string()
            } else {
                watched.into_iter().collect::<Vec<_>>().join(", ")
            }
        );
    }
    Ok(all
        .into_iter()
        .filter(|n| lb_of(n).is_some_and(|l| lbs.contains(&l)))
        .collect())
}

/// A rule as `status` and `unmute` report it.
pub fn rule_line(r: &MuteRuleObs, names: &Names) -> MuteRuleLine {
    MuteRuleLine {
        name: r.name.clone(),
        window: r.window.clone(),
        status: r.status.clone(),
        expression: r.expression.clone(),
        duration: r.duration.clone(),
        timezone: r.timezone.clone(),
        alarms: r.alarms.len(),
        description: r.description.clone(),
        missing_tags: r.tag_drift(names),
    }
}

/// How long an active window has muted its alarms by `now_s`: since its `at()` start, or for a
/// recurring one at most its duration.
fn muted_for_s(rule: &MuteRuleObs, now_s: i64) -> u64 {
    let whole = mute::minutes_of_iso(&rule.duration).unwrap_or(mute::MAX_MINUTES);
    let whole_s = u64::from(whole) * 60;
    let start = rule
        .expression
        .strip_prefix("at(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|t| mute::parse_at(t).ok());
    match start {
        Some(s) if s <= now_s => ((now_s - s) as u64).clamp(60, whole_s),
        _ => whole_s,
    }
}

pub async fn run_unmute(global: &GlobalOpts, args: &UnmuteArgs) -> Result<u8> {
    let started = Instant::now();
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);
    let identity = identity(&clients).await?;
    let line = progress.start("reading the env's mute rules");
    let rules = mute_observed::env_rules(&clients, &names).await?;
    line.done(&format!("{} rule(s)", rules.len()));
    let mut windows: Vec<String> = rules.iter().filter_map(|r| r.window.clone()).collect();
    windows.sort();
    windows.dedup();
    if let Some(name) = &args.name {
        if !windows.contains(name) {
            let env = &global.env;
            bail!(
                "env {env} has no maintenance window named {name}{}",
                if windows.is_empty() {
                    String::new()
                } else {
                    format!(" (it has {})", windows.join(", "))
                }
            );
        }
        windows.retain(|w| w == name);
    }
    let now = now_s();
    let mut deleted = Vec::new();
    let mut announced = Vec::new();
    for window in &windows {
        let of_window: Vec<&MuteRuleObs> = rules
            .iter()
            .filter(|r| r.window.as_deref() == Some(window))
            .collect();
        let line = progress.start(&format!("ending window {window}"));
        apply::delete_end_schedule(&clients, &names, window).await?;
        for r in &of_window {
            apply::delete_rule(&clients, &r.name).await?;
            deleted.push(r.name.clone());
        }
        let active: Vec<&&MuteRuleObs> = of_window.iter().filter(|r| r.is_active()).collect();
        if let Some(first) = active.first() {
            let alarms: Vec<String> = active.iter().flat_map(|r| r.alarms.clone()).collect();
            let input = mute::window_ended_input(window, &[], &alarms, muted_for_s(first, now));
            apply::announce_now(&clients, &names.function(), input).await?;
            announced.push(window.clone());
        }
        line.done("ended");
    }
    let report = UnmuteReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        windows,
        rules_deleted: deleted,
        announced_windows: announced,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
    };
    output::print(global.output, &report, output::unmute_table(&report))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rule(expression: &str, duration: &str) -> MuteRuleObs {
        MuteRuleObs {
            name: "elb-watch-prod-mute-d-1".into(),
            arn: String::new(),
            window: Some("d".into()),
            status: "ACTIVE".into(),
            expression: expression.into(),
            duration: duration.into(),
            timezone: None,
            alarms: vec![],
            description: None,
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn an_early_end_counts_the_time_muted_so_far() {
        let start = mute::parse_at("2026-12-03T18:00Z").unwrap();
        let r = rule("at(2026-12-03T18:00)", "PT2H");
        assert_eq!(muted_for_s(&r, start + 600), 600);
        assert_eq!(muted_for_s(&r, start + 10), 60);
        assert_eq!(muted_for_s(&r, start + 3 * 3600), 7200);
        assert_eq!(muted_for_s(&rule("cron(0 2 * * SUN)", "PT1H"), start), 3600);
    }
}
