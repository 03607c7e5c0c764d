//! What `--min-healthy N` counts, per load-balancer kind, and how the alarm's metric is built
//! for it. Pure.
//!
//! `HealthyHostCount` is not the same number for every kind:
//! - **Classic ELB**: "If cross-zone load balancing is enabled, the number of healthy instances
//!   for the `LoadBalancerName` dimension is calculated across all Availability Zones.
//!   Otherwise, it is calculated per Availability Zone"
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html>),
//!   and cross-zone is off by default for a Classic ELB made with the API or CLI. The
//!   `Minimum` of that dimension is then the *worst zone*, not the load balancer.
//! - **NLB and GWLB** default to cross-zone off (at the load balancer; a target group may
//!   override it) and judge health per zone: "When cross-zone load balancing is off, each load
//!   balancer node distributes traffic across only the registered targets in its Availability
//!   Zone" (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-cross-zone.html>).
//!   How the target group's own figure aggregates the zones is not documented; elb-watch does
//!   not rely on it.
//! - **ALB**: cross-zone is always on at the load balancer; the target group's figure is the
//!   target group's.
//!
//! Every kind also reports `HealthyHostCount` per zone (dimension `AvailabilityZone`, the
//! targets registered in that zone). So for `--min-healthy N` to mean "fewer than N healthy
//! targets in the target group (Classic: the load balancer) as a whole" for every kind, the
//! NLB, GWLB and Classic alarms are metric math over the zones —
//! `SUM([FILL(z0, 0), FILL(z1, 0), …])`, a zone that reports nothing counting as 0 — and
//! `--per-zone` ("any zone below N") is `MIN([…])` over the same zones, for every kind
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html>;
//! `FILL`, `SUM`, `MIN` of an array of time series:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html>).
//! A load balancer in one zone needs no math: the zone is the whole.

use crate::discovery::{LbKind, TargetGroup};
use serde::Serialize;

/// What `--min-healthy N` is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneRule {
    /// Healthy targets of the whole target group (Classic: load balancer).
    #[default]
    Whole,
    /// `--per-zone`: the healthy targets of the worst zone.
    PerZone,
}

/// How the per-zone figures are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Combine {
    Sum,
    Min,
}

/// A metric-math alarm over the zones: one `MetricStat` query per zone (the alarm's metric
/// with an `AvailabilityZone` dimension), combined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneMath {
    pub combine: Combine,
    /// Sorted.
    pub zones: Vec<String>,
}

/// The id of the expression the alarm evaluates (the only query returning data).
pub const EXPRESSION_ID: &str = "healthy";

impl ZoneMath {
    /// The query id of zone `i`: `z0`, `z1`, … (ids start with a lowercase letter).
    pub fn query_id(i: usize) -> String {
        format!("z{i}")
    }

    /// `SUM([FILL(z0, 0), FILL(z1, 0)])` or `MIN([…])`.
    pub fn expression(&self) -> String {
        let filled: Vec<String> = (0..self.zones.len())
            .map(|i| format!("FILL({}, 0)", Self::query_id(i)))
            .collect();
        let f = match self.combine {
            Combine::Sum => "SUM",
            Combine::Min => "MIN",
        };
        format!("{f}([{}])", filled.join(", "))
    }

    /// The expression's label, which the notifier shows as the metric.
    pub fn label(&self) -> &'static str {
        match self.combine {
            Combine::Sum => "HealthyHostCount, all zones summed",
            Combine::Min => "HealthyHostCount, worst zone",
        }
    }

    /// How an expression read back combines, if it is one this module writes.
    pub fn combine_of(expression: &str) -> Option<Combine> {
        let e = expression.trim();
        if e.starts_with("SUM([") {
            Some(Combine::Sum)
        } else if e.starts_with("MIN([") {
            Some(Combine::Min)
        } else {
            None
        }
    }
}

/// The zone math a target group's alarm needs under `rule`; `None`: the plain metric already
/// means it (an ALB as a whole, or a single zone).
pub fn zone_math(tg: &TargetGroup, rule: ZoneRule) -> Option<ZoneMath> {
    if tg.zones.len() < 2 {
        return None;
    }
    let combine = match (rule, tg.kind) {
        (ZoneRule::PerZone, _) => Combine::Min,
        (ZoneRule::Whole, LbKind::Application) => return None,
        (ZoneRule::Whole, LbKind::Network | LbKind::Gateway | LbKind::Classic) => Combine::Sum,
    };
    Some(ZoneMath {
        combine,
        zones: tg.zones.clone(),
    })
}

/// What the alarm counts, in words for its description: "in the target group as a whole",
/// "in any of its 2 zones".
pub fn scope_words(tg: &TargetGroup, rule: ZoneRule) -> String {
    let whole = if tg.is_classic() {
        "in the load balancer as a whole"
    } else {
        "in the target group as a whole"
    };
    match (rule, tg.zones.len()) {
        (ZoneRule::PerZone, n) if n >= 2 => format!("in any of its {n} zones"),
        (ZoneRule::Whole, n) if n >= 2 && tg.kind != LbKind::Application => {
            format!("{whole} (its {n} zones summed)")
        }
        _ => whole.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures::target_group;

    fn of(kind: LbKind, zones: &[&str]) -> TargetGroup {
        let mut tg = target_group("lb", "tg");
        tg.kind = kind;
        tg.zones = zones.iter().map(|z| z.to_string()).collect();
        tg
    }

    #[test]
    fn the_whole_is_summed_where_aws_reports_per_zone() {
        let two = ["us-east-1a", "us-east-1b"];
        for kind in [LbKind::Network, LbKind::Gateway, LbKind::Classic] {
            let m = zone_math(&of(kind, &two), ZoneRule::Whole).unwrap();
            assert_eq!(m.combine, Combine::Sum, "{kind:?}");
            assert_eq!(m.expression(), "SUM([FILL(z0, 0), FILL(z1, 0)])");
        }
        // An ALB's target-group figure is already the whole.
        assert_eq!(
            zone_math(&of(LbKind::Application, &two), ZoneRule::Whole),
            None
        );
        // One zone: the zone is the whole, for every kind and rule.
        for kind in [LbKind::Application, LbKind::Network, LbKind::Classic] {
            for rule in [ZoneRule::Whole, ZoneRule::PerZone] {
                assert_eq!(zone_math(&of(kind, &["us-east-1a"]), rule), None);
            }
        }
    }

    #[test]
    fn per_zone_is_the_worst_zone_for_every_kind() {
        let three = ["us-east-1a", "us-east-1b", "us-east-1c"];
        for kind in [
            LbKind::Application,
            LbKind::Network,
            LbKind::Gateway,
            LbKind::Classic,
        ] {
            let m = zone_math(&of(kind, &three), ZoneRule::PerZone).unwrap();
            assert_eq!(
                m.expression(),
                "MIN([FILL(z0, 0), FILL(z1, 0), FILL(z2, 0)])"
            );
            assert_eq!(ZoneMath::combine_of(&m.expression()), Some(Combine::Min));
        }
        assert_eq!(
            ZoneMath::combine_of("SUM([FILL(z0, 0)])"),
            Some(Combine::Sum)
        );
        assert_eq!(ZoneMath::combine_of("m1 / m2"), None);
    }

    #[test]
    fn descriptions_say_what_is_counted() {
        let two = ["us-east-1a", "us-east-1b"];
        assert_eq!(
            scope_words(&of(LbKind::Classic, &two), ZoneRule::Whole),
            "in the load balancer as a whole (its 2 zones summed)"
        );
        assert_eq!(
            scope_words(&of(LbKind::Network, &two), ZoneRule::PerZone),
            "in any of its 2 zones"
        );
        assert_eq!(
            scope_words(&of(LbKind::Application, &two), ZoneRule::Whole),
            "in the target group as a whole"
        );
    }
}
