//! `deliver::post` against the scriptable Slack sink: retry semantics without a Lambda around.

use std::time::Duration;

use elb_watch_notifier::runtime::config::normalize_url;
use elb_watch_notifier::slack::http::RetryPolicy;
use elb_watch_notifier::slack::webhook::post;
use elb_watch_testkit::slack_sink::{Behaviour, Reply, SlackSink};
use tokio::time::Instant;

fn policy() -> RetryPolicy {
    RetryPolicy {
        timeout: Duration::from_millis(300),
        base: Duration::from_millis(20),
        max: Duration::from_millis(100),
        max_attempts: 6,
    }
}

async fn send(
    sink: &SlackSink,
    policy: &RetryPolicy,
    within: Duration,
) -> (
    Result<
        elb_watch_notifier::slack::webhook::Delivered,
        elb_watch_notifier::slack::http::DeliveryError,
    >,
    Duration,
) {
    let client = elb_watch_notifier::slack::http::http_client(Duration::from_secs(5));
    let hook = normalize_url(&sink.url()).unwrap();
    let started = Instant::now();
    let r = post(
        &client,
        &hook,
        br#"{"text":"hello"}"#,
        policy,
        Instant::now() + within,
    )
    .await;
    (r, started.elapsed())
}

#[tokio::test]
async fn honours_retry_after_then_retries_5xx() {
    let sink = SlackSink::start(Behaviour::Sequence(vec![
        Reply::TooMany { retry_after_s: 1 },
        Reply::Status(500),
        Reply::Status(503),
    ]))
    .await
    .unwrap();
    let (r, took) = send(&sink, &policy(), Duration::from_secs(10)).await;
    let ok = r.unwrap();
    assert_eq!(ok.attempts, 4);
    assert_eq!(ok.status, 200);
    assert_eq!(sink.requests(), 4);
    assert_eq!(sink.received().len(), 1);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({took:?})"
    );
    let log = sink.log();
    assert!(log[1].at.duration_since(log[0].at) >= Duration::from_millis(990));
}

#[tokio::test]
async fn client_error_fails_at_once() {
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(404)))
        .await
        .unwrap();
    let (r, took) = send(&sink, &policy(), Duration::from_secs(10)).await;
    let e = r.unwrap_err();
    assert!(e.permanent);
    assert_eq!(e.attempts, 1);
    assert_eq!(e.last_status, Some(404));
    assert!(e.message.contains("no_service"), "{}", e.message);
    assert_eq!(sink.requests(), 1);
    assert!(took < Duration::from_millis(500));
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(500)))
        .await
        .unwrap();
    let mut p = policy();
    p.max_attempts = 3;
    let (r, _) = send(&sink, &p, Duration::from_secs(10)).await;
    let e = r.unwrap_err();
    assert!(!e.permanent);
    assert_eq!(e.attempts, 3);
    assert_eq!(sink.requests(), 3);
    assert!(e.to_string().contains("HTTP 500"), "{e}");
}

#[tokio::test]
async fn stops_before_the_deadline() {
    let sink = SlackSink::start(Behaviour::Always(Reply::Status(500)))
        .await
        .unwrap();
    let mut p = policy();
    p.max_attempts = 1000;
    let (r, took) = send(&sink, &p, Duration::from_millis(700)).await;
    let e = r.unwrap_err();
    assert!(
        took <= Duration::from_millis(700),
        "overran the deadline: {took:?}"
    );
    assert!(e.attempts >= 3, "{e}");
    assert!(e.message.contains("deadline"), "{e}");
}

#[tokio::test]
async fn retry_after_longer_than_time_left_is_not_waited_for() {
    let sink = SlackSink::start(Behaviour::Always(Reply::TooMany { retry_after_s: 30 }))
        .await
        .unwrap();
    let (r, took) = send(&sink, &policy(), Duration::from_secs(3)).await;
    let e = r.unwrap_err();
    assert_eq!(e.attempts, 1);
    assert_eq!(e.last_status, Some(429));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn hung_request_times_out_and_is_retried() {
    let sink = SlackSink::start(Behaviour::Sequence(vec![Reply::Hang {
        for_: Duration::from_secs(5),
    }]))
    .await
    .unwrap();
    let (r, took) = send(&sink, &policy(), Duration::from_secs(10)).await;
    let ok = r.unwrap();
    assert_eq!(ok.attempts, 2);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_and_reported_without_url() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = normalize_url(&format!("http://127.0.0.1:{port}/services/SECRET-TOKEN")).unwrap();
    let mut p = policy();
    p.max_attempts = 3;
    let e = post(
        &elb_watch_notifier::slack::http::http_client(Duration::from_secs(5)),
        &hook,
        b"{}",
        &p,
        Instant::now() + Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(e.attempts, 3);
    assert!(e.message.contains("connection error"), "{}", e.message);
    assert!(!e.to_string().contains("SECRET-TOKEN"), "{e}");
}
