//! `scripts/check-glibc.sh` on the built binary, and the cold-then-warm life of one process.

mod common;

use std::process::Command;

use common::*;
use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};

fn check_glibc(max: &str) -> (i32, String) {
    let script = elb_watch_testkit::repo_root().join("scripts/check-glibc.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(bootstrap())
        .arg(max)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn bootstrap_needs_no_glibc_newer_than_provided_al2023() {
    let (code, text) = check_glibc("2.34");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("needs GLIBC_2."), "{text}");
    // The check can fail: against an ancient glibc it must.
    let (code, text) = check_glibc("2.2.5");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL"), "{text}");
}

/// Lambda's cold start: the event is queued before the process exists, so the first `/next`
/// answers at once and the webhook set up during init is used by the very first invocation;
/// then the same process serves warm invocations. How *fast* this is, is measured by
/// `examples/notifier_bench.rs` (a benchmark, not a timed assertion); this test checks the
/// sequence those figures rely on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_queued_before_spawn_is_delivered_then_the_process_serves_warm_invocations() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let event = fixture("sns-alarm-healthyhostcount-ok.json");
    let first = api.submit(event.clone(), TIMEOUT);
    let mut function = FunctionProcess::spawn(
        bootstrap(),
        &api,
        &env(&[
            ("SLACK_WEBHOOK_URL", &sink.url()),
            ("ELB_WATCH_ENRICH", "off"),
        ]),
    )
    .unwrap();
    let inv = first.wait().await.unwrap();
    assert!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    // spawn <= first poll <= dispatch <= POST at the sink <= outcome: the benchmark's cold
    // start (spawn -> first POST) is a span of this one process's first invocation.
    let polled = api.first_poll_at().unwrap();
    let posted = sink.first_request_at().unwrap();
    assert!(
        function.started_at() <= polled,
        "polled before it was spawned?"
    );
    assert!(polled <= inv.dispatched_at && inv.dispatched_at <= posted);
    assert!(posted <= inv.finished_at);
    assert_eq!(sink.requests(), 1);

    for _ in 0..20 {
        let inv = api.invoke(event.clone(), TIMEOUT).await.unwrap();
        assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    }
    assert_eq!(sink.received().len(), 21);
    assert_eq!(sink.requests(), 21, "no retry was needed");
    assert!(function.is_running(), "one process served all 21");
    assert!(function.peak_rss_kib().is_some_and(|kib| kib > 0));
}
