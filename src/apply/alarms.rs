//! The env's alarms (one HealthyHostCount alarm per target group, three on the alerting path),
//! with ALARM and OK actions to the topic; alarms no longer wanted are deleted.

use crate::aws::limit;
use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::naming::Names;
use crate::state::alarms::RUNBOOK_TAG;
use crate::state::desired::{AlarmSpec, Desired};
use crate::state::plan::{Action, Plan, RUNBOOK_CHANGE};
use crate::state::zones::ZoneMath;
use anyhow::Result;
use aws_sdk_cloudwatch::types::{
    ActionConfiguration, AlarmTagsPropagation, ComparisonOperator, Dimension, Metric,
    MetricDataQuery, MetricStat, Statistic, Tag,
};
use futures::stream::{self, StreamExt, TryStreamExt};

/// Puts the plan's new and changed alarms, armed, except those already put (`done`: by
/// `early_alarms.rs`), and deletes those no longer wanted.
pub async fn ensure_alarms(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
    topic_arn: &str,
    done: &[String],
) -> Result<()> {
    let specs = plan
        .alarms
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update))
        // A moved alarm is put by its move (`alarm_moves.rs`), first with its actions off.
        .filter(|c| !plan.alarm_moves.iter().any(|m| m.to == c.name))
        .filter(|c| !done.contains(&c.name))
        // A runbook alone is a tag, set below.
        .filter(|c| c.reasons.iter().any(|r| r != RUNBOOK_CHANGE) || c.action == Action::Create)
        .filter_map(|c| desired.alarms.iter().find(|a| a.name == c.name));
    put_each(clients, &desired.env, specs, topic_arn, Armed::Yes).await?;
    set_runbooks(clients, desired, plan).await?;
    delete_unwanted(clients, plan).await
}

/// The runbook tag of each existing alarm whose runbook changed: TagResource with the new URL,
/// UntagResource when its target group has none any more. A few at a time, each waiting out
/// throttling on its own budget.
async fn set_runbooks(clients: &Clients, desired: &Desired, plan: &Plan) -> Result<()> {
    let changed: Vec<&AlarmSpec> = plan
        .alarms
        .iter()
        .filter(|c| c.action == Action::Update && c.reasons.iter().any(|r| r == RUNBOOK_CHANGE))
        .filter_map(|c| desired.alarms.iter().find(|a| a.name == c.name))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    retry::each_through_throttling(changed, |spec| {
        let arn = desired.identity.alarm_arn(&spec.name);
        async move {
            match &spec.runbook {
                Some(url) => clients
                    .cloudwatch
                    .tag_resource()
                    .resource_arn(&arn)
                    .tags(Tag::builder().key(RUNBOOK_TAG).value(url).build())
                    .send()
                    .await
                    .map(|_| ())
                    .aws("CloudWatch TagResource"),
                None => clients
                    .cloudwatch
                    .untag_resource()
                    .resource_arn(&arn)
                    .tag_keys(RUNBOOK_TAG)
                    .send()
                    .await
                    .map(|_| ())
                    .aws("CloudWatch UntagResource"),
            }
        }
    })
    .await?;
    Ok(())
}

/// Puts every alarm of `specs`, a few at a time. PutMetricAlarm's default quota is 3 requests
/// per second per account and region: hundreds of alarms outlast the SDK's shared retry quota,
/// so each waits out throttling on its own budget, started only when it gets its turn (not its
/// place in a queue of 1,000: at 3 per second the last one would start after 5 minutes, past
/// any budget).
pub(crate) async fn put_each<'a>(
    clients: &Clients,
    env: &str,
    specs: impl Iterator<Item = &'a AlarmSpec>,
    topic_arn: &str,
    armed: Armed,
) -> Result<()> {
    let puts = specs.map(|spec| {
        retry::through_throttling(retry::budget(), move || {
            put_alarm(clients, env, spec, topic_arn, armed)
        })
    });
    stream::iter(puts)
        .buffer_unordered(limit::max_in_flight())
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The most alarm names one DisableAlarmActions, EnableAlarmActions, DescribeAlarms or
/// DeleteAlarms call takes
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_EnableAlarmActions.html>).
pub(crate) const NAMES_PER_CALL: usize = 100;

/// EnableAlarmActions or DisableAlarmActions on `names`, 100 a call, each waiting out throttling.
pub(crate) async fn set_actions(clients: &Clients, names: &[String], on: bool) -> Result<()> {
    for batch in names.chunks(NAMES_PER_CALL) {
        let batch = batch.to_vec();
        retry::through_throttling(retry::budget(), || {
            let batch = batch.clone();
            async move {
                if on {
                    clients
                        .cloudwatch
                        .enable_alarm_actions()
                        .set_alarm_names(Some(batch))
                        .send()
                        .await
                        .aws("CloudWatch EnableAlarmActions")
                        .map(|_| ())
                } else {
                    clients
                        .cloudwatch
                        .disable_alarm_actions()
                        .set_alarm_names(Some(batch))
                        .send()
                        .await
                        .aws("CloudWatch DisableAlarmActions")
                        .map(|_| ())
                }
            }
        })
        .await?;
    }
    Ok(())
}

/// The alarms the plan deletes, 100 names a call.
async fn delete_unwanted(clients: &Clients, plan: &Plan) -> Result<()> {
    let doomed: Vec<String> = plan
        .alarms
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.name.clone())
        .collect();
    for batch in doomed.chunks(NAMES_PER_CALL) {
        clients
            .cloudwatch
            .delete_alarms()
            .set_alarm_names(Some(batch.to_vec()))
            .send()
            .await
            .aws("CloudWatch DeleteAlarms")?;
    }
    Ok(())
}

fn dimensions(pairs: &[(String, String)]) -> Vec<Dimension> {
    pairs
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect()
}

/// The `Metrics` of a metric-math alarm over zones: one `MetricStat` per zone (the alarm's
/// metric with `AvailabilityZone`), returning no data, and the expression that combines them
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html>).
fn zone_queries(spec: &AlarmSpec, math: &ZoneMath) -> Vec<MetricDataQuery> {
    let m = &spec.metric;
    let mut queries: Vec<MetricDataQuery> = math
        .zones
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            let mut dims = m.dimensions.clone();
            dims.push(("AvailabilityZone".to_string(), zone.clone()));
            let metric = Metric::builder()
                .namespace(&m.namespace)
                .metric_name(&m.name)
                .set_dimensions(Some(dimensions(&dims)))
                .build();
            MetricDataQuery::builder()
                .id(ZoneMath::query_id(i))
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(spec.period_s)
                        .stat(&m.statistic)
                        .build(),
                )
                .return_data(false)
                .build()
        })
        .collect();
    queries.push(
        MetricDataQuery::builder()
            .id(crate::state::zones::EXPRESSION_ID)
            .expression(math.expression())
            .label(math.label())
            .return_data(true)
            .build(),
    );
    queries
}

/// The `Metrics` of a percent alarm ([`MetricSpec::percent`](crate::state::alarms::MetricSpec)):
/// `h`, the target group's `HealthyHostCount` (`Minimum`), and `u`, its `UnHealthyHostCount`
/// (`Maximum`), by the same dimensions, returning no data; and `healthy`, the healthy share in %,
/// `IF(h + FILL(u, 0) > 0, 100 * h / (h + FILL(u, 0)), 0)` (`IF`, `FILL`:
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html>),
/// which the alarm compares with its threshold:
/// - no `HealthyHostCount` at all (no targets registered, or no data) gives no value: missing
///   data, which `breaching` counts as an outage, as for a count alarm;
/// - targets registered but none reporting (`h + u` = 0) gives 0: breaching;
/// - `FILL(u, 0)`: a missing unhealthy count is no unhealthy target, not itself an outage;
/// - the `IF` keeps the expression from dividing by zero.
pub(crate) fn share_queries(spec: &AlarmSpec) -> Vec<MetricDataQuery> {
    use crate::state::alarms::{
        SHARE_EXPRESSION, SHARE_HEALTHY_ID, SHARE_LABEL, SHARE_UNHEALTHY_ID, UNHEALTHY_METRIC,
        UNHEALTHY_STATISTIC,
    };
    let m = &spec.metric;
    let query = |id: &str, metric: &str, stat: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(&m.namespace)
                            .metric_name(metric)
                            .set_dimensions(Some(dimensions(&m.dimensions)))
                            .build(),
                    )
                    .period(spec.period_s)
                    .stat(stat)
                    .build(),
            )
            .return_data(false)
            .build()
    };
    vec![
        query(SHARE_HEALTHY_ID, &m.name, &m.statistic),
        query(SHARE_UNHEALTHY_ID, UNHEALTHY_METRIC, UNHEALTHY_STATISTIC),
        MetricDataQuery::builder()
            .id(crate::state::zones::EXPRESSION_ID)
            .expression(SHARE_EXPRESSION)
            .label(SHARE_LABEL)
            .return_data(true)
            .build(),
    ]
}

/// Whether an alarm is put with its actions on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Armed {
    Yes,
    /// Actions off: its state changes reach nobody until EnableAlarmActions.
    No,
}

pub(crate) async fn put_alarm(
    clients: &Clients,
    env: &str,
    spec: &AlarmSpec,
    topic_arn: &str,
    armed: Armed,
) -> Result<()> {
    // Tags are taken when the alarm is made and ignored when an existing one is put again
    // ("To change the tags of an existing alarm, use TagResource or UntagResource":
    // <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>):
    // a changed runbook is set by `set_runbooks`.
    let mut tags: Vec<Tag> = Names::new(env)
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if let Some(runbook) = &spec.runbook {
        tags.push(Tag::builder().key(RUNBOOK_TAG).value(runbook).build());
    }
    let put = clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&spec.name)
        .alarm_description(&spec.description);
    // A metric-math alarm names its metrics and periods in `Metrics` only: PutMetricAlarm
    // takes either `MetricName` (with namespace, dimensions, statistic, period) or `Metrics`.
    // A percent alarm is math over the whole target group ([`share_queries`]), never zones.
    let put = match (spec.metric.percent, &spec.metric.zones) {
        (true, _) => put.set_metrics(Some(share_queries(spec))),
        (false, Some(math)) => put.set_metrics(Some(zone_queries(spec, math))),
        (false, None) => put
            .namespace(&spec.metric.namespace)
            .metric_name(&spec.metric.name)
            .set_dimensions(Some(dimensions(&spec.metric.dimensions)))
            .statistic(Statistic::from(spec.metric.statistic.as_str()))
            .period(spec.period_s),
    };
    let put = match spec.tags_in_notifications.as_slice() {
        [] => put,
        keys => put.action_configuration(
            ActionConfiguration::builder()
                .alarm_tags_propagation(
                    AlarmTagsPropagation::builder()
                        .enabled(true)
                        .set_included_tag_keys(Some(keys.to_vec()))
                        .build(),
                )
                .build(),
        ),
    };
    put.evaluation_periods(spec.evaluation_periods)
        .datapoints_to_alarm(spec.datapoints_to_alarm)
        .threshold(spec.threshold)
        .comparison_operator(ComparisonOperator::from(spec.metric.comparison.as_str()))
        .treat_missing_data(&spec.treat_missing_data)
        .actions_enabled(armed == Armed::Yes)
        .alarm_actions(topic_arn)
        .ok_actions(topic_arn)
        .set_tags(Some(tags))
        .send()
        .await
        .aws("CloudWatch PutMetricAlarm")?;
    Ok(())
}
