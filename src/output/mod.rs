//! Rendering for humans (tables) and machines (JSON), one file per command. Pure: data in,
//! strings out; `print` is the only place that writes to stdout.

mod discovery;
mod down;
pub mod markdown;
mod mute;
mod replay;
mod status;
mod test;
mod up;

pub use discovery::discovery_table;
pub use down::down_table;
pub use mute::{mute_rules_table, mute_table, unmute_table};
pub use replay::replay_table;
pub use status::{alb_status_table, status_table};
pub use test::test_table;
pub use up::up_table;

use crate::cli::OutputFormat;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// Print `value` as JSON, or `table` as text, on stdout (Markdown: the table in a code block).
pub fn print<T: Serialize>(format: OutputFormat, value: &T, table: String) -> anyhow::Result<()> {
    print_as(format, value, table.clone(), markdown::fenced(&table))
}

/// Print `value` as JSON, `table` as text or `markdown`, on stdout.
pub fn print_as<T: Serialize>(
    format: OutputFormat,
    value: &T,
    table: String,
    markdown: String,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Table => println!("{table}"),
        OutputFormat::Markdown => println!("{markdown}"),
    }
    Ok(())
}

/// `up`'s (and `plan`'s) report in the chosen format.
pub fn print_up(format: OutputFormat, report: &crate::report::UpReport) -> anyhow::Result<()> {
    print_as(
        format,
        report,
        up_table(report),
        markdown::up_markdown(report),
    )
}

/// One `warning: …` line per warning (empty when there are none).
pub fn warning_lines(warnings: &[crate::state::warnings::Warning]) -> String {
    warnings
        .iter()
        .map(|w| format!("\nwarning: {}", w.message))
        .collect()
}

/// `\ntime to alert: …` — the slowest watched target group's worst case and how many are over
/// the limit (empty when no health check is known).
pub fn alert_time_line(times: &[crate::state::alert_time::AlertTime]) -> String {
    use crate::state::alert_time::{LIMIT_S, duration};
    let Some(slowest) = times.iter().max_by_key(|t| t.worst_case_s) else {
        return String::new();
    };
    let over = times.iter().filter(|t| t.slow).count();
    format!(
        "\ntime from a failing target to ALARM: at most {} ({} behind {}); {over} of {} over {}",
        duration(slowest.worst_case_s),
        slowest.target_group,
        slowest.load_balancer,
        times.len(),
        duration(LIMIT_S)
    )
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}
