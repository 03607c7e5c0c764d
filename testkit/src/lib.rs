//! Local stand-ins for what elb-watch talks to in production, used by the tests, the demo and
//! the benchmarks:
//! - [`emulator`]: a moto server (AWS emulator) on 127.0.0.1, one per caller.
//! - [`topology`]: VPC, instances, ALBs and target groups created in that emulator.
//! - [`runtime_api`]: a Lambda Runtime API that drives the real `bootstrap` binary.
//! - [`slack_sink`]: a Slack-incoming-webhook-compatible HTTP sink with scripted faults.
//! - [`slack_api`]: a Slack Web API stand-in (`auth.test`, `conversations.info`,
//!   `chat.postMessage`, `chat.update`) keeping threads and edits, with scripted faults.
//! - [`fault_run`]: many tagged alarm events through several function processes into a
//!   faulty or rate-limited sink, with delivery / loss / duplicate figures.
//! - [`bench`]: machine description and quantiles for the benchmark programs.
//! - [`throttle_proxy`]: answers chosen AWS calls with throttling errors, then forwards.
//! - [`strict`]: the strict-AWS layer between the code under test and moto (on by default).
//! - [`cbor_bridge`]: translates CloudWatch's Smithy RPC v2 CBOR (the SDK) to AWS JSON 1.0
//!   (moto) and back; every emulator client goes through it.
//! - [`demo`]: the end-to-end demo flow built from the above.

pub mod aws_http;
pub mod bench;
pub mod bins;
pub mod cbor_bridge;
pub mod demo;
pub mod emulator;
pub mod fault_run;
pub mod runtime_api;
pub mod server;
pub mod slack_api;
pub mod slack_sink;
pub mod strict;
pub mod throttle_proxy;
pub mod topology;

/// The repository root (the workspace this crate lives in).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace root")
        .to_path_buf()
}

/// The sample SNS events in `tests/fixtures/`: one of each kind the notifier renders.
pub const FIXTURES: [&str; 5] = [
    "sns-alarm-healthyhostcount-alarm.json",
    "sns-alarm-healthyhostcount-ok.json",
    "sns-alarm-insufficient-data.json",
    "sns-alarm-metric-math.json",
    "sns-plain-text-message.json",
];

/// Path of a sample event in `tests/fixtures/`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    repo_root().join("tests").join("fixtures").join(name)
}
