//! `elb-watch mute` / `unmute` (issue 23, part 2): maintenance windows with CloudWatch's alarm
//! mute rules, through the strict layer — which models the mute-rule API moto lacks (rule 21:
//! PutAlarmMuteRule's limits, the rules' states, a muted alarm's actions not running) and runs
//! EventBridge Scheduler's one-time schedules (rule 22) — with the real notifier under the local
//! Runtime API and the local Slack sink.
//!
//! - now: the rule is ACTIVE, `status` lists it and what it mutes, an alarm going to ALARM in
//!   the window posts nothing, `unmute` ends it and the alarm still in ALARM is announced;
//! - once (`--at`) and recurring (`--cron`): SCHEDULED, with their window-end schedules; `down`
//!   removes rules, schedules and the role;
//! - more than 100 alarms: several rules of at most 100;
//! - a window that ends with an alarm still in ALARM: Scheduler invokes the notifier at its end.

mod common;

use common::{aws::sdk, elb_watch, run, run_notifier, tg_alarm};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use std::time::{Duration, Instant};

async fn env_up(env: &str, config: StrictConfig) -> (Emulator, SlackSink) {
    let emu = Emulator::start_with(StrictConfig {
        set_state_actions: true,
        ..config
    })
    .unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let r = run(elb_watch(&emu)
        .env("ELB_WATCH_SLACK_URL", sink.url())
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", env, "--output", "json", "up", "--alb", "web-alb"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    run_notifier(&emu);
    (emu, sink)
}

fn cli(emu: &Emulator, env: &str, args: &[&str]) -> common::Run {
    run(elb_watch(emu)
        .args(["--env", env, "--output", "json", "--no-progress"])
        .args(args))
}

async fn set_state(emu: &Emulator, alarm: &str, state: aws_sdk_cloudwatch::types::StateValue) {
    let cfg = sdk(emu).await;
    aws_sdk_cloudwatch::Client::new(&cfg)
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(state)
        .state_reason("Threshold Crossed: 1 out of the last 1 datapoints [0.0] was less than the threshold (1.0).")
        .send()
        .await
        .unwrap();
}

/// Slack messages received within `timeout`, once `n` have come (or what came by then).
async fn wait_for_posts(sink: &SlackSink, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
    let until = Instant::now() + timeout;
    loop {
        let got = sink.received();
        if got.len() >= n || Instant::now() > until {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_from_now_silences_the_alarms_and_unmute_announces_what_is_still_broken() {
    let env = "mnow";
    let (emu, sink) = env_up(env, StrictConfig::from_env()).await;
    let r = cli(
        &emu,
        env,
        &[
            "mute",
            "--for",
            "2h",
            "--reason",
            "deploy 42",
            "--name",
            "deploy-42",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["window"], "deploy-42");
    assert_eq!(j["alarms"], 2, "web-tg and api-tg only: {j:#}");
    assert!(
        j["expression"].as_str().unwrap().starts_with("at("),
        "{j:#}"
    );
    assert!(
        j["end_expression"].as_str().unwrap().starts_with("at("),
        "{j:#}"
    );

    // Again, as a table: the same window is updated in place (still one rule).
    let table = run(elb_watch(&emu).args([
        "--env",
        env,
        "--no-progress",
        "mute",
        "--for",
        "2h",
        "--reason",
        "deploy 42",
        "--name",
        "deploy-42",
    ]));
    assert_eq!(table.code, 0, "{}\n{}", table.stdout, table.stderr);
    println!("$ elb-watch mute …\n{}", table.stdout);
    for needle in [
        "window deploy-42 of env",
        "2 alarm(s) muted from",
        "active",
        "at the window's end",
    ] {
        assert!(table.stdout.contains(needle), "{needle}: {}", table.stdout);
    }

    // What CloudWatch holds: one rule, the two target-group alarms, never the alerting path's.
    let rules = emu.strict().unwrap().mute_rules();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let mut muted = rules[0].1.clone();
    muted.sort();
    let web = tg_alarm(env, "web-alb", "web-tg");
    let api = tg_alarm(env, "web-alb", "api-tg");
    let mut want = vec![api.clone(), web.clone()];
    want.sort();
    assert_eq!(muted, want);
    assert_eq!(rules[0].2, "ACTIVE");

    // status lists it, ACTIVE, with what it mutes now; in sync (exit 0).
    let s = cli(&emu, env, &["status"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let sj = s.json();
    assert_eq!(
        sj["mute"]["rules"][0]["name"],
        format!("elb-watch-{env}-mute-deploy-42-1")
    );
    assert_eq!(sj["mute"]["rules"][0]["status"], "ACTIVE");
    assert_eq!(
        sj["mute"]["rules"][0]["description"],
        "elb-watch window deploy-42: deploy 42"
    );
    assert_eq!(sj["mute"]["muted_now"].as_array().unwrap().len(), 2);
    let table = run(elb_watch(&emu).args(["--env", env, "--no-progress", "status"]));
    println!("$ elb-watch status\n{}", table.stdout);
    assert!(table.stdout.contains("muted now (2)"), "{}", table.stdout);

    // An alarm going to ALARM in the window: its actions do not run, nobody is paged.
    set_state(&emu, &web, aws_sdk_cloudwatch::types::StateValue::Alarm).await;
    let posted = wait_for_posts(&sink, 1, Duration::from_secs(4)).await;
    assert!(posted.is_empty(), "a muted alarm paged: {posted:#?}");
    assert!(
        emu.strict().unwrap().count("alarm-actions") >= 1,
        "{:?}",
        emu.strict().unwrap().stats()
    );

    // unmute: the rule and its schedule go, and the alarm still in ALARM is announced.
    let u = run(elb_watch(&emu).args(["--env", env, "--no-progress", "unmute", "deploy-42"]));
    assert_eq!(u.code, 0, "{}\n{}", u.stdout, u.stderr);
    println!("$ elb-watch unmute deploy-42\n{}", u.stdout);
    assert!(
        u.stdout
            .contains("the notifier announces what is still in ALARM from deploy-42"),
        "{}",
        u.stdout
    );
    assert!(emu.strict().unwrap().mute_rules().is_empty());
    let posted = wait_for_posts(&sink, 1, Duration::from_secs(30)).await;
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = posted[0]["text"].as_str().unwrap();
    println!("Slack: {text}");
    assert!(text.contains("deploy-42") && text.contains(&web), "{text}");
    let s = cli(&emu, env, &["status"]);
    assert!(s.json()["mute"]["rules"].as_array().unwrap().is_empty());
    // A window that is not there is an error naming what there is.
    let again = cli(&emu, env, &["unmute", "deploy-42"]);
    assert_eq!(again.code, 2);
    assert!(
        again
            .stderr
            .contains("no maintenance window named deploy-42"),
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn once_and_recurring_windows_wait_for_their_time_and_down_removes_them() {
    let env = "mlater";
    let (emu, _sink) = env_up(env, StrictConfig::from_env()).await;
    let once = cli(
        &emu,
        env,
        &[
            "mute",
            "--at",
            "2030-12-24T22:00Z",
            "--for",
            "3h",
            "--lb",
            "web-alb",
        ],
    );
    assert_eq!(once.code, 0, "{}\n{}", once.stdout, once.stderr);
    let o = once.json();
    assert_eq!(o["window"], "w20301224-2200");
    assert_eq!(o["expression"], "at(2030-12-24T22:00)");
    assert_eq!(o["duration"], "PT3H");
    assert_eq!(o["end_expression"], "at(2030-12-25T01:00:00)");
    let cron = cli(
        &emu,
        env,
        &[
            "mute",
            "--cron",
            "cron(0 2 ? * SUN *)",
            "--for",
            "1h",
            "--timezone",
            "Europe/Paris",
        ],
    );
    assert_eq!(cron.code, 0, "{}\n{}", cron.stdout, cron.stderr);
    let c = cron.json();
    assert_eq!(c["expression"], "cron(0 2 * * SUN)");
    assert_eq!(c["end_expression"], "cron(0 3 ? * SUN *)");

    // The window-end schedules, as Scheduler holds them.
    let cfg = sdk(&emu).await;
    let scheduler = aws_sdk_scheduler::Client::new(&cfg);
    let group = format!("elb-watch-{env}");
    for (window, expression, tz) in [
        ("w20301224-2200", "at(2030-12-25T01:00:00)", "UTC"),
        (
            c["window"].as_str().unwrap(),
            "cron(0 3 ? * SUN *)",
            "Europe/Paris",
        ),
    ] {
        let s = scheduler
            .get_schedule()
            .group_name(&group)
            .name(format!("{window}-end"))
            .send()
            .await
            .unwrap();
        assert_eq!(s.schedule_expression(), Some(expression));
        assert_eq!(s.schedule_expression_timezone(), Some(tz));
        let target = s.target().unwrap();
        assert!(
            target
                .arn()
                .ends_with(&format!(":function:elb-watch-{env}-notifier"))
        );
        assert!(target.input().unwrap().contains("elbWatchWindowEnded"));
    }

    // status: both SCHEDULED, nothing muted now.
    let s = cli(&emu, env, &["status"]);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let sj = s.json();
    let states: Vec<&str> = sj["mute"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["SCHEDULED", "SCHEDULED"], "{sj:#}");
    assert!(sj["mute"]["muted_now"].as_array().unwrap().is_empty());

    // A window whose end schedule went (deleted by hand) would stay silent at its end: drift,
    // exit 1, until the same `mute` again puts it back.
    let cron_window = c["window"].as_str().unwrap().to_string();
    scheduler
        .delete_schedule()
        .group_name(&group)
        .name(format!("{cron_window}-end"))
        .send()
        .await
        .unwrap();
    let s = cli(&emu, env, &["status"]);
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.json()["mute"]["windows_without_end"][0],
        cron_window.as_str()
    );
    assert!(
        s.json()["verdict"]
            .as_str()
            .unwrap()
            .contains("no window-end schedule")
    );
    let again = cli(
        &emu,
        env,
        &[
            "mute",
            "--cron",
            "cron(0 2 ? * SUN *)",
            "--for",
            "1h",
            "--timezone",
            "Europe/Paris",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.json()["window"],
        cron_window.as_str(),
        "the same window, by its digest"
    );
    assert_eq!(cli(&emu, env, &["status"]).code, 0);

    // A bad form is refused before anything is made.
    let bad = cli(
        &emu,
        env,
        &["mute", "--cron", "cron(0 23 1 * *)", "--for", "2h"],
    );
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(bad.stderr.contains("day of month"), "{}", bad.stderr);
    let unknown = cli(&emu, env, &["mute", "--for", "1h", "--lb", "nope-alb"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("watches no load balancer named nope-alb"),
        "{}",
        unknown.stderr
    );
    assert_eq!(emu.strict().unwrap().mute_rules().len(), 2);

    // down: rules, schedules (with their group) and the role go.
    let d = cli(&emu, env, &["down", "--yes"]);
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(emu.strict().unwrap().mute_rules().is_empty());
    let group_gone = scheduler.get_schedule_group().name(&group).send().await;
    assert!(group_gone.is_err(), "{group_gone:?}");
    let iam = aws_sdk_iam::Client::new(&cfg);
    let role = iam
        .get_role()
        .role_name(format!("elb-watch-{env}-scheduler"))
        .send()
        .await;
    assert!(role.is_err(), "{role:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_a_hundred_alarms_are_muted_in_rules_of_at_most_a_hundred() {
    let env = "mmany";
    // Many alarms to make: quotas are not what this test is about.
    let (emu, _sink) = env_up(
        env,
        StrictConfig {
            rate_scale: 0.0,
            ..StrictConfig::from_env()
        },
    )
    .await;
    // 230 more load-balancer alarms of the env, as `up` names them.
    let cfg = sdk(&emu).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    for i in 0..230 {
        cw.put_metric_alarm()
            .alarm_name(tg_alarm(env, "web-alb", &format!("tg-{i:03}")))
            .namespace("AWS/ApplicationELB")
            .metric_name("HealthyHostCount")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
            .send()
            .await
            .unwrap();
    }
    let r = cli(&emu, env, &["mute", "--for", "30m", "--name", "big"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["alarms"], 232);
    let mut rules = emu.strict().unwrap().mute_rules();
    rules.sort_by(|a, b| a.0.cmp(&b.0));
    let sizes: Vec<usize> = rules.iter().map(|r| r.1.len()).collect();
    assert_eq!(
        sizes,
        [100, 100, 32],
        "{:?}",
        rules.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    let mut all: Vec<&String> = rules.iter().flat_map(|r| &r.1).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 232, "every alarm in exactly one rule");

    // Fewer alarms later (an LB gone): the same window shrinks, its extra rules go.
    for i in 0..130 {
        cw.delete_alarms()
            .alarm_names(tg_alarm(env, "web-alb", &format!("tg-{i:03}")))
            .send()
            .await
            .unwrap();
    }
    let r = cli(&emu, env, &["mute", "--for", "30m", "--name", "big"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.json()["removed_rules"][0],
        format!("elb-watch-{env}-mute-big-3")
    );
    let sizes: Vec<usize> = emu
        .strict()
        .unwrap()
        .mute_rules()
        .iter()
        .map(|r| r.1.len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 102, "{sizes:?}");
    assert_eq!(sizes.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_still_in_alarm_when_its_window_ends_is_announced_then() {
    let env = "mend";
    let (emu, sink) = env_up(env, StrictConfig::from_env()).await;
    // The shortest window CloudWatch allows: it ends 60 to 120 s from now.
    let r = cli(&emu, env, &["mute", "--for", "1m", "--name", "short"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let web = tg_alarm(env, "web-alb", "web-tg");
    let api = tg_alarm(env, "web-alb", "api-tg");
    set_state(&emu, &web, aws_sdk_cloudwatch::types::StateValue::Alarm).await;
    // api-tg goes to ALARM and back within the window: nothing to announce for it.
    set_state(&emu, &api, aws_sdk_cloudwatch::types::StateValue::Alarm).await;
    set_state(&emu, &api, aws_sdk_cloudwatch::types::StateValue::Ok).await;
    assert!(
        wait_for_posts(&sink, 1, Duration::from_secs(3))
            .await
            .is_empty()
    );

    // Scheduler invokes the notifier at the window's end; it posts the one still in ALARM.
    let posted = wait_for_posts(&sink, 1, Duration::from_secs(150)).await;
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = posted[0]["text"].as_str().unwrap();
    assert!(text.contains("short") && text.contains(&web), "{text}");
    assert!(!text.contains(&api), "{text}");
    assert!(
        emu.strict()
            .unwrap()
            .stats()
            .get("schedules:fired")
            .copied()
            .unwrap_or(0)
            == 1,
        "{:?}",
        emu.strict().unwrap().stats()
    );
    // One-time: the schedule deleted itself after it ran.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cfg = sdk(&emu).await;
    let gone = aws_sdk_scheduler::Client::new(&cfg)
        .get_schedule()
        .group_name(format!("elb-watch-{env}"))
        .name("short-end")
        .send()
        .await;
    assert!(gone.is_err(), "{gone:?}");
}
