//! The elb-watch notifier: an AWS Lambda function subscribed to the alarm SNS topic that posts
//! CloudWatch alarm state changes for an Application Load Balancer to a Slack incoming webhook
//! — or, in Slack app mode, through the Web API with one thread per incident. It replaces the
//! `cloudwatch-alarm-to-slack-python` blueprint (same environment variables).
//!
//! One folder per stage an alarm event goes through, in order; pure parts decide and render,
//! thin layers call AWS and Slack:
//!
//! 1. [`event`] — what arrived: [`event::parse`] (the SNS record and CloudWatch's alarm
//!    message), [`event::kind`] (which load balancer kind, its console link),
//!    [`event::decide`] (post or not: no false recoveries), [`event::incident`] (what the event
//!    does to its incident's thread, by its `StateChangeTime`: open, fired again, resolve, late,
//!    duplicate), [`event::synthesized`] (the message CloudWatch would have sent, for an alarm
//!    muted during a maintenance window). Pure.
//! 2. [`enrich`] — what AWS can add: [`enrich::targets`] (DescribeTargetHealth;
//!    DescribeInstanceHealth for Classic), [`enrich::history`] (DescribeAlarmHistory),
//!    [`enrich::outage`] (how long a recovered alarm was in ALARM, pure), [`enrich::graph`]
//!    (the alarm's `MetricWidget`, pure) and [`enrich::metric_image`] (its PNG:
//!    GetMetricWidgetImage, app mode).
//! 3. [`render`] — the Slack message: [`render::message`] (the alert and its marks),
//!    [`render::blocks`] (Block Kit), [`render::late`] (replayed, superseded, or muted by a
//!    maintenance window),
//!    [`render::thread`] (the thread parent's "fired again" / "resolved" versions),
//!    [`render::escaping`] (Slack escaping and limits). Pure.
//! 4. [`slack`] — delivery: [`slack::http`] (the client and the retry loop every Slack call
//!    runs on), [`slack::webhook`] (the incoming
//!    webhook), [`slack::web_api`] (Web API calls) and [`slack::answer`]
//!    (what a Web API answer means, pure); app mode's threads: [`slack::thread_store`] (the
//!    incident's state, a tag on the alarm), [`slack::app`] (carries out the plan, with its
//!    fallbacks when Slack refuses the thread) and [`slack::uploads`] (the alarm's graph into
//!    the thread: Slack's three-step file upload).
//! 5. [`runtime`] — the Lambda function: [`runtime::handler`] (one invocation, the stages
//!    above in order), [`runtime::config`] (env + KMS), [`runtime::logging`],
//!    [`runtime::replay`] (events re-sent by `elb-watch replay`), [`runtime::window_end`] and
//!    [`runtime::window_lookup`] (a maintenance window's end: its alarms still in ALARM are
//!    announced). `main.rs` runs the handler.

// Without the `runtime` feature (default) the library is empty: elb-watch depends on this
// package only for its build script's metadata (lambda/build.rs), and compiles nothing of it.
#![cfg(feature = "runtime")]

pub mod enrich;
pub mod event;
pub mod render;
pub mod runtime;
pub mod slack;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod test_support;
