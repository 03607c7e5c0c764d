//! Every load balancer kind end to end (issue 14): an ALB, an NLB, a Gateway LB and a Classic
//! ELB are discovered by name, each gets its HealthyHostCount alarm in its own namespace with
//! its own dimensions, and an ALARM of each is rendered by the real notifier with the kind's
//! name and its target health (DescribeTargetHealth, or DescribeInstanceHealth for Classic).
//!
//! The emulator runs with the harness's correction of NLB/GWLB ARNs (`net/`, `gwy/`: see
//! scripts/moto_server.py), so an alarm on a wrong `app/` dimension would fail here.

mod common;

use common::{aws::sdk, elb_watch, run};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{Outcome, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::time::Duration;

const FUNCTION: &str = "elb-watch-k-notifier";

/// One of each kind. `tcp-tg` is health-checked every 30 s with 5 failures to be unhealthy: up
/// to 4 min 30 s to ALARM, over the 3-minute mark.
pub fn mixed() -> Value {
    json!({
        "instances": 2,
        "target_groups": [
            {"name": "web-tg", "targets": [0]},
            {"name": "tcp-tg", "protocol": "TCP", "port": 443, "targets": [1],
             "health_check": {"interval": 30, "unhealthy": 5}},
            {"name": "fw-tg", "protocol": "GENEVE", "port": 6081, "targets": [0]}
        ],
        "load_balancers": [
            {"name": "web-alb", "listeners": [{"port": 80, "default": ["web-tg"]}]},
            {"name": "tcp-nlb", "type": "network",
             "listeners": [{"port": 443, "default": ["tcp-tg"]}]},
            {"name": "fw-gwlb", "type": "gateway", "listeners": [{"default": ["fw-tg"]}]}
        ],
        "classic_load_balancers": [{"name": "legacy", "instances": [0, 1]}]
    })
}

async fn alarm(emu: &Emulator, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(emu).await);
    let got = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    assert_eq!(got.metric_alarms().len(), 1, "no alarm {name}");
    got.metric_alarms()[0].clone()
}

/// (namespace, sorted dimensions) of each per-zone query of a metric-math alarm.
fn zone_queries(
    a: &aws_sdk_cloudwatch::types::MetricAlarm,
) -> Vec<(String, Vec<(String, String)>)> {
    a.metrics()
        .iter()
        .filter_map(|q| q.metric_stat()?.metric())
        .map(|m| {
            (
                m.namespace().unwrap().to_string(),
                sorted_pairs(m.dimensions()),
            )
        })
        .collect()
}

/// (name, value) of dimensions, sorted.
fn sorted_pairs(dims: &[aws_sdk_cloudwatch::types::Dimension]) -> Vec<(String, String)> {
    let mut d: Vec<(String, String)> = dims
        .iter()
        .map(|d| {
            (
                d.name().unwrap().to_string(),
                d.value().unwrap().to_string(),
            )
        })
        .collect();
    d.sort();
    d
}

fn dims(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Vec<(String, String)> {
    sorted_pairs(a.dimensions())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_is_alarmed_in_its_namespace_and_its_alarm_rendered_with_its_health() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &mixed()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", "k", "--output", "json", "up"])
        .args([
            "--lb", "web-alb", "--lb", "tcp-nlb", "--alb", "fw-gwlb", "--lb", "legacy",
        ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report = r.json();

    // Namespace and dimensions per kind, from the real ARNs (net/…, gwy/…).
    let lb_dim = |name: &str| {
        made.load_balancers[name]
            .split_once(":loadbalancer/")
            .unwrap()
            .1
            .to_string()
    };
    let tg_dim = |name: &str| {
        let arn = &made.target_groups[name];
        arn[arn.find("targetgroup/").unwrap()..].to_string()
    };
    // An ALB's target-group figure is the whole target group: one metric.
    let web = alarm(&emu, &common::tg_alarm("k", "web-alb", "web-tg")).await;
    assert_eq!(web.namespace(), Some("AWS/ApplicationELB"));
    assert_eq!(
        dims(&web),
        [
            ("LoadBalancer".to_string(), lb_dim("web-alb")),
            ("TargetGroup".to_string(), tg_dim("web-tg"))
        ]
    );
    // NLB and GWLB report per zone: the whole is the zones' sum (metric math, one query per
    // zone of the load balancer, `tests/zones.rs` for the figures).
    for (tg, lb, namespace) in [
        ("tcp-tg", "tcp-nlb", "AWS/NetworkELB"),
        ("fw-tg", "fw-gwlb", "AWS/GatewayELB"),
    ] {
        let a = alarm(&emu, &common::tg_alarm("k", lb, tg)).await;
        assert_eq!(
            zone_queries(&a),
            ["us-east-1a", "us-east-1b"].map(|zone| (
                namespace.to_string(),
                vec![
                    ("AvailabilityZone".to_string(), zone.to_string()),
                    ("LoadBalancer".to_string(), lb_dim(lb)),
                    ("TargetGroup".to_string(), tg_dim(tg)),
                ]
            )),
            "{tg}"
        );
    }
    assert!(lb_dim("tcp-nlb").starts_with("net/tcp-nlb/"));
    assert!(lb_dim("fw-gwlb").starts_with("gwy/fw-gwlb/"));
    let classic = alarm(&emu, &common::classic_alarm("k", "legacy")).await;
    assert_eq!(
        zone_queries(&classic),
        ["us-east-1a", "us-east-1b"].map(|zone| (
            "AWS/ELB".to_string(),
            vec![
                ("AvailabilityZone".to_string(), zone.to_string()),
                ("LoadBalancerName".to_string(), "legacy".to_string()),
            ]
        ))
    );
    assert_eq!(
        classic.alarm_description(),
        Some(
            "elb-watch k: Classic ELB legacy has no healthy instances in the load balancer as a \
             whole (its 2 zones summed)"
        )
    );

    // The plan prices its alarms (4 watched + the alerting path's 3 + the test alarm) by the
    // metrics they read (the ALB's 1, two zones each for the NLB, GWLB and Classic ELB, 1 each
    // on the path and the test alarm's: 11) and flags tcp-tg.
    assert_eq!(report["cost"]["added"], 8, "{:#}", report["cost"]);
    assert_eq!(report["cost"]["alarm_metrics"], 11, "{:#}", report["cost"]);
    assert_eq!(report["cost"]["monthly_usd"], 1.1);
    let slow: Vec<&Value> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "slow-alert")
        .collect();
    assert_eq!(slow.len(), 1, "{:#}", report["warnings"]);
    assert_eq!(slow[0]["target_group"], "tcp-tg");
    assert!(
        slow[0]["message"]
            .as_str()
            .unwrap()
            .contains("--unhealthy-threshold-count 2"),
        "{}",
        slow[0]["message"]
    );
    let times = report["alert_times"].as_array().unwrap();
    assert_eq!(times.len(), 4);

    // status: in sync, the Classic ELB's instances read with DescribeInstanceHealth.
    let s = run(elb_watch(&emu).args(["--env", "k", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let v = s.json();
    let legacy = v["target_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "legacy")
        .cloned()
        .unwrap_or_else(|| panic!("no legacy row: {v:#}"));
    assert_eq!(legacy["healthy"], 2, "{legacy}");
    assert_eq!(legacy["alarm"], common::classic_alarm("k", "legacy"));

    // The notifier renders each kind's ALARM with its name and its targets' health.
    let api = RuntimeApi::start().await.unwrap();
    let process = common::notifier(&emu, &api, FUNCTION);
    for (n, (name, label, lb, health)) in [
        (
            "web-tg",
            "Application Load Balancer",
            "web-alb",
            "all 1 registered",
        ),
        (
            "tcp-tg",
            "Network Load Balancer",
            "tcp-nlb",
            "all 1 registered",
        ),
        (
            "fw-tg",
            "Gateway Load Balancer",
            "fw-gwlb",
            "all 1 registered",
        ),
        (
            "legacy",
            "Classic Load Balancer",
            "legacy",
            "all 2 registered",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let event = topology::alarm_event(
            &emu,
            &if name == lb {
                common::classic_alarm("k", lb)
            } else {
                common::tg_alarm("k", lb, name)
            },
            "ALARM",
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing \
             datapoints were treated as [Breaching].",
        )
        .unwrap();
        let inv = api.invoke(event, Duration::from_secs(30)).await.unwrap();
        assert_eq!(
            inv.outcome,
            Outcome::Response(json!({"records": 1, "delivered": 1, "skipped": 0})),
            "{}",
            process.logs()
        );
        let text = sink.received()[n].to_string();
        assert!(
            text.contains(&format!("*{label}*\\n{lb}")),
            "{name}: {text}"
        );
        assert!(text.contains(health), "{name}: no target health in {text}");
        let link = if name == "legacy" {
            "#LoadBalancers:search=legacy|View load balancer>"
        } else {
            "|View target group>"
        };
        assert!(text.contains(link), "{name}: {text}");
        assert!(!text.contains("Target health unavailable"), "{text}");
    }
}
