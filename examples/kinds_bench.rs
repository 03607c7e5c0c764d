//! Issue 14 at full size: 200 load balancers of every kind watching 1,000 target groups — 75
//! ALBs × 8 target groups, 55 NLBs × 6, 30 Gateway LBs × 1, 40 Classic ELBs — selected with
//! `--all`. Runs `up`, a no-op `up`, `status` and `down` against the emulator through the strict
//! layer (AWS's default request-rate quotas: PutMetricAlarm 3 per second, …) and prints, for
//! each, the wall time, the API calls (mutating) and the throttled answers the layer gave.
//!
//!     scripts/emulator.sh setup && cargo run --release --example kinds_bench
//!     scripts/emulator.sh setup && cargo run --release --example kinds_bench -- --albs 100x10
//!
//! `--albs AxT`: A ALBs of T target groups each instead (one listener, all but the first target
//! group behind path rules: the walk that used to meet `DescribeRules` throttling). Before
//! `status`, every target group's alarm is set OK (straight on moto, unthrottled), as a healthy
//! fleet's alarms are on AWS. Each command's calls are counted by operation from the strict
//! layer's recording (what reached AWS, retries of throttled calls included). The layer cuts
//! pages to 100 items here.
//!
//! Seeding the emulator (boto3, straight to moto) is timed apart. The figures include the
//! emulator's own latency: they are not AWS timings.

use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::{bins, topology};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const HOOK: &str = "https://hooks.slack.com/services/T0BENCH/B0BENCH/bench";

/// (kind, load balancers, target groups each).
const MIX: [(&str, usize, usize); 4] = [
    ("application", 75, 8),
    ("network", 55, 6),
    ("gateway", 30, 1),
    ("classic", 40, 1),
];

fn fleet() -> Value {
    let mut groups = Vec::new();
    let mut lbs = Vec::new();
    let mut classic = Vec::new();
    for (kind, count, per_lb) in MIX {
        for l in 0..count {
            let name = format!("{}-{l}", &kind[..3]);
            if kind == "classic" {
                classic.push(json!({"name": name, "instances": [0]}));
                continue;
            }
            let names: Vec<String> = (0..per_lb).map(|t| format!("{name}-tg{t}")).collect();
            let (protocol, port) = match kind {
                "network" => ("TCP", 443),
                "gateway" => ("GENEVE", 6081),
                _ => ("HTTP", 80),
            };
            groups.extend(
                names.iter().map(
                    |n| json!({"name": n, "protocol": protocol, "port": port, "targets": [0]}),
                ),
            );
            let listeners: Vec<Value> = match kind {
                // One listener, the other target groups through path rules.
                "application" => {
                    let rules: Vec<Value> = names[1..]
                        .iter()
                        .enumerate()
                        .map(|(i, n)| json!({"path": format!("/r{i}/*"), "forward": [n]}))
                        .collect();
                    vec![json!({"port": 80, "default": [names[0]], "rules": rules})]
                }
                // NLB: a listener (port) per target group; GWLB: one listener.
                "network" => names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| json!({"port": 1000 + i, "default": [n]}))
                    .collect(),
                _ => vec![json!({"default": [names[0]]})],
            };
            lbs.push(json!({"name": name, "type": kind, "listeners": listeners}));
        }
    }
    json!({"instances": 1, "target_groups": groups, "load_balancers": lbs,
           "classic_load_balancers": classic})
}

struct Figures {
    what: &'static str,
    ms: f64,
    total: usize,
    mutating: usize,
    throttled: usize,
    /// (operation, calls), most first.
    by_operation: Vec<(String, usize)>,
}

fn run(bin: &Path, emu: &Emulator, what: &'static str, args: &[&str]) -> (Figures, Value) {
    let strict = emu.strict().expect("strict layer on");
    let before = strict.count("throttled");
    emu.start_recording().expect("recording");
    let started = Instant::now();
    let out = Command::new(bin)
        .envs(emu.aws_env())
        .env("ELB_WATCH_SLACK_URL", HOOK)
        .args(["--env", "kinds", "--output", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("elb-watch runs");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let recorded = emu.stop_recording().expect("recording");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || (what == "status" && code == 1),
        "{what} failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    for c in &recorded {
        *by_operation.entry(c.action.clone()).or_default() += 1;
    }
    let mut by_operation: Vec<(String, usize)> = by_operation.into_iter().collect();
    by_operation.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (
        Figures {
            what,
            ms,
            total: recorded.len(),
            mutating: recorded.iter().filter(|c| c.is_mutating()).count(),
            throttled: strict.count("throttled") - before,
            by_operation,
        },
        report,
    )
}

fn print_figures(f: &Figures) {
    let ops: Vec<String> = f
        .by_operation
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    println!(
        "{:<10} {:>10.1} {:>8} {:>9} {:>10}  {}",
        f.what,
        f.ms / 1000.0,
        f.total,
        f.mutating,
        f.throttled,
        ops.join(", ")
    );
}

/// `--albs AxT`, if given.
fn albs_arg() -> anyhow::Result<Option<(usize, usize)>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(i) = args.iter().position(|a| a == "--albs") else {
        return Ok(None);
    };
    let spec = args
        .get(i + 1)
        .ok_or_else(|| anyhow::anyhow!("--albs takes AxT, e.g. 100x10"))?;
    let (a, t) = spec
        .split_once('x')
        .ok_or_else(|| anyhow::anyhow!("--albs takes AxT, e.g. 100x10"))?;
    Ok(Some((a.parse()?, t.parse()?)))
}

fn main() -> anyhow::Result<()> {
    let albs = albs_arg()?;
    // Built and located once, first: the runs below take minutes.
    let bin = bins::package_binary("elb-watch")?;
    // Pages of 100 (DescribeAlarms' most; the layer's default of 2 exists to exercise paging):
    // closer to AWS, still conservative for DescribeTargetGroups and DescribeLoadBalancers
    // (400 a page on AWS).
    // Tagging API GetResources pages of 100 (its ResourcesPerPage maximum).
    let emu = Emulator::start_with(StrictConfig {
        page_size: 100,
        tagging_page_size: 100,
        ..StrictConfig::from_env()
    })?;
    let seeded = Instant::now();
    let (spec, units) = match albs {
        Some((a, t)) => (topology::fleet(a, t), a * t),
        None => (fleet(), 1_000),
    };
    topology::create(&emu, &spec)?;
    println!(
        "seeded {} watched units in {:.1} s",
        units,
        seeded.elapsed().as_secs_f64()
    );
    let mut all = Vec::new();
    let (up, report) = run(&bin, &emu, "up --all", &["up", "--all"]);
    let alarms = report["cost"]["alarms"].as_u64().unwrap_or(0);
    match albs {
        Some((a, t)) => println!("up: {alarms} alarms; {a} ALBs x {t} target groups"),
        None => println!(
            "up: {} alarms, {} USD/month; kinds: {:?}",
            alarms,
            report["cost"]["monthly_usd"],
            MIX.map(|(k, n, per)| (k, n, n * per))
        ),
    }
    assert_eq!(
        alarms as usize,
        units + 3,
        "one alarm per watched unit and the alerting path's 3"
    );
    let watched: Vec<String> = report["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["kind"] == "alarm" && c["action"] == "create")
        .filter_map(|c| c["name"].as_str())
        .filter(|n| n.ends_with("/HealthyHostCount"))
        .map(String::from)
        .collect();
    // PutMetricAlarm at its quota of 3 per second: the floor of a fresh `up`.
    let floor_s = alarms as f64 / 3.0;
    print_figures(&up);
    all.push(up);
    let (noop, report) = run(&bin, &emu, "no-op up", &["up", "--all"]);
    assert_eq!(report["api_calls"]["mutating"], 0, "a no-op up mutated");
    print_figures(&noop);
    all.push(noop);
    topology::set_alarm_states(&emu, &watched, "OK", "bench: in service")?;
    let synthesising = || {
        emu.strict()
            .and_then(|s| s.stats().get("metric-data-ms:total").copied())
            .unwrap_or(0)
    };
    let before = synthesising();
    let (status, report) = run(&bin, &emu, "status", &["status"]);
    assert_eq!(report["in_sync"], true, "{}", report["verdict"]);
    print_figures(&status);
    println!(
        "  of which the strict layer spent {:.1} s making up GetMetricData's HealthyHostCount \
         from moto's target health (AWS reads stored datapoints)",
        (synthesising() - before) as f64 / 1000.0
    );
    all.push(status);
    let (down, _) = run(&bin, &emu, "down", &["down", "--yes"]);
    all.push(down);
    println!(
        "{:<10} {:>10} {:>8} {:>9} {:>10}  by operation",
        "command", "wall s", "calls", "mutating", "throttled"
    );
    for f in &all {
        print_figures(f);
    }
    println!(
        "fresh up / PutMetricAlarm floor ({alarms} at 3 per second = {floor_s:.1} s): {:.2}",
        all[0].ms / 1000.0 / floor_s
    );
    Ok(())
}
