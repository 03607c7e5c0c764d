//! Stage 2, enrichment: what AWS can add to an alert — the target group's health on an ALARM,
//! the outage's length on a recovery, the alarm's graph (app mode). A failed lookup never stops the alert.

pub mod graph;
pub mod history;
pub mod metric_image;
pub mod outage;
pub mod targets;
