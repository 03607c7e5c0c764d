//! Stage 1, the event: what SNS delivered, which load balancer it is about, and whether it is
//! worth a Slack post. Pure.

pub mod decide;
pub mod kind;
pub mod parse;
