//! Slack app mode end to end: the real `bootstrap` under the local Runtime API, the Slack Web
//! API stand-in (`SLACK_API_URL`) and the AWS emulator (moto behind the strict layer), where a
//! real load-balancer alarm keeps its incident's state in its `elb-watch:slack-thread` tag
//! (`<channel>/<ts>/<ms>` while open, `closed/<ms>` after its recovery).
//! The SNS events are what CloudWatch publishes for the alarm's real state changes
//! (`topology::alarm_event`, shaped like `tests/fixtures/`).
//!
//! Needs `moto_server` (`scripts/emulator.sh setup`, or `ELB_WATCH_MOTO_SERVER`): these tests
//! fail, rather than skip, when it is missing.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use aws_sdk_kms as kms;
use base64::Engine;
use common::*;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{FUNCTION_NAME, FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_api::{Channel, DEFAULT_TOKEN, Fault, Scope, SlackApi, Workspace};
use elb_watch_testkit::topology;
use serde_json::{Value, json};

const ALARM: &str = "elb-watch-e2e-web-tg-HealthyHostCount";
const TAG: &str = "elb-watch:slack-thread";
const CHANNEL: &str = "C0ALERTS";

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

/// The alarm's thread tag, as the emulator has it.
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

/// Asserts the tag says the incident is open in `channel`/`ts` (with a time).
async fn assert_open_in(emu: &Emulator, arn: &str, channel: &str, ts: &str, logs: &str) {
    let tag = thread_tag(emu, arn).await.unwrap_or_default();
    let prefix = format!("{channel}/{ts}/");
    assert!(
        tag.starts_with(&prefix) && tag[prefix.len()..].parse::<i64>().is_ok(),
        "tag {tag:?}, expected {prefix}<ms>\n{logs}"
    );
}

/// Asserts the tag says the last incident was closed (with a time), returns the tag.
async fn assert_closed(emu: &Emulator, arn: &str, logs: &str) -> String {
    let tag = thread_tag(emu, arn).await.unwrap_or_default();
    assert!(
        tag.strip_prefix("closed/")
            .is_some_and(|ms| ms.parse::<i64>().is_ok()),
        "tag {tag:?}, expected closed/<ms>\n{logs}"
    );
    tag
}

async fn set_thread_tag(emu: &Emulator, arn: &str, value: &str) {
    cloudwatch::Client::new(&sdk(emu).await)
        .tag_resource()
        .resource_arn(arn)
        .tags(
            cloudwatch::types::Tag::builder()
                .key(TAG)
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// SetAlarmState in the emulator; the SNS event CloudWatch would publish for it.
fn change_state(emu: &Emulator, state: &str, reason: &str) -> Value {
    tokio::task::block_in_place(|| topology::alarm_event(emu, ALARM, state, reason).unwrap())
}

fn fired(emu: &Emulator) -> Value {
    change_state(
        emu,
        "ALARM",
        "Threshold Crossed: no datapoints were received",
    )
}

fn recovered(emu: &Emulator) -> Value {
    change_state(
        emu,
        "OK",
        "Threshold Crossed: 1 datapoint [1.0] was not less than 1.0",
    )
}

/// The function in app mode against `slack`, the emulator for AWS.
async fn start_app(
    emu: &Emulator,
    slack: &SlackApi,
    extra: &[(&str, &str)],
) -> (RuntimeApi, FunctionProcess) {
    let mut vars = emu.aws_env();
    vars.extend(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("slackChannel", CHANNEL),
        // About threads, not time: a history read on a loaded machine may be slow.
        ("ELB_WATCH_ENRICH_TIMEOUT_MS", "8000"),
    ]));
    vars.extend(env(extra));
    start(vars).await
}

/// Invokes the function with `event`; asserts it answered `{records: 1, delivered, skipped}`.
async fn answered(api: &RuntimeApi, function: &FunctionProcess, event: Value, delivered: u32) {
    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        elb_watch_testkit::runtime_api::Outcome::Response(
            json!({"records": 1, "delivered": delivered, "skipped": 1 - delivered})
        ),
        "{}",
        function.logs()
    );
}

async fn delivered(api: &RuntimeApi, function: &FunctionProcess, event: Value) {
    answered(api, function, event, 1).await;
}

/// Not posted (a duplicate): `{records: 1, delivered: 0, skipped: 1}`.
async fn skipped(api: &RuntimeApi, function: &FunctionProcess, event: Value) {
    answered(api, function, event, 0).await;
}

/// Every text of a stored message version (text, attachment blocks), for "says X" checks.
fn says(content: &elb_watch_testkit::slack_api::Content) -> String {
    all_text(&json!({
        "text": content.text,
        "attachments": content.attachments.clone().unwrap_or(json!([])),
    }))
}

fn assert_no_token(function: &FunctionProcess, also: &[&str]) {
    let mut secrets = vec![DEFAULT_TOKEN, "xoxb-"];
    secrets.extend_from_slice(also);
    assert_no_secret(&function.logs(), &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarm_then_ok_is_one_thread_resolved_in_place_and_the_tag_says_closed() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    let alarm = fired(&emu);
    delivered(&api, &function, alarm).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{}", function.logs());
    let ts = parents[0].ts.clone();
    assert_open_in(&emu, &arn, CHANNEL, &ts, &function.logs()).await;
    assert!(parents[0].text().contains("ALARM"), "{}", parents[0].text());

    tokio::time::sleep(Duration::from_millis(1200)).await;
    delivered(&api, &function, recovered(&emu)).await;

    // One thread: the parent now says resolved (and how long), the OK is the reply.
    assert_eq!(slack.parents(CHANNEL).len(), 1, "{}", function.logs());
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert!(thread.parent.edits() >= 1);
    let now = thread.parent.current();
    let text = says(now);
    assert!(
        text.contains("Resolved: elb-watch-e2e-web-tg-HealthyHostCount"),
        "{text}"
    );
    assert!(
        text.contains("— down for ") && text.contains(" s, since "),
        "{text}"
    );
    assert!(
        text.contains("View alarm in the CloudWatch console"),
        "{text}"
    );
    // The red ALARM look is gone: new attachments, no old blocks kept.
    assert_eq!(now.attachments.as_ref().unwrap()[0]["color"], "good");
    assert_eq!(now.blocks, Some(json!([])));
    assert!(!text.contains(":rotating_light:"), "{text}");
    assert_eq!(thread.replies.len(), 1);
    assert!(
        says(thread.replies[0].current()).contains("OK (recovered)"),
        "{}",
        thread.replies[0].text()
    );
    assert!(slack.orphans().is_empty());
    // The parent was updated before the reply was posted.
    let calls = slack.calls();
    let update = calls
        .iter()
        .position(|c| c.method == "chat.update")
        .unwrap();
    let reply = calls
        .iter()
        .position(|c| c.method == "chat.postMessage" && c.args.contains_key("thread_ts"))
        .unwrap();
    assert!(update < reply);
    // Every call: JSON with charset, the bot token as a bearer.
    for c in &calls {
        assert_eq!(
            c.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(c.token.as_deref(), Some(DEFAULT_TOKEN));
        assert!(c.answer.body.get("warning").is_none(), "{:?}", c.answer);
    }
    assert_closed(&emu, &arn, &function.logs()).await;
    assert!(
        function.logs().contains(r#""mode":"slack-app""#),
        "{}",
        function.logs()
    );
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_alarms_before_an_ok_share_one_thread() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    delivered(&api, &function, fired(&emu)).await;
    let ts = slack.parents(CHANNEL)[0].ts.clone();
    delivered(&api, &function, fired(&emu)).await;
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!(thread.parent.edits(), 1);
    let again = says(thread.parent.current());
    assert!(again.contains("Fired again at "), "{again}");
    assert!(again.contains("updates in the thread"), "{again}");
    assert_eq!(thread.replies.len(), 1);
    assert!(says(thread.replies[0].current()).contains("ALARM"));
    // The new ALARM is broadcast to the channel: a thread reply alone notifies no one.
    assert!(thread.replies[0].broadcast, "{}", function.logs());
    assert_open_in(&emu, &arn, CHANNEL, &ts, &function.logs()).await;

    delivered(&api, &function, recovered(&emu)).await;
    assert_eq!(slack.parents(CHANNEL).len(), 1, "{}", function.logs());
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!(thread.parent.edits(), 2);
    assert!(says(thread.parent.current()).contains("Resolved: "));
    let replies: Vec<String> = thread.replies.iter().map(|m| says(m.current())).collect();
    assert_eq!(replies.len(), 2);
    assert!(replies[0].contains("ALARM") && replies[1].contains("OK (recovered)"));
    // The recovery is a reply only: the parent turned green says it in the channel.
    assert!(!thread.replies[1].broadcast);
    assert_closed(&emu, &arn, &function.logs()).await;

    // The next incident opens a new thread.
    delivered(&api, &function, fired(&emu)).await;
    assert_eq!(slack.parents(CHANNEL).len(), 2);
    assert!(slack.orphans().is_empty());
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_refusals_fail_the_invocation_with_one_hint_line_and_no_token() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let alarm = fired(&emu);
    let wrong = "xoxb-9999-8888-notatokenweknow";
    for (code, fix) in [
        ("channel_not_found", "--slack-channel"),
        ("not_in_channel", "/invite @app"),
        ("invalid_auth", "not valid"),
        ("token_revoked", "revoked"),
    ] {
        let slack = SlackApi::start(Workspace::default()).await.unwrap();
        let mut extra = vec![];
        match code {
            "channel_not_found" => extra.push(("slackChannel", "C0GONE")),
            "not_in_channel" => slack.set_member(CHANNEL, false),
            "invalid_auth" => extra.push(("SLACK_BOT_TOKEN", wrong)),
            _ => slack.revoke_token(DEFAULT_TOKEN),
        }
        let (api, function) = start_app(&emu, &slack, &extra).await;
        let inv = api.invoke(alarm.clone(), TIMEOUT).await.unwrap();
        assert_eq!(
            inv.outcome.error_type(),
            Some("ElbWatch.DeliveryFailed"),
            "{code}: {:?}\n{}",
            inv.outcome,
            function.logs()
        );
        let message = inv.outcome.error_message().unwrap();
        assert!(
            message.contains(code) && message.contains(fix),
            "{code}: {message}"
        );
        let line = function
            .json_log_where(
                |l| l["fields"]["slack_error"] == code,
                Duration::from_secs(5),
            )
            .await
            .unwrap_or_else(|| panic!("{code}: no hint line\n{}", function.logs()));
        assert_eq!(line["level"], "ERROR");
        let hint = line["fields"]["fix"].as_str().unwrap();
        assert!(hint.contains(fix), "{code}: {hint}");
        let lines = function
            .json_logs()
            .into_iter()
            .filter(|l| l["fields"].get("slack_error").is_some())
            .count();
        assert_eq!(lines, 1, "{code}: one hint line\n{}", function.logs());
        // Not retried: retrying cannot help.
        assert_eq!(slack.calls_of("chat.postMessage"), 1, "{code}");
        assert!(slack.messages(CHANNEL).is_empty());
        assert_no_token(&function, &[wrong]);
    }
    assert_eq!(thread_tag(&emu, &arn).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_429_retry_after_and_ratelimited_in_a_200() {
    let emu = emulator().await;
    put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    // HTTP 429 with Retry-After: 1 on the parent's post.
    slack.queue(
        Scope::method("chat.postMessage"),
        1,
        Fault::RateLimited { retry_after_s: 1 },
    );
    delivered(&api, &function, fired(&emu)).await;
    let posts: Vec<_> = slack
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.postMessage")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].answer.status, 429);
    assert!(posts[1].at - posts[0].at >= Duration::from_millis(950));
    assert_eq!(slack.parents(CHANNEL).len(), 1);
    let ts = slack.parents(CHANNEL)[0].ts.clone();

    // `ratelimited` in an HTTP 200 body (no Retry-After: the default wait) on the update.
    slack.queue(Scope::method("chat.update"), 1, Fault::error("ratelimited"));
    delivered(&api, &function, fired(&emu)).await;
    let updates: Vec<_> = slack
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.update")
        .collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].answer.body["error"], "ratelimited");
    assert!(updates[1].at - updates[0].at >= Duration::from_millis(950));
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!((thread.parent.edits(), thread.replies.len()), (1, 1));
    assert!(
        function
            .logs()
            .contains("slack delivery attempt failed; retrying"),
        "{}",
        function.logs()
    );
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_thread_becomes_a_new_message_never_a_lost_alert() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    // The parent is deleted in Slack; the alarm fires again: a new parent, re-tagged.
    delivered(&api, &function, fired(&emu)).await;
    let first = slack.parents(CHANNEL)[0].ts.clone();
    assert!(slack.delete_message(CHANNEL, &first));
    delivered(&api, &function, fired(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{}", function.logs());
    let second = parents[0].ts.clone();
    assert_ne!(second, first);
    assert!(says(parents[0].current()).contains("ALARM"));
    assert_open_in(&emu, &arn, CHANNEL, &second, &function.logs()).await;
    assert!(
        slack.orphans().is_empty(),
        "a reply went to the lost thread"
    );
    assert!(
        function
            .logs()
            .contains("Slack refused the incident's thread"),
        "{}",
        function.logs()
    );

    // A tag (of the format before times were kept) naming a message that never existed; the
    // recovery: posted on its own, the incident remembered closed.
    set_thread_tag(&emu, &arn, &format!("{CHANNEL}/1600000000.000100")).await;
    delivered(&api, &function, recovered(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{}", function.logs());
    assert!(says(parents[1].current()).contains("OK (recovered)"));
    assert!(slack.orphans().is_empty());
    assert_closed(&emu, &arn, &function.logs()).await;

    // A tag that is not a thread at all: ignored, the alert opens a thread.
    set_thread_tag(&emu, &arn, "not-a-thread").await;
    delivered(&api, &function, fired(&emu)).await;
    assert_eq!(slack.parents(CHANNEL).len(), 3);
    let third = slack.parents(CHANNEL)[2].ts.clone();
    assert_open_in(&emu, &arn, CHANNEL, &third, &function.logs()).await;
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kms_encrypted_token_is_decrypted_and_used_and_the_webhook_ignored() {
    let emu = emulator().await;
    put_watched_alarm(&emu).await;
    let kms = kms::Client::new(&sdk(&emu).await);
    let key = kms.create_key().send().await.unwrap();
    let out = kms
        .encrypt()
        .key_id(key.key_metadata().unwrap().key_id())
        .plaintext(kms::primitives::Blob::new(DEFAULT_TOKEN.as_bytes()))
        .encryption_context("LambdaFunctionName", FUNCTION_NAME)
        .send()
        .await
        .unwrap();
    let ciphertext =
        base64::engine::general_purpose::STANDARD.encode(out.ciphertext_blob().unwrap().as_ref());
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let mut vars = emu.aws_env();
    vars.extend(env(&[
        ("SLACK_API_URL", slack.base_url().trim_end_matches('/')),
        ("kmsEncryptedSlackToken", &ciphertext),
        ("slackChannel", CHANNEL),
        // Ignored in app mode: nothing listens there.
        ("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T0/B0/XYZ"),
        ("ELB_WATCH_ENRICH", "off"),
    ]));
    let (api, function) = start(vars).await;
    delivered(&api, &function, fired(&emu)).await;
    assert_eq!(slack.parents(CHANNEL).len(), 1);
    assert!(
        slack
            .calls()
            .iter()
            .all(|c| c.token.as_deref() == Some(DEFAULT_TOKEN))
    );
    assert_no_token(&function, &[&ciphertext, "/services/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_mode_without_a_channel_is_a_configuration_error() {
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;
    let inv = api
        .invoke(fixture("sns-plain-text-message.json"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(inv.outcome.error_type(), Some("ElbWatch.ConfigError"));
    assert!(
        inv.outcome
            .error_message()
            .unwrap()
            .contains("slackChannel"),
        "{:?}",
        inv.outcome
    );
    assert_eq!(slack.calls().len(), 0);
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_a_load_balancer_alarm_is_posted_on_its_own() {
    // No AWS at all: nothing to tag (AWS_ENDPOINT_URL points at a closed port).
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("slackChannel", CHANNEL),
        ("ELB_WATCH_ENRICH", "off"),
    ]))
    .await;
    delivered(&api, &function, fixture("sns-plain-text-message.json")).await;
    assert_eq!(slack.parents(CHANNEL).len(), 1);
    assert_eq!(slack.calls_of("chat.update"), 0);
    assert!(
        !function.logs().contains("thread tag"),
        "no tag read for a non-alarm: {}",
        function.logs()
    );
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_goes_out_when_the_alarm_cannot_be_read_or_tagged() {
    // CloudWatch unreachable (AWS_ENDPOINT_URL is a closed port): no thread can be kept, the
    // alerts are delivered all the same, each on its own, with warnings.
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("slackChannel", CHANNEL),
        ("ELB_WATCH_ENRICH", "off"),
        ("ELB_WATCH_ENRICH_TIMEOUT_MS", "1000"),
    ]))
    .await;
    delivered(
        &api,
        &function,
        fixture("sns-alarm-healthyhostcount-alarm.json"),
    )
    .await;
    delivered(
        &api,
        &function,
        fixture("sns-alarm-healthyhostcount-ok.json"),
    )
    .await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{}", function.logs());
    assert!(says(parents[0].current()).contains("ALARM"));
    assert!(says(parents[1].current()).contains("OK (recovered)"));
    assert_eq!(slack.calls_of("chat.update"), 0);
    let logs = function.logs();
    assert!(
        logs.contains("could not read the alarm's Slack thread tag"),
        "{logs}"
    );
    assert!(
        logs.contains("could not tag the alarm with its Slack thread"),
        "{logs}"
    );
    assert_no_token(&function, &[]);
}

/// Every visible message of `channel` as text, for failure output.
fn transcript(slack: &SlackApi, channel: &str) -> String {
    slack
        .messages(channel)
        .iter()
        .map(|m| {
            format!(
                "[{} {:?} b={}] {}",
                m.ts,
                m.thread_ts,
                m.broadcast,
                says(m.current())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_update_or_reply_posts_the_alert_on_its_own_in_the_channel() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    delivered(&api, &function, fired(&emu)).await;
    let first = slack.parents(CHANNEL)[0].ts.clone();

    // The workspace lets messages be edited for a while only: the parent is past it. The
    // re-fire cannot update it; it opens a new thread in the channel instead of failing.
    slack.set_edit_window(Some(Duration::ZERO));
    delivered(&api, &function, fired(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{}", transcript(&slack, CHANNEL));
    let second = parents[1].ts.clone();
    assert!(says(parents[1].current()).contains("ALARM"));
    assert!(slack.thread(CHANNEL, &first).unwrap().replies.is_empty());
    assert_open_in(&emu, &arn, CHANNEL, &second, &function.logs()).await;
    let refused = function
        .json_log_where(
            |l| l["fields"]["slack_error"] == "edit_window_closed",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("no line saying why\n{}", function.logs()));
    assert_eq!(refused["level"], "WARN");
    assert_eq!(refused["fields"]["fallback"], "open-thread");

    // Edits allowed again, but the reply in the thread is refused (too long): the re-fire is
    // posted on its own, as the next thread's parent.
    slack.set_edit_window(None);
    slack.queue(
        Scope::method("chat.postMessage"),
        1,
        Fault::error("msg_too_long"),
    );
    delivered(&api, &function, fired(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 3, "{}", transcript(&slack, CHANNEL));
    let third = parents[2].ts.clone();
    assert_open_in(&emu, &arn, CHANNEL, &third, &function.logs()).await;

    // The recovery's update refused (too long): posted on its own, the incident closed.
    slack.queue(
        Scope::method("chat.update"),
        1,
        Fault::error("msg_too_long"),
    );
    delivered(&api, &function, recovered(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 4, "{}", transcript(&slack, CHANNEL));
    assert!(says(parents[3].current()).contains("OK (recovered)"));
    assert_closed(&emu, &arn, &function.logs()).await;
    assert!(slack.orphans().is_empty());
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_follows_the_envs_channel_when_it_moves_even_from_an_archived_one() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    slack.add_channel(Channel::new("C0NEW", "ops"));
    let (api, function) = start_app(&emu, &slack, &[]).await;
    delivered(&api, &function, fired(&emu)).await;
    let old = slack.parents(CHANNEL)[0].ts.clone();
    drop((api, function));

    // `up --slack-channel C0NEW`: the function now posts in C0NEW. The open incident's next
    // ALARM opens its thread there; the old parent says where it went, and gets no reply.
    let (api, function) = start_app(&emu, &slack, &[("slackChannel", "C0NEW")]).await;
    delivered(&api, &function, fired(&emu)).await;
    assert_eq!(
        slack.messages(CHANNEL).len(),
        1,
        "{}",
        transcript(&slack, CHANNEL)
    );
    let new = slack.parents("C0NEW");
    assert_eq!(new.len(), 1, "{}", function.logs());
    assert!(says(new[0].current()).contains("ALARM"));
    assert_open_in(&emu, &arn, "C0NEW", &new[0].ts, &function.logs()).await;
    let left = slack.thread(CHANNEL, &old).unwrap();
    assert_eq!(left.parent.edits(), 1, "{}", transcript(&slack, CHANNEL));
    let moved = says(left.parent.current());
    assert!(
        moved.contains("Moved: ") && moved.contains("<#C0NEW>"),
        "{moved}"
    );
    assert!(left.replies.is_empty());

    // Its recovery resolves the thread in C0NEW.
    delivered(&api, &function, recovered(&emu)).await;
    let thread = slack.thread("C0NEW", &new[0].ts).unwrap();
    assert!(says(thread.parent.current()).contains("Resolved: "));
    assert_closed(&emu, &arn, &function.logs()).await;

    // An incident open in a channel that was then archived and left: the recovery cannot touch
    // the old thread; it is posted in the env's channel and the incident closed.
    delivered(&api, &function, fired(&emu)).await;
    let in_new = slack.parents("C0NEW").len();
    let newest = slack.parents("C0NEW")[in_new - 1].ts.clone();
    slack.archive_channel("C0NEW");
    slack.add_channel(Channel::new("C0THIRD", "ops-2"));
    drop((api, function));
    let (api, function) = start_app(&emu, &slack, &[("slackChannel", "C0THIRD")]).await;
    delivered(&api, &function, recovered(&emu)).await;
    let third = slack.parents("C0THIRD");
    assert_eq!(third.len(), 1, "{}", function.logs());
    assert!(says(third[0].current()).contains("OK (recovered)"));
    assert_eq!(slack.thread("C0NEW", &newest).unwrap().parent.edits(), 0);
    assert_closed(&emu, &arn, &function.logs()).await;
    assert!(
        slack
            .calls()
            .iter()
            .any(|c| c.method == "chat.update" && c.answer.body["error"] == "is_archived"),
        "the old parent was tried, best effort"
    );
    assert!(slack.orphans().is_empty());
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_retries_and_duplicates_change_no_thread_state() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    let alarm = fired(&emu);
    delivered(&api, &function, alarm.clone()).await;
    let ts = slack.parents(CHANNEL)[0].ts.clone();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ok = recovered(&emu);
    delivered(&api, &function, ok.clone()).await;
    let closed = assert_closed(&emu, &arn, &function.logs()).await;

    // Lambda's retry of the ALARM arrives after its recovery: posted on its own, saying it is
    // late and recovered since; the resolved thread is not re-opened.
    delivered(&api, &function, alarm.clone()).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{}", transcript(&slack, CHANNEL));
    let late = says(parents[1].current());
    assert!(
        late.contains("Delivered late") && late.contains("it has recovered since"),
        "{late}"
    );
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert!(says(thread.parent.current()).contains("Resolved: "));
    assert_eq!(thread.replies.len(), 1);
    assert_eq!(
        thread_tag(&emu, &arn).await.as_deref(),
        Some(closed.as_str())
    );

    // The same recovery delivered twice (an SNS duplicate): posted once.
    skipped(&api, &function, ok.clone()).await;
    assert_eq!(slack.parents(CHANNEL).len(), 2);

    // A new incident; then the old recovery arrives late: it must not resolve this one.
    tokio::time::sleep(Duration::from_millis(50)).await;
    delivered(&api, &function, fired(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 3);
    let open = parents[2].ts.clone();
    delivered(&api, &function, ok).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 4, "{}", transcript(&slack, CHANNEL));
    let late = says(parents[3].current());
    assert!(
        late.contains("Delivered late") && late.contains("fired again"),
        "{late}"
    );
    let thread = slack.thread(CHANNEL, &open).unwrap();
    assert_eq!(thread.parent.edits(), 0, "the open incident was touched");
    assert!(thread.replies.is_empty());
    assert_open_in(&emu, &arn, CHANNEL, &open, &function.logs()).await;

    // The same ALARM twice: the second is skipped, the thread gains nothing.
    let again = fired(&emu);
    delivered(&api, &function, again.clone()).await;
    let replies = slack.thread(CHANNEL, &open).unwrap().replies.len();
    skipped(&api, &function, again).await;
    assert_eq!(slack.thread(CHANNEL, &open).unwrap().replies.len(), replies);
    assert!(slack.orphans().is_empty());
    assert_no_token(&function, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_posted_on_its_own_marked_late_and_touches_no_thread() {
    let emu = emulator().await;
    let arn = put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack, &[]).await;

    let mut alarm = fired(&emu);
    delivered(&api, &function, alarm.clone()).await;
    let ts = slack.parents(CHANNEL)[0].ts.clone();
    let tag = thread_tag(&emu, &arn).await;

    alarm["elbWatchReplay"] = json!({
        "firstFiredAt": "2026-11-20T03:15:42.118Z",
        "queuedAt": "2026-11-20T03:19:01.000Z",
    });
    delivered(&api, &function, alarm).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{}", transcript(&slack, CHANNEL));
    let replayed = says(parents[1].current());
    assert!(
        replayed.contains("Delivered late — first fired at"),
        "{replayed}"
    );
    let thread = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!((thread.parent.edits(), thread.replies.len()), (0, 0));
    assert_eq!(thread_tag(&emu, &arn).await, tag);
    assert_no_token(&function, &[]);
}
