//! The first ALARM reaches a person (issue 21, part 1). CloudWatch runs an alarm's actions once
//! per state change; an ALARM that fires into a topic nobody listens to is never repeated.
//!
//! - A fresh `up` on a target group that is already empty: through the strict layer with IAM
//!   propagation and function states on, and rule 14 evaluating each new alarm soon after it is
//!   created (rule 15 delivering its notification to the topic's Lambda subscribers), the real
//!   notifier posts the ALARM once. The alarms are put beside the role → key → function →
//!   permission → subscription chain with their actions off and armed after it; an alarm armed
//!   before the subscription exists fires into nothing, one never announced is never heard,
//!   and this test fails either way.
//! - An existing alarm that went to ALARM while the path was broken (its subscription deleted)
//!   is announced by the `up` that repairs the path, once: a second `up` announces nothing.
//! - An existing alarm whose own actions were off while it went to ALARM is announced when
//!   `up` turns them back on.

mod common;

use common::{elb_watch, run, run_notifier};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::time::Duration;

fn alarm(env: &str, tg: &str) -> String {
    common::tg_alarm(env, "web-alb", tg)
}

fn up(emu: &Emulator, env: &str, sink: &SlackSink) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", env, "--output", "json", "up", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

/// Every asynchronous invocation finished, then what Slack received.
async fn slack_after_invocations(emu: &Emulator, sink: &SlackSink) -> Vec<String> {
    assert!(
        emu.strict()
            .unwrap()
            .wait_for_async_invocations(Duration::from_secs(60))
            .await,
        "invocations still running"
    );
    sink.received().iter().map(Value::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_up_on_an_empty_target_group_delivers_its_first_alarm() {
    let emu = Emulator::start_with(StrictConfig {
        first_evaluation: Some(Duration::from_millis(300)),
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &common::empty_tg_spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    run_notifier(&emu);

    emu.start_recording().unwrap();
    let r = up(&emu, "first", &sink);
    let recorded = emu.stop_recording().unwrap();
    // The alarms go in beside the notifier path with their actions off, and are armed only
    // once the path is whole: the first PutMetricAlarm before the subscription, every
    // EnableAlarmActions after it.
    let at = |action: &str| recorded.iter().position(|c| c.action == action);
    let last = |action: &str| recorded.iter().rposition(|c| c.action == action);
    let subscribe = at("Subscribe").expect("a subscription");
    assert!(at("PutMetricAlarm").unwrap() < subscribe, "{recorded:?}");
    assert!(
        at("EnableAlarmActions").unwrap() > subscribe,
        "{recorded:?}"
    );
    assert!(last("PutMetricAlarm").unwrap() < at("EnableAlarmActions").unwrap());
    // The alarms' first evaluations run 300 ms after each was created.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let posted = slack_after_invocations(&emu, &sink).await;

    let stats = emu.strict().unwrap().stats();
    assert_eq!(
        stats.get("sns-delivery:no-subscriber"),
        None,
        "an alarm fired into a topic with no subscriber: {stats:?}"
    );
    assert_eq!(stats.get("alarm-evaluation:ALARM"), Some(&1), "{stats:?}");
    assert_eq!(stats.get("alarm-evaluation:OK"), Some(&1), "{stats:?}");
    // empty-tg's ALARM is posted once; web-tg's first OK (from INSUFFICIENT_DATA) is not.
    assert_eq!(posted.len(), 1, "{posted:#?}");
    for needle in ["ALARM", "empty-tg", "web-alb"] {
        assert!(posted[0].contains(needle), "no {needle} in {}", posted[0]);
    }
    // Who said it: `up`, when the alarm went to ALARM before it was armed (its actions off, so
    // CloudWatch told nobody), or CloudWatch itself, when the evaluation came after — never both.
    let announced = r.json()["announced"].clone();
    match announced.as_array().map(Vec::len) {
        Some(1) => {
            assert_eq!(announced[0]["alarm"], alarm("first", "empty-tg"));
            assert_eq!(announced[0]["why"], "path-incomplete");
            assert!(posted[0].contains("Found in ALARM"), "{}", posted[0]);
        }
        Some(0) => assert!(
            !posted[0].contains("Found in ALARM"),
            "CloudWatch's own notification is not an announcement: {}",
            posted[0]
        ),
        _ => panic!("announced: {announced}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_that_fired_while_the_path_was_broken_is_announced_once() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::empty_tg_spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    up(&emu, "broken", &sink);
    run_notifier(&emu);

    // Someone removes the topic's subscription; then empty-tg goes to ALARM: CloudWatch
    // publishes, nobody listens (the event topology::alarm_event returns is not delivered).
    let sdk = common::aws::sdk(&emu).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = common::aws::topic_arn("broken");
    common::aws::unsubscribe_lambda(&sns, &topic).await;
    topology::alarm_event(
        &emu,
        &alarm("broken", "empty-tg"),
        "ALARM",
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints \
         were treated as [Breaching].",
    )
    .unwrap();

    let r = up(&emu, "broken", &sink);
    let announced = r.json()["announced"].clone();
    assert_eq!(announced.as_array().map(Vec::len), Some(1), "{}", r.stdout);
    assert_eq!(announced[0]["alarm"], alarm("broken", "empty-tg"));
    assert_eq!(announced[0]["why"], "path-incomplete");
    let posted = slack_after_invocations(&emu, &sink).await;
    assert_eq!(posted.len(), 1, "{posted:#?}");
    for needle in ["ALARM", "empty-tg", "missing datapoints", "Found in ALARM"] {
        assert!(posted[0].contains(needle), "no {needle} in {}", posted[0]);
    }

    // The path is whole again: nothing more to announce, nothing posted twice.
    let again = up(&emu, "broken", &sink);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
    assert_eq!(again.json()["announced"], json!([]));
    assert_eq!(slack_after_invocations(&emu, &sink).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_whose_actions_were_off_is_announced_when_they_are_turned_on() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::empty_tg_spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    up(&emu, "muted", &sink);
    run_notifier(&emu);

    let cw = aws_sdk_cloudwatch::Client::new(&common::aws::sdk(&emu).await);
    let name = alarm("muted", "empty-tg");
    cw.disable_alarm_actions()
        .alarm_names(&name)
        .send()
        .await
        .unwrap();
    topology::alarm_event(&emu, &name, "ALARM", "Threshold Crossed: no datapoints").unwrap();
    // web-tg's alarm is in ALARM too, but its actions were on: CloudWatch told the notifier
    // (here: nobody delivered the event topology::alarm_event returned) — not `up`'s to repeat.
    topology::alarm_event(
        &emu,
        &alarm("muted", "web-tg"),
        "ALARM",
        "Threshold Crossed: 2 datapoints",
    )
    .unwrap();

    let r = up(&emu, "muted", &sink);
    let v = r.json();
    assert_eq!(v["announced"].as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(v["announced"][0]["alarm"], name);
    assert_eq!(v["announced"][0]["why"], "actions-off");
    let posted = slack_after_invocations(&emu, &sink).await;
    assert_eq!(posted.len(), 1, "{posted:#?}");
    for needle in ["empty-tg", "Found in ALARM at set-up"] {
        assert!(posted[0].contains(needle), "no {needle} in {}", posted[0]);
    }
}
