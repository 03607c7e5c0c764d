//! Alarm semantics end to end: an EMPTY target group (no registered targets: no
//! `HealthyHostCount` at all) reaches ALARM and Slack hears it; a freshly created alarm's first
//! evaluation (INSUFFICIENT_DATA → OK) posts nothing; a target group with health checks disabled
//! gets a warning instead of an alarm; alarms with an older elb-watch's settings are drift and
//! are updated; the webhook URL is encrypted without `https://`, like the console blueprint.
//!
//! The emulator does not evaluate alarms: as in the demo, the test calls SetAlarmState and
//! builds the exact message CloudWatch publishes (scripts/topology.py `alarm-event`), then the
//! real notifier handles it under the local Lambda Runtime API, posting to the local sink.

mod common;

use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use common::{CANARY, assert_no_leak, aws::sdk, elb_watch, notifier, run, up};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{Outcome, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

/// `web-alb`: `web-tg` (one instance), `empty-tg` (`/empty/*`, no targets) and `fn-tg`
/// (`/fn/*`, a Lambda target group: health checks disabled, as AWS defaults them).
fn spec() -> Value {
    json!({
        "instances": 1,
        "target_groups": [
            {"name": "web-tg", "targets": [0]},
            {"name": "empty-tg"},
            {"name": "fn-tg", "target_type": "lambda"}
        ],
        "load_balancers": [{"name": "web-alb", "listeners": [
            {"port": 80, "default": ["web-tg"], "rules": [
                {"path": "/empty/*", "forward": ["empty-tg"]},
                {"path": "/fn/*", "forward": ["fn-tg"]}
            ]}
        ]}]
    })
}

fn alarm(env: &str, tg: &str) -> String {
    common::tg_alarm(env, "web-alb", tg)
}

fn status(emu: &Emulator, env: &str) -> common::Run {
    let r = run(elb_watch(emu).args(["--env", env, "--output", "json", "status"]));
    assert_no_leak(&r);
    r
}

/// The deployed function's webhook plaintext, decrypted through the emulator's KMS with the
/// function's encryption context.
async fn deployed_plaintext(emu: &Emulator, function: &str) -> String {
    let env = topology::function_env(emu, function).unwrap();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&env["kmsEncryptedHookUrl"])
        .unwrap();
    let out = aws_sdk_kms::Client::new(&sdk(emu).await)
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .encryption_context("LambdaFunctionName", function)
        .send()
        .await
        .unwrap();
    String::from_utf8(out.plaintext().unwrap().as_ref().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_target_group_reaches_alarm_and_posts_while_a_new_alarm_posts_nothing() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", "ops", "--output", "json", "up", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();

    // fn-tg: a warning, no alarm (and, with no --email, one about the alerting path).
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0]["kind"], "health-checks-disabled");
    assert_eq!(warnings[0]["target_group"], "fn-tg");
    assert_eq!(warnings[1]["kind"], "alerting-path-without-email");
    let alarms: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alarm")
        .map(|c| c["name"].as_str().unwrap())
        .filter(|n| n.ends_with("/HealthyHostCount"))
        .collect();
    assert_eq!(
        alarms,
        [alarm("ops", "empty-tg"), alarm("ops", "web-tg")],
        "{v:#}"
    );

    // The alarm pages on missing data, 2 of 3 one-minute periods.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    let empty_alarm = alarm("ops", "empty-tg");
    let got = cw
        .describe_alarms()
        .alarm_names(&empty_alarm)
        .send()
        .await
        .unwrap();
    let a = &got.metric_alarms()[0];
    assert_eq!(a.treat_missing_data(), Some("breaching"));
    // Its notifications now carry the runbook and Slack-thread tags (strict rule 24 keeps the
    // ActionConfiguration moto ignores).
    let propagation = a
        .action_configuration()
        .and_then(|c| c.alarm_tags_propagation())
        .expect("tags in notifications");
    assert_eq!(propagation.enabled(), Some(true));
    assert_eq!(
        propagation.included_tag_keys(),
        ["elb-watch:runbook", "elb-watch:slack-thread"]
    );
    assert_eq!(
        (a.datapoints_to_alarm(), a.evaluation_periods(), a.period()),
        (Some(2), Some(3), Some(60))
    );

    // The URL of an http sink keeps its scheme (a scheme-less plaintext would mean https).
    let function = "elb-watch-ops-notifier";
    assert_eq!(deployed_plaintext(&emu, function).await, sink.url());

    let api = RuntimeApi::start().await.unwrap();
    let process = notifier(&emu, &api, function);

    // A new alarm on AWS starts in INSUFFICIENT_DATA (the emulator starts it in OK; the strict
    // layer, where present, corrects that) and runs its OK actions when it first evaluates OK.
    let web_alarm = alarm("ops", "web-tg");
    let state = cw
        .describe_alarms()
        .alarm_names(&web_alarm)
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .state_value()
        .unwrap()
        .as_str()
        .to_string();
    if state != "INSUFFICIENT_DATA" {
        topology::alarm_event(
            &emu,
            &web_alarm,
            "INSUFFICIENT_DATA",
            "Unchecked: Initial alarm creation",
        )
        .unwrap();
    }
    let first = topology::alarm_event(
        &emu,
        &web_alarm,
        "OK",
        "Threshold Crossed: 3 out of the last 3 datapoints [1.0 (25/11/26 14:00:00), 1.0 \
         (25/11/26 13:59:00), 1.0 (25/11/26 13:58:00)] were not less than the threshold (1.0) \
         (minimum 2 datapoints for ALARM -> OK transition).",
    )
    .unwrap();
    let inv = api.invoke(first, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 0, "skipped": 1})),
        "{}",
        process.logs()
    );
    assert_eq!(sink.requests(), 0, "a new alarm posted a false recovery");

    // The empty target group: no datapoints, treated as breaching → ALARM → posted.
    let event = topology::alarm_event(
        &emu,
        &empty_alarm,
        "ALARM",
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints \
         were treated as [Breaching].",
    )
    .unwrap();
    let message: Value =
        serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["Trigger"]["TreatMissingData"], "breaching");
    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
        "{}",
        process.logs()
    );
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let text = received[0].to_string();
    for needle in ["ALARM", "empty-tg", "web-alb", "missing datapoints"] {
        assert!(text.contains(needle), "no {needle} in {text}");
    }

    // Its recovery (ALARM → OK) is posted.
    let ok =
        topology::alarm_event(&emu, &empty_alarm, "OK", "Threshold Crossed: recovered").unwrap();
    let inv = api.invoke(ok, TIMEOUT).await.unwrap();
    assert!(inv.outcome.is_response(), "{:?}", inv.outcome);
    assert_eq!(sink.received().len(), 2);
    assert!(sink.received()[1].to_string().contains("recovered"));

    // status warns about fn-tg too (JSON and table), and it is not drift.
    let s = status(&emu, "ops");
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(s.json()["warnings"][0]["target_group"], "fn-tg");
    let t = run(elb_watch(&emu).args(["--env", "ops", "status"]));
    assert!(
        t.stdout
            .contains("warning: target group fn-tg behind web-alb has health checks disabled"),
        "{}",
        t.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_with_an_older_elb_watchs_settings_is_drift_and_up_updates_it() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);

    // What earlier releases made: missing data "missing", 1 of 1.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    let name = alarm("prod", "web-tg");
    let got = cw
        .describe_alarms()
        .alarm_names(&name)
        .send()
        .await
        .unwrap();
    let a = &got.metric_alarms()[0];
    cw.put_metric_alarm()
        .alarm_name(&name)
        .set_alarm_description(a.alarm_description().map(String::from))
        .set_namespace(a.namespace().map(String::from))
        .set_metric_name(a.metric_name().map(String::from))
        .set_dimensions(Some(a.dimensions().to_vec()))
        .set_statistic(a.statistic().cloned())
        .set_period(a.period())
        .evaluation_periods(1)
        .datapoints_to_alarm(1)
        .set_threshold(a.threshold())
        .set_comparison_operator(a.comparison_operator().cloned())
        .treat_missing_data("missing")
        .set_alarm_actions(Some(a.alarm_actions().to_vec()))
        .set_ok_actions(Some(a.ok_actions().to_vec()))
        .send()
        .await
        .unwrap();

    let s = status(&emu, "prod");
    assert_eq!(s.code, 1, "{}", s.stdout);
    let v = s.json();
    let row = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["state"], "drifted");
    assert_eq!(
        row["details"],
        json!([
            "datapoints to alarm (1 of 1 → 2 of 3)",
            "missing-data treatment (missing → breaching)",
            // Earlier releases put no alarm tags in the notifications.
            "tags in notifications"
        ])
    );

    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let change = r.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(change["action"], "update");
    let got = cw
        .describe_alarms()
        .alarm_names(&name)
        .send()
        .await
        .unwrap();
    let a = &got.metric_alarms()[0];
    assert_eq!(a.treat_missing_data(), Some("breaching"));
    assert_eq!(
        (a.datapoints_to_alarm(), a.evaluation_periods()),
        (Some(2), Some(3))
    );
    assert_eq!(status(&emu, "prod").code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_url_is_encrypted_without_https_and_an_old_form_ciphertext_is_re_encrypted() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);
    let function = "elb-watch-prod-notifier";
    let stored = CANARY.strip_prefix("https://").unwrap();
    assert_eq!(deployed_plaintext(&emu, function).await, stored);

    // The same URL again: nothing to do (compared in the stored form).
    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.json()["in_sync"], true, "{}", r.stdout);

    // What an older elb-watch stored: the URL with its scheme, same key and context.
    let cfg = sdk(&emu).await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let old = kms
        .encrypt()
        .key_id("alias/elb-watch-prod")
        .plaintext(Blob::new(CANARY.as_bytes()))
        .encryption_context("LambdaFunctionName", function)
        .send()
        .await
        .unwrap();
    let old = base64::engine::general_purpose::STANDARD.encode(old.ciphertext_blob().unwrap());
    let mut vars = topology::function_env(&emu, function).unwrap();
    vars.insert("kmsEncryptedHookUrl".into(), old);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(vars.into_iter().collect()))
                .build(),
        )
        .send()
        .await
        .unwrap();

    // status: drift, said without the URL; up without the URL re-encrypts it.
    let s = status(&emu, "prod");
    assert_eq!(s.code, 1, "{}", s.stdout);
    let v = s.json();
    let row = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "lambda-function")
        .unwrap()
        .clone();
    assert_eq!(row["state"], "drifted", "{row}");
    assert!(
        row["details"][0]
            .as_str()
            .unwrap()
            .contains("encrypted with https://"),
        "{row}"
    );
    let r = run(elb_watch(&emu).args([
        "--env", "prod", "--output", "json", "up", "--alb", "web-alb",
    ]));
    assert_no_leak(&r);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(deployed_plaintext(&emu, function).await, stored);
    assert_eq!(status(&emu, "prod").code, 0);
}
