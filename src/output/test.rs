use super::table;
use crate::report::TestReport;
use crate::state::test_alert::Reached;

pub fn test_table(r: &TestReport) -> String {
    let mut t = table(&["hop", "after"]);
    for h in &r.hops {
        t.add_row(vec![
            h.hop.to_string(),
            format!("{:.1} s", h.after_ms as f64 / 1000.0),
        ]);
    }
    let mut out = format!(
        "test {} of env {}: alarm {}\n{t}\n",
        r.test_id, r.env, r.alarm
    );
    out.push_str(&match r.reached {
        Reached::Delivered => {
            "delivered: Slack accepted the test alert (marked TEST — no action needed); the \
             alarm returns to its real state at its next evaluation, and the notifier posts \
             that as the test's recovery"
                .to_string()
        }
        Reached::NotifierFailed => format!(
            "NOT delivered: the notifier ran but {}",
            r.error.as_deref().unwrap_or("could not deliver it")
        ),
        Reached::NotInvoked => format!(
            "NOT delivered: nothing from the notifier within {} s",
            r.waited_s
        ),
    });
    if let Some(fix) = &r.fix {
        out.push_str(&format!("\nwhat to do: {fix}"));
    }
    match r.email {
        Some("pending-confirmation") => out.push_str(
            "\ne-mail: the subscription is still pending confirmation (the address has not \
             clicked the link SNS sent), so it gets nothing yet",
        ),
        Some(_) => out.push_str("\ne-mail: confirmed (tests are not mailed)"),
        None => {}
    }
    out
}
