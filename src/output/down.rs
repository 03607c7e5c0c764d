use super::table;
use crate::report::DownReport;

pub fn down_table(r: &DownReport) -> String {
    if r.nothing_to_do && r.skipped.is_empty() {
        return format!(
            "nothing of env {} found in {}: nothing to remove",
            r.env, r.region
        );
    }
    let mut out = String::new();
    if !r.deleted.is_empty() {
        let mut t = table(&["resource", "name", "result", "note"]);
        for d in &r.deleted {
            t.add_row(vec![
                d.kind.clone(),
                d.name.clone(),
                d.result.replace('_', " "),
                d.note.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    for s in &r.skipped {
        out.push_str(&format!(
            "left alone: {} {} ({})\n",
            s.kind, s.name, s.reason
        ));
    }
    let count = |res: &str| r.deleted.iter().filter(|d| d.result == res).count();
    let keys = count("deletion_scheduled");
    let mut verdict = format!("env {} removed: {} deleted", r.env, count("deleted"));
    if count("already_gone") > 0 {
        verdict.push_str(&format!(", {} already gone", count("already_gone")));
    }
    if keys > 0 {
        verdict.push_str(&format!(
            ", {keys} KMS key(s) scheduled for deletion in {} days (the KMS minimum)",
            r.key_pending_window_days
        ));
    }
    if !r.skipped.is_empty() {
        verdict.push_str(&format!(
            "; {} resource(s) with its names left alone (not tagged as its own)",
            r.skipped.len()
        ));
    }
    out.push_str(&format!(
        "{verdict} — {} API calls in {:.1} s",
        r.api_calls.total,
        r.duration_ms as f64 / 1000.0
    ));
    out
}
