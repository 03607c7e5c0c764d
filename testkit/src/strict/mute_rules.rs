//! Rule 21 — alarm mute rules: PutAlarmMuteRule, GetAlarmMuteRule, ListAlarmMuteRules,
//! DeleteAlarmMuteRule and a rule's tags are answered by the layer, and an alarm an ACTIVE rule
//! targets runs no actions. moto (5.2.5) has none of these operations.
//!
//! AWS:
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutAlarmMuteRule.html>:
//!   creates or updates (a name that exists is updated); up to 100 alarms by name; its only
//!   documented error is `LimitExceeded` (`LimitExceededFault`, a quota AWS does not publish for
//!   mute rules: not modelled). Constraint violations answer the common errors
//!   (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html>):
//!   `MissingParameter` for a required member left out, `ValidationError` for a length or
//!   array-size constraint (`Name` 1–255, `Description` ≤ 1024, `Expression` 1–256, `Duration`
//!   1–50, `Timezone` 1–50, `MuteTargets.AlarmNames` ≤ 100 names of 1–255), and
//!   `InvalidParameterValue` for an expression or duration of the wrong form, a duration outside
//!   `PT1M`..`P15D`, an `ExpireDate` not after `StartDate`, and invalid tags (rule 1's check,
//!   CloudWatch's codes; more than 50 tags is `LimitExceeded`).
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Schedule.html>:
//!   `Expression` is `at(yyyy-MM-ddThh:mm)` (one time, `MuteType` `ONE_TIME`) or
//!   `cron(Minutes Hours Day-of-month Month Day-of-week)` (recurring, `RECURRING`); `*`, `-` and
//!   `,` in every field, `JAN`–`DEC` and `SUN`–`SAT`; `Duration` ISO 8601, `PT1M` to `P15D`, each
//!   occurrence muted for that long from its start.
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MuteTargets.html>.
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetAlarmMuteRule.html>:
//!   every member, `Status` `SCHEDULED` / `ACTIVE` / `EXPIRED`; an unknown name is
//!   `ResourceNotFoundException` (HTTP 404).
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListAlarmMuteRules.html>:
//!   filters `AlarmName` (rules targeting it) and `Statuses`, `MaxRecords` 1–100 (default 50),
//!   `NextToken` (a bad one is `InvalidNextToken`); items are
//!   [`AlarmMuteRuleSummary`](https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmMuteRuleSummary.html)
//!   (ARN, `ExpireDate`, `LastUpdatedTimestamp`, `MuteType`, `Status`: no name).
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarmMuteRule.html>:
//!   idempotent, "If you delete a mute rule that does not exist, the operation succeeds without
//!   returning an error"; the rule's alarms are unmuted at once.
//! - <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-mute-rules.html>: a
//!   muted alarm keeps evaluating and changing state; only its actions are muted.
//!
//! As rule 11 does, each call is still sent to moto first, so that moto's IAM enforcement
//! decides who may make it (a refusal comes back as rule 10's `AccessDenied`); the answer is
//! then the layer's, in JSON 1.0 (what the CBOR bridge hands the layer and turns back into
//! CBOR; timestamps are epoch seconds). ListTagsForResource, TagResource and UntagResource of an
//! `:alarm-mute-rule:` ARN are answered from the layer's store the same way (moto knows no such
//! resource; the Tagging API does not see these tags). The ARN is
//! `arn:aws:cloudwatch:REGION:ACCOUNT:alarm-mute-rule:NAME`, the account read from moto's STS
//! GetCallerIdentity with the caller's credentials (moto maps access keys to accounts), or
//! [`crate::emulator::ACCOUNT_ID`] when that read fails.
//!
//! Evaluation: `at(T)` is SCHEDULED before T, ACTIVE in [T, T + Duration), EXPIRED after;
//! `cron(…)` is ACTIVE while some occurrence t has t ≤ now < t + Duration, else SCHEDULED; a
//! `StartDate` in the future is SCHEDULED, an `ExpireDate` passed is EXPIRED. Day-of-week is
//! 0–7 (0 and 7 Sunday, as in classic cron); `?` reads as `*`; when both day-of-month and
//! day-of-week are restricted a day matching either matches (classic cron). **Time zones are
//! not modelled**: there is no time zone database here, so `Timezone` is stored and answered but
//! every expression, `StartDate` and `ExpireDate` is evaluated in UTC whatever it says.
//! Assumed, not documented: an update leaves the rule's tags as they were and ignores the
//! `Tags` it carries (PutMetricAlarm's documented behaviour for an existing alarm); target alarm
//! names are not checked against existing alarms.
//!
//! The effect ([`is_muted`], called by `evaluation::run_actions`): while a rule targeting an
//! alarm is ACTIVE, a state change of that alarm runs no actions (counted
//! `alarm-actions:muted`); the state still changes. Counts `mute-rules:<Operation>`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::history::{epoch_ms, now_ms};
use super::protocol::{self, Call, Protocol};
use super::{Inner, Shared, StrictConfig, StrictProxy, denied, forward, tags};

/// AWS's bounds of `Duration`: `PT1M` and `P15D`.
pub const MIN_DURATION_MS: i64 = 60_000;
pub const MAX_DURATION_MS: i64 = 15 * 86_400_000;
/// `MuteTargets.AlarmNames` holds at most this many names.
pub const MAX_ALARM_NAMES: usize = 100;

const TOKEN_PREFIX: &str = "strict-mute-rules-";

/// A rule's status at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Active,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "SCHEDULED",
            Status::Active => "ACTIVE",
            Status::Expired => "EXPIRED",
        }
    }
}

/// A parsed `cron(m h dom mon dow)`: one bit per allowed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day-of-month / day-of-week written as `*` or `?`.
    any_day: bool,
    any_weekday: bool,
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `at(…)`: epoch milliseconds (UTC).
    At(i64),
    Cron(Cron),
}

impl Schedule {
    pub fn mute_type(&self) -> &'static str {
        match self {
            Schedule::At(_) => "ONE_TIME",
            Schedule::Cron(_) => "RECURRING",
        }
    }
}

/// One stored mute rule.
#[derive(Debug, Clone)]
pub(crate) struct MuteRule {
    name: String,
    arn: String,
    description: Option<String>,
    expression: String,
    duration: String,
    timezone: Option<String>,
    schedule: Schedule,
    duration_ms: i64,
    alarm_names: Option<Vec<String>>,
    tags: Vec<(String, String)>,
    start_ms: Option<i64>,
    expire_ms: Option<i64>,
    updated_ms: i64,
}

impl MuteRule {
    fn status(&self, now_ms: i64) -> Status {
        status(
            &self.schedule,
            self.duration_ms,
            self.start_ms,
            self.expire_ms,
            now_ms,
        )
    }

    fn targets(&self, alarm: &str) -> bool {
        self.alarm_names.iter().flatten().any(|a| a == alarm)
    }
}

/// Every mute rule, by (region, name).
#[derive(Default)]
pub(crate) struct Rules {
    by_name: BTreeMap<(String, String), MuteRule>,
}

/// Whether an ACTIVE mute rule of `region` targets `alarm` at `now_ms`: its actions must not
/// run (the alarm still evaluates and changes state).
pub(crate) fn is_muted(inner: &Inner, region: &str, alarm: &str, now_ms: i64) -> bool {
    inner.mute_rules.by_name.iter().any(|((r, _), rule)| {
        r == region && rule.targets(alarm) && rule.status(now_ms) == Status::Active
    })
}

impl StrictProxy {
    /// Every mute rule the layer holds, as (name, targeted alarm names, status now), ordered by
    /// region and name.
    pub fn mute_rules(&self) -> Vec<(String, Vec<String>, String)> {
        let inner = self.shared.lock();
        let now = now_ms();
        inner
            .mute_rules
            .by_name
            .values()
            .map(|r| {
                (
                    r.name.clone(),
                    r.alarm_names.clone().unwrap_or_default(),
                    r.status(now).as_str().to_string(),
                )
            })
            .collect()
    }
}

/// The status of a schedule at `now_ms` (see the module comment; UTC throughout).
pub fn status(
    schedule: &Schedule,
    duration_ms: i64,
    start_ms: Option<i64>,
    expire_ms: Option<i64>,
    now_ms: i64,
) -> Status {
    if expire_ms.is_some_and(|e| e <= now_ms) {
        return Status::Expired;
    }
    if start_ms.is_some_and(|s| s > now_ms) {
        return Status::Scheduled;
    }
    match schedule {
        Schedule::At(t) if now_ms < *t => Status::Scheduled,
        Schedule::At(t) if now_ms < t + duration_ms => Status::Active,
        Schedule::At(_) => Status::Expired,
        Schedule::Cron(cron) => {
            // Occurrences fall on whole minutes: walk back over the duration.
            let mut t = now_ms.div_euclid(60_000) * 60_000;
            while t + duration_ms > now_ms {
                if cron.matches(t) {
                    return Status::Active;
                }
                t -= 60_000;
            }
            Status::Scheduled
        }
    }
}

/// (year, month 1–12, day 1–31, hour, minute, weekday 0–6 with 0 Sunday) of epoch ms, UTC.
fn civil(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
    (
        y,
        m as u32,
        d as u32,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        weekday as u32,
    )
}

impl Cron {
    /// Whether the minute starting at `ms` (UTC) is an occurrence.
    pub fn matches(&self, ms: i64) -> bool {
        let (_, month, day, hour, minute, weekday) = civil(ms);
        let bit = |mask: u64, v: u32| mask & (1 << v) != 0;
        if !bit(self.minutes, minute) || !bit(self.hours, hour) || !bit(self.months, month) {
            return false;
        }
        let (d, w) = (bit(self.days, day), bit(self.weekdays, weekday));
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => w,
            (false, true) => d,
            (false, false) => d || w,
        }
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One cron field: (mask, written as `*`/`?`). `names[i]` stands for `base + i`.
fn cron_field(
    text: &str,
    what: &str,
    (min, max): (u32, u32),
    names: &[&str],
    base: u32,
) -> Result<(u64, bool), String> {
    let value = |s: &str| -> Result<u32, String> {
        let upper = s.to_ascii_uppercase();
        let v = match names.iter().position(|n| *n == upper) {
            Some(i) => i as u32 + base,
            None => s
                .parse::<u32>()
                .map_err(|_| format!("'{s}' is not a valid {what} value"))?,
        };
        if v < min || v > max {
            return Err(format!("{what} value {v} is outside {min}-{max}"));
        }
        Ok(v)
    };
    let any = text == "*" || text == "?";
    let mut mask = 0u64;
    for item in text.split(',') {
        let (from, to) = match item {
            "*" | "?" => (min, max),
            _ => match item.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(item)?;
                    (v, v)
                }
            },
        };
        if from > to {
            return Err(format!("{what} range {item} runs backwards"));
        }
        for v in from..=to {
            mask |= 1 << v;
        }
    }
    Ok((mask, any))
}

/// `at(yyyy-MM-ddThh:mm)` or `cron(m h dom mon dow)`; the reason when it is neither.
pub fn parse_expression(expression: &str) -> Result<Schedule, String> {
    if let Some(at) = expression
        .strip_prefix("at(")
        .and_then(|e| e.strip_suffix(')'))
    {
        return parse_at(at)
            .map(Schedule::At)
            .ok_or_else(|| format!("'{at}' is not a date and time of the form yyyy-MM-ddThh:mm"));
    }
    let Some(cron) = expression
        .strip_prefix("cron(")
        .and_then(|e| e.strip_suffix(')'))
    else {
        return Err(
            "the expression must be at(yyyy-MM-ddThh:mm) or cron(Minutes Hours \
                    Day-of-month Month Day-of-week)"
                .into(),
        );
    };
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [m, h, dom, mon, dow] = fields[..] else {
        return Err(format!(
            "a cron expression has 5 fields (Minutes Hours Day-of-month Month Day-of-week), \
             not {}",
            fields.len()
        ));
    };
    let (minutes, _) = cron_field(m, "minute", (0, 59), &[], 0)?;
    let (hours, _) = cron_field(h, "hour", (0, 23), &[], 0)?;
    let (days, any_day) = cron_field(dom, "day-of-month", (1, 31), &[], 0)?;
    let (months, _) = cron_field(mon, "month", (1, 12), &MONTHS, 1)?;
    let (mut weekdays, any_weekday) = cron_field(dow, "day-of-week", (0, 7), &WEEKDAYS, 0)?;
    if weekdays & (1 << 7) != 0 {
        weekdays = (weekdays & !(1 << 7)) | 1;
    }
    Ok(Schedule::Cron(Cron {
        minutes,
        hours,
        days,
        months,
        weekdays,
        any_day,
        any_weekday,
    }))
}

/// `yyyy-MM-ddThh:mm` as epoch milliseconds (UTC), checked field by field (Scheduler's
/// `at()` reader, with the seconds CloudWatch's form has not).
fn parse_at(s: &str) -> Option<i64> {
    if s.len() != 16 {
        return None;
    }
    super::schedules::at_epoch_ms(&format!("{s}:00"))
}

/// An ISO 8601 duration `P[nW][nD][T[nH][nM][nS]]` as milliseconds (years and months have no
/// fixed length and are refused).
pub fn parse_duration(s: &str) -> Option<i64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }
    let part = |text: &str, units: &[(char, i64)]| -> Option<i64> {
        let mut total = 0i64;
        let mut number = String::new();
        let mut next_unit = 0;
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let i = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            if number.is_empty() || number.len() > 12 {
                return None;
            }
            total = total.checked_add(number.parse::<i64>().ok()?.checked_mul(units[i].1)?)?;
            number.clear();
            next_unit = i + 1;
        }
        number.is_empty().then_some(total)
    };
    let days = part(date, &[('W', 7 * 86_400_000), ('D', 86_400_000)])?;
    let time = match time {
        Some(t) => part(t, &[('H', 3_600_000), ('M', 60_000), ('S', 1000)])?,
        None => 0,
    };
    days.checked_add(time)
}

/// A refusal in CloudWatch's terms.
#[derive(Debug, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    let status = if code == "ResourceNotFoundException" {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

/// A length constraint on a string member, as AWS's validation words it.
fn length(value: &str, member: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let n = value.chars().count();
    if n < min || n > max {
        let bound = if n < min {
            format!("greater than or equal to {min}")
        } else {
            format!("less than or equal to {max}")
        };
        return Err(refuse(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
                 constraint: Member must have length {bound}"
            ),
        ));
    }
    Ok(())
}

fn required<'a>(v: &'a Value, member: &str) -> Result<&'a str, Refusal> {
    v.as_str().ok_or_else(|| {
        refuse(
            "MissingParameter",
            format!("The request must contain the parameter {member}."),
        )
    })
}

/// A timestamp member: epoch seconds (number or digits, what the bridge sends) or ISO 8601 UTC.
fn timestamp(v: &Value) -> Option<i64> {
    if let Some(secs) = v.as_f64() {
        return Some((secs * 1000.0).round() as i64);
    }
    let s = v.as_str()?;
    s.parse::<f64>()
        .ok()
        .map(|secs| (secs * 1000.0).round() as i64)
        .or_else(|| epoch_ms(s))
}

fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// The tags of a request's `Tags` list, checked as rule 1 checks them (when it is on).
fn checked_tags(c: &StrictConfig, v: &Value) -> Result<Vec<(String, String)>, Refusal> {
    let tags: Vec<(String, String)> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    if c.tags {
        if tags.len() > tags::MAX_TAGS {
            return Err(refuse(
                "LimitExceeded",
                format!(
                    "{} tags exceed the limit of {} tags per resource",
                    tags.len(),
                    tags::MAX_TAGS
                ),
            ));
        }
        if let Some(p) = tags.iter().find_map(|(k, v)| tags::problem(k, v)) {
            return Err(refuse(
                "InvalidParameterValue",
                format!("1 validation error detected: {p}"),
            ));
        }
    }
    Ok(tags)
}

/// PutAlarmMuteRule: the rule to store, or why not (before the ARN and the store are known).
fn validate_put(c: &StrictConfig, input: &Value) -> Result<MuteRule, Refusal> {
    let name = required(&input["Name"], "Name")?;
    length(name, "name", 1, 255)?;
    let description = input["Description"].as_str().map(str::to_string);
    if let Some(d) = &description {
        length(d, "description", 0, 1024)?;
    }
    let schedule = &input["Rule"]["Schedule"];
    let expression = required(&schedule["Expression"], "Rule.Schedule.Expression")?;
    length(expression, "rule.schedule.expression", 1, 256)?;
    let duration = required(&schedule["Duration"], "Rule.Schedule.Duration")?;
    length(duration, "rule.schedule.duration", 1, 50)?;
    let timezone = schedule["Timezone"].as_str().map(str::to_string);
    if let Some(tz) = &timezone {
        length(tz, "rule.schedule.timezone", 1, 50)?;
    }
    let parsed = parse_expression(expression).map_err(|why| {
        refuse(
            "InvalidParameterValue",
            format!("Invalid schedule expression '{expression}': {why}."),
        )
    })?;
    let duration_ms = parse_duration(duration).ok_or_else(|| {
        refuse(
            "InvalidParameterValue",
            format!("Invalid duration '{duration}': use an ISO 8601 duration such as PT4H."),
        )
    })?;
    if !(MIN_DURATION_MS..=MAX_DURATION_MS).contains(&duration_ms) {
        return Err(refuse(
            "InvalidParameterValue",
            format!("The duration '{duration}' must be between PT1M and P15D."),
        ));
    }
    let alarm_names = match input["MuteTargets"].get("AlarmNames") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let names: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            if names.len() > MAX_ALARM_NAMES {
                return Err(refuse(
                    "ValidationError",
                    format!(
                        "1 validation error detected: Value at 'muteTargets.alarmNames' failed \
                         to satisfy constraint: Member must have length less than or equal to \
                         {MAX_ALARM_NAMES}"
                    ),
                ));
            }
            for n in &names {
                length(n, "muteTargets.alarmNames.member", 1, 255)?;
            }
            Some(names)
        }
    };
    let tags = checked_tags(c, &input["Tags"])?;
    let start_ms = timestamp(&input["StartDate"]);
    let expire_ms = timestamp(&input["ExpireDate"]);
    if let (Some(s), Some(e)) = (start_ms, expire_ms)
        && e <= s
    {
        return Err(refuse(
            "InvalidParameterValue",
            "The ExpireDate must be after the StartDate.",
        ));
    }
    Ok(MuteRule {
        name: name.to_string(),
        arn: String::new(),
        description,
        expression: expression.to_string(),
        duration: duration.to_string(),
        timezone,
        schedule: parsed,
        duration_ms,
        alarm_names,
        tags,
        start_ms,
        expire_ms,
        updated_ms: 0,
    })
}

fn put(
    rules: &mut Rules,
    c: &StrictConfig,
    call: &Call,
    account: &str,
    now: i64,
) -> Result<Value, Refusal> {
    let mut rule = validate_put(c, &call.json)?;
    let key = (call.region.clone(), rule.name.clone());
    rule.updated_ms = now;
    match rules.by_name.get(&key) {
        Some(old) => {
            rule.arn = old.arn.clone();
            rule.tags = old.tags.clone();
        }
        None => {
            rule.arn = format!(
                "arn:aws:cloudwatch:{}:{account}:alarm-mute-rule:{}",
                call.region, rule.name
            );
        }
    }
    rules.by_name.insert(key, rule);
    Ok(json!({}))
}

fn rule_name(call: &Call) -> Result<&str, Refusal> {
    let name = required(&call.json["AlarmMuteRuleName"], "AlarmMuteRuleName")?;
    length(name, "alarmMuteRuleName", 1, 255)?;
    Ok(name)
}

fn not_found(what: &str) -> Refusal {
    refuse(
        "ResourceNotFoundException",
        format!("The alarm mute rule {what} does not exist."),
    )
}

fn get(rules: &Rules, call: &Call, now: i64) -> Result<Value, Refusal> {
    let name = rule_name(call)?;
    let rule = rules
        .by_name
        .get(&(call.region.clone(), name.to_string()))
        .ok_or_else(|| not_found(name))?;
    let mut schedule = json!({"Expression": rule.expression, "Duration": rule.duration});
    if let Some(tz) = &rule.timezone {
        schedule["Timezone"] = json!(tz);
    }
    let mut out = json!({
        "Name": rule.name,
        "AlarmMuteRuleArn": rule.arn,
        "Rule": {"Schedule": schedule},
        "Status": rule.status(now).as_str(),
        "MuteType": rule.schedule.mute_type(),
        "LastUpdatedTimestamp": seconds(rule.updated_ms),
    });
    if let Some(d) = &rule.description {
        out["Description"] = json!(d);
    }
    if let Some(names) = &rule.alarm_names {
        out["MuteTargets"] = json!({"AlarmNames": names});
    }
    if let Some(s) = rule.start_ms {
        out["StartDate"] = seconds(s);
    }
    if let Some(e) = rule.expire_ms {
        out["ExpireDate"] = seconds(e);
    }
    Ok(out)
}

fn list(rules: &Rules, c: &StrictConfig, call: &Call, now: i64) -> Result<Value, Refusal> {
    let input = &call.json;
    let alarm = input["AlarmName"].as_str();
    let statuses: Option<Vec<&str>> = input["Statuses"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let max = match input.get("MaxRecords").and_then(Value::as_i64) {
        None => 50,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(refuse(
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy \
                     constraint: Member must have value between 1 and 100"
                ),
            ));
        }
    };
    let size = if c.page_size > 0 {
        max.min(c.page_size)
    } else {
        max
    };
    let items: Vec<Value> = rules
        .by_name
        .iter()
        .filter(|((r, _), _)| *r == call.region)
        .map(|(_, rule)| (rule, rule.status(now)))
        .filter(|(rule, _)| alarm.is_none_or(|a| rule.targets(a)))
        .filter(|(_, s)| statuses.as_ref().is_none_or(|l| l.contains(&s.as_str())))
        .map(|(rule, s)| {
            let mut item = json!({
                "AlarmMuteRuleArn": rule.arn,
                "Status": s.as_str(),
                "MuteType": rule.schedule.mute_type(),
                "LastUpdatedTimestamp": seconds(rule.updated_ms),
            });
            if let Some(e) = rule.expire_ms {
                item["ExpireDate"] = seconds(e);
            }
            item
        })
        .collect();
    let from = match input["NextToken"].as_str() {
        None => 0,
        Some(t) => t
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                refuse(
                    "InvalidNextToken",
                    format!("The next token {t} is invalid."),
                )
            })?,
    };
    let to = (from + size).min(items.len());
    let mut out = json!({"AlarmMuteRuleSummaries": items[from..to]});
    if to < items.len() {
        out["NextToken"] = json!(format!("{TOKEN_PREFIX}{to}"));
    }
    Ok(out)
}

fn delete(rules: &mut Rules, call: &Call) -> Result<Value, Refusal> {
    let name = rule_name(call)?;
    rules
        .by_name
        .remove(&(call.region.clone(), name.to_string()));
    Ok(json!({}))
}

fn is_rule_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":alarm-mute-rule:")
}

/// ListTagsForResource / TagResource / UntagResource of a mute rule's ARN.
fn tag_call(rules: &mut Rules, c: &StrictConfig, call: &Call) -> Result<Value, Refusal> {
    let arn = call.json_str("ResourceARN").unwrap_or_default();
    let rule = rules
        .by_name
        .values_mut()
        .find(|r| r.arn == arn)
        .ok_or_else(|| not_found(arn))?;
    match call.operation.as_str() {
        "TagResource" => {
            let mut tags = rule.tags.clone();
            for (k, v) in checked_tags(c, &call.json["Tags"])? {
                match tags.iter_mut().find(|(key, _)| *key == k) {
                    Some(t) => t.1 = v,
                    None => tags.push((k, v)),
                }
            }
            if c.tags && tags.len() > tags::MAX_TAGS {
                return Err(refuse(
                    "LimitExceeded",
                    format!(
                        "{} tags exceed the limit of {} tags per resource",
                        tags.len(),
                        tags::MAX_TAGS
                    ),
                ));
            }
            rule.tags = tags;
            Ok(json!({}))
        }
        "UntagResource" => {
            let keys: Vec<&str> = call.json["TagKeys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            rule.tags.retain(|(k, _)| !keys.contains(&k.as_str()));
            Ok(json!({}))
        }
        _ => Ok(json!({
            "Tags": rule.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()
        })),
    }
}

/// Whether the layer answers `call` (a mute-rule operation, or a tags call on a rule's ARN).
fn answers(call: &Call) -> bool {
    if call.service != "monitoring" || !matches!(call.protocol, Protocol::Json { .. }) {
        return false;
    }
    match call.operation.as_str() {
        "PutAlarmMuteRule" | "GetAlarmMuteRule" | "ListAlarmMuteRules" | "DeleteAlarmMuteRule" => {
            true
        }
        "ListTagsForResource" | "TagResource" | "UntagResource" => {
            call.json_str("ResourceARN").is_some_and(is_rule_arn)
        }
        _ => false,
    }
}

/// The caller's account, from moto's STS GetCallerIdentity (the emulator's default account
/// when that fails).
async fn account_of(shared: &Shared, headers: &HeaderMap) -> String {
    super::alarms::moto_query(
        shared,
        &super::lambda_async::headers_for(headers, "sts"),
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    )
    .await
    .and_then(|doc| protocol::xml_text(&doc, "Account"))
    .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    .unwrap_or_else(|| crate::emulator::ACCOUNT_ID.to_string())
}

/// The mute-rule operations over JSON: moto authorises, the layer answers.
pub(crate) async fn answer(
    shared: &Shared,
    call: &Call,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    if !shared.config.mute_rules || !answers(call) {
        return None;
    }
    let up = match forward(shared, method, uri, headers, body.clone()).await {
        Ok(up) => up,
        Err(e) => return Some((StatusCode::BAD_GATEWAY, e).into_response()),
    };
    if let Some(refused) = denied::rewrite(call, &up) {
        return Some(refused);
    }
    let account = if call.operation == "PutAlarmMuteRule" {
        account_of(shared, headers).await
    } else {
        String::new()
    };
    let now = now_ms();
    let c = &shared.config;
    let result = {
        let mut inner = shared.lock();
        inner.count("mute-rules", &call.operation);
        let rules = &mut inner.mute_rules;
        match call.operation.as_str() {
            "PutAlarmMuteRule" => put(rules, c, call, &account, now),
            "GetAlarmMuteRule" => get(rules, call, now),
            "ListAlarmMuteRules" => list(rules, c, call, now),
            "DeleteAlarmMuteRule" => delete(rules, call),
            _ => tag_call(rules, c, call),
        }
    };
    Some(match result {
        Ok(v) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.0")],
            v.to_string(),
        )
            .into_response(),
        Err(r) => protocol::error(call, r.status, r.code, &r.message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;

    /// Epoch ms of `yyyy-MM-ddThh:mm` (UTC).
    fn t(s: &str) -> i64 {
        parse_at(s).unwrap()
    }

    fn cron(e: &str) -> Schedule {
        parse_expression(e).unwrap()
    }

    fn call(operation: &str, input: Value) -> Call {
        protocol::cloudwatch_json_call(operation, input)
    }

    fn put_input(name: &str, expression: &str, duration: &str, alarms: &[&str]) -> Value {
        json!({
            "Name": name,
            "Rule": {"Schedule": {"Expression": expression, "Duration": duration}},
            "MuteTargets": {"AlarmNames": alarms},
        })
    }

    #[test]
    fn mute_at_is_scheduled_active_then_expired() {
        let at = cron("at(2026-12-03T18:00)");
        assert_eq!(at, Schedule::At(t("2026-12-03T18:00")));
        assert_eq!(at.mute_type(), "ONE_TIME");
        let s = |now: &str| status(&at, 2 * HOUR, None, None, t(now));
        assert_eq!(s("2026-12-03T17:59"), Status::Scheduled);
        assert_eq!(s("2026-12-03T18:00"), Status::Active);
        assert_eq!(s("2026-12-03T19:59"), Status::Active);
        assert_eq!(s("2026-12-03T20:00"), Status::Expired);
        // 2024 is a leap year; 2026 is not.
        assert!(parse_expression("at(2024-02-29T00:00)").is_ok());
        for bad in [
            "at(2026-02-29T00:00)",
            "at(2026-12-03T24:00)",
            "at(2026-12-03 18:00)",
            "at(2026-12-03T18:00:00)",
            "at(2026-13-01T00:00)",
            "rate(5 minutes)",
        ] {
            assert!(parse_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mute_cron_is_active_for_the_duration_of_each_occurrence() {
        let daily = cron("cron(0 2 * * *)");
        assert_eq!(daily.mute_type(), "RECURRING");
        let s = |now: &str| status(&daily, 4 * HOUR, None, None, t(now));
        assert_eq!(s("2026-12-03T01:59"), Status::Scheduled);
        assert_eq!(s("2026-12-03T02:00"), Status::Active);
        assert_eq!(s("2026-12-03T05:59"), Status::Active);
        assert_eq!(s("2026-12-03T06:00"), Status::Scheduled);
        // The window of the day before reaches past midnight.
        let late = cron("cron(0 23 * * *)");
        assert_eq!(
            status(&late, 2 * HOUR, None, None, t("2026-12-04T00:30")),
            Status::Active
        );
        assert_eq!(
            status(&late, 2 * HOUR, None, None, t("2026-12-04T01:00")),
            Status::Scheduled
        );
        // A 15-day window is found by walking back.
        let monthly = cron("cron(0 1 1 * *)");
        assert_eq!(
            status(&monthly, 15 * DAY, None, None, t("2026-12-15T23:59")),
            Status::Active
        );
        assert_eq!(
            status(&monthly, 15 * DAY, None, None, t("2026-12-16T01:00")),
            Status::Scheduled
        );
    }

    #[test]
    fn mute_start_and_expire_dates_bound_the_rule() {
        let daily = cron("cron(0 2 * * *)");
        let now = t("2026-12-03T03:00");
        assert_eq!(status(&daily, 4 * HOUR, None, None, now), Status::Active);
        assert_eq!(
            status(&daily, 4 * HOUR, Some(now + MIN), None, now),
            Status::Scheduled
        );
        assert_eq!(
            status(&daily, 4 * HOUR, Some(now - DAY), Some(now), now),
            Status::Expired
        );
        assert_eq!(
            status(&daily, 4 * HOUR, None, Some(now + MIN), now),
            Status::Active
        );
        let at = Schedule::At(now + HOUR);
        assert_eq!(
            status(&at, HOUR, None, Some(now - MIN), now),
            Status::Expired
        );
    }

    #[test]
    fn mute_cron_reads_names_lists_ranges_and_question_marks() {
        // 2026-12-04 is a Friday, 2026-12-06 a Sunday.
        let fri = cron("cron(0 18 ? * FRI)");
        let Schedule::Cron(c) = &fri else {
            unreachable!()
        };
        assert!(c.matches(t("2026-12-04T18:00")));
        assert!(!c.matches(t("2026-12-03T18:00")));
        assert!(!c.matches(t("2026-12-04T18:01")));
        let Schedule::Cron(c) = cron("cron(0,30 9-17 * jan,Jun-AUG,DEC mon-fri)") else {
            unreachable!()
        };
        assert!(c.matches(t("2026-12-03T09:30")));
        assert!(c.matches(t("2026-12-03T17:00")));
        assert!(!c.matches(t("2026-12-03T18:00")));
        assert!(!c.matches(t("2026-12-03T09:15")));
        assert!(!c.matches(t("2026-12-06T09:30")), "Sunday");
        assert!(!c.matches(t("2026-11-03T09:30")), "November");
        assert!(c.matches(t("2026-07-01T12:00")));
        // 7 is Sunday too.
        let Schedule::Cron(c) = cron("cron(0 0 * * 7)") else {
            unreachable!()
        };
        assert!(c.matches(t("2026-12-06T00:00")));
        // Both day fields restricted: either matches.
        let Schedule::Cron(c) = cron("cron(0 0 1 * SUN)") else {
            unreachable!()
        };
        assert!(c.matches(t("2026-12-01T00:00")), "the 1st, a Tuesday");
        assert!(c.matches(t("2026-12-06T00:00")), "a Sunday");
        assert!(!c.matches(t("2026-12-02T00:00")));
        for bad in [
            "cron(0 2 * *)",
            "cron(0 2 * * * 2026)",
            "cron(60 2 * * *)",
            "cron(0 24 * * *)",
            "cron(0 2 0 * *)",
            "cron(0 2 * 13 *)",
            "cron(*/5 * * * *)",
            "cron(0 2 * * FUNDAY)",
            "cron(0 5-2 * * *)",
            "cron(0 2,,3 * * *)",
            "cron 0 2 * * *",
        ] {
            assert!(parse_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mute_durations_parse_and_their_bounds_are_enforced() {
        assert_eq!(parse_duration("PT1M"), Some(MIN));
        assert_eq!(parse_duration("PT4H"), Some(4 * HOUR));
        assert_eq!(parse_duration("P2DT12H"), Some(2 * DAY + 12 * HOUR));
        assert_eq!(parse_duration("P15D"), Some(15 * DAY));
        assert_eq!(parse_duration("P1W"), Some(7 * DAY));
        assert_eq!(parse_duration("PT90S"), Some(90_000));
        for bad in [
            "", "P", "PT", "4H", "PT4", "PTH", "P1M", "P1Y", "PT4H2H", "PT1M4H", "P1DT",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let c = StrictConfig::default();
        let refused = |d: &str| {
            validate_put(&c, &put_input("r", "cron(0 2 * * *)", d, &["a"]))
                .err()
                .map(|r| r.code)
        };
        assert_eq!(refused("PT1M"), None);
        assert_eq!(refused("P15D"), None);
        assert_eq!(refused("PT59S"), Some("InvalidParameterValue"));
        assert_eq!(refused("P15DT1M"), Some("InvalidParameterValue"));
        assert_eq!(refused("four hours"), Some("InvalidParameterValue"));
    }

    #[test]
    fn mute_put_refuses_what_the_api_refuses() {
        let c = StrictConfig::default();
        let names: Vec<String> = (0..=MAX_ALARM_NAMES).map(|i| format!("a{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let r = validate_put(&c, &put_input("r", "cron(0 2 * * *)", "PT1H", &refs)).unwrap_err();
        assert_eq!(
            (r.code, r.status),
            ("ValidationError", StatusCode::BAD_REQUEST)
        );
        assert!(
            r.message.contains("muteTargets.alarmNames"),
            "{}",
            r.message
        );
        assert!(
            validate_put(
                &c,
                &put_input("r", "cron(0 2 * * *)", "PT1H", &refs[..MAX_ALARM_NAMES])
            )
            .is_ok()
        );
        let code = |v: Value| validate_put(&c, &v).err().map(|r| r.code);
        assert_eq!(
            code(put_input("", "cron(0 2 * * *)", "PT1H", &[])),
            Some("ValidationError")
        );
        assert_eq!(
            code(
                json!({"Rule": {"Schedule": {"Expression": "cron(0 2 * * *)", "Duration": "PT1H"}}})
            ),
            Some("MissingParameter")
        );
        assert_eq!(
            code(put_input("r", "cron(0 2 * *)", "PT1H", &[])),
            Some("InvalidParameterValue")
        );
        let mut tagged = put_input("r", "cron(0 2 * * *)", "PT1H", &[]);
        tagged["Tags"] = json!([{"Key": "aws:x", "Value": "v"}]);
        assert_eq!(code(tagged.clone()), Some("InvalidParameterValue"));
        assert_eq!(validate_put(&StrictConfig::none(), &tagged).err(), None);
        let mut dates = put_input("r", "cron(0 2 * * *)", "PT1H", &[]);
        dates["StartDate"] = json!(2000.0);
        dates["ExpireDate"] = json!(1000.0);
        assert_eq!(code(dates), Some("InvalidParameterValue"));
    }

    #[test]
    fn mute_rules_are_stored_listed_paged_muted_and_deleted() {
        let c = StrictConfig {
            page_size: 0,
            ..StrictConfig::default()
        };
        let mut inner = Inner::default();
        let now = t("2026-12-03T03:00");
        let mut tagged = put_input("nightly", "cron(0 2 * * *)", "PT4H", &["web", "db"]);
        tagged["Tags"] = json!([{"Key": "team", "Value": "ops"}]);
        put(
            &mut inner.mute_rules,
            &c,
            &call("PutAlarmMuteRule", tagged),
            "111122223333",
            now,
        )
        .unwrap();
        put(
            &mut inner.mute_rules,
            &c,
            &call(
                "PutAlarmMuteRule",
                put_input("later", "at(2026-12-24T00:00)", "P1D", &["web"]),
            ),
            "111122223333",
            now,
        )
        .unwrap();
        assert!(is_muted(&inner, "us-east-1", "db", now));
        assert!(
            !is_muted(&inner, "us-east-1", "db", now + 3 * HOUR),
            "06:00 ends the window"
        );
        assert!(!is_muted(&inner, "eu-west-1", "db", now));
        assert!(!is_muted(&inner, "us-east-1", "api", now));

        let got = get(
            &inner.mute_rules,
            &call("GetAlarmMuteRule", json!({"AlarmMuteRuleName": "nightly"})),
            now,
        )
        .unwrap();
        assert_eq!(
            got["AlarmMuteRuleArn"],
            "arn:aws:cloudwatch:us-east-1:111122223333:alarm-mute-rule:nightly"
        );
        assert_eq!(got["Status"], "ACTIVE");
        assert_eq!(got["MuteType"], "RECURRING");
        assert_eq!(got["Rule"]["Schedule"]["Duration"], "PT4H");
        assert_eq!(got["MuteTargets"]["AlarmNames"], json!(["web", "db"]));
        let missing = get(
            &inner.mute_rules,
            &call("GetAlarmMuteRule", json!({"AlarmMuteRuleName": "nope"})),
            now,
        )
        .unwrap_err();
        assert_eq!(
            (missing.code, missing.status),
            ("ResourceNotFoundException", StatusCode::NOT_FOUND)
        );

        let l = |input: Value| {
            list(
                &inner.mute_rules,
                &c,
                &call("ListAlarmMuteRules", input),
                now,
            )
        };
        let all = l(json!({})).unwrap();
        assert_eq!(all["AlarmMuteRuleSummaries"].as_array().unwrap().len(), 2);
        assert!(all.get("NextToken").is_none());
        let db = l(json!({"AlarmName": "db"})).unwrap();
        assert_eq!(db["AlarmMuteRuleSummaries"].as_array().unwrap().len(), 1);
        let scheduled = l(json!({"Statuses": ["SCHEDULED"]})).unwrap();
        assert_eq!(
            scheduled["AlarmMuteRuleSummaries"][0]["MuteType"],
            "ONE_TIME"
        );
        assert_eq!(
            scheduled["AlarmMuteRuleSummaries"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let first = l(json!({"MaxRecords": 1})).unwrap();
        // Ordered by name: "later" (SCHEDULED), then "nightly" (ACTIVE).
        assert_eq!(first["AlarmMuteRuleSummaries"][0]["Status"], "SCHEDULED");
        let token = first["NextToken"].as_str().unwrap();
        let rest = l(json!({"MaxRecords": 1, "NextToken": token})).unwrap();
        assert_eq!(rest["AlarmMuteRuleSummaries"][0]["Status"], "ACTIVE");
        assert!(rest.get("NextToken").is_none());
        assert_eq!(
            l(json!({"NextToken": "x"})).unwrap_err().code,
            "InvalidNextToken"
        );
        assert_eq!(
            l(json!({"MaxRecords": 0})).unwrap_err().code,
            "ValidationError"
        );
        // The layer's small pages apply as paging.rs's do.
        let small = StrictConfig {
            page_size: 1,
            ..StrictConfig::default()
        };
        let paged = list(
            &inner.mute_rules,
            &small,
            &call("ListAlarmMuteRules", json!({})),
            now,
        );
        let paged = paged.unwrap();
        assert_eq!(paged["AlarmMuteRuleSummaries"].as_array().unwrap().len(), 1);
        assert!(paged.get("NextToken").is_some());

        // An update keeps the ARN and the tags.
        put(
            &mut inner.mute_rules,
            &c,
            &call(
                "PutAlarmMuteRule",
                put_input("nightly", "cron(0 2 * * *)", "PT4H", &["db"]),
            ),
            "999999999999",
            now + MIN,
        )
        .unwrap();
        let got = get(
            &inner.mute_rules,
            &call("GetAlarmMuteRule", json!({"AlarmMuteRuleName": "nightly"})),
            now,
        )
        .unwrap();
        assert_eq!(got["MuteTargets"]["AlarmNames"], json!(["db"]));
        assert_eq!(
            got["LastUpdatedTimestamp"],
            json!((now + MIN) as f64 / 1000.0)
        );
        assert!(
            got["AlarmMuteRuleArn"]
                .as_str()
                .unwrap()
                .contains(":111122223333:")
        );

        let arn = "arn:aws:cloudwatch:us-east-1:111122223333:alarm-mute-rule:nightly";
        let tags = |inner: &mut Inner, op: &str, input: Value| {
            tag_call(&mut inner.mute_rules, &c, &call(op, input))
        };
        tags(
            &mut inner,
            "TagResource",
            json!({"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}]}),
        )
        .unwrap();
        tags(
            &mut inner,
            "UntagResource",
            json!({"ResourceARN": arn, "TagKeys": ["team"]}),
        )
        .unwrap();
        let listed = tags(
            &mut inner,
            "ListTagsForResource",
            json!({"ResourceARN": arn}),
        )
        .unwrap();
        assert_eq!(listed["Tags"], json!([{"Key": "env", "Value": "prod"}]));

        assert!(is_muted(&inner, "us-east-1", "db", now));
        assert!(
            !is_muted(&inner, "us-east-1", "web", now),
            "no longer targeted"
        );
        delete(
            &mut inner.mute_rules,
            &call(
                "DeleteAlarmMuteRule",
                json!({"AlarmMuteRuleName": "nightly"}),
            ),
        )
        .unwrap();
        assert!(!is_muted(&inner, "us-east-1", "db", now));
        let gone = tags(
            &mut inner,
            "ListTagsForResource",
            json!({"ResourceARN": arn}),
        )
        .unwrap_err();
        assert_eq!(gone.code, "ResourceNotFoundException");
        // Idempotent.
        assert!(
            delete(
                &mut inner.mute_rules,
                &call(
                    "DeleteAlarmMuteRule",
                    json!({"AlarmMuteRuleName": "nightly"})
                ),
            )
            .is_ok()
        );
    }

    #[test]
    fn mute_only_rule_arns_are_taken_from_moto() {
        assert!(answers(&call("GetAlarmMuteRule", json!({}))));
        assert!(answers(&call(
            "TagResource",
            json!({"ResourceARN": "arn:aws:cloudwatch:us-east-1:1:alarm-mute-rule:r"})
        )));
        assert!(!answers(&call(
            "TagResource",
            json!({"ResourceARN": "arn:aws:cloudwatch:us-east-1:1:alarm:r"})
        )));
        assert!(!answers(&call("DescribeAlarms", json!({}))));
    }
}
