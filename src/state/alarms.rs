//! The alarms an environment should have. Pure: no AWS calls.
//!
//! - One `HealthyHostCount` alarm per watchable target group.
//! - Two on the alerting path itself ("watch the watcher", issue 13): one on the notifier's
//!   errors, one on undelivered alerts waiting in the env's queue. They act on the env's topic
//!   like the others, so its e-mail subscribers get them even while the notifier cannot post to
//!   Slack (and Slack gets them too, when the notifier can).

use crate::discovery::TargetGroup;
use crate::envfile::Threshold;
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

/// A percent threshold's second metric: the target group's unhealthy targets, read with
/// `Maximum` (the worst minute) as `HealthyHostCount` is with `Minimum`.
pub const UNHEALTHY_METRIC: &str = "UnHealthyHostCount";
pub const UNHEALTHY_STATISTIC: &str = "Maximum";
/// Query ids of a percent alarm's two metrics.
pub const SHARE_HEALTHY_ID: &str = "h";
pub const SHARE_UNHEALTHY_ID: &str = "u";
/// The healthy share of a target group's targets, in %, that a percent alarm evaluates (query
/// id [`zones::EXPRESSION_ID`]); `apply::alarms::share_queries` says why it reads so.
pub const SHARE_EXPRESSION: &str = "IF(h + FILL(u, 0) > 0, 100 * h / (h + FILL(u, 0)), 0)";
/// The expression's label, which the notifier shows as the metric (and, by its `(%)`, the
/// threshold as a percentage).
pub const SHARE_LABEL: &str = "healthy targets (%)";

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
    /// A percent threshold: the alarm evaluates [`SHARE_EXPRESSION`], the healthy share of the
    /// target group's targets in %, metric math over the metric above (`HealthyHostCount`) and
    /// [`UNHEALTHY_METRIC`] with the same dimensions. A share is judged over the whole target
    /// group (Classic: load balancer), so such a metric has no `zones`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub percent: bool,
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
            percent: false,
        }
    }

    fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_string(), value.to_string()));
        self.dimensions.sort();
        self
    }

    /// The metrics the alarm reads (each billed as an alarm metric).
    pub fn metric_count(&self) -> usize {
        if self.percent {
            return 2;
        }
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
    /// Its [`RUNBOOK_TAG`]: the target group's runbook (or its load balancer's) when tagged with
    /// an https URL; `None` for an untagged group and the alerting-path alarms, which the
    /// notifier gives the env's `--runbook`, if any.
    pub runbook: Option<String>,
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

    /// The threshold, for reports: `< 5 healthy` or `< 50 % healthy` for a target group's
    /// alarm, the comparison and the figure for the others (`≥ 1`).
    pub fn threshold_label(&self) -> String {
        let op = match self.metric.comparison.as_str() {
            "LessThanThreshold" => "<",
            "LessThanOrEqualToThreshold" => "≤",
            "GreaterThanThreshold" => ">",
            "GreaterThanOrEqualToThreshold" => "≥",
            other => other,
        };
        let t = self.threshold;
        match (&self.watched, self.metric.percent) {
            (Watched::TargetGroup { .. }, true) => format!("{op} {t} % healthy"),
            (Watched::TargetGroup { .. }, false) => format!("{op} {t} healthy"),
            _ => format!("{op} {t}"),
        }
    }
}

/// What a target group's alarm is for, in words: `… has no healthy targets in the target group
/// as a whole`, `… has fewer than 50 % of its targets healthy` (a share is of the whole: no
/// zone words).
pub fn alarm_description(
    env: &str,
    tg: &TargetGroup,
    threshold: Threshold,
    rule: ZoneRule,
) -> String {
    let unit = if tg.is_classic() {
        "instances"
    } else {
        "targets"
    };
    let what = match threshold {
        Threshold::Count(1) => format!("no healthy {unit} {}", zones::scope_words(tg, rule)),
        Threshold::Count(n) => {
            format!(
                "fewer than {n} healthy {unit} {}",
                zones::scope_words(tg, rule)
            )
        }
        Threshold::Percent(p) => format!("fewer than {p} % of its {unit} healthy"),
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

/// A target group's healthy share ([`MetricSpec::percent`]): its `HealthyHostCount` as
/// [`healthy_host_count`] reads it for the whole target group, with no zone math.
pub fn healthy_share(tg: &TargetGroup) -> MetricSpec {
    MetricSpec {
        zones: None,
        percent: true,
        ..healthy_host_count(tg, ZoneRule::Whole)
    }
}

/// A target group's runbook tag when it is one a button can hold (an https URL within Slack's
/// limit); [`crate::state::warnings::target_group_warnings`] names the others.
pub fn valid_runbook(tg: &TargetGroup) -> Option<&str> {
    tg.runbook
        .as_deref()
        .filter(|r| crate::state::mentions::parse_runbook(r).is_ok())
}

/// One alarm per watchable target group, each with its threshold.
pub fn target_group_alarms(
    names: &Names,
    threshold_of: impl Fn(&TargetGroup) -> Threshold,
    rule: ZoneRule,
    target_groups: &[TargetGroup],
) -> Vec<AlarmSpec> {
    target_groups
        .iter()
        .filter(|tg| is_watchable(tg))
        .map(|tg| target_group_alarm(names, tg, threshold_of(tg), rule))
        .collect()
}

/// A target group's alarm. `Count(n)`: fewer than `n` healthy targets (`HealthyHostCount`,
/// over its zones where `rule` needs it). `Percent(p)`: fewer than `p` % of its targets healthy
/// ([`healthy_share`]; `rule` does not apply, a share is of the whole target group). Both
/// count missing data as an outage (`breaching`).
pub fn target_group_alarm(
    names: &Names,
    tg: &TargetGroup,
    threshold: Threshold,
    rule: ZoneRule,
) -> AlarmSpec {
    // Named by what it watches alone: a target group routed by two load balancers (which
    // AWS's quota of one per target group should prevent) gets two names, and no name
    // depends on the order discovery found them in.
    let name = if tg.is_classic() {
        names.classic_alarm(&tg.load_balancer)
    } else {
        names.target_group_alarm(&tg.load_balancer, &tg.name)
    };
    let (metric, value) = match threshold {
        Threshold::Count(n) => (healthy_host_count(tg, rule), n),
        Threshold::Percent(p) => (healthy_share(tg), p),
    };
    AlarmSpec {
        name,
        description: alarm_description(&names.env, tg, threshold, rule),
        watched: Watched::TargetGroup {
            load_balancer: tg.load_balancer.clone(),
            target_group: tg.name.clone(),
        },
        metric,
        threshold: f64::from(value),
        period_s: PERIOD_S,
        evaluation_periods: EVALUATION_PERIODS,
        datapoints_to_alarm: DATAPOINTS_TO_ALARM,
        treat_missing_data: TREAT_MISSING_DATA.to_string(),
        tags_in_notifications: notification_tags(),
        runbook: valid_runbook(tg).map(str::to_string),
    }
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
        runbook: None,
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
        runbook: None,
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
        runbook: None,
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
        runbook: None,
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

    use crate::discovery::LbKind;
    use crate::state::fixtures::target_group;

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_count_threshold_gives_the_healthy_host_count_alarm() {
        let names = Names::new("prod");
        let tg = target_group("web-alb", "web-tg");
        let a = target_group_alarm(&names, &tg, Threshold::Count(5), ZoneRule::Whole);
        assert_eq!(a.name, names.target_group_alarm("web-alb", "web-tg"));
        assert_eq!(
            a.description,
            "elb-watch prod: ALB web-alb target group web-tg has fewer than 5 healthy targets \
             in the target group as a whole"
        );
        assert_eq!(a.threshold, 5.0);
        assert_eq!(
            (
                a.metric.namespace.as_str(),
                a.metric.name.as_str(),
                a.metric.statistic.as_str(),
                a.metric.comparison.as_str()
            ),
            (
                "AWS/ApplicationELB",
                "HealthyHostCount",
                "Minimum",
                "LessThanThreshold"
            )
        );
        assert!(!a.metric.percent);
        assert_eq!(a.metric.metric_count(), 1);
        assert_eq!(
            (a.period_s, a.evaluation_periods, a.datapoints_to_alarm),
            (60, 3, 2)
        );
        assert_eq!(a.treat_missing_data, "breaching");
        // Off, the flag is not in the JSON at all.
        let json = serde_json::to_value(&a.metric).unwrap();
        assert_eq!(json.get("percent"), None, "{json}");
    }

    #[test]
    fn a_percent_threshold_gives_metric_math_over_the_whole_target_group() {
        let names = Names::new("prod");
        // An NLB in two zones under `--per-zone`: a count alarm would be math over its zones.
        let mut tg = target_group("web-nlb", "web-tg");
        tg.kind = LbKind::Network;
        tg.load_balancer_dimension = "net/web-nlb/def".into();
        let count = target_group_alarm(&names, &tg, Threshold::Count(2), ZoneRule::PerZone);
        assert!(count.metric.zones.is_some());
        let a = target_group_alarm(&names, &tg, Threshold::Percent(50), ZoneRule::PerZone);
        assert_eq!(a.name, names.target_group_alarm("web-nlb", "web-tg"));
        assert_eq!(
            a.description,
            "elb-watch prod: NLB web-nlb target group web-tg has fewer than 50 % of its targets \
             healthy"
        );
        assert_eq!(a.threshold, 50.0);
        assert!(a.metric.percent);
        assert_eq!(a.metric.zones, None);
        assert_eq!(a.metric.metric_count(), 2);
        assert_eq!(
            (
                a.metric.namespace.as_str(),
                a.metric.name.as_str(),
                a.metric.statistic.as_str(),
                a.metric.comparison.as_str()
            ),
            (
                "AWS/NetworkELB",
                "HealthyHostCount",
                "Minimum",
                "LessThanThreshold"
            )
        );
        assert_eq!(
            a.metric.dimensions,
            dims(&[
                ("LoadBalancer", "net/web-nlb/def"),
                ("TargetGroup", "targetgroup/web-tg/abc")
            ])
        );
        assert_eq!(
            (a.period_s, a.evaluation_periods, a.datapoints_to_alarm),
            (60, 3, 2)
        );
        assert_eq!(a.treat_missing_data, "breaching");
        assert_eq!(a.tags_in_notifications, notification_tags());
        let json = serde_json::to_value(&a.metric).unwrap();
        assert_eq!(json["percent"], true, "{json}");
        assert_eq!(json.get("zones"), None, "{json}");
    }

    #[test]
    fn a_classic_elbs_percent_alarm_counts_instances_by_load_balancer_name() {
        let mut tg = target_group("legacy", "legacy");
        tg.kind = LbKind::Classic;
        tg.load_balancer_dimension = "legacy".into();
        let a = target_group_alarm(
            &Names::new("prod"),
            &tg,
            Threshold::Percent(75),
            ZoneRule::Whole,
        );
        assert_eq!(
            a.description,
            "elb-watch prod: Classic ELB legacy has fewer than 75 % of its instances healthy"
        );
        assert_eq!(a.metric.namespace, "AWS/ELB");
        assert_eq!(a.metric.dimensions, dims(&[("LoadBalancerName", "legacy")]));
        assert_eq!(a.metric.zones, None);
        assert!(a.metric.percent);
    }

    #[test]
    fn each_target_group_gets_its_own_threshold() {
        let groups = [
            target_group("web-alb", "web-tg"),
            target_group("web-alb", "api-tg"),
        ];
        let alarms = target_group_alarms(
            &Names::new("prod"),
            |tg| {
                if tg.name == "api-tg" {
                    Threshold::Percent(60)
                } else {
                    Threshold::Count(3)
                }
            },
            ZoneRule::Whole,
            &groups,
        );
        let got: Vec<(Option<(&str, &str)>, String)> = alarms
            .iter()
            .map(|a| (a.target_group(), a.threshold_label()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(("web-alb", "web-tg")), "< 3 healthy".to_string()),
                (Some(("web-alb", "api-tg")), "< 60 % healthy".to_string()),
            ]
        );
    }

    #[test]
    fn threshold_labels_say_count_or_share() {
        let names = Names::new("prod");
        let tg = target_group("web-alb", "web-tg");
        let label = |t| target_group_alarm(&names, &tg, t, ZoneRule::Whole).threshold_label();
        assert_eq!(label(Threshold::Count(5)), "< 5 healthy");
        assert_eq!(label(Threshold::Percent(50)), "< 50 % healthy");
        // The alerting path's alarms: the comparison and the figure.
        assert_eq!(watcher_alarms(&names)[0].threshold_label(), "≥ 1");
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
