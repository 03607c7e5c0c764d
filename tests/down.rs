//! `elb-watch down` against the emulator: nothing tagged for the env is left (tagging API and
//! per-service lists), the env beside it (`prod-eu` next to `prod`) is untouched, a second `down`
//! is a no-op, no `--yes` without a terminal is refused, a half-made env's unaliased key goes
//! too, and `up` works again while the old key is pending deletion.

mod common;

use common::{CANARY, OTHER_URL, Run, assert_no_leak, aws::sdk, elb_watch, run, spec, up};
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::{Value, json};

fn down(emu: &Emulator, env: &str) -> Run {
    let r = run(elb_watch(emu).args(["--env", env, "--output", "json", "down", "--yes"]));
    assert_no_leak(&r);
    r
}

fn status(emu: &Emulator, env: &str) -> Run {
    run(elb_watch(emu).args(["--env", env, "--output", "json", "status"]))
}

/// ARNs of everything the tagging API says carries `elb-watch:env=ENV`, except KMS keys pending
/// deletion (KMS keeps them for the waiting period).
async fn tagged_for(cfg: &aws_config::SdkConfig, env: &str) -> Vec<String> {
    let tagging = aws_sdk_resourcegroupstagging::Client::new(cfg);
    let kms = aws_sdk_kms::Client::new(cfg);
    // Every page: the Tagging API may answer one resource per page (the strict layer does).
    let pages: Vec<_> = tagging
        .get_resources()
        .tag_filters(
            aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                .key("elb-watch:env")
                .values(env)
                .build(),
        )
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut left = Vec::new();
    for m in pages
        .into_iter()
        .flat_map(|p| p.unwrap().resource_tag_mapping_list.unwrap_or_default())
    {
        let arn = m.resource_arn().unwrap().to_string();
        if arn.contains(":kms:") {
            let meta = kms
                .describe_key()
                .key_id(&arn)
                .send()
                .await
                .unwrap()
                .key_metadata
                .unwrap();
            if meta.key_state() == Some(&aws_sdk_kms::types::KeyState::PendingDeletion) {
                continue;
            }
        }
        left.push(arn);
    }
    left
}

/// Every per-service trace of `env`, by name (with the env tag deciding where names can
/// collide): an empty list means gone.
async fn remains_by_name(cfg: &aws_config::SdkConfig, env: &str) -> Vec<String> {
    let prefix = format!("elb-watch-{env}");
    let iam = aws_sdk_iam::Client::new(cfg);
    let lambda = aws_sdk_lambda::Client::new(cfg);
    let sns = aws_sdk_sns::Client::new(cfg);
    let cw = aws_sdk_cloudwatch::Client::new(cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(cfg);
    let kms = aws_sdk_kms::Client::new(cfg);
    let mut left = Vec::new();
    if iam
        .get_role()
        .role_name(format!("{prefix}-notifier"))
        .send()
        .await
        .is_ok()
    {
        left.push("role".to_string());
    }
    // Left is a queue still there once SQS's deletion window is over.
    let sqs = aws_sdk_sqs::Client::new(cfg);
    if !common::aws::queue_gone(&sqs, &format!("{prefix}-undelivered")).await {
        left.push("queue".to_string());
    }
    let policies = iam
        .list_policies()
        .path_prefix("/elb-watch/")
        .send()
        .await
        .unwrap();
    for p in policies.policies() {
        if p.policy_name() == Some(format!("{prefix}-kms-decrypt").as_str()) {
            left.push("policy".to_string());
        }
    }
    let functions = lambda.list_functions().send().await.unwrap();
    for f in functions.functions() {
        if f.function_name() == Some(format!("{prefix}-notifier").as_str()) {
            left.push("function".to_string());
        }
    }
    let topics = sns.list_topics().send().await.unwrap();
    for t in topics.topics() {
        if t.topic_arn()
            .unwrap()
            .ends_with(&format!(":{prefix}-alarms"))
        {
            left.push("topic".to_string());
        }
    }
    let subs = sns.list_subscriptions().send().await.unwrap();
    for s in subs.subscriptions() {
        if s.topic_arn()
            .unwrap()
            .ends_with(&format!(":{prefix}-alarms"))
        {
            left.push(format!("subscription {}", s.protocol().unwrap()));
        }
    }
    let mut alarms = Vec::new();
    // Today's names and those of earlier versions (`naming`).
    for alarm_prefix in [format!("elb-watch/{env}/"), format!("{prefix}-")] {
        let page = cw
            .describe_alarms()
            .alarm_name_prefix(alarm_prefix)
            .send()
            .await
            .unwrap();
        alarms.extend(page.metric_alarms().to_vec());
    }
    for a in &alarms {
        let tags = cw
            .list_tags_for_resource()
            .resource_arn(a.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
        if tags
            .tags()
            .iter()
            .any(|t| t.key() == Some("elb-watch:env") && t.value() == Some(env))
        {
            left.push(format!("alarm {}", a.alarm_name().unwrap()));
        }
    }
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{prefix}-notifier"))
        .send()
        .await
        .unwrap();
    for g in groups.log_groups() {
        if g.log_group_name() == Some(format!("/aws/lambda/{prefix}-notifier").as_str()) {
            left.push("log group".to_string());
        }
    }
    let aliases = kms.list_aliases().send().await.unwrap();
    for a in aliases.aliases() {
        if a.alias_name() == Some(format!("alias/{prefix}").as_str()) {
            left.push("alias".to_string());
        }
    }
    left
}

/// A hand-made alarm with prod's old-style name and none of its tags.
async fn put_handmade_alarm(cw: &aws_sdk_cloudwatch::Client) {
    cw.put_metric_alarm()
        .alarm_name("elb-watch-prod-handmade-HealthyHostCount")
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .unwrap();
}

fn deleted_kinds(report: &Value) -> Vec<String> {
    report["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn down_removes_its_env_only_twice_safely_and_up_works_again() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    // prod with an e-mail subscription too; prod-eu, whose names extend prod's, beside it.
    let r = up(&emu, "prod", CANARY, &["--email", "ops@example.com"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = up(&emu, "prod-eu", OTHER_URL, &["--min-healthy", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !tagged_for(&cfg, "prod").await.is_empty(),
        "the check sees prod's resources"
    );
    assert!(!remains_by_name(&cfg, "prod").await.is_empty());

    // A hand-made alarm with prod's prefix but no tags: not elb-watch's, so left alone (as are
    // prod-eu's alarms, which share the prefix).
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    put_handmade_alarm(&cw).await;
    // One wired to prod's topic but untagged: observe takes it for prod's, down's tag check
    // does not, so it is listed as left alone.
    cw.put_metric_alarm()
        .alarm_name("elb-watch/prod/web-alb/wired/HealthyHostCount")
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:elb-watch-prod-alarms")
        .send()
        .await
        .unwrap();
    let old_key = aws_sdk_kms::Client::new(&cfg)
        .describe_key()
        .key_id("alias/elb-watch-prod")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();

    let r = down(&emu, "prod");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["env"], "prod");
    assert_eq!(v["nothing_to_do"], false);
    assert_eq!(v["key_pending_window_days"], 7);
    let mut kinds = deleted_kinds(&v);
    kinds.sort();
    assert_eq!(
        kinds,
        [
            // two target groups', the three on the alerting path and the test alarm
            "alarm",
            "alarm",
            "alarm",
            "alarm",
            "alarm",
            "alarm",
            "iam-policy",
            "iam-role",
            "kms-alias",
            "kms-key",
            "lambda-function",
            "lambda-permission",
            "log-group",
            "sns-subscription",
            "sns-subscription",
            "sns-topic",
            "sqs-queue"
        ],
        "{v:#}"
    );
    let key = v["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "kms-key")
        .unwrap();
    assert_eq!(key["name"], old_key.as_str());
    assert_eq!(key["result"], "deletion_scheduled");
    assert!(key["note"].as_str().unwrap().contains("7-day"), "{key}");
    // The untagged alarm wired to prod is left and said so; the one not wired to prod (and
    // prod-eu's) are not even listed.
    assert_eq!(
        v["skipped"],
        json!([{"kind": "alarm", "name": "elb-watch/prod/web-alb/wired/HealthyHostCount",
                "reason": "not tagged as elb-watch's for env prod: left alone"}])
    );
    assert!(
        r.stderr.contains("KMS keys"),
        "progress on stderr: {}",
        r.stderr
    );

    // Nothing tagged for prod is left, by the tagging API and by each service's own list.
    assert_eq!(tagged_for(&cfg, "prod").await, Vec::<String>::new());
    assert_eq!(remains_by_name(&cfg, "prod").await, Vec::<String>::new());
    let handmade = cw
        .describe_alarms()
        .alarm_names("elb-watch-prod-handmade-HealthyHostCount")
        .send()
        .await
        .unwrap();
    assert_eq!(
        handmade.metric_alarms().len(),
        1,
        "the untagged alarm stays"
    );
    let wired = cw
        .describe_alarms()
        .alarm_names("elb-watch/prod/web-alb/wired/HealthyHostCount")
        .send()
        .await
        .unwrap();
    assert_eq!(
        wired.metric_alarms().len(),
        1,
        "the untagged wired alarm stays"
    );
    cw.delete_alarms()
        .alarm_names("elb-watch/prod/web-alb/wired/HealthyHostCount")
        .send()
        .await
        .unwrap();

    // prod-eu is untouched: still in sync, every resource present.
    let r = up(&emu, "prod-eu", OTHER_URL, &["--min-healthy", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["in_sync"], true, "{}", r.stdout);
    assert_eq!(status(&emu, "prod-eu").code, 0);
    assert!(!tagged_for(&cfg, "prod-eu").await.is_empty());

    // A second down finds nothing and succeeds; status says the env is gone.
    let r = down(&emu, "prod");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["nothing_to_do"], true);
    assert_eq!(v["deleted"], json!([]));
    let r = run(elb_watch(&emu).args(["--env", "prod", "down", "--yes"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("nothing to remove"), "{}", r.stdout);
    let s = status(&emu, "prod");
    assert_eq!(s.code, 1);
    assert_eq!(s.json()["exists"], false);

    // up again while the old key is pending deletion: a new key, wired, in sync.
    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = status(&emu, "prod");
    assert_eq!(s.code, 0, "{}", s.stdout);
    let v = s.json();
    assert_eq!(v["webhook"]["decrypts"], true);
    let kms = aws_sdk_kms::Client::new(&cfg);
    let new_key = kms
        .describe_key()
        .key_id("alias/elb-watch-prod")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_ne!(new_key.key_id(), old_key);
    let old = kms.describe_key().key_id(&old_key).send().await.unwrap();
    assert_eq!(
        old.key_metadata.unwrap().key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    // The function's ciphertext is under the new key.
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let f = lambda
        .get_function_configuration()
        .function_name("elb-watch-prod-notifier")
        .send()
        .await
        .unwrap();
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&f.environment().unwrap().variables().unwrap()["kmsEncryptedHookUrl"])
        .unwrap();
    let plain = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
        .encryption_context("LambdaFunctionName", "elb-watch-prod-notifier")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.key_id(), new_key.arn());
    assert_eq!(
        plain.plaintext().unwrap().as_ref(),
        CANARY.strip_prefix("https://").unwrap().as_bytes()
    );
}

#[test]
fn down_without_yes_and_without_a_terminal_is_refused_before_any_call() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);
    emu.start_recording().unwrap();
    let r = run(elb_watch(&emu).args(["--env", "prod", "down"]));
    let calls = emu.stop_recording().unwrap();
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert!(r.stderr.contains("not a terminal"), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(calls.is_empty(), "{calls:?}");
    assert_eq!(status(&emu, "prod").code, 0, "prod still whole");
}

#[tokio::test(flavor = "multi_thread")]
async fn down_of_a_half_made_env_schedules_its_unaliased_key_too() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    let killed = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", CANARY)
        .env("ELB_WATCH_FAULT_AFTER", "KMS key")
        .args(["--env", "half", "up", "--alb", "web-alb"]));
    assert_eq!(killed.code, 86, "{}", killed.stderr);
    // The Tagging API shows a new resource only after a lag (modelled by the strict layer).
    let mut before = tagged_for(&cfg, "half").await;
    for _ in 0..30 {
        if before.iter().any(|a| a.contains(":kms:")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        before = tagged_for(&cfg, "half").await;
    }
    assert!(before.iter().any(|a| a.contains(":kms:")), "{before:?}");

    let r = down(&emu, "half");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let kinds = deleted_kinds(&r.json());
    assert!(kinds.contains(&"kms-key".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"kms-alias".to_string()), "{kinds:?}");
    assert_eq!(tagged_for(&cfg, "half").await, Vec::<String>::new());
    assert_eq!(remains_by_name(&cfg, "half").await, Vec::<String>::new());
    assert_eq!(down(&emu, "half").json()["nothing_to_do"], true);
}

/// The Tagging API's index lags (AWS: "may not immediately reflect recent changes"; the strict
/// layer hides what was created or tagged for `tagging_lag`): a `down` right after `up` finds
/// none of the env's alarms there and proves each by its own tags, deleting every one and
/// leaving a hand-made alarm with the env's name but none of its tags.
#[tokio::test(flavor = "multi_thread")]
async fn down_within_the_tagging_index_lag_proves_each_alarm_by_its_own_tags() {
    let emu = Emulator::start_with(elb_watch_testkit::strict::StrictConfig {
        tagging_lag: std::time::Duration::from_secs(600),
        ..elb_watch_testkit::strict::StrictConfig::from_env()
    })
    .unwrap();
    let strict = emu.strict().expect("runs through the strict layer");
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let made: Vec<String> = r.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alarm" && c["action"] == "create")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(made.len() > 3, "target-group and alerting-path alarms");
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    put_handmade_alarm(&cw).await;

    emu.start_recording().unwrap();
    let d = down(&emu, "prod");
    let recorded = emu.stop_recording().unwrap();
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(strict.count("not-yet-indexed") > 0, "the index lagged");
    let calls = |service: &str, action: &str| {
        recorded
            .iter()
            .filter(|c| c.service == service && c.action == action)
            .count()
    };
    assert!(calls("tagging", "GetResources") >= 1);
    assert!(calls("monitoring", "ListTagsForResource") >= made.len());
    let mut deleted: Vec<String> = d.json()["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "alarm")
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    let mut made = made;
    made.sort();
    assert_eq!(deleted, made);
    let left = cw
        .describe_alarms()
        .alarm_name_prefix("elb-watch-prod-handmade")
        .send()
        .await
        .unwrap();
    assert_eq!(left.metric_alarms().len(), 1, "the hand-made alarm stays");
}
