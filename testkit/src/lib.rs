//! Local stand-ins for what elb-watch talks to in production, used by the tests, the demo and
//! the benchmarks:
//! - [`emulator`]: a moto server (AWS emulator) on 127.0.0.1, one per caller.
//! - [`topology`]: VPC, instances, ALBs and target groups created in that emulator.
//! - [`runtime_api`]: a Lambda Runtime API that drives the real `bootstrap` binary.
//! - [`slack_sink`]: a Slack-incoming-webhook-compatible HTTP sink with scripted faults.

pub mod emulator;
pub mod runtime_api;
pub mod slack_sink;
pub mod topology;

/// The repository root (the workspace this crate lives in).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace root")
        .to_path_buf()
}

/// Path of a sample event in `tests/fixtures/`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    repo_root().join("tests").join("fixtures").join(name)
}
