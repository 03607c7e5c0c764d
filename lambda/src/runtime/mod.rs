//! Stage 5, the runtime: the Lambda invocation handler that runs the stages in order, its
//! configuration, logging, the replay marker of `elb-watch replay`, and the end of a maintenance
//! window (its marker and choice, and its CloudWatch calls).

pub mod config;
pub mod handler;
pub mod logging;
pub mod replay;
pub mod window_end;
pub mod window_lookup;
