//! Thin layer over the AWS SDK: configuration from the usual AWS places, one client per service,
//! a per-run API call ledger, and one-line error messages. No business logic lives here.

pub mod calls;
pub mod clients;
pub mod config;
pub mod errors;
pub mod http;
pub mod limit;
pub mod retry;

pub use calls::{CallLedger, CallStats};
pub use clients::Clients;
pub use errors::AwsResultExt;
