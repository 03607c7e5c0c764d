//! Provisioner figures: API calls (mutating / read) and wall time of a fresh `up` and of a
//! no-op `up`, against the local emulator, for 1 ALB / 1 target group and for 10 ALBs / 50
//! target groups; and how much the steps overlap (sum of step times vs the apply's wall time).
//! Then 20 ALBs × 10 target groups (200 alarms): `up`, no-op `up`, `status`, `down`, each with
//! the calls the strict layer accepted, the throttled answers it gave (each one an SDK retry)
//! and the wall time — at AWS's default request-rate quotas unless
//! `ELB_WATCH_STRICT_RATE_SCALE` says otherwise.
//!
//!     scripts/emulator.sh setup && cargo run --release --example provisioner_bench [-- RUNS]
//!
//! Each scenario runs RUNS times (default 3) on a fresh emulator; medians are printed. The
//! emulator's own latency is part of every figure: these are not AWS timings (see README
//! "Performance" for what bounds a real run).

use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::{bench, bins, topology};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const HOOK: &str = "https://hooks.slack.com/services/T0BENCH/B0BENCH/bench";

fn spec(albs: usize, tgs_per_alb: usize) -> Value {
    topology::fleet(albs, tgs_per_alb)
}

struct Run {
    wall_ms: f64,
    reported_ms: u128,
    apply_ms: u128,
    steps_sum_ms: u128,
    calls: u64,
    mutating: u64,
    read: u64,
    emulator_requests: usize,
    emulator_mutating: usize,
}

fn up(bin: &Path, emu: &Emulator, albs: usize) -> Run {
    let mut cmd = Command::new(bin);
    cmd.envs(emu.aws_env())
        .env("ELB_WATCH_SLACK_URL", HOOK)
        .args(["--env", "bench", "--output", "json", "up"]);
    for a in 0..albs {
        cmd.args(["--alb", &format!("alb-{a}")]);
    }
    emu.start_recording().expect("recording");
    let started = std::time::Instant::now();
    let out = cmd.output().expect("elb-watch runs");
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let recorded = emu.stop_recording().expect("recording");
    assert!(
        out.status.success(),
        "up failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    Run {
        wall_ms,
        reported_ms: r["duration_ms"].as_u64().unwrap_or(0) as u128,
        apply_ms: r["apply_ms"].as_u64().unwrap_or(0) as u128,
        steps_sum_ms: r["steps"]
            .as_array()
            .map(|s| s.iter().filter_map(|x| x["ms"].as_u64()).sum::<u64>() as u128)
            .unwrap_or(0),
        calls: r["api_calls"]["total"].as_u64().unwrap_or(0),
        mutating: r["api_calls"]["mutating"].as_u64().unwrap_or(0),
        read: r["api_calls"]["read"].as_u64().unwrap_or(0),
        emulator_requests: recorded.len(),
        emulator_mutating: recorded.iter().filter(|c| c.is_mutating()).count(),
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let bin = bins::package_binary("elb-watch")?;
    println!(
        "machine: {}; emulator: moto (server mode); {runs} run(s) per scenario, medians",
        bench::machine()
    );
    println!(
        "{:<17} {:<6} {:>7} {:>7} {:>9} {:>8} {:>9} {:>10} {:>9} {:>8}",
        "scenario",
        "up",
        "calls",
        "reads",
        "mutating",
        "moto req",
        "moto mut",
        "wall ms",
        "apply ms",
        "steps Σ"
    );
    for (albs, per) in [(1, 1), (10, 5)] {
        let mut fresh = Vec::new();
        let mut noop = Vec::new();
        for _ in 0..runs {
            let emu = Emulator::start()?;
            topology::create(&emu, &spec(albs, per))?;
            fresh.push(up(&bin, &emu, albs));
            noop.push(up(&bin, &emu, albs));
        }
        let label = format!("{albs} ALB / {} TG", albs * per);
        for (kind, set) in [("fresh", &fresh), ("no-op", &noop)] {
            println!(
                "{:<17} {:<6} {:>7} {:>7} {:>9} {:>8} {:>9} {:>10.0} {:>9} {:>8}",
                label,
                kind,
                median(set.iter().map(|r| r.calls).collect()),
                median(set.iter().map(|r| r.read).collect()),
                median(set.iter().map(|r| r.mutating).collect()),
                median(set.iter().map(|r| r.emulator_requests).collect()),
                median(set.iter().map(|r| r.emulator_mutating).collect()),
                median(set.iter().map(|r| r.wall_ms).collect()),
                median(set.iter().map(|r| r.apply_ms).collect()),
                median(set.iter().map(|r| r.steps_sum_ms).collect()),
            );
        }
        let overlap = median(
            fresh
                .iter()
                .map(|r| r.steps_sum_ms as f64 / r.apply_ms.max(1) as f64)
                .collect(),
        );
        let in_process = median(fresh.iter().map(|r| r.reported_ms).collect());
        println!(
            "{label}: fresh up — steps' summed time is {overlap:.2}× the apply's wall time \
             (independent steps overlap); {in_process} ms measured inside the process"
        );
    }
    fleet(&bin, runs)?;
    Ok(())
}

/// One command of the 20 × 10 run: exit code, calls accepted by the strict layer, throttled
/// answers, wall time.
fn command(bin: &Path, emu: &Emulator, args: &[String]) -> anyhow::Result<(usize, usize, f64)> {
    let strict = emu.strict().expect("strict layer on");
    let throttled_before = strict.count("throttled");
    emu.start_recording()?;
    let started = std::time::Instant::now();
    let out = Command::new(bin)
        .envs(emu.aws_env())
        .env("ELB_WATCH_SLACK_URL", HOOK)
        .args(["--env", "fleet", "--output", "json", "--no-progress"])
        .args(args)
        .output()?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let calls = emu.stop_recording()?.len();
    anyhow::ensure!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((calls, strict.count("throttled") - throttled_before, wall_ms))
}

fn fleet(bin: &Path, runs: usize) -> anyhow::Result<()> {
    let (albs, per) = (20, 10);
    let scale = std::env::var("ELB_WATCH_STRICT_RATE_SCALE").unwrap_or_else(|_| "1".into());
    println!(
        "\n{albs} ALBs / {} TGs through the strict layer (rate quotas x{scale}; page size 2; \
         Lambda Pending 2 s; role propagation 3 s), {runs} run(s), medians; failures abort",
        albs * per
    );
    println!(
        "{:<10} {:>7} {:>10} {:>10}",
        "command", "calls", "throttled", "wall ms"
    );
    let alb_args = topology::fleet_alb_args(albs);
    let commands: [(&str, Vec<String>); 4] = [
        ("up", [vec!["up".to_string()], alb_args.clone()].concat()),
        (
            "no-op up",
            [vec!["up".to_string()], alb_args.clone()].concat(),
        ),
        ("status", vec!["status".to_string()]),
        ("down", vec!["down".to_string(), "--yes".to_string()]),
    ];
    let mut figures: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); commands.len()];
    for _ in 0..runs {
        let emu = Emulator::start()?;
        anyhow::ensure!(
            emu.strict().is_some(),
            "unset ELB_WATCH_STRICT for this run"
        );
        topology::create(&emu, &spec(albs, per))?;
        for (i, (_, args)) in commands.iter().enumerate() {
            figures[i].push(command(bin, &emu, args)?);
        }
    }
    for ((name, _), set) in commands.iter().zip(figures) {
        println!(
            "{:<10} {:>7} {:>10} {:>10.0}",
            name,
            median(set.iter().map(|f| f.0).collect()),
            median(set.iter().map(|f| f.1).collect()),
            median(set.iter().map(|f| f.2).collect()),
        );
    }
    Ok(())
}
