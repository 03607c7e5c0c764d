//! `elb-watch test`: a real alert through the real path. The env's test alarm (or, with
//! `--target-group`, that group's own alarm while it is OK) is set to ALARM with a reason that
//! marks it as a test (`SetAlarmState`); CloudWatch runs its actions, SNS invokes the notifier,
//! the notifier posts it to Slack marked "TEST — no action needed" and logs the delivery with
//! the test's id. `test` waits for that line in the notifier's log group (`FilterLogEvents`)
//! and reports each hop with its time. Exit 0 when Slack accepted it; 1 when it was not
//! delivered, saying where it stopped and what to do; 2 on errors.

use super::connect;
use super::up::identity;
use crate::aws::{AwsResultExt, Clients};
use crate::cli::{GlobalOpts, TestArgs};
use crate::naming::Names;
use crate::progress::Progress;
use crate::report::TestReport;
use crate::state::observed::list_subscriptions;
use crate::state::test_alert::{self, Finding, Reached};
use crate::{exit, output};
use anyhow::{Result, bail};
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the log group is read while waiting.
const POLL: Duration = Duration::from_secs(1);

pub async fn run(global: &GlobalOpts, args: &TestArgs) -> Result<u8> {
    let started = Instant::now();
    let clients = connect(global).await?;
    let progress = Progress::new(global.no_progress);
    let names = Names::new(&global.env);
    let identity = identity(&clients).await?;
    let alarm = pick_alarm(&clients, &names, args.target_group.as_deref()).await?;
    let alarm_name = alarm.alarm_name().unwrap_or_default().to_string();
    let topic = identity.topic_arn(&names);
    let (subscribed, email) = subscriptions(&clients, &topic, &names.function()).await?;

    let id = test_alert::new_id(now_ms() as u128, std::process::id());
    let line = progress.start(&format!("setting {alarm_name} to ALARM (test {id})"));
    let set_ms = now_ms();
    clients
        .cloudwatch
        .set_alarm_state()
        .alarm_name(&alarm_name)
        .state_value(StateValue::Alarm)
        .state_reason(test_alert::reason(&id))
        .send()
        .await
        .aws("CloudWatch SetAlarmState")?;
    line.done("set");

    let line = progress.start(&format!(
        "waiting for the notifier's log (up to {} s)",
        args.timeout
    ));
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let found = loop {
        let events = log_events(&clients, &names.log_group(), &id, set_ms).await?;
        if let Some(f) = test_alert::find(&events, &id, set_ms) {
            break f;
        }
        if Instant::now() + POLL > deadline {
            break test_alert::not_invoked(subscribed, &topic, &names.function(), &global.env);
        }
        tokio::time::sleep(POLL).await;
    };
    match found.reached {
        Reached::Delivered => line.done("Slack accepted it"),
        _ => line.failed(found.error.as_deref().unwrap_or("not delivered")),
    }
    let Finding {
        reached,
        hops,
        error,
        fix,
    } = found;
    let report = TestReport {
        env: global.env.clone(),
        region: identity.region.clone(),
        alarm: alarm_name,
        test_id: id,
        delivered: reached == Reached::Delivered,
        reached,
        hops,
        error,
        fix,
        email,
        waited_s: args.timeout,
        api_calls: clients.ledger.stats(),
        duration_ms: started.elapsed().as_millis(),
    };
    output::print(global.output, &report, output::test_table(&report))?;
    Ok(if report.delivered {
        exit::OK
    } else {
        exit::DRIFT
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// The env's test alarm, or target group `tg`'s own alarm, which must be OK.
async fn pick_alarm(clients: &Clients, names: &Names, tg: Option<&str>) -> Result<MetricAlarm> {
    let env = &names.env;
    let Some(tg) = tg else {
        let name = names.test_alarm();
        let found = clients
            .cloudwatch
            .describe_alarms()
            .alarm_names(&name)
            .send()
            .await
            .aws("CloudWatch DescribeAlarms")?;
        return match found.metric_alarms().first() {
            // CloudWatch runs actions on a change of state only: set to ALARM again, an alarm
            // still in ALARM would notify no one.
            Some(a) if a.state_value() == Some(&StateValue::Alarm) => bail!(
                "the test alarm {name} is still in ALARM from a test moments ago; CloudWatch \
                 returns it to OK at its next evaluation (within a minute): test again then"
            ),
            Some(a) => Ok(a.clone()),
            None => bail!(
                "env {env} has no test alarm {name}: run `elb-watch --env {env} up` (it \
                 creates it), then test again"
            ),
        };
    };
    let pages: Vec<_> = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(names.alarm_prefix())
        .into_paginator()
        .send()
        .try_collect()
        .await
        .aws("CloudWatch DescribeAlarms")?;
    let alarms = pages.iter().flat_map(|p| p.metric_alarms().iter().cloned());
    let suffix = format!("/{tg}/{}", crate::naming::ALARM_METRIC);
    let mut ours: Vec<MetricAlarm> = alarms
        .filter(|a| a.alarm_name().is_some_and(|n| n.ends_with(&suffix)))
        .collect();
    let alarm = match ours.len() {
        1 => ours.remove(0),
        0 => bail!(
            "env {env} watches no target group (or Classic load balancer) named {tg}: \
             `elb-watch --env {env} status` lists what it watches"
        ),
        n => bail!(
            "{n} of env {env}'s alarms are for a target group named {tg} (behind different \
             load balancers): test with the env's own test alarm (`elb-watch --env {env} test`)"
        ),
    };
    let state = alarm.state_value().map(|s| s.as_str()).unwrap_or("unknown");
    if alarm.state_value() != Some(&StateValue::Ok) {
        bail!(
            "the alarm {} of {tg} is {state}: `test` uses a target group's own alarm only while \
             it is OK, never during an incident; test with the env's test alarm instead \
             (`elb-watch --env {env} test`)",
            alarm.alarm_name().unwrap_or_default()
        );
    }
    Ok(alarm)
}

/// Whether the topic has its subscription for the notifier, and its e-mail subscription's
/// state (`pending-confirmation` or `confirmed`), if it has one.
async fn subscriptions(
    clients: &Clients,
    topic: &str,
    function: &str,
) -> Result<(bool, Option<&'static str>)> {
    let subs = list_subscriptions(clients, topic).await?;
    let lambda = subs
        .iter()
        .any(|s| s.protocol == "lambda" && s.endpoint.ends_with(&format!(":function:{function}")));
    let email = subs.iter().find(|s| s.protocol == "email").map(|s| {
        if s.arn == "PendingConfirmation" {
            "pending-confirmation"
        } else {
            "confirmed"
        }
    });
    Ok((lambda, email))
}

/// The notifier's log lines that name test `id`, from shortly before it was set, every page.
async fn log_events(
    clients: &Clients,
    group: &str,
    id: &str,
    set_ms: i64,
) -> Result<Vec<(i64, String)>> {
    let got: Result<Vec<_>, _> = clients
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(set_ms - 60_000)
        .filter_pattern(format!("\"{id}\""))
        .into_paginator()
        .send()
        .try_collect()
        .await;
    match got {
        Ok(pages) => Ok(pages
            .iter()
            .flat_map(|p| p.events())
            .filter_map(|e| Some((e.timestamp()?, e.message()?.to_string())))
            .collect()),
        // No log group yet: the notifier never wrote a line.
        Err(e) if crate::aws::errors::code(&e) == Some("ResourceNotFoundException") => {
            Ok(Vec::new())
        }
        Err(e) => Err(e).aws("Logs FilterLogEvents"),
    }
}
