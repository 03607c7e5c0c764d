//! Alarms named by an earlier version (`elb-watch-ENV-TG-HealthyHostCount`) move to today's
//! names (`elb-watch/ENV/LB/TG/HealthyHostCount`, issue 21.6) on the next `up`, without a false
//! ALARM, a false recovery or losing an open incident's Slack thread.
//!
//! Through the strict layer with rule 14 (a new alarm is evaluated soon after it is created),
//! rule 15 (SNS delivers to the real notifier) and rule 17 (SetAlarmState runs the alarm's
//! actions, as on AWS) on, in Slack app mode against the Web API stand-in:
//! - an env is made by `up`, then its alarms are put back under the old names with their state
//!   and thread tag (what an earlier version left: [`downgrade`]); `empty-tg` is in ALARM with
//!   its thread open;
//! - the next `up` moves them: nothing is posted (a new alarm armed before its state was carried
//!   over posts a second ALARM, one armed without it would post when evaluated), the new alarm
//!   is in ALARM saying it was moved, and carries the thread;
//! - the recovery resolves that thread (without the tag it would be a second, standalone post);
//! - the `up` after that has nothing to do.

mod common;

use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue, Tag};
use common::{aws::sdk, elb_watch, run, run_notifier};
use elb_watch::policy::THREAD_TAG;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_api::{SlackApi, Workspace};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::json;
use std::time::Duration;

const ENV: &str = "mv";
const CHANNEL: &str = "C0ALERTS";

fn up(emu: &Emulator, slack: &SlackApi) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", ENV, "--output", "json", "up", "--alb", "web-alb"])
        .args(["--slack-channel", CHANNEL])
        .args(["--slack-api-url", &slack.base_url()])
        .arg("--slack-token-file")
        .arg(common::token_file("moves")));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

/// Every asynchronous invocation finished (after any evaluation still due).
async fn settled(emu: &Emulator) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        emu.strict()
            .unwrap()
            .wait_for_async_invocations(Duration::from_secs(60))
            .await,
        "invocations still running"
    );
}

async fn cloudwatch(emu: &Emulator) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&sdk(emu).await)
}

async fn alarms_under(cw: &aws_sdk_cloudwatch::Client, prefix: &str) -> Vec<MetricAlarm> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = cw
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        out.extend(page.metric_alarms().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            return out;
        }
    }
}

async fn tags_of(cw: &aws_sdk_cloudwatch::Client, arn: &str) -> Vec<Tag> {
    cw.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .to_vec()
}

fn thread_tag(tags: &[Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(THREAD_TAG))
        .and_then(|t| t.value())
        .map(String::from)
}

/// What an earlier version left: each of the env's alarms under its old name
/// (`elb-watch-ENV-TG-HealthyHostCount`, `elb-watch-ENV-notifier-errors`, …), same metric,
/// actions, tags (the thread's too) and state; today's names gone. The state is set while the
/// old alarm's actions are off, so that rule 17 sends nothing.
async fn downgrade(cw: &aws_sdk_cloudwatch::Client) -> Vec<(String, String)> {
    let mut renamed = Vec::new();
    for a in alarms_under(cw, &format!("elb-watch/{ENV}/")).await {
        let name = a.alarm_name().unwrap().to_string();
        if name == format!("elb-watch/{ENV}/test") {
            // The test alarm is new in this version: earlier versions never made it.
            continue;
        }
        let parts: Vec<&str> = name.split('/').collect();
        let old = match parts.as_slice() {
            [_, _, _lb, tg, "HealthyHostCount"] => format!("elb-watch-{ENV}-{tg}-HealthyHostCount"),
            [_, _, watcher] => format!("elb-watch-{ENV}-{watcher}"),
            _ => panic!("unexpected alarm name {name}"),
        };
        let tags = tags_of(cw, a.alarm_arn().unwrap()).await;
        cw.put_metric_alarm()
            .alarm_name(&old)
            .set_alarm_description(a.alarm_description().map(String::from))
            .set_namespace(a.namespace().map(String::from))
            .set_metric_name(a.metric_name().map(String::from))
            .set_dimensions(Some(a.dimensions().to_vec()))
            .set_statistic(a.statistic().cloned())
            .set_period(a.period())
            .set_evaluation_periods(a.evaluation_periods())
            .set_datapoints_to_alarm(a.datapoints_to_alarm())
            .set_threshold(a.threshold())
            .set_comparison_operator(a.comparison_operator().cloned())
            .set_treat_missing_data(a.treat_missing_data().map(String::from))
            .set_alarm_actions(Some(a.alarm_actions().to_vec()))
            .set_ok_actions(Some(a.ok_actions().to_vec()))
            .actions_enabled(false)
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap();
        if let Some(state) = a
            .state_value()
            .filter(|s| **s != StateValue::InsufficientData)
        {
            cw.set_alarm_state()
                .alarm_name(&old)
                .state_value(state.clone())
                .state_reason(a.state_reason().unwrap_or("x"))
                .send()
                .await
                .unwrap();
        }
        cw.enable_alarm_actions()
            .alarm_names(&old)
            .send()
            .await
            .unwrap();
        cw.delete_alarms().alarm_names(&name).send().await.unwrap();
        renamed.push((old, name));
    }
    renamed
}

#[tokio::test(flavor = "multi_thread")]
async fn old_alarm_names_move_keeping_state_and_thread_with_nothing_posted() {
    let emu = Emulator::start_with(StrictConfig {
        first_evaluation: Some(Duration::from_millis(300)),
        set_state_actions: true,
        ..StrictConfig::from_env()
    })
    .unwrap();
    topology::create(&emu, &common::empty_tg_spec()).unwrap();
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    run_notifier(&emu);
    let cw = cloudwatch(&emu).await;

    // The env as an earlier version left it, with empty-tg's incident open.
    up(&emu, &slack);
    settled(&emu).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "empty-tg's first ALARM: {parents:?}");
    let thread_ts = parents[0].ts.clone();
    let renamed = downgrade(&cw).await;
    assert_eq!(renamed.len(), 5, "{renamed:?}");
    let old_empty = format!("elb-watch-{ENV}-empty-tg-HealthyHostCount");
    let old = alarms_under(&cw, &old_empty).await;
    let open_thread = thread_tag(&tags_of(&cw, old[0].alarm_arn().unwrap()).await)
        .expect("the old alarm holds the thread");
    assert!(
        open_thread.starts_with(&format!("{CHANNEL}/{thread_ts}/")),
        "{open_thread}"
    );
    let posts_before = slack.calls_of("chat.postMessage");

    // The move.
    let r = up(&emu, &slack);
    let v = r.json();
    let new_empty = common::tg_alarm(ENV, "web-alb", "empty-tg");
    let change = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == new_empty.as_str())
        .unwrap_or_else(|| panic!("no change for {new_empty}: {v:#}"));
    assert_eq!(change["action"], "create", "{change}");
    assert!(
        change["reasons"][0]
            .as_str()
            .unwrap()
            .contains(&format!("moved from {old_empty}")),
        "{change}"
    );
    assert_eq!(v["announced"], json!([]), "{v:#}");
    settled(&emu).await;
    // Rule 17 ran on the downgrade's SetAlarmState, with actions off (the move's changes no
    // state when the new alarm's first evaluation, also with actions off, came first).
    let stats = emu.strict().unwrap().stats();
    assert!(stats.get("set-alarm-state:ALARM") >= Some(&1), "{stats:?}");
    assert!(stats.get("alarm-actions:disabled") >= Some(&1), "{stats:?}");

    // Nothing posted: no second ALARM, no recovery, no orphan.
    assert_eq!(
        slack.calls_of("chat.postMessage"),
        posts_before,
        "the move posted: {:?}",
        slack.messages(CHANNEL)
    );
    assert_eq!(slack.parents(CHANNEL).len(), 1);
    assert!(slack.orphans().is_empty(), "{:?}", slack.orphans());

    // Old names gone, today's in place with state and thread.
    assert!(
        alarms_under(&cw, &format!("elb-watch-{ENV}-"))
            .await
            .is_empty(),
        "old names left"
    );
    let now = alarms_under(&cw, &format!("elb-watch/{ENV}/")).await;
    let mut names: Vec<&str> = now.iter().filter_map(|a| a.alarm_name()).collect();
    names.sort();
    // The moved ones, and the test alarm (new in this version, never renamed).
    let test_alarm = format!("elb-watch/{ENV}/test");
    let mut want: Vec<&str> = renamed.iter().map(|(_, new)| new.as_str()).collect();
    want.push(&test_alarm);
    want.sort();
    assert_eq!(names, want);
    let empty = now
        .iter()
        .find(|a| a.alarm_name() == Some(&new_empty))
        .unwrap();
    assert_eq!(empty.state_value(), Some(&StateValue::Alarm));
    assert!(
        empty.state_reason().unwrap().contains("moved from"),
        "{:?}",
        empty.state_reason()
    );
    assert_eq!(empty.actions_enabled(), Some(true));
    assert!(now.iter().all(|a| a.actions_enabled() == Some(true)));
    assert_eq!(
        thread_tag(&tags_of(&cw, empty.alarm_arn().unwrap()).await).as_deref(),
        Some(open_thread.as_str()),
        "the thread moved with the alarm"
    );

    // The recovery resolves the incident's thread.
    cw.set_alarm_state()
        .alarm_name(&new_empty)
        .state_value(StateValue::Ok)
        .state_reason("Threshold Crossed: 1 datapoint [1.0] was not less than the threshold (1.0).")
        .send()
        .await
        .unwrap();
    settled(&emu).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(
        parents.len(),
        1,
        "the recovery posted on its own: {parents:?}"
    );
    let thread = slack.thread(CHANNEL, &thread_ts).unwrap();
    assert_eq!(thread.replies.len(), 1, "{thread:?}");
    let parent = format!("{:?}", thread.parent.current()).to_lowercase();
    assert!(parent.contains("resolved"), "{parent}");

    // Done: the next up has nothing to do.
    let again = up(&emu, &slack);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
    assert_eq!(again.json()["announced"], json!([]));
}
