use super::{alert_time_line, table, warning_lines};
use crate::apply::announce::Announced;
use crate::report::UpReport;
use crate::report::up::AlarmLine;
use crate::state::announce::Silenced;
use crate::state::plan::Change;
use std::collections::HashMap;

/// The alarm line of each target group's alarm, by alarm name (looked up once per change).
pub(super) fn alarm_lines_by_name(r: &UpReport) -> HashMap<&str, &AlarmLine> {
    r.alarm_lines
        .iter()
        .map(|l| (l.alarm.as_str(), l))
        .collect()
}

/// What a change's row says: why it changes and, for a target group's alarm, its threshold and
/// worst case to ALARM.
pub(super) fn change_details(c: &Change, lines: &HashMap<&str, &AlarmLine>) -> String {
    let mut details = c.reasons.join(", ");
    if let Some(line) = lines.get(c.name.as_str()) {
        if !details.is_empty() {
            details.push_str(" · ");
        }
        details.push_str(&line.describe());
    }
    details
}

/// `create` in a plan, `created` once done.
pub(super) fn action_word(r: &UpReport, c: &Change) -> &'static str {
    if r.dry_run {
        c.action.label()
    } else {
        c.action.past_tense()
    }
}

pub fn up_table(r: &UpReport) -> String {
    let lines = alarm_lines_by_name(r);
    let mut t = table(&["resource", "name", "action", "details"]);
    for c in &r.changes {
        t.add_row(vec![
            c.kind.to_string(),
            c.name.clone(),
            action_word(r, c).to_string(),
            change_details(c, &lines),
        ]);
    }
    let verdict = match (r.dry_run, r.in_sync) {
        (_, true) => "everything is in place; nothing changed".to_string(),
        (true, false) => "dry run: nothing was changed".to_string(),
        (false, false) => format!("env {} is up to date", r.env),
    };
    format!(
        "{t}\n{}{}{}{}\n{verdict} — {} API calls ({} mutating) in {:.1} s",
        r.cost.describe(),
        alert_time_line(&r.alert_times),
        warning_lines(&r.warnings),
        announced_lines(&r.announced),
        r.api_calls.total,
        r.api_calls.mutating,
        r.duration_ms as f64 / 1000.0
    )
}

/// One line per alarm `up` announced itself.
fn announced_lines(announced: &[Announced]) -> String {
    announced
        .iter()
        .map(|a| {
            format!(
                "\nannounced: {} has been in ALARM since {} ({}); CloudWatch sends a state \
                 change once, so up published it to the topic",
                a.alarm,
                a.since.as_deref().unwrap_or("an unknown time"),
                match a.why {
                    Silenced::PathIncomplete => "its path to the notifier was incomplete",
                    Silenced::ActionsOff => "its actions were off",
                }
            )
        })
        .collect()
}
