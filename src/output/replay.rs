use super::table;
use crate::state::undelivered::{ReplayReport, ReplayResult};

pub fn replay_table(r: &ReplayReport) -> String {
    if r.found == 0 && r.unreadable == 0 {
        return format!(
            "queue {} is empty: every alert of env {} was delivered",
            r.queue, r.env
        );
    }
    let mut t = table(&["first fired", "alarm", "state", "result", "details"]);
    for a in &r.alerts {
        t.add_row(vec![
            a.first_fired_at.clone().unwrap_or_default(),
            a.alarm.clone().unwrap_or_else(|| "(not an alarm)".into()),
            a.state.clone().unwrap_or_default(),
            match (r.dry_run, a.result) {
                (true, _) => "queued".to_string(),
                (false, ReplayResult::Delivered) => "delivered late".to_string(),
                (false, ReplayResult::Failed) => "failed (still queued)".to_string(),
                (false, ReplayResult::Left) => "not tried (still queued)".to_string(),
            },
            a.error.clone().unwrap_or_default(),
        ]);
    }
    let mut out = t.to_string();
    if r.unreadable > 0 {
        out.push_str(&format!(
            "\n{} message(s) on {} are not Lambda invocation records: left alone",
            r.unreadable, r.queue
        ));
    }
    out.push('\n');
    out.push_str(&if r.dry_run {
        format!(
            "dry run: {} undelivered alert(s) on {}, oldest first; nothing was sent or removed",
            r.found, r.queue
        )
    } else if r.failed > 0 {
        format!(
            "{} of {} delivered; the notifier failed, so replay stopped: {} still queued (run \
             `elb-watch --env {} replay` again once Slack accepts posts)",
            r.delivered, r.found, r.left, r.env
        )
    } else {
        format!(
            "{} alert(s) delivered late and removed from {}",
            r.delivered, r.queue
        )
    });
    out
}
