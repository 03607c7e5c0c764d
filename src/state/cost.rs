//! What the plan's alarms cost per month, at CloudWatch's list price. Pure.
//!
//! A standard-resolution alarm (60-second period) is $0.10 per month per *alarm metric* in US East
//! (N. Virginia) (<https://aws.amazon.com/cloudwatch/pricing/>, "Alarm metrics"): an alarm on one
//! metric is one, a metric-math alarm over a load balancer's zones (`state::zones`) is one per
//! metric it reads. Other regions may differ, and the free tier's first 10 are not taken off.
//! So `up --all` on a big account says what it will add before it adds it (`--dry-run`).

use super::plan::{Action, Change};
use serde::Serialize;

pub const STANDARD_ALARM_USD_PER_MONTH: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmCost {
    /// Alarms the plan creates and deletes.
    pub added: usize,
    pub removed: usize,
    /// Alarms of the env once the plan is applied.
    pub alarms: usize,
    /// The metrics those alarms read (what is billed).
    pub alarm_metrics: usize,
    /// Monthly cost once applied, and its change.
    pub monthly_usd: f64,
    pub monthly_change_usd: f64,
    pub price_per_alarm_usd: f64,
}

impl AlarmCost {
    /// `+12 −3 alarms (+$0.90/month); 40 alarms, $4.00/month at $0.10 per alarm`.
    pub fn describe(&self) -> String {
        format!(
            "alarms: +{} −{} ({:+.2} USD/month); {} in total reading {} metrics, {:.2} USD/month \
             at the list price of {:.2} USD per standard alarm metric (us-east-1)",
            self.added,
            self.removed,
            self.monthly_change_usd,
            self.alarms,
            self.alarm_metrics,
            self.monthly_usd,
            self.price_per_alarm_usd
        )
    }
}

/// The cost of the env's alarms under `changes` (the plan's alarm changes); `wanted` and
/// `existing` say how many metrics an alarm reads as the plan wants it and as it is now.
pub fn alarm_cost(
    changes: &[Change],
    wanted: impl Fn(&str) -> usize,
    existing: impl Fn(&str) -> usize,
) -> AlarmCost {
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    let sum = |pick: &dyn Fn(Action) -> bool, of: &dyn Fn(&str) -> usize| -> usize {
        changes
            .iter()
            .filter(|c| pick(c.action))
            .map(|c| of(&c.name).max(1))
            .sum()
    };
    let added = count(Action::Create);
    let removed = count(Action::Delete);
    let alarms = changes.len() - removed;
    let alarm_metrics = sum(&|a| a != Action::Delete, &wanted);
    let price = STANDARD_ALARM_USD_PER_MONTH;
    // What is billed before the plan: every alarm but the new ones, as it is now.
    let before = sum(&|a| a != Action::Create, &existing);
    AlarmCost {
        added,
        removed,
        alarms,
        alarm_metrics,
        monthly_usd: round_cents(alarm_metrics as f64 * price),
        monthly_change_usd: round_cents((alarm_metrics as f64 - before as f64) * price),
        price_per_alarm_usd: price,
    }
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action) -> Change {
        Change::new("alarm", "a", action)
    }

    #[test]
    fn added_and_removed_alarms_are_priced() {
        let mut changes: Vec<Change> = (0..12).map(|_| change(Action::Create)).collect();
        changes.extend((0..3).map(|_| change(Action::Delete)));
        changes.extend((0..31).map(|_| change(Action::Unchanged)));
        let c = alarm_cost(&changes, |_| 1, |_| 1);
        assert_eq!((c.added, c.removed, c.alarms), (12, 3, 43));
        assert_eq!(c.monthly_change_usd, 0.9);
        assert_eq!(c.monthly_usd, 4.3);
        assert!(
            c.describe().starts_with(
                "alarms: +12 −3 (+0.90 USD/month); 43 in total reading 43 metrics, 4.30"
            )
        );
    }

    #[test]
    fn a_zone_math_alarm_is_billed_per_metric_it_reads() {
        let mut changes = vec![Change::new("alarm", "nlb-tg", Action::Create)];
        changes.push(Change::new("alarm", "alb-tg", Action::Unchanged));
        // An existing single-metric alarm becoming zone math over two zones.
        changes.push(Change::new("alarm", "clb", Action::Update));
        let wanted = |name: &str| if name == "alb-tg" { 1 } else { 3 };
        let c = alarm_cost(&changes, wanted, |_| 1);
        assert_eq!((c.alarms, c.alarm_metrics), (3, 7));
        assert_eq!((c.monthly_usd, c.monthly_change_usd), (0.7, 0.5));
    }

    #[test]
    fn a_thousand_alarms_is_a_hundred_dollars() {
        let changes: Vec<Change> = (0..1000).map(|_| change(Action::Create)).collect();
        let c = alarm_cost(&changes, |_| 1, |_| 1);
        assert_eq!((c.monthly_usd, c.monthly_change_usd), (100.0, 100.0));
        let none = alarm_cost(&[], |_| 1, |_| 1);
        assert_eq!((none.alarms, none.monthly_usd), (0, 0.0));
    }
}
