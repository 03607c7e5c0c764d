//! Parsing of what SNS delivers: the CloudWatch alarm state-change message (a JSON document in
//! `Records[].Sns.Message`), or anything else that was published to the topic.
//!
//! Parsing is deliberately lenient: a field of the wrong type is treated as absent rather than
//! failing the whole message, because a malformed alert is still better than no alert.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One SNS record, reduced to the fields the notifier uses. All optional: a record missing
/// fields or with fields of the wrong type (hand-made test events, future format changes) is
/// still rendered from whatever it has.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnsRecord {
    pub message_id: Option<String>,
    pub topic_arn: Option<String>,
    pub subject: Option<String>,
    pub message: Option<String>,
}

/// The Lambda event SNS sends: `{"Records": [{"Sns": {...}}, ...]}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnsEvent {
    pub records: Vec<SnsRecord>,
}

/// Parses the invocation payload. Records that are not objects are kept as empty records so
/// they are reported rather than silently dropped.
pub fn parse_event(payload: &Value) -> Result<SnsEvent, String> {
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| "event has no Records array: not an SNS event".to_owned())?;
    Ok(SnsEvent {
        records: records
            .iter()
            .map(|r| {
                let sns = r.get("Sns").unwrap_or(&Value::Null);
                let field = |k: &str| sns.get(k).and_then(Value::as_str).map(str::to_owned);
                SnsRecord {
                    message_id: field("MessageId"),
                    topic_arn: field("TopicArn"),
                    subject: field("Subject"),
                    message: field("Message"),
                }
            })
            .collect(),
    })
}

/// What one SNS record carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    Alarm(Box<Alarm>),
    /// Not a CloudWatch alarm: posted as text, clearly marked.
    Other {
        subject: Option<String>,
        text: String,
    },
}

/// The alarm states CloudWatch reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlarmState {
    Alarm,
    Ok,
    InsufficientData,
    Unknown(String),
}

impl AlarmState {
    pub fn parse(s: &str) -> Self {
        match s {
            "ALARM" => Self::Alarm,
            "OK" => Self::Ok,
            "INSUFFICIENT_DATA" => Self::InsufficientData,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Alarm => "ALARM",
            Self::Ok => "OK",
            Self::InsufficientData => "INSUFFICIENT_DATA",
            Self::Unknown(s) => s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// A CloudWatch alarm state change, as far as the message says.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub description: Option<String>,
    pub account_id: Option<String>,
    pub arn: Option<String>,
    /// Long region name ("Asia Pacific (Tokyo)").
    pub region_name: Option<String>,
    pub new_state: AlarmState,
    pub old_state: Option<AlarmState>,
    pub reason: Option<String>,
    /// Raw `StateChangeTime` (`2026-11-20T03:15:42.118+0000`).
    pub state_change_time: Option<String>,
    /// `MetricName`, or for metric math the label/expression of the returned series.
    pub metric: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub period_s: Option<u64>,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    /// `Trigger.Dimensions`, or for metric math the union of `Metrics[].MetricStat` dimensions.
    pub dimensions: Vec<Dimension>,
    /// `ElbWatchAnnouncement`: set when `elb-watch up` published this message itself for an
    /// alarm it found in ALARM on completing the alerting path ([`FOUND_AT_SETUP`]); CloudWatch's
    /// own notifications have no such field.
    pub announcement: Option<String>,
    /// The alarm's tags as CloudWatch put them in the notification (`AlarmTags`, when the
    /// alarm's `ActionConfiguration.AlarmTagsPropagation` is enabled); empty when it has none.
    pub tags: BTreeMap<String, String>,
    /// `AlarmTagsStatus`: whether CloudWatch could read the tags it put in (`SUCCESS`); `None`
    /// when the notification says nothing of tags (propagation off, an older notification).
    pub tags_status: Option<String>,
}

/// [`Alarm::tags_status`] when the tags were read and any key filter applied
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html>:
/// "`SUCCESS` – The tags were retrieved and any key filter was applied. The list can be
/// empty").
pub const TAGS_SUCCESS: &str = "SUCCESS";

/// [`Alarm::announcement`] of an alarm found in ALARM when `up` completed its path.
pub const FOUND_AT_SETUP: &str = "found-in-alarm-at-setup";

/// How `elb-watch test` starts the reason it gives `SetAlarmState`:
/// `elb-watch test <ID>: …`, `<ID>` naming the one test for its log line.
pub const TEST_REASON: &str = "elb-watch test ";

impl Alarm {
    /// Whether this state change is a test: set by `elb-watch test` (its reason says so), or
    /// any change of an env's dedicated test alarm (its return to OK at the next evaluation
    /// comes with CloudWatch's own reason).
    pub fn is_test(&self) -> bool {
        self.test_id().is_some() || self.is_test_alarm()
    }

    /// `<ID>` of a reason `elb-watch test <ID>: …`.
    pub fn test_id(&self) -> Option<&str> {
        let rest = self.reason.as_deref()?.strip_prefix(TEST_REASON)?;
        let (id, _) = rest.split_once(':')?;
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then_some(id)
    }

    /// `elb-watch/<env>/test`, three parts: the env's test alarm, which has no metric data
    /// and changes state only when `elb-watch test` sets it.
    fn is_test_alarm(&self) -> bool {
        is_test_alarm_name(&self.name)
    }

    /// The alarm's tags from the notification itself, when CloudWatch says it read them
    /// ([`TAGS_SUCCESS`]): then they are all there is (with any key filter applied), and no
    /// ListTagsForResource is needed for them. `None` without propagation or on another status.
    pub fn payload_tags(&self) -> Option<&BTreeMap<String, String>> {
        (self.tags_status.as_deref() == Some(TAGS_SUCCESS)).then_some(&self.tags)
    }

    /// Whether `elb-watch up` announced this alarm as found in ALARM at set-up.
    pub fn found_at_setup(&self) -> bool {
        self.announcement.as_deref() == Some(FOUND_AT_SETUP)
    }
}

/// `elb-watch/<env>/test`, three parts: the name of an env's test alarm.
pub fn is_test_alarm_name(name: &str) -> bool {
    let mut parts = name.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("elb-watch"), Some(env), Some("test"), None) if !env.is_empty()
    )
}

impl Alarm {
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }

    /// Region code parsed from `AlarmArn`.
    pub fn region(&self) -> Option<&str> {
        self.arn.as_deref().and_then(Arn::parse).map(|a| a.region)
    }

    pub fn partition(&self) -> Option<&str> {
        self.arn
            .as_deref()
            .and_then(Arn::parse)
            .map(|a| a.partition)
    }

    /// Account id from the message, or from `AlarmArn`.
    pub fn account(&self) -> Option<&str> {
        self.account_id
            .as_deref()
            .filter(|a| !a.is_empty())
            .or_else(|| self.arn.as_deref().and_then(Arn::parse).map(|a| a.account))
    }

    /// `StateChangeTime` as a UTC instant, when it parses.
    pub fn state_changed_at(&self) -> Option<DateTime<Utc>> {
        self.state_change_time.as_deref().and_then(parse_time)
    }

    /// Load balancer name from the `LoadBalancer` dimension (`app/NAME/ID`, `net/…`, `gwy/…`),
    /// or a Classic Load Balancer's `LoadBalancerName`.
    pub fn load_balancer_name(&self) -> Option<&str> {
        self.dimension("LoadBalancer")
            .map(resource_name)
            .or_else(|| self.dimension("LoadBalancerName"))
    }

    /// Target group name from the `TargetGroup` dimension.
    pub fn target_group_name(&self) -> Option<&str> {
        self.dimension("TargetGroup").map(resource_name)
    }

    /// ARN of the target group the alarm watches, rebuilt from the `TargetGroup` dimension
    /// (`targetgroup/web-tg/6d0e...`), the region and the account.
    pub fn target_group_arn(&self) -> Option<String> {
        let tg = self.dimension("TargetGroup")?;
        if !tg.starts_with("targetgroup/") {
            return None;
        }
        Some(format!(
            "arn:{}:elasticloadbalancing:{}:{}:{}",
            self.partition().unwrap_or("aws"),
            self.region()?,
            self.account()?,
            tg
        ))
    }
}

/// The parts of an ARN this crate needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// `arn:partition:service:region:account:resource`; `None` unless it has that shape and a
    /// non-empty region.
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        let region_ok = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if partition.is_empty() || !region_ok {
            return None;
        }
        Some(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// CloudWatch's message timestamps (`2026-11-20T03:15:42.118+0000`), or RFC 3339.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `app/web-alb/50dc6c495c0c9188` -> `web-alb`; `targetgroup/web-tg/6d0e...` -> `web-tg`.
/// A value of another shape is returned unchanged.
pub fn resource_name(dimension_value: &str) -> &str {
    let parts: Vec<&str> = dimension_value.split('/').collect();
    match parts.as_slice() {
        [_, name, _] if !name.is_empty() => name,
        _ => dimension_value,
    }
}

/// Classifies an SNS message: a CloudWatch alarm if it is a JSON object with a string
/// `AlarmName` and `NewStateValue`, otherwise "something else".
pub fn parse_notification(subject: Option<&str>, message: &str) -> Notification {
    match serde_json::from_str::<Value>(message) {
        Ok(v) => match parse_alarm(&v) {
            Some(alarm) => Notification::Alarm(Box::new(alarm)),
            None => other(subject, message),
        },
        Err(_) => other(subject, message),
    }
}

fn other(subject: Option<&str>, message: &str) -> Notification {
    Notification::Other {
        subject: subject.filter(|s| !s.is_empty()).map(str::to_owned),
        text: message.to_owned(),
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn dimensions(v: Option<&Value>) -> Vec<Dimension> {
    v.and_then(Value::as_array)
        .map(|dims| {
            dims.iter()
                .filter_map(|d| {
                    // CloudWatch uses lower-case keys here; accept the API's casing too.
                    let name = d.get("name").or_else(|| d.get("Name"))?.as_str()?;
                    let value = d.get("value").or_else(|| d.get("Value"))?.as_str()?;
                    Some(Dimension {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `AlarmTags` of a notification: CloudWatch's `Tag` list, `[{"Key": …, "Value": …}]`, or an
/// object of key → value (EventBridge's `alarmTags` shape), either casing of the field and of the
/// keys; entries of another shape are left out.
fn tags(v: &Value) -> BTreeMap<String, String> {
    let field = v.get("AlarmTags").or_else(|| v.get("alarmTags"));
    let mut out = BTreeMap::new();
    match field {
        Some(Value::Array(list)) => {
            for t in list {
                let part = |a: &str, b: &str| t.get(a).or_else(|| t.get(b)).and_then(Value::as_str);
                if let (Some(k), Some(val)) = (part("Key", "key"), part("Value", "value")) {
                    out.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        Some(Value::Object(map)) => {
            for (k, val) in map {
                if let Some(val) = val.as_str() {
                    out.insert(k.clone(), val.to_owned());
                }
            }
        }
        _ => {}
    }
    out
}

/// Parses a CloudWatch alarm message; `None` if `v` is not one.
pub fn parse_alarm(v: &Value) -> Option<Alarm> {
    let name = str_field(v, "AlarmName")?;
    let new_state = AlarmState::parse(v.get("NewStateValue")?.as_str()?);
    let trigger = v.get("Trigger").filter(|t| t.is_object());
    let t = |key: &str| trigger.and_then(|t| str_field(t, key));

    let mut metric = t("MetricName");
    let mut namespace = t("Namespace");
    let mut statistic = t("Statistic").or_else(|| t("ExtendedStatistic"));
    let mut period_s = trigger
        .and_then(|t| t.get("Period"))
        .and_then(Value::as_u64);
    let mut dims = dimensions(trigger.and_then(|t| t.get("Dimensions")));

    // Metric math: Trigger.Metrics[] holds the query; dimensions live in each MetricStat.
    if let Some(metrics) = trigger
        .and_then(|t| t.get("Metrics"))
        .and_then(Value::as_array)
    {
        for m in metrics {
            let Some(stat) = m.get("MetricStat") else {
                continue;
            };
            let inner = stat.get("Metric");
            for d in dimensions(inner.and_then(|i| i.get("Dimensions"))) {
                if !dims.contains(&d) {
                    dims.push(d);
                }
            }
            if namespace.is_none() {
                namespace = inner.and_then(|i| str_field(i, "Namespace"));
            }
        }
        let returned = metrics
            .iter()
            .find(|m| m.get("ReturnData").and_then(Value::as_bool) == Some(true))
            .or_else(|| metrics.first());
        if metric.is_none()
            && let Some(r) = returned
        {
            metric = str_field(r, "Label")
                .or_else(|| str_field(r, "Expression"))
                .or_else(|| {
                    r.get("MetricStat")
                        .and_then(|s| s.get("Metric"))
                        .and_then(|m| str_field(m, "MetricName"))
                })
                .or_else(|| str_field(r, "Id"));
            if let Some(stat) = r.get("MetricStat") {
                statistic = statistic.or_else(|| str_field(stat, "Stat"));
                period_s = period_s.or_else(|| stat.get("Period").and_then(Value::as_u64));
            }
        }
    }

    Some(Alarm {
        name,
        description: str_field(v, "AlarmDescription"),
        account_id: str_field(v, "AWSAccountId"),
        arn: str_field(v, "AlarmArn"),
        region_name: str_field(v, "Region"),
        new_state,
        old_state: v
            .get("OldStateValue")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(AlarmState::parse),
        reason: str_field(v, "NewStateReason"),
        state_change_time: str_field(v, "StateChangeTime"),
        metric,
        namespace,
        statistic,
        period_s,
        comparison: t("ComparisonOperator"),
        threshold: trigger
            .and_then(|t| t.get("Threshold"))
            .and_then(Value::as_f64),
        dimensions: dims,
        announcement: str_field(v, "ElbWatchAnnouncement"),
        tags: tags(v),
        tags_status: str_field(v, "AlarmTagsStatus").or_else(|| str_field(v, "alarmTagsStatus")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fixture_event, fixture_message};

    #[test]
    fn parses_every_fixture_event_envelope() {
        for name in crate::test_support::FIXTURES {
            let event = parse_event(&fixture_event(name)).unwrap();
            assert_eq!(event.records.len(), 1, "{name}");
            let sns = &event.records[0];
            assert!(sns.message.is_some(), "{name}");
            assert!(sns.subject.is_some(), "{name}");
            assert_eq!(
                sns.topic_arn.as_deref(),
                Some("arn:aws:sns:ap-northeast-1:123456789012:elb-watch-prod-alarms")
            );
        }
    }

    fn alarm_of(name: &str) -> Alarm {
        let (subject, message) = fixture_message(name);
        match parse_notification(subject.as_deref(), &message) {
            Notification::Alarm(a) => *a,
            other => panic!("{name} parsed as {other:?}"),
        }
    }

    #[test]
    fn alarm_fixture() {
        let a = alarm_of("sns-alarm-healthyhostcount-alarm.json");
        assert_eq!(a.name, "elb-watch-prod-web-tg-HealthyHostCount");
        assert_eq!(
            a.description.as_deref(),
            Some("web-alb has no healthy targets in web-tg")
        );
        assert_eq!(a.new_state, AlarmState::Alarm);
        assert_eq!(a.old_state, Some(AlarmState::Ok));
        assert!(
            a.reason
                .as_deref()
                .unwrap()
                .starts_with("Threshold Crossed")
        );
        assert_eq!(
            a.state_change_time.as_deref(),
            Some("2026-11-20T03:15:42.118+0000")
        );
        assert_eq!(a.metric.as_deref(), Some("HealthyHostCount"));
        assert_eq!(a.namespace.as_deref(), Some("AWS/ApplicationELB"));
        assert_eq!(a.statistic.as_deref(), Some("MINIMUM"));
        assert_eq!(a.period_s, Some(60));
        assert_eq!(a.comparison.as_deref(), Some("LessThanOrEqualToThreshold"));
        assert_eq!(a.threshold, Some(0.0));
        assert_eq!(a.region(), Some("ap-northeast-1"));
        assert_eq!(a.region_name.as_deref(), Some("Asia Pacific (Tokyo)"));
        assert_eq!(a.account(), Some("123456789012"));
        assert_eq!(a.load_balancer_name(), Some("web-alb"));
        assert_eq!(a.target_group_name(), Some("web-tg"));
        assert_eq!(
            a.dimension("LoadBalancer"),
            Some("app/web-alb/50dc6c495c0c9188")
        );
        assert_eq!(
            a.target_group_arn().as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web-tg/6d0ecf831eec9f09"
            )
        );
    }

    #[test]
    fn ok_fixture() {
        let a = alarm_of("sns-alarm-healthyhostcount-ok.json");
        assert_eq!(a.new_state, AlarmState::Ok);
        assert_eq!(a.old_state, Some(AlarmState::Alarm));
        assert_eq!(
            a.state_change_time.as_deref(),
            Some("2026-11-20T03:22:40.561+0000")
        );
        assert_eq!(a.target_group_name(), Some("web-tg"));
    }

    #[test]
    fn insufficient_data_fixture_with_null_description() {
        let a = alarm_of("sns-alarm-insufficient-data.json");
        assert_eq!(a.new_state, AlarmState::InsufficientData);
        assert_eq!(a.description, None, "AlarmDescription is null");
        assert_eq!(
            a.reason.as_deref(),
            Some("Insufficient Data: 1 datapoint was unknown.")
        );
    }

    #[test]
    fn metric_math_fixture_takes_dimensions_from_metric_stats() {
        let a = alarm_of("sns-alarm-metric-math.json");
        assert_eq!(a.name, "web-alb-healthy-ratio");
        assert_eq!(a.description, None);
        assert_eq!(a.load_balancer_name(), Some("web-alb"));
        assert_eq!(a.target_group_name(), Some("web-tg"));
        assert_eq!(a.dimensions.len(), 2, "deduplicated: {:?}", a.dimensions);
        assert_eq!(a.metric.as_deref(), Some("healthy ratio"));
        assert_eq!(a.namespace.as_deref(), Some("AWS/ApplicationELB"));
        assert_eq!(a.comparison.as_deref(), Some("LessThanThreshold"));
        assert_eq!(a.threshold, Some(0.5));
        assert_eq!(a.period_s, Some(60));
    }

    #[test]
    fn plain_text_fixture_is_other() {
        let (subject, message) = fixture_message("sns-plain-text-message.json");
        assert_eq!(
            parse_notification(subject.as_deref(), &message),
            Notification::Other {
                subject: Some("test message".into()),
                text: "Hello from the SNS console: this is not a CloudWatch alarm.".into()
            }
        );
    }

    #[test]
    fn invalid_json_and_wrong_shapes_are_other() {
        for msg in [
            "{not json",
            "[1,2,3]",
            "42",
            "null",
            r#"{"AlarmName": 5, "NewStateValue": "ALARM"}"#,
            r#"{"AlarmName": "x"}"#,
            r#"{"NewStateValue": "ALARM"}"#,
        ] {
            assert!(
                matches!(parse_notification(None, msg), Notification::Other { .. }),
                "{msg}"
            );
        }
    }

    #[test]
    fn wrong_types_inside_an_alarm_are_ignored() {
        let msg = r#"{"AlarmName": "a", "NewStateValue": "ALARM", "AlarmDescription": 7,
            "Trigger": {"Threshold": "high", "Dimensions": "oops", "Metrics": {"x": 1}},
            "AlarmArn": ["no"]}"#;
        let Notification::Alarm(a) = parse_notification(None, msg) else {
            panic!("not an alarm")
        };
        assert_eq!(a.description, None);
        assert_eq!(a.threshold, None);
        assert!(a.dimensions.is_empty());
        assert_eq!(a.region(), None);
        assert_eq!(a.target_group_arn(), None);
    }

    /// The tags CloudWatch puts in an SNS notification when the alarm's
    /// `ActionConfiguration.AlarmTagsPropagation` is enabled
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html>,
    /// "Alarm tags in action payloads": for Amazon SNS the status field is `AlarmTagsStatus`,
    /// `SUCCESS` when "the tags were retrieved and any key filter was applied"): fixture
    /// `sns-alarm-with-tags.json`.
    #[test]
    fn tags_in_the_notification_are_read_with_their_status() {
        let a = alarm_of("sns-alarm-with-tags.json");
        assert_eq!(a.tags_status.as_deref(), Some(TAGS_SUCCESS));
        let tags = a.payload_tags().expect("SUCCESS: the tags are complete");
        assert_eq!(
            tags.get("elb-watch:runbook").map(String::as_str),
            Some("https://wiki.example.com/runbooks/web-tg")
        );
        assert_eq!(
            tags.get("elb-watch:slack-thread").map(String::as_str),
            Some("C0ALERTS/1700000000.000100/1795144482118")
        );
        assert!(!tags.keys().any(|k| k.starts_with("aws:")));

        // No propagation: no tags, and nothing to trust.
        let plain = alarm_of("sns-alarm-healthyhostcount-alarm.json");
        assert!(plain.tags.is_empty() && plain.tags_status.is_none());
        assert_eq!(plain.payload_tags(), None);

        let with = |extra: serde_json::Value| {
            let mut m = serde_json::json!({"AlarmName": "a", "NewStateValue": "ALARM"});
            m.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            match parse_notification(None, &m.to_string()) {
                Notification::Alarm(a) => *a,
                other => panic!("{other:?}"),
            }
        };
        // Any status but SUCCESS: the tags may be missing, so they are not the whole truth.
        let failed = with(serde_json::json!({"AlarmTags": [], "AlarmTagsStatus": "FAILED"}));
        assert_eq!(failed.payload_tags(), None);
        // SUCCESS with an empty list: the alarm has no (matching) tags; that is an answer.
        let none = with(serde_json::json!({"AlarmTags": [], "AlarmTagsStatus": "SUCCESS"}));
        assert_eq!(none.payload_tags().map(BTreeMap::len), Some(0));
        // An object of key → value (EventBridge's shape) reads the same; junk entries are left out.
        let object = with(serde_json::json!({"alarmTags": {"team": "web", "n": 5},
            "alarmTagsStatus": "SUCCESS"}));
        assert_eq!(
            object.payload_tags().unwrap().iter().collect::<Vec<_>>(),
            [(&"team".to_owned(), &"web".to_owned())]
        );
        let junk = with(
            serde_json::json!({"AlarmTags": [{"Key": "k"}, 3, {"key": "a", "value": "b"}],
            "AlarmTagsStatus": "SUCCESS"}),
        );
        assert_eq!(junk.tags.len(), 1);
    }

    #[test]
    fn arn_parsing() {
        let a = Arn::parse("arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:x:y").unwrap();
        assert_eq!(a.partition, "aws");
        assert_eq!(a.service, "cloudwatch");
        assert_eq!(a.region, "ap-northeast-1");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource, "alarm:x:y");
        let cn = Arn::parse("arn:aws-cn:cloudwatch:cn-north-1:1:alarm:x").unwrap();
        assert_eq!((cn.partition, cn.region), ("aws-cn", "cn-north-1"));
        assert_eq!(Arn::parse("arn:aws:iam::123:role/x"), None, "global ARN");
        assert_eq!(Arn::parse("not-an-arn"), None);
        assert_eq!(Arn::parse("arn:aws:cloudwatch"), None);
        assert_eq!(Arn::parse("arn:aws:cloudwatch:<!channel>:1:alarm:x"), None);
    }

    #[test]
    fn resource_names_from_dimensions() {
        assert_eq!(resource_name("app/web-alb/50dc6c495c0c9188"), "web-alb");
        assert_eq!(resource_name("net/nlb-1/abc"), "nlb-1");
        assert_eq!(
            resource_name("targetgroup/web-tg/6d0ecf831eec9f09"),
            "web-tg"
        );
        assert_eq!(resource_name("plain"), "plain");
        assert_eq!(resource_name("a//b"), "a//b");
    }

    #[test]
    fn non_sns_payloads() {
        assert!(parse_event(&serde_json::json!({"foo": 1})).is_err());
        assert!(parse_event(&serde_json::json!([])).is_err());
        let e =
            parse_event(&serde_json::json!({"Records": [1, {"Sns": {"Message": "hi"}}]})).unwrap();
        assert_eq!(e.records.len(), 2);
        assert_eq!(e.records[0], SnsRecord::default());
        assert_eq!(e.records[1].message.as_deref(), Some("hi"));
    }
}
