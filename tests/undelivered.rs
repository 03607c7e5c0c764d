//! Issue 13's scenario, scaled down to 50 events (the full 1,000: `cargo run --example
//! undelivered_bench`): Slack refuses every post for the whole retry window → Lambda's three
//! attempts fail → every event's record is on the queue → `status` says so (exit 1) →
//! `replay --dry-run` lists them and keeps them → Slack is back → `replay` delivers each once,
//! oldest first, marked late → the queue is empty and `status` exits 0.

#[path = "scenario/undelivered.rs"]
mod scenario;

use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
async fn alerts_slack_refused_are_queued_then_replayed_once_each_marked_late() {
    let bootstrap = scenario::debug_bootstrap().unwrap();
    let r = scenario::run(50, Path::new(env!("CARGO_BIN_EXE_elb-watch")), &bootstrap)
        .await
        .unwrap();
    // Three attempts per event, each refused (the notifier tries once per invocation here).
    assert_eq!(r.refused_posts, 150, "{r:#?}");
    assert_eq!(r.queued, 50, "{r:#?}");
    assert_eq!((r.status_code, r.status_count), (1, 50), "{r:#?}");
    assert_eq!((r.dry_run_listed, r.after_dry_run), (50, 50), "{r:#?}");
    assert_eq!((r.replay_code, r.replayed), (0, 50), "{r:#?}");
    assert_eq!(r.posted, 50, "no duplicates: {r:#?}");
    assert_eq!(r.distinct, 50, "{r:#?}");
    assert_eq!(r.marked_late, 50, "{r:#?}");
    assert!(r.in_order, "oldest first: {r:#?}");
    assert_eq!((r.queued_after, r.status_after), (0, 0), "{r:#?}");
    eprintln!(
        "50 events: failing phase {:?} (queue {}), replay {:?}",
        r.fail_phase, r.queued, r.replay_phase
    );
}
