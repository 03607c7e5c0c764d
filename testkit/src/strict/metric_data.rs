//! Rule 20 — GetMetricData answers an ELB's `HealthyHostCount` (moto publishes no ELB metrics)
//! and refuses more than 500 queries a call.
//!
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>:
//!   "You can include up to 500 MetricDataQuery structures in one request"; each result has the
//!   query's `Id`, its `Timestamps` and `Values` (newest first with the default `ScanBy`
//!   `TimestampDescending`) and a `StatusCode` (`Complete`). More than 500 queries is a
//!   `ValidationError` (moto takes any number).
//! - `HealthyHostCount` (`AWS/ApplicationELB`, `AWS/NetworkELB`, `AWS/GatewayELB` by
//!   `TargetGroup`; `AWS/ELB` by `LoadBalancerName`) is the number of targets the load balancer
//!   considers healthy, reported every 60 s
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>,
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html>);
//!   a target group with nothing registered reports nothing.
//!
//! moto answers every query from what was put with PutMetricData, so an ELB metric is always
//! empty there. After moto has answered (and authorised) the call, the layer fills each
//! `HealthyHostCount` query of an ELB namespace with one datapoint at the current minute: the
//! figure rule 14's evaluation uses (`healthy_hosts::value`, from moto's target health and the
//! instances' zones), whatever the statistic asked for. Counted `metric-data:answered` per query
//! filled, `metric-data:refused` for a call over the limit; `metric-data-ms:total` sums the
//! milliseconds the layer spent making the figures up (several moto reads per query).

use super::healthy_hosts::{self, Watched};
use super::history::now_ms;
use super::protocol::{self, Call, Protocol};
use super::{Shared, Upstream, routed_by};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

/// GetMetricData's limit on queries per call.
pub const MAX_QUERIES: usize = 500;

fn is_metric_data(call: &Call) -> bool {
    call.is("monitoring", "GetMetricData") && matches!(call.protocol, Protocol::Json { .. })
}

/// Refuses a call with more than [`MAX_QUERIES`] queries, as CloudWatch does.
pub(crate) fn check(call: &Call) -> Option<Response> {
    if !is_metric_data(call) {
        return None;
    }
    let n = call.json["MetricDataQueries"]
        .as_array()
        .map_or(0, Vec::len);
    (n > MAX_QUERIES).then(|| {
        protocol::error(
            call,
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!(
                "The collection MetricDataQueries must not have a size greater than \
                 {MAX_QUERIES}."
            ),
        )
    })
}

/// The ELB whose `HealthyHostCount` a query reads, or `None` for any other metric. A target
/// group is named by its ARN's resource part (`targetgroup/NAME/ID`) until [`resolve`] finds
/// its ARN.
fn watched(query: &Value) -> Option<(Watched, Value)> {
    let metric = &query["MetricStat"]["Metric"];
    if metric["MetricName"] != "HealthyHostCount" {
        return None;
    }
    let namespace = metric["Namespace"].as_str()?;
    let dims = metric["Dimensions"].as_array()?;
    let dim = |name: &str| {
        dims.iter()
            .find(|d| d["Name"] == name)
            .and_then(|d| d["Value"].as_str())
    };
    // The shape `healthy_hosts::value` reads an alarm's metric from.
    let as_alarm = json!({
        "Namespace": namespace,
        "MetricName": "HealthyHostCount",
        "Dimensions": metric["Dimensions"].clone(),
    });
    let watched = match namespace {
        "AWS/ELB" => Watched::Classic {
            name: dim("LoadBalancerName")?.to_string(),
        },
        "AWS/ApplicationELB" | "AWS/NetworkELB" | "AWS/GatewayELB" => Watched::TargetGroup {
            arn: dim("TargetGroup")?.to_string(),
            namespace: namespace.to_string(),
        },
        _ => return None,
    };
    Some((watched, as_alarm))
}

/// Every target group ARN moto holds (all pages, read once per call), or `None` when moto does
/// not answer. The ARN carries the caller's account, which the layer does not otherwise know.
async fn target_group_arns(shared: &Shared, headers: &HeaderMap) -> Option<Vec<String>> {
    let pages = routed_by::pages(shared, headers, "DescribeTargetGroups", None).await?;
    Some(
        pages
            .iter()
            .flat_map(|doc| routed_by::between(doc, "<TargetGroupArn>", "</TargetGroupArn>"))
            .map(str::to_string)
            .collect(),
    )
}

/// A target group's ARN from its dimension value (`targetgroup/NAME/ID`, the ARN's end).
fn resolve(watched: Watched, arns: &[String]) -> Option<Watched> {
    let Watched::TargetGroup {
        arn: dim,
        namespace,
    } = watched
    else {
        return Some(watched);
    };
    let arn = arns.iter().find(|arn| arn.ends_with(&format!(":{dim}")))?;
    Some(Watched::TargetGroup {
        arn: arn.clone(),
        namespace,
    })
}

/// moto's answer with every ELB `HealthyHostCount` query filled in.
pub(crate) async fn rewrite(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    mut up: Upstream,
) -> Upstream {
    if !shared.config.metric_data || !up.ok() || !is_metric_data(call) {
        return up;
    }
    let mut answer = up.json();
    let Some(results) = answer["MetricDataResults"].as_array_mut() else {
        return up;
    };
    let queries = call.json["MetricDataQueries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let minute_s = (now_ms() / 60_000 * 60) as f64;
    let started = std::time::Instant::now();
    let mut arns: Option<Vec<String>> = None;
    let mut filled = 0;
    for query in &queries {
        let Some((watched, as_alarm)) = watched(query) else {
            continue;
        };
        let Some(result) = results.iter_mut().find(|r| r["Id"] == query["Id"]) else {
            continue;
        };
        if matches!(watched, Watched::TargetGroup { .. }) && arns.is_none() {
            arns = Some(target_group_arns(shared, headers).await.unwrap_or_default());
        }
        let Some(watched) = resolve(watched, arns.as_deref().unwrap_or_default()) else {
            continue;
        };
        let value = match super::evaluation::zone_counts_of(shared, headers, &watched).await {
            Some(zones) => healthy_hosts::value(&as_alarm, &zones),
            None => None,
        };
        let (timestamps, values) = match value {
            Some(v) => (json!([minute_s]), json!([v])),
            None => (json!([]), json!([])),
        };
        result["Timestamps"] = timestamps;
        result["Values"] = values;
        result["StatusCode"] = json!("Complete");
        filled += 1;
    }
    {
        let mut inner = shared.lock();
        inner.add("metric-data", "answered", filled);
        // The emulator's own cost of making the figures up (moto reads per query), so that a
        // benchmark can tell it from the command's: AWS answers from stored datapoints.
        inner.add(
            "metric-data-ms",
            "total",
            started.elapsed().as_millis() as usize,
        );
    }
    // The answer's Content-Length is not passed on (`Upstream::into_response`).
    up.body = Bytes::from(answer.to_string());
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(namespace: &str, name: &str, dims: Value) -> Value {
        json!({"Id": "m0", "MetricStat": {"Metric": {"Namespace": namespace,
            "MetricName": name, "Dimensions": dims}, "Period": 60, "Stat": "Minimum"}})
    }

    fn call(queries: usize) -> Call {
        Call {
            service: "monitoring".into(),
            operation: "GetMetricData".into(),
            protocol: Protocol::Json {
                content_type: "application/x-amz-json-1.0".into(),
            },
            params: Vec::new(),
            json: json!({"MetricDataQueries": (0..queries)
                .map(|i| json!({"Id": format!("m{i}")})).collect::<Vec<_>>()}),
            resource: None,
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn more_than_500_queries_are_refused() {
        assert!(check(&call(MAX_QUERIES)).is_none());
        let refused = check(&call(MAX_QUERIES + 1)).expect("refused");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn only_an_elbs_healthy_host_count_is_answered_by_the_layer() {
        let tg = query(
            "AWS/ApplicationELB",
            "HealthyHostCount",
            json!([{"Name": "LoadBalancer", "Value": "app/web/1"},
                   {"Name": "TargetGroup", "Value": "targetgroup/web-tg/abc"}]),
        );
        assert!(matches!(
            watched(&tg),
            Some((Watched::TargetGroup { arn, .. }, _)) if arn == "targetgroup/web-tg/abc"
        ));
        let classic = query(
            "AWS/ELB",
            "HealthyHostCount",
            json!([{"Name": "LoadBalancerName", "Value": "legacy"}]),
        );
        assert!(matches!(
            watched(&classic),
            Some((Watched::Classic { name }, _)) if name == "legacy"
        ));
        let other = query("AWS/ApplicationELB", "RequestCount", json!([]));
        assert!(watched(&other).is_none());
        let custom = query("MyApp", "HealthyHostCount", json!([]));
        assert!(watched(&custom).is_none());
    }
}
