//! Runbooks from tags (issue 24): a target group or load balancer tagged
//! `elb-watch:runbook=URL` gets that URL on its alarm's tags, which CloudWatch puts into the
//! alarm's notifications (strict rule 24) so the notifier shows a "Runbook" button without a
//! tag read; a changed or removed tag is drift that `up` puts right with TagResource and
//! UntagResource (PutMetricAlarm ignores the tags of an existing alarm: strict rule 26);
//! `status` names the target groups without a runbook.

mod common;

use common::{aws::sdk, elb_watch, run, run_notifier, tg_alarm};
use elb_watch::state::alarms::RUNBOOK_TAG;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const LB_RUNBOOK: &str = "https://wiki.example.com/runbooks/web-alb";
/// AWS tag values hold letters, digits, spaces and `_ . : / = + - @` only (ELB and CloudWatch
/// alike): a URL in a tag has no `?`, `&` or `#`.
const WEB_RUNBOOK: &str = "https://wiki.example.com/runbooks/web-tg/team=web";

/// `web-alb` (tagged with a runbook): `web-tg` (its own runbook), `api-tg` (none: the load
/// balancer's), `plain-tg` (an http URL: refused). `other-alb` (no tags): `other-tg`.
fn spec() -> Value {
    json!({
        "instances": 1,
        "target_groups": [
            {"name": "web-tg", "targets": [0], "tags": {RUNBOOK_TAG: WEB_RUNBOOK}},
            {"name": "api-tg", "targets": [0]},
            {"name": "plain-tg", "targets": [0], "tags": {RUNBOOK_TAG: "http://wiki.example.com/plain"}},
            {"name": "other-tg", "targets": [0]}
        ],
        "load_balancers": [
            {"name": "web-alb", "tags": {RUNBOOK_TAG: LB_RUNBOOK}, "listeners": [
                {"port": 80, "default": ["web-tg"], "rules": [
                    {"path": "/api/*", "forward": ["api-tg"]},
                    {"path": "/plain/*", "forward": ["plain-tg"]}
                ]}
            ]},
            {"name": "other-alb", "listeners": [{"port": 80, "default": ["other-tg"]}]}
        ]
    })
}

fn cli(emu: &Emulator, sink: &SlackSink, env: &str, args: &[&str]) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", env, "--output", "json", "--no-progress"])
        .args(args));
    common::assert_no_leak(&r);
    r
}

/// An alarm's tags, read from CloudWatch.
async fn alarm_tags(cw: &aws_sdk_cloudwatch::Client, alarm: &str) -> BTreeMap<String, String> {
    let arn = cw
        .describe_alarms()
        .alarm_names(alarm)
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .alarm_arn()
        .unwrap()
        .to_string();
    cw.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

fn drift_of(report: &Value, alarm: &str) -> Vec<String> {
    common::resource_row(report, alarm)["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn runbook_tags_reach_the_alarms_follow_changes_and_status_names_groups_without_one() {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        ..StrictConfig::default()
    })
    .unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let env = "rb";
    let up = cli(
        &emu,
        &sink,
        env,
        &["up", "--lb", "web-alb", "--lb", "other-alb"],
    );
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let cfg = sdk(&emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let alarm = |lb: &str, tg: &str| tg_alarm(env, lb, tg);

    // The group's own tag wins; the load balancer's stands in; an http URL is not used.
    let web = alarm_tags(&cw, &alarm("web-alb", "web-tg")).await;
    assert_eq!(web.get(RUNBOOK_TAG).map(String::as_str), Some(WEB_RUNBOOK));
    assert_eq!(web.get("elb-watch:env").map(String::as_str), Some(env));
    let api = alarm_tags(&cw, &alarm("web-alb", "api-tg")).await;
    assert_eq!(api.get(RUNBOOK_TAG).map(String::as_str), Some(LB_RUNBOOK));
    for (lb, tg) in [("web-alb", "plain-tg"), ("other-alb", "other-tg")] {
        let tags = alarm_tags(&cw, &alarm(lb, tg)).await;
        assert_eq!(tags.get(RUNBOOK_TAG), None, "{tg}: {tags:?}");
    }
    let upj = up.json();
    let warned: Vec<&str> = upj["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "runbook-tag-invalid")
        .filter_map(|w| w["target_group"].as_str())
        .collect();
    assert_eq!(warned, ["plain-tg"], "{:#}", upj["warnings"]);

    // In sync, and the groups without a runbook are named.
    let s = cli(&emu, &sink, env, &["status"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.json()["without_runbook"],
        json!(["plain-tg behind web-alb", "other-tg behind other-alb"])
    );
    let table = run(elb_watch(&emu).args(["--env", env, "--no-progress", "status"]));
    println!("$ elb-watch status\n{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("no runbook for plain-tg behind web-alb, other-tg behind other-alb"),
        "{}",
        table.stdout
    );

    // The ALARM message carries the runbook, read from the notification's own tags.
    run_notifier(&emu);
    cw.set_alarm_state()
        .alarm_name(alarm("web-alb", "web-tg"))
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("Threshold Crossed: 2 out of the last 3 datapoints [0.0 (02/12/26 03:00:00), 0.0 (02/12/26 02:59:00)] were less than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).")
        .send()
        .await
        .unwrap();
    sink.wait_for_messages(1, Duration::from_secs(30)).await;
    let posted = sink.received();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    println!(
        "Slack:\n{}",
        elb_watch_testkit::slack_sink::render_for_terminal(&posted[0])
    );
    let message = posted[0].to_string();
    assert!(
        message.contains(WEB_RUNBOOK),
        "no runbook button: {message}"
    );

    // The tags change: web-tg's runbook moves, web-alb's goes (api-tg has none any more).
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let moved = "https://wiki.example.com/runbooks/web-tg-v2";
    elb.add_tags()
        .resource_arns(&made.target_groups["web-tg"])
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(RUNBOOK_TAG)
                .value(moved)
                .build(),
        )
        .send()
        .await
        .unwrap();
    elb.remove_tags()
        .resource_arns(&made.load_balancers["web-alb"])
        .tag_keys(RUNBOOK_TAG)
        .send()
        .await
        .unwrap();
    let s = cli(&emu, &sink, env, &["status"]);
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    let sj = s.json();
    for tg in ["web-tg", "api-tg"] {
        let details = drift_of(&sj, &alarm("web-alb", tg));
        assert_eq!(details, ["runbook"], "{tg}: {:#}", sj["resources"]);
    }
    assert!(drift_of(&sj, &alarm("web-alb", "plain-tg")).is_empty());

    // `up` puts them right through the tag API, keeping the alarms' other tags.
    let again = cli(
        &emu,
        &sink,
        env,
        &["up", "--lb", "web-alb", "--lb", "other-alb"],
    );
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let web = alarm_tags(&cw, &alarm("web-alb", "web-tg")).await;
    assert_eq!(web.get(RUNBOOK_TAG).map(String::as_str), Some(moved));
    assert_eq!(web.get("elb-watch:env").map(String::as_str), Some(env));
    let api = alarm_tags(&cw, &alarm("web-alb", "api-tg")).await;
    assert_eq!(api.get(RUNBOOK_TAG), None, "{api:?}");
    assert_eq!(api.get("elb-watch:env").map(String::as_str), Some(env));
    let s = cli(&emu, &sink, env, &["status"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.json()["without_runbook"],
        json!([
            "api-tg behind web-alb",
            "plain-tg behind web-alb",
            "other-tg behind other-alb"
        ])
    );
}
