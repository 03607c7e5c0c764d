//! The alarm's graph in Slack app mode, measured on the notifier as shipped (the `bootstrap`
//! build.rs embeds): warm ALARMs through the local Runtime API, the Slack Web API stand-in and
//! the AWS emulator (whose strict layer answers GetMetricWidgetImage), enrichment on. Prints
//! event → `chat.postMessage` (the text's latency, which the graph must not touch), the
//! invocation's duration, and the graph's share of it: GetMetricWidgetImage and the three-step
//! upload, from the notifier's own `alarm graph posted in the thread` log lines.
//!
//! ```text
//! cargo run --example graph_bench [-- --warm 100 --baseline PATH]
//! ```
//!
//! `--baseline PATH` runs the same with another `bootstrap` (one without the graph step) first,
//! for the text's latency side by side. Each ALARM is the fixture's (its alarm is not in the
//! emulator: the thread tag cannot be read, and every alert is posted on its own, as the first
//! ALARM of an incident is).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use elb_watch_testkit::bench::{machine, ms, quantile};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_api::{DEFAULT_TOKEN, SlackApi, Workspace};
use serde_json::Value;

const EVENT: &str = "sns-alarm-healthyhostcount-alarm.json";
const TIMEOUT: Duration = Duration::from_secs(30);
const GRAPH_LINE: &str = "alarm graph posted in the thread";

struct Run {
    /// event handed over → chat.postMessage at the stand-in
    to_post: Vec<Duration>,
    /// dispatch → outcome
    duration: Vec<Duration>,
    /// GetMetricWidgetImage, as the notifier timed it
    image: Vec<Duration>,
    /// the three upload steps
    upload: Vec<Duration>,
    /// image / duration, per invocation
    share: Vec<f64>,
}

async fn run(bootstrap: &Path, emu: &Emulator, n: usize) -> anyhow::Result<Run> {
    let slack = SlackApi::start(Workspace::default()).await?;
    let api = RuntimeApi::start().await?;
    let mut vars = emu.aws_env();
    for (k, v) in [
        ("SLACK_API_URL", slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN.to_owned()),
        ("slackChannel", "C0ALERTS".to_owned()),
    ] {
        vars.push((k.to_owned(), v));
    }
    let function = FunctionProcess::spawn(bootstrap, &api, &vars)?;
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(elb_watch_testkit::fixture(EVENT))?)?;
    for _ in 0..5 {
        let inv = api.invoke(event.clone(), TIMEOUT).await?;
        ensure!(
            inv.outcome.is_response(),
            "{:?}\n{}",
            inv.outcome,
            function.logs()
        );
    }
    let mut r = Run {
        to_post: Vec::new(),
        duration: Vec::new(),
        image: Vec::new(),
        upload: Vec::new(),
        share: Vec::new(),
    };
    for _ in 0..n {
        let before = slack.calls().len();
        let lines = function.json_logs().len();
        let inv = api.invoke(event.clone(), TIMEOUT).await?;
        ensure!(inv.outcome.is_response(), "{:?}", inv.outcome);
        let post = slack.calls()[before..]
            .iter()
            .find(|c| c.method == "chat.postMessage")
            .map(|c| c.at)
            .context("no chat.postMessage")?;
        r.to_post.push(post - inv.dispatched_at);
        r.duration.push(inv.duration);
        // The log line may follow the outcome by a moment.
        let mut graph = None;
        for _ in 0..50 {
            graph = function.json_logs()[lines..]
                .iter()
                .find(|l| l["fields"]["message"] == GRAPH_LINE)
                .cloned();
            if graph.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if let Some(g) = graph {
            let ms =
                |k: &str| Duration::from_secs_f64(g["fields"][k].as_f64().unwrap_or(0.0) / 1e3);
            let image = ms("image_ms");
            r.image.push(image);
            r.upload.push(ms("upload_ms"));
            r.share
                .push(image.as_secs_f64() / inv.duration.as_secs_f64().max(1e-9));
        }
    }
    for v in [&mut r.to_post, &mut r.duration, &mut r.image, &mut r.upload] {
        v.sort();
    }
    r.share.sort_by(f64::total_cmp);
    Ok(r)
}

fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {} · p90 {} · max {}",
        ms(quantile(sorted, 0.5)),
        ms(quantile(sorted, 0.9)),
        ms(sorted.last().copied())
    )
}

fn row(figure: &str, value: String) {
    println!("| {figure} | {value} |");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut warm = 100usize;
    let mut baseline: Option<std::path::PathBuf> = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--warm" => warm = it.next().context("--warm N")?.parse()?,
            "--baseline" => baseline = Some(it.next().context("--baseline PATH")?.into()),
            other => anyhow::bail!("unknown flag {other} (--warm N, --baseline PATH)"),
        }
    }
    let bootstrap = Path::new(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH"));
    eprintln!("starting the emulator...");
    let emu = tokio::task::spawn_blocking(Emulator::start)
        .await?
        .context("moto_server is needed: run scripts/emulator.sh setup")?;
    let base = match &baseline {
        Some(path) => {
            eprintln!("baseline {}: {warm} warm ALARMs...", path.display());
            Some(run(path, &emu, warm).await?)
        }
        None => None,
    };
    eprintln!("{}: {warm} warm ALARMs...", bootstrap.display());
    let now = run(bootstrap, &emu, warm).await?;

    println!("machine: {}\n", machine());
    println!("| figure (app mode, warm ALARM, enrichment on, {warm} runs) | value |");
    println!("|---|---|");
    if let Some(b) = &base {
        row(
            "baseline: event → chat.postMessage at the stand-in",
            spread(&b.to_post),
        );
        row("baseline: invocation duration", spread(&b.duration));
    }
    row(
        "event → chat.postMessage at the stand-in",
        spread(&now.to_post),
    );
    row("invocation duration (text + graph)", spread(&now.duration));
    row(
        &format!("graphs posted ({} of {warm})", now.image.len()),
        String::new(),
    );
    row(
        "GetMetricWidgetImage (the notifier's image_ms)",
        spread(&now.image),
    );
    row(
        "upload: getUploadURLExternal + bytes + completeUploadExternal",
        spread(&now.upload),
    );
    let q = |v: &[f64], p: f64| {
        v.get(((v.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
            * 100.0
    };
    row(
        "GetMetricWidgetImage's share of the invocation",
        format!(
            "p50 {:.0} % · p90 {:.0} %",
            q(&now.share, 0.5),
            q(&now.share, 0.9)
        ),
    );
    Ok(())
}
