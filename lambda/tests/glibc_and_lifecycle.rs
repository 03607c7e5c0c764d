//! `scripts/check-glibc.sh` on the built binary, and a cold/warm smoke measurement.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use elb_watch_testkit::runtime_api::{FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};

fn check_glibc(max: &str) -> (i32, String) {
    let script = elb_watch_testkit::repo_root().join("scripts/check-glibc.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(bootstrap())
        .arg(max)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn bootstrap_needs_no_glibc_newer_than_provided_al2023() {
    let (code, text) = check_glibc("2.34");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("needs GLIBC_2."), "{text}");
    // The check can fail: against an ancient glibc it must.
    let (code, text) = check_glibc("2.2.5");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL"), "{text}");
}

/// Cold start (spawn -> first POST at the sink), warm latency and peak RSS of the binary this
/// test was built with (debug unless `ELB_WATCH_BOOTSTRAP` points at e.g. target/notifier/bootstrap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_and_warm_latency_smoke() {
    let binary = std::env::var_os("ELB_WATCH_BOOTSTRAP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| bootstrap().to_path_buf());
    let sink = SlackSink::start(Behaviour::AlwaysOk).await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let event = fixture("sns-alarm-healthyhostcount-ok.json");
    // Queue the first event before spawning, as Lambda does on a cold start.
    let first = api.submit(event.clone(), TIMEOUT);
    let function = FunctionProcess::spawn(
        &binary,
        &api,
        &env(&[
            ("SLACK_WEBHOOK_URL", &sink.url()),
            ("ELB_WATCH_ENRICH", "off"),
        ]),
    )
    .unwrap();
    assert!(first.wait().await.unwrap().outcome.is_response());
    let cold = sink.first_request_at().unwrap() - function.started_at();

    let mut warm = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let inv = api.invoke(event.clone(), TIMEOUT).await.unwrap();
        assert!(inv.outcome.is_response());
        warm.push(t.elapsed());
    }
    warm.sort();
    let rss = function.peak_rss_kib().unwrap();
    eprintln!(
        "bootstrap={} cold_start={cold:?} warm_p50={:?} warm_max={:?} peak_rss={rss} KiB",
        binary.display(),
        warm[warm.len() / 2],
        warm[warm.len() - 1]
    );
    assert_eq!(sink.received().len(), 21);
    assert!(cold < Duration::from_secs(5), "{cold:?}");
    assert!(warm[warm.len() / 2] < Duration::from_millis(500));
    assert!(rss > 1000 && rss < 200_000, "{rss} KiB");
}
