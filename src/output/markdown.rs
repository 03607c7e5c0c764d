//! `--output markdown`: what a pull-request comment shows — a heading naming the env, a table
//! of what changes (unchanged resources counted, not listed), each target-group alarm with its
//! threshold and worst case to ALARM, the cost, and the warnings. Pure.

use crate::report::{StatusReport, UpReport};
use crate::state::plan::Action;

/// Text in a table cell: `|` would end the cell, a newline the row.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Any text as a fenced code block (commands without a Markdown form of their own).
pub fn fenced(text: &str) -> String {
    format!("```text\n{}\n```", text.trim_end())
}

pub fn up_markdown(r: &UpReport) -> String {
    let verb = if r.dry_run { "plan" } else { "up" };
    let mut out = format!(
        "### elb-watch {verb}: env `{}` ({}, account {})\n\n",
        r.env, r.region, r.account_id
    );
    let changed: Vec<_> = r
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    let unchanged = r.changes.len() - changed.len();
    if changed.is_empty() {
        out.push_str("**No changes.** ");
    } else {
        out.push_str("| resource | name | action | details |\n|---|---|---|---|\n");
        let lines = super::up::alarm_lines_by_name(r);
        for c in &changed {
            out.push_str(&format!(
                "| {} | `{}` | **{}** | {} |\n",
                cell(c.kind),
                cell(&c.name),
                super::up::action_word(r, c),
                cell(&super::up::change_details(c, &lines))
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!("{unchanged} resource(s) unchanged.\n\n"));
    if !r.alarm_lines.is_empty() {
        out.push_str("<details><summary>Target-group alarms: threshold and worst case to ALARM</summary>\n\n");
        out.push_str("| load balancer | target group | threshold | worst case to ALARM |\n|---|---|---|---|\n");
        for l in &r.alarm_lines {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&l.load_balancer),
                cell(&l.target_group),
                cell(&l.threshold),
                l.worst_case_s
                    .map(crate::state::alert_time::duration)
                    .unwrap_or_else(|| "unknown".into())
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str(&format!("**Cost**: {}\n", r.cost.describe()));
    for w in &r.warnings {
        out.push_str(&format!("\n> ⚠️ {}\n", w.message.replace('\n', " ")));
    }
    out
}

pub fn status_markdown(r: &StatusReport) -> String {
    let mut out = format!(
        "### elb-watch status: env `{}` ({}, account {})\n\n**{}**\n\n",
        r.env, r.region, r.account_id, r.verdict
    );
    let off: Vec<_> = r
        .resources
        .iter()
        .filter(|row| !row.state.in_sync())
        .collect();
    if !off.is_empty() {
        out.push_str("| resource | name | state | details |\n|---|---|---|---|\n");
        for row in off {
            out.push_str(&format!(
                "| {} | `{}` | **{}** | {} |\n",
                cell(&row.kind),
                cell(&row.name),
                row.state.label(),
                cell(&row.details.join(", "))
            ));
        }
        out.push('\n');
    }
    let firing: Vec<_> = r.alarms.iter().filter(|a| a.state == "ALARM").collect();
    if !firing.is_empty() {
        out.push_str("**In ALARM**:\n");
        for a in firing {
            out.push_str(&format!(
                "- `{}` since {}\n",
                a.name,
                a.since.as_deref().unwrap_or("?")
            ));
        }
        out.push('\n');
    }
    for w in &r.warnings {
        out.push_str(&format!("> ⚠️ {}\n", w.message.replace('\n', " ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_cannot_end_early_and_a_block_is_fenced() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(fenced("x\n"), "```text\nx\n```");
    }
}
