//! The alarm's graph in Slack app mode, end to end: the real `bootstrap` under the local Runtime
//! API, the Slack Web API stand-in (its file upload: `files.getUploadURLExternal`, the bytes to
//! the upload URL, `files.completeUploadExternal`) and the AWS emulator, whose strict layer
//! answers GetMetricWidgetImage (moto has none) — made slow or refused by its configuration.
//! The text always goes first; the graph follows in its thread, or not at all, never instead.
//!
//! Needs `moto_server` (`scripts/emulator.sh setup`): these tests fail, rather than skip,
//! without it.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use common::*;
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_api::{DEFAULT_TOKEN, Fault, Scope, SlackApi, Token, Workspace};
use elb_watch_testkit::strict::StrictConfig;
use elb_watch_testkit::topology;
use serde_json::{Value, json};

const ALARM: &str = "elb-watch-e2e-web-tg-HealthyHostCount";
const CHANNEL: &str = "C0ALERTS";

async fn emulator_with(config: StrictConfig) -> Emulator {
    tokio::task::spawn_blocking(move || Emulator::start_with(config))
        .await
        .unwrap()
        .expect("moto_server is needed: run scripts/emulator.sh setup")
}

/// The alarm `up` makes for web-tg.
async fn put_watched_alarm(emu: &Emulator) {
    use cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    cloudwatch::Client::new(&sdk(emu).await)
        .put_metric_alarm()
        .alarm_name(ALARM)
        .namespace("AWS/ApplicationELB")
        .metric_name("HealthyHostCount")
        .dimensions(dim("TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09"))
        .dimensions(dim("LoadBalancer", "app/web-alb/50dc6c495c0c9188"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .unwrap();
}

fn change_state(emu: &Emulator, state: &str, reason: &str) -> Value {
    tokio::task::block_in_place(|| topology::alarm_event(emu, ALARM, state, reason).unwrap())
}

fn fired(emu: &Emulator) -> Value {
    change_state(
        emu,
        "ALARM",
        "Threshold Crossed: no datapoints were received",
    )
}

fn recovered(emu: &Emulator) -> Value {
    change_state(
        emu,
        "OK",
        "Threshold Crossed: 1 datapoint [1.0] was not less than 1.0",
    )
}

async fn start_app(emu: &Emulator, slack: &SlackApi) -> (RuntimeApi, FunctionProcess) {
    let mut vars = emu.aws_env();
    vars.extend(env(&[
        ("SLACK_API_URL", &slack.base_url()),
        ("SLACK_BOT_TOKEN", DEFAULT_TOKEN),
        ("slackChannel", CHANNEL),
        ("ELB_WATCH_ENRICH_TIMEOUT_MS", "8000"),
    ]));
    start(vars).await
}

async fn delivered(api: &RuntimeApi, function: &FunctionProcess, event: Value) {
    let inv = api.invoke(event, TIMEOUT).await.unwrap();
    assert_eq!(
        inv.outcome,
        elb_watch_testkit::runtime_api::Outcome::Response(
            json!({"records": 1, "delivered": 1, "skipped": 0})
        ),
        "{}",
        function.logs()
    );
}

/// Index of the first call of `method` in the stand-in's calls.
fn position(slack: &SlackApi, method: &str) -> Option<usize> {
    slack.calls().iter().position(|c| c.method == method)
}

/// The JSON log line whose message is `message`, waited for.
async fn line(function: &FunctionProcess, message: &str) -> Value {
    function
        .json_log_where(
            |l| l["fields"]["message"] == message,
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("no {message:?} line\n{}", function.logs()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_and_its_recovery_each_get_their_graph_in_the_thread_after_the_text() {
    let emu = emulator_with(StrictConfig::from_env()).await;
    put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack).await;

    delivered(&api, &function, fired(&emu)).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{}", function.logs());
    let ts = parents[0].ts.clone();
    let files = slack.files_in_thread(CHANNEL, &ts);
    assert_eq!(
        files.len(),
        1,
        "{} files\n{}",
        slack.files().len(),
        function.logs()
    );
    let graph = &files[0];
    assert!(
        graph.is_png(),
        "{:?}",
        graph.bytes.as_ref().map(|b| &b[..8])
    );
    assert_eq!(graph.bytes.as_ref().unwrap().len(), graph.length);
    let completion = graph.completion.as_ref().unwrap();
    assert_eq!(completion["channel_id"], CHANNEL);
    assert_eq!(completion["thread_ts"], ts.as_str());
    assert_eq!(completion["files"][0]["id"], graph.id.as_str());
    assert_eq!(graph.title.as_deref(), Some(ALARM));
    assert!(graph.filename.ends_with(".png"), "{}", graph.filename);
    let alt = graph.alt_txt.as_deref().unwrap();
    assert!(
        alt.starts_with(
            "Graph of HealthyHostCount (Minimum) of target group web-tg behind web-alb"
        ) && alt.contains("threshold line at 1")
            && alt.contains("the alarm fired at"),
        "{alt}"
    );
    // The text first, the graph after; the bytes to the stand-in's upload URL, raw.
    let post = position(&slack, "chat.postMessage").unwrap();
    let ticket = position(&slack, "files.getUploadURLExternal").unwrap();
    let done = position(&slack, "files.completeUploadExternal").unwrap();
    assert!(post < ticket && ticket < done, "{:?}", slack.calls());
    let uploads = slack.upload_posts();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].status, 200);
    assert!(uploads[0].at > slack.calls()[post].at);
    // CloudWatch drew it: the strict layer answered a valid MetricWidget.
    let stats = emu.strict().unwrap().stats();
    assert_eq!(
        stats.get("metric-image:GetMetricWidgetImage"),
        Some(&1),
        "{stats:?}"
    );
    let posted = line(&function, "alarm graph posted in the thread").await;
    assert_eq!(posted["fields"]["thread_ts"], ts.as_str());

    // The recovery: its graph in the same thread, marking the outage the history knows.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    delivered(&api, &function, recovered(&emu)).await;
    let files = slack.files_in_thread(CHANNEL, &ts);
    assert_eq!(files.len(), 2, "{}", function.logs());
    let alt = files[1].alt_txt.as_deref().unwrap();
    assert!(alt.contains("the outage from "), "{alt}");
    assert!(files[1].is_png());
    assert!(slack.orphans().is_empty());
}

/// Text posted, no graph, and the warning saying why.
async fn text_alone(
    config: StrictConfig,
    workspace: Workspace,
    script: impl FnOnce(&SlackApi),
    why: &str,
) -> (FunctionProcess, SlackApi, Value, Duration) {
    let emu = emulator_with(config).await;
    put_watched_alarm(&emu).await;
    let slack = SlackApi::start(workspace).await.unwrap();
    script(&slack);
    let (api, function) = start_app(&emu, &slack).await;
    delivered(&api, &function, fired(&emu)).await;
    let returned = std::time::Instant::now();
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "{}", function.logs());
    assert!(parents[0].text().contains("ALARM"));
    assert!(
        slack.files_in_thread(CHANNEL, &parents[0].ts).is_empty(),
        "a graph was shared\n{}",
        function.logs()
    );
    // How long before the invocation's end the text was posted: the graph step's time.
    let post = &slack.calls()[position(&slack, "chat.postMessage").unwrap()];
    let text_ahead = returned - post.at;
    let warned = line(&function, why).await;
    assert_eq!(warned["level"], "WARN");
    // A warning about the graph, not an error about the alert.
    assert!(
        !function.logs().contains("NOT delivered"),
        "{}",
        function.logs()
    );
    (function, slack, warned, text_ahead)
}

const IMAGE_FAILED: &str = "GetMetricWidgetImage failed; the alert stays without its graph";
const UPLOAD_REFUSED: &str =
    "Slack refused the alarm graph's upload; the alert stays without its graph";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_image_call_posts_the_text_alone() {
    let config = StrictConfig {
        metric_image_refusal: Some("AccessDenied".into()),
        ..StrictConfig::from_env()
    };
    let (_f, slack, warned, _) =
        text_alone(config, Workspace::default(), |_| {}, IMAGE_FAILED).await;
    assert!(
        warned["fields"]["error"]
            .as_str()
            .unwrap()
            .starts_with("AccessDenied"),
        "{warned}"
    );
    assert_eq!(slack.calls_of("files.getUploadURLExternal"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_image_call_posts_the_text_alone() {
    let config = StrictConfig {
        metric_image_refusal: Some("Throttling".into()),
        ..StrictConfig::from_env()
    };
    let (_f, slack, warned, _) =
        text_alone(config, Workspace::default(), |_| {}, IMAGE_FAILED).await;
    let error = warned["fields"]["error"].as_str().unwrap();
    assert!(
        error.starts_with("Throttling") || error.starts_with("timed out"),
        "{warned}"
    );
    assert_eq!(slack.calls_of("files.getUploadURLExternal"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_image_call_is_given_up_after_3_s_and_the_text_stands_alone() {
    let config = StrictConfig {
        metric_image_delay: Duration::from_millis(4500),
        ..StrictConfig::from_env()
    };
    let (_f, slack, warned, text_ahead) =
        text_alone(config, Workspace::default(), |_| {}, IMAGE_FAILED).await;
    assert_eq!(
        warned["fields"]["error"], "timed out after 3000 ms",
        "{warned}"
    );
    let image_ms = warned["fields"]["image_ms"].as_f64().unwrap();
    assert!((3000.0..3500.0).contains(&image_ms), "{warned}");
    // The text did not wait for it: posted the image call's 3 s before the invocation ended.
    assert!(text_ahead >= Duration::from_millis(2900), "{text_ahead:?}");
    assert_eq!(slack.calls_of("files.getUploadURLExternal"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_posts_the_text_alone() {
    let (_f, slack, warned, _) = text_alone(
        StrictConfig::from_env(),
        Workspace::default(),
        |slack| {
            slack.queue(
                Scope::method("files.completeUploadExternal"),
                1,
                Fault::error("invalid_arguments"),
            )
        },
        UPLOAD_REFUSED,
    )
    .await;
    assert_eq!(warned["fields"]["slack_error"], "invalid_arguments");
    // The ticket was taken and the bytes sent; the completion refused: nothing shared.
    assert_eq!(slack.upload_posts().len(), 1);
    assert!(slack.files().iter().all(|f| !f.completed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_files_write_posts_the_text_alone_and_says_which_scope() {
    let chat_only =
        Workspace::default().with_token(Token::bot(DEFAULT_TOKEN, "elb-watch").with_scopes(&[
            "chat:write",
            "channels:read",
            "groups:read",
        ]));
    let (_f, slack, warned, _) =
        text_alone(StrictConfig::from_env(), chat_only, |_| {}, UPLOAD_REFUSED).await;
    assert_eq!(warned["fields"]["slack_error"], "missing_scope");
    let fix = warned["fields"]["fix"].as_str().unwrap();
    assert!(fix.contains("files:write"), "{fix}");
    assert!(slack.files().is_empty());
    assert!(slack.upload_posts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_text_of_an_invocation_goes_out_before_any_graph() {
    let emu = emulator_with(StrictConfig::from_env()).await;
    put_watched_alarm(&emu).await;
    let slack = SlackApi::start(Workspace::default()).await.unwrap();
    let (api, function) = start_app(&emu, &slack).await;
    let message = |event: &Value| {
        event["Records"][0]["Sns"]["Message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let ours = message(&fired(&emu));
    let other = message(&fixture("sns-alarm-healthyhostcount-alarm.json"));
    let inv = api
        .invoke(sns_event(&[ours, other]), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        inv.outcome,
        elb_watch_testkit::runtime_api::Outcome::Response(
            json!({"records": 2, "delivered": 2, "skipped": 0})
        ),
        "{}",
        function.logs()
    );
    let calls = slack.calls();
    let posts: Vec<usize> = (0..calls.len())
        .filter(|&i| calls[i].method == "chat.postMessage")
        .collect();
    let first_ticket = position(&slack, "files.getUploadURLExternal").unwrap();
    assert_eq!(posts.len(), 2, "{}", function.logs());
    assert!(posts.iter().all(|&p| p < first_ticket), "{calls:?}");
    let shared: Vec<_> = slack.files().into_iter().filter(|f| f.completed).collect();
    assert_eq!(shared.len(), 2, "{}", function.logs());
}
