//! Stage 1, the event: what SNS delivered, which load balancer it is about, whether it is
//! worth a Slack post, and what it does to its incident given when it happened; and the alarm
//! message CloudWatch would have sent for an alarm muted during a maintenance window. Pure.

pub mod decide;
pub mod incident;
pub mod kind;
pub mod parse;
pub mod synthesized;
