//! Selecting load balancers without naming them (issue 14): `--tag KEY=VALUE` and `--all`, with
//! load balancers added and removed between two `up`s. The selection is recorded on the topic,
//! so `status` looks again and reports what is new (no alarm yet) and what is gone (an alarm
//! left behind) as drift; the next `up` adds and removes those alarms.

mod common;

use common::{CANARY, aws::sdk, elb_watch, resource_row, run};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::topology;
use serde_json::{Value, json};

/// The alarm of target group (or Classic ELB) `tg` of this file's topologies.
fn alarm(env: &str, tg: &str) -> String {
    match tg {
        "legacy" | "older" => common::classic_alarm(env, tg),
        "tcp-tg" => common::tg_alarm(env, "tcp-nlb", tg),
        "new-tg" => common::tg_alarm(env, "new-alb", tg),
        _ => common::tg_alarm(env, "web-alb", tg),
    }
}

fn up(emu: &Emulator, env: &str, select: &[&str]) -> Value {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", CANARY)
        .args(["--env", env, "--output", "json", "up"])
        .args(select));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r.json()
}

fn status(emu: &Emulator, env: &str) -> (i32, Value) {
    let r = run(elb_watch(emu).args(["--env", env, "--output", "json", "status"]));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (r.code, r.json())
}

/// (action, reasons) of each alarm change of an `up` report, by alarm name.
fn alarm_changes(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alarm" && c["action"] != "unchanged")
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Team a: `web-alb` (ALB) and `legacy` (Classic); team b: `tcp-nlb`.
fn teams() -> Value {
    json!({
        "instances": 1,
        "target_groups": [
            {"name": "web-tg", "targets": [0]},
            {"name": "tcp-tg", "protocol": "TCP", "port": 443, "targets": [0]}
        ],
        "load_balancers": [
            {"name": "web-alb", "tags": {"team": "a"},
             "listeners": [{"port": 80, "default": ["web-tg"]}]},
            {"name": "tcp-nlb", "type": "network", "tags": {"team": "b"},
             "listeners": [{"port": 443, "default": ["tcp-tg"]}]}
        ],
        "classic_load_balancers": [{"name": "legacy", "instances": [0], "tags": {"team": "a"}}]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_selection_follows_load_balancers_added_and_removed() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &teams()).unwrap();
    let first = up(&emu, "ta", &["--tag", "team=a"]);
    assert_eq!(
        alarm_changes(&first)
            .into_iter()
            .filter(|(n, _)| n.ends_with("/HealthyHostCount"))
            .collect::<Vec<_>>(),
        [
            (alarm("ta", "legacy"), "create".to_string()),
            (alarm("ta", "web-tg"), "create".to_string())
        ]
    );
    let (code, v) = status(&emu, "ta");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["settings"]["tags"], json!(["team=a"]));

    // Next month: a new team-a ALB; the Classic ELB is retired.
    topology::create(
        &emu,
        &json!({
            "instances": 1,
            "target_groups": [{"name": "new-tg", "targets": [0]}],
            "load_balancers": [{"name": "new-alb", "tags": {"team": "a"},
                                "listeners": [{"port": 80, "default": ["new-tg"]}]}]
        }),
    )
    .unwrap();
    aws_sdk_elasticloadbalancing::Client::new(&sdk(&emu).await)
        .delete_load_balancer()
        .load_balancer_name("legacy")
        .send()
        .await
        .unwrap();

    let (code, v) = status(&emu, "ta");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        resource_row(&v, &alarm("ta", "new-tg"))["state"],
        "missing",
        "{v:#}"
    );
    let gone = resource_row(&v, &alarm("ta", "legacy"));
    assert_eq!(gone["state"], "extra", "{v:#}");
    assert!(
        gone["details"]
            .to_string()
            .contains("no longer behind the selected load balancers"),
        "{gone}"
    );

    let second = up(&emu, "ta", &["--tag", "team=a"]);
    assert_eq!(
        alarm_changes(&second),
        [
            (alarm("ta", "legacy"), "delete".to_string()),
            (alarm("ta", "new-tg"), "create".to_string())
        ]
    );
    assert_eq!(second["cost"]["added"], 1);
    assert_eq!(second["cost"]["removed"], 1);
    assert_eq!(status(&emu, "ta").0, 0);
    // team b's NLB was never touched.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    let tcp = cw
        .describe_alarms()
        .alarm_names(alarm("ta", "tcp-tg"))
        .send()
        .await
        .unwrap();
    assert!(tcp.metric_alarms().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn all_watches_every_load_balancer_and_the_ones_added_next() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &teams()).unwrap();
    let first = up(&emu, "every", &["--all", "--dry-run"]);
    // The dry run says what --all would add and cost before anything exists.
    assert_eq!(first["cost"]["added"], 7, "{:#}", first["cost"]);
    // 9 alarm metrics: the ALB's 1, two zones each for the NLB and the Classic ELB, the path's 3,
    // the test alarm's 1.
    assert_eq!(first["cost"]["alarm_metrics"], 9, "{:#}", first["cost"]);
    assert_eq!(first["cost"]["monthly_usd"], 0.9);
    let made = up(&emu, "every", &["--all"]);
    let created: Vec<String> = alarm_changes(&made)
        .into_iter()
        .filter(|(n, a)| n.ends_with("/HealthyHostCount") && a == "create")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        created,
        [
            alarm("every", "legacy"),
            alarm("every", "tcp-tg"),
            alarm("every", "web-tg")
        ]
    );

    // An NLB goes away and a Classic ELB arrives.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk(&emu).await);
    let nlb = elb
        .describe_load_balancers()
        .names("tcp-nlb")
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    elb.delete_load_balancer()
        .load_balancer_arn(nlb)
        .send()
        .await
        .unwrap();
    topology::create(
        &emu,
        &json!({"instances": 1, "classic_load_balancers": [{"name": "older", "instances": [0]}]}),
    )
    .unwrap();
    let (code, v) = status(&emu, "every");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        resource_row(&v, &alarm("every", "older"))["state"],
        "missing"
    );
    assert_eq!(
        resource_row(&v, &alarm("every", "tcp-tg"))["state"],
        "extra"
    );

    let second = up(&emu, "every", &["--all"]);
    assert_eq!(
        alarm_changes(&second),
        [
            (alarm("every", "older"), "create".to_string()),
            (alarm("every", "tcp-tg"), "delete".to_string())
        ]
    );
    let (code, v) = status(&emu, "every");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["settings"]["all"], true);
}
