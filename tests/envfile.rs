//! Environments as code (issue 25): `elb-watch.toml` holds what `up` takes, per env; flags
//! win over it; `[[env.NAME.override]]` sets a threshold per target group (a count, or a share
//! of the targets: metric math); `plan --detailed-exitcode` tells "no changes" (0) from
//! "changes" (1); `--output markdown` is a pull-request comment; `--all-envs` runs every env of
//! the file, each in its own region.

mod common;

use common::{aws::sdk, elb_watch, run, run_notifier, tg_alarm};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A directory holding `elb-watch.toml` with `text`.
fn repo_with(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elb-watch-envfile-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("elb-watch.toml"), text).unwrap();
    dir
}

/// `elb-watch ARGS` run in `dir`, the webhook URL in `FILE_SLACK_URL` (which the file names).
fn cli(emu: &Emulator, dir: &Path, sink: &SlackSink, args: &[&str]) -> common::Run {
    let r = run(elb_watch(emu)
        .current_dir(dir)
        .env("FILE_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .arg("--no-progress")
        .args(args));
    common::assert_no_leak(&r);
    r
}

async fn alarm(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let out = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    out.metric_alarms()
        .first()
        .unwrap_or_else(|| panic!("no alarm {name}"))
        .clone()
}

const FILE: &str = r##"
[env.cfg]
lbs = ["web-alb"]
slack_url_env = "FILE_SLACK_URL"
slack_channel = "#ops"
min_healthy = 1

[[env.cfg.override]]
target_group = "api-*"
min_healthy = 5
"##;

#[tokio::test(flavor = "multi_thread")]
async fn an_env_file_needs_no_flags_overrides_set_thresholds_and_plan_tells_changes() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let dir = repo_with("flags", FILE);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    let (web, api) = (
        tg_alarm("cfg", "web-alb", "web-tg"),
        tg_alarm("cfg", "web-alb", "api-tg"),
    );

    // `plan` before anything exists: changes, exit 1 with --detailed-exitcode.
    let p = cli(
        &emu,
        &dir,
        &sink,
        &["--env", "cfg", "plan", "--detailed-exitcode"],
    );
    assert_eq!(p.code, 1, "{}\n{}", p.stdout, p.stderr);
    assert!(p.stdout.contains("< 5 healthy"), "{}", p.stdout);
    assert!(
        cw.describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty()
    );

    let up = cli(
        &emu,
        &dir,
        &sink,
        &["--env", "cfg", "--output", "json", "up"],
    );
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert_eq!(alarm(&cw, &web).await.threshold(), Some(1.0));
    assert_eq!(alarm(&cw, &api).await.threshold(), Some(5.0));
    let lines = &up.json()["alarm_lines"];
    let api_line = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["target_group"] == "api-tg")
        .unwrap_or_else(|| panic!("{lines:#}"));
    assert_eq!(api_line["threshold"], "< 5 healthy");
    assert!(api_line["worst_case_s"].as_i64().unwrap() > 0, "{api_line}");

    // Nothing to change now; status agrees and shows the override it recorded.
    let p = cli(
        &emu,
        &dir,
        &sink,
        &["--env", "cfg", "plan", "--detailed-exitcode"],
    );
    assert_eq!(p.code, 0, "{}\n{}", p.stdout, p.stderr);
    let s = cli(
        &emu,
        &dir,
        &sink,
        &["--env", "cfg", "--output", "json", "status"],
    );
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.json()["settings"]["overrides"],
        serde_json::json!(["target_group=api-*: < 5 healthy"])
    );

    // A flag wins over the file; the override still wins for its groups. Markdown for the PR.
    let md = cli(
        &emu,
        &dir,
        &sink,
        &[
            "--env",
            "cfg",
            "--output",
            "markdown",
            "plan",
            "--detailed-exitcode",
            "--min-healthy",
            "2",
        ],
    );
    assert_eq!(md.code, 1, "{}\n{}", md.stdout, md.stderr);
    println!("{}", md.stdout);
    assert!(
        md.stdout.starts_with("### elb-watch plan: env `cfg`"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains(&format!("| alarm | `{web}` | **update** | threshold")),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("< 2 healthy · ALARM ≤"), "{}", md.stdout);
    assert!(
        !md.stdout.contains(&format!("`{api}`")),
        "api-tg unchanged: {}",
        md.stdout
    );

    // The file changes an override: status judges by the file (drift), up applies it.
    std::fs::write(
        dir.join("elb-watch.toml"),
        FILE.replace("min_healthy = 5", "min_healthy = 3"),
    )
    .unwrap();
    let s = cli(
        &emu,
        &dir,
        &sink,
        &["--env", "cfg", "--output", "json", "status"],
    );
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    let row = common::resource_row(&s.json(), &api);
    assert_eq!(row["state"], "drifted", "{row}");
    assert!(row["details"].to_string().contains("threshold"), "{row}");
    let up = cli(&emu, &dir, &sink, &["--env", "cfg", "up"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert_eq!(alarm(&cw, &api).await.threshold(), Some(3.0));
    assert_eq!(
        alarm(&cw, &web).await.threshold(),
        Some(1.0),
        "the file's own, again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_key_names_the_file_line_and_nearest_key_and_changes_nothing() {
    let emu = Emulator::start().unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let dir = repo_with("typo", &FILE.replace("slack_channel", "slak_channel"));
    let r = cli(&emu, &dir, &sink, &["--env", "cfg", "up"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("elb-watch.toml:5: unknown key `slak_channel`")
            && r.stderr.contains("did you mean `slack_channel`?"),
        "{}",
        r.stderr
    );
    // The schema names the key for editors.
    let schema = cli(&emu, &dir, &sink, &["schema"]);
    assert_eq!(schema.code, 0);
    let v: Value = serde_json::from_str(&schema.stdout).unwrap();
    assert!(v.to_string().contains("slack_channel"), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_percentage_threshold_is_metric_math_and_the_message_states_it() {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        ..StrictConfig::default()
    })
    .unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let file = format!(
        "{FILE}\n[[env.cfg.override]]\nload_balancer = \"web-*\"\ntarget_group = \"web-tg\"\nmin_healthy_percent = 50\n"
    );
    let dir = repo_with("percent", &file);
    let up = cli(&emu, &dir, &sink, &["--env", "cfg", "up"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&emu).await);
    let web = tg_alarm("cfg", "web-alb", "web-tg");
    let a = alarm(&cw, &web).await;
    assert_eq!(a.threshold(), Some(50.0));
    let metrics: Vec<(String, Option<String>)> = a
        .metrics()
        .iter()
        .map(|q| {
            (
                q.id().unwrap_or_default().to_string(),
                q.metric_stat()
                    .and_then(|m| m.metric())
                    .and_then(|m| m.metric_name())
                    .map(String::from)
                    .or_else(|| q.expression().map(String::from)),
            )
        })
        .collect();
    let names: Vec<&str> = metrics.iter().filter_map(|(_, m)| m.as_deref()).collect();
    assert!(
        names.contains(&"HealthyHostCount") && names.contains(&"UnHealthyHostCount"),
        "{metrics:?}"
    );
    assert!(names.iter().any(|e| e.contains("100 * h")), "{metrics:?}");
    // In sync as written.
    let s = cli(&emu, &dir, &sink, &["--env", "cfg", "status"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);

    run_notifier(&emu);
    cw.set_alarm_state()
        .alarm_name(&web)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("Threshold Crossed: 2 out of the last 3 datapoints [0.0 (04/12/26 03:00:00), 0.0 (04/12/26 02:59:00)] were less than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition).")
        .send()
        .await
        .unwrap();
    sink.wait_for_messages(1, Duration::from_secs(30)).await;
    let posted = sink.received();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = elb_watch_testkit::slack_sink::render_for_terminal(&posted[0]);
    println!("{text}");
    assert!(text.contains("< 50 %"), "{text}");
    assert!(
        text.contains("fewer than 50 % of its targets healthy"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn all_envs_runs_every_env_of_the_file_in_its_own_region() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let west = serde_json::json!({
        "instances": 1,
        "target_groups": [{"name": "west-tg", "targets": [0]}],
        "load_balancers": [{"name": "west-alb", "listeners": [{"port": 80, "default": ["west-tg"]}]}]
    });
    topology::create_in(&emu, "eu-west-1", &west).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let file = r#"
[env.east]
region = "us-east-1"
lbs = ["web-alb"]
slack_url_env = "FILE_SLACK_URL"

[env.west]
region = "eu-west-1"
lbs = ["west-alb"]
slack_url_env = "FILE_SLACK_URL"
min_healthy_percent = 50
"#;
    let dir = repo_with("all", file);
    let up = cli(&emu, &dir, &sink, &["--output", "json", "up", "--all-envs"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&up.stdout)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let seen: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| (d["env"].as_str().unwrap(), d["region"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("east", "us-east-1"), ("west", "eu-west-1")]);
    assert!(
        up.stderr
            .contains("env west (eu-west-1): up to date (exit 0)"),
        "{}",
        up.stderr
    );
    let west_cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&sdk(&emu).await)
            .region(aws_sdk_cloudwatch::config::Region::new("eu-west-1"))
            .build(),
    );
    let west_alarm = tg_alarm("west", "west-alb", "west-tg");
    assert_eq!(alarm(&west_cw, &west_alarm).await.threshold(), Some(50.0));

    let s = cli(&emu, &dir, &sink, &["status", "--all-envs"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert!(
        s.stdout.contains("env east (us-east-1): in sync (exit 0)"),
        "{}",
        s.stdout
    );

    // One env drifts: the worst exit code, and its line says so.
    west_cw
        .delete_alarms()
        .alarm_names(&west_alarm)
        .send()
        .await
        .unwrap();
    let s = cli(&emu, &dir, &sink, &["status", "--all-envs"]);
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    assert!(
        s.stdout
            .contains("env west (eu-west-1): drift or missing pieces (exit 1)")
            && s.stdout.contains("env east (us-east-1): in sync (exit 0)"),
        "{}",
        s.stdout
    );
}
