//! The end of a maintenance window (CloudWatch alarm mute rules). While a mute rule is
//! ACTIVE its alarms keep changing state but their actions — the SNS notification — do not
//! run, so an alarm that went to ALARM during the window was never announced. When the window
//! ends, an EventBridge Scheduler one-time schedule (or `elb-watch unmute`, when it is ended
//! early) invokes this function asynchronously with a marker and no `Records`:
//!
//! ```json
//! {"elbWatchWindowEnded": {"window": "deploy-42", "rules": ["elb-watch-prod-deploy-42-1"],
//!                          "alarms": ["elb-watch/prod/web-alb/web-tg/HealthyHostCount"],
//!                          "mutedForSeconds": 7200}}
//! ```
//!
//! The alarms to check are `alarms` ∪ each rule's `MuteTargets.AlarmNames`
//! (GetAlarmMuteRule); DescribeAlarms (`StateValue=ALARM`, at most [`NAMES_PER_CALL`] names a
//! call) says which are still in ALARM, and [`verdict`] which of those to announce: the ones
//! that changed state during the window. One in ALARM since before it was announced then, and
//! announcing it again would break "each state change once". Each announced alarm goes
//! through the ordinary delivery path as the notification CloudWatch would have sent
//! ([`synthesized`](crate::event::synthesized)), marked with the window
//! ([`late::mark_window_ended`](crate::render::late::mark_window_ended)). Pure.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::event::parse::{TEST_REASON, is_test_alarm_name};

/// Top-level member of the invocation payload that marks a window's end.
pub const FIELD: &str = "elbWatchWindowEnded";

/// DescribeAlarms takes at most 100 `AlarmNames`.
pub const NAMES_PER_CALL: usize = 100;

/// Slack before the window's start: the schedule fires at the window's end give or take
/// Scheduler's and Lambda's delays, and clocks differ. An alarm that entered ALARM within this
/// margin before the window may be announced twice; one inside the window is never missed.
pub const START_SLACK: TimeDelta = TimeDelta::seconds(60);

/// What the marker says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowEnded {
    /// The window's name, as the operator gave it (user text: escape it).
    pub window: String,
    /// Mute rules of the window (GetAlarmMuteRule gives their targets).
    pub rules: Vec<String>,
    /// Alarms of the window, named directly.
    pub alarms: Vec<String>,
    /// How long the window lasted.
    pub muted_for_s: u64,
}

/// The marker: `None` without one, `Err` (an invalid event) when it is there but malformed,
/// or comes with SNS `Records` (it never does: which would be meant?).
pub fn parse(payload: &Value) -> Option<Result<WindowEnded, String>> {
    let marker = payload.get(FIELD)?;
    if payload.get("Records").is_some() {
        return Some(Err(format!(
            "invalid {FIELD} marker: it comes without Records, and this event has both"
        )));
    }
    Some(parse_marker(marker).map_err(|e| format!("invalid {FIELD} marker: {e}")))
}

fn parse_marker(marker: &Value) -> Result<WindowEnded, String> {
    let marker = marker.as_object().ok_or("not an object")?;
    let window = marker
        .get("window")
        .and_then(Value::as_str)
        .filter(|w| !w.trim().is_empty())
        .ok_or("`window` must be a non-empty string")?
        .to_owned();
    let muted = marker
        .get("mutedForSeconds")
        .ok_or("`mutedForSeconds` is missing")?;
    let muted_for_s = muted
        .as_u64()
        .or_else(|| {
            muted
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
                .map(|s| s.ceil() as u64)
        })
        .ok_or("`mutedForSeconds` must be a number of seconds, 0 or more")?;
    Ok(WindowEnded {
        window,
        rules: names(marker.get("rules"), "rules")?,
        alarms: names(marker.get("alarms"), "alarms")?,
        muted_for_s,
    })
}

/// An optional array of non-empty strings, duplicates dropped.
fn names(v: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("`{what}` must be an array of names")),
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let name = item
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("`{what}` must hold non-empty strings, not {item}"))?;
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

/// The alarms to check: the marker's, then each rule's targets, in order, once each.
pub fn alarm_names<'a>(
    marker: &'a WindowEnded,
    rule_targets: impl IntoIterator<Item = &'a [String]>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = marker
        .alarms
        .iter()
        .chain(rule_targets.into_iter().flatten());
    for name in all {
        if !name.is_empty() && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// What DescribeAlarms says of an alarm, as far as the choice goes.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmFacts {
    pub name: String,
    /// `StateValue`.
    pub state: Option<String>,
    /// When it entered its state: `StateTransitionedTimestamp`, else `StateUpdatedTimestamp`.
    pub changed_at: Option<DateTime<Utc>>,
    /// `StateReason`.
    pub reason: Option<String>,
}

/// Whether an alarm is announced at the window's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Announce,
    /// Not announced; the reason is logged.
    Skip(&'static str),
}

pub const NOT_IN_ALARM: &str = "not in ALARM when the window ended";
pub const BEFORE_WINDOW: &str =
    "in ALARM since before the window: announced then, not announced twice";
pub const TEST_ALARM: &str = "a test (elb-watch test) is never announced at a window's end";

/// The earliest state change that counts as "during the window".
pub fn window_start(now: DateTime<Utc>, muted_for_s: u64) -> DateTime<Utc> {
    let muted = TimeDelta::try_seconds(i64::try_from(muted_for_s).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::MAX);
    now.checked_sub_signed(muted)
        .and_then(|t| t.checked_sub_signed(START_SLACK))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether to announce `alarm` at the end (`now`) of a window of `muted_for_s`: in ALARM,
/// since the window's start (less [`START_SLACK`]), not a test. Without a timestamp it is
/// announced: a duplicate beats silence.
pub fn verdict(alarm: &AlarmFacts, now: DateTime<Utc>, muted_for_s: u64) -> Verdict {
    if alarm.state.as_deref() != Some("ALARM") {
        return Verdict::Skip(NOT_IN_ALARM);
    }
    let test_reason = alarm
        .reason
        .as_deref()
        .is_some_and(|r| r.starts_with(TEST_REASON));
    if is_test_alarm_name(&alarm.name) || test_reason {
        return Verdict::Skip(TEST_ALARM);
    }
    match alarm.changed_at {
        Some(at) if at < window_start(now, muted_for_s) => Verdict::Skip(BEFORE_WINDOW),
        _ => Verdict::Announce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALARM: &str = "elb-watch/prod/web-alb/web-tg/HealthyHostCount";

    #[test]
    fn only_a_marked_payload_is_a_window_end() {
        assert_eq!(parse(&json!({"Records": []})), None);
        assert_eq!(parse(&json!({"elbWatchReplay": {}})), None);
    }

    #[test]
    fn a_malformed_marker_is_an_invalid_event() {
        for bad in [
            json!("deploy-42"),
            json!({}),
            json!({"window": "", "mutedForSeconds": 60}),
            json!({"window": 42, "mutedForSeconds": 60}),
            json!({"window": "w"}),
            json!({"window": "w", "mutedForSeconds": -1}),
            json!({"window": "w", "mutedForSeconds": "7200"}),
            json!({"window": "w", "mutedForSeconds": 60, "rules": "r"}),
            json!({"window": "w", "mutedForSeconds": 60, "alarms": [1]}),
            json!({"window": "w", "mutedForSeconds": 60, "alarms": [""]}),
        ] {
            let got = parse(&json!({ FIELD: bad.clone() }));
            let err = got
                .unwrap_or_else(|| panic!("{bad}: not seen"))
                .unwrap_err();
            assert!(
                err.starts_with("invalid elbWatchWindowEnded marker: "),
                "{err}"
            );
        }
        let both = json!({"Records": [], FIELD: {"window": "w", "mutedForSeconds": 60}});
        assert!(parse(&both).unwrap().unwrap_err().contains("Records"));
    }

    #[test]
    fn a_complete_marker() {
        let payload = json!({FIELD: {"window": "deploy-42",
            "rules": ["elb-watch-prod-deploy-42-1"], "alarms": [ALARM, ALARM],
            "mutedForSeconds": 7200}});
        assert_eq!(
            parse(&payload).unwrap().unwrap(),
            WindowEnded {
                window: "deploy-42".into(),
                rules: vec!["elb-watch-prod-deploy-42-1".into()],
                alarms: vec![ALARM.into()],
                muted_for_s: 7200,
            }
        );
        // Both lists are optional.
        let bare = parse(&json!({FIELD: {"window": "w", "mutedForSeconds": 1.5, "rules": null}}))
            .unwrap()
            .unwrap();
        assert_eq!((bare.rules.len(), bare.alarms.len()), (0, 0));
        assert_eq!(bare.muted_for_s, 2);
    }

    #[test]
    fn the_alarms_are_the_union_of_the_marker_and_the_rules_targets() {
        let marker = WindowEnded {
            window: "w".into(),
            rules: vec!["r1".into(), "r2".into()],
            alarms: vec!["a".into(), "b".into()],
            muted_for_s: 60,
        };
        let r1 = vec!["b".to_owned(), "c".to_owned()];
        let r2 = vec!["c".to_owned(), "d".to_owned()];
        assert_eq!(
            alarm_names(&marker, [r1.as_slice(), r2.as_slice()]),
            ["a", "b", "c", "d"]
        );
        let only_rules = WindowEnded {
            alarms: vec![],
            ..marker
        };
        assert_eq!(alarm_names(&only_rules, [r2.as_slice()]), ["c", "d"]);
    }

    fn facts(name: &str, state: &str, changed_at: Option<DateTime<Utc>>) -> AlarmFacts {
        AlarmFacts {
            name: name.into(),
            state: Some(state.into()),
            changed_at,
            reason: Some("Threshold Crossed: 1 datapoint".into()),
        }
    }

    #[test]
    fn announced_only_when_still_in_alarm_and_changed_during_the_window() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T05:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let window = 7200;
        let ago = |s: i64| Some(now - TimeDelta::seconds(s));
        // During the window, at its very start, within the slack: announced.
        for at in [ago(60), ago(7199), ago(7200), ago(7250)] {
            assert_eq!(
                verdict(&facts(ALARM, "ALARM", at), now, window),
                Verdict::Announce,
                "{at:?}"
            );
        }
        // Before the window: CloudWatch announced it then.
        assert_eq!(
            verdict(&facts(ALARM, "ALARM", ago(7261)), now, window),
            Verdict::Skip(BEFORE_WINDOW)
        );
        assert_eq!(
            verdict(&facts(ALARM, "ALARM", ago(86_400)), now, window),
            Verdict::Skip(BEFORE_WINDOW)
        );
        // No timestamp: announced rather than risk silence.
        assert_eq!(
            verdict(&facts(ALARM, "ALARM", None), now, window),
            Verdict::Announce
        );
        // Not in ALARM.
        for state in ["OK", "INSUFFICIENT_DATA"] {
            assert_eq!(
                verdict(&facts(ALARM, state, ago(60)), now, window),
                Verdict::Skip(NOT_IN_ALARM)
            );
        }
        let unknown = AlarmFacts {
            state: None,
            ..facts(ALARM, "ALARM", ago(60))
        };
        assert_eq!(verdict(&unknown, now, window), Verdict::Skip(NOT_IN_ALARM));
        // The env's test alarm, or an alarm `elb-watch test` set: never.
        assert_eq!(
            verdict(&facts("elb-watch/prod/test", "ALARM", ago(60)), now, window),
            Verdict::Skip(TEST_ALARM)
        );
        let tested = AlarmFacts {
            reason: Some("elb-watch test 7f3a-01: a test alert; no action needed".into()),
            ..facts(ALARM, "ALARM", ago(60))
        };
        assert_eq!(verdict(&tested, now, window), Verdict::Skip(TEST_ALARM));
    }

    #[test]
    fn the_window_start_never_overflows() {
        let now = DateTime::<Utc>::from(std::time::SystemTime::now());
        assert_eq!(window_start(now, 0), now - START_SLACK);
        assert_eq!(window_start(now, u64::MAX), DateTime::<Utc>::MIN_UTC);
    }
}
