//! Reliability under a faulty webhook (issue 7): 200 tagged alarm events of every kind through
//! 10 `bootstrap` processes into a sink that answers ~30% of requests with 429 + Retry-After,
//! 500, or a hang past the client timeout. The same procedure, on 1,000 events, gives the
//! figures of `examples/notifier_faults.rs` (`elb_watch_testkit::fault_run`).

mod common;

use common::bootstrap;
use elb_watch_testkit::fault_run::{Scenario, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_delivered_or_returned_as_an_error_never_dropped_never_duplicated() {
    let report = run(bootstrap(), &Scenario::faults(200, 42)).await.unwrap();
    eprintln!("{report}");

    // The run exercised every kind of fault (else it proves nothing about them).
    assert!(report.replies_429 > 0, "{report}");
    assert!(report.replies_5xx > 0, "{report}");
    assert!(report.replies_hang > 0, "{report}");
    assert_eq!(report.replies_other, 0, "{report}");
    assert_eq!(report.untagged_posts, 0, "{report}");

    let first = &report.first;
    // Every event was either posted or reported as failed to Lambda (which retries it).
    assert_eq!(first.silently_dropped, 0, "{report}");
    assert_eq!(first.timed_out, 0, "answered before its deadline: {report}");
    assert_eq!(
        first.delivered + first.failed - first.delivered_but_failed,
        report.events,
        "{report}"
    );
    // The sink never accepts a request the notifier gave up on, so a failed event was not
    // posted, and a succeeded one was posted exactly once.
    assert_eq!(first.delivered_but_failed, 0, "{report}");
    assert_eq!(first.duplicates_of_succeeded, 0, "{report}");
    assert_eq!(first.duplicates, 0, "{report}");

    // Lambda's retries: same guarantees, over both rounds.
    let after = report.after_retries.as_ref().unwrap();
    assert_eq!(after.silently_dropped, 0, "{report}");
    assert_eq!(after.duplicates, 0, "{report}");
    assert_eq!(
        after.delivered + report.dead_lettered,
        report.events,
        "{report}"
    );
    assert_eq!(report.crashed_processes, 0, "{report}");
}
