//! Stage 2, enrichment: what AWS can add to an alert — the target group's health on an ALARM,
//! the outage's length on a recovery. A failed lookup never stops the alert.

pub mod history;
pub mod outage;
pub mod targets;
