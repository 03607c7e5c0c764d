//! The end of a maintenance window, end to end: the real `bootstrap` under the local Runtime
//! API, invoked as EventBridge Scheduler (or `elb-watch unmute`) invokes it — the
//! `elbWatchWindowEnded` marker, no `Records` — against the AWS emulator (moto behind the
//! strict layer) and the Slack webhook stand-in.
//!
//! Needs `moto_server` (`scripts/emulator.sh setup`, or `ELB_WATCH_MOTO_SERVER`): this test
//! fails, rather than skips, when moto is missing. It takes a little over a minute: moto cannot
//! backdate an alarm's state change, and the notifier counts anything within 60 s before the
//! window's start as "during the window" (`window_end::START_SLACK`), so the alarm that was in
//! ALARM before the window really is set more than 60 s before the window's end.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use common::*;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::Outcome;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::{Value, json};

/// In ALARM since before the window: CloudWatch announced it then.
const BEFORE: &str = "elb-watch/e2e/web-alb/old-tg/HealthyHostCount";
/// Went to ALARM during the window (muted): the one to announce.
const DURING: &str = "elb-watch/e2e/web-alb/web-tg/HealthyHostCount";
/// Back to OK by the window's end.
const RECOVERED: &str = "elb-watch/e2e/web-alb/api-tg/HealthyHostCount";
/// The env's test alarm, set during the window: never announced by this path.
const TEST: &str = "elb-watch/e2e/test";

async fn put_alarm(cw: &cloudwatch::Client, name: &str, tg: &str) {
    use cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    cw.put_metric_alarm()
        .alarm_name(name)
        .alarm_description(format!("web-alb has no healthy targets in {tg}"))
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .dimensions(dim(
            "TargetGroup",
            &format!("targetgroup/{tg}/6d0ecf831eec9f09"),
        ))
        .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .treat_missing_data("breaching")
        .send()
        .await
        .unwrap();
}

fn set_states(emu: &Emulator, alarms: &[&str], state: &str) {
    let alarms: Vec<String> = alarms.iter().map(|a| a.to_string()).collect();
    tokio::task::block_in_place(|| {
        topology::set_alarm_states(
            emu,
            &alarms,
            state,
            "Threshold Crossed: no datapoints were received for 3 periods",
        )
        .unwrap()
    });
}

fn window_ended(window: &str, rules: &[&str], alarms: &[&str], muted_for_s: u64) -> Value {
    json!({"elbWatchWindowEnded": {"window": window, "rules": rules, "alarms": alarms,
                                   "mutedForSeconds": muted_for_s}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_end_announces_once_only_the_alarm_that_fired_during_it() {
    let emu = emulator().await;
    let cw = cloudwatch::Client::new(&sdk(&emu).await);
    for (name, tg) in [
        (BEFORE, "old-tg"),
        (DURING, "web-tg"),
        (RECOVERED, "api-tg"),
        (TEST, "test-tg"),
    ] {
        put_alarm(&cw, name, tg).await;
    }
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let mut vars = emu.aws_env();
    vars.extend(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]));
    let (api, function) = start(vars).await;

    // Before the window: BEFORE fires (and is announced by CloudWatch, not here).
    set_states(&emu, &[BEFORE], "ALARM");

    // A rule that no longer exists (`unmute` or `down` deleted it: that window ended there):
    // nothing to announce from it, not a failure Lambda would retry and queue; the alarms named
    // directly are still checked (DURING is not in ALARM yet: nothing posted).
    let inv = api
        .invoke(
            window_ended("w", &["elb-watch-e2e-no-such-rule"], &[DURING], 60),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"window": "w", "checked": 1, "announced": 0,
                                 "delivered": 0, "skipped": 0})),
        "{}",
        function.logs()
    );
    assert!(
        function.logs().contains("mute rule gone"),
        "{}",
        function.logs()
    );
    assert_eq!(sink.requests(), 0);

    // The window: more than a minute, then DURING and the test alarm fire, RECOVERED fires and
    // recovers, all muted.
    tokio::time::sleep(Duration::from_secs(63)).await;
    set_states(&emu, &[DURING, TEST, RECOVERED], "ALARM");
    set_states(&emu, &[RECOVERED], "OK");

    let window = "deploy-42 <!here>";
    let all = [BEFORE, DURING, RECOVERED, TEST];
    let inv = api
        .invoke(window_ended(window, &[], &all, 1), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"window": window, "checked": 4, "announced": 1,
                                 "delivered": 1, "skipped": 0})),
        "{}",
        function.logs()
    );
    let posted = sink.received();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let text = all_text(&posted[0]);
    let note = "Muted during maintenance window `deploy-42 &lt;!here&gt;`; still in ALARM when \
                it ended";
    assert!(
        posted[0]["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!(":mute: {note}")),
        "{text}"
    );
    assert!(
        blocks(&posted[0])[0].to_string().contains(note),
        "{:?}",
        blocks(&posted[0])
    );
    assert!(text.contains(DURING), "{text}");
    assert!(text.contains("ALARM"), "{text}");
    assert!(!text.contains("<!here>"), "{text}");
    for other in [BEFORE, RECOVERED, TEST] {
        assert!(!text.contains(other), "{other} announced: {text}");
    }
    let logs = function.logs();
    assert!(
        logs.contains("window end: alarms still in ALARM announced"),
        "{logs}"
    );

    // Nothing of the window still in ALARM from a change during it: success, no post.
    let inv = api
        .invoke(window_ended("quiet", &[], &[BEFORE, RECOVERED], 1), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"window": "quiet", "checked": 2, "announced": 0,
                                 "delivered": 0, "skipped": 0})),
        "{}",
        function.logs()
    );
    assert_eq!(sink.received().len(), 1);
    assert!(function.logs().contains("nothing to post"));
    assert_no_secret(&function.logs(), &[&sink.url(), "/services/"]);
}
