use super::{alert_time_line, table, warning_lines};
use crate::apply::announce::Announced;
use crate::report::UpReport;
use crate::state::announce::Silenced;

pub fn up_table(r: &UpReport) -> String {
    let mut t = table(&["resource", "name", "action", "details"]);
    for c in &r.changes {
        t.add_row(vec![
            c.kind.to_string(),
            c.name.clone(),
            if r.dry_run {
                c.action.label().to_string()
            } else {
                c.action.past_tense().to_string()
            },
            {
                // A target group's alarm also says its threshold and worst case to ALARM.
                let mut details = c.reasons.join(", ");
                if let Some(line) = r.alarm_lines.iter().find(|l| l.alarm == c.name) {
                    if !details.is_empty() {
                        details.push_str(" · ");
                    }
                    details.push_str(&line.describe());
                }
                details
            },
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
