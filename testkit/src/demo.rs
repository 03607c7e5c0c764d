//! The local end-to-end demo: the whole product on one machine, no AWS account, no Slack.
//! `cargo run --example demo` runs it for people; `tests/demo.rs` runs it in CI.
//!
//! What is real: the `elb-watch` binary, the AWS APIs it calls (moto's implementations of them),
//! the notifier binary, its KMS decrypt and DescribeTargetHealth calls, the Slack webhook
//! protocol. What stands in: moto does not evaluate alarms (we call SetAlarmState and build the
//! exact message CloudWatch publishes), and does not run Lambda code (the real `bootstrap` runs
//! here under a local Lambda Runtime API, with the deployed function's own environment).

use crate::emulator::Emulator;
use crate::runtime_api::{FunctionProcess, RuntimeApi};
use crate::slack_sink::{Behaviour, SlackSink};
use crate::topology;
use anyhow::{Context, Result, ensure};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ENV: &str = "demo";
pub const ALB: &str = "web-alb";
pub const TARGET_GROUP: &str = "web-tg";
pub const CHANNEL: &str = "#demo-alerts";

/// The binaries the demo runs.
pub struct Binaries {
    pub elb_watch: PathBuf,
    pub bootstrap: PathBuf,
}

/// What the demo saw, for the test to check.
#[derive(Debug)]
pub struct Report {
    /// Every message the Slack sink accepted, raw.
    pub slack_messages: Vec<Value>,
    /// The unhealthy instance.
    pub instance: String,
    /// Where the raw messages were saved.
    pub saved_to: PathBuf,
}

fn say(text: &str) {
    println!("{text}");
}

fn explain(text: &str) {
    for line in text.lines() {
        println!("    │ {line}");
    }
}

/// Run `elb-watch` against the emulator; print what it printed; return its exit code.
async fn elb_watch(
    bin: &Path,
    emu: &Emulator,
    extra_env: &[(&str, &str)],
    args: &[&str],
) -> Result<i32> {
    println!("    $ elb-watch {}", args.join(" "));
    let out = tokio::process::Command::new(bin)
        .args(args)
        .envs(emu.aws_env())
        .envs(extra_env.iter().copied())
        .env("ELB_WATCH_ENV", ENV)
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run {}", bin.display()))?;
    for stream in [&out.stderr, &out.stdout] {
        for line in String::from_utf8_lossy(stream).lines() {
            println!("      {line}");
        }
    }
    Ok(out.status.code().unwrap_or(-1))
}

/// Deliver one alarm state change the way AWS would: SetAlarmState, the CloudWatch → SNS message,
/// the SNS → Lambda event, the real notifier.
async fn deliver(
    emu: &Emulator,
    api: &RuntimeApi,
    alarm: &str,
    state: &str,
    reason: &str,
) -> Result<()> {
    let event = topology::alarm_event(emu, alarm, state, reason)?;
    let invocation = api.invoke(event, Duration::from_secs(60)).await?;
    ensure!(
        invocation.outcome.is_response(),
        "the notifier failed: {:?}",
        invocation.outcome
    );
    println!(
        "    notifier handled the {state} event in {} ms",
        invocation.duration.as_millis()
    );
    Ok(())
}

pub async fn run(bins: &Binaries) -> Result<Report> {
    say("1/8  Starting the local AWS emulator (moto, in server mode on 127.0.0.1)");
    let emu = Emulator::start()?;
    println!("    emulator at {}", emu.endpoint_url());

    say("2/8  Creating the seed's topology: ALB web-alb → target group web-tg → one EC2 instance");
    let made = topology::create(&emu, &topology::seed_spec())?;
    let instance = made.instances.first().context("no instance made")?.clone();
    println!("    instance {instance} is registered in web-tg");

    say("3/8  Starting a local Slack-compatible incoming-webhook sink (prints what it receives)");
    let sink = SlackSink::start(Behaviour::AlwaysOk).await?;
    sink.print_messages();
    let hook = sink.url();

    say("4/8  elb-watch up: KMS key, decrypt-only policy, role, topic, alarm, notifier, wiring");
    let allow = [
        ("ELB_WATCH_SLACK_URL", hook.as_str()),
        // The sink is plain http on 127.0.0.1; real runs accept only https Slack URLs.
        ("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true"),
    ];
    let code = elb_watch(
        &bins.elb_watch,
        &emu,
        &allow,
        &["up", "--alb", ALB, "--slack-channel", CHANNEL],
    )
    .await?;
    ensure!(code == 0, "elb-watch up exited {code}");
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["status"]).await?;
    ensure!(code == 0, "elb-watch status exited {code} right after up");

    say("5/8  Stopping the instance: its target turns unhealthy");
    topology::set_instance_running(&emu, &instance, false)?;
    let alarm = format!("elb-watch-{ENV}-{TARGET_GROUP}-HealthyHostCount");
    explain(
        "The emulator does not evaluate alarms. Standing in for CloudWatch: SetAlarmState(ALARM),\n\
         then the exact message CloudWatch publishes to the topic, as SNS hands it to Lambda.\n\
         The emulator does not run Lambda code either: the real notifier binary runs here under\n\
         a local Lambda Runtime API, with the deployed function's own environment (its\n\
         KMS-encrypted webhook URL is decrypted through the emulator's KMS).",
    );
    let function = format!("elb-watch-{ENV}-notifier");
    let mut env: Vec<(String, String)> = emu.aws_env();
    env.extend(topology::function_env(&emu, &function)?);
    env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), function.clone()));
    let api = RuntimeApi::start().await?;
    let _notifier = FunctionProcess::spawn(&bins.bootstrap, &api, &env)?;
    deliver(
        &emu,
        &api,
        &alarm,
        "ALARM",
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0, 0.0] were less than the \
         threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).",
    )
    .await?;
    ensure!(
        sink.wait_for_messages(1, Duration::from_secs(10)).await,
        "no Slack message for ALARM"
    );
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["status"]).await?;
    ensure!(code != 2, "elb-watch status failed");

    say("6/8  Starting the instance again: healthy → OK → a \"recovered\" message");
    topology::set_instance_running(&emu, &instance, true)?;
    deliver(
        &emu,
        &api,
        &alarm,
        "OK",
        "Threshold Crossed: 3 out of the last 3 datapoints [1.0, 1.0, 1.0] were not less \
         than the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition).",
    )
    .await?;
    ensure!(
        sink.wait_for_messages(2, Duration::from_secs(10)).await,
        "no Slack message for OK"
    );

    say("7/8  elb-watch down: removes everything of env demo");
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["down", "--yes"]).await?;
    ensure!(code == 0, "elb-watch down exited {code}");

    let slack_messages = sink.received();
    let saved_to = crate::repo_root().join("target/demo/slack-messages.json");
    std::fs::create_dir_all(saved_to.parent().expect("has a parent"))?;
    std::fs::write(&saved_to, serde_json::to_string_pretty(&slack_messages)?)?;
    say(&format!(
        "8/8  Done: {} Slack messages (raw JSON in {}). Every process the demo started is stopped.",
        slack_messages.len(),
        saved_to.display()
    ));
    Ok(Report {
        slack_messages,
        instance,
        saved_to,
    })
}
