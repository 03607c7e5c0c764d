//! End to end: the real `bootstrap` binary, driven through the local Lambda Runtime API,
//! posting to the local Slack sink. No AWS: `AWS_ENDPOINT_URL` points at a closed port, so
//! enrichment fails fast (the "DescribeTargetHealth failed -> still sent" path).

mod common;

use std::time::Duration;

use common::*;
use elb_watch_testkit::runtime_api::Outcome;
use elb_watch_testkit::slack_sink::{Behaviour, Reply, SlackSink};
use serde_json::json;

const TOKEN: &str = "XXXXXXXXXXXXXXXXXXXXXXXX";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_webhook_alarm_fixture_delivers_one_message_with_alb_and_tg() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("slackChannel", "#alerts"),
    ]))
    .await;

    let inv = api
        .invoke(fixture("sns-alarm-healthyhostcount-alarm.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
        "{}",
        function.logs()
    );
    let logs = function.logs();

    let received = sink.received();
    assert_eq!(received.len(), 1, "exactly one message");
    assert_eq!(sink.requests(), 1);
    let m = &received[0];
    assert_eq!(m["channel"], "#alerts");
    assert_eq!(m["attachments"][0]["color"], "danger");
    let text = all_text(m);
    assert!(
        text.contains("*Application Load Balancer*\nweb-alb"),
        "{text}"
    );
    assert!(text.contains("*Target group*\nweb-tg"), "{text}");
    assert!(text.contains(":rotating_light: ALARM: elb-watch-prod-web-tg-HealthyHostCount"));
    // DescribeTargetHealth could not be reached: the alert went out anyway, with a note.
    assert!(text.contains("Target health unavailable"), "{text}");

    // The log reader may not have the line yet when the response is in: wait for it.
    assert!(
        function
            .wait_for_log("DescribeTargetHealth failed", Duration::from_secs(5))
            .await,
        "{}",
        function.logs()
    );
    let delivered = function
        .json_log_where(
            |l| l["fields"]["outcome"] == "delivered",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("no structured delivery log:\n{logs}"));
    assert_eq!(
        delivered["fields"]["alarm"],
        "elb-watch-prod-web-tg-HealthyHostCount"
    );
    assert_eq!(delivered["fields"]["state"], "ALARM");
    assert_eq!(delivered["fields"]["attempts"], 1);
    assert_eq!(delivered["level"], "INFO");
    assert_no_secret(&logs, &[&sink.url(), TOKEN, "/services/"]);
    assert!(function.peak_rss_kib().unwrap_or(0) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_and_a_multi_record_event_are_delivered_by_one_warm_process() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;
    let names = [
        ("sns-alarm-healthyhostcount-alarm.json", "ALARM"),
        ("sns-alarm-healthyhostcount-ok.json", "OK (recovered)"),
        ("sns-alarm-insufficient-data.json", "INSUFFICIENT_DATA"),
        ("sns-alarm-metric-math.json", "ALARM"),
        (
            "sns-plain-text-message.json",
            "SNS message (not a CloudWatch alarm)",
        ),
    ];
    for (name, _) in names {
        let inv = api.invoke(fixture(name), TIMEOUT).await.unwrap();
        assert!(
            inv.outcome.is_response(),
            "{name}: {:?}\n{}",
            inv.outcome,
            function.logs()
        );
    }
    let received = sink.received();
    assert_eq!(received.len(), names.len());
    for ((name, label), m) in names.iter().zip(&received) {
        assert!(
            m["text"].as_str().unwrap().contains(label),
            "{name}: {}",
            m["text"]
        );
        assert!(
            !all_text(m).contains("Target health unavailable"),
            "enrichment is off"
        );
    }

    // Several records in one event: each one is posted (not only the first).
    let event = sns_event(&["first plain message".into(), "second plain message".into()]);
    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 2, "delivered": 2, "skipped": 0}))
    );
    let received = sink.received();
    assert_eq!(received.len(), names.len() + 2);
    assert!(all_text(&received[5]).contains("first plain message"));
    assert!(all_text(&received[6]).contains("second plain message"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_429_then_500_then_200_delivers_exactly_one_message() {
    let sink = SlackSink::start(Behaviour::Sequence(vec![
        Reply::TooMany { retry_after_s: 1 },
        Reply::Status(500),
    ]))
    .await
    .unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;
    let inv = api
        .invoke(fixture("sns-alarm-healthyhostcount-ok.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    assert_eq!(sink.requests(), 3);
    assert_eq!(sink.received().len(), 1, "exactly one message delivered");
    let log = sink.log();
    assert!(
        log[1].at.duration_since(log[0].at) >= Duration::from_millis(990),
        "Retry-After: 1 not honoured"
    );
    let delivered = function
        .json_log_where(
            |l| l["fields"]["outcome"] == "delivered",
            Duration::from_secs(5),
        )
        .await
        .expect("delivery log");
    assert_eq!(delivered["fields"]["attempts"], 3);
    let retries = function
        .json_logs()
        .into_iter()
        .filter(|l| l["level"] == "WARN")
        .count();
    assert_eq!(retries, 2, "{}", function.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_always_failing_sink_makes_the_invocation_fail_and_the_process_keeps_serving() {
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(500)))
        .await
        .unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
        ("ELB_WATCH_MAX_ATTEMPTS", "3"),
    ]))
    .await;
    let inv = api
        .invoke(fixture("sns-alarm-healthyhostcount-alarm.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(inv.outcome.is_error(), "{:?}", inv.outcome);
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.DeliveryFailed"));
    let msg = inv.outcome.error_message().unwrap();
    assert!(
        msg.contains("1 of 1 record(s) not delivered") && msg.contains("HTTP 500"),
        "{msg}"
    );
    assert_eq!(sink.requests(), 3);
    assert!(sink.received().is_empty());
    assert_no_secret(&function.logs(), &[&sink.url(), TOKEN]);
    assert_no_secret(msg, &[&sink.url(), TOKEN]);

    // Same process, sink healthy again: the next invocation succeeds.
    sink.set_behaviour(Behaviour::AlwaysOk);
    let inv = api
        .invoke(fixture("sns-alarm-healthyhostcount-alarm.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_record_of_two_fails_the_invocation_after_trying_both() {
    // First record's POST is rejected for good (400), the second is delivered.
    let sink = SlackSink::start(Behaviour::Sequence(vec![Reply::Status(400)]))
        .await
        .unwrap();
    let (api, _function) = start(env(&[("SLACK_WEBHOOK_URL", &sink.url())])).await;
    let inv = api
        .invoke(sns_event(&["one".into(), "two".into()]), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.DeliveryFailed"));
    assert!(
        inv.outcome
            .error_message()
            .unwrap()
            .starts_with("1 of 2 record(s)")
    );
    assert_eq!(
        sink.requests(),
        2,
        "a 400 is not retried; the other record is still sent"
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_gives_up_before_the_lambda_deadline() {
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(503)))
        .await
        .unwrap();
    let (api, _function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
        ("ELB_WATCH_MAX_ATTEMPTS", "1000"),
    ]))
    .await;
    api.wait_ready(TIMEOUT).await.unwrap();
    let inv = api
        .invoke(
            fixture("sns-plain-text-message.json"),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    // An error reported by the function itself, not a harness timeout, and in time.
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.DeliveryFailed"));
    assert!(inv.duration < Duration::from_secs(2), "{:?}", inv.duration);
    assert!(sink.requests() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_configuration_is_a_clear_error_on_every_invocation() {
    let (api, mut function) = start(vec![]).await;
    for _ in 0..2 {
        let inv = api
            .invoke(fixture("sns-alarm-healthyhostcount-alarm.json"), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(inv.outcome.error_type(), Some("ElbWatch.ConfigError"));
        let msg = inv.outcome.error_message().unwrap();
        assert!(
            msg.contains("kmsEncryptedHookUrl") && msg.contains("SLACK_WEBHOOK_URL"),
            "{msg}"
        );
    }
    assert!(function.is_running(), "no crash loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_webhook_url_and_non_sns_event() {
    let (api, _f) = start(env(&[(
        "SLACK_WEBHOOK_URL",
        "ftp://hooks.example/services/SECRET",
    )]))
    .await;
    let inv = api
        .invoke(fixture("sns-plain-text-message.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.ConfigError"));
    assert!(!inv.outcome.error_message().unwrap().contains("SECRET"));

    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, _f) = start(env(&[("SLACK_WEBHOOK_URL", &sink.url())])).await;
    let inv = api
        .invoke(json!({"detail-type": "not sns"}), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.InvalidEvent"));
    assert!(sink.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_alarm_is_escaped_in_the_posted_payload() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, _f) = start(env(&[("SLACK_WEBHOOK_URL", &sink.url())])).await;
    let alarm = json!({
        "AlarmName": "x", "NewStateValue": "ALARM",
        "AlarmDescription": format!("<!channel> <https://evil.example|click> {}", "長".repeat(20_000)),
    });
    let inv = api
        .invoke(sns_event(&[alarm.to_string()]), TIMEOUT)
        .await
        .unwrap();
    assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    let m = &sink.received()[0];
    let text = all_text(m);
    assert!(
        !text.contains("<!channel>") && !text.contains("<https://evil"),
        "{text}"
    );
    assert!(text.contains("&lt;!channel&gt; &lt;https://evil.example|click&gt;"));
    assert!(blocks(m).iter().all(|b| {
        b["text"]["text"]
            .as_str()
            .is_none_or(|t| t.chars().count() <= 3000)
    }));
}

/// The real OK fixture (ALARM → OK) with `OldStateValue` replaced: what a brand-new alarm sends
/// when it first evaluates to OK (INSUFFICIENT_DATA → OK).
fn ok_event_from(old_state: &str) -> serde_json::Value {
    let mut event = fixture("sns-alarm-healthyhostcount-ok.json");
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: serde_json::Value =
        serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["OldStateValue"], "ALARM", "fixture changed");
    message["OldStateValue"] = json!(old_state);
    sns["Message"] = json!(message.to_string());
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_is_posted_after_alarm_only_never_after_insufficient_data() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;

    // A new alarm's first evaluation: INSUFFICIENT_DATA → OK. Logged, not posted.
    let inv = api
        .invoke(ok_event_from("INSUFFICIENT_DATA"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 0, "skipped": 1})),
        "{}",
        function.logs()
    );
    assert_eq!(sink.requests(), 0, "a false recovery was posted");
    let skipped = function
        .json_log_where(
            |l| l["fields"]["outcome"] == "skipped",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("the skip is not logged:\n{}", function.logs()));
    assert_eq!(skipped["fields"]["old_state"], "INSUFFICIENT_DATA");
    assert_eq!(skipped["fields"]["state"], "OK");

    // The real recovery (ALARM → OK, the fixture as AWS sent it) is posted.
    let inv = api
        .invoke(fixture("sns-alarm-healthyhostcount-ok.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0}))
    );
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]["text"]
            .as_str()
            .unwrap()
            .contains("OK (recovered)")
    );

    // ALARM → INSUFFICIENT_DATA and OK → INSUFFICIENT_DATA (the real fixture) are still said.
    let inv = api
        .invoke(fixture("sns-alarm-insufficient-data.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    assert_eq!(sink.received().len(), 2);
}

/// What `elb-watch test` sends: the real ALARM fixture with the reason `SetAlarmState` was
/// given. The message says TEST before anything else, and the delivery's log line carries the
/// test's id, which `elb-watch test` finds in the log group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_alert_is_posted_as_a_test_and_logged_with_its_id() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;
    let mut event = fixture("sns-alarm-healthyhostcount-alarm.json");
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: serde_json::Value =
        serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    message["NewStateReason"] =
        json!("elb-watch test 20261203-abc1: a test alert sent by elb-watch test");
    sns["Message"] = json!(message.to_string());

    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
        "{}",
        function.logs()
    );
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let text = received[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(":test_tube: TEST — no action needed."),
        "{text}"
    );
    let delivered = function
        .json_log_where(
            |l| l["fields"]["outcome"] == "delivered",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("no structured delivery log:\n{}", function.logs()));
    assert_eq!(delivered["fields"]["test"], true);
    assert_eq!(delivered["fields"]["test_id"], "20261203-abc1");
}
