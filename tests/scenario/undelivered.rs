//! The "never lose an alert" scenario (issue 13), as it happens on AWS: N alarm events reach
//! the notifier asynchronously (as SNS invokes it) while the Slack webhook refuses every post
//! for the whole retry window; Lambda's three attempts fail and each event's on-failure record
//! lands on the env's queue (modelled by the strict layer, `strict/lambda_async.rs`); `status`
//! counts them; the webhook comes back; `replay` delivers each, late, exactly once; the queue is
//! empty. Used by `tests/undelivered.rs` (scaled down) and `examples/undelivered_bench.rs`
//! (full size), both through `#[path]`.
#![allow(dead_code)]

use anyhow::{Context, Result, ensure};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, Reply, SlackSink};
use elb_watch_testkit::strict::lambda_async::FunctionRunner;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const ENV: &str = "lost";

/// What happened, with the figures the README quotes.
#[derive(Debug, Clone)]
pub struct Report {
    pub events: usize,
    /// Requests the failing webhook answered (3 attempts × events when the notifier tries once
    /// per invocation).
    pub refused_posts: usize,
    /// Messages on the queue once Lambda gave up on every event.
    pub queued: u64,
    /// `status` exit code and the undelivered count it reported.
    pub status_code: i32,
    pub status_count: u64,
    /// `replay --dry-run` listed this many and left the queue as it was.
    pub dry_run_listed: u64,
    pub after_dry_run: u64,
    /// `replay`: exit code, delivered count.
    pub replay_code: i32,
    pub replayed: u64,
    /// Messages the webhook accepted, distinct alarms among them, and how many say "late".
    pub posted: usize,
    pub distinct: usize,
    pub marked_late: usize,
    /// Posted in the order the alarms fired.
    pub in_order: bool,
    /// Queue depth and `status` exit code at the end.
    pub queued_after: u64,
    pub status_after: i32,
    pub fail_phase: Duration,
    pub replay_phase: Duration,
}

/// The workspace's debug `bootstrap` (the notifier as this checkout has it), built if needed.
/// Built the way `cargo test --workspace` builds it — as the binary the notifier's `e2e` test
/// runs: same profile (`test`) and feature unification, so after a workspace test build it is
/// fresh (`cargo build --bin bootstrap` would compile the SDKs again under profile `dev`).
pub fn debug_bootstrap() -> Result<PathBuf> {
    let root = elb_watch_testkit::repo_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Not the environment cargo gives a test process (LD_LIBRARY_PATH, CARGO_*…): build
    // scripts that track such variables would count the whole dependency graph as changed,
    // here and again in the next ordinary build.
    let keep = |k: &str| {
        matches!(
            k,
            "PATH" | "HOME" | "USER" | "TMPDIR" | "LANG" | "CARGO_HOME"
        ) || k.starts_with("RUSTUP_")
            || k == "CARGO_TARGET_DIR"
            || k.starts_with("ELB_WATCH_NOTIFIER_")
            || k == "ELB_WATCH_CARGO_ZIGBUILD"
    };
    let status = Command::new(cargo)
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| keep(k)))
        .current_dir(&root)
        .args([
            "test",
            "--no-run",
            "--quiet",
            "--workspace",
            "--test",
            "e2e",
        ])
        .status()
        .context("running cargo build for the notifier")?;
    ensure!(status.success(), "building the notifier failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("debug").join("bootstrap"))
}

/// Event `i` of the storm: the fixture ALARM with its own alarm name and times, one second
/// apart, as SNS hands it to Lambda.
pub fn alarm_event(i: usize) -> Result<Value> {
    let text = std::fs::read_to_string(elb_watch_testkit::fixture(
        "sns-alarm-healthyhostcount-alarm.json",
    ))?;
    let mut event: Value = serde_json::from_str(&text)?;
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: Value = serde_json::from_str(sns["Message"].as_str().context("Message")?)?;
    let name = format!("elb-watch-{ENV}-tg{i:04}-HealthyHostCount");
    let (h, m, s) = (3 + i / 3600, (i / 60) % 60, i % 60);
    message["AlarmName"] = name.clone().into();
    message["StateChangeTime"] = format!("2026-11-20T{h:02}:{m:02}:{s:02}.000+0000").into();
    sns["Message"] = message.to_string().into();
    sns["Timestamp"] = format!("2026-11-20T{h:02}:{m:02}:{s:02}.050Z").into();
    sns["MessageId"] = format!("00000000-0000-4000-8000-{i:012}").into();
    Ok(event)
}

fn elb_watch(bin: &Path, emu: &Emulator, args: &[&str], extra: &[(&str, &str)]) -> (i32, Value) {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("ELB_WATCH_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .envs(emu.aws_env())
        .envs(extra.iter().copied())
        .env("HOME", std::env::temp_dir())
        .args(["--env", ENV, "--output", "json", "--no-progress"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("elb-watch runs");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.stderr).into_owned()));
    (out.status.code().unwrap_or(-1), json)
}

async fn depth(sqs: &aws_sdk_sqs::Client) -> Result<u64> {
    let url = sqs
        .get_queue_url()
        .queue_name(format!("elb-watch-{ENV}-undelivered"))
        .send()
        .await?
        .queue_url
        .context("no queue URL")?;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await?;
    let attrs = attrs.attributes().context("no attributes")?;
    let n = |k: aws_sdk_sqs::types::QueueAttributeName| -> u64 {
        attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    use aws_sdk_sqs::types::QueueAttributeName as A;
    Ok(n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible))
}

/// Runs the scenario with `events` alarm events.
pub async fn run(events: usize, elb_watch_bin: &Path, bootstrap: &Path) -> Result<Report> {
    let emu = Emulator::start()?;
    elb_watch_testkit::topology::create(&emu, &elb_watch_testkit::topology::seed_spec())?;
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(500))).await?;
    let hook = sink.url();
    let (code, up) = elb_watch(
        elb_watch_bin,
        &emu,
        &["up", "--alb", "web-alb"],
        &[
            ("ELB_WATCH_SLACK_URL", hook.as_str()),
            ("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true"),
        ],
    );
    ensure!(code == 0, "up exited {code}: {up}");

    let proxy = emu.strict().context("the strict layer is off")?;
    proxy.run_functions_with(FunctionRunner {
        bootstrap: bootstrap.to_path_buf(),
        endpoint: emu.endpoint_url(),
        // One HTTP attempt per invocation: the retries under test are Lambda's.
        extra_env: vec![
            ("ELB_WATCH_MAX_ATTEMPTS".into(), "1".into()),
            ("ELB_WATCH_ENRICH".into(), "off".into()),
            ("ELB_WATCH_HTTP_TIMEOUT_MS".into(), "2000".into()),
        ],
        retry_wait: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    });

    let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .region(aws_config::Region::new(elb_watch_testkit::emulator::REGION))
        .endpoint_url(emu.endpoint_url())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            elb_watch_testkit::emulator::ACCESS_KEY,
            elb_watch_testkit::emulator::SECRET_KEY,
            None,
            None,
            "scenario",
        ))
        .load()
        .await;
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let function = format!("elb-watch-{ENV}-notifier");

    // The storm, while Slack refuses everything: SNS invokes the notifier asynchronously.
    let started = Instant::now();
    for i in 0..events {
        let event = alarm_event(i)?;
        lambda
            .invoke()
            .function_name(&function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(serde_json::to_vec(
                &event,
            )?))
            .send()
            .await
            .context("Invoke (Event)")?;
    }
    ensure!(
        proxy
            .wait_for_async_invocations(Duration::from_secs(30 + events as u64))
            .await,
        "asynchronous invocations did not finish"
    );
    let fail_phase = started.elapsed();
    let refused_posts = sink.requests();
    let queued = depth(&sqs).await?;

    let (status_code, status) = elb_watch(elb_watch_bin, &emu, &["status"], &[]);
    let status_count = status["undelivered"]["count"].as_u64().unwrap_or(0);

    let (_, dry) = elb_watch(elb_watch_bin, &emu, &["replay", "--dry-run"], &[]);
    let dry_run_listed = dry["found"].as_u64().unwrap_or(0);
    let after_dry_run = depth(&sqs).await?;

    // Slack is back.
    sink.set_behaviour(Behaviour::AlwaysOk);
    let started = Instant::now();
    let (replay_code, replay) = elb_watch(elb_watch_bin, &emu, &["replay"], &[]);
    let replay_phase = started.elapsed();
    let replayed = replay["delivered"].as_u64().unwrap_or(0);

    let received = sink.received();
    let names: Vec<String> = received
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut order = Vec::new();
    for text in &names {
        let alarm = text
            .split_whitespace()
            .find(|w| w.starts_with(&format!("elb-watch-{ENV}-tg")))
            .unwrap_or("")
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
            .to_string();
        *counts.entry(alarm.clone()).or_default() += 1;
        order.push(alarm);
    }
    let mut sorted = order.clone();
    sorted.sort();
    let queued_after = depth(&sqs).await?;
    let (status_after, _) = elb_watch(elb_watch_bin, &emu, &["status"], &[]);
    Ok(Report {
        events,
        refused_posts,
        queued,
        status_code,
        status_count,
        dry_run_listed,
        after_dry_run,
        replay_code,
        replayed,
        posted: received.len(),
        distinct: counts.len(),
        marked_late: names
            .iter()
            .filter(|t| t.contains("Delivered late — first fired at"))
            .count(),
        in_order: order == sorted,
        queued_after,
        status_after,
        fail_phase,
        replay_phase,
    })
}
