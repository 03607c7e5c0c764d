//! Shared setup for the end-to-end tests: the real `bootstrap` under the local Runtime API.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use serde_json::Value;

pub const TIMEOUT: Duration = Duration::from_secs(15);

/// A fresh AWS emulator behind the strict layer (moto_server is needed: these tests fail, not
/// skip, without it).
pub async fn emulator() -> elb_watch_testkit::emulator::Emulator {
    tokio::task::spawn_blocking(elb_watch_testkit::emulator::Emulator::start)
        .await
        .unwrap()
        .expect("moto_server is needed: run scripts/emulator.sh setup")
}

/// The test's own SDK configuration: the emulator's admin, through the strict layer.
pub async fn sdk(emu: &elb_watch_testkit::emulator::Emulator) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        // The strict layer holds the test's own setup calls to AWS's quotas too (PutMetricAlarm
        // 3 TPS: window_end.rs puts four alarms at once). The SDK's default three attempts
        // with jittered backoff can all land within the same second and fail the setup; wait
        // as elb-watch's clients do instead (as tests/common/aws.rs does for the CLI's tests).
        .retry_config(
            aws_config::retry::RetryConfig::adaptive()
                .with_max_attempts(10)
                .with_max_backoff(std::time::Duration::from_secs(4)),
        )
        .http_client(elb_watch_testkit::aws_http::client())
        .endpoint_url(emu.endpoint_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

pub fn bootstrap() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bootstrap"))
}

pub fn fixture(name: &str) -> Value {
    let path = elb_watch_testkit::fixture(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Fast retry settings so fault tests take seconds.
pub fn fast_retries() -> Vec<(String, String)> {
    env(&[
        ("ELB_WATCH_HTTP_TIMEOUT_MS", "500"),
        ("ELB_WATCH_BACKOFF_BASE_MS", "20"),
        ("ELB_WATCH_BACKOFF_MAX_MS", "200"),
        ("ELB_WATCH_ENRICH_TIMEOUT_MS", "1000"),
    ])
}

pub async fn start(extra: Vec<(String, String)>) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start().await.unwrap();
    let mut vars = fast_retries();
    vars.extend(extra);
    let function = FunctionProcess::spawn(bootstrap(), &api, &vars).unwrap();
    (api, function)
}

/// The blocks of a rendered message (inside its coloured attachment).
pub fn blocks(message: &Value) -> Vec<Value> {
    message["attachments"][0]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// All texts of a message joined, for "mentions X" checks.
pub fn all_text(message: &Value) -> String {
    let mut out = message["text"].as_str().unwrap_or_default().to_owned();
    for b in blocks(message) {
        for t in [&b["text"]["text"]] {
            if let Some(t) = t.as_str() {
                out.push('\n');
                out.push_str(t);
            }
        }
        for f in b["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(b["elements"].as_array().into_iter().flatten())
        {
            if let Some(t) = f["text"].as_str() {
                out.push('\n');
                out.push_str(t);
            }
        }
    }
    out
}

/// An SNS event carrying `message` (a CloudWatch alarm object or any string).
pub fn sns_event(messages: &[String]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("m-{i}"),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                    "Subject": "subject",
                    "Message": m,
                    "Timestamp": "2026-11-20T03:15:42.175Z",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// The webhook URL (or its secret token) must never appear in the function's output.
pub fn assert_no_secret(logs: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !logs.contains(s),
            "secret {s:?} leaked into the logs:\n{logs}"
        );
    }
}
