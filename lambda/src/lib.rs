//! The elb-watch notifier: an AWS Lambda function subscribed to the alarm SNS topic that posts
//! CloudWatch alarm state changes for an Application Load Balancer to a Slack incoming webhook
//! — or, in Slack app mode, through the Web API with one thread per incident. It replaces the
//! `cloudwatch-alarm-to-slack-python` blueprint (same environment variables).
//!
//! Pure parts: [`alarm`] (parse), [`decide`] (post or not: no false recoveries), [`outage`]
//! (how long a recovered alarm was in ALARM), [`render`] (Block Kit), [`escape`] (Slack escaping
//! and limits), [`kind`] (which load balancer kind, its console link), [`slack_api`] (what a
//! Slack Web API answer means: ok, retry after, retry, or fail with an operator hint),
//! [`incident`] (app mode: what to do with the incident's thread), [`render_thread`] (the
//! thread parent's "fired again" / "resolved" versions). Thin I/O
//! layers: [`config`] (env + KMS), [`enrich`] (DescribeTargetHealth; DescribeInstanceHealth for
//! Classic), [`history`] (DescribeAlarmHistory), [`deliver`] (HTTP with retries), [`webapi`]
//! (Slack Web API calls), [`thread_store`] (the incident's thread, a tag on the alarm), [`app`]
//! (runs an incident plan). [`handler`] ties them together; `main.rs` runs it.

pub mod alarm;
pub mod app;
pub mod config;
pub mod decide;
pub mod deliver;
pub mod enrich;
pub mod escape;
pub mod handler;
pub mod history;
pub mod incident;
pub mod kind;
pub mod logging;
pub mod outage;
pub mod render;
pub mod render_thread;
pub mod replay;
pub mod slack_api;
pub mod thread_store;
pub mod webapi;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod test_support;
