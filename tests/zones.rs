//! `--min-healthy N` means the same for every kind (issue 21, part 4): fewer than N healthy
//! targets in the target group (Classic: the load balancer) as a whole — the zones summed where
//! AWS reports per zone — and with `--per-zone`, fewer than N in any zone.
//!
//! A two-zone NLB and a two-zone Classic ELB, two instances in each zone, zone a emptied (its
//! instances stopped) before `up`. Through the strict layer, rule 14 evaluates each new alarm
//! as CloudWatch would read `HealthyHostCount` (`testkit/src/strict/healthy_hosts.rs`: a
//! Classic ELB's own figure is its worst zone, per-zone figures count the zone's targets). The
//! old single-metric alarm reads the worst zone (0) and goes to ALARM under `--min-healthy 2`
//! although two instances serve: this test fails with it.

mod common;

use aws_sdk_cloudwatch as cloudwatch;
use common::aws::sdk;
use common::{elb_watch, run};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::{Value, json};
use std::time::Duration;

fn spec() -> Value {
    json!({
        "instance_zones": ["a", "a", "b", "b"],
        "target_groups": [{"name": "tcp-tg", "protocol": "TCP", "port": 443,
                           "targets": [0, 1, 2, 3]}],
        "load_balancers": [{"name": "tcp-nlb", "type": "network",
                            "listeners": [{"port": 443, "default": ["tcp-tg"]}]}],
        "classic_load_balancers": [{"name": "legacy", "instances": [0, 1, 2, 3]}]
    })
}

fn up(emu: &Emulator, sink: &SlackSink, env: &str, extra: &[&str]) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args([
            "--env", env, "--output", "json", "up", "--lb", "tcp-nlb", "--lb", "legacy",
        ])
        .args(extra));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

async fn alarms(emu: &Emulator, env: &str) -> Vec<cloudwatch::types::MetricAlarm> {
    let cw = cloudwatch::Client::new(&sdk(emu).await);
    let names = vec![
        common::tg_alarm(env, "tcp-nlb", "tcp-tg"),
        common::classic_alarm(env, "legacy"),
    ];
    let got = cw
        .describe_alarms()
        .set_alarm_names(Some(names))
        .send()
        .await
        .unwrap();
    assert_eq!(got.metric_alarms().len(), 2, "{env}");
    got.metric_alarms().to_vec()
}

/// Waits for both alarms of `env` to leave INSUFFICIENT_DATA; their (name, state).
async fn states(emu: &Emulator, env: &str) -> Vec<(String, String)> {
    for _ in 0..100 {
        let a = alarms(emu, env).await;
        let s: Vec<(String, String)> = a
            .iter()
            .map(|a| {
                (
                    a.alarm_name().unwrap().to_string(),
                    a.state_value().unwrap().as_str().to_string(),
                )
            })
            .collect();
        if s.iter().all(|(_, st)| st != "INSUFFICIENT_DATA") {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{env}: alarms not evaluated");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_zone_emptied_is_an_outage_only_when_the_whole_or_per_zone_rule_says_so() {
    let emu = Emulator::start_with(StrictConfig {
        first_evaluation: Some(Duration::from_millis(200)),
        ..StrictConfig::from_env()
    })
    .unwrap();
    let made = topology::create(&emu, &spec()).unwrap();
    for id in &made.instances[..2] {
        topology::set_instance_running(&emu, id, false).unwrap();
    }
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();

    up(&emu, &sink, "whole", &["--min-healthy", "2"]);
    // Two of four healthy: not fewer than 2 as a whole.
    for (name, state) in states(&emu, "whole").await {
        assert_eq!(state, "OK", "{name}");
    }

    // The alarms: over both zones, summed for the whole.
    for a in alarms(&emu, "whole").await {
        let name = a.alarm_name().unwrap();
        let expr: Vec<&str> = a.metrics().iter().filter_map(|q| q.expression()).collect();
        assert_eq!(expr, ["SUM([FILL(z0, 0), FILL(z1, 0)])"], "{name}");
        let zones: Vec<&str> = a
            .metrics()
            .iter()
            .filter_map(|q| q.metric_stat()?.metric())
            .flat_map(|m| m.dimensions())
            .filter(|d| d.name() == Some("AvailabilityZone"))
            .filter_map(|d| d.value())
            .collect();
        assert_eq!(zones, ["us-east-1a", "us-east-1b"], "{name}");
        let description = a.alarm_description().unwrap();
        assert!(
            description.contains("(its 2 zones summed)"),
            "{description}"
        );
    }
    // Fewer than 3 as a whole.
    up(&emu, &sink, "three", &["--min-healthy", "3"]);
    for (name, state) in states(&emu, "three").await {
        assert_eq!(state, "ALARM", "{name}");
    }

    // Any zone below 2: zone a has none.
    let r = up(&emu, &sink, "zonal", &["--min-healthy", "2", "--per-zone"]);
    for a in alarms(&emu, "zonal").await {
        let expr: Vec<&str> = a.metrics().iter().filter_map(|q| q.expression()).collect();
        assert_eq!(expr, ["MIN([FILL(z0, 0), FILL(z1, 0)])"]);
        assert!(
            a.alarm_description()
                .unwrap()
                .contains("in any of its 2 zones"),
            "{:?}",
            a.alarm_description()
        );
    }
    for (name, state) in states(&emu, "zonal").await {
        assert_eq!(state, "ALARM", "{name}");
    }
    assert_eq!(r.json()["summary"]["failed"], json!(null), "{}", r.stdout);

    // Recorded: status agrees with what up made, per env; switching the rule is drift up fixes.
    let s = run(elb_watch(&emu).args(["--env", "zonal", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let again = up(&emu, &sink, "zonal", &["--min-healthy", "2"]);
    let plan = again.stdout.clone();
    assert!(plan.contains("zones"), "the rule change is drift: {plan}");
    for a in alarms(&emu, "zonal").await {
        let expr: Vec<&str> = a.metrics().iter().filter_map(|q| q.expression()).collect();
        assert_eq!(expr, ["SUM([FILL(z0, 0), FILL(z1, 0)])"]);
    }
    let s = run(elb_watch(&emu).args(["--env", "zonal", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
}
