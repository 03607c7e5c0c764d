//! Shared helpers for the integration tests: run the real `elb-watch` binary against an emulator.
#![allow(dead_code)]

use elb_watch_testkit::emulator::Emulator;
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// `elb-watch` with a clean environment pointed at the emulator.
pub fn elb_watch(emu: &Emulator) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_elb-watch"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("ELB_WATCH_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(emu.aws_env())
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("elb-watch runs").into()
}

/// The real notifier (the workspace's debug `bootstrap`) under `api`, with the deployed
/// function's own environment and the emulator's endpoint.
pub fn notifier(
    emu: &Emulator,
    api: &elb_watch_testkit::runtime_api::RuntimeApi,
    function: &str,
) -> elb_watch_testkit::runtime_api::FunctionProcess {
    elb_watch_testkit::runtime_api::FunctionProcess::spawn_deployed(
        std::path::Path::new(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH")),
        api,
        emu,
        function,
    )
    .unwrap()
}

/// The `status` report's row of the resource named `name` (panics, showing the report, when
/// there is none).
pub fn resource_row(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no row {name}: {report:#}"))
}
pub mod aws;

/// Webhook URLs whose secret parts (`canary-secret`, `other-secret`) must never be printed.
pub const CANARY: &str = "https://hooks.slack.com/services/T0CANARY/B0CANARY/canary-secret-0451";
pub const OTHER_URL: &str = "https://hooks.slack.com/services/T0OTHER/B0OTHER/other-secret-9912";

/// `web-alb` routes to `web-tg` (default action) and `api-tg` (`/api/*`); `spare-tg` exists,
/// unattached; two instances.
pub fn spec() -> serde_json::Value {
    serde_json::json!({
        "instances": 2,
        "target_groups": [
            {"name": "web-tg", "targets": [0]},
            {"name": "api-tg", "targets": [1]},
            {"name": "spare-tg"}
        ],
        "load_balancers": [{"name": "web-alb", "listeners": [
            {"port": 80, "default": ["web-tg"], "rules": [{"path": "/api/*", "forward": ["api-tg"]}]}
        ]}]
    })
}

/// Fails the test if a webhook URL or its secret part shows in the run's output.
pub fn assert_no_leak(r: &Run) {
    for text in [&r.stdout, &r.stderr] {
        for secret in [CANARY, OTHER_URL, "canary-secret", "other-secret"] {
            assert!(
                !text.contains(secret),
                "a webhook URL leaked ({secret}):\n{text}"
            );
        }
    }
}

/// `elb-watch --env ENV --output json up --alb web-alb EXTRA…`, the URL given through the
/// environment; checks nothing leaked.
pub fn up(emu: &Emulator, env: &str, url: &str, extra: &[&str]) -> Run {
    let r = run(elb_watch(emu)
        .env("ELB_WATCH_SLACK_URL", url)
        .args(["--env", env, "--output", "json", "up", "--alb", "web-alb"])
        .args(extra));
    assert_no_leak(&r);
    r
}

/// The alarm `up` gives target group `tg` behind ALB/NLB/GWLB `lb` in env `env`.
pub fn tg_alarm(env: &str, lb: &str, tg: &str) -> String {
    elb_watch::naming::Names::new(env).target_group_alarm(lb, tg)
}

/// The alarm `up` gives Classic ELB `lb` in env `env`.
pub fn classic_alarm(env: &str, lb: &str) -> String {
    elb_watch::naming::Names::new(env).classic_alarm(lb)
}

/// Lambda runs the real notifier for every asynchronous invocation (SNS's), through the strict
/// layer's runner (rule 9).
pub fn run_notifier(emu: &Emulator) {
    emu.strict().unwrap().run_functions_with(
        elb_watch_testkit::strict::lambda_async::FunctionRunner {
            bootstrap: std::path::Path::new(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH"))
                .to_path_buf(),
            endpoint: emu.endpoint_url(),
            extra_env: vec![("ELB_WATCH_HTTP_TIMEOUT_MS".into(), "2000".into())],
            retry_wait: std::time::Duration::from_millis(50),
            timeout: std::time::Duration::from_secs(20),
        },
    );
}

/// `web-alb`: `web-tg` (one healthy instance) and `empty-tg` (`/empty/*`, no targets: no data,
/// treated as breaching).
pub fn empty_tg_spec() -> serde_json::Value {
    serde_json::json!({
        "instances": 1,
        "target_groups": [{"name": "web-tg", "targets": [0]}, {"name": "empty-tg"}],
        "load_balancers": [{"name": "web-alb", "listeners": [
            {"port": 80, "default": ["web-tg"], "rules": [{"path": "/empty/*", "forward": ["empty-tg"]}]}
        ]}]
    })
}

/// The testkit Web API's bot token in a file only the test reads (`test` names its directory).
pub fn token_file(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("elb-watch-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    std::fs::write(
        &path,
        format!("{}\n", elb_watch_testkit::slack_api::DEFAULT_TOKEN),
    )
    .unwrap();
    path
}
