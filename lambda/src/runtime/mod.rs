//! Stage 5, the runtime: the Lambda invocation handler that runs the stages in order, its
//! configuration, logging, and the replay marker of `elb-watch replay`.

pub mod config;
pub mod handler;
pub mod logging;
pub mod replay;
