//! `elb-watch test`'s report.

use crate::aws::CallStats;
use crate::state::test_alert::{Hop, Reached};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub env: String,
    pub region: String,
    /// The alarm set to ALARM: the env's test alarm, or `--target-group`'s own.
    pub alarm: String,
    pub test_id: String,
    pub reached: Reached,
    /// Slack accepted the message.
    pub delivered: bool,
    /// Each hop reached, with its time after the alarm's state was set.
    pub hops: Vec<Hop>,
    /// Slack's answer or the delivery error, when the notifier could not deliver.
    pub error: Option<String>,
    /// What to do, when it was not delivered.
    pub fix: Option<String>,
    /// The e-mail subscription's state: `pending-confirmation`, `confirmed`, or none.
    pub email: Option<&'static str>,
    pub waited_s: u64,
    pub api_calls: CallStats,
    pub duration_ms: u128,
}
