//! elb-watch: an ALB health alarm wired to Slack, in one command.
//!
//! Layout: `cli` parses; `commands` orchestrate one subcommand each; `discovery` finds ALBs and
//! target groups; `naming` is the naming and tagging scheme; `output` renders tables and JSON;
//! `aws` is the thin SDK layer; `report` holds what commands report and `output` renders.

pub mod apply;
pub mod aws;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod discovery;
pub mod envfile;
pub mod exit;
pub mod naming;
pub mod output;
pub mod policy;
#[cfg(test)]
pub(crate) mod policy_eval;
pub mod progress;
pub mod report;
pub mod secret;
pub mod state;
pub mod teardown;
