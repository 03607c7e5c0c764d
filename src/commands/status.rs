//! `elb-watch status`: every resource of the env present / missing / drifted against what `up`
//! was asked for (the inputs it recorded on the topic), alarm states and target health, and a
//! verdict; exit 0 in sync, 1 drift or missing, 2 error.
//!
//! With `--alb`: those ALBs' target groups (discovery) with their targets' health and the env's
//! alarm on each, whether or not the env watches them; exit 0.

use super::connect;
use super::mute::rule_line;
use super::up::identity;
use crate::aws::Clients;
use crate::cli::{GlobalOpts, StatusArgs};
use crate::discovery::{self, Discovery, Selection, TargetGroup};
use crate::naming::Names;
use crate::report::{AlbReport, AlbTargetGroup, MuteStatus, RecordedSettings, StatusReport};
use crate::secret::SlackSecret;
use crate::state::alarm_tag_index;
use crate::state::alarms::healthy_host_count;
use crate::state::assess::{self};
use crate::state::desired::{
    DEFAULT_SLACK_API, ENV_CHANNEL, ENV_SLACK_API, Inputs, desired, inputs_from_settings,
};
use crate::state::health::{self, AlarmState, Observation};
use crate::state::healthy_counts;
use crate::state::mute_observed::{self, MuteRuleObs};
use crate::state::observed::{AlarmObs, Observed, observe, tagged_keys};
use crate::state::plan::{Action, drift};
use crate::state::queue_plan::waive_concurrency;
use crate::state::slack::{self, SlackAppStatus};
use crate::state::undelivered::UndeliveredStatus;
use crate::state::warnings::target_group_warnings;
use crate::{apply, bundle, exit, output};
use anyhow::{Context, Result};

pub async fn run(global: &GlobalOpts, args: &StatusArgs) -> Result<u8> {
    let clients = connect(global).await?;
    if !args.lbs.is_empty() {
        return alb_view(global, &clients, &args.lbs).await;
    }
    let report = env_report(
        &clients,
        &global.env,
        args.targets,
        args.file_env.as_deref(),
    )
    .await?;
    output::print_as(
        global.output,
        &report,
        output::status_table(&report),
        output::markdown::status_markdown(&report),
    )?;
    Ok(if report.in_sync {
        exit::OK
    } else {
        exit::DRIFT
    })
}

/// Used where `up` has recorded nothing: names and ARNs come out right, inputs do not matter.
fn placeholder_inputs(env: &str) -> Inputs {
    Inputs {
        env: env.to_string(),
        selection: Selection::default(),
        channel: None,
        min_healthy: 1,
        zone_rule: Default::default(),
        email: None,
        log_retention_days: 30,
        permissions_boundary: None,
        code_sha256: bundle::code_sha256(),
        arch: bundle::EMBEDDED_ARCH,
        prebuilt_code: false,
        notifier_concurrency: crate::state::desired::DEFAULT_CONCURRENCY,
        slack_app: None,
        mentions: Vec::new(),
        runbook: None,
        min_healthy_percent: None,
        overrides: Vec::new(),
    }
}

/// The env's status. `all_targets`: read every target group's targets (`--targets`), not only
/// those whose alarm is not OK. `file`: the env's table of the environments file, whose thresholds are
/// then what the alarms are judged by (a threshold changed in the file is drift until `up`).
pub async fn env_report(
    clients: &Clients,
    env: &str,
    all_targets: bool,
    file: Option<&crate::envfile::EnvConfig>,
) -> Result<StatusReport> {
    let names = Names::new(env);
    let identity = identity(clients).await?;
    let (mut observed, keys, mute_rules) = tokio::try_join!(
        observe(clients, &names, &identity),
        tagged_keys(clients, &names),
        async { Ok(mute_observed::env_rules(clients, &names).await) }
    )?;
    let open = match &mute_rules {
        Ok(rules) => mute_observed::open_windows(rules),
        Err(_) => Vec::new(),
    };
    let mut windows_without_end = Vec::new();
    for window in open {
        if !mute_observed::end_schedule_exists(clients, &names, &window).await? {
            windows_without_end.push(window);
        }
    }
    let mut mute = mute_status(&names, mute_rules);
    mute.windows_without_end = windows_without_end;
    let recorded = observed.topic.as_ref().and_then(|t| {
        let emails: Vec<String> = t
            .subscriptions
            .iter()
            .filter(|s| s.protocol == "email")
            .map(|s| s.endpoint.clone())
            .collect();
        inputs_from_settings(env, &t.tags, &emails, &bundle::code_sha256()).ok()
    });
    let mut inputs = recorded.clone().unwrap_or_else(|| placeholder_inputs(env));
    if let Some(file) = file {
        with_file_thresholds(&mut inputs, file);
    }
    let found = if inputs.selection.is_empty() {
        Discovery::default()
    } else {
        discovery::discover(clients, &inputs.selection)
            .await
            .with_context(|| {
                format!(
                    "discovering the load balancers env {env} watches ({})",
                    inputs.selection.describe()
                )
            })?
    };
    let want = desired(&inputs, &identity, &found.target_groups);
    alarm_tag_index::read_runbooks(clients, &names, &mut observed.alarms, &want.alarms).await?;
    let mut plan = drift(&want, &observed);
    let mut warnings = want.warnings.clone();
    // An account that cannot spare the reservation is told so, not sent into drift forever.
    if plan.concurrency.action != Action::Unchanged {
        let unreserved = apply::queue::unreserved_concurrency(clients).await?;
        warnings.extend(waive_concurrency(
            &mut plan.concurrency,
            &want,
            &observed,
            unreserved,
        ));
    }
    let exists = assess::env_exists(&observed, &keys);
    let resources = assess::resources(&want, &observed, &plan, &keys, recorded.is_some());

    let alarm_for = |tg: &TargetGroup| {
        want.alarms
            .iter()
            .find(|a| a.target_group() == Some((tg.load_balancer.as_str(), tg.name.as_str())))
            .map(|a| a.name.clone())
    };
    let seen = observe_groups(clients, &found.target_groups, all_targets, |tg| {
        health::alarm_state_of(alarm_for(tg).as_deref(), &observed.alarms)
    })
    .await?;
    let target_groups =
        health::target_group_health(&found.target_groups, seen, alarm_for, &observed.alarms);
    let alarms: Vec<AlarmState> = observed.alarms.iter().map(health::alarm_state).collect();
    let states: Vec<&str> = alarms.iter().map(|a| a.state.as_str()).collect();
    let (mut verdict, mut in_sync) =
        assess::verdict(env, &identity.region, exists, &resources, &states);
    let undelivered = match &observed.queue {
        None => None,
        Some(q) => {
            let oldest = if q.messages > 0 {
                crate::state::queue::peek_oldest_sent_ms(clients, &q.url).await?
            } else {
                None
            };
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as i64;
            Some(UndeliveredStatus::new(q.messages, oldest, now_ms))
        }
    };
    // Undelivered alerts are not "in sync": a CI gate must see them (exit 1).
    if let Some(u) = undelivered.as_ref().filter(|u| u.count > 0) {
        verdict = if in_sync {
            format!(
                "env {env} is in place, but {} alert(s) were not delivered: run `elb-watch \
                 --env {env} replay`",
                u.count
            )
        } else {
            format!("{verdict}; and {} alert(s) were not delivered", u.count)
        };
        in_sync = false;
    }
    let drifted: Vec<&str> = mute
        .rules
        .iter()
        .filter(|r| !r.missing_tags.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    if !mute.windows_without_end.is_empty() {
        let what = format!(
            "maintenance window(s) {} have no window-end schedule, so what is still in ALARM \
             when they end would not be announced (run the same `elb-watch mute` again, or \
             `elb-watch --env {env} unmute NAME`)",
            mute.windows_without_end.join(", ")
        );
        verdict = if in_sync {
            format!("env {env} is in place, but {what}")
        } else {
            format!("{verdict}; and {what}")
        };
        in_sync = false;
    }
    if !drifted.is_empty() {
        let what = format!(
            "mute rule(s) {} lack the env's tags (run the same `elb-watch mute` again, or \
             `elb-watch --env {env} unmute`)",
            drifted.join(", ")
        );
        verdict = if in_sync {
            format!("env {env} is in place, but {what}")
        } else {
            format!("{verdict}; and {what}")
        };
        in_sync = false;
    }
    let slack_app = slack_app(&observed).await;
    if let Some(problem) = slack_app.as_ref().and_then(|s| s.problem.as_ref()) {
        verdict = if in_sync {
            format!("env {env} is in place, but its Slack app cannot post: {problem}")
        } else {
            format!("{verdict}; and its Slack app cannot post: {problem}")
        };
        in_sync = false;
    }
    Ok(StatusReport {
        env: env.to_string(),
        region: identity.region.clone(),
        account_id: identity.account_id.clone(),
        exists,
        in_sync: in_sync && exists,
        verdict,
        settings: recorded.as_ref().map(RecordedSettings::from),
        webhook: assess::webhook(&observed),
        slack_app,
        undelivered,
        resources,
        alarms,
        target_groups,
        alert_times: want.alert_times.clone(),
        warnings,
        mute,
        without_runbook: without_runbook(&inputs, &found.target_groups),
    })
}

/// The thresholds the environments file gives (pure): its overrides, and its own threshold
/// when it sets one.
fn with_file_thresholds(inputs: &mut Inputs, file: &crate::envfile::EnvConfig) {
    if file.min_healthy.is_some() || file.min_healthy_percent.is_some() {
        inputs.min_healthy = file.min_healthy.unwrap_or(1);
        inputs.min_healthy_percent = file.min_healthy_percent;
    }
    inputs.overrides = file.overrides.clone();
}

/// The watched target groups an ALARM message shows no runbook for.
fn without_runbook(inputs: &Inputs, groups: &[TargetGroup]) -> Vec<String> {
    if inputs.runbook.is_some() {
        return Vec::new();
    }
    groups
        .iter()
        .filter(|tg| crate::state::warnings::is_watchable(tg))
        .filter(|tg| crate::state::alarms::valid_runbook(tg).is_none())
        .map(|tg| format!("{} behind {}", tg.name, tg.load_balancer))
        .collect()
}

/// The mute rules' lines and the alarms muted now; a failed read is reported, not fatal.
fn mute_status(names: &Names, rules: Result<Vec<MuteRuleObs>>) -> MuteStatus {
    match rules {
        Ok(rules) => {
            let mut muted_now: Vec<String> = rules
                .iter()
                .filter(|r| r.is_active())
                .flat_map(|r| r.alarms.clone())
                .collect();
            muted_now.sort();
            muted_now.dedup();
            MuteStatus {
                rules: rules.iter().map(|r| rule_line(r, names)).collect(),
                muted_now,
                ..MuteStatus::default()
            }
        }
        Err(e) => MuteStatus {
            error: Some(format!("{e:#}")),
            ..MuteStatus::default()
        },
    }
}

/// What `status` learns of each target group, in order: the targets of those that need them
/// ([`health::needs_targets`]: alarm not OK, or `all_targets`), CloudWatch's healthy count for
/// the rest (one GetMetricData call per 500). Both reads run side by side.
async fn observe_groups(
    clients: &Clients,
    groups: &[TargetGroup],
    all_targets: bool,
    state_of: impl Fn(&TargetGroup) -> Option<String>,
) -> Result<Vec<Observation>> {
    let needs: Vec<bool> = groups
        .iter()
        .map(|tg| health::needs_targets(state_of(tg).as_deref(), all_targets))
        .collect();
    let subset = |want: bool| -> Vec<&TargetGroup> {
        groups
            .iter()
            .zip(&needs)
            .filter(|(_, n)| **n == want)
            .map(|(tg, _)| tg)
            .collect()
    };
    let (read, counted) = (subset(true), subset(false));
    let (targets, counts) = tokio::try_join!(
        health::read_target_health(clients, &read),
        healthy_counts::read_healthy_counts(clients, &counted)
    )?;
    let (mut targets, mut counts) = (targets.into_iter(), counts.into_iter());
    Ok(needs
        .into_iter()
        .map(|read| {
            if read {
                Observation::Targets(targets.next().unwrap_or_default())
            } else {
                Observation::Counted(counts.next().flatten())
            }
        })
        .collect())
}

/// App mode: ask Slack whether the notifier's token and channel work, as the notifier would
/// post (its token, its API root, its channel). `None` for a webhook or an undecryptable token
/// (already reported as such).
async fn slack_app(observed: &Observed) -> Option<SlackAppStatus> {
    let f = observed.function.as_ref()?;
    let Some(SlackSecret::BotToken(token)) = &f.secret else {
        return None;
    };
    let api = f
        .env
        .get(ENV_SLACK_API)
        .map_or(DEFAULT_SLACK_API, String::as_str);
    let channel = f.env.get(ENV_CHANNEL).map(String::as_str);
    Some(slack::check(api, token, channel).await)
}

/// The env's alarm on a target group: the one on the group's own metric (over its zones or
/// not: the dimensions compared are the target group's).
fn alarm_on<'a>(alarms: &'a [AlarmObs], tg: &TargetGroup) -> Option<&'a AlarmObs> {
    let metric = healthy_host_count(tg, Default::default());
    alarms
        .iter()
        .find(|a| a.namespace == metric.namespace && a.dimensions == metric.dimensions)
}

async fn alb_view(global: &GlobalOpts, clients: &Clients, albs: &[String]) -> Result<u8> {
    let found = discovery::discover(clients, &Selection::named(albs)).await?;
    let names = Names::new(&global.env);
    let identity = identity(clients).await?;
    // The user asked about these load balancers: every target is read.
    let groups: Vec<&TargetGroup> = found.target_groups.iter().collect();
    let (observed, targets) = tokio::try_join!(
        observe(clients, &names, &identity),
        health::read_target_health(clients, &groups)
    )?;
    let target_groups = found
        .target_groups
        .iter()
        .zip(targets)
        .map(|(tg, targets)| {
            let alarm = alarm_on(&observed.alarms, tg);
            AlbTargetGroup {
                target_group: tg.clone(),
                alarm: alarm.map(|a| a.name.clone()),
                alarm_state: alarm.map(|a| a.state.clone()),
                healthy: health::healthy_count(&targets),
                targets,
            }
        })
        .collect();
    let report = AlbReport {
        env: global.env.clone(),
        load_balancers: found.load_balancers.clone(),
        target_groups,
        warnings: target_group_warnings(&found.target_groups),
    };
    output::print(
        global.output,
        &report,
        output::alb_status_table(&found, &report),
    )?;
    Ok(exit::OK)
}
