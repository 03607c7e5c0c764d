//! A test alert through the real path, and the notifier's log where Lambda puts it.
//!
//! `SetAlarmState` with `elb-watch test`'s reason, through the strict layer with its actions
//! run (rule 17): CloudWatch → SNS → the real notifier under the local Runtime API → the Slack
//! sink. The message says TEST before anything else, and the notifier's structured delivery
//! line, with the test's id, is in the function's log group (`/aws/lambda/NAME`) as Lambda
//! sends stdout there (rule 9) — where `elb-watch test` looks for proof of delivery.

mod common;

use common::{aws::sdk, elb_watch, run, run_notifier};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_test_alert_is_posted_as_a_test_and_its_delivery_is_in_the_log_group() {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args([
            "--env", "logs", "--output", "json", "up", "--alb", "web-alb",
        ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    run_notifier(&emu);

    let cfg = sdk(&emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let alarm = common::tg_alarm("logs", "web-alb", "web-tg");
    cw.set_alarm_state()
        .alarm_name(&alarm)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("elb-watch test t-0001: a test alert sent by elb-watch test")
        .send()
        .await
        .unwrap();
    assert!(
        emu.strict()
            .unwrap()
            .wait_for_async_invocations(Duration::from_secs(60))
            .await
    );
    let posted = sink.received();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = posted[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(":test_tube: TEST — no action needed."),
        "{text}"
    );

    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let events = logs
        .filter_log_events()
        .log_group_name("/aws/lambda/elb-watch-logs-notifier")
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    // Every page: the strict layer answers FilterLogEvents in small pages, as AWS may.
    let lines: Vec<Value> = events
        .iter()
        .flat_map(|p| p.events())
        .filter_map(|e| serde_json::from_str(e.message()?).ok())
        .collect();
    let delivered = lines
        .iter()
        .find(|l| l["fields"]["outcome"] == "delivered")
        .unwrap_or_else(|| panic!("no delivery line in the log group: {lines:#?}"));
    assert_eq!(delivered["fields"]["test_id"], "t-0001");
    assert_eq!(delivered["fields"]["alarm"], alarm.as_str());
    assert!(
        events.iter().flat_map(|p| p.events()).all(|e| e
            .log_stream_name()
            .is_some_and(|s| s.contains("/[$LATEST]"))),
        "one stream per execution environment, named as Lambda names it"
    );
    assert!(emu.strict().unwrap().count("function-logs") > 0);
}
