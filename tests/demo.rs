//! The README's demo flow, non-interactively, so CI keeps it working: both Slack messages arrive
//! with the ALB, the target group, the unhealthy target and its reason; `elb-watch test` posts a
//! TEST message and its TEST recovery; then, in Slack app mode, the incident is one thread.

use elb_watch_testkit::demo::{self, Binaries};
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_shows_alarm_and_recovery_in_slack() {
    let bins = Binaries {
        elb_watch: PathBuf::from(env!("CARGO_BIN_EXE_elb-watch")),
        bootstrap: PathBuf::from(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH")),
    };
    let report = demo::run(&bins).await.unwrap();
    assert_eq!(
        report.slack_messages.len(),
        4,
        "{:#?}",
        report.slack_messages
    );

    let alarm = report.slack_messages[0].to_string();
    for needle in [
        "ALARM",
        "web-alb",
        "web-tg",
        &report.instance,
        "Target.InvalidState",
    ] {
        assert!(
            alarm.contains(needle),
            "ALARM message lacks {needle}: {alarm}"
        );
    }
    assert_eq!(report.slack_messages[0]["channel"], demo::CHANNEL);

    let ok = report.slack_messages[1].to_string();
    for needle in ["OK", "recovered", "web-alb", "web-tg"] {
        assert!(ok.contains(needle), "OK message lacks {needle}: {ok}");
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report.saved_to).unwrap()).unwrap();
    // `elb-watch test`: the test alert and its recovery, both marked.
    let text = |i: usize| {
        report.slack_messages[i]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        text(2).starts_with(":test_tube: TEST — no action needed."),
        "{}",
        text(2)
    );
    assert!(
        text(3).starts_with(":test_tube: TEST recovery"),
        "{}",
        text(3)
    );
    assert_eq!(saved.as_array().unwrap().len(), 4);

    // App mode: the incident is one message in the channel, updated to say it was resolved,
    // with the second ALARM and the recovery in its thread.
    assert_eq!(report.app_parents, 1, "{:#?}", report.thread);
    assert_eq!(report.thread.replies.len(), 2, "{:#?}", report.thread);
    assert!(report.thread.parent.edits() >= 1, "{:#?}", report.thread);
    let now = format!("{:?}", report.thread.parent.current()).to_lowercase();
    assert!(now.contains("resolved"), "{now}");
}
