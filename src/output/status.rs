use super::{alert_time_line, discovery_table, table, warning_lines};
use crate::discovery::Discovery;
use crate::report::{AlbReport, StatusReport};
use crate::state::health::TargetHealth;

fn target_cells(t: &TargetHealth) -> [String; 4] {
    [
        t.id.clone(),
        t.port.map(|p| p.to_string()).unwrap_or_default(),
        t.state.clone(),
        match (&t.reason, &t.description) {
            (Some(r), Some(d)) => format!("{r}: {d}"),
            (Some(r), None) => r.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => String::new(),
        },
    ]
}

/// One target group's line in the health table: its targets, or only CloudWatch's count of the
/// healthy ones (a group whose alarm is OK: `status --targets` lists its targets).
pub struct HealthRow<'a> {
    pub load_balancer: &'a str,
    pub target_group: &'a str,
    pub alarm: Option<&'a str>,
    pub targets: Option<&'a [TargetHealth]>,
    pub healthy: Option<usize>,
}

/// Rows of (load balancer, target group, alarm state, targets…), one per target, or one per
/// target group whose targets were not read.
fn health_table<'a>(groups: impl Iterator<Item = HealthRow<'a>>) -> String {
    let mut t = table(&[
        "load balancer",
        "target group",
        "alarm state",
        "target",
        "port",
        "health",
        "reason",
    ]);
    for g in groups {
        let (lb, tg) = (g.load_balancer.to_string(), g.target_group.to_string());
        let alarm = g.alarm.unwrap_or("not watched").to_string();
        let summary = match (g.targets, g.healthy) {
            (Some([]), _) => Some(("(no targets)".to_string(), String::new())),
            (Some(_), _) => None,
            (None, Some(n)) => Some((
                format!("{n} healthy"),
                "HealthyHostCount; --targets lists them".to_string(),
            )),
            (None, None) => Some((
                "(no recent count)".to_string(),
                "no HealthyHostCount datapoint; --targets lists them".to_string(),
            )),
        };
        if let Some((target, reason)) = summary {
            t.add_row(vec![
                lb,
                tg,
                alarm,
                target,
                String::new(),
                String::new(),
                reason,
            ]);
            continue;
        }
        for target in g.targets.unwrap_or_default() {
            let mut row = vec![lb.clone(), tg.clone(), alarm.clone()];
            row.extend(target_cells(target));
            t.add_row(row);
        }
    }
    t.to_string()
}

pub fn status_table(r: &StatusReport) -> String {
    if !r.exists {
        return r.verdict.clone();
    }
    let mut out = String::new();
    let mut resources = table(&["resource", "name", "state", "details"]);
    for row in &r.resources {
        resources.add_row(vec![
            row.kind.clone(),
            row.name.clone(),
            row.state.label().to_string(),
            row.details.join(", "),
        ]);
    }
    out.push_str(&resources.to_string());
    out.push_str(&mute_lines(&r.mute));
    if !r.alarms.is_empty() {
        let mut alarms = table(&["alarm", "state", "since", "reason"]);
        for a in &r.alarms {
            alarms.add_row(vec![
                a.name.clone(),
                a.state.clone(),
                a.since.clone().unwrap_or_default(),
                a.reason.clone(),
            ]);
        }
        out.push('\n');
        out.push_str(&alarms.to_string());
    }
    if !r.target_groups.is_empty() {
        out.push('\n');
        out.push_str(&health_table(r.target_groups.iter().map(|g| {
            HealthRow {
                load_balancer: &g.load_balancer,
                target_group: &g.name,
                alarm: g
                    .alarm
                    .as_ref()
                    .map(|_| g.alarm_state.as_deref().unwrap_or("missing")),
                targets: g.targets.as_deref(),
                healthy: g.healthy,
            }
        })));
    }
    out.push_str(&alert_time_line(&r.alert_times));
    match &r.slack_app {
        Some(app) => {
            out.push_str(&format!(
                "\nSlack app (threads): token {}; {}",
                r.webhook.describe(),
                app.describe()
            ));
            for note in &app.notes {
                out.push_str(&format!("\n  note: {note}"));
            }
        }
        None if r.webhook.mode == "app" => {
            out.push_str(&format!(
                "\nSlack app (threads): token {}",
                r.webhook.describe()
            ));
        }
        None => out.push_str(&format!("\nwebhook URL: {}", r.webhook.describe())),
    }
    if let Some(u) = &r.undelivered {
        out.push_str(&format!("\nundelivered alerts: {}", u.describe(&r.env)));
    }
    if let Some(s) = &r.settings {
        let mut select: Vec<String> = s.albs.iter().map(|n| format!("--lb {n}")).collect();
        if s.all {
            select.push("--all".to_string());
        }
        select.extend(s.tags.iter().map(|t| format!("--tag {t}")));
        out.push_str(&format!(
            "\nsettings: {} --min-healthy {}{}{} --log-retention-days {}",
            select.join(" "),
            s.min_healthy,
            s.slack_channel
                .as_ref()
                .map(|c| format!(" --slack-channel {c}"))
                .unwrap_or_default(),
            s.email
                .as_ref()
                .map(|e| format!(" --email {e}"))
                .unwrap_or_default(),
            s.log_retention_days
        ));
        if let Some(b) = &s.permissions_boundary {
            out.push_str(&format!(" --permissions-boundary {b}"));
        }
        for m in &s.mentions {
            out.push_str(&format!(" --mention '{m}'"));
        }
        if let Some(url) = &s.runbook {
            out.push_str(&format!(" --runbook {url}"));
        }
    }
    if !r.without_runbook.is_empty() {
        out.push_str(&format!(
            "\nno runbook for {}: tag the target group or its load balancer \
             elb-watch:runbook=https://… (or give the env one: up --runbook URL), then run up",
            r.without_runbook.join(", ")
        ));
    }
    out.push_str(&warning_lines(&r.warnings));
    out.push('\n');
    out.push_str(&r.verdict);
    out
}

pub fn alb_status_table(found: &Discovery, r: &AlbReport) -> String {
    let mut out = discovery_table(found);
    if !r.target_groups.is_empty() {
        out.push('\n');
        out.push_str(&health_table(r.target_groups.iter().map(|g| {
            HealthRow {
                load_balancer: &g.target_group.load_balancer,
                target_group: &g.target_group.name,
                alarm: g
                    .alarm
                    .as_ref()
                    .map(|_| g.alarm_state.as_deref().unwrap_or("unknown")),
                targets: Some(&g.targets),
                healthy: Some(g.healthy),
            }
        })));
    }
    out.push_str(&warning_lines(&r.warnings));
    out
}

/// The maintenance windows: the rules, and what is muted now.
fn mute_lines(m: &crate::report::MuteStatus) -> String {
    let mut out = String::new();
    if !m.rules.is_empty() {
        out.push('\n');
        out.push_str(&super::mute_rules_table(&m.rules));
    }
    if !m.muted_now.is_empty() {
        const SHOWN: usize = 10;
        let mut names: Vec<&str> = m.muted_now.iter().take(SHOWN).map(String::as_str).collect();
        if m.muted_now.len() > SHOWN {
            names.push("…");
        }
        out.push_str(&format!(
            "\nmuted now ({}): {}",
            m.muted_now.len(),
            names.join(", ")
        ));
    }
    for w in &m.windows_without_end {
        out.push_str(&format!(
            "\nwindow {w}: no window-end schedule (drift): what is still in ALARM when it ends \
             would not be announced"
        ));
    }
    if let Some(e) = &m.error {
        out.push_str(&format!("\nmute rules not read: {e}"));
    }
    out
}
