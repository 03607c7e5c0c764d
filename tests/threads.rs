//! Slack app mode (issue 15): `up --slack-token-file` deploys the notifier with a KMS-encrypted
//! bot token; each incident becomes one thread in the channel (the ALARM, a second ALARM and
//! the recovery as replies, the ALARM message updated to say it was resolved and after how
//! long); `status` checks the token and the channel with Slack; switching between webhook and
//! app mode with `up` converges like any other change.
//!
//! Slack is the testkit's Web API stand-in; AWS is the emulator through the strict layer; the
//! notifier is the real `bootstrap` under the local Lambda Runtime API.

mod common;

use common::{aws::sdk, elb_watch, run};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::RuntimeApi;
use elb_watch_testkit::slack_api::{DEFAULT_TOKEN, SlackApi, Workspace};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use elb_watch_testkit::topology;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const ENV: &str = "th";
const FUNCTION: &str = "elb-watch-th-notifier";
const ALARM: &str = "elb-watch/th/web-alb/web-tg/HealthyHostCount";
const CHANNEL: &str = "C0ALERTS";
const THREAD_TAG: &str = "elb-watch:slack-thread";

/// The bot token in a file only the test reads.
fn token_file() -> PathBuf {
    common::token_file("threads")
}

/// Fails the test if the token shows anywhere in a run's output.
fn assert_no_token(r: &common::Run) {
    for text in [&r.stdout, &r.stderr] {
        assert!(
            !text.contains(DEFAULT_TOKEN) && !text.contains("elbwatchtesttoken"),
            "the bot token leaked:\n{text}"
        );
    }
}

/// `up` in app mode; `token`: pass the token file (else the function's token is kept).
fn up_app(emu: &Emulator, slack: &SlackApi, token: Option<&PathBuf>) -> common::Run {
    let mut cmd = elb_watch(emu);
    cmd.env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", ENV, "--output", "json", "up", "--alb", "web-alb"])
        .args(["--slack-channel", CHANNEL])
        .args(["--slack-api-url", &slack.base_url()]);
    if let Some(path) = token {
        cmd.arg("--slack-token-file").arg(path);
    }
    let r = run(&mut cmd);
    assert_no_token(&r);
    r
}

fn up_webhook(emu: &Emulator, url: &str) -> common::Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", url)
        .env("ELB_WATCH_ALLOW_ANY_WEBHOOK", "true")
        .args(["--env", ENV, "--output", "json", "up", "--alb", "web-alb"]));
    assert_no_token(&r);
    r
}

fn status(emu: &Emulator) -> common::Run {
    let r = run(elb_watch(emu).args(["--env", ENV, "--output", "json", "status"]));
    assert_no_token(&r);
    r
}

fn mutating(r: &common::Run) -> u64 {
    r.json()["api_calls"]["mutating"].as_u64().unwrap()
}

async fn alarm_tags(emu: &Emulator) -> Vec<(String, String)> {
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(emu).await);
    let alarm = cw
        .describe_alarms()
        .alarm_names(ALARM)
        .send()
        .await
        .unwrap();
    let arn = alarm.metric_alarms()[0].alarm_arn().unwrap().to_string();
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    tags.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The notifier role's inline policies, as one document.
async fn role_policy(emu: &Emulator) -> Value {
    let iam = aws_sdk_iam::Client::new(&sdk(emu).await);
    let role = format!("elb-watch-{ENV}-notifier");
    let inline = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    let mut statements = Vec::new();
    for name in inline.policy_names() {
        let p = iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        let doc = elb_watch::policy::parse_document(p.policy_document()).unwrap();
        statements.extend(doc["Statement"].as_array().unwrap().iter().cloned());
    }
    serde_json::json!({ "Statement": statements })
}

fn allowed_actions(doc: &Value) -> Vec<String> {
    let mut actions: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect();
    actions.sort();
    actions
}

/// Runs the deployed notifier on `state` for the env's web-tg alarm; returns the invocation.
async fn notify(
    emu: &Emulator,
    api: &RuntimeApi,
    process: &elb_watch_testkit::runtime_api::FunctionProcess,
    state: &str,
    reason: &str,
) -> elb_watch_testkit::runtime_api::Invocation {
    let event = topology::alarm_event(emu, ALARM, state, reason).unwrap();
    let inv = api.invoke(event, Duration::from_secs(30)).await.unwrap();
    assert!(
        inv.outcome.is_response(),
        "{state}: {:?}\n{}",
        inv.outcome,
        process.logs()
    );
    inv
}

#[tokio::test(flavor = "multi_thread")]
async fn one_thread_per_incident_and_status_checks_the_token_with_slack() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let token = token_file();

    let r = up_app(&emu, &slack, Some(&token));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // The function holds the token encrypted, under app mode's variable, and no webhook.
    let env = topology::function_env(&emu, FUNCTION).unwrap();
    let ciphertext = env.get("kmsEncryptedSlackToken").expect("encrypted token");
    assert!(!ciphertext.contains("xoxb"), "not encrypted");
    assert_eq!(env.get("slackChannel").map(String::as_str), Some(CHANNEL));
    assert_eq!(env.get("SLACK_API_URL"), Some(&slack.base_url()));
    assert!(!env.contains_key("kmsEncryptedHookUrl"), "{env:?}");
    // The role may keep the thread tag on its own alarms.
    let actions = allowed_actions(&role_policy(&emu).await);
    for a in ["cloudwatch:ListTagsForResource", "cloudwatch:TagResource"] {
        assert!(actions.contains(&a.to_string()), "{actions:?}");
    }

    // Again, with the token kept: nothing to do.
    let again = up_app(&emu, &slack, None);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
    assert_eq!(mutating(&again), 0, "{}", again.stdout);

    // status asks Slack: the token works and the app is in the channel.
    let s = status(&emu);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let app = &s.json()["slack_app"];
    assert_eq!(app["ok"], true, "{app}");
    assert_eq!(app["channel_name"], "alerts", "{app}");
    assert_eq!(s.json()["webhook"]["mode"], "app");
    assert!(slack.calls_of("auth.test") >= 1);

    // An incident: ALARM, ALARM again, OK — one thread.
    let api = RuntimeApi::start().await.unwrap();
    let process = common::notifier(&emu, &api, FUNCTION);
    notify(
        &emu,
        &api,
        &process,
        "ALARM",
        "Threshold Crossed: no healthy host",
    )
    .await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{parents:?}");
    let ts = parents[0].ts.clone();
    let tags = alarm_tags(&emu).await;
    // `<channel>/<ts>/<StateChangeTime ms>`: the open incident and when it last fired.
    let open = format!("{CHANNEL}/{ts}/");
    assert!(
        tags.iter()
            .any(|(k, v)| k == THREAD_TAG && v.starts_with(&open)),
        "{tags:?}"
    );
    // `up` while the incident is open: nothing to do, and the thread stays (the tag is the
    // notifier's, not drift).
    let during = up_app(&emu, &slack, None);
    assert_eq!(mutating(&during), 0, "{}", during.stdout);
    assert!(
        alarm_tags(&emu).await.iter().any(|(k, _)| k == THREAD_TAG),
        "up removed the open thread"
    );
    notify(&emu, &api, &process, "OK", "Threshold Crossed: 1 healthy").await;
    notify(
        &emu,
        &api,
        &process,
        "ALARM",
        "Threshold Crossed: down again",
    )
    .await;
    // A new incident after the recovery: a second thread.
    assert_eq!(
        slack.parents(CHANNEL).len(),
        2,
        "{:?}",
        slack.parents(CHANNEL)
    );
    notify(
        &emu,
        &api,
        &process,
        "ALARM",
        "Threshold Crossed: still down",
    )
    .await;
    notify(&emu, &api, &process, "OK", "Threshold Crossed: back").await;

    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 2, "{parents:?}");
    let first = slack.thread(CHANNEL, &ts).unwrap();
    assert_eq!(
        first.replies.len(),
        1,
        "the OK in the first thread: {first:?}"
    );
    assert!(first.parent.edits() >= 1, "{first:?}");
    let second = slack.thread(CHANNEL, &parents[1].ts).unwrap();
    // The second ALARM and the OK are replies; the parent was updated.
    assert_eq!(second.replies.len(), 2, "{second:?}");
    assert!(second.parent.edits() >= 1, "{second:?}");
    let resolved = format!("{:?}", second.parent.current());
    assert!(resolved.to_lowercase().contains("resolved"), "{resolved}");
    // Closed: the tag names no thread, only when the incident was closed (`closed/<ms>`), so a
    // late ALARM cannot re-open it.
    let tags = alarm_tags(&emu).await;
    assert!(
        tags.iter()
            .any(|(k, v)| k == THREAD_TAG && v.starts_with("closed/")),
        "{tags:?}"
    );
    assert!(!process.logs().contains(DEFAULT_TOKEN), "token in the logs");

    // The token is revoked: status says so and exits 1.
    slack.revoke_token(DEFAULT_TOKEN);
    let s = status(&emu);
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    let verdict = s.json()["verdict"].as_str().unwrap().to_string();
    assert!(verdict.contains("revoked"), "{verdict}");
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_between_webhook_and_app_mode_converges() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &common::spec()).unwrap();
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let token = token_file();

    let r = up_webhook(&emu, &sink.url());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        !allowed_actions(&role_policy(&emu).await).contains(&"cloudwatch:TagResource".into()),
        "webhook mode keeps no threads, so it may not tag alarms"
    );

    // Webhook → app.
    let r = up_app(&emu, &slack, Some(&token));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let changes = r.json()["changes"].to_string();
    assert!(
        changes.contains("Slack delivery (webhook → app"),
        "{changes}"
    );
    let env = topology::function_env(&emu, FUNCTION).unwrap();
    assert!(env.contains_key("kmsEncryptedSlackToken"), "{env:?}");
    assert!(!env.contains_key("kmsEncryptedHookUrl"), "{env:?}");
    assert!(allowed_actions(&role_policy(&emu).await).contains(&"cloudwatch:TagResource".into()));
    let s = status(&emu);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    let again = up_app(&emu, &slack, None);
    assert_eq!(mutating(&again), 0, "{}", again.stdout);

    // App → webhook: the token, its API root and the tagging permission go.
    let r = up_webhook(&emu, &sink.url());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let changes = r.json()["changes"].to_string();
    assert!(changes.contains("Slack delivery (app"), "{changes}");
    let env = topology::function_env(&emu, FUNCTION).unwrap();
    assert!(env.contains_key("kmsEncryptedHookUrl"), "{env:?}");
    assert!(!env.contains_key("kmsEncryptedSlackToken"), "{env:?}");
    assert!(!env.contains_key("SLACK_API_URL"), "{env:?}");
    assert!(!allowed_actions(&role_policy(&emu).await).contains(&"cloudwatch:TagResource".into()));
    let s = status(&emu);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(s.json()["slack_app"], Value::Null);
    let again = up_webhook(&emu, &sink.url());
    assert_eq!(mutating(&again), 0, "{}", again.stdout);
}

/// App mode's inputs are checked before anything is read or made, and no error repeats the
/// token.
#[test]
fn app_mode_inputs_are_refused_with_what_to_do() {
    let token = token_file();
    let user_token = token.with_file_name("user-token");
    std::fs::write(&user_token, "xoxp-1-2-usersecretvalue").unwrap();
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_elb-watch"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("ELB_WATCH_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied())
            .args(["up", "--alb", "web-alb"])
            .args(args);
        let r: common::Run = cmd.output().unwrap().into();
        assert_no_token(&r);
        assert!(!r.stderr.contains("usersecretvalue"), "{}", r.stderr);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        r.stderr
    };
    let t = token.to_str().unwrap();
    let e = cli(&["--slack-token-file", t], &[]);
    assert!(e.contains("needs --slack-channel"), "{e}");
    let e = cli(
        &["--slack-token-file", t, "--slack-channel", "#alerts"],
        &[],
    );
    assert!(e.contains("not a channel ID"), "{e}");
    let e = cli(
        &[
            "--slack-token-file",
            user_token.to_str().unwrap(),
            "--slack-channel",
            CHANNEL,
        ],
        &[],
    );
    assert!(e.contains("user token"), "{e}");
    let e = cli(
        &["--slack-channel", CHANNEL],
        &[
            ("ELB_WATCH_SLACK_TOKEN", DEFAULT_TOKEN),
            ("ELB_WATCH_SLACK_URL", common::CANARY),
        ],
    );
    assert!(e.contains("pass one"), "{e}");
    let e = cli(
        &[
            "--slack-token-file",
            t,
            "--slack-channel",
            CHANNEL,
            "--slack-api-url",
            "http://x/api/",
        ],
        &[],
    );
    assert!(e.contains("https"), "{e}");
}
