//! Discovery against the emulator: several target groups, one shared by two listener rules, a
//! weighted forward, a second listener, a missing ALB and an NLB (watched like the others).

mod common;

use common::{elb_watch, run};
use elb_watch_testkit::{emulator::Emulator, topology};
use serde_json::json;

fn spec() -> serde_json::Value {
    json!({
        "instances": 2,
        "target_groups": [
            {"name": "web-tg", "targets": [0, 1]},
            {"name": "api-tg", "targets": [1]},
            {"name": "canary-tg"},
            {"name": "admin-tg", "port": 8080},
            {"name": "orphan-tg"},
            {"name": "other-tg"},
            {"name": "net-tg", "protocol": "TCP"}
        ],
        "load_balancers": [
            {"name": "web-alb", "listeners": [
                {"port": 80, "default": ["web-tg"], "rules": [
                    {"path": "/api/*", "forward": ["api-tg"]},
                    {"path": "/v2/api/*", "forward": ["api-tg"]},
                    {"path": "/beta/*", "forward": ["canary-tg", "web-tg"]}
                ]},
                {"port": 8080, "default": ["admin-tg"]}
            ]},
            {"name": "other-alb", "listeners": [{"port": 80, "default": ["other-tg"]}]},
            {"name": "empty-alb"},
            {"name": "net-lb", "type": "network",
             "listeners": [{"port": 80, "protocol": "TCP", "default": ["net-tg"]}]}
        ]
    })
}

fn target_groups(v: &serde_json::Value) -> Vec<(String, String)> {
    v["target_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["load_balancer"].as_str().unwrap().to_string(),
                t["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn discovery_follows_listeners_and_rules_and_reports_bad_names() {
    let emu = Emulator::start().unwrap();
    let made = topology::create(&emu, &spec()).unwrap();

    // Every TG reachable from web-alb through a listener or a rule (weighted forward included),
    // once each, by name; orphan-tg is not.
    let r = run(elb_watch(&emu).args(["--output", "json", "status", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let web = |tg: &str| ("web-alb".to_string(), tg.to_string());
    assert_eq!(
        target_groups(&v),
        vec![
            web("admin-tg"),
            web("api-tg"),
            web("canary-tg"),
            web("web-tg"),
        ]
    );
    let tg = &v["target_groups"][3];
    assert_eq!(tg["arn"], made.target_groups["web-tg"].as_str());
    let tg_id = made.target_groups["web-tg"].rsplit(':').next().unwrap();
    assert_eq!(tg["dimension"], tg_id);
    let lb_arn = &made.load_balancers["web-alb"];
    let lb_dim = lb_arn.split_once(":loadbalancer/").unwrap().1;
    assert_eq!(tg["load_balancer_dimension"], lb_dim);

    // Several ALBs, one of them named twice and one without listeners.
    let r = run(elb_watch(&emu).args([
        "--output",
        "json",
        "status",
        "--alb",
        "other-alb",
        "--alb",
        "empty-alb",
        "--alb",
        "other-alb",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        target_groups(&v),
        vec![("other-alb".into(), "other-tg".into())]
    );
    assert_eq!(v["load_balancers"].as_array().unwrap().len(), 2);

    // The table names the ALB without target groups.
    let r = run(elb_watch(&emu).args(["status", "--alb", "empty-alb", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("canary-tg"), "{}", r.stdout);
    assert!(
        r.stdout.contains("no target groups behind: empty-alb"),
        "{}",
        r.stdout
    );

    // A missing ALB: one line naming it and listing what exists; exit 2; no backtrace.
    let r = run(elb_watch(&emu).args(["status", "--alb", "web-alb", "--alb", "nope-alb"]));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "error: no load balancer named nope-alb in region us-east-1 (load balancers there: \
         empty-alb, net-lb, other-alb, web-alb); check --lb/--alb and --region"
    );

    // An NLB is a load balancer like any other (issue 14): its target group, through its
    // listener, marked as an NLB's.
    let r = run(elb_watch(&emu).args(["--output", "json", "status", "--lb", "net-lb"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(target_groups(&v), vec![("net-lb".into(), "net-tg".into())]);
    assert_eq!(v["target_groups"][0]["kind"], "network", "{v:#}");
    assert_eq!(v["load_balancers"][0]["kind"], "network", "{v:#}");
    assert!(
        v["load_balancers"][0]["dimension"]
            .as_str()
            .unwrap()
            .starts_with("net/net-lb/"),
        "{v:#}"
    );
}

#[test]
fn wrong_region_unreachable_endpoint_and_missing_credentials_are_one_line_errors() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &topology::seed_spec()).unwrap();

    // The ALB exists in us-east-1, not in eu-west-1.
    let r = run(elb_watch(&emu).args(["--region", "eu-west-1", "status", "--alb", "web-alb"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("error: no load balancer named web-alb in region eu-west-1"),
        "{}",
        r.stderr
    );

    let r = run(elb_watch(&emu).args([
        "--endpoint-url",
        "http://127.0.0.1:9",
        "status",
        "--alb",
        "web-alb",
    ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("could not reach the AWS endpoint"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--endpoint-url"), "{}", r.stderr);

    let r = run(elb_watch(&emu)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["status", "--alb", "web-alb"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no usable AWS credentials"),
        "{}",
        r.stderr
    );

    let r = run(elb_watch(&emu).args(["--region", "moon-1", "status", "--alb", "web-alb"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an AWS region code"), "{}", r.stderr);

    for r in [
        run(elb_watch(&emu).args(["--region", "eu-west-1", "status", "--alb", "web-alb"])),
        run(elb_watch(&emu).args(["--env", "Bad_Env", "status"])),
    ] {
        assert!(!r.stderr.contains("stack backtrace"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}
