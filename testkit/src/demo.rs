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
use crate::slack_api::{DEFAULT_TOKEN, Message, SlackApi, Thread, Workspace};
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
/// How long after `elb-watch test` the test alarm's next evaluation puts it back to OK.
const TEST_RECOVERY_AFTER: Duration = Duration::from_secs(3);

/// The reasons CloudWatch gives for the demo's state changes.
const ALARM_REASON: &str = "Threshold Crossed: 2 out of the last 3 datapoints [0.0, 0.0] were \
                            less than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM \
                            transition).";
const OK_REASON: &str = "Threshold Crossed: 3 out of the last 3 datapoints [1.0, 1.0, 1.0] were \
                         not less than the threshold (1.0) (minimum 2 datapoints for ALARM -> \
                         OK transition).";

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
    /// Slack app mode's incident: the ALARM message with its replies, as the channel shows it.
    pub thread: Thread,
    /// Top-level messages in the app mode's channel.
    pub app_parents: usize,
}

/// The channel of the demo's Slack workspace (the Web API stand-in's `#alerts`).
pub const APP_CHANNEL: &str = "C0ALERTS";

/// A message as one line per version shown: what it said first, and what it says now.
fn print_message(first: &str, rest: &str, m: &Message) {
    let text = |c: &crate::slack_api::Content| {
        c.text
            .clone()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    if m.versions.len() > 1 {
        println!("{first}posted:  {}", text(&m.versions[0]));
        println!(
            "{rest}now (updated {}×):  {}",
            m.versions.len() - 1,
            text(m.current())
        );
    } else {
        println!("{first}{}", text(m.current()));
    }
}

fn print_thread(thread: &Thread) {
    println!("    #alerts ({APP_CHANNEL}):");
    print_message("    ┌ ", "    │ ", &thread.parent);
    for r in &thread.replies {
        print_message("    │   ↳ ", "    │     ", r);
    }
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
    say("1/10 Starting the local AWS emulator (moto, in server mode on 127.0.0.1)");
    // SetAlarmState runs the alarm's actions and CloudWatch's next evaluation undoes it, as on
    // AWS (strict rules 17, 23): what `elb-watch test` relies on.
    let emu = Emulator::start_with(crate::strict::StrictConfig {
        set_state_actions: true,
        next_evaluation: Some(TEST_RECOVERY_AFTER),
        ..crate::strict::StrictConfig::from_env()
    })?;
    println!("    emulator at {}", emu.endpoint_url());

    say("2/10 Creating the seed's topology: ALB web-alb → target group web-tg → one EC2 instance");
    let made = topology::create(&emu, &topology::seed_spec())?;
    let instance = made.instances.first().context("no instance made")?.clone();
    println!("    instance {instance} is registered in web-tg");

    say("3/10 Starting a local Slack-compatible incoming-webhook sink (prints what it receives)");
    let sink = SlackSink::start(Behaviour::AlwaysOk).await?;
    sink.print_messages();
    let hook = sink.url();

    say("4/10 elb-watch up: KMS key, decrypt-only policy, role, topic, alarm, notifier, wiring");
    println!(
        "    (env demo of examples/elb-watch.toml: the load balancer, the channel, where the webhook URL is)"
    );
    let file = crate::repo_root().join("examples/elb-watch.toml");
    let file = file.to_string_lossy();
    let allow = [
        // The file's slack_url_env names it.
        ("SLACK_WEBHOOK_URL", hook.as_str()),
        // The sink is plain http on 127.0.0.1; real runs accept only https Slack URLs.
        ("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true"),
    ];
    let code = elb_watch(&bins.elb_watch, &emu, &allow, &["--file", &file, "up"]).await?;
    ensure!(code == 0, "elb-watch up exited {code}");
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["status"]).await?;
    ensure!(code == 0, "elb-watch status exited {code} right after up");

    say("5/10 Stopping the instance: its target turns unhealthy");
    topology::set_instance_running(&emu, &instance, false)?;
    let alarm = format!("elb-watch/{ENV}/{ALB}/{TARGET_GROUP}/HealthyHostCount");
    explain(
        "The emulator does not evaluate alarms. Standing in for CloudWatch: SetAlarmState(ALARM),\n\
         then the exact message CloudWatch publishes to the topic, as SNS hands it to Lambda.\n\
         The emulator does not run Lambda code either: the real notifier binary runs here under\n\
         a local Lambda Runtime API, with the deployed function's own environment (its\n\
         KMS-encrypted webhook URL is decrypted through the emulator's KMS).",
    );
    let function = format!("elb-watch-{ENV}-notifier");
    let api = RuntimeApi::start().await?;
    let _notifier = FunctionProcess::spawn_deployed(&bins.bootstrap, &api, &emu, &function)?;
    deliver(&emu, &api, &alarm, "ALARM", ALARM_REASON).await?;
    ensure!(
        sink.wait_for_messages(1, Duration::from_secs(10)).await,
        "no Slack message for ALARM"
    );
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["status"]).await?;
    ensure!(code != 2, "elb-watch status failed");

    say("6/10 Starting the instance again: healthy → OK → a \"recovered\" message");
    topology::set_instance_running(&emu, &instance, true)?;
    deliver(&emu, &api, &alarm, "OK", OK_REASON).await?;
    ensure!(
        sink.wait_for_messages(2, Duration::from_secs(10)).await,
        "no Slack message for OK"
    );

    say("7/10 elb-watch test: a test alert through the real path, and its recovery");
    explain(
        "`test` sets the env's test alarm to ALARM (SetAlarmState, marked as a test); CloudWatch\n\
         runs its action (SNS → the notifier: here the strict layer stands in for both, and runs\n\
         the real notifier binary), and `test` waits for the notifier's delivery line in its log\n\
         group. CloudWatch's next evaluation puts the alarm back to OK, posted as the recovery.",
    );
    drop(_notifier);
    let runner = crate::strict::lambda_async::FunctionRunner {
        bootstrap: bins.bootstrap.clone(),
        endpoint: emu.endpoint_url(),
        extra_env: vec![],
        retry_wait: Duration::from_millis(200),
        timeout: Duration::from_secs(20),
    };
    emu.strict()
        .context("the demo needs the strict layer")?
        .run_functions_with(runner);
    let before = sink.received().len();
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["test", "--timeout", "60"]).await?;
    ensure!(code == 0, "elb-watch test exited {code}");
    ensure!(
        sink.wait_for_messages(before + 2, TEST_RECOVERY_AFTER * 4)
            .await,
        "no TEST recovery in Slack"
    );
    // Let the sink print it before the next step's lines.
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!(
        "    the test alarm is back to OK ({} s later here; CloudWatch: often within seconds)",
        TEST_RECOVERY_AFTER.as_secs()
    );

    say("8/10 Slack app mode: one thread per incident (a bot token instead of the webhook)");
    explain(
        "`up` again with the app's bot token (here from ELB_WATCH_SLACK_TOKEN; --slack-token-file\n\
         reads a file or stdin) and the channel's ID: the notifier is switched to Slack's Web\n\
         API, its token KMS-encrypted like the webhook URL was. Slack is a local stand-in of its\n\
         Web API (chat.postMessage, chat.update, auth.test, conversations.info).",
    );
    let slack = SlackApi::start(Workspace::default()).await?;
    let api_url = slack.base_url();
    let app_env = [
        ("ELB_WATCH_SLACK_TOKEN", DEFAULT_TOKEN),
        ("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true"),
    ];
    let code = elb_watch(
        &bins.elb_watch,
        &emu,
        &app_env,
        &[
            "up",
            "--alb",
            ALB,
            "--slack-channel",
            APP_CHANNEL,
            "--slack-api-url",
            &api_url,
        ],
    )
    .await?;
    ensure!(code == 0, "elb-watch up (app mode) exited {code}");
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["status"]).await?;
    ensure!(code == 0, "elb-watch status exited {code} in app mode");
    let api = RuntimeApi::start().await?;
    let _notifier = FunctionProcess::spawn_deployed(&bins.bootstrap, &api, &emu, &function)?;
    topology::set_instance_running(&emu, &instance, false)?;
    deliver(&emu, &api, &alarm, "ALARM", ALARM_REASON).await?;
    deliver(&emu, &api, &alarm, "ALARM", ALARM_REASON).await?;
    topology::set_instance_running(&emu, &instance, true)?;
    deliver(&emu, &api, &alarm, "OK", OK_REASON).await?;
    let parents = slack.parents(APP_CHANNEL);
    let first = parents.first().context("no message in the app's channel")?;
    let thread = slack
        .thread(APP_CHANNEL, &first.ts)
        .context("the ALARM message has no thread")?;
    explain(
        "ALARM, ALARM again, OK: one message in the channel, updated in place, with its thread:",
    );
    print_thread(&thread);

    say("9/10 elb-watch down: removes everything of env demo");
    let code = elb_watch(&bins.elb_watch, &emu, &[], &["down", "--yes"]).await?;
    ensure!(code == 0, "elb-watch down exited {code}");

    let slack_messages = sink.received();
    let saved_to = crate::repo_root().join("target/demo/slack-messages.json");
    std::fs::create_dir_all(saved_to.parent().expect("has a parent"))?;
    std::fs::write(&saved_to, serde_json::to_string_pretty(&slack_messages)?)?;
    say(&format!(
        "10/10 Done: {} Slack messages (raw JSON in {}). Every process the demo started is stopped.",
        slack_messages.len(),
        saved_to.display()
    ));
    Ok(Report {
        slack_messages,
        instance,
        saved_to,
        thread,
        app_parents: parents.len(),
    })
}
