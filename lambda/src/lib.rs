//! The elb-watch notifier: an AWS Lambda function subscribed to the alarm SNS topic that posts
//! CloudWatch alarm state changes for an Application Load Balancer to a Slack incoming webhook.
//! It replaces the `cloudwatch-alarm-to-slack-python` blueprint (same environment variables).
//!
//! Pure parts: [`alarm`] (parse), [`decide`] (post or not: no false recoveries), [`outage`]
//! (how long a recovered alarm was in ALARM), [`render`] (Block Kit), [`escape`] (Slack escaping
//! and limits), [`kind`] (which load balancer kind, its console link), [`slack_api`] (what a
//! Slack Web API answer means: ok, retry after, retry, or fail with an operator hint). Thin I/O
//! layers: [`config`] (env + KMS), [`enrich`] (DescribeTargetHealth; DescribeInstanceHealth for
//! Classic), [`history`] (DescribeAlarmHistory), [`deliver`] (HTTP with retries). [`handler`]
//! ties them together; `main.rs` runs it.

pub mod alarm;
pub mod config;
pub mod decide;
pub mod deliver;
pub mod enrich;
pub mod escape;
pub mod handler;
pub mod history;
pub mod kind;
pub mod logging;
pub mod outage;
pub mod render;
pub mod replay;
pub mod slack_api;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod test_support;
