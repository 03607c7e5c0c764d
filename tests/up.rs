//! `elb-watch up` against the emulator: the wiring read back through the AWS APIs, idempotency
//! counted by the emulator itself, envs side by side, convergence after a kill at every step.

mod common;

use base64::Engine;
use common::{CANARY, OTHER_URL, aws::sdk, elb_watch, run, spec, up};
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::Value;
use std::collections::BTreeMap;

fn actions(report: &Value) -> BTreeMap<String, String> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!(
                    "{} {}",
                    c["kind"].as_str().unwrap(),
                    c["name"].as_str().unwrap()
                ),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn tag_of(tags: impl IntoIterator<Item = (String, String)>, key: &str) -> Option<String> {
    tags.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Read everything back through the AWS APIs and check the chain is wired end to end.
async fn assert_wired(
    emu: &Emulator,
    env: &str,
    url: &str,
    expected_alarms: &[&str],
    threshold: f64,
) {
    let cfg = sdk(emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let kms = aws_sdk_kms::Client::new(&cfg);
    let iam = aws_sdk_iam::Client::new(&cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let prefix = format!("elb-watch-{env}");
    let topic = format!("arn:aws:sns:us-east-1:123456789012:{prefix}-alarms");
    let function = format!("{prefix}-notifier");
    let env_tag = |tags: Vec<(String, String)>| tag_of(tags, "elb-watch:env");

    // Alarms: one per target group, ALARM and OK actions to the topic, named under
    // `elb-watch/ENV/` (no other env's alarm is); the env tag says so too.
    let alarms: Vec<_> = cw
        .describe_alarms()
        .alarm_name_prefix(format!("elb-watch/{env}/"))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|page| page.metric_alarms().to_vec())
        .collect();
    let mut names = Vec::new();
    let mut watchers = Vec::new();
    for a in &alarms {
        let tags = cw
            .list_tags_for_resource()
            .resource_arn(a.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
        let tags = tags
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()));
        if env_tag(tags.collect()).as_deref() != Some(env) {
            continue;
        }
        assert_eq!(a.alarm_actions(), std::slice::from_ref(&topic));
        assert_eq!(a.ok_actions(), std::slice::from_ref(&topic));
        let name = a.alarm_name().unwrap().to_string();
        if !name.ends_with("/HealthyHostCount") {
            // The alerting path's three (tests/watcher.rs checks their metrics).
            watchers.push(name);
            continue;
        }
        names.push(name);
        assert_eq!(a.metric_name(), Some("HealthyHostCount"));
        assert_eq!(a.namespace(), Some("AWS/ApplicationELB"));
        assert_eq!(a.threshold(), Some(threshold));
        let dims: Vec<&str> = a.dimensions().iter().filter_map(|d| d.name()).collect();
        assert!(dims.contains(&"TargetGroup") && dims.contains(&"LoadBalancer"));
    }
    names.sort();
    let mut want = expected_alarms.to_vec();
    want.sort();
    assert_eq!(names, want);
    watchers.sort();
    assert_eq!(
        watchers,
        [
            format!("elb-watch/{env}/destination-failures"),
            format!("elb-watch/{env}/notifier-errors"),
            format!("elb-watch/{env}/test"),
            format!("elb-watch/{env}/undelivered-alerts")
        ]
    );

    // Topic → function subscription; permission scoped to the topic.
    let f = lambda
        .get_function()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let fcfg = f.configuration().unwrap();
    let function_arn = fcfg.function_arn().unwrap().to_string();
    assert_eq!(fcfg.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(fcfg.handler(), Some("bootstrap"));
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let lambda_subs: Vec<_> = subs
        .subscriptions()
        .iter()
        .filter(|s| s.protocol() == Some("lambda"))
        .collect();
    assert_eq!(lambda_subs.len(), 1);
    assert_eq!(lambda_subs[0].endpoint(), Some(function_arn.as_str()));
    let policy: Value = serde_json::from_str(
        lambda
            .get_policy()
            .function_name(&function)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        topic.as_str()
    );
    assert_eq!(statements[0]["Action"], "lambda:InvokeFunction");

    // The ciphertext decrypts, with the function's encryption context, to the URL; the plain
    // URL is nowhere in the function's configuration.
    let vars = fcfg.environment().unwrap().variables().unwrap();
    assert!(vars.values().all(|v| !v.contains(url)));
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&vars["kmsEncryptedHookUrl"])
        .unwrap();
    let plain = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
        .encryption_context("LambdaFunctionName", &function)
        .send()
        .await
        .unwrap();
    // Encrypted without `https://`, as the console blueprint stores it.
    let stored = url.strip_prefix("https://").unwrap_or(url);
    assert_eq!(plain.plaintext().unwrap().as_ref(), stored.as_bytes());
    let key = kms
        .describe_key()
        .key_id(format!("alias/{prefix}"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(plain.key_id(), Some(key.arn().unwrap()));
    let key_tags = kms
        .list_resource_tags()
        .key_id(key.key_id())
        .send()
        .await
        .unwrap();
    let key_tags = key_tags
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()));
    assert_eq!(env_tag(key_tags.collect()).as_deref(), Some(env));

    // The role has exactly: the decrypt-only policy (on this key) and the runtime policy.
    let role = format!("{prefix}-notifier");
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    let attached: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    let policy_arn = format!("arn:aws:iam::123456789012:policy/elb-watch/{prefix}-kms-decrypt");
    assert_eq!(attached, [policy_arn.as_str()]);
    let inline = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["notifier-runtime".to_string()]);
    let p = iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let version = iam
        .get_policy_version()
        .policy_arn(&policy_arn)
        .version_id(p.policy().unwrap().default_version_id().unwrap())
        .send()
        .await
        .unwrap();
    let doc =
        elb_watch::policy::parse_document(version.policy_version().unwrap().document().unwrap())
            .unwrap();
    assert_eq!(
        doc,
        elb_watch::policy::decrypt_only_policy(
            key.arn().unwrap(),
            &format!("elb-watch-{env}-notifier")
        )
    );
    let role_out = iam.get_role().role_name(&role).send().await.unwrap();
    let role_tags = role_out
        .role()
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()));
    assert_eq!(env_tag(role_tags.collect()).as_deref(), Some(env));

    // Tags on the topic, the function and the log group too.
    let topic_tags = sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    let topic_tags = topic_tags
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()));
    assert_eq!(env_tag(topic_tags.collect()).as_deref(), Some(env));
    // GetFunction carries no Tags for a caller without lambda:ListTags: read them with ListTags.
    let ftags = lambda
        .list_tags()
        .resource(&function_arn)
        .send()
        .await
        .unwrap();
    let ftags: Vec<(String, String)> = ftags
        .tags()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(env_tag(ftags).as_deref(), Some(env));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{function}"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
}

fn alarm(env: &str, tg: &str) -> String {
    common::tg_alarm(env, "web-alb", tg)
}

#[tokio::test(flavor = "multi_thread")]
async fn up_wires_the_chain_and_a_second_up_makes_no_mutating_call() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();

    let first = up(&emu, "prod", CANARY, &["--slack-channel", "#ops"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let report = first.json();
    assert!(
        actions(&report).values().all(|a| a == "create"),
        "{report:#}"
    );
    assert!(report["api_calls"]["mutating"].as_u64().unwrap() >= 13);
    // Every CloudWatch call went out as RPC v2 CBOR (the current SDK) and through the bridge.
    let cloudwatch_calls: u64 = report["api_calls"]["by_operation"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(op, _)| op.starts_with("CloudWatch."))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    let bridged = emu.cbor_bridge().unwrap().stats();
    eprintln!("CBOR bridge after a fresh up: {bridged:?}");
    assert!(cloudwatch_calls >= 3, "{report:#}");
    // Each call the CLI made was translated once, plus once per attempt the SDK retried after
    // an error answer (four alarms in a burst meet PutMetricAlarm's 3/s quota).
    assert_eq!(
        (bridged.translated.values().sum::<usize>() - bridged.errors.values().sum::<usize>())
            as u64,
        cloudwatch_calls,
        "{bridged:?}"
    );
    let (web, api) = (alarm("prod", "web-tg"), alarm("prod", "api-tg"));
    assert_wired(&emu, "prod", CANARY, &[&web, &api], 1.0).await;

    emu.start_recording().unwrap();
    let second = up(&emu, "prod", CANARY, &["--slack-channel", "#ops"]);
    let calls = emu.stop_recording().unwrap();
    assert_eq!(second.code, 0, "{}", second.stderr);
    let report = second.json();
    assert_eq!(report["in_sync"], true);
    assert!(
        actions(&report).values().all(|a| a == "unchanged"),
        "{report:#}"
    );
    assert!(calls.len() >= 10, "the recording saw the reads: {calls:?}");
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "a no-op up mutated: {mutating:?}");
    assert_eq!(report["api_calls"]["mutating"], 0);
    assert_eq!(
        report["api_calls"]["total"].as_u64().unwrap() as usize,
        calls.len()
    );

    // A webhook's channel cannot be chosen by the payload: the plan and status both say so.
    let status = run(elb_watch(&emu).args(["--env", "prod", "--output", "json", "status"]));
    for (what, v) in [("up", &report), ("status", &status.json())] {
        let kinds: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["kind"].as_str())
            .collect();
        assert!(
            kinds.contains(&"webhook-channel-fixed"),
            "{what}: {kinds:?}"
        );
    }
    assert!(
        second.stdout.contains("ignores --slack-channel #ops"),
        "{}",
        second.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_inputs_update_only_what_differs() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);

    // A new threshold touches the alarms (and the recorded settings), nothing else.
    let r = up(&emu, "prod", CANARY, &["--min-healthy", "2", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dry = actions(&r.json());
    emu.start_recording().unwrap();
    let r = up(&emu, "prod", CANARY, &["--min-healthy", "2"]);
    let calls = emu.stop_recording().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let changed: BTreeMap<String, String> = actions(&r.json())
        .into_iter()
        .filter(|(_, a)| a != "unchanged")
        .collect();
    assert_eq!(
        dry.into_iter()
            .filter(|(_, a)| a != "unchanged")
            .collect::<BTreeMap<_, _>>(),
        changed
    );
    let expected: BTreeMap<String, String> = [
        format!("alarm {}", alarm("prod", "web-tg")),
        format!("alarm {}", alarm("prod", "api-tg")),
        "sns-topic elb-watch-prod-alarms".to_string(),
    ]
    .into_iter()
    .map(|k| (k, "update".to_string()))
    .collect();
    assert_eq!(changed, expected);
    let mut mutating: Vec<String> = calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| c.action.clone())
        .collect();
    mutating.sort();
    assert_eq!(
        mutating,
        ["PutMetricAlarm", "PutMetricAlarm", "TagResource"]
    );
    assert_wired(
        &emu,
        "prod",
        CANARY,
        &[&alarm("prod", "web-tg"), &alarm("prod", "api-tg")],
        2.0,
    )
    .await;

    // A new URL and channel: only the function's configuration changes (a new ciphertext).
    emu.start_recording().unwrap();
    let r = up(
        &emu,
        "prod",
        OTHER_URL,
        &["--min-healthy", "2", "--slack-channel", "#alerts"],
    );
    let calls = emu.stop_recording().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut mutating: Vec<String> = calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| c.action.clone())
        .collect();
    mutating.sort();
    assert_eq!(
        mutating,
        [
            "Encrypt",
            "PUT /2015-03-31/functions/elb-watch-prod-notifier/configuration",
            "TagResource"
        ]
    );
    assert_wired(
        &emu,
        "prod",
        OTHER_URL,
        &[&alarm("prod", "web-tg"), &alarm("prod", "api-tg")],
        2.0,
    )
    .await;

    // The URL may be left out once set: the function keeps its ciphertext.
    let r = run(elb_watch(&emu).args([
        "--env",
        "prod",
        "--output",
        "json",
        "up",
        "--alb",
        "web-alb",
        "--min-healthy",
        "2",
        "--slack-channel",
        "#alerts",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["in_sync"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn detached_target_groups_lose_their_alarms() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);

    // Route /api/* to spare-tg instead: api-tg's alarm goes, spare-tg's comes.
    let cfg = sdk(&emu).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(&made.load_balancers["web-alb"])
        .send()
        .await
        .unwrap();
    let rules = elb
        .describe_rules()
        .listener_arn(listeners.listeners()[0].listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let api_rule = rules
        .rules()
        .iter()
        .find(|r| r.is_default() != Some(true))
        .unwrap();
    elb.modify_rule()
        .rule_arn(api_rule.rule_arn().unwrap())
        .actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&made.target_groups["spare-tg"])
                .build(),
        )
        .send()
        .await
        .unwrap();

    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let acts = actions(&r.json());
    assert_eq!(
        acts[&format!("alarm {}", alarm("prod", "api-tg"))],
        "delete"
    );
    assert_eq!(
        acts[&format!("alarm {}", alarm("prod", "spare-tg"))],
        "create"
    );
    assert_wired(
        &emu,
        "prod",
        CANARY,
        &[&alarm("prod", "web-tg"), &alarm("prod", "spare-tg")],
        1.0,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_envs_side_by_side_do_not_touch_each_other() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    // "prod-eu" extends "prod": its alarm names share prod's prefix.
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);
    let r = up(&emu, "prod-eu", OTHER_URL, &["--min-healthy", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Everything of prod-eu is new; the account's one notifier boundary, made by prod, is shared.
    let acts = actions(&r.json());
    assert_eq!(
        acts["iam-boundary-policy elb-watch-notifier-boundary"], "unchanged",
        "{acts:?}"
    );
    assert!(
        acts.iter()
            .filter(|(k, _)| !k.starts_with("iam-boundary-policy "))
            .all(|(_, a)| a == "create"),
        "{acts:?}"
    );

    // prod is exactly as it was: still in sync, its URL and threshold intact.
    let again = up(&emu, "prod", CANARY, &[]);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
    assert_wired(
        &emu,
        "prod",
        CANARY,
        &[&alarm("prod", "web-tg"), &alarm("prod", "api-tg")],
        1.0,
    )
    .await;

    // prod's alarm names reach none of prod-eu's (the old `elb-watch-prod-` did); prod-eu is in
    // sync and wired.
    let cfg = sdk(&emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let count = |prefix: &'static str| {
        let cw = cw.clone();
        async move {
            // Every page: DescribeAlarms may answer in small pages (the strict layer serves two).
            let pages: Vec<_> = cw
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            pages
                .into_iter()
                .map(|p| p.unwrap().metric_alarms().len())
                .sum::<usize>()
        }
    };
    // Two target groups', the alerting path's three and the test alarm, per env.
    assert_eq!(count("elb-watch/").await, 12);
    assert_eq!(count("elb-watch/prod/").await, 6);
    assert_eq!(count("elb-watch-").await, 0, "no alarm under an old name");
    let r = up(&emu, "prod-eu", OTHER_URL, &["--min-healthy", "3"]);
    assert_eq!(r.json()["in_sync"], true);
    assert_wired(
        &emu,
        "prod-eu",
        OTHER_URL,
        &[&alarm("prod-eu", "web-tg"), &alarm("prod-eu", "api-tg")],
        3.0,
    )
    .await;
}

/// Every step `up` reports, in the order a fresh `up` finishes them is not fixed (they overlap),
/// so each is tried on its own.
const STEPS: [&str; 13] = [
    "IAM role",
    "SNS topic",
    "log group",
    "alarms",
    "alarms armed",
    "KMS key",
    "KMS alias",
    "decrypt-only policy",
    "notifier function",
    "invoke permission",
    "SNS subscription",
    "SQS queue",
    "async invoke config",
];

#[tokio::test(flavor = "multi_thread")]
async fn an_up_killed_after_any_step_converges_on_the_next_run() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let cfg = sdk(&emu).await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    for (i, step) in STEPS.iter().enumerate() {
        let env = format!("crash{i}");
        let killed = run(elb_watch(&emu)
            .env("ELB_WATCH_SLACK_URL", CANARY)
            .env("ELB_WATCH_FAULT_AFTER", step)
            .args(["--env", &env, "up", "--alb", "web-alb"]));
        assert_eq!(killed.code, 86, "{step}: {}", killed.stderr);
        assert!(
            killed
                .stderr
                .contains(&format!("fault injected after step '{step}'"))
        );

        let rerun = up(&emu, &env, CANARY, &[]);
        assert_eq!(rerun.code, 0, "{step}: {}", rerun.stderr);
        let third = up(&emu, &env, CANARY, &[]);
        assert_eq!(
            third.json()["in_sync"],
            true,
            "{step}: not converged: {}",
            third.stdout
        );
        assert_wired(
            &emu,
            &env,
            CANARY,
            &[&alarm(&env, "web-tg"), &alarm(&env, "api-tg")],
            1.0,
        )
        .await;

        // No leaked key: exactly one KMS key carries this env's tag (counted through KMS
        // itself, every page: the tagging API lags and pages one resource at a time).
        assert_eq!(keys_tagged(&kms, &env).await, 1, "{step}: keys leaked");
    }
}

/// KMS keys whose tags say `elb-watch:env=ENV`, through ListKeys + ListResourceTags (all pages).
async fn keys_tagged(kms: &aws_sdk_kms::Client, env: &str) -> usize {
    let keys = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let mut n = 0;
    for k in keys {
        let tags = kms
            .list_resource_tags()
            .key_id(k.key_id().unwrap())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        if tags
            .iter()
            .any(|t| t.tag_key() == "elb-watch:env" && t.tag_value() == env)
        {
            n += 1;
        }
    }
    n
}

#[test]
fn bad_inputs_are_refused_before_any_aws_call() {
    let emu = Emulator::start().unwrap();
    emu.start_recording().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--slack-url",
                "http://hooks.slack.com/services/T/B/canary-secret",
            ],
            "must use https",
        ),
        (
            &[
                "--slack-url",
                "https://evil.example/services/T/B/canary-secret",
            ],
            "must look like",
        ),
        (
            &["--slack-url", CANARY, "--min-healthy", "0"],
            "--min-healthy",
        ),
        (
            &["--slack-url", CANARY, "--email", "nobody"],
            "not an e-mail address",
        ),
        (
            &["--slack-url", CANARY, "--log-retention-days", "8"],
            "--log-retention-days",
        ),
    ];
    for (args, expect) in cases {
        let r = run(elb_watch(&emu).args(["up", "--alb", "web-alb"]).args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("canary-secret"), "{}", r.stderr);
    }
    // The ALB must exist: discovery refuses before anything is created.
    let r = run(elb_watch(&emu).args(["up", "--alb", "nope", "--slack-url", CANARY]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no load balancer named nope"),
        "{}",
        r.stderr
    );
    let calls = emu.stop_recording().unwrap();
    assert!(calls.iter().all(|c| !c.is_mutating()), "{calls:?}");
    assert!(calls.iter().all(|c| c.service != "kms"), "{calls:?}");
}

/// `--mention` and `--runbook` reach the notifier (its environment), are recorded for `status`
/// (in sync after `up`, drift when someone changes them by hand), and bad ones are refused
/// before anything is made.
#[tokio::test(flavor = "multi_thread")]
async fn mentions_and_a_runbook_reach_the_notifier_and_status_keeps_them() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let bad = up(&emu, "mnt", CANARY, &["--mention", "@everyone"]);
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(
        bad.stderr.contains("is not a Slack mention"),
        "{}",
        bad.stderr
    );
    let http = up(
        &emu,
        "mnt",
        CANARY,
        &["--runbook", "http://wiki.example.com/web"],
    );
    assert_eq!(http.code, 2);
    assert!(http.stderr.contains("https URL"), "{}", http.stderr);

    let runbook = "https://wiki.example.com/runbooks/web?team=a&b=c";
    let r = up(
        &emu,
        "mnt",
        CANARY,
        &[
            "--mention",
            "@here",
            "--mention",
            "<!subteam^S0123ABC>",
            "--runbook",
            runbook,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lambda = aws_sdk_lambda::Client::new(&sdk(&emu).await);
    let f = lambda
        .get_function_configuration()
        .function_name("elb-watch-mnt-notifier")
        .send()
        .await
        .unwrap();
    let vars = f.environment().unwrap().variables().unwrap();
    assert_eq!(vars["ELB_WATCH_MENTIONS"], "<!here> <!subteam^S0123ABC>");
    assert_eq!(vars["ELB_WATCH_RUNBOOK_URL"], runbook);

    let s = run(elb_watch(&emu).args(["--env", "mnt", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}", s.stdout);
    let settings = &s.json()["settings"];
    assert_eq!(
        settings["mentions"],
        serde_json::json!(["<!here>", "<!subteam^S0123ABC>"])
    );
    assert_eq!(settings["runbook"], runbook);

    // A no-op `up` with the same options changes nothing; without them, the mentions go.
    let again = up(
        &emu,
        "mnt",
        CANARY,
        &[
            "--mention",
            "@here",
            "--mention",
            "<!subteam^S0123ABC>",
            "--runbook",
            runbook,
        ],
    );
    assert_eq!(again.json()["api_calls"]["mutating"], 0, "{}", again.stdout);
    let without = up(&emu, "mnt", CANARY, &[]);
    assert_eq!(without.code, 0);
    let f = lambda
        .get_function_configuration()
        .function_name("elb-watch-mnt-notifier")
        .send()
        .await
        .unwrap();
    let vars = f.environment().unwrap().variables().unwrap();
    assert!(!vars.contains_key("ELB_WATCH_MENTIONS"), "{vars:?}");
    assert!(!vars.contains_key("ELB_WATCH_RUNBOOK_URL"), "{vars:?}");
}
