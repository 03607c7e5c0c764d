//! Rendering for humans (tables) and machines (JSON). Pure: strings in, strings out.

use crate::cli::OutputFormat;
use crate::commands::up::UpReport;
use crate::discovery::Discovery;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// Print `value` as JSON, or `table` as text, on stdout.
pub fn print<T: Serialize>(format: OutputFormat, value: &T, table: String) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Table => println!("{table}"),
    }
    Ok(())
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

pub fn discovery_table(d: &Discovery) -> String {
    let mut t = table(&["load balancer", "target group", "protocol", "port", "type"]);
    for tg in &d.target_groups {
        t.add_row(vec![
            tg.load_balancer.clone(),
            tg.name.clone(),
            tg.protocol.clone(),
            tg.port.map(|p| p.to_string()).unwrap_or_default(),
            tg.target_type.clone(),
        ]);
    }
    let lonely: Vec<&str> = d
        .load_balancers
        .iter()
        .filter(|lb| !d.target_groups.iter().any(|tg| tg.load_balancer == lb.name))
        .map(|lb| lb.name.as_str())
        .collect();
    let mut out = t.to_string();
    if !lonely.is_empty() {
        out.push_str(&format!(
            "\nno target groups behind: {} (no listener forwards anywhere)",
            lonely.join(", ")
        ));
    }
    out
}

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
            c.reasons.join(", "),
        ]);
    }
    let verdict = match (r.dry_run, r.in_sync) {
        (_, true) => "everything is in place; nothing changed".to_string(),
        (true, false) => "dry run: nothing was changed".to_string(),
        (false, false) => format!("env {} is up to date", r.env),
    };
    format!(
        "{t}\n{verdict} — {} API calls ({} mutating) in {:.1} s",
        r.api_calls.total,
        r.api_calls.mutating,
        r.duration_ms as f64 / 1000.0
    )
}
