//! The alarm's graph: the `MetricWidget` JSON that asks CloudWatch's `GetMetricWidgetImage` for
//! a PNG of the alarm's own metric (or metric-math query) around the alert, with the threshold
//! line and the ALARM side of it shaded. Pure: the message in, JSON out; the call is
//! [`metric_image`](crate::enrich::metric_image)'s.
//!
//! - The API: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html>
//!   (`MetricWidget`: "A JSON string that defines the bitmap graph to be retrieved"; at most 100
//!   metrics and a 100 KB payload; the answer's `MetricWidgetImage` is the PNG).
//! - The JSON: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html>
//!   — `metrics` (required; each entry `[Namespace, MetricName, DimName, DimValue, …,
//!   {rendering options}]`, or `[{"expression": …, "label": …, "id": …}]` for metric math, whose
//!   inputs carry their `id` and `"visible": false` when the alarm does not return them),
//!   `annotations` (`horizontal`: `{value, label, fill: "above"|"below"}`; `vertical`: a value,
//!   or a band as an array of two), `start`/`end` (ISO 8601 or relative), `period`, `stat`,
//!   `title`, `width`/`height` (1–2000 px), `view`, `legend`.
//!
//! Built from the notification's `Trigger` (CloudWatch's alarm message,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>):
//! `MetricName`/`Namespace`/`Dimensions`/`Statistic` (or `ExtendedStatistic`)/`Period` for a
//! metric alarm, `Metrics[]` (`Id`, `Expression`, `Label`, `ReturnData`, `MetricStat`) for a
//! metric-math one; `Threshold` and `ComparisonOperator` for the annotation.
//!
//! The window: an ALARM shows the hour before it ([`WINDOW`]); a recovery the whole outage
//! (from the alarm history's start of it when known, a little before and after) or, not
//! knowing it, the last hour.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use crate::enrich::outage::Outage;
use crate::event::parse::{Alarm, AlarmState, is_test_alarm_name};

/// How much of the metric an ALARM shows (and a recovery whose outage is unknown).
pub const WINDOW: TimeDelta = TimeDelta::hours(1);

/// Margin before a known outage's start and after its end.
pub const MARGIN: TimeDelta = TimeDelta::minutes(10);

/// Longest window shown (CloudWatch keeps 1-minute data 15 days; a graph of weeks says little).
pub const MAX_WINDOW: TimeDelta = TimeDelta::days(3);

/// Image size in pixels: readable in a Slack thread, a few tens of KB.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 400;

/// Title limit kept well under what a 800 px wide graph shows.
const TITLE_MAX: usize = 120;

/// The time range a graph shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The outage, drawn as a vertical band (a recovery whose start is known).
    pub outage: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The moment the alarm fired, drawn as a vertical line (an ALARM).
    pub fired: Option<DateTime<Utc>>,
}

/// Whether the alert gets a graph: an ALARM, or the recovery that ends one, of an alarm with a
/// metric (not the env's test alarm: nothing publishes its metric).
pub fn wanted(alarm: &Alarm) -> bool {
    let state = alarm.new_state == AlarmState::Alarm || crate::enrich::outage::is_recovery(alarm);
    state && !is_test_alarm_name(&alarm.name)
}

/// The window for `alarm` at `now`: the hour up to its state change (or `now`); for a recovery
/// with a known outage, the outage with [`MARGIN`] either side (at most [`MAX_WINDOW`]).
pub fn window(alarm: &Alarm, outage: &Outage, now: DateTime<Utc>) -> Window {
    let at = alarm
        .state_changed_at()
        .filter(|t| *t <= now)
        .unwrap_or(now);
    // The graph ends a little after the change (its last datapoints), never in the future.
    let end = (at + TimeDelta::minutes(2)).min(now);
    match outage {
        Outage::Known(span) if alarm.new_state == AlarmState::Ok => {
            let start = (span.since - MARGIN)
                .max(end - MAX_WINDOW)
                .min(end - WINDOW);
            Window {
                start,
                end: (span.until + MARGIN).min(now).max(end),
                outage: Some((span.since, span.until)),
                fired: None,
            }
        }
        _ => Window {
            start: end - WINDOW,
            end,
            outage: None,
            fired: (alarm.new_state == AlarmState::Alarm).then_some(at),
        },
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `[Namespace, MetricName, name, value, …]` of a metric (`Dimensions` in the notification's
/// lower-case keys, or the API's).
fn metric_path(namespace: &str, name: &str, dims: Option<&Value>) -> Vec<Value> {
    let mut path = vec![json!(namespace), json!(name)];
    for d in dims.and_then(Value::as_array).into_iter().flatten() {
        let n = d
            .get("name")
            .or_else(|| d.get("Name"))
            .and_then(Value::as_str);
        let v = d
            .get("value")
            .or_else(|| d.get("Value"))
            .and_then(Value::as_str);
        if let (Some(n), Some(v)) = (n, v) {
            path.push(json!(n));
            path.push(json!(v));
        }
    }
    path
}

/// The `metrics` array of the widget from the notification's `Trigger`; `None` when it names
/// no metric.
pub fn metrics(trigger: &Value) -> Option<Vec<Value>> {
    if let Some(queries) = trigger.get("Metrics").and_then(Value::as_array) {
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            let id = str_of(q, "Id");
            let visible = q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true);
            let mut options = Map::new();
            if let Some(id) = id {
                options.insert("id".into(), json!(id));
            }
            if let Some(label) = str_of(q, "Label") {
                options.insert("label".into(), json!(label));
            }
            if !visible {
                options.insert("visible".into(), json!(false));
            }
            if let Some(expression) = str_of(q, "Expression") {
                options.insert("expression".into(), json!(expression));
                out.push(json!([options]));
            } else if let Some(stat) = q.get("MetricStat") {
                let metric = stat.get("Metric").unwrap_or(&Value::Null);
                let (Some(ns), Some(name)) =
                    (str_of(metric, "Namespace"), str_of(metric, "MetricName"))
                else {
                    continue;
                };
                if let Some(s) = str_of(stat, "Stat") {
                    options.insert("stat".into(), json!(s));
                }
                if let Some(p) = stat.get("Period").and_then(Value::as_u64) {
                    options.insert("period".into(), json!(p));
                }
                let mut path = metric_path(ns, name, metric.get("Dimensions"));
                path.push(Value::Object(options));
                out.push(Value::Array(path));
            }
        }
        return (!out.is_empty()).then_some(out);
    }
    let (ns, name) = (
        str_of(trigger, "Namespace")?,
        str_of(trigger, "MetricName")?,
    );
    let mut options = Map::new();
    if let Some(s) = str_of(trigger, "Statistic").or_else(|| str_of(trigger, "ExtendedStatistic")) {
        // The notification writes statistics in capitals ("MINIMUM"); the widget wants the API's
        // names ("Minimum"); percentiles ("p99") are left as they are.
        options.insert("stat".into(), json!(statistic_name(s)));
    }
    if let Some(p) = trigger.get("Period").and_then(Value::as_u64) {
        options.insert("period".into(), json!(p));
    }
    let mut path = metric_path(ns, name, trigger.get("Dimensions"));
    path.push(Value::Object(options));
    Some(vec![Value::Array(path)])
}

/// `MINIMUM` → `Minimum`, `SAMPLE_COUNT` → `SampleCount`; others unchanged.
fn statistic_name(s: &str) -> String {
    match s {
        "SAMPLE_COUNT" => "SampleCount".into(),
        "AVERAGE" | "SUM" | "MINIMUM" | "MAXIMUM" => {
            let lower = s.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
        other => other.to_owned(),
    }
}

/// The ALARM side of a comparison, as the annotation's `fill`; `None` for the anomaly-band
/// comparisons (no single threshold).
pub fn alarm_side(comparison: &str) -> Option<&'static str> {
    match comparison {
        "LessThanThreshold" | "LessThanOrEqualToThreshold" => Some("below"),
        "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" => Some("above"),
        _ => None,
    }
}

/// `<`, `≤`, `>`, `≥` for a comparison, in the threshold's label.
fn symbol(comparison: &str) -> &'static str {
    match comparison {
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        "GreaterThanThreshold" => ">",
        _ => ">=",
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The `MetricWidget` JSON for the alarm message `message` (the SNS `Message`, parsed) over
/// `window`; `None` when the message names no metric to draw.
pub fn widget(message: &Value, window: &Window) -> Option<Value> {
    let trigger = message.get("Trigger").filter(|t| t.is_object())?;
    let metrics = metrics(trigger)?;
    let name = str_of(message, "AlarmName").unwrap_or("alarm");
    let mut w = json!({
        "metrics": metrics,
        "title": truncate(name, TITLE_MAX),
        "view": "timeSeries",
        "stacked": false,
        "start": iso(window.start),
        "end": iso(window.end),
        "width": WIDTH,
        "height": HEIGHT,
        "legend": {"position": "bottom"},
    });
    if let Some(p) = trigger.get("Period").and_then(Value::as_u64) {
        w["period"] = json!(p);
    }
    let threshold = trigger.get("Threshold").and_then(Value::as_f64);
    let comparison = str_of(trigger, "ComparisonOperator");
    if let (Some(value), Some(cmp)) = (threshold, comparison)
        && let Some(fill) = alarm_side(cmp)
    {
        w["annotations"]["horizontal"] = json!([{
            "label": format!("ALARM {} {}", symbol(cmp), number(value)),
            "value": value,
            "fill": fill,
            "color": "#d62728",
        }]);
    }
    if let Some((since, until)) = window.outage {
        w["annotations"]["vertical"] = json!([[
            {"label": "in ALARM", "value": iso(since), "color": "#d62728"},
            {"value": iso(until)},
        ]]);
    } else if let Some(at) = window.fired {
        w["annotations"]["vertical"] =
            json!([{"label": "ALARM", "value": iso(at), "color": "#d62728"}]);
    }
    Some(w)
}

/// The image's alt text (`alt_txt`, at most 1,000 characters): what the graph shows, for a
/// screen reader.
pub fn alt_text(alarm: &Alarm, window: &Window) -> String {
    let metric = alarm.metric.as_deref().unwrap_or("the alarm's metric");
    let what = match (alarm.load_balancer_name(), alarm.target_group_name()) {
        (Some(lb), Some(tg)) => format!(" of target group {tg} behind {lb}"),
        (Some(lb), None) => format!(" of load balancer {lb}"),
        _ => String::new(),
    };
    let stat = alarm
        .statistic
        .as_deref()
        .map(|s| format!(" ({})", statistic_name(s)))
        .unwrap_or_default();
    let threshold = match (alarm.comparison.as_deref(), alarm.threshold) {
        (Some(cmp), Some(v)) if alarm_side(cmp).is_some() => format!(
            ", with the threshold line at {} and the ALARM side ({} {}) shaded",
            number(v),
            symbol(cmp),
            number(v)
        ),
        _ => String::new(),
    };
    let hm = |t: DateTime<Utc>| t.format("%H:%M").to_string();
    let span = match window.outage {
        Some((since, until)) => format!(
            "; the outage from {} to {} UTC is marked",
            hm(since),
            hm(until)
        ),
        None => match window.fired {
            Some(at) => format!("; the alarm fired at {} UTC", hm(at)),
            None => String::new(),
        },
    };
    let text = format!(
        "Graph of {metric}{stat}{what} from {} to {} UTC{threshold}{span}.",
        window.start.format("%Y-%m-%d %H:%M"),
        hm(window.end),
    );
    truncate(&text, 1000)
}

/// The file's name in Slack: the alarm's name made safe, `.png`.
pub fn filename(alarm: &Alarm) -> String {
    let safe: String = alarm
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    format!("{safe}.png")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::outage::Span;
    use crate::event::parse::parse_alarm;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn plain(state: &str, old: &str) -> Value {
        json!({
            "AlarmName": "elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:elb-watch/prod/web-alb/web-tg/HealthyHostCount",
            "NewStateValue": state,
            "OldStateValue": old,
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "Trigger": {
                "MetricName": "HealthyHostCount",
                "Namespace": "AWS/ApplicationELB",
                "StatisticType": "Statistic",
                "Statistic": "MINIMUM",
                "Unit": null,
                "Dimensions": [
                    {"value": "targetgroup/web-tg/6d0ecf831eec9f09", "name": "TargetGroup"},
                    {"value": "app/web-alb/50dc6c495c0c9188", "name": "LoadBalancer"}
                ],
                "Period": 60,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "ComparisonOperator": "LessThanThreshold",
                "Threshold": 1.0,
                "TreatMissingData": "breaching"
            }
        })
    }

    /// An NLB alarm summing the zones with metric math, as `up` makes it.
    fn math() -> Value {
        json!({
            "AlarmName": "elb-watch/prod/tcp-nlb/tcp-tg/HealthyHostCount",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x",
            "NewStateValue": "ALARM",
            "OldStateValue": "OK",
            "StateChangeTime": "2026-11-20T03:15:42.118+0000",
            "Trigger": {
                "Period": 60,
                "EvaluationPeriods": 3,
                "ComparisonOperator": "LessThanThreshold",
                "Threshold": 1.0,
                "Metrics": [
                    {"Expression": "m1 + m2", "Id": "e1", "Label": "healthy hosts", "ReturnData": true},
                    {"Id": "m1", "ReturnData": false, "MetricStat": {
                        "Metric": {"Namespace": "AWS/NetworkELB", "MetricName": "HealthyHostCount",
                                   "Dimensions": [{"name": "TargetGroup", "value": "targetgroup/tcp-tg/1"},
                                                  {"name": "AvailabilityZone", "value": "eu-west-1a"}]},
                        "Period": 60, "Stat": "Minimum"}},
                    {"Id": "m2", "ReturnData": false, "MetricStat": {
                        "Metric": {"Namespace": "AWS/NetworkELB", "MetricName": "HealthyHostCount",
                                   "Dimensions": [{"name": "TargetGroup", "value": "targetgroup/tcp-tg/1"},
                                                  {"name": "AvailabilityZone", "value": "eu-west-1b"}]},
                        "Period": 60, "Stat": "Minimum"}}
                ]
            }
        })
    }

    const NOW: &str = "2026-11-20T03:20:00Z";

    #[test]
    fn a_plain_alarm_draws_its_metric_threshold_and_alarm_side_over_the_last_hour() {
        let msg = plain("ALARM", "OK");
        let alarm = parse_alarm(&msg).unwrap();
        let w = window(&alarm, &Outage::NotApplicable, at(NOW));
        assert_eq!(w.end, at("2026-11-20T03:17:42.118Z"));
        assert_eq!(w.end - w.start, WINDOW);
        let widget = widget(&msg, &w).unwrap();
        assert_eq!(
            widget["metrics"],
            json!([["AWS/ApplicationELB", "HealthyHostCount",
                    "TargetGroup", "targetgroup/web-tg/6d0ecf831eec9f09",
                    "LoadBalancer", "app/web-alb/50dc6c495c0c9188",
                    {"stat": "Minimum", "period": 60}]])
        );
        let h = &widget["annotations"]["horizontal"][0];
        assert_eq!(
            (h["value"].as_f64(), h["fill"].as_str()),
            (Some(1.0), Some("below"))
        );
        assert_eq!(h["label"], "ALARM < 1");
        assert_eq!(
            widget["annotations"]["vertical"][0]["value"],
            "2026-11-20T03:15:42Z"
        );
        assert_eq!(widget["start"], "2026-11-20T02:17:42Z");
        assert_eq!(widget["end"], "2026-11-20T03:17:42Z");
        assert_eq!(
            (widget["width"].as_u64(), widget["height"].as_u64()),
            (Some(800), Some(400))
        );
        assert_eq!(
            widget["title"],
            "elb-watch/prod/web-alb/web-tg/HealthyHostCount"
        );
        // A string CloudWatch takes: JSON, well under the 100 KB payload limit.
        assert!(widget.to_string().len() < 2000);
    }

    #[test]
    fn a_metric_math_alarm_draws_its_expression_and_hides_its_inputs() {
        let msg = math();
        let alarm = parse_alarm(&msg).unwrap();
        let widget = widget(&msg, &window(&alarm, &Outage::NotApplicable, at(NOW))).unwrap();
        let m = widget["metrics"].as_array().unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            json!([{"expression": "m1 + m2", "id": "e1", "label": "healthy hosts"}])
        );
        assert_eq!(
            m[1],
            json!(["AWS/NetworkELB", "HealthyHostCount", "TargetGroup", "targetgroup/tcp-tg/1",
                   "AvailabilityZone", "eu-west-1a",
                   {"id": "m1", "visible": false, "stat": "Minimum", "period": 60}])
        );
        assert_eq!(m[2][5], "eu-west-1b");
        assert_eq!(widget["annotations"]["horizontal"][0]["fill"], "below");
        assert_eq!(widget["period"], 60);
    }

    #[test]
    fn a_recovery_shows_its_whole_outage_or_the_last_hour() {
        let msg = plain("OK", "ALARM");
        let alarm = parse_alarm(&msg).unwrap();
        let span = Span {
            since: at("2026-11-20T01:00:00Z"),
            until: at("2026-11-20T03:15:42.118Z"),
            began_with_test: false,
        };
        let w = window(&alarm, &Outage::Known(span), at(NOW));
        assert_eq!(
            w.start,
            at("2026-11-20T00:50:00Z"),
            "the outage and a margin"
        );
        assert_eq!(w.end, at(NOW), "never in the future");
        assert_eq!(w.outage, Some((span.since, span.until)));
        let widget = widget(&msg, &w).unwrap();
        let band = &widget["annotations"]["vertical"][0];
        assert_eq!(band[0]["value"], "2026-11-20T01:00:00Z");
        assert_eq!(band[1]["value"], "2026-11-20T03:15:42Z");
        assert!(alt_text(&alarm, &w).contains("outage from 01:00 to 03:15 UTC"));

        // A short outage still shows an hour; an outage of weeks is cut to MAX_WINDOW.
        let short = Span {
            since: at("2026-11-20T03:10:00Z"),
            ..span
        };
        let w = window(&alarm, &Outage::Known(short), at(NOW));
        assert_eq!(
            w.end - w.start,
            WINDOW + TimeDelta::seconds(137) + TimeDelta::milliseconds(882)
        );
        let long = Span {
            since: at("2026-10-01T00:00:00Z"),
            ..span
        };
        let w = window(&alarm, &Outage::Known(long), at(NOW));
        assert!(w.end - w.start <= MAX_WINDOW + TimeDelta::minutes(3));

        // Not knowing the outage: the last hour, no band.
        let w = window(&alarm, &Outage::Unknown, at(NOW));
        assert_eq!((w.end - w.start, w.outage, w.fired), (WINDOW, None, None));
        assert!(widget_of(&msg, &w)["annotations"].get("vertical").is_none());
    }

    fn widget_of(msg: &Value, w: &Window) -> Value {
        widget(msg, w).unwrap()
    }

    /// Webhook mode cannot upload (an image block needs a public URL): its footer links to the
    /// alarm's page in the CloudWatch console, which shows the alarm's graph.
    #[test]
    fn a_webhook_message_links_to_the_alarm_page_that_shows_its_graph() {
        let alarm = parse_alarm(&plain("ALARM", "OK")).unwrap();
        let url = crate::render::blocks::console_url(&alarm).unwrap();
        assert!(
            url.contains("/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/"),
            "{url}"
        );
        let footer = crate::render::blocks::footer(&alarm);
        assert!(
            footer.contains(&format!("<{url}|View alarm in the CloudWatch console>")),
            "{footer}"
        );
    }

    #[test]
    fn what_gets_a_graph_and_what_it_says() {
        let alarm = parse_alarm(&plain("ALARM", "OK")).unwrap();
        assert!(wanted(&alarm));
        assert!(wanted(&parse_alarm(&plain("OK", "ALARM")).unwrap()));
        assert!(!wanted(
            &parse_alarm(&plain("OK", "INSUFFICIENT_DATA")).unwrap()
        ));
        assert!(!wanted(
            &parse_alarm(&plain("INSUFFICIENT_DATA", "OK")).unwrap()
        ));
        let mut test = plain("ALARM", "OK");
        test["AlarmName"] = json!("elb-watch/prod/test");
        assert!(!wanted(&parse_alarm(&test).unwrap()));

        let w = window(&alarm, &Outage::NotApplicable, at(NOW));
        let alt = alt_text(&alarm, &w);
        assert_eq!(
            alt,
            "Graph of HealthyHostCount (Minimum) of target group web-tg behind web-alb from \
             2026-11-20 02:17 to 03:17 UTC, with the threshold line at 1 and the ALARM side \
             (< 1) shaded; the alarm fired at 03:15 UTC."
        );
        assert_eq!(
            filename(&alarm),
            "elb-watch-prod-web-alb-web-tg-HealthyHostCount.png"
        );

        // No metric: no graph.
        let mut none = plain("ALARM", "OK");
        none["Trigger"] = json!({"Threshold": 1});
        assert_eq!(widget(&none, &w), None);
        assert_eq!(alarm_side("LessThanLowerOrGreaterThanUpperThreshold"), None);
        assert_eq!(statistic_name("SAMPLE_COUNT"), "SampleCount");
        assert_eq!(statistic_name("p99"), "p99");
    }
}
