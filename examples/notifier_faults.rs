//! Reliability figures of the notifier (issue 7): tagged alarm events of every kind (ALARM,
//! OK, INSUFFICIENT_DATA, metric math, plain text — the fixtures in `tests/fixtures/`) through
//! 10 processes of the shipped `bootstrap` into a webhook that answers ~30% of requests with
//! 429 + Retry-After: 1, 500, or a hang past the client timeout; small timeouts and backoff so
//! the run takes seconds. Then Lambda's two asynchronous retries of the failed events.
//!
//! ```text
//! cargo run --example notifier_faults [-- --events 1000 --seed 7]
//! ```
//!
//! The same procedure (`elb_watch_testkit::fault_run`) runs on 200 events in the test
//! `lambda/tests/faults.rs`, which asserts what these figures show.

use std::path::Path;

use anyhow::Context;
use elb_watch_testkit::bench::machine;
use elb_watch_testkit::fault_run::{Scenario, Tally, run};

/// One figure of a [`Tally`].
type Count = fn(&Tally) -> usize;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut events = 1000usize;
    let mut seed = 7u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--events" => events = value.parse()?,
            "--seed" => seed = value.parse()?,
            other => anyhow::bail!("unknown flag {other} (--events N, --seed N)"),
        }
    }
    let bootstrap = Path::new(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH"));
    let scenario = Scenario::faults(events, seed);
    eprintln!(
        "{events} events, {} processes, sink {:?}, notifier {:?}...",
        scenario.concurrency, scenario.behaviour, scenario.env
    );
    let r = run(bootstrap, &scenario).await?;

    let first = &r.first;
    let after = r.after_retries.clone().unwrap_or_else(|| first.clone());
    println!();
    println!("machine: {}", machine());
    println!("binary: {}", bootstrap.display());
    println!();
    println!("| figure | first invocation | after Lambda's 2 retries |");
    println!("|---|---|---|");
    let n = r.events;
    println!(
        "| delivered / total | {} / {n} | {} / {n} |",
        first.delivered, after.delivered
    );
    let counts: [(&str, Count); 5] = [
        (
            "returned as failed (Lambda retries them; after the retries: dead-lettered)",
            |t| t.failed + t.timed_out,
        ),
        ("of which no answer before the deadline", |t| t.timed_out),
        (
            "silently dropped (neither delivered nor returned as failed)",
            |t| t.silently_dropped,
        ),
        ("duplicates posted (same event twice)", |t| t.duplicates),
        ("posted although reported failed", |t| {
            t.delivered_but_failed
        }),
    ];
    for (figure, count) in counts {
        println!("| {figure} | {} | {} |", count(first), count(&after));
    }
    println!();
    println!(
        "sink: {} requests — 200: {}, 429 + Retry-After: {}, 500: {}, hang past the timeout: {}; \
         posts without an event tag: {}",
        r.requests, r.replies_ok, r.replies_429, r.replies_5xx, r.replies_hang, r.untagged_posts
    );
    println!("{r}");
    Ok(())
}
