//! Benchmark of the notifier Lambda as shipped: the `bootstrap` that build.rs built with
//! `--profile notifier` and embedded (`ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH`), run by the local
//! Lambda Runtime API harness against the local Slack sink (and, for the KMS webhook, the
//! moto emulator). Prints a table of figures; see docs/figures-notifier.md.
//!
//! ```text
//! cargo run --example notifier_bench [-- --cold 20 --warm 300 --storm 1000 --concurrency 10]
//! cargo run --example notifier_bench -- --storm 0      # skip the 20 s alarm storm
//! scripts/baseline-notifier.sh main                    # build a previous notifier once...
//! cargo run --example notifier_bench -- --baseline target/baseline/main/bootstrap   # ...compare
//! ```
//!
//! With `--baseline PATH` (a previously shipped `bootstrap`), the zipped size, spawn → first
//! `/next` and cold start → POST are measured for both binaries in the same run, cold starts
//! alternating between them, and printed side by side.
//!
//! - cold start: process spawn -> first POST at the sink, the event being queued before the
//!   spawn as on a Lambda cold start (Lambda's own sandbox/download time is not included), with
//!   `SLACK_WEBHOOK_URL` and with `kmsEncryptedHookUrl` (decrypted during init by the
//!   emulator); the emulator's own Decrypt latency is measured separately over raw HTTP.
//! - warm: one process, sequential invocations; "event -> POST" is the time from the Runtime
//!   API handing the event over to the POST arriving at the sink: the handler's work plus two
//!   loopback HTTP hops (an upper bound of the handler time).
//! - storm: `fault_run::Scenario::storm` — N events, `--concurrency` processes, a webhook
//!   limited to 50 requests/s (429 + Retry-After: 1), the notifier's default retry settings.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use aws_sdk_kms as kms;
use base64::Engine;
use elb_watch_testkit::bench::{machine, ms, quantile};
use elb_watch_testkit::emulator::Emulator;
use elb_watch_testkit::fault_run::{self, Scenario};
use elb_watch_testkit::runtime_api::{FUNCTION_NAME, FunctionProcess, RuntimeApi};
use elb_watch_testkit::slack_sink::{Behaviour, SlackSink};
use serde_json::{Value, json};

const EVENT: &str = "sns-alarm-healthyhostcount-alarm.json";
const TIMEOUT: Duration = Duration::from_secs(30);
const STORM_RATE: u32 = 50;

struct Args {
    baseline: Option<std::path::PathBuf>,
    cold: usize,
    warm: usize,
    storm: usize,
    concurrency: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        baseline: None,
        cold: 20,
        warm: 300,
        storm: 1000,
        concurrency: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--baseline" {
            a.baseline = Some(it.next().context("--baseline needs a path")?.into());
            continue;
        }
        let value: usize = it
            .next()
            .with_context(|| format!("{flag} needs a number"))?
            .parse()
            .with_context(|| format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--cold" => a.cold = value.max(1),
            "--warm" => a.warm = value.max(1),
            "--storm" => a.storm = value,
            "--concurrency" => a.concurrency = value.max(1),
            other => anyhow::bail!(
                "unknown flag {other} (--cold N, --warm N, --storm N|0, --concurrency N, \
                 --baseline PATH)"
            ),
        }
    }
    Ok(a)
}

fn event() -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(
        elb_watch_testkit::fixture(EVENT),
    )?)?)
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Cold {
    /// spawn -> first POST at the sink
    to_post: Duration,
    /// spawn -> first `/next` (end of init)
    init: Duration,
    peak_rss_kib: Option<u64>,
}

/// One cold start: a fresh Runtime API with the event already queued, then the process.
async fn cold_start(
    bootstrap: &Path,
    sink: &SlackSink,
    env: &[(String, String)],
) -> anyhow::Result<Cold> {
    let api = RuntimeApi::start().await?;
    let before = sink.requests();
    let pending = api.submit(event()?, TIMEOUT);
    let function = FunctionProcess::spawn(bootstrap, &api, env)?;
    let inv = pending.wait().await?;
    ensure!(
        inv.outcome.is_response(),
        "{:?}\n{}",
        inv.outcome,
        function.logs()
    );
    let posted = sink.log().get(before).context("no POST at the sink")?.at;
    let polled = api.first_poll_at().context("never polled")?;
    Ok(Cold {
        to_post: posted - function.started_at(),
        init: polled - function.started_at(),
        peak_rss_kib: function.peak_rss_kib(),
    })
}

/// `n` cold starts of each binary, alternating between them so that whatever else the machine
/// does weighs on both alike.
async fn cold_starts(
    binaries: &[&Path],
    sink: &SlackSink,
    env: &[(String, String)],
    n: usize,
) -> anyhow::Result<Vec<Vec<Cold>>> {
    let mut out: Vec<Vec<Cold>> = binaries.iter().map(|_| Vec::with_capacity(n)).collect();
    for _ in 0..n {
        for (i, bootstrap) in binaries.iter().enumerate() {
            out[i].push(cold_start(bootstrap, sink, env).await?);
        }
    }
    for runs in &mut out {
        runs.sort_by_key(|c| c.to_post);
    }
    Ok(out)
}

/// What is measured of one binary.
struct Subject<'a> {
    path: &'a Path,
    size: usize,
    zipped: usize,
    plain: Vec<Cold>,
    kms: Vec<Cold>,
}

impl Subject<'_> {
    fn plain_post(&self) -> Vec<Duration> {
        sorted(&self.plain, |c| c.to_post)
    }
    fn kms_post(&self) -> Vec<Duration> {
        sorted(&self.kms, |c| c.to_post)
    }
}

fn sorted(v: &[Cold], f: fn(&Cold) -> Duration) -> Vec<Duration> {
    let mut d: Vec<_> = v.iter().map(f).collect();
    d.sort();
    d
}

fn mib(bytes: usize) -> String {
    format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / 1048576.0)
}

/// KMS ciphertext of `plaintext` under a new emulator key, with the blueprint's encryption
/// context (as `up` stores it).
async fn encrypt_hook(emu: &Emulator, plaintext: &str) -> anyhow::Result<String> {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(elb_watch_testkit::aws_http::client())
        .endpoint_url(emu.endpoint_url())
        .region(aws_config::Region::new(elb_watch_testkit::emulator::REGION))
        .credentials_provider(kms::config::Credentials::new(
            elb_watch_testkit::emulator::ACCESS_KEY,
            elb_watch_testkit::emulator::SECRET_KEY,
            None,
            None,
            "bench",
        ))
        .load()
        .await;
    let client = kms::Client::new(&conf);
    let key = client.create_key().send().await?;
    let key_id = key.key_metadata().context("no key metadata")?.key_id();
    let out = client
        .encrypt()
        .key_id(key_id)
        .plaintext(kms::primitives::Blob::new(plaintext.as_bytes()))
        .encryption_context("LambdaFunctionName", FUNCTION_NAME)
        .send()
        .await?;
    let blob = out.ciphertext_blob().context("no ciphertext")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
}

/// The emulator's own Decrypt latency: one raw HTTP request on a new loopback connection
/// (what a cold process does), without an SDK in the measuring process. moto does not check
/// signatures; the credential scope routes the call to KMS.
fn raw_decrypt(port: u16, ciphertext_b64: &str, expected: &str) -> anyhow::Result<Duration> {
    let body = json!({
        "CiphertextBlob": ciphertext_b64,
        "EncryptionContext": {"LambdaFunctionName": FUNCTION_NAME},
    })
    .to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nConnection: close\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: TrentService.Decrypt\r\nX-Amz-Date: 20261120T031542Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20261120/us-east-1/kms/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=00\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(request.as_bytes())?;
    // Read up to Content-Length, as an HTTP client does: the emulator closes the connection
    // ~10 ms after answering, which is not part of the call's latency.
    let mut response = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let (head, payload) = loop {
        let n = stream.read(&mut chunk)?;
        ensure!(n > 0, "connection closed before the whole response");
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, payload)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .context("no Content-Length")?;
            if payload.len() >= length {
                break (head.to_owned(), payload.to_owned());
            }
        }
    };
    let took = started.elapsed();
    let v: Value = serde_json::from_str(&payload)
        .with_context(|| format!("Decrypt answered: {}", head.lines().next().unwrap_or("")))?;
    let plain = base64::engine::general_purpose::STANDARD
        .decode(v["Plaintext"].as_str().context("no Plaintext")?)?;
    ensure!(
        plain == expected.as_bytes(),
        "Decrypt returned something else"
    );
    Ok(took)
}

struct Warm {
    /// dispatch -> outcome (Lambda's billed "Duration")
    duration: Vec<Duration>,
    /// dispatch -> POST at the sink
    to_post: Vec<Duration>,
    /// POST at the sink -> outcome
    after_post: Vec<Duration>,
    peak_rss_kib: Option<u64>,
}

async fn warm(bootstrap: &Path, sink: &SlackSink, n: usize) -> anyhow::Result<Warm> {
    let api = RuntimeApi::start().await?;
    let function = FunctionProcess::spawn(
        bootstrap,
        &api,
        &vars(&[
            ("SLACK_WEBHOOK_URL", &sink.url()),
            ("ELB_WATCH_ENRICH", "off"),
        ]),
    )?;
    let event = event()?;
    // The cold invocation and a few warm-ups (connection pool, allocator) are not counted.
    for _ in 0..10 {
        let inv = api.invoke(event.clone(), TIMEOUT).await?;
        ensure!(
            inv.outcome.is_response(),
            "{:?}\n{}",
            inv.outcome,
            function.logs()
        );
    }
    let mut w = Warm {
        duration: Vec::with_capacity(n),
        to_post: Vec::with_capacity(n),
        after_post: Vec::with_capacity(n),
        peak_rss_kib: None,
    };
    for _ in 0..n {
        let before = sink.requests();
        let inv = api.invoke(event.clone(), TIMEOUT).await?;
        ensure!(inv.outcome.is_response(), "{:?}", inv.outcome);
        let posted = sink.log().get(before).context("no POST")?.at;
        w.duration.push(inv.duration);
        w.to_post.push(posted - inv.dispatched_at);
        w.after_post.push(inv.finished_at - posted);
    }
    w.duration.sort();
    w.to_post.sort();
    w.after_post.sort();
    w.peak_rss_kib = function.peak_rss_kib();
    Ok(w)
}

fn row(figure: &str, value: String) {
    println!("| {figure} | {value} |");
}

fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {} · p99 {} · max {}",
        ms(quantile(sorted, 0.5)),
        ms(quantile(sorted, 0.99)),
        ms(sorted.last().copied())
    )
}

fn kib(v: Option<u64>) -> String {
    v.map_or_else(
        || "-".into(),
        |k| format!("{k} KiB ({:.1} MiB)", k as f64 / 1024.0),
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let bootstrap = Path::new(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH"));
    let mut subjects = Vec::new();
    for path in args.baseline.as_deref().into_iter().chain([bootstrap]) {
        let binary = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let needle = b"elb-watch-notifier/";
        ensure!(
            binary.windows(needle.len()).any(|w| w == needle),
            "{} is not the notifier (a placeholder from ELB_WATCH_NOTIFIER_BOOTSTRAP?)",
            path.display()
        );
        subjects.push(Subject {
            path,
            size: binary.len(),
            zipped: elb_watch::bundle::pack::zip_bootstrap(&binary).len(),
            plain: Vec::new(),
            kms: Vec::new(),
        });
    }
    let paths: Vec<&Path> = subjects.iter().map(|s| s.path).collect();
    for p in &paths {
        eprintln!("measuring {}", p.display());
    }

    let sink = SlackSink::start(Behaviour::AlwaysOk).await?;
    let plain_env = vars(&[
        ("SLACK_WEBHOOK_URL", &sink.url()),
        ("ELB_WATCH_ENRICH", "off"),
    ]);
    eprintln!("cold starts, plain webhook ({} each)...", args.cold);
    for (s, runs) in subjects
        .iter_mut()
        .zip(cold_starts(&paths, &sink, &plain_env, args.cold).await?)
    {
        s.plain = runs;
    }

    eprintln!("starting the emulator...");
    let emu = tokio::task::spawn_blocking(Emulator::start)
        .await?
        .context("moto_server is needed: run scripts/emulator.sh setup")?;
    let ciphertext = encrypt_hook(&emu, &sink.url()).await?;
    let (port, ct, url) = (emu.port(), ciphertext.clone(), sink.url());
    let decrypt = tokio::task::spawn_blocking(move || {
        raw_decrypt(port, &ct, &url)?; // first call: moto's lazy imports
        let mut d = (0..50)
            .map(|_| raw_decrypt(port, &ct, &url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        d.sort();
        anyhow::Ok(d)
    })
    .await??;
    let mut kms_env = emu.aws_env();
    kms_env.extend(vars(&[
        ("kmsEncryptedHookUrl", &ciphertext),
        ("ELB_WATCH_ENRICH", "off"),
    ]));
    eprintln!("cold starts, KMS webhook ({} each)...", args.cold);
    for (s, runs) in subjects
        .iter_mut()
        .zip(cold_starts(&paths, &sink, &kms_env, args.cold).await?)
    {
        s.kms = runs;
    }
    drop(emu);

    eprintln!("warm invocations ({})...", args.warm);
    let warm = warm(bootstrap, &sink, args.warm).await?;

    let storm = if args.storm > 0 {
        eprintln!(
            "alarm storm: {} events, {} processes, sink limited to {STORM_RATE}/s...",
            args.storm, args.concurrency
        );
        Some(
            fault_run::run(
                bootstrap,
                &Scenario::storm(args.storm, STORM_RATE, args.concurrency),
            )
            .await?,
        )
    } else {
        None
    };

    let median = |d: &[Duration]| quantile(d, 0.5).unwrap_or_default();
    let decrypt_median = median(&decrypt);

    println!();
    println!("machine: {}", machine());
    for (i, s) in subjects.iter().enumerate() {
        let label = if subjects.len() == 2 && i == 0 {
            "before"
        } else if subjects.len() == 2 {
            "after"
        } else {
            "binary"
        };
        println!("{label}: {}", s.path.display());
    }
    println!();
    // Side by side: one column per binary (before, after), cold starts alternating.
    let header: Vec<&str> = if subjects.len() == 2 {
        vec!["before", "after"]
    } else {
        vec!["value"]
    };
    println!("| figure | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(header.len()));
    let line = |figure: &str, f: &dyn Fn(&Subject) -> String| {
        let cells: Vec<String> = subjects.iter().map(f).collect();
        println!("| {figure} | {} |", cells.join(" | "));
    };
    line("binary size (stripped)", &|s| mib(s.size));
    line("deployment zip (deflate 9)", &|s| mib(s.zipped));
    line(
        &format!(
            "cold start, plain URL: spawn → first /next ({} runs)",
            args.cold
        ),
        &|s| spread(&sorted(&s.plain, |c| c.init)),
    );
    line(
        &format!(
            "cold start, plain URL: spawn → first POST ({} runs)",
            args.cold
        ),
        &|s| spread(&s.plain_post()),
    );
    line(
        &format!(
            "cold start, KMS URL: spawn → first /next, incl. Decrypt ({} runs)",
            args.cold
        ),
        &|s| spread(&sorted(&s.kms, |c| c.init)),
    );
    line(
        &format!(
            "cold start, KMS URL: spawn → first POST ({} runs)",
            args.cold
        ),
        &|s| spread(&s.kms_post()),
    );
    line(
        "cold start, KMS URL, minus the emulator's Decrypt (medians)",
        &|s| ms(Some(median(&s.kms_post()).saturating_sub(decrypt_median))),
    );
    line(
        "spawn → first /next, KMS URL, minus the emulator's Decrypt (medians)",
        &|s| {
            ms(Some(
                median(&sorted(&s.kms, |c| c.init)).saturating_sub(decrypt_median),
            ))
        },
    );
    line("peak RSS, KMS URL, first invocation (max of runs)", &|s| {
        kib(s.kms.iter().filter_map(|c| c.peak_rss_kib).max())
    });
    println!();
    println!("This build only:");
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    row(
        &format!(
            "emulator KMS Decrypt, raw HTTP, new connection ({} calls)",
            decrypt.len()
        ),
        spread(&decrypt),
    );
    row(
        "deployment zip as embedded (`NOTIFIER_ZIP`)",
        mib(elb_watch::bundle::NOTIFIER_ZIP.len()),
    );
    row(
        &format!(
            "warm invocation duration, dispatch → outcome ({} runs)",
            warm.duration.len()
        ),
        spread(&warm.duration),
    );
    row(
        "warm event → POST at the sink (handler + 2 loopback hops)",
        spread(&warm.to_post),
    );
    row("warm POST at the sink → outcome", spread(&warm.after_post));
    row(
        "peak RSS, plain URL, after the warm runs",
        kib(warm.peak_rss_kib),
    );
    if let Some(s) = &storm {
        let floor = s.events as f64 / STORM_RATE as f64;
        let t = &s.first;
        row(
            &format!(
                "storm: {} events, {} processes, sink 50/s (429 + Retry-After: 1)",
                s.events, s.concurrency
            ),
            format!(
                "delivered {}/{}, failed {}, silently dropped {}, duplicates {}",
                t.delivered,
                s.events,
                t.failed + t.timed_out,
                t.silently_dropped,
                t.duplicates
            ),
        );
        // A sliding one-second window admits the first `rate` at t = 0: the last of N
        // requests can be accepted at (N - rate) / rate s at the earliest.
        let strict = (s.events as f64 - STORM_RATE as f64).max(0.0) / STORM_RATE as f64;
        row(
            "storm: total time vs floor (events / 50 per s)",
            format!(
                "{:.2} s vs {floor:.0} s → ratio {:.3} (vs the window's strict floor {strict:.0} s: {:.3})",
                s.elapsed.as_secs_f64(),
                s.elapsed.as_secs_f64() / floor,
                s.elapsed.as_secs_f64() / strict.max(f64::MIN_POSITIVE)
            ),
        );
        row(
            "storm: sink requests (200 / 429)",
            format!("{} ({} / {})", s.requests, s.replies_ok, s.replies_429),
        );
        row("storm: invocation duration", spread(&s.durations));
        row("storm: peak RSS (max of processes)", kib(s.peak_rss_kib));
    }
    Ok(())
}
