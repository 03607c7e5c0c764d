//! The provisioner's promises, proven on what it actually creates:
//! - the webhook URL never appears in any output, tag, description, plain env or notifier log;
//! - the notifier role can do exactly: decrypt with its key, write its own logs, read target
//!   health;
//! - AWS throttling is retried by the SDK's retry configuration, not by hand.

mod common;

use base64::Engine;
use common::{aws::sdk, elb_watch, run};
use elb_watch::policy::parse_document;
use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::throttle_proxy::ThrottleProxy;
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// The canary's forms that must never be seen: the URL, its secret path, and base64 of the URL.
fn canary_forms(url: &str) -> Vec<String> {
    let path = url.split("/services/").nth(1).unwrap().to_string();
    vec![
        url.to_string(),
        path,
        base64::engine::general_purpose::STANDARD.encode(url),
    ]
}

fn assert_clean(what: &str, text: &str, url: &str) {
    for form in canary_forms(url) {
        assert!(
            !text.contains(&form),
            "{what} contains the webhook URL ({form}):\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_url_appears_nowhere() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &topology::seed_spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    // A URL whose secret part is unmistakable, served by the local sink.
    let url = format!(
        "{}/services/T0CANARY/B0CANARY/c4n4ry5ecr3tXYZ",
        sink.url().trim_end_matches('/')
    );
    let env = "canary";
    let with_url = |args: &[&str]| {
        run(elb_watch(&emu)
            .env("ELB_WATCH_SLACK_URL", &url)
            .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "1")
            .args(["--env", env])
            .args(args))
    };
    let mut outputs = Vec::new();
    for args in [
        &["up", "--alb", "web-alb", "--dry-run"][..],
        &["--output", "json", "up", "--alb", "web-alb", "--dry-run"],
        &["-v", "up", "--alb", "web-alb"],
        &["--output", "json", "up", "--alb", "web-alb"],
        &["up", "--alb", "missing-alb"],
        &["status"],
        &["--output", "json", "status"],
    ] {
        let r = with_url(args);
        assert_ne!(r.code, -1);
        outputs.push((format!("{args:?}"), r));
    }
    // The URL given on argv instead, and rejected: the error must not echo it either.
    let bad = url.replace("http://", "ftp://");
    let r =
        run(elb_watch(&emu).args(["--env", env, "up", "--alb", "web-alb", "--slack-url", &bad]));
    assert_eq!(r.code, 2);
    outputs.push(("rejected URL".into(), r));
    // Through stdin.
    let mut cmd = elb_watch(&emu);
    cmd.env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "1")
        .args([
            "--env",
            env,
            "--output",
            "json",
            "up",
            "--alb",
            "web-alb",
            "--slack-url-file",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(url.as_bytes())
        .unwrap();
    let r: common::Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["in_sync"], true, "stdin gave the same URL");
    outputs.push(("stdin".into(), r));
    assert_eq!(outputs[3].1.code, 0, "{}", outputs[3].1.stderr);
    assert!(
        outputs[2].1.stderr.contains("DEBUG"),
        "-v logs the SDK's activity"
    );
    for (what, r) in &outputs {
        assert_clean(&format!("stdout of {what}"), &r.stdout, &url);
        assert_clean(&format!("stderr of {what}"), &r.stderr, &url);
    }

    // Tags of everything (tagging API + IAM), descriptions, the function's plain configuration.
    let cfg = sdk(&emu).await;
    let tagging = aws_sdk_resourcegroupstagging::Client::new(&cfg);
    // Every page: the Tagging API may answer one resource per page (the strict layer does).
    let pages: Vec<_> = tagging
        .get_resources()
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut seen = String::new();
    for m in pages
        .into_iter()
        .flat_map(|p| p.unwrap().resource_tag_mapping_list.unwrap_or_default())
    {
        for t in m.tags() {
            seen.push_str(&format!("{}={}\n", t.key(), t.value()));
        }
    }
    assert!(seen.contains("elb-watch:env=canary"), "{seen}");
    let iam = aws_sdk_iam::Client::new(&cfg);
    let role = iam
        .get_role()
        .role_name("elb-watch-canary-notifier")
        .send()
        .await
        .unwrap();
    seen.push_str(&format!("{:?}", role.role()));
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let f = lambda
        .get_function()
        .function_name("elb-watch-canary-notifier")
        .send()
        .await
        .unwrap();
    seen.push_str(&format!("{:?}", f.configuration()));
    seen.push_str(&format!("{:?}", f.tags()));
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let alarms = cw
        .describe_alarms()
        .alarm_name_prefix("elb-watch/canary/")
        .send()
        .await
        .unwrap();
    seen.push_str(&format!("{:?}", alarms.metric_alarms()));
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms
        .describe_key()
        .key_id("alias/elb-watch-canary")
        .send()
        .await
        .unwrap();
    seen.push_str(&format!("{:?}", key.key_metadata()));
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic = "arn:aws:sns:us-east-1:123456789012:elb-watch-canary-alarms";
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    seen.push_str(&format!("{:?}", attrs.attributes()));
    assert_clean("AWS-side configuration, tags and descriptions", &seen, &url);

    // The notifier's logs, running with the deployed environment and delivering a message.
    let mut env_vars = emu.aws_env();
    env_vars.extend(topology::function_env(&emu, "elb-watch-canary-notifier").unwrap());
    env_vars.push((
        "AWS_LAMBDA_FUNCTION_NAME".into(),
        "elb-watch-canary-notifier".into(),
    ));
    env_vars.push(("RUST_LOG".into(), "debug".into()));
    let api = RuntimeApi::start().await.unwrap();
    let bootstrap = PathBuf::from(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH"));
    let function = FunctionProcess::spawn(&bootstrap, &api, &env_vars).unwrap();
    let event = topology::alarm_event(
        &emu,
        "elb-watch/canary/web-alb/web-tg/HealthyHostCount",
        "ALARM",
        "test",
    )
    .unwrap();
    let inv = api.invoke(event, Duration::from_secs(30)).await.unwrap();
    assert!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    assert_eq!(
        sink.received().len(),
        1,
        "the message went to the canary URL"
    );
    let logs = function.logs();
    assert!(
        logs.contains("elb-watch/canary/web-alb/web-tg/HealthyHostCount"),
        "{logs}"
    );
    assert_clean("notifier logs", &logs, &url);
}

/// (action, resource) pairs a policy document allows.
fn allowed(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let list = |v: &Value| match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => vec![],
    };
    for s in doc["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow", "only Allow statements expected: {s}");
        assert!(
            s.get("NotAction").is_none() && s.get("NotResource").is_none(),
            "{s}"
        );
        for a in list(&s["Action"]) {
            for r in list(&s["Resource"]) {
                out.insert((a.clone(), r));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_notifier_role_can_do_exactly_what_the_notifier_needs() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &topology::seed_spec()).unwrap();
    let r = run(elb_watch(&emu)
        .env(
            "ELB_WATCH_SLACK_URL",
            "https://hooks.slack.com/services/T0/B0/x",
        )
        .args(["--env", "lp", "up", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let cfg = sdk(&emu).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let kms = aws_sdk_kms::Client::new(&cfg);
    let role = "elb-watch-lp-notifier";
    let key_arn = kms
        .describe_key()
        .key_id("alias/elb-watch-lp")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();

    // Everything the role's policies allow, read back from IAM.
    let mut effective = BTreeSet::new();
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    for p in attached.attached_policies() {
        let arn = p.policy_arn().unwrap();
        let meta = iam.get_policy().policy_arn(arn).send().await.unwrap();
        let v = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(meta.policy().unwrap().default_version_id().unwrap())
            .send()
            .await
            .unwrap();
        effective.extend(allowed(
            &parse_document(v.policy_version().unwrap().document().unwrap()).unwrap(),
        ));
    }
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    for name in inline.policy_names() {
        let p = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        effective.extend(allowed(&parse_document(p.policy_document()).unwrap()));
    }
    let logs = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/elb-watch-lp-notifier:*";
    let expected: BTreeSet<(String, String)> = [
        ("kms:Decrypt", key_arn.as_str()),
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
        // A Classic Load Balancer's ALARM is enriched with its instances' health.
        ("elasticloadbalancing:DescribeInstanceHealth", "*"),
        ("elasticloadbalancing:DescribeTargetHealth", "*"),
        // The history of this env's alarms only (the recovery's outage duration).
        (
            "cloudwatch:DescribeAlarmHistory",
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch/lp/*/HealthyHostCount",
        ),
        (
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:123456789012:elb-watch-lp-undelivered",
        ),
        // A maintenance window's end: this env's alarms still in ALARM, and its mute rules.
        (
            "cloudwatch:DescribeAlarms",
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elb-watch/lp/*/HealthyHostCount",
        ),
        (
            "cloudwatch:GetAlarmMuteRule",
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:elb-watch-lp-mute-*",
        ),
        // The alarm's graph: GetMetricWidgetImage has no resource type.
        ("cloudwatch:GetMetricWidgetImage", "*"),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    assert_eq!(effective, expected);

    // Who may assume it: Lambda only.
    let got = iam.get_role().role_name(role).send().await.unwrap();
    let trust = parse_document(got.role().unwrap().assume_role_policy_document().unwrap()).unwrap();
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(statements[0]["Action"], "sts:AssumeRole");

    // The key policy gives the role decrypt only, bound to its function by the context.
    let policy = kms
        .get_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let role_arn = got.role().unwrap().arn();
    let for_role: Vec<&Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Principal"]["AWS"] == role_arn)
        .collect();
    assert_eq!(for_role.len(), 1);
    assert_eq!(for_role[0]["Action"], "kms:Decrypt");
    assert_eq!(
        for_role[0]["Condition"]["StringEquals"]["kms:EncryptionContext:LambdaFunctionName"],
        "elb-watch-lp-notifier"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_by_the_sdk() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &topology::seed_spec()).unwrap();
    // One operation of each protocol: query (ELB, IAM), RPC v2 CBOR (CloudWatch), JSON (KMS),
    // REST (Lambda).
    let ops = [
        "DescribeLoadBalancers",
        "CreateRole",
        "PutMetricAlarm",
        "CreateKey",
        "POST /2015-03-31/functions",
    ];
    let proxy = ThrottleProxy::start(&emu, &ops, 2).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("AWS_ENDPOINT_URL", proxy.endpoint_url())
        .env(
            "ELB_WATCH_SLACK_URL",
            "https://hooks.slack.com/services/T0/B0/x",
        )
        .args(["--env", "thr", "--output", "json", "up", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    let throttled = proxy.throttled();
    let seen = proxy.seen();
    for op in ops {
        assert_eq!(
            throttled.get(op),
            Some(&2),
            "{op} was throttled twice: {throttled:?}"
        );
        // PutMetricAlarm is called five times: the target group's alarm, the three on the
        // alerting path and the test alarm; the first call meets both refusals.
        // DescribeLoadBalancers twice: the ELBv2 and the Classic ELB API (same operation name).
        let calls = match op {
            "PutMetricAlarm" => 5,
            "DescribeLoadBalancers" => 2,
            _ => 1,
        };
        assert_eq!(
            seen.get(op),
            Some(&(2 + calls)),
            "{op}: two throttled attempts, then success"
        );
    }
    // The CLI issued each of these operations once: the retries happened inside the SDK.
    let by_op = &report["api_calls"]["by_operation"];
    for op in [
        "Elastic Load Balancing v2.DescribeLoadBalancers",
        "IAM.CreateRole",
        "KMS.CreateKey",
        "Lambda.CreateFunction",
    ] {
        assert_eq!(by_op[op], 1, "{op}: {by_op}");
    }
    assert_eq!(by_op["CloudWatch.PutMetricAlarm"], 5, "{by_op}");
}
