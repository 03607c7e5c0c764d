//! `elb-watch replay`: deliver the alerts the notifier could not, kept on the env's queue.
//! Oldest first, each through the deployed notifier (synchronous Invoke with the original SNS
//! event and the replay marker, so Slack shows it as late), each deleted from the queue only
//! after the notifier delivered it. Stops at the first failure (Slack is still refusing: going
//! on would only fail the rest) and leaves that one and the rest queued. `--dry-run` lists.
//! Exit 0 when everything found was delivered (or listed), 2 when something failed.

use super::connect;
use super::up::identity;
use crate::apply::replay as io;
use crate::cli::{GlobalOpts, ReplayArgs};
use crate::naming::Names;
use crate::progress::Progress;
use crate::state::queue::queue_url;
use crate::state::undelivered::{
    ReplayReport, ReplayResult, ReplayedAlert, oldest_first, replay_payload,
};
use crate::{exit, output};
use anyhow::{Result, bail};
use std::time::Instant;

pub async fn run(global: &GlobalOpts, args: &ReplayArgs) -> Result<u8> {
    let started = Instant::now();
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);
    let identity = identity(&clients).await?;
    let Some(url) = queue_url(&clients, &names).await? else {
        bail!(
            "env {} has no undelivered-alerts queue ({}) in {}: nothing to replay (`elb-watch up` \
             creates it)",
            global.env,
            names.queue(),
            identity.region
        );
    };
    let line = progress.start("reading the queue");
    let (mut alerts, foreign) = io::receive_all(&clients, &url).await?;
    line.done(&format!("{} alert(s)", alerts.len()));
    oldest_first(&mut alerts);
    // Messages that are not invocation records are not ours to judge: visible again at once.
    for f in &foreign {
        io::release(&clients, &url, &f.receipt_handle).await?;
    }

    let function = names.function();
    let mut report_alerts = Vec::new();
    let mut stopped = false;
    for alert in &alerts {
        let mut row = ReplayedAlert {
            message_id: alert.message_id.clone(),
            alarm: alert.alarm.clone(),
            state: alert.state.clone(),
            first_fired_at: alert.first_fired_at.clone(),
            queued_at: alert.queued_at.clone(),
            result: ReplayResult::Left,
            error: None,
        };
        if args.dry_run || stopped {
            if args.dry_run {
                row.error = alert.error.clone();
            }
            io::release(&clients, &url, &alert.receipt_handle).await?;
            report_alerts.push(row);
            continue;
        }
        let label = format!(
            "replaying {}",
            alert.alarm.as_deref().unwrap_or(&alert.message_id)
        );
        let line = progress.start(&label);
        match io::invoke(&clients, &function, &replay_payload(alert)).await {
            Ok(None) => {
                io::delete(&clients, &url, &alert.receipt_handle).await?;
                line.done("delivered");
                row.result = ReplayResult::Delivered;
            }
            Ok(Some(why)) => {
                io::release(&clients, &url, &alert.receipt_handle).await?;
                line.failed(&why);
                row.result = ReplayResult::Failed;
                row.error = Some(why);
                stopped = true;
            }
            Err(e) => {
                // Lambda refused the call itself (permissions, throttling beyond retries):
                // leave everything queued and say why.
                io::release(&clients, &url, &alert.receipt_handle).await?;
                line.failed(&format!("{e:#}"));
                row.result = ReplayResult::Failed;
                row.error = Some(format!("{e:#}"));
                stopped = true;
            }
        }
        report_alerts.push(row);
    }
    let count = |r: ReplayResult| report_alerts.iter().filter(|a| a.result == r).count();
    let report = ReplayReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        queue: names.queue(),
        dry_run: args.dry_run,
        found: alerts.len(),
        delivered: count(ReplayResult::Delivered),
        failed: count(ReplayResult::Failed),
        left: count(ReplayResult::Failed) + count(ReplayResult::Left) + foreign.len(),
        unreadable: foreign.len(),
        alerts: report_alerts,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
    };
    output::print(global.output, &report, output::replay_table(&report))?;
    Ok(if report.failed > 0 {
        exit::ERROR
    } else {
        exit::OK
    })
}
