//! Issue 13's scenario at full size: 1,000 alarm events while the Slack webhook refuses every
//! post for Lambda's whole retry window, then `replay` once it is back. Prints the figures the
//! README's Reliability table quotes. Runs the workspace's debug `bootstrap` (built first) under
//! the strict layer's model of Lambda's asynchronous invocation; the CLI is this example's
//! sibling binary.
//!
//! ```text
//! cargo run --example undelivered_bench [-- --events 1000]
//! ```
//!
//! `tests/undelivered.rs` runs the same procedure on 50 events and asserts it.

#[path = "../tests/scenario/undelivered.rs"]
mod scenario;

use anyhow::Context;
use elb_watch_testkit::bench::machine;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut events = 1000usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--events" => events = it.next().context("--events needs a number")?.parse()?,
            other => anyhow::bail!("unknown flag {other} (--events N)"),
        }
    }
    let elb_watch = elb_watch_testkit::bins::package_binary("elb-watch")?;
    let bootstrap = scenario::debug_bootstrap()?;
    eprintln!("machine: {}", machine());
    let r = scenario::run(events, &elb_watch, &bootstrap).await?;
    println!("events                         {}", r.events);
    println!(
        "posts refused by the webhook   {} (3 attempts each)",
        r.refused_posts
    );
    println!("on the queue after retries     {}", r.queued);
    println!(
        "status                         exit {}, {} undelivered",
        r.status_code, r.status_count
    );
    println!(
        "replay --dry-run               {} listed, {} still queued",
        r.dry_run_listed, r.after_dry_run
    );
    println!(
        "replay                         exit {}, {} delivered in {:.1} s",
        r.replay_code,
        r.replayed,
        r.replay_phase.as_secs_f64()
    );
    println!(
        "posted to Slack                {} ({} distinct alarms, {} marked late, oldest first: {})",
        r.posted, r.distinct, r.marked_late, r.in_order
    );
    println!(
        "afterwards                     {} queued, status exit {}",
        r.queued_after, r.status_after
    );
    println!(
        "failing phase                  {:.1} s",
        r.fail_phase.as_secs_f64()
    );
    Ok(())
}
