//! `elb-watch status` against the emulator: in sync after `up`, drift made by hand found and
//! repaired by `up`, target health, an env that does not exist, a half-made env, `--alb`, and
//! the webhook URL never printed.

mod common;

use common::{CANARY, Run, assert_no_leak, aws::sdk, elb_watch, run, spec, up};
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::{Value, json};

fn status(emu: &Emulator, env: &str, json: bool) -> Run {
    let mut cmd = elb_watch(emu);
    cmd.args(["--env", env]);
    if json {
        cmd.args(["--output", "json"]);
    }
    let r = run(cmd.arg("status"));
    assert_no_leak(&r);
    r
}

/// (kind, name) → (state, details) of every resource row.
fn rows(report: &Value) -> Vec<(String, String, String, Vec<String>)> {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
                r["details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn not_present(report: &Value) -> Vec<(String, String, String, Vec<String>)> {
    rows(report)
        .into_iter()
        .filter(|(_, _, state, _)| state != "present")
        .collect()
}

fn alarm(env: &str, tg: &str) -> String {
    common::tg_alarm(env, "web-alb", tg)
}

#[tokio::test(flavor = "multi_thread")]
async fn in_sync_after_up_drift_by_hand_is_reported_and_up_repairs_it() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);

    // Right after up: every resource present, exit 0, and the report's shape.
    let r = status(&emu, "prod", true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["env"], "prod");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["account_id"], "123456789012");
    assert_eq!(
        (v["exists"].clone(), v["in_sync"].clone()),
        (json!(true), json!(true))
    );
    assert!(not_present(&v).is_empty(), "{:#?}", not_present(&v));
    let kinds: Vec<String> = rows(&v).into_iter().map(|r| r.0).collect();
    for kind in [
        "iam-role",
        "kms-key",
        "kms-alias",
        "iam-policy",
        "sns-topic",
        "log-group",
        "lambda-function",
        "sns-subscription",
        "lambda-permission",
        "alarm",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    // Two target groups' alarms, the three on the alerting path and the test alarm.
    assert_eq!(kinds.iter().filter(|k| *k == "alarm").count(), 6);
    assert_eq!(
        v["webhook"],
        json!({"mode": "webhook", "set": true, "decrypts": true, "problem": null})
    );
    assert_eq!(v["settings"]["albs"], json!(["web-alb"]));
    assert_eq!(v["settings"]["min_healthy"], 1);
    let alarms = v["alarms"].as_array().unwrap();
    // Two target groups', the alerting path's three and the test alarm.
    assert_eq!(alarms.len(), 6);
    for a in alarms {
        assert!(a["state"].as_str().is_some_and(|s| !s.is_empty()), "{a}");
        assert!(a["since"].as_str().is_some(), "{a}");
    }
    let tgs = v["target_groups"].as_array().unwrap();
    assert_eq!(tgs.len(), 2);
    let web = tgs.iter().find(|t| t["name"] == "web-tg").unwrap();
    assert_eq!(web["alarm"], alarm("prod", "web-tg").as_str());
    assert_eq!(web["targets"].as_array().unwrap().len(), 1);
    assert_eq!(web["targets"][0]["id"], made.instances[0].as_str());
    assert_eq!(web["targets"][0]["state"], "healthy");
    assert!(
        v["verdict"]
            .as_str()
            .unwrap()
            .contains("present and in sync")
    );

    // The table says the same, with the verdict last.
    let t = status(&emu, "prod", false);
    assert_eq!(t.code, 0);
    assert!(
        t.stdout.contains("set, encrypted; decrypts"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("env prod: all "),
        "{}",
        t.stdout
    );

    // By hand: a threshold changed, the Lambda subscription removed, a stopped instance.
    let cfg = sdk(&emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);
    let web_alarm = alarm("prod", "web-tg");
    let described = cw
        .describe_alarms()
        .alarm_names(&web_alarm)
        .send()
        .await
        .unwrap();
    let a = &described.metric_alarms()[0];
    cw.put_metric_alarm()
        .alarm_name(&web_alarm)
        .set_alarm_description(a.alarm_description().map(String::from))
        .set_namespace(a.namespace().map(String::from))
        .set_metric_name(a.metric_name().map(String::from))
        .set_dimensions(Some(a.dimensions().to_vec()))
        .set_statistic(a.statistic().cloned())
        .set_period(a.period())
        .set_evaluation_periods(a.evaluation_periods())
        .set_comparison_operator(a.comparison_operator().cloned())
        .set_treat_missing_data(a.treat_missing_data().map(String::from))
        .set_alarm_actions(Some(a.alarm_actions().to_vec()))
        .set_ok_actions(Some(a.ok_actions().to_vec()))
        .threshold(5.0)
        .send()
        .await
        .unwrap();
    let topic = "arn:aws:sns:us-east-1:123456789012:elb-watch-prod-alarms";
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    for s in subs.subscriptions() {
        sns.unsubscribe()
            .subscription_arn(s.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    topology::set_instance_running(&emu, &made.instances[0], false).unwrap();

    let r = status(&emu, "prod", true);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["in_sync"], false);
    let bad = not_present(&v);
    assert_eq!(bad.len(), 2, "{bad:#?}");
    let drifted = bad.iter().find(|r| r.0 == "alarm").unwrap();
    assert_eq!(
        (drifted.1.as_str(), drifted.2.as_str()),
        (web_alarm.as_str(), "drifted")
    );
    assert!(drifted.3.contains(&"threshold".to_string()), "{drifted:?}");
    let sub = bad.iter().find(|r| r.0 == "sns-subscription").unwrap();
    assert_eq!(sub.2, "missing");
    let verdict = v["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("1 missing")
            && verdict.contains("1 drifted")
            && verdict.contains("threshold"),
        "{verdict}"
    );
    // The stopped instance: unused / Target.InvalidState in the emulator.
    let web = v["target_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web-tg")
        .unwrap()
        .clone();
    assert_eq!(web["targets"][0]["state"], "unused", "{web:#}");
    assert_eq!(
        web["targets"][0]["reason"], "Target.InvalidState",
        "{web:#}"
    );
    assert_eq!(web["healthy"], 0);
    let t = status(&emu, "prod", false);
    assert_eq!(t.code, 1);
    assert!(t.stdout.contains("Target.InvalidState"), "{}", t.stdout);
    assert!(t.stdout.contains("drifted"), "{}", t.stdout);

    // up puts it back; status agrees.
    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = status(&emu, "prod", true);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(not_present(&r.json()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn function_environment_changed_by_hand_is_drift_without_revealing_the_url() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);
    let cfg = sdk(&emu).await;
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let f = lambda
        .get_function_configuration()
        .function_name("elb-watch-prod-notifier")
        .send()
        .await
        .unwrap();
    let mut vars = f.environment().unwrap().variables().unwrap().clone();
    vars.insert(
        "kmsEncryptedHookUrl".into(),
        "bm90LWEtY2lwaGVydGV4dA==".into(),
    );
    vars.insert("DEBUG".into(), "1".into());
    lambda
        .update_function_configuration()
        .function_name("elb-watch-prod-notifier")
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(vars))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let r = status(&emu, "prod", true);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v = r.json();
    assert_eq!(v["webhook"]["set"], true);
    assert_eq!(v["webhook"]["decrypts"], false);
    let bad = not_present(&v);
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(
        (bad[0].0.as_str(), bad[0].2.as_str()),
        ("lambda-function", "drifted")
    );
    assert!(bad[0].3.contains(&"environment".to_string()), "{bad:?}");
    assert!(
        bad[0].3.iter().any(|d| d.contains("webhook URL")),
        "{bad:?}"
    );
}

#[test]
fn an_env_that_does_not_exist_and_a_half_made_one_are_drift() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();

    let r = status(&emu, "ghost", false);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim().lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("env ghost does not exist in us-east-1"),
        "{}",
        r.stdout
    );
    let v = status(&emu, "ghost", true).json();
    assert_eq!(
        (v["exists"].clone(), v["in_sync"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(v["settings"], Value::Null);

    // An up killed right after it made the KMS key (before the alias).
    let killed = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", CANARY)
        .env("ELB_WATCH_FAULT_AFTER", "KMS key")
        .args(["--env", "half", "up", "--alb", "web-alb"]));
    assert_eq!(killed.code, 86, "{}", killed.stderr);
    let r = status(&emu, "half", true);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(
        (v["exists"].clone(), v["in_sync"].clone()),
        (json!(true), json!(false))
    );
    let missing: Vec<String> = not_present(&v)
        .into_iter()
        .filter(|r| r.2 == "missing")
        .map(|r| r.0)
        .collect();
    for kind in [
        "kms-alias",
        "iam-policy",
        "lambda-function",
        "sns-subscription",
        "lambda-permission",
    ] {
        assert!(
            missing.iter().any(|k| k == kind),
            "{kind} not in {missing:?}"
        );
    }
    let key = rows(&v).into_iter().find(|r| r.0 == "kms-key").unwrap();
    assert_eq!(key.2, "missing");
    assert!(
        key.3.iter().any(|d| d.contains("has no alias")),
        "the unaliased key is named: {key:?}"
    );
    let verdict = v["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("missing") && verdict.contains("lambda-function"),
        "{verdict}"
    );

    // up completes it; status agrees.
    assert_eq!(up(&emu, "half", CANARY, &[]).code, 0);
    assert_eq!(status(&emu, "half", false).code, 0);
}

#[test]
fn status_with_alb_shows_target_groups_and_health_watched_or_not() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    topology::set_instance_running(&emu, &made.instances[1], false).unwrap();

    let view = |env: &str| {
        let r = run(elb_watch(&emu).args([
            "--env", env, "--output", "json", "status", "--alb", "web-alb",
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let v = view("prod");
    let tgs = v["target_groups"].as_array().unwrap();
    let names: Vec<&str> = tgs.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // By name within the load balancer.
    assert_eq!(names, ["api-tg", "web-tg"]);
    assert!(tgs.iter().all(|t| t["alarm"].is_null()), "not watched yet");
    assert_eq!(tgs[1]["targets"][0]["state"], "healthy");
    assert_eq!(tgs[0]["targets"][0]["state"], "unused");
    assert_eq!(tgs[0]["targets"][0]["reason"], "Target.InvalidState");
    assert_eq!(tgs[1]["load_balancer"], "web-alb");

    assert_eq!(up(&emu, "prod", CANARY, &[]).code, 0);
    let v = view("prod");
    assert_eq!(
        v["target_groups"][1]["alarm"],
        alarm("prod", "web-tg").as_str()
    );
    assert!(v["target_groups"][0]["alarm_state"].is_string());
    // Another env does not watch them.
    let v = view("staging");
    assert!(v["target_groups"][0]["alarm"].is_null());

    let r = run(elb_watch(&emu).args(["--env", "prod", "status", "--alb", "web-alb"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Target.InvalidState"), "{}", r.stdout);
    assert!(r.stdout.contains("api-tg"), "{}", r.stdout);
}

/// A target group whose alarm is OK is counted from CloudWatch's HealthyHostCount (one
/// GetMetricData call, no DescribeTargetHealth); one whose alarm is not OK is read target by
/// target; `--targets` reads them all. The count follows the targets' real health (strict
/// rule 20), and the answer (exit code, verdict) is the same either way.
#[tokio::test(flavor = "multi_thread")]
async fn ok_groups_are_counted_from_the_metric_and_targets_reads_them_all() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    let r = up(&emu, "prod", CANARY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    topology::set_alarm_states(&emu, &[alarm("prod", "web-tg")], "OK", "test: in service").unwrap();
    let by_name = |v: &Value, name: &str| {
        v["target_groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };

    emu.start_recording().unwrap();
    let r = status(&emu, "prod", true);
    let recorded = emu.stop_recording().unwrap();
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    let web = by_name(&v, "web-tg");
    assert_eq!(web["alarm_state"], "OK", "{web:#}");
    assert_eq!(web["targets"], Value::Null, "{web:#}");
    assert_eq!(
        (web["healthy"].clone(), web["healthy_from"].clone()),
        (json!(1), json!("metric"))
    );
    // api-tg's alarm is still INSUFFICIENT_DATA: its targets are read.
    let api = by_name(&v, "api-tg");
    assert_eq!(api["healthy_from"], "targets", "{api:#}");
    assert_eq!(api["targets"][0]["id"], made.instances[1].as_str());
    let of = |action: &str| recorded.iter().filter(|c| c.action == action).count();
    let groups = v["target_groups"].as_array().unwrap().len();
    assert_eq!(of("DescribeTargetHealth"), groups - 1, "all but the OK one");
    assert_eq!(of("GetMetricData"), 1);
    let verdict = v["verdict"].clone();

    // The table says where the figure comes from.
    let t = status(&emu, "prod", false);
    assert_eq!(t.code, 0);
    let line = t
        .stdout
        .lines()
        .find(|l| l.contains("web-tg") && l.contains("healthy"))
        .unwrap_or_else(|| panic!("{}", t.stdout));
    assert!(
        line.contains("1 healthy") && line.contains("--targets"),
        "{}",
        t.stdout
    );

    // --targets: every group's targets, web-tg's included; same verdict and exit code.
    let all =
        run(elb_watch(&emu).args(["--env", "prod", "--output", "json", "status", "--targets"]));
    assert_eq!(all.code, 0, "{}", all.stderr);
    let a = all.json();
    let web = by_name(&a, "web-tg");
    assert_eq!(web["healthy_from"], "targets");
    assert_eq!(web["targets"][0]["id"], made.instances[0].as_str());
    assert_eq!(a["verdict"], verdict);

    // The instance stops; the alarm has not been evaluated yet (still OK), and the metric's
    // count already says 0.
    topology::set_instance_running(&emu, &made.instances[0], false).unwrap();
    let web = by_name(&status(&emu, "prod", true).json(), "web-tg");
    assert_eq!(
        (web["healthy"].clone(), web["healthy_from"].clone()),
        (json!(0), json!("metric")),
        "{web:#}"
    );
}
