use super::table;
use crate::report::{MuteReport, MuteRuleLine, UnmuteReport};

/// The mute rules as a table (also `status`'s).
pub fn mute_rules_table(rules: &[MuteRuleLine]) -> String {
    let mut t = table(&["mute rule", "window", "state", "schedule", "for", "alarms"]);
    for r in rules {
        let schedule = match &r.timezone {
            Some(tz) => format!("{} {tz}", r.expression),
            None => r.expression.clone(),
        };
        let mut state = r.status.to_ascii_lowercase();
        if !r.missing_tags.is_empty() {
            state.push_str(&format!(" (drift: tags {})", r.missing_tags.join(", ")));
        }
        t.add_row(vec![
            r.name.clone(),
            r.window.clone().unwrap_or_default(),
            state,
            schedule,
            r.duration.clone(),
            r.alarms.to_string(),
        ]);
    }
    t.to_string()
}

pub fn mute_table(r: &MuteReport) -> String {
    let when = match (&r.starts, &r.ends) {
        (Some(s), Some(e)) => format!("from {s} to {e}"),
        _ => format!(
            "at every {}{} for {}",
            r.expression,
            r.timezone
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
            r.duration
        ),
    };
    let mut out = format!(
        "window {} of env {}: {} alarm(s) muted {when}\n{}\n",
        r.window,
        r.env,
        r.alarms,
        mute_rules_table(&r.rules)
    );
    if !r.removed_rules.is_empty() {
        out.push_str(&format!(
            "removed (no longer needed): {}\n",
            r.removed_rules.join(", ")
        ));
    }
    out.push_str(&format!(
        "at the window's end ({} {}), the notifier announces every muted alarm still in ALARM",
        r.end_schedule, r.end_expression
    ));
    out
}

pub fn unmute_table(r: &UnmuteReport) -> String {
    if r.windows.is_empty() {
        return format!("env {} has no maintenance window", r.env);
    }
    let mut out = format!(
        "ended {} of env {}: deleted {} mute rule(s)",
        r.windows.join(", "),
        r.env,
        r.rules_deleted.len()
    );
    if !r.announced_windows.is_empty() {
        out.push_str(&format!(
            "\nthe notifier announces what is still in ALARM from {}",
            r.announced_windows.join(", ")
        ));
    }
    out
}
