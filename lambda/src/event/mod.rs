//! Stage 1, the event: what SNS delivered, which load balancer it is about, whether it is
//! worth a Slack post, and what it does to its incident given when it happened. Pure.

pub mod decide;
pub mod incident;
pub mod kind;
pub mod parse;
