//! What CloudWatch's `HealthyHostCount` of an alarm would read, for rule 14's evaluation: per
//! Availability Zone, from moto's target (and instance) health and the instances' zones — moto
//! publishes no ELB metrics at all.
//!
//! As AWS documents it:
//! - Every kind reports the count per zone (dimension `AvailabilityZone`): the healthy targets
//!   registered in that zone
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html>).
//! - A Classic ELB without cross-zone load balancing (the API's default) computes the
//!   `LoadBalancerName` figure per zone: its `Minimum` is the worst zone. NLBs and GWLBs
//!   (cross-zone off by default, health judged per zone) are modelled the same way for their
//!   target group's figure; an ALB's target-group figure is the whole target group.
//! - A metric-math alarm evaluates its expression over its queries; this model knows
//!   `SUM([…])` and `MIN([…])` of `FILL(zN, 0)` per-zone queries, which is what elb-watch writes.
//!
//! moto does not model cross-zone attributes; the defaults above are taken.

use std::collections::BTreeMap;

use serde_json::Value;

/// Healthy and registered targets per zone.
pub type ZoneCounts = BTreeMap<String, (usize, usize)>;

/// What an alarm's metric is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// An ELBv2 target group (its ARN) in `namespace`.
    TargetGroup { arn: String, namespace: String },
    /// A Classic ELB by name.
    Classic { name: String },
}

/// (name, value) pairs.
type Dims = Vec<(String, String)>;

/// The `(namespace, metric name, dimensions)` of each metric the alarm reads: its own, or
/// each `MetricStat` of its `Metrics`.
fn metrics(alarm: &Value) -> Vec<(String, String, Dims)> {
    let dims = |v: &Value| -> Dims {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d["Name"].as_str()?.into(), d["Value"].as_str()?.into())))
            .collect()
    };
    if let Some(queries) = alarm["Metrics"].as_array().filter(|q| !q.is_empty()) {
        return queries
            .iter()
            .filter_map(|q| {
                let m = &q["MetricStat"]["Metric"];
                Some((
                    m["Namespace"].as_str()?.to_string(),
                    m["MetricName"].as_str()?.to_string(),
                    dims(&m["Dimensions"]),
                ))
            })
            .collect();
    }
    match (alarm["Namespace"].as_str(), alarm["MetricName"].as_str()) {
        (Some(ns), Some(name)) => vec![(ns.into(), name.into(), dims(&alarm["Dimensions"]))],
        _ => Vec::new(),
    }
}

fn dim<'a>(d: &'a [(String, String)], name: &str) -> Option<&'a str> {
    d.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// What the alarm watches, when it reads `HealthyHostCount` of an ELB.
pub fn watched(alarm: &Value) -> Option<Watched> {
    let (namespace, name, dims) = metrics(alarm).into_iter().next()?;
    if name != "HealthyHostCount" {
        return None;
    }
    if namespace == "AWS/ELB" {
        return Some(Watched::Classic {
            name: dim(&dims, "LoadBalancerName")?.to_string(),
        });
    }
    if !matches!(
        namespace.as_str(),
        "AWS/ApplicationELB" | "AWS/NetworkELB" | "AWS/GatewayELB"
    ) {
        return None;
    }
    let arn = alarm["AlarmArn"].as_str()?;
    let mut parts = arn.split(':');
    let (region, account) = (parts.nth(3)?, parts.next()?);
    let tg = dim(&dims, "TargetGroup")?;
    Some(Watched::TargetGroup {
        arn: format!("arn:aws:elasticloadbalancing:{region}:{account}:{tg}"),
        namespace,
    })
}

/// The value the alarm evaluates, from the per-zone counts; `None` when no target is
/// registered anywhere (missing data, for the alarm's `TreatMissingData`).
pub fn value(alarm: &Value, zones: &ZoneCounts) -> Option<f64> {
    if zones.values().all(|(_, registered)| *registered == 0) {
        return None;
    }
    let healthy_in = |zone: Option<&str>| -> f64 {
        match zone {
            Some(z) => zones.get(z).map_or(0, |(h, _)| *h) as f64,
            None => zones.values().map(|(h, _)| *h).sum::<usize>() as f64,
        }
    };
    let queries = metrics(alarm);
    if alarm["Metrics"].as_array().is_some_and(|q| !q.is_empty()) {
        let expression = alarm["Metrics"]
            .as_array()?
            .iter()
            .find(|q| q["ReturnData"] != false && q.get("Expression").is_some())?
            .get("Expression")?
            .as_str()?
            .trim()
            .to_string();
        // FILL(zN, 0): a zone with nothing registered reads 0.
        let per_zone: Vec<f64> = queries
            .iter()
            .map(|(_, _, d)| healthy_in(dim(d, "AvailabilityZone")))
            .collect();
        return if expression.starts_with("SUM([") {
            Some(per_zone.iter().sum())
        } else if expression.starts_with("MIN([") {
            per_zone.iter().copied().reduce(f64::min)
        } else {
            None
        };
    }
    let (namespace, _, dims) = queries.into_iter().next()?;
    if let Some(zone) = dim(&dims, "AvailabilityZone") {
        return Some(healthy_in(Some(zone)));
    }
    if namespace == "AWS/ApplicationELB" {
        return Some(healthy_in(None));
    }
    // Classic, NLB, GWLB without cross-zone: the figure is per zone; `Minimum` is the worst
    // zone that has targets registered.
    zones
        .values()
        .filter(|(_, registered)| *registered > 0)
        .map(|(h, _)| *h as f64)
        .reduce(f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zones(a: (usize, usize), b: (usize, usize)) -> ZoneCounts {
        [("us-east-1a".to_string(), a), ("us-east-1b".to_string(), b)].into()
    }

    fn single(namespace: &str, dims: Value) -> Value {
        json!({"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
               "Namespace": namespace, "MetricName": "HealthyHostCount", "Dimensions": dims})
    }

    fn math(expression: &str) -> Value {
        let q = |i: usize, zone: &str| {
            json!({"Id": format!("z{i}"), "ReturnData": false,
            "MetricStat": {"Metric": {"Namespace": "AWS/ELB", "MetricName": "HealthyHostCount",
                "Dimensions": [{"Name": "LoadBalancerName", "Value": "legacy"},
                               {"Name": "AvailabilityZone", "Value": zone}]},
                "Period": 60, "Stat": "Minimum"}})
        };
        json!({"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
               "Metrics": [q(0, "us-east-1a"), q(1, "us-east-1b"),
                           {"Id": "healthy", "Expression": expression, "ReturnData": true}]})
    }

    #[test]
    fn a_classic_elbs_own_figure_is_its_worst_zone_the_math_its_whole() {
        let one_zone_emptied = zones((0, 2), (2, 2));
        let classic = single(
            "AWS/ELB",
            json!([{"Name": "LoadBalancerName", "Value": "legacy"}]),
        );
        assert_eq!(value(&classic, &one_zone_emptied), Some(0.0));
        let sum = math("SUM([FILL(z0, 0), FILL(z1, 0)])");
        assert_eq!(value(&sum, &one_zone_emptied), Some(2.0));
        let min = math("MIN([FILL(z0, 0), FILL(z1, 0)])");
        assert_eq!(value(&min, &one_zone_emptied), Some(0.0));
        // A zone with nothing registered is 0 in the math (FILL), skipped by the plain figure.
        let one_zone_only = zones((0, 0), (2, 2));
        assert_eq!(value(&classic, &one_zone_only), Some(2.0));
        assert_eq!(value(&min, &one_zone_only), Some(0.0));
        // Nothing registered anywhere: missing data.
        assert_eq!(value(&sum, &zones((0, 0), (0, 0))), None);
        assert_eq!(
            watched(&sum),
            Some(Watched::Classic {
                name: "legacy".into()
            })
        );
    }

    #[test]
    fn an_albs_target_group_figure_is_the_whole_an_nlbs_the_worst_zone() {
        let dims = json!([{"Name": "TargetGroup", "Value": "targetgroup/tg/abc"},
                          {"Name": "LoadBalancer", "Value": "x/lb/def"}]);
        let z = zones((1, 2), (3, 3));
        assert_eq!(
            value(&single("AWS/ApplicationELB", dims.clone()), &z),
            Some(4.0)
        );
        assert_eq!(
            value(&single("AWS/NetworkELB", dims.clone()), &z),
            Some(1.0)
        );
        assert_eq!(
            watched(&single("AWS/NetworkELB", dims)),
            Some(Watched::TargetGroup {
                arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/abc"
                    .into(),
                namespace: "AWS/NetworkELB".into()
            })
        );
    }
}
