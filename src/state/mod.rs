//! The state model shared by `up`, `status` and `down`: what should exist (`desired`, pure), what
//! does exist (`observed`, reads only) and the difference (`plan`, pure).

pub mod alarm_moves;
pub mod alarm_tag_index;
pub mod alarms;
pub mod alert_time;
pub mod announce;
pub mod assess;
pub mod change;
pub mod cost;
pub mod desired;
pub mod email_filter;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod health;
pub mod healthy_counts;
pub mod mentions;
pub mod mute;
pub mod mute_observed;
pub mod observed;
pub mod plan;
pub mod queue;
pub mod queue_plan;
pub mod settings;
pub mod slack;
pub mod test_alert;
pub mod undelivered;
pub mod warnings;
pub mod zones;
