//! Rule 22 — EventBridge Scheduler runs one-time schedules, which moto (5.2.x) stores and never
//! runs.
//!
//! - One-time schedules: `at(yyyy-mm-ddThh:mm:ss)`, "EventBridge Scheduler invokes the target
//!   once, at the date and time you specify", in `ScheduleExpressionTimezone` (default UTC)
//!   (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#one-time>,
//!   <https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html>).
//!   Here the time is always read as UTC: a schedule with another `ScheduleExpressionTimezone`
//!   runs at the same wall-clock figures in UTC (counted `schedules:timezone-read-as-utc`;
//!   elb-watch writes `UTC`). A time already past runs at once. `FlexibleTimeWindow` is not
//!   modelled (elb-watch sets `OFF`); a `DISABLED` schedule does not run.
//! - A Lambda target is invoked **asynchronously** ("When you set up EventBridge Scheduler with
//!   Lambda, EventBridge Scheduler invokes your Lambda function asynchronously",
//!   <https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html>) with
//!   `Target.Input` as the payload (templated target Lambda `Invoke`,
//!   <https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html>),
//!   here through rule 9's runner (`lambda_async::invoke_event`), so the real notifier runs as
//!   for SNS deliveries. A schedule without `Input` sends `{}` (an assumption). Other targets
//!   are not run (counted `schedules:target-not-run`).
//! - The invocation is made with the schedule's execution role, which must trust
//!   `scheduler.amazonaws.com` (`sts:AssumeRole`)
//!   (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role>).
//!   The role is read from moto's IAM (GetRole) when the schedule is due; a missing role or a
//!   trust policy without that principal means Scheduler cannot assume it and the invocation
//!   fails: nothing runs, counted `schedules:role-refused` (the schedule is kept; Scheduler's
//!   retry policy and dead-letter queue are not modelled). Trust-policy conditions are not
//!   evaluated, nor the role's permission to `lambda:InvokeFunction`.
//! - `ActionAfterCompletion: DELETE`: "For one-time schedules, this occurs after the schedule
//!   has invoked its target once"
//!   (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html>):
//!   after the invocation the layer deletes the schedule in moto (DeleteSchedule), counted
//!   `schedules:deleted-after`. The value is the one of the last CreateSchedule or
//!   UpdateSchedule (UpdateSchedule replaces every setting; moto keeps the CreateSchedule's).
//! - Recurring schedules (`cron(…)`, `rate(…)`) are stored by moto and not run here (counted
//!   `schedules:recurring-not-run`).
//!
//! When due, a schedule runs only if no later CreateSchedule, UpdateSchedule or DeleteSchedule
//! of it went through the layer (a generation counter, else `schedules:superseded`) and moto
//! still holds it with the same expression (GetSchedule, else `schedules:gone` /
//! `schedules:superseded`), so a schedule deleted or changed meanwhile does not fire.
//! Counts `schedules:fired` (invoked), `schedules:no-runner` (no runner registered or no
//! function).

use super::lambda_async::{self, headers_for};
use super::protocol::{self, Call};
use super::{Shared, StrictProxy};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Per schedule (region, group, name): how many writes went through the layer; and how many
/// one-time schedules wait for their time.
#[derive(Default)]
pub(crate) struct Schedules {
    generations: HashMap<(String, String, String), u64>,
    pending: usize,
}

impl Schedules {
    fn bump(&mut self, key: &(String, String, String)) -> u64 {
        let g = self.generations.entry(key.clone()).or_default();
        *g += 1;
        *g
    }

    fn current(&self, key: &(String, String, String)) -> u64 {
        self.generations.get(key).copied().unwrap_or(0)
    }
}

impl StrictProxy {
    /// One-time schedules accepted through the layer whose time has not come (or which are
    /// being run).
    pub fn pending_schedules(&self) -> usize {
        self.shared.lock().schedules.pending
    }
}

/// What a schedule expression asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// `at(…)`: once, at these epoch milliseconds (the figures read as UTC).
    At(i64),
    /// `cron(…)` or `rate(…)`.
    Recurring,
    /// Anything else.
    Invalid,
}

/// Parse `at(yyyy-mm-ddThh:mm:ss)` (UTC), `cron(…)`, `rate(…)`.
pub fn parse_expression(expr: &str) -> Expression {
    let expr = expr.trim();
    if (expr.starts_with("cron(") || expr.starts_with("rate(")) && expr.ends_with(')') {
        return Expression::Recurring;
    }
    expr.strip_prefix("at(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(at_epoch_ms)
        .map_or(Expression::Invalid, Expression::At)
}

/// `yyyy-mm-ddThh:mm:ss` as epoch milliseconds, the figures read as UTC.
pub fn at_epoch_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // Days from civil (proleptic Gregorian), as `lambda_async::chrono_like` inverts it.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + h * 3600 + mi * 60 + sec) * 1000)
}

/// What the layer keeps of a CreateSchedule / UpdateSchedule request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleWrite {
    pub name: String,
    pub group: String,
    pub expression: String,
    pub timezone: String,
    pub delete_after: bool,
}

/// The schedule a CreateSchedule / UpdateSchedule call writes (`None` for other calls).
pub fn schedule_write(call: &Call) -> Option<ScheduleWrite> {
    if call.service != "scheduler"
        || !matches!(call.operation.as_str(), "CreateSchedule" | "UpdateSchedule")
    {
        return None;
    }
    Some(ScheduleWrite {
        name: call.resource.clone()?,
        group: call
            .json_str("GroupName")
            .filter(|g| !g.is_empty())
            .unwrap_or("default")
            .to_string(),
        expression: call.json_str("ScheduleExpression")?.to_string(),
        timezone: call
            .json_str("ScheduleExpressionTimezone")
            .unwrap_or("UTC")
            .to_string(),
        delete_after: call.json_str("ActionAfterCompletion") == Some("DELETE"),
    })
}

/// A trust policy statement lets `scheduler.amazonaws.com` assume the role.
pub fn trusts_scheduler(policy: &Value) -> bool {
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let has = |v: &Value, want: &[&str]| match v {
        Value::String(s) => want.contains(&s.as_str()),
        Value::Array(a) => a
            .iter()
            .any(|x| x.as_str().is_some_and(|s| want.contains(&s))),
        _ => false,
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && has(&s["Principal"]["Service"], &["scheduler.amazonaws.com"])
            && has(&s["Action"], &["sts:AssumeRole", "sts:*", "*"])
    })
}

/// The payload Scheduler sends a Lambda target: `Input` as JSON (a string when it is not).
pub fn payload(input: Option<&str>) -> Value {
    match input {
        None => json!({}),
        Some(i) => serde_json::from_str(i).unwrap_or_else(|_| Value::String(i.to_string())),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// After moto accepted a scheduler call through the layer: start the timer of a one-time
/// schedule; a later write of the same schedule supersedes it.
pub(crate) fn after_write(shared: &Arc<Shared>, call: &Call, headers: &HeaderMap, ok: bool) {
    if !ok || !shared.config.scheduler_runs || call.service != "scheduler" {
        return;
    }
    if call.operation == "DeleteSchedule" {
        if let Some(name) = &call.resource {
            let group = call.param("groupName").unwrap_or("default").to_string();
            let key = (call.region.clone(), group, name.clone());
            shared.lock().schedules.bump(&key);
        }
        return;
    }
    let Some(write) = schedule_write(call) else {
        return;
    };
    let key = (call.region.clone(), write.group.clone(), write.name.clone());
    let mut inner = shared.lock();
    let generation = inner.schedules.bump(&key);
    let at = match parse_expression(&write.expression) {
        Expression::At(ms) => ms,
        Expression::Recurring => {
            inner.count("schedules", "recurring-not-run");
            return;
        }
        Expression::Invalid => {
            inner.count("schedules", "invalid-expression");
            return;
        }
    };
    if write.timezone != "UTC" {
        inner.count("schedules", "timezone-read-as-utc");
    }
    inner.schedules.pending += 1;
    drop(inner);
    let shared = Arc::clone(shared);
    let headers = headers.clone();
    tokio::spawn(async move {
        let wait = (at - now_ms()).max(0) as u64;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let outcome = fire(&shared, &headers, &key, generation, &write).await;
        let mut inner = shared.lock();
        inner.schedules.pending = inner.schedules.pending.saturating_sub(1);
        inner.count("schedules", outcome);
    });
}

/// A REST call to moto's scheduler with the caller's credentials (scope `scheduler`).
async fn moto_scheduler(
    shared: &Shared,
    headers: &HeaderMap,
    method: reqwest::Method,
    path: &str,
) -> Option<(bool, Value)> {
    let headers = headers_for(headers, "scheduler");
    let mut req = shared
        .client
        .request(method, format!("{}{path}", shared.upstream));
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let resp = req.send().await.ok()?;
    let ok = resp.status().is_success();
    let body = resp.bytes().await.unwrap_or_default();
    Some((ok, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// Whether the role `arn` exists in moto and trusts `scheduler.amazonaws.com`.
async fn role_trusts_scheduler(shared: &Shared, headers: &HeaderMap, arn: &str) -> bool {
    let Some(name) = arn.rsplit('/').next().filter(|n| !n.is_empty()) else {
        return false;
    };
    let iam = headers_for(headers, "iam");
    let Some(doc) = super::alarms::moto_query(
        shared,
        &iam,
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name),
        ],
    )
    .await
    else {
        return false;
    };
    let Some(encoded) = protocol::xml_text(&doc, "AssumeRolePolicyDocument") else {
        return false;
    };
    let text = percent_encoding::percent_decode_str(&encoded).decode_utf8_lossy();
    serde_json::from_str(&text).is_ok_and(|p: Value| trusts_scheduler(&p))
}

/// Run a due schedule; the stat it ends with.
async fn fire(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    key: &(String, String, String),
    generation: u64,
    write: &ScheduleWrite,
) -> &'static str {
    if shared.lock().schedules.current(key) != generation {
        return "superseded";
    }
    let (group, name) = (&write.group, &write.name);
    let path = format!("/schedules/{name}?groupName={group}");
    let Some((true, got)) = moto_scheduler(shared, headers, reqwest::Method::GET, &path).await
    else {
        return "gone";
    };
    if got["ScheduleExpression"].as_str() != Some(write.expression.as_str()) {
        return "superseded";
    }
    if got["State"] == "DISABLED" {
        return "disabled-not-run";
    }
    let target = &got["Target"];
    let arn = target["Arn"].as_str().unwrap_or_default();
    if arn.split(':').nth(2) != Some("lambda") || !arn.contains(":function:") {
        return "target-not-run";
    }
    let role = target["RoleArn"].as_str().unwrap_or_default();
    if !role_trusts_scheduler(shared, headers, role).await {
        return "role-refused";
    }
    let function = protocol::function_name(arn);
    let input = payload(target["Input"].as_str());
    if !lambda_async::invoke_event(shared, headers, &function, input).await {
        return "no-runner";
    }
    if write.delete_after {
        // Counted here; `fired` is counted by the caller.
        let deleted = matches!(
            moto_scheduler(shared, headers, reqwest::Method::DELETE, &path).await,
            Some((true, _))
        );
        let mut inner = shared.lock();
        if deleted {
            inner.schedules.bump(key);
            inner.count("schedules", "deleted-after");
        } else {
            inner.count("schedules", "delete-after-failed");
        }
    }
    "fired"
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{Method, Uri};

    #[test]
    fn at_times_are_epoch_milliseconds_in_utc() {
        assert_eq!(at_epoch_ms("1970-01-01T00:00:00"), Some(0));
        assert_eq!(at_epoch_ms("2026-11-18T11:06:40"), Some(1_795_000_000_000));
        let ms = at_epoch_ms("2026-12-03T18:05:00").unwrap();
        assert_eq!(lambda_async::chrono_like(ms), "2026-12-03T18:05:00.000Z");
        assert_eq!(
            lambda_async::chrono_like(at_epoch_ms("2028-02-29T23:59:59").unwrap()),
            "2028-02-29T23:59:59.000Z"
        );
        for bad in [
            "2026-02-29T00:00:00",
            "2026-13-01T00:00:00",
            "2026-12-03T24:00:00",
            "2026-12-03 18:05:00",
            "2026-12-03T18:05",
            "2026-12-03T18:05:00Z",
            "+026-12-03T18:05:00",
        ] {
            assert_eq!(at_epoch_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn expressions_are_told_apart() {
        assert_eq!(
            parse_expression("at(2026-12-03T18:05:00)"),
            Expression::At(at_epoch_ms("2026-12-03T18:05:00").unwrap())
        );
        assert_eq!(parse_expression("rate(5 minutes)"), Expression::Recurring);
        assert_eq!(
            parse_expression("cron(0 12 * * ? *)"),
            Expression::Recurring
        );
        assert_eq!(parse_expression("at(tomorrow)"), Expression::Invalid);
    }

    fn call(method: Method, uri: &str, body: &str) -> Call {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261203/eu-west-1/scheduler/aws4_request, \
             SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let uri: Uri = uri.parse().unwrap();
        protocol::parse(&method, &uri, &h, &Bytes::from(body.to_string()))
    }

    #[test]
    fn a_create_schedule_body_is_read() {
        let body = r#"{"GroupName":"elb-watch-prod","ScheduleExpression":"at(2026-12-03T18:05:00)","ScheduleExpressionTimezone":"UTC","FlexibleTimeWindow":{"Mode":"OFF"},"Target":{"Arn":"arn:aws:lambda:eu-west-1:123456789012:function:elb-watch-prod-notifier","RoleArn":"arn:aws:iam::123456789012:role/elb-watch/elb-watch-prod-scheduler","Input":"{\"unmute\":\"x\"}"},"ActionAfterCompletion":"DELETE","State":"ENABLED"}"#;
        let c = call(Method::POST, "/schedules/elb-watch-prod-unmute-x", body);
        assert_eq!(c.region, "eu-west-1");
        let w = schedule_write(&c).unwrap();
        assert_eq!(
            w,
            ScheduleWrite {
                name: "elb-watch-prod-unmute-x".into(),
                group: "elb-watch-prod".into(),
                expression: "at(2026-12-03T18:05:00)".into(),
                timezone: "UTC".into(),
                delete_after: true,
            }
        );
        assert_eq!(
            payload(c.json["Target"]["Input"].as_str()),
            json!({"unmute": "x"})
        );
        let u = call(
            Method::PUT,
            "/schedules/s",
            r#"{"ScheduleExpression":"rate(1 hour)"}"#,
        );
        let w = schedule_write(&u).unwrap();
        assert_eq!((w.group.as_str(), w.delete_after), ("default", false));
        assert!(schedule_write(&call(Method::GET, "/schedules/s?groupName=g", "")).is_none());
    }

    #[test]
    fn only_a_trust_in_scheduler_lets_it_assume_the_role() {
        let trust = |service: Value| {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
        };
        assert!(trusts_scheduler(&trust(json!("scheduler.amazonaws.com"))));
        assert!(trusts_scheduler(&trust(json!([
            "lambda.amazonaws.com",
            "scheduler.amazonaws.com"
        ]))));
        assert!(!trusts_scheduler(&trust(json!("lambda.amazonaws.com"))));
        assert!(!trusts_scheduler(&Value::Null));
        let denied = json!({"Statement": {"Effect": "Deny",
            "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        assert!(!trusts_scheduler(&denied));
    }

    #[test]
    fn input_that_is_not_json_is_sent_as_a_string() {
        assert_eq!(payload(None), json!({}));
        assert_eq!(payload(Some("hello")), json!("hello"));
    }
}
