//! `elb-watch down`'s report.

use crate::aws::CallStats;
use crate::teardown::{Deleted, Skipped};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct DownReport {
    pub env: String,
    pub region: String,
    pub account_id: String,
    /// Nothing of the env was found (e.g. a second `down`).
    pub nothing_to_do: bool,
    pub deleted: Vec<Deleted>,
    /// Resources with the env's names that its tags do not prove are its own.
    pub skipped: Vec<Skipped>,
    /// Days KMS waits before deleting a scheduled key.
    pub key_pending_window_days: i32,
    pub api_calls: CallStats,
    pub duration_ms: u128,
}
