//! What an ALARM adds for the people who must act (issue 24), through the real `bootstrap`:
//! the env's mentions (`ELB_WATCH_MENTIONS`) on an ALARM only, the runbook button, and the
//! alarm's tags read from the notification itself (`AlarmTags` / `AlarmTagsStatus`, as
//! CloudWatch sends them when the alarm's `ActionConfiguration.AlarmTagsPropagation` is on:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html>;
//! the shape of `tests/fixtures/sns-alarm-with-tags.json`) instead of ListTagsForResource —
//! counted in the strict layer's recording of the calls it received.
//!
//! The app-mode test needs `moto_server` (`scripts/emulator.sh setup`, or
//! `ELB_WATCH_MOTO_SERVER`): it fails, rather than skips, when it is missing.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use common::*;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use elb_watch_testkit::slack_api::{DEFAULT_TOKEN, SlackApi, Workspace};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::{Value, json};

const ALARM: &str = "elb-watch-e2e-web-tg-HealthyHostCount";
const TAG: &str = "elb-watch:slack-thread";
const CHANNEL: &str = "C0ALERTS";
const RUNBOOK: &str = "https://wiki.example.com/runbooks/web-tg";
const MENTIONS: &str = "<!here> <!subteam^S0123ABC>";

/// The alarm `up` makes for web-tg; its ARN.
async fn put_watched_alarm(emu: &Emulator) -> String {
    use cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    let cw = cloudwatch::Client::new(&sdk(emu).await);
    cw.put_metric_alarm()
        .alarm_name(ALARM)
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .dimensions(dim("TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09"))
        .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .unwrap();
    let out = cw
        .describe_alarms()
        .alarm_names(ALARM)
        .send()
        .await
        .unwrap();
    out.metric_alarms()[0].alarm_arn().unwrap().to_owned()
}

async fn thread_tag(emu: &Emulator, arn: &str) -> Option<String> {
    let out = cloudwatch::Client::new(&sdk(emu).await)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .find(|t| t.key() == Some(TAG))
        .and_then(|t| t.value().map(str::to_owned))
}

/// SetAlarmState in the emulator; the SNS event CloudWatch would publish for it, carrying the
/// alarm's tags as propagation puts them in (the runbook, and the thread tag as it is now:
/// CloudWatch's snapshot at the notification).
async fn change_state(emu: &Emulator, arn: &str, state: &str, reason: &str) -> Value {
    let mut event =
        tokio::task::block_in_place(|| topology::alarm_event(emu, ALARM, state, reason).unwrap());
    let mut tags = vec![
        json!({"Key": "elb-watch:env", "Value": "e2e"}),
        json!({"Key": "elb-watch:runbook", "Value": RUNBOOK}),
    ];
    if let Some(thread) = thread_tag(emu, arn).await {
        tags.push(json!({"Key": TAG, "Value": thread}));
    }
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    message["AlarmTags"] = json!(tags);
    message["AlarmTagsStatus"] = json!("SUCCESS");
    sns["Message"] = json!(message.to_string());
    event
}

/// The calls the strict layer received while `invocation` ran, as `Action` names.
async fn calls_during<F: std::future::Future<Output = ()>>(
    emu: &Emulator,
    invocation: F,
) -> Vec<String> {
    emu.start_recording().unwrap();
    invocation.await;
    emu.stop_recording()
        .unwrap()
        .into_iter()
        .map(|c| c.action)
        .collect()
}

async fn answered(api: &RuntimeApi, function: &FunctionProcess, event: Value, delivered: u32) {
    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": delivered, "skipped": 1 - delivered})),
        "{}",
        function.logs()
    );
}

/// Every block of a stored message version (its attachment's).
fn blocks_of(content: &elb_watch_testkit::slack_api::Content) -> Vec<Value> {
    content
        .attachments
        .clone()
        .and_then(|a| a[0]["blocks"].as_array().cloned())
        .unwrap_or_default()
}

fn runbook_buttons(blocks: &[Value]) -> Vec<String> {
    blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["url"].as_str().map(str::to_owned))
        .collect()
}

/// App mode with tags in the notification: the ALARM opens its thread and its recovery resolves
/// it without one ListTagsForResource, the ALARM carries the tag's runbook; an SNS duplicate of
/// the ALARM (this environment has just handled the alarm, so the notification's snapshot may
/// be stale) reads the tag and is skipped, as today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_in_the_notification_spare_the_tag_read_and_a_duplicate_still_reads_it() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let mut vars = emu.aws_env();
    vars.extend(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("slackChannel", CHANNEL),
        ("ELB_WATCH_ENRICH_TIMEOUT_MS", "8000"),
        ("ELB_WATCH_MENTIONS", MENTIONS),
    ]));
    let (api, function) = start(vars).await;

    // In OK first: a new alarm's INSUFFICIENT_DATA → ALARM is read (its snapshot cannot show
    // what the change before left).
    tokio::task::block_in_place(|| {
        topology::set_alarm_states(&emu, &[ALARM.to_owned()], "OK", "healthy").unwrap()
    });
    let alarm = change_state(&emu, &arn, "ALARM", "Threshold Crossed: no datapoints").await;
    let calls = calls_during(&emu, answered(&api, &function, alarm.clone(), 1)).await;
    assert!(
        !calls.iter().any(|c| c == "ListTagsForResource"),
        "{calls:?}\n{}",
        function.logs()
    );
    assert!(calls.iter().any(|c| c == "TagResource"), "{calls:?}");
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{}", function.logs());
    let ts = parents[0].ts.clone();
    let tag = thread_tag(&emu, &arn).await.unwrap_or_default();
    assert!(tag.starts_with(&format!("{CHANNEL}/{ts}/")), "{tag}");
    let parent = parents[0].current();
    assert_eq!(runbook_buttons(&blocks_of(parent)), [RUNBOOK]);
    let text = parent.text.as_deref().unwrap_or_default();
    assert!(text.starts_with(MENTIONS), "{text}");

    // The same notification again (an SNS duplicate): the tag is read, the event skipped.
    let calls = calls_during(&emu, answered(&api, &function, alarm, 0)).await;
    assert_eq!(
        calls.iter().filter(|c| *c == "ListTagsForResource").count(),
        1,
        "{calls:?}"
    );
    assert_eq!(slack.parents(CHANNEL).len(), 1);

    // Its recovery, once the snapshot holds the ALARM's thread: resolved in place, no read.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let ok = change_state(&emu, &arn, "OK", "Threshold Crossed: 1 datapoint [1.0]").await;
    let calls = calls_during(&emu, answered(&api, &function, ok, 1)).await;
    assert!(
        !calls.iter().any(|c| c == "ListTagsForResource"),
        "{calls:?}\n{}",
        function.logs()
    );
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!(thread.replies.len(), 1, "{}", function.logs());
    let reply = thread.replies[0].current();
    assert!(
        runbook_buttons(&blocks_of(reply)).is_empty(),
        "no runbook on OK"
    );
    let text = reply.text.as_deref().unwrap_or_default();
    assert!(!text.contains("<!"), "no mention on OK: {text}");
    let tag = thread_tag(&emu, &arn).await.unwrap_or_default();
    assert!(tag.starts_with("closed/"), "{tag}");
}

/// Webhook mode: the env's mentions lead an ALARM (its text and first section, unescaped) while
/// the alarm's own `<!here>` stays escaped; its recovery and a test notify no one; the env's
/// default runbook is the ALARM's button (the fixture has no tags).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_go_with_an_alarm_only() {
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
        (
            "ELB_WATCH_MENTIONS",
            &format!("{MENTIONS} <!everyone> bogus"),
        ),
        ("ELB_WATCH_RUNBOOK_URL", RUNBOOK),
    ]))
    .await;
    let with_reason = |name: &str, reason: &str| {
        let mut event = fixture(name);
        let sns = &mut event["Records"][0]["Sns"];
        let mut m: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
        m["NewStateReason"] = json!(reason);
        sns["Message"] = json!(m.to_string());
        event
    };
    for event in [
        with_reason("sns-alarm-healthyhostcount-alarm.json", "<!here> it broke"),
        with_reason("sns-alarm-healthyhostcount-ok.json", "<!here> it is back"),
        with_reason(
            "sns-alarm-healthyhostcount-alarm.json",
            "elb-watch test 7f3a-01: a test alert; no action needed",
        ),
    ] {
        let inv = api.invoke(event, TIMEOUT).await.unwrap();
        assert_eq!(
            inv.outcome,
            Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
            "{}",
            function.logs()
        );
    }
    let received = sink.received();
    assert_eq!(received.len(), 3);
    let (alarm, ok, test) = (&received[0], &received[1], &received[2]);

    let text = alarm["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("{MENTIONS} :rotating_light: ALARM")),
        "{text}"
    );
    assert!(text.contains("&lt;!here&gt; it broke"), "{text}");
    assert_eq!(text.matches("<!here>").count(), 1, "{text}");
    let first = blocks(alarm)
        .into_iter()
        .find(|b| b["type"] == "section")
        .unwrap();
    assert!(
        first["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with(MENTIONS),
        "{first}"
    );
    assert_eq!(runbook_buttons(&blocks(alarm)), [RUNBOOK]);
    assert!(!all_text(alarm).contains("everyone") && !all_text(alarm).contains("bogus"));

    for (what, m) in [("recovery", ok), ("test", test)] {
        let all = format!("{}\n{}", all_text(m), m["attachments"][0]["fallback"]);
        assert!(!all.contains("<!") && !all.contains("<@"), "{what}: {all}");
        assert!(runbook_buttons(&blocks(m)).is_empty(), "{what}: {m:#}");
    }
    assert!(all_text(ok).contains("&lt;!here&gt; it is back"));
    // The invalid tokens were reported at start, without failing anything.
    assert!(
        function
            .wait_for_log("is not a Slack mention", Duration::from_secs(5))
            .await,
        "{}",
        function.logs()
    );
}
