//! Many alarm events through the real `bootstrap`, the way Lambda runs it under load: several
//! function processes (execution environments) take events from one [`RuntimeApi`], each
//! handling one invocation at a time, and deliver to one [`SlackSink`] whose [`Behaviour`]
//! injects faults (`Random`: 429 + Retry-After, 500, hangs past the client timeout) or rate
//! limits (`RateLimit`: an alarm storm).
//!
//! Every event carries a unique tag (`evt-000042`, in the alarm name, or in the text of a
//! non-alarm message, and in the SNS `MessageId`), so the sink's record tells which events were
//! posted and whether any was posted twice. [`run`] returns the figures; the reliability example
//! (`examples/notifier_faults.rs`), the storm part of the benchmark
//! (`examples/notifier_bench.rs`) and the test `lambda/tests/faults.rs` all call it, so the
//! figures and the assertions are about the same procedure.
//!
//! At most `concurrency` invocations are in flight, one per process: like Lambda's
//! asynchronous queue with that much concurrency, an invocation's deadline starts when a
//! process is free to take it, not when the alarm fired.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::bench::{ms, quantile};
use crate::runtime_api::{FunctionProcess, Invocation, RuntimeApi};
use crate::slack_sink::{Behaviour, Reply, SlackSink};

/// What to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub events: usize,
    /// Function processes running at once (Lambda's concurrency for the function).
    pub concurrency: usize,
    pub behaviour: Behaviour,
    /// Notifier settings (`ELB_WATCH_*`), on top of the webhook URL and `ELB_WATCH_ENRICH=off`
    /// (no AWS here: DescribeTargetHealth would only add a failing call per ALARM).
    pub env: Vec<(String, String)>,
    /// The function's timeout (the invocation deadline, from dispatch).
    pub invocation_timeout: Duration,
    /// Lambda's asynchronous retries of an event whose invocation failed (its default is 2).
    pub lambda_retries: u32,
}

impl Scenario {
    /// The reliability run of issue 7: `events` events, 10 processes, ~30% of requests
    /// faulted (429 Retry-After 1 s, 500, or a 1 s hang against a 200 ms client timeout),
    /// backoff 10–100 ms, 4 attempts per message, Lambda's 2 retries.
    pub fn faults(events: usize, seed: u64) -> Self {
        Self {
            events,
            concurrency: 10,
            behaviour: Behaviour::Random {
                seed,
                fault_ratio: 0.3,
                hang: Duration::from_secs(1),
            },
            env: [
                ("ELB_WATCH_HTTP_TIMEOUT_MS", "200"),
                ("ELB_WATCH_BACKOFF_BASE_MS", "10"),
                ("ELB_WATCH_BACKOFF_MAX_MS", "100"),
                ("ELB_WATCH_MAX_ATTEMPTS", "4"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            invocation_timeout: Duration::from_secs(30),
            lambda_retries: 2,
        }
    }

    /// An alarm storm: `events` events into a webhook that accepts `per_second` requests per
    /// second and answers the rest `429 Retry-After: 1`, with the notifier's default retry
    /// settings and the 30 s timeout `up` deploys.
    pub fn storm(events: usize, per_second: u32, concurrency: usize) -> Self {
        Self {
            events,
            concurrency,
            behaviour: Behaviour::RateLimit { per_second },
            env: Vec::new(),
            invocation_timeout: Duration::from_secs(30),
            lambda_retries: 0,
        }
    }
}

/// How one event's invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The function answered with a response (it says the message was delivered).
    Succeeded,
    /// The function answered with an error: Lambda retries the event, then dead-letters it.
    Failed,
    /// No answer within the deadline plus [`crate::runtime_api::DEADLINE_GRACE`]; Lambda
    /// would count it as a timeout (an error, retried).
    TimedOut,
}

/// Delivery figures after one round of invocations (the first, or the last retry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events the sink accepted at least once.
    pub delivered: usize,
    /// Events whose invocation returned an error.
    pub failed: usize,
    /// Events whose invocation got no outcome in time.
    pub timed_out: usize,
    /// Events the sink never accepted although their invocation succeeded: lost without
    /// anyone knowing. Must be 0.
    pub silently_dropped: usize,
    /// Events the sink accepted more than once.
    pub duplicates: usize,
    /// ... of which the invocation reported success.
    pub duplicates_of_succeeded: usize,
    /// Events accepted by the sink although their invocation reported an error (a retry of
    /// these would post them again).
    pub delivered_but_failed: usize,
}

/// The figures of a [`run`].
#[derive(Clone, Debug)]
pub struct Report {
    pub events: usize,
    pub concurrency: usize,
    /// First submit to last outcome of the first round (the retries are not timed).
    pub elapsed: Duration,
    /// Requests the sink received, and how it answered them (all rounds).
    pub requests: usize,
    pub replies_ok: usize,
    pub replies_429: usize,
    pub replies_5xx: usize,
    pub replies_hang: usize,
    pub replies_other: usize,
    /// Accepted posts that carried no event tag (must be 0).
    pub untagged_posts: usize,
    pub first: Tally,
    /// After Lambda's asynchronous retries of the failed events (`None` without retries).
    pub after_retries: Option<Tally>,
    /// Events still failing after the retries: Lambda sends them to the DLQ / on-failure
    /// destination.
    pub dead_lettered: usize,
    /// Invocation durations of the first round (dispatch to outcome), sorted.
    pub durations: Vec<Duration>,
    /// Highest `VmHWM` among the function processes.
    pub peak_rss_kib: Option<u64>,
    /// Function processes that exited during the run (must be 0).
    pub crashed_processes: usize,
}

const TAG_PREFIX: &str = "evt-";
const TAG_DIGITS: usize = 6;

/// The tag of event `i`: `evt-000042`.
pub fn tag(i: usize) -> String {
    format!("{TAG_PREFIX}{i:0width$}", width = TAG_DIGITS)
}

/// The event index in a posted payload's fallback `text`, if it carries a tag.
pub fn tag_of(payload: &Value) -> Option<usize> {
    let text = payload["text"].as_str()?;
    text.match_indices(TAG_PREFIX).find_map(|(at, _)| {
        let digits = text.get(at + TAG_PREFIX.len()..at + TAG_PREFIX.len() + TAG_DIGITS)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    })
}

/// `n` SNS events cycling through the fixtures (ALARM, OK, INSUFFICIENT_DATA, metric math,
/// plain text), event `i` tagged with [`tag`]`(i)`.
pub fn tagged_events(n: usize) -> anyhow::Result<Vec<Value>> {
    let fixtures = crate::FIXTURES
        .iter()
        .map(|name| {
            let path = crate::fixture(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok(serde_json::from_str::<Value>(&text)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    (0..n)
        .map(|i| tag_event(&fixtures[i % fixtures.len()], &tag(i)))
        .collect()
}

/// Puts `tag` in the event's `MessageId` and in the alarm name (or, for a message that is not
/// an alarm, in front of its text).
fn tag_event(event: &Value, tag: &str) -> anyhow::Result<Value> {
    let mut event = event.clone();
    let sns = &mut event["Records"][0]["Sns"];
    let message = sns["Message"]
        .as_str()
        .context("fixture without Records[0].Sns.Message")?;
    let tagged = match serde_json::from_str::<Value>(message) {
        Ok(mut alarm) if alarm["AlarmName"].is_string() => {
            let name = alarm["AlarmName"].as_str().unwrap_or_default();
            alarm["AlarmName"] = Value::String(format!("{tag} {name}"));
            alarm.to_string()
        }
        _ => format!("{tag} {message}"),
    };
    sns["Message"] = Value::String(tagged);
    sns["MessageId"] = Value::String(tag.to_owned());
    Ok(event)
}

/// Runs `jobs` (event index, event) with at most `concurrency` in flight; returns each
/// index with its invocation (or the harness error when it got no outcome in time).
pub async fn invoke_all(
    api: &Arc<RuntimeApi>,
    jobs: Vec<(usize, Value)>,
    concurrency: usize,
    timeout: Duration,
) -> Vec<(usize, anyhow::Result<Invocation>)> {
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let queue = Arc::clone(&queue);
        let api = Arc::clone(api);
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let job = queue.lock().unwrap().pop_front();
                let Some((i, event)) = job else { break };
                done.push((i, api.invoke(event, timeout).await));
            }
            done
        });
    }
    let mut results = Vec::new();
    while let Some(done) = workers.join_next().await {
        results.extend(done.expect("invocation worker panicked"));
    }
    results.sort_by_key(|(i, _)| *i);
    results
}

fn fate(result: &anyhow::Result<Invocation>) -> Fate {
    match result {
        Ok(inv) if inv.outcome.is_response() => Fate::Succeeded,
        Ok(_) => Fate::Failed,
        Err(_) => Fate::TimedOut,
    }
}

/// Accepted posts per event index, and the number of untagged ones.
fn posts_per_event(sink: &SlackSink) -> (HashMap<usize, usize>, usize) {
    let mut posts = HashMap::new();
    let mut untagged = 0;
    for body in sink.received() {
        match tag_of(&body) {
            Some(i) => *posts.entry(i).or_insert(0) += 1,
            None => untagged += 1,
        }
    }
    (posts, untagged)
}

fn tally(fates: &[Fate], posts: &HashMap<usize, usize>) -> Tally {
    let mut t = Tally::default();
    for (i, fate) in fates.iter().enumerate() {
        let n = posts.get(&i).copied().unwrap_or(0);
        match fate {
            Fate::Succeeded if n == 0 => t.silently_dropped += 1,
            Fate::Succeeded => {}
            Fate::Failed => t.failed += 1,
            Fate::TimedOut => t.timed_out += 1,
        }
        if n > 0 {
            t.delivered += 1;
            if *fate != Fate::Succeeded {
                t.delivered_but_failed += 1;
            }
        }
        if n > 1 {
            t.duplicates += 1;
            if *fate == Fate::Succeeded {
                t.duplicates_of_succeeded += 1;
            }
        }
    }
    t
}

/// Runs the scenario against `bootstrap` and measures it.
pub async fn run(bootstrap: &Path, scenario: &Scenario) -> anyhow::Result<Report> {
    let sink = SlackSink::start(scenario.behaviour.clone()).await?;
    let api = Arc::new(RuntimeApi::start().await?);
    let mut env = vec![
        ("SLACK_WEBHOOK_URL".to_owned(), sink.url()),
        ("ELB_WATCH_ENRICH".to_owned(), "off".to_owned()),
    ];
    env.extend(scenario.env.iter().cloned());
    let mut fleet = (0..scenario.concurrency.max(1))
        .map(|_| FunctionProcess::spawn(bootstrap, &api, &env))
        .collect::<anyhow::Result<Vec<_>>>()?;
    api.wait_ready(Duration::from_secs(30)).await?;

    let events = tagged_events(scenario.events)?;
    let jobs: Vec<_> = events.iter().cloned().enumerate().collect();
    let started = Instant::now();
    let results = invoke_all(
        &api,
        jobs,
        scenario.concurrency,
        scenario.invocation_timeout,
    )
    .await;
    let elapsed = started.elapsed();

    let mut fates: Vec<Fate> = results.iter().map(|(_, r)| fate(r)).collect();
    let mut durations: Vec<Duration> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|inv| inv.duration))
        .collect();
    durations.sort();
    let (posts, _) = posts_per_event(&sink);
    let first = tally(&fates, &posts);

    let mut after_retries = None;
    if scenario.lambda_retries > 0 {
        for _ in 0..scenario.lambda_retries {
            let retry: Vec<_> = fates
                .iter()
                .enumerate()
                .filter(|(_, f)| **f != Fate::Succeeded)
                .map(|(i, _)| (i, events[i].clone()))
                .collect();
            if retry.is_empty() {
                break;
            }
            for (i, result) in invoke_all(
                &api,
                retry,
                scenario.concurrency,
                scenario.invocation_timeout,
            )
            .await
            {
                fates[i] = fate(&result);
            }
        }
        let (posts, _) = posts_per_event(&sink);
        after_retries = Some(tally(&fates, &posts));
    }
    let dead_lettered = fates.iter().filter(|f| **f != Fate::Succeeded).count();

    let (_, untagged_posts) = posts_per_event(&sink);
    let log = sink.log();
    let count = |pred: fn(&Reply) -> bool| log.iter().filter(|r| pred(&r.reply)).count();
    let replies_ok = count(|r| *r == Reply::Ok);
    let replies_429 = count(|r| matches!(r, Reply::TooMany { .. }));
    let replies_5xx = count(|r| matches!(r, Reply::Status(s) if *s >= 500));
    let replies_hang = count(|r| matches!(r, Reply::Hang { .. }));
    let peak_rss_kib = fleet.iter().filter_map(FunctionProcess::peak_rss_kib).max();
    let crashed_processes = fleet
        .iter_mut()
        .map(|p| !p.is_running())
        .filter(|crashed| *crashed)
        .count();
    Ok(Report {
        events: scenario.events,
        concurrency: scenario.concurrency,
        elapsed,
        requests: log.len(),
        replies_ok,
        replies_429,
        replies_5xx,
        replies_hang,
        replies_other: log.len() - replies_ok - replies_429 - replies_5xx - replies_hang,
        untagged_posts,
        first,
        after_retries,
        dead_lettered,
        durations,
        peak_rss_kib,
        crashed_processes,
    })
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delivered {}, returned as failed {}, timed out {}, silently dropped {}, \
             duplicates {} (of succeeded events {}), delivered but reported failed {}",
            self.delivered,
            self.failed,
            self.timed_out,
            self.silently_dropped,
            self.duplicates,
            self.duplicates_of_succeeded,
            self.delivered_but_failed
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "events {} through {} processes in {:.2} s",
            self.events,
            self.concurrency,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "sink requests {}: 200 {}, 429 {}, 5xx {}, hang {}, other {}; untagged posts {}",
            self.requests,
            self.replies_ok,
            self.replies_429,
            self.replies_5xx,
            self.replies_hang,
            self.replies_other,
            self.untagged_posts
        )?;
        writeln!(f, "first round: {}", self.first)?;
        if let Some(t) = &self.after_retries {
            writeln!(
                f,
                "after Lambda retries: {t}; dead-lettered {}",
                self.dead_lettered
            )?;
        }
        write!(
            f,
            "invocation duration p50 {} p99 {} max {}; peak RSS (max of processes) {} KiB; \
             crashed processes {}",
            ms(quantile(&self.durations, 0.5)),
            ms(quantile(&self.durations, 0.99)),
            ms(self.durations.last().copied()),
            self.peak_rss_kib
                .map(|k| k.to_string())
                .unwrap_or_else(|| "-".into()),
            self.crashed_processes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_tagged_and_the_tag_is_found_again() {
        let events = tagged_events(12).unwrap();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["Records"][0]["Sns"]["MessageId"], tag(i));
            let message = e["Records"][0]["Sns"]["Message"].as_str().unwrap();
            assert!(message.contains(&tag(i)), "{message}");
            // The notifier puts the alarm name / message text in the fallback `text`.
            let posted = serde_json::json!({"text": format!(":x: ALARM: {} web", tag(i))});
            assert_eq!(tag_of(&posted), Some(i));
        }
        assert_eq!(
            tag_of(&serde_json::json!({"text": "evt-12x456 evt-000007"})),
            Some(7)
        );
        assert_eq!(tag_of(&serde_json::json!({"text": "no tag"})), None);
        assert_eq!(tag_of(&serde_json::json!({"text": "evt-12"})), None);
    }

    #[test]
    fn tally_separates_dropped_failed_and_duplicated_events() {
        use Fate::*;
        let fates = [Succeeded, Succeeded, Failed, Failed, TimedOut, Succeeded];
        let posts = HashMap::from([(0, 1), (2, 1), (5, 2)]);
        let t = tally(&fates, &posts);
        assert_eq!(
            t,
            Tally {
                delivered: 3,
                failed: 2,
                timed_out: 1,
                silently_dropped: 1,
                duplicates: 1,
                duplicates_of_succeeded: 1,
                delivered_but_failed: 1,
            }
        );
    }
}
