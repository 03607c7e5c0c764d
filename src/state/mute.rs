//! Maintenance windows (`elb-watch mute`), pure: what a window asks of CloudWatch's alarm mute
//! rules and of the schedule that announces, at the window's end, what is still broken.
//!
//! A mute rule (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutAlarmMuteRule.html>)
//! names up to 100 alarms and a schedule (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Schedule.html>):
//! `at(yyyy-MM-ddThh:mm)` for one window or `cron(Minutes Hours Day-of-month Month Day-of-week)`
//! for recurring ones, a `Duration` in ISO 8601 from `PT1M` to `P15D`, an optional `Timezone`.
//! While a rule is ACTIVE its alarms keep evaluating but their actions do not run, so an alarm
//! that went to ALARM in the window was heard by no one. CloudWatch does not act again when the
//! window ends (actions run on a change of state), hence the window-end schedule: an EventBridge
//! Scheduler schedule at the end of each window that invokes the notifier with the window's rules
//! ([`window_ended_input`]); the notifier announces the window's alarms still in ALARM that
//! changed state during it.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// Alarm names per mute rule (PutAlarmMuteRule: "Each mute rule can target up to 100 specific
/// alarms by name").
pub const MAX_ALARMS_PER_RULE: usize = 100;
/// Shortest and longest mute (Schedule.Duration: `PT1M` to `P15D`).
pub const MIN_MINUTES: u32 = 1;
pub const MAX_MINUTES: u32 = 15 * 24 * 60;
/// Longest window name: the window-end schedule is `NAME-end` and schedule names are at most 64
/// characters (<https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html>).
pub const MAX_WINDOW_NAME: usize = 40;
/// Top-level member of the notifier's payload that marks a window's end (the notifier's
/// `runtime/window_end.rs` reads it).
pub const WINDOW_ENDED_FIELD: &str = "elbWatchWindowEnded";

/// When a window starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// At once (the current minute: `at()` has minute precision).
    Now,
    /// Once, at this UTC time (epoch seconds, a whole minute).
    At { start_s: i64 },
    /// Every time the five-field expression matches, in `timezone` (UTC when none).
    Cron {
        expression: String,
        timezone: Option<String>,
    },
}

/// A window as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub name: String,
    pub when: When,
    pub minutes: u32,
    pub reason: Option<String>,
}

/// One mute rule to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub name: String,
    pub alarms: Vec<String>,
}

/// The schedule that announces a window's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSchedule {
    /// EventBridge Scheduler's expression: `at(yyyy-mm-ddThh:mm:ss)` or six-field `cron(…)`
    /// (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html>).
    pub expression: String,
    pub timezone: String,
    /// One-time: deleted by Scheduler once it ran (`ActionAfterCompletion: DELETE`).
    pub one_time: bool,
}

/// Everything `mute` puts for one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutePlan {
    pub window: String,
    pub rules: Vec<RuleSpec>,
    /// The mute rules' schedule expression (`at(…)` or five-field `cron(…)`).
    pub expression: String,
    pub timezone: Option<String>,
    /// ISO 8601, e.g. `PT2H`.
    pub duration: String,
    /// Minutes muted at each occurrence.
    pub minutes: u32,
    /// One-time windows: start and end, epoch seconds.
    pub start_s: Option<i64>,
    pub end_s: Option<i64>,
    pub end_schedule: EndSchedule,
    pub description: String,
}

/// `--for`: `90m`, `2h`, `1h30m`, `3d`, `2d12h`; from one minute to fifteen days.
pub fn parse_duration(s: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "'{s}' is not a duration: use minutes, hours and days such as 30m, 2h, 1h30m or 3d \
             (from 1m to 15d)"
        )
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += n * match c.to_ascii_lowercase() {
            'm' => 1,
            'h' => 60,
            'd' => 24 * 60,
            _ => return Err(bad()),
        };
    }
    if !digits.is_empty() || total == 0 && s.trim().is_empty() {
        return Err(bad());
    }
    if total < u64::from(MIN_MINUTES) || total > u64::from(MAX_MINUTES) {
        return Err(format!(
            "'{s}' is outside what CloudWatch mutes for: from 1m to 15d (PT1M to P15D)"
        ));
    }
    Ok(total as u32)
}

/// Minutes as ISO 8601 (`PT2H`, `P1DT2H30M`).
pub fn iso_duration(minutes: u32) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut out = String::from("P");
    if d > 0 {
        out.push_str(&format!("{d}D"));
    }
    if h > 0 || m > 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
    }
    out
}

/// ISO 8601 duration (as CloudWatch answers it) back to minutes; `None` for what it cannot be.
pub fn minutes_of_iso(d: &str) -> Option<u32> {
    let rest = d.strip_prefix('P')?;
    let (days, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0u32;
    if !days.is_empty() {
        total += days.strip_suffix('D')?.parse::<u32>().ok()? * 1440;
    }
    let mut digits = String::new();
    for c in time.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u32 = digits.parse().ok()?;
        digits.clear();
        total += match c {
            'H' => n * 60,
            'M' => n,
            'S' => n.div_ceil(60),
            _ => return None,
        };
    }
    digits.is_empty().then_some(total)
}

/// `--at`: a UTC time to the minute, `2026-12-24T22:00Z` (the `Z` may be left out; seconds, if
/// given, must be zero). Epoch seconds.
pub fn parse_at(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("'{s}' is not a start time: give a UTC time to the minute, e.g. 2026-12-24T22:00Z")
    };
    let t = s.trim().trim_end_matches('Z');
    let t = t.strip_suffix("+00:00").unwrap_or(t);
    let full = match t.len() {
        16 => format!("{t}:00Z"),
        19 => format!("{t}Z"),
        _ => return Err(bad()),
    };
    let dt = DateTime::from_str(&full, Format::DateTime).map_err(|_| bad())?;
    if dt.secs() % 60 != 0 {
        return Err(format!(
            "'{s}': a mute window starts on a whole minute (CloudWatch's at() has no seconds)"
        ));
    }
    Ok(dt.secs())
}

/// `--cron`: CloudWatch's five fields, `cron(0 2 * * SUN)`; EventBridge's six-field form
/// (`cron(0 2 ? * SUN *)`) is accepted when its year is `*`. Only what the mute rule's schedule
/// supports: `*`, `-`, `,`, numbers and the English month and day names. Returns the five-field
/// expression.
pub fn normalize_cron(s: &str) -> Result<String, String> {
    let inner = s
        .trim()
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(s.trim());
    let mut fields: Vec<String> = inner.split_whitespace().map(str::to_string).collect();
    if fields.len() == 6 {
        if fields[5] != "*" {
            return Err(format!(
                "'{s}': mute rules recur every year; the six-field form's year must be *"
            ));
        }
        fields.pop();
    }
    if fields.len() != 5 {
        return Err(format!(
            "'{s}' is not a cron expression: give five fields, cron(Minutes Hours Day-of-month \
             Month Day-of-week), e.g. 'cron(0 2 * * SUN)'"
        ));
    }
    for f in &mut fields {
        if f == "?" {
            *f = "*".into();
        }
        let ok = f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '-' | ','));
        if !ok || f.is_empty() {
            return Err(format!(
                "'{s}': field '{f}' uses what a mute rule's cron does not support (only numbers, \
                 names, *, - and ,)"
            ));
        }
    }
    Ok(format!("cron({})", fields.join(" ")))
}

/// Window names: lower-case letters, digits and inner `-`, at most [`MAX_WINDOW_NAME`].
pub fn parse_window_name(s: &str) -> Result<String, String> {
    let ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if s.is_empty() || s.len() > MAX_WINDOW_NAME || !ok || s.starts_with('-') || s.ends_with('-') {
        return Err(format!(
            "'{s}' is not a window name: use 1 to {MAX_WINDOW_NAME} lower-case letters, digits \
             and inner '-' (e.g. deploy-42)"
        ));
    }
    Ok(s.to_string())
}

/// The name a window gets when none is given: its start (`w20261224-2200`), or for a recurring
/// one a digest of its expression and length (`cron-…`), so running the same `mute` twice
/// updates one window instead of making two.
pub fn default_name(when: &When, minutes: u32, now_s: i64) -> String {
    match when {
        When::Now => format!("w{}", compact(floor_minute(now_s))),
        When::At { start_s } => format!("w{}", compact(*start_s)),
        When::Cron {
            expression,
            timezone,
        } => {
            let key = format!(
                "{expression}|{minutes}|{}",
                timezone.as_deref().unwrap_or("")
            );
            // FNV-1a: stable across runs and platforms.
            let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("cron-{:08x}", hash as u32)
        }
    }
}

fn floor_minute(s: i64) -> i64 {
    s - s.rem_euclid(60)
}

/// `20261224-2200` for an epoch second.
fn compact(s: i64) -> String {
    let iso = iso_utc(s);
    format!(
        "{}{}{}-{}{}",
        &iso[0..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16]
    )
}

/// `2026-12-24T22:00:00Z`.
pub fn iso_utc(s: i64) -> String {
    DateTime::from_secs(s)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// The mute rules of `window` over `alarms` (sorted, in rules of at most 100), named
/// `{rule_prefix}{window}-{k}`.
pub fn split_rules(rule_prefix: &str, window: &str, alarms: &[String]) -> Vec<RuleSpec> {
    let mut alarms = alarms.to_vec();
    alarms.sort();
    alarms.dedup();
    alarms
        .chunks(MAX_ALARMS_PER_RULE)
        .enumerate()
        .map(|(i, chunk)| RuleSpec {
            name: format!("{rule_prefix}{window}-{}", i + 1),
            alarms: chunk.to_vec(),
        })
        .collect()
}

/// What `mute` puts for `window` over `alarms`, at `now_s`. A window starting now starts at the
/// current minute and lasts the minutes that make it end no earlier than asked.
pub fn plan(
    rule_prefix: &str,
    window: &Window,
    alarms: &[String],
    now_s: i64,
) -> Result<MutePlan, String> {
    if alarms.is_empty() {
        return Err(
            "no alarm to mute: the env watches no target group of those load \
                    balancers (`elb-watch status` lists what it watches)"
                .into(),
        );
    }
    let (expression, timezone, minutes, start_s, end_schedule) = match &window.when {
        When::Now | When::At { .. } => {
            let (start, minutes) = match window.when {
                When::At { start_s } => (start_s, window.minutes),
                _ => {
                    let start = floor_minute(now_s);
                    let end = now_s + i64::from(window.minutes) * 60;
                    (start, ((end - start + 59) / 60) as u32)
                }
            };
            let minutes = minutes.min(MAX_MINUTES);
            let end = start + i64::from(minutes) * 60;
            if end <= now_s {
                return Err(format!(
                    "the window {} to {} has already ended",
                    iso_utc(start),
                    iso_utc(end)
                ));
            }
            let at = iso_utc(start);
            let end_at = iso_utc(end);
            (
                format!("at({})", &at[..16]),
                None,
                minutes,
                Some(start),
                EndSchedule {
                    expression: format!("at({})", &end_at[..19]),
                    timezone: "UTC".into(),
                    one_time: true,
                },
            )
        }
        When::Cron {
            expression,
            timezone,
        } => (
            expression.clone(),
            timezone.clone(),
            window.minutes,
            None,
            EndSchedule {
                expression: end_cron(expression, window.minutes)?,
                timezone: timezone.clone().unwrap_or_else(|| "UTC".into()),
                one_time: false,
            },
        ),
    };
    let description = match &window.reason {
        Some(r) => format!("elb-watch window {}: {r}", window.name),
        None => format!("elb-watch window {}", window.name),
    };
    Ok(MutePlan {
        window: window.name.clone(),
        rules: split_rules(rule_prefix, &window.name, alarms),
        expression,
        timezone,
        duration: iso_duration(minutes),
        minutes,
        end_s: start_s.map(|s| s + i64::from(minutes) * 60),
        start_s,
        end_schedule,
        // PutAlarmMuteRule's Description: at most 1024 characters.
        description: description.chars().take(1024).collect(),
    })
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The six-field EventBridge Scheduler cron that fires when each window of the five-field mute
/// cron `expression` ends, `minutes` after it starts. The minute and hour must be single numbers;
/// a window that ends on a later day moves the day-of-week names along (a day-of-month cannot
/// be moved: month lengths differ). Scheduler wants `?` in one of the two day fields.
pub fn end_cron(expression: &str, minutes: u32) -> Result<String, String> {
    let inner = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(expression);
    let f: Vec<&str> = inner.split_whitespace().collect();
    let [mi, h, dom, mon, dow] = f.as_slice() else {
        return Err(format!(
            "'{expression}' is not a five-field cron expression"
        ));
    };
    let (Ok(mi), Ok(h)) = (mi.parse::<u32>(), h.parse::<u32>()) else {
        return Err(format!(
            "'{expression}': elb-watch announces each window's end at its start plus the \
             duration, so the cron's minute and hour must be single numbers (e.g. cron(0 2 * * SUN))"
        ));
    };
    if mi > 59 || h > 23 {
        return Err(format!("'{expression}': minute or hour out of range"));
    }
    let total = h * 60 + mi + minutes;
    let (days, end_h, end_m) = (total / 1440, total % 1440 / 60, total % 60);
    let dow_end = if *dow == "*" {
        "*".to_string()
    } else {
        shift_days(dow, days).ok_or_else(|| {
            format!(
                "'{expression}': give the day of week by name (SUN-SAT) so the window's end \
                 can be scheduled"
            )
        })?
    };
    if days > 0 && *dom != "*" {
        return Err(format!(
            "'{expression}': a window that ends on a later day cannot recur by day of month \
             (its end would fall on different days); use a day of week"
        ));
    }
    match (*dom, dow_end.as_str()) {
        (d, "*") => Ok(format!("cron({end_m} {end_h} {d} {mon} ? *)")),
        ("*", w) => Ok(format!("cron({end_m} {end_h} ? {mon} {w} *)")),
        _ => Err(format!(
            "'{expression}': give a day of month or a day of week, not both (EventBridge \
             Scheduler cannot combine them)"
        )),
    }
}

/// Day-of-week names (lists and ranges) moved `days` later; `None` for numbers.
fn shift_days(field: &str, days: u32) -> Option<String> {
    let one = |name: &str| -> Option<String> {
        let i = DAYS.iter().position(|d| d.eq_ignore_ascii_case(name))?;
        Some(DAYS[(i + days as usize) % 7].to_string())
    };
    field
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some(format!("{}-{}", one(a)?, one(b)?)),
            None => one(part),
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| v.join(","))
}

/// The notifier's payload at a window's end (`alarms` for the names a rule no longer holds:
/// `unmute` deletes the rules first).
pub fn window_ended_input(
    window: &str,
    rules: &[String],
    alarms: &[String],
    muted_for_s: u64,
) -> String {
    serde_json::json!({
        WINDOW_ENDED_FIELD: {
            "window": window,
            "rules": rules,
            "alarms": alarms,
            "mutedForSeconds": muted_for_s,
        }
    })
    .to_string()
}

/// The window a rule of `rule_prefix` belongs to (`{prefix}{window}-{k}`).
pub fn window_of(rule_prefix: &str, rule: &str) -> Option<String> {
    let rest = rule.strip_prefix(rule_prefix)?;
    let (window, k) = rest.rsplit_once('-')?;
    (k.parse::<u32>().is_ok() && !window.is_empty()).then(|| window.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "elb-watch-prod-mute-";

    fn alarms(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("elb-watch/prod/web/tg-{i:04}/HealthyHostCount"))
            .collect()
    }

    #[test]
    fn durations_read_as_people_write_them_within_cloudwatchs_bounds() {
        assert_eq!(parse_duration("90m"), Ok(90));
        assert_eq!(parse_duration("2h"), Ok(120));
        assert_eq!(parse_duration("1h30m"), Ok(90));
        assert_eq!(parse_duration("2d12h"), Ok(3600));
        assert_eq!(parse_duration("15d"), Ok(MAX_MINUTES));
        for bad in ["", "2", "h", "2x", "0m", "16d", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(iso_duration(120), "PT2H");
        assert_eq!(iso_duration(1590), "P1DT2H30M");
        assert_eq!(iso_duration(1440), "P1D");
        for m in [1, 59, 60, 61, 1440, 1501, MAX_MINUTES] {
            assert_eq!(minutes_of_iso(&iso_duration(m)), Some(m));
        }
    }

    #[test]
    fn a_start_time_is_utc_to_the_minute() {
        let s = parse_at("2026-12-24T22:00Z").unwrap();
        assert_eq!(iso_utc(s), "2026-12-24T22:00:00Z");
        assert_eq!(parse_at("2026-12-24T22:00"), Ok(s));
        assert_eq!(parse_at("2026-12-24T22:00:00+00:00"), Ok(s));
        assert!(parse_at("2026-12-24T22:00:30Z").is_err());
        assert!(parse_at("24/12/2026 22:00").is_err());
    }

    #[test]
    fn cron_takes_cloudwatchs_five_fields_or_eventbridges_six() {
        assert_eq!(
            normalize_cron("cron(0 2 ? * SUN *)"),
            Ok("cron(0 2 * * SUN)".into())
        );
        assert_eq!(normalize_cron("0 2 * * *"), Ok("cron(0 2 * * *)".into()));
        assert!(normalize_cron("cron(0 2 ? * SUN 2027)").is_err());
        assert!(normalize_cron("cron(0/5 2 * * *)").is_err());
        assert!(normalize_cron("cron(0 2 * *)").is_err());
    }

    #[test]
    fn more_than_a_hundred_alarms_make_several_rules() {
        let rules = split_rules(PREFIX, "deploy", &alarms(250));
        let sizes: Vec<usize> = rules.iter().map(|r| r.alarms.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(rules[2].name, "elb-watch-prod-mute-deploy-3");
        let all: Vec<&String> = rules.iter().flat_map(|r| &r.alarms).collect();
        assert_eq!(all.len(), 250);
        assert_eq!(split_rules(PREFIX, "d", &alarms(100)).len(), 1);
        assert_eq!(window_of(PREFIX, &rules[2].name).as_deref(), Some("deploy"));
        assert_eq!(window_of(PREFIX, "elb-watch-prod-mute-x"), None);
    }

    #[test]
    fn a_window_from_now_starts_this_minute_and_ends_no_earlier_than_asked() {
        let now = parse_at("2026-12-03T17:50Z").unwrap() + 42;
        let w = Window {
            name: "deploy".into(),
            when: When::Now,
            minutes: 120,
            reason: Some("release 42".into()),
        };
        let p = plan(PREFIX, &w, &alarms(3), now).unwrap();
        assert_eq!(p.expression, "at(2026-12-03T17:50)");
        assert_eq!(p.duration, "PT2H1M");
        assert!(p.end_s.unwrap() >= now + 7200);
        assert_eq!(p.end_schedule.expression, "at(2026-12-03T19:51:00)");
        assert!(p.end_schedule.one_time);
        assert_eq!(p.description, "elb-watch window deploy: release 42");
    }

    #[test]
    fn a_window_at_a_time_ends_after_its_length_and_a_past_one_is_refused() {
        let start = parse_at("2026-12-24T22:00Z").unwrap();
        let w = Window {
            name: "xmas".into(),
            when: When::At { start_s: start },
            minutes: 180,
            reason: None,
        };
        let p = plan(PREFIX, &w, &alarms(1), start - 86_400).unwrap();
        assert_eq!(p.expression, "at(2026-12-24T22:00)");
        assert_eq!(p.end_schedule.expression, "at(2026-12-25T01:00:00)");
        assert!(plan(PREFIX, &w, &alarms(1), start + 4 * 3600).is_err());
        assert!(plan(PREFIX, &w, &[], start).is_err());
    }

    #[test]
    fn a_recurring_windows_end_is_its_start_plus_the_duration() {
        assert_eq!(
            end_cron("cron(0 2 * * SUN)", 60),
            Ok("cron(0 3 ? * SUN *)".into())
        );
        assert_eq!(
            end_cron("cron(30 23 * * *)", 45),
            Ok("cron(15 0 * * ? *)".into())
        );
        assert_eq!(
            end_cron("cron(0 22 * * FRI,SAT)", 180),
            Ok("cron(0 1 ? * SAT,SUN *)".into())
        );
        assert_eq!(
            end_cron("cron(0 18 * * FRI)", 2 * 1440 + 720),
            Ok("cron(0 6 ? * MON *)".into())
        );
        assert_eq!(
            end_cron("cron(0 1 1 * *)", 60),
            Ok("cron(0 2 1 * ? *)".into())
        );
        assert!(end_cron("cron(0 23 1 * *)", 120).is_err());
        assert!(end_cron("cron(0 1-3 * * *)", 60).is_err());
        assert!(end_cron("cron(0 22 * * 5)", 180).is_err());
        assert!(end_cron("cron(0 2 1 * MON)", 60).is_err());
    }

    #[test]
    fn the_default_name_is_stable_for_the_same_window() {
        let now = parse_at("2026-12-03T17:50Z").unwrap() + 5;
        assert_eq!(default_name(&When::Now, 60, now), "w20261203-1750");
        let cron = When::Cron {
            expression: "cron(0 2 * * SUN)".into(),
            timezone: None,
        };
        assert_eq!(default_name(&cron, 60, 0), default_name(&cron, 60, now));
        assert_ne!(default_name(&cron, 60, 0), default_name(&cron, 61, 0));
        assert!(parse_window_name(&default_name(&cron, 60, 0)).is_ok());
        assert!(parse_window_name("Deploy").is_err());
    }

    #[test]
    fn the_notifiers_payload_names_the_window_its_rules_and_length() {
        let v: serde_json::Value =
            serde_json::from_str(&window_ended_input("d", &["r-1".into()], &[], 3600)).unwrap();
        assert_eq!(v[WINDOW_ENDED_FIELD]["rules"][0], "r-1");
        assert_eq!(v[WINDOW_ENDED_FIELD]["mutedForSeconds"], 3600);
    }
}
