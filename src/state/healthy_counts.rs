//! How many targets each target group has healthy, from CloudWatch's own `HealthyHostCount`:
//! one GetMetricData call answers up to 500 target groups
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>),
//! where DescribeTargetHealth takes one call per group from the ELB API's shared `Describe*`
//! bucket (10 per second). `status` uses it for the target groups whose alarm is OK, and reads
//! targets one by one only where something is wrong or the user asks (`status --targets`).
//!
//! The figure is the load balancer's own count (the metric the alarm evaluates: `Minimum` over
//! 60 s), up to a few minutes old; a target group with nothing registered publishes nothing and
//! reads as unknown.

use crate::aws::{AwsResultExt, Clients, retry};
use crate::discovery::TargetGroup;
use crate::state::alarms::{PERIOD_S, STATISTIC, healthy_host_count};
use anyhow::Result;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use std::collections::HashMap;

/// GetMetricData's limit on queries per call.
pub const MAX_QUERIES: usize = 500;

/// How far back a datapoint still counts: ELB metrics arrive a minute or two late.
const WINDOW_S: i64 = 10 * 60;

/// The query id of the `i`th target group (ids must start with a lower-case letter).
fn query_id(i: usize) -> String {
    format!("h{i}")
}

/// One query per target group, for its `HealthyHostCount` as the alarm reads it (the group's
/// own figure, not per zone).
pub fn queries(groups: &[&TargetGroup]) -> Vec<MetricDataQuery> {
    groups
        .iter()
        .enumerate()
        .map(|(i, tg)| {
            let spec = healthy_host_count(tg, Default::default());
            let metric = Metric::builder()
                .namespace(spec.namespace)
                .metric_name(spec.name)
                .set_dimensions(Some(
                    spec.dimensions
                        .into_iter()
                        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                        .collect(),
                ))
                .build();
            MetricDataQuery::builder()
                .id(query_id(i))
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(PERIOD_S)
                        .stat(STATISTIC)
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect()
}

/// The newest value of each query id (results come newest first: `TimestampDescending`).
pub fn newest(results: &[MetricDataResult]) -> HashMap<String, f64> {
    results
        .iter()
        .filter_map(|r| Some((r.id()?.to_string(), *r.values().first()?)))
        .collect()
}

/// Each group's healthy count (in the order given), `None` where CloudWatch has no recent
/// datapoint. One GetMetricData call per [`MAX_QUERIES`] groups (more only if CloudWatch pages
/// its answer), each waiting out throttling on its own budget.
pub async fn read_healthy_counts(
    clients: &Clients,
    groups: &[&TargetGroup],
) -> Result<Vec<Option<usize>>> {
    let mut out = Vec::with_capacity(groups.len());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    for chunk in groups.chunks(MAX_QUERIES) {
        let queries = queries(chunk);
        let mut values: HashMap<String, f64> = HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = retry::through_throttling(retry::budget(), || async {
                clients
                    .cloudwatch
                    .get_metric_data()
                    .set_metric_data_queries(Some(queries.clone()))
                    .start_time(DateTime::from_secs(now - WINDOW_S))
                    .end_time(DateTime::from_secs(now))
                    .scan_by(ScanBy::TimestampDescending)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .aws("GetMetricData")
            })
            .await?;
            // A later page holds older datapoints: the first value seen for an id is its newest.
            for (id, v) in newest(page.metric_data_results()) {
                values.entry(id).or_insert(v);
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        out.extend((0..chunk.len()).map(|i| {
            values
                .get(&query_id(i))
                .map(|v| v.max(0.0).round() as usize)
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures::target_group;

    #[test]
    fn one_query_per_group_on_its_own_healthy_host_count() {
        let (a, b) = (
            target_group("web-alb", "web"),
            target_group("web-alb", "api"),
        );
        let q = queries(&[&a, &b]);
        assert_eq!(q.len(), 2);
        assert_eq!(q[1].id(), Some("h1"));
        let stat = q[0].metric_stat().unwrap();
        assert_eq!((stat.period(), stat.stat()), (Some(60), Some("Minimum")));
        let metric = stat.metric().unwrap();
        assert_eq!(metric.metric_name(), Some("HealthyHostCount"));
        assert_eq!(metric.namespace(), Some("AWS/ApplicationELB"));
        let dims: Vec<_> = metric
            .dimensions()
            .iter()
            .filter_map(|d| d.name())
            .collect();
        assert_eq!(dims, ["LoadBalancer", "TargetGroup"]);
    }

    #[test]
    fn the_newest_value_of_each_id_and_none_for_an_empty_series() {
        let r = |id: &str, values: &[f64]| {
            MetricDataResult::builder()
                .id(id)
                .set_values(Some(values.to_vec()))
                .build()
        };
        let got = newest(&[r("h0", &[3.0, 1.0]), r("h1", &[])]);
        assert_eq!(got.get("h0"), Some(&3.0));
        assert_eq!(got.get("h1"), None);
    }
}
