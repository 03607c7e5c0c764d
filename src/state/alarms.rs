//! The alarms an environment should have. Pure: no AWS calls.
//!
//! - One `HealthyHostCount` alarm per watchable target group.
//! - Two on the alerting path itself ("watch the watcher", issue 13): one on the notifier's
//!   errors, one on undelivered alerts waiting in the env's queue. They act on the env's topic
//!   like the others, so its e-mail subscribers get them even while the notifier cannot post to
//!   Slack (and Slack gets them too, when the notifier can).

use crate::discovery::TargetGroup;
use crate::naming::Names;
use crate::state::warnings::is_watchable;
use crate::state::zones::{self, ZoneMath, ZoneRule};
use serde::Serialize;

/// Target-group alarm settings (docs/performance.md "From a failing target to Slack" has the
/// detection arithmetic). The namespace is the load balancer kind's (`LbKind::namespace`).
pub const METRIC: &str = "HealthyHostCount";
pub const PERIOD_S: i32 = 60;
pub const STATISTIC: &str = "Minimum";
pub const COMPARISON: &str = "LessThanThreshold";
/// ALARM when 2 of the last 3 one-minute periods breach ("M out of N"): one late or missing
/// datapoint (1 of 3) never pages, two bad minutes do.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation>
pub const EVALUATION_PERIODS: i32 = 3;
pub const DATAPOINTS_TO_ALARM: i32 = 2;
/// A target group with no registered targets publishes no `HealthyHostCount` at all; with the
/// default `missing` its alarm would sit in INSUFFICIENT_DATA and say nothing about the biggest
/// outage there is. `breaching` counts a missing minute as a bad one, so no data reaches ALARM.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>
pub const TREAT_MISSING_DATA: &str = "breaching";

/// The notifier's `Errors`: Lambda publishes 1 per invocation that ended in a function error
/// (a Slack refusal the notifier gives up on, a time-out), read with `Sum`; an idle function
/// publishes nothing, which is not an error (`notBreaching`).
/// <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html>
/// ALARM on any error within the last 5 minutes, OK after 5 clean ones: Lambda retries a failed
/// event after about 1 and 2 minutes, so a failing webhook keeps the alarm in ALARM instead of
/// flapping it (and mailing people) once a minute.
pub const ERRORS_EVALUATION_PERIODS: i32 = 5;

/// SQS publishes `ApproximateNumberOfMessagesVisible` every minute while a queue is active (it
/// holds messages or is used), and nothing for an idle empty queue (`notBreaching`).
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html>
pub const QUEUE_METRIC: &str = "ApproximateNumberOfMessagesVisible";

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Watched {
    TargetGroup {
        load_balancer: String,
        target_group: String,
    },
    /// The notifier function's errors.
    NotifierErrors { function: String },
    /// Undelivered alerts on the env's queue.
    Undelivered { queue: String },
    /// Alerts the notifier failed on that Lambda could not put on the queue either.
    DestinationFailures { function: String },
    /// Nothing: the env's test alarm, set by `elb-watch test` alone.
    Test,
}

/// The metric an alarm evaluates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricSpec {
    pub namespace: String,
    pub name: String,
    pub statistic: String,
    pub comparison: String,
    /// (name, value), sorted by name: the order `alarm_drift` compares in.
    pub dimensions: Vec<(String, String)>,
    /// Metric math over the load balancer's zones ([`zones`]): the metric above, once per
    /// zone with an `AvailabilityZone` dimension, summed or the worst of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zones: Option<ZoneMath>,
}

impl MetricSpec {
    fn new(namespace: &str, name: &str, statistic: &str, comparison: &str) -> Self {
        MetricSpec {
            namespace: namespace.to_string(),
            name: name.to_string(),
            statistic: statistic.to_string(),
            comparison: comparison.to_string(),
            dimensions: Vec::new(),
            zones: None,
        }
    }

    fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_string(), value.to_string()));
        self.dimensions.sort();
        self
    }

    /// The metrics the alarm reads (each billed as an alarm metric).
    pub fn metric_count(&self) -> usize {
        self.zones.as_ref().map_or(1, |z| z.zones.len())
    }

    /// The value of one dimension.
    pub fn dimension_value(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub watched: Watched,
    pub metric: MetricSpec,
    pub threshold: f64,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
    pub treat_missing_data: String,
    /// The alarm tags CloudWatch puts in its notifications (`ActionConfiguration.
    /// AlarmTagsPropagation.IncludedTagKeys`): empty for none. A load balancer's alarm carries
    /// the runbook and the Slack thread there, so the notifier reads them without a call
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html>).
    pub tags_in_notifications: Vec<String>,
}

/// Tag naming an alarm's runbook; the notifier shows it as a button on ALARM (`up --runbook` is
/// the env's, for alarms without it).
pub const RUNBOOK_TAG: &str = "elb-watch:runbook";

/// The tags a load balancer's alarm puts in its notifications.
pub fn notification_tags() -> Vec<String> {
    vec![
        RUNBOOK_TAG.to_string(),
        crate::policy::THREAD_TAG.to_string(),
    ]
}

impl AlarmSpec {
    /// (load balancer, target group) of a target-group alarm.
    pub fn target_group(&self) -> Option<(&str, &str)> {
        match &self.watched {
            Watched::TargetGroup {
                load_balancer,
                target_group,
            } => Some((load_balancer, target_group)),
            _ => None,
        }
    }

    /// What the alarm is about, for people ("for web-tg behind web-alb").
    pub fn subject(&self) -> String {
        match &self.watched {
            Watched::TargetGroup {
                load_balancer,
                target_group,
            } => format!("for {target_group} behind {load_balancer}"),
            Watched::NotifierErrors { function } => format!("on the errors of {function}"),
            Watched::Undelivered { queue } => format!("on undelivered alerts in {queue}"),
            Watched::DestinationFailures { function } => {
                format!("on {function}'s failures to queue undelivered alerts")
            }
            Watched::Test => "for `elb-watch test`".to_string(),
        }
    }
}

pub fn alarm_description(env: &str, tg: &TargetGroup, min_healthy: u32, rule: ZoneRule) -> String {
    let unit = if tg.is_classic() {
        "instances"
    } else {
        "targets"
    };
    let scope = zones::scope_words(tg, rule);
    let what = if min_healthy == 1 {
        format!("no healthy {unit} {scope}")
    } else {
        format!("fewer than {min_healthy} healthy {unit} {scope}")
    };
    if tg.is_classic() {
        format!(
            "elb-watch {env}: Classic ELB {} has {what}",
            tg.load_balancer
        )
    } else {
        format!(
            "elb-watch {env}: {} {} target group {} has {what}",
            tg.kind.short(),
            tg.load_balancer,
            tg.name
        )
    }
}

/// A target group's `HealthyHostCount`: in its load balancer's namespace, by `LoadBalancer` and
/// `TargetGroup` (ALB, NLB, GWLB), or by `LoadBalancerName` for a Classic ELB; over its zones
/// where `rule` needs it ([`zones::zone_math`]).
pub fn healthy_host_count(tg: &TargetGroup, rule: ZoneRule) -> MetricSpec {
    let m = MetricSpec::new(tg.kind.namespace(), METRIC, STATISTIC, COMPARISON);
    let mut m = if tg.is_classic() {
        m.dimension("LoadBalancerName", &tg.load_balancer_dimension)
    } else {
        m.dimension("LoadBalancer", &tg.load_balancer_dimension)
            .dimension("TargetGroup", &tg.dimension)
    };
    m.zones = zones::zone_math(tg, rule);
    m
}

/// One alarm per watchable target group.
pub fn target_group_alarms(
    names: &Names,
    min_healthy: u32,
    rule: ZoneRule,
    target_groups: &[TargetGroup],
) -> Vec<AlarmSpec> {
    target_groups
        .iter()
        .filter(|tg| is_watchable(tg))
        .map(|tg| {
            // Named by what it watches alone: a target group routed by two load balancers
            // (which AWS's quota of one per target group should prevent) gets two names, and
            // no name depends on the order discovery found them in.
            let name = if tg.is_classic() {
                names.classic_alarm(&tg.load_balancer)
            } else {
                names.target_group_alarm(&tg.load_balancer, &tg.name)
            };
            AlarmSpec {
                name,
                description: alarm_description(&names.env, tg, min_healthy, rule),
                watched: Watched::TargetGroup {
                    load_balancer: tg.load_balancer.clone(),
                    target_group: tg.name.clone(),
                },
                metric: healthy_host_count(tg, rule),
                threshold: f64::from(min_healthy),
                period_s: PERIOD_S,
                evaluation_periods: EVALUATION_PERIODS,
                datapoints_to_alarm: DATAPOINTS_TO_ALARM,
                treat_missing_data: TREAT_MISSING_DATA.to_string(),
                tags_in_notifications: notification_tags(),
            }
        })
        .collect()
}

/// Lambda's `DestinationDeliveryFailures`: "the number of times that Lambda attempts to send an
/// event to a destination but fails" — permissions, a deleted queue, a full one
/// (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html>). The one signal
/// that the undelivered-alerts queue itself is failing: such an alert is lost outright.
pub const DESTINATION_METRIC: &str = "DestinationDeliveryFailures";

/// The alarms on the alerting path. Their descriptions say what to do: the notifier posts
/// the description, and the e-mail SNS sends carries it too.
pub fn watcher_alarms(names: &Names) -> Vec<AlarmSpec> {
    let env = &names.env;
    let function = names.function();
    let queue = names.queue();
    let errors = AlarmSpec {
        name: names.notifier_errors_alarm(),
        description: format!(
            "elb-watch {env}: the notifier {function} is failing, so alarms may not reach \
             Slack; they are kept on the queue {queue}. See its logs, then run \
             `elb-watch --env {env} status` and `elb-watch --env {env} replay`"
        ),
        watched: Watched::NotifierErrors {
            function: function.clone(),
        },
        metric: MetricSpec::new(
            "AWS/Lambda",
            "Errors",
            "Sum",
            "GreaterThanOrEqualToThreshold",
        )
        .dimension("FunctionName", &function),
        threshold: 1.0,
        period_s: PERIOD_S,
        evaluation_periods: ERRORS_EVALUATION_PERIODS,
        datapoints_to_alarm: 1,
        treat_missing_data: "notBreaching".to_string(),
        tags_in_notifications: Vec::new(),
    };
    let undelivered = AlarmSpec {
        name: names.undelivered_alarm(),
        description: format!(
            "elb-watch {env}: alerts that could not be delivered to Slack are waiting on the \
             queue {queue}. Run `elb-watch --env {env} status`, fix the cause, then \
             `elb-watch --env {env} replay`"
        ),
        watched: Watched::Undelivered {
            queue: queue.clone(),
        },
        metric: MetricSpec::new(
            "AWS/SQS",
            QUEUE_METRIC,
            "Maximum",
            "GreaterThanOrEqualToThreshold",
        )
        .dimension("QueueName", &queue),
        threshold: 1.0,
        period_s: PERIOD_S,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: "notBreaching".to_string(),
        tags_in_notifications: Vec::new(),
    };
    let destination = AlarmSpec {
        name: names.destination_failures_alarm(),
        description: format!(
            "elb-watch {env}: the notifier {function} failed on alerts that Lambda could not \
             put on the queue {queue} either: they are lost. Check the queue exists and the \
             notifier's role may send to it (`elb-watch --env {env} status`), then `elb-watch \
             --env {env} up`; read the lost alerts in the notifier's logs"
        ),
        watched: Watched::DestinationFailures {
            function: function.clone(),
        },
        metric: MetricSpec::new(
            "AWS/Lambda",
            DESTINATION_METRIC,
            "Sum",
            "GreaterThanOrEqualToThreshold",
        )
        .dimension("FunctionName", &function),
        threshold: 1.0,
        period_s: PERIOD_S,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: "notBreaching".to_string(),
        tags_in_notifications: Vec::new(),
    };
    vec![errors, undelivered, destination, test_alarm(names)]
}

/// Namespace and metric of the test alarm: nothing publishes them, so with missing data not
/// breaching the alarm sits in OK, and `elb-watch test` alone moves it (`SetAlarmState`; its
/// next evaluation brings it back to OK, which the notifier posts as the test's recovery).
pub const TEST_NAMESPACE: &str = "elb-watch";
pub const TEST_METRIC: &str = "TestAlert";

/// The env's test alarm, acting on the topic like the others.
pub fn test_alarm(names: &Names) -> AlarmSpec {
    let env = &names.env;
    AlarmSpec {
        name: names.test_alarm(),
        description: format!(
            "elb-watch {env}: a test alert sent by `elb-watch --env {env} test` to prove that CloudWatch, SNS, the notifier and Slack work together; no action needed"
        ),
        watched: Watched::Test,
        metric: MetricSpec::new(
            TEST_NAMESPACE,
            TEST_METRIC,
            "Maximum",
            "GreaterThanOrEqualToThreshold",
        )
        .dimension("Env", env),
        threshold: 1.0,
        period_s: PERIOD_S,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: "notBreaching".to_string(),
        tags_in_notifications: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watcher_alarms_watch_this_envs_function_and_queue() {
        let w = watcher_alarms(&Names::new("prod"));
        assert_eq!(w.len(), 4);
        assert_eq!(w[3].name, "elb-watch/prod/test");
        assert_eq!(w[3].treat_missing_data, "notBreaching");
        let errors = &w[0];
        assert_eq!(errors.name, "elb-watch/prod/notifier-errors");
        assert_eq!(
            (
                errors.metric.namespace.as_str(),
                errors.metric.name.as_str()
            ),
            ("AWS/Lambda", "Errors")
        );
        assert_eq!(
            errors.metric.dimensions,
            [(
                "FunctionName".to_string(),
                "elb-watch-prod-notifier".to_string()
            )]
        );
        assert_eq!(errors.metric.statistic, "Sum");
        assert_eq!(
            (errors.datapoints_to_alarm, errors.evaluation_periods),
            (1, 5)
        );
        let queue = &w[1];
        assert_eq!(queue.name, "elb-watch/prod/undelivered-alerts");
        assert_eq!(queue.metric.namespace, "AWS/SQS");
        assert_eq!(
            queue.metric.dimension_value("QueueName"),
            Some("elb-watch-prod-undelivered")
        );
        let destination = &w[2];
        assert_eq!(destination.name, "elb-watch/prod/destination-failures");
        assert_eq!(
            (
                destination.metric.namespace.as_str(),
                destination.metric.name.as_str()
            ),
            ("AWS/Lambda", "DestinationDeliveryFailures")
        );
        assert_eq!(
            destination.metric.dimension_value("FunctionName"),
            Some("elb-watch-prod-notifier")
        );
        for a in &w[..3] {
            // Any error, any queued alert: ≥ 1; nothing published is nothing wrong.
            assert_eq!(a.metric.comparison, "GreaterThanOrEqualToThreshold");
            assert_eq!(a.threshold, 1.0);
            assert_eq!(a.treat_missing_data, "notBreaching");
            assert_eq!(a.target_group(), None);
            assert!(a.description.contains("elb-watch --env prod status"));
            // Not mistaken for a target-group alarm by name.
            assert!(!a.name.ends_with(crate::naming::ALARM_METRIC));
        }
    }

    #[test]
    fn dimensions_are_kept_sorted_by_name() {
        let m = MetricSpec::new("N", "M", "Sum", "C")
            .dimension("TargetGroup", "t")
            .dimension("LoadBalancer", "l");
        assert_eq!(m.dimensions[0].0, "LoadBalancer");
        assert_eq!(m.dimension_value("TargetGroup"), Some("t"));
    }
}
