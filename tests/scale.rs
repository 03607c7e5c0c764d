//! 20 ALBs × 10 target groups (200 alarms): `up`, a no-op `up`, `status` and `down` through the
//! strict layer's request-rate quotas (AWS's documented defaults: PutMetricAlarm 3 TPS, the ELB
//! Describe* bucket 40 / 10 per s, …) finish with zero failures — bounded calls in flight per
//! service plus the SDK's adaptive retry. `ELB_WATCH_STRICT_RATE_SCALE` scales the quotas.
//! The call shapes: a no-op `up` reads no listener or rule; `status` reads targets only of the
//! target groups whose alarm is not OK, and counts the others with one GetMetricData call.

mod common;

use common::{CANARY, assert_no_leak, elb_watch, run};
use elb_watch_testkit::{emulator::Emulator, strict::StrictConfig, topology};

const ALBS: usize = 20;
const TGS_PER_ALB: usize = 10;

#[test]
fn two_hundred_alarms_up_noop_status_down_through_aws_rate_quotas() {
    // Tagging API pages of 50 (AWS: up to 100 with ResourcesPerPage; the layer's default of 1
    // is for the tests that prove callers follow every page).
    let emu = Emulator::start_with(StrictConfig {
        tagging_page_size: 50,
        ..StrictConfig::from_env()
    })
    .unwrap();
    let strict = emu
        .strict()
        .expect("runs through the strict layer (unset ELB_WATCH_STRICT)");
    topology::create(&emu, &topology::fleet(ALBS, TGS_PER_ALB)).unwrap();
    let albs = topology::fleet_alb_args(ALBS);
    let base = ["--env", "scale", "--output", "json", "--no-progress"];

    let started = std::time::Instant::now();
    let fresh = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", CANARY)
        .args(base)
        .arg("up")
        .args(&albs));
    assert_no_leak(&fresh);
    assert_eq!(fresh.code, 0, "fresh up: {}", fresh.stderr);
    let report = fresh.json();
    let created_alarms = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alarm" && c["action"] == "create")
        .count();
    // One per target group, the three on the alerting path and the test alarm.
    assert_eq!(created_alarms, ALBS * TGS_PER_ALB + 4);
    let up_ms = started.elapsed().as_millis();
    let throttled_up = strict.count("throttled");
    assert!(
        throttled_up > 0,
        "200 PutMetricAlarm at 3 TPS must meet throttling, or this test proves nothing"
    );

    emu.start_recording().unwrap();
    let noop = run(elb_watch(&emu).args(base).arg("up").args(&albs));
    let recorded = emu.stop_recording().unwrap();
    assert_eq!(noop.code, 0, "no-op up: {}", noop.stderr);
    let mutating: Vec<_> = recorded.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "a no-op up mutated: {mutating:?}");
    // Discovery reads pages, not walks: no listener or rule is read, and the target groups come
    // from region-wide DescribeTargetGroups pages (the strict layer cuts pages to 2 items;
    // AWS's are up to 400), not one call per load balancer or listener.
    let of = |action: &str| recorded.iter().filter(|c| c.action == action).count();
    assert_eq!(
        of("DescribeListeners") + of("DescribeRules"),
        0,
        "{recorded:?}"
    );
    let page = elb_watch_testkit::strict::StrictConfig::from_env()
        .page_size
        .max(1);
    assert!(
        of("DescribeTargetGroups") <= (ALBS * TGS_PER_ALB).div_ceil(page) + 1,
        "{} DescribeTargetGroups calls",
        of("DescribeTargetGroups")
    );

    // Every target group's alarm OK but alb-0's ten (INSUFFICIENT_DATA, as a new alarm is):
    // status reads targets one by one only for those ten, and counts the rest from CloudWatch.
    let ok: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "alarm" && c["action"] == "create")
        .filter_map(|c| c["name"].as_str())
        .filter(|n| n.ends_with("HealthyHostCount") && !n.contains("/alb-0/"))
        .map(String::from)
        .collect();
    assert_eq!(ok.len(), (ALBS - 1) * TGS_PER_ALB, "{ok:?}");
    topology::set_alarm_states(&emu, &ok, "OK", "test: in service").unwrap();
    emu.start_recording().unwrap();
    let status = run(elb_watch(&emu).args(base).arg("status"));
    let recorded = emu.stop_recording().unwrap();
    assert_eq!(
        status.code, 0,
        "status: {}\n{}",
        status.stderr, status.stdout
    );
    let s = status.json();
    assert_eq!(
        s["alarms"].as_array().unwrap().len(),
        ALBS * TGS_PER_ALB + 4
    );
    let of = |action: &str| recorded.iter().filter(|c| c.action == action).count();
    assert_eq!(
        of("DescribeTargetHealth"),
        TGS_PER_ALB,
        "one per group not OK"
    );
    assert_eq!(of("GetMetricData"), 1, "190 counts fit one call of 500");
    let groups = s["target_groups"].as_array().unwrap();
    assert_eq!(groups.len(), ALBS * TGS_PER_ALB);
    for g in groups {
        let listed = g["load_balancer"] == "alb-0";
        assert_eq!(g["targets"].is_array(), listed, "{g}");
        assert_eq!(
            g["healthy_from"],
            if listed { "targets" } else { "metric" },
            "{g}"
        );
        // Each group has its one instance registered and healthy: the metric says so too.
        assert_eq!(g["healthy"], 1, "{g}");
    }

    emu.start_recording().unwrap();
    let down = run(elb_watch(&emu).args(base).args(["down", "--yes"]));
    let recorded = emu.stop_recording().unwrap();
    assert_eq!(down.code, 0, "down: {}", down.stderr);
    // Ownership of the alarms comes from the Tagging API's index in pages (203 alarms, 50 a
    // page), not from one ListTagsForResource per alarm: the index lists every alarm made
    // seconds before, longer ago than the layer's tagging lag.
    let calls = |service: &str, action: &str| {
        recorded
            .iter()
            .filter(|c| c.service == service && c.action == action)
            .count()
    };
    assert_eq!(calls("tagging", "GetResources"), 5, "{recorded:?}");
    assert_eq!(calls("monitoring", "ListTagsForResource"), 0);
    let d = down.json();
    let deleted_alarms = d["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "alarm")
        .count();
    assert_eq!(deleted_alarms, ALBS * TGS_PER_ALB + 4);

    // SQS answers for a deleted queue while its deletion runs (up to 60 s on AWS; strict layer
    // rule 16, for `queue_name_reuse`): a second `down` within it would find the queue again.
    std::thread::sleep(
        elb_watch_testkit::strict::StrictConfig::from_env().queue_name_reuse
            + std::time::Duration::from_millis(500),
    );
    let again = run(elb_watch(&emu).args(base).args(["down", "--yes"]));
    assert_eq!(again.code, 0, "second down: {}", again.stderr);
    assert_eq!(again.json()["nothing_to_do"], true);

    println!(
        "20 ALBs x 10 TGs through the strict layer: fresh up {up_ms} ms, {} API calls; \
         throttled answers: {throttled_up} during up, {} in all; layer stats: {:?}",
        report["api_calls"]["total"],
        strict.count("throttled"),
        strict
            .stats()
            .into_iter()
            .filter(|(k, _)| k.starts_with("throttled"))
            .collect::<Vec<_>>()
    );
}
