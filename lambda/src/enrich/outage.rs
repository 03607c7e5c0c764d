//! How long a recovered alarm was in ALARM, from the alarm's history. Pure: the history is read
//! by [`history`](crate::enrich::history); the webhook renderer ([`render`](crate::render::blocks)) and any
//! other way of posting take [`summary`]'s text.
//!
//! CloudWatch records each state change of an alarm as a `StateUpdate` history item
//! (DescribeAlarmHistory,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>;
//! item: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html>):
//! a `Timestamp`, `HistoryItemType` and `HistoryData`, a JSON document such as
//! `{"version":"1.0","oldState":{"stateValue":"ALARM","stateReason":"…"},"newState":{"stateValue":"OK","stateReason":"…",…}}`
//! (the example of `aws cloudwatch describe-alarm-history`,
//! <https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/describe-alarm-history.html>).
//!
//! The notifier posts an OK only when it ends an ALARM ([`decide`](crate::event::decide): the message's
//! `OldStateValue` is `ALARM`), so the outage began with the latest transition into ALARM
//! before the OK, and ended at the OK's `StateChangeTime` (from the SNS message). When the
//! history does not show that — no transition into ALARM within the history CloudWatch keeps,
//! the latest earlier transition going somewhere else, unreadable items — there is no span, and
//! the message goes out as it did before durations existed.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::event::parse::{Alarm, AlarmState};

/// The OK's own history item may carry a timestamp a little off the message's
/// `StateChangeTime`; an ALARM → OK item this close to it is the OK itself.
pub const OWN_ITEM_TOLERANCE: TimeDelta = TimeDelta::seconds(2);

/// One alarm history item, as far as the computation needs it (independent of the SDK's
/// types, so it can be built in tests and from any client).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryEntry {
    pub timestamp: Option<DateTime<Utc>>,
    /// `StateUpdate`, `ConfigurationUpdate`, `Action`, …
    pub item_type: Option<String>,
    /// The item's `HistoryData` JSON text.
    pub data: Option<String>,
}

/// A state change read from a `StateUpdate` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub old: AlarmState,
    pub new: AlarmState,
    /// The new state's reason: `elb-watch test <ID>: …` when a test set it.
    pub new_reason: Option<String>,
}

/// How a history item reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A state change.
    Transition(Transition),
    /// Not a state change (`ConfigurationUpdate`, `Action`): ignored.
    Other,
    /// A `StateUpdate` whose timestamp or data cannot be read.
    Unreadable(Option<DateTime<Utc>>),
}

/// Reads one history item.
pub fn read(entry: &HistoryEntry) -> Reading {
    if entry.item_type.as_deref() != Some("StateUpdate") {
        return Reading::Other;
    }
    let state = |doc: &Value, key: &str| {
        doc.get(key)?
            .get("stateValue")?
            .as_str()
            .map(AlarmState::parse)
    };
    let parsed = entry
        .data
        .as_deref()
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .and_then(|doc| {
            let reason = doc["newState"]["stateReason"].as_str().map(str::to_owned);
            Some((state(&doc, "oldState")?, state(&doc, "newState")?, reason))
        });
    match (entry.timestamp, parsed) {
        (Some(at), Some((old, new, new_reason))) => Reading::Transition(Transition {
            at,
            old,
            new,
            new_reason,
        }),
        (at, _) => Reading::Unreadable(at),
    }
}

/// When the target group went below threshold and when it came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The ALARM it ends was set by `elb-watch test --target-group` (its reason says so): the
    /// recovery is the test's, not a real one.
    pub began_with_test: bool,
}

impl Span {
    pub fn duration(&self) -> TimeDelta {
        self.until - self.since
    }
}

/// Why there is no span (logged; the message goes out without a duration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoSpan {
    /// No transition before the OK in the history read: the ALARM began before the history
    /// CloudWatch keeps (or that was read), or the history is empty.
    NoEarlierTransition,
    /// The latest transition before the OK went into another state: the history does not
    /// agree with the message (`OldStateValue: ALARM`).
    LatestWentTo(String),
    /// History items that could not be read lie where the start would be.
    Unreadable(usize),
}

impl std::fmt::Display for NoSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoSpan::NoEarlierTransition => {
                f.write_str("no state change before the OK in the alarm's history")
            }
            NoSpan::LatestWentTo(state) => write!(
                f,
                "the latest state change before the OK went to {state}, not ALARM"
            ),
            NoSpan::Unreadable(n) => write!(f, "{n} history item(s) could not be read"),
        }
    }
}

/// The outage an OK at `ok_at` ends, from the alarm's history items (in any order).
pub fn outage(entries: &[HistoryEntry], ok_at: DateTime<Utc>) -> Result<Span, NoSpan> {
    let is_own_ok =
        |t: &Transition| t.new == AlarmState::Ok && (t.at - ok_at).abs() <= OWN_ITEM_TOLERANCE;
    let mut unreadable = Vec::new();
    let mut latest: Option<Transition> = None;
    for entry in entries {
        match read(entry) {
            Reading::Other => {}
            Reading::Unreadable(at) => unreadable.push(at),
            Reading::Transition(t) if t.at > ok_at || is_own_ok(&t) => {}
            Reading::Transition(t) => {
                if latest.as_ref().is_none_or(|l| t.at > l.at) {
                    latest = Some(t);
                }
            }
        }
    }
    let Some(start) = latest else {
        return Err(match unreadable.len() {
            0 => NoSpan::NoEarlierTransition,
            n => NoSpan::Unreadable(n),
        });
    };
    // An unreadable item after the start (or of unknown time) might be a change out of ALARM.
    let doubtful = unreadable
        .iter()
        .filter(|at| at.is_none_or(|at| at > start.at && ok_at - at > OWN_ITEM_TOLERANCE))
        .count();
    if doubtful > 0 {
        return Err(NoSpan::Unreadable(doubtful));
    }
    if start.new != AlarmState::Alarm {
        return Err(NoSpan::LatestWentTo(start.new.as_str().to_owned()));
    }
    Ok(Span {
        since: start.at,
        until: ok_at,
        began_with_test: start
            .new_reason
            .as_deref()
            .is_some_and(|r| r.starts_with(crate::event::parse::TEST_REASON)),
    })
}

/// Whether `alarm` is a recovery, the only kind of message that states an outage.
pub fn is_recovery(alarm: &Alarm) -> bool {
    alarm.new_state == AlarmState::Ok && alarm.old_state == Some(AlarmState::Alarm)
}

/// `4 min 12 s`, `42 s`, `2 h 5 min`, `3 d 4 h`: two units at most, the larger first, a zero
/// smaller unit left out; under a second is `under 1 s`.
pub fn format_duration(d: TimeDelta) -> String {
    let s = d.num_seconds();
    if s < 1 {
        return "under 1 s".to_owned();
    }
    let two = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big} {big_unit}")
        } else {
            format!("{big} {big_unit} {small} {small_unit}")
        }
    };
    match s {
        ..60 => format!("{s} s"),
        60..3600 => two(s / 60, "min", s % 60, "s"),
        3600..86_400 => two(s / 3600, "h", s % 3600 / 60, "min"),
        _ => two(s / 86_400, "d", s % 86_400 / 3600, "h"),
    }
}

/// `down for 4 min 12 s, since 03:01 UTC` (the date too when the outage began on an earlier
/// day). Plain text: no Slack markup, nothing from outside (callers may escape it all the same).
pub fn summary(span: &Span) -> String {
    let since = if span.since.date_naive() == span.until.date_naive() {
        span.since.format("%H:%M UTC")
    } else {
        span.since.format("%Y-%m-%d %H:%M UTC")
    };
    format!(
        "down for {}, since {since}",
        format_duration(span.duration())
    )
}

/// What the renderer knows about the outage a message ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Outage {
    /// Not a recovery (or enrichment is off): nothing to say.
    #[default]
    NotApplicable,
    /// A recovery whose start could not be found: the message says nothing about it, as before.
    Unknown,
    Known(Span),
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, m, s).unwrap()
    }

    /// A `StateUpdate` item in the shape `describe-alarm-history` shows.
    fn update(at: DateTime<Utc>, old: &str, new: &str) -> HistoryEntry {
        HistoryEntry {
            timestamp: Some(at),
            item_type: Some("StateUpdate".into()),
            data: Some(
                serde_json::json!({
                    "version": "1.0",
                    "oldState": {"stateValue": old, "stateReason": "r"},
                    "newState": {"stateValue": new, "stateReason": "r",
                                 "stateReasonData": {"version": "1.0", "queryDate": "2026-11-20T03:01:00.000+0000"}}
                })
                .to_string(),
            ),
        }
    }

    #[test]
    fn an_outage_a_test_began_says_so() {
        let ok_at = t(3, 5, 12);
        let mut by_test = update(t(3, 4, 0), "OK", "ALARM");
        by_test.data = Some(
            serde_json::json!({
                "version": "1.0",
                "oldState": {"stateValue": "OK", "stateReason": "r"},
                "newState": {"stateValue": "ALARM",
                             "stateReason": "elb-watch test 1a2b-3c: a test alert; no action needed"}
            })
            .to_string(),
        );
        let span = outage(&[by_test], ok_at).unwrap();
        assert!(span.began_with_test);
        let real = outage(&[update(t(3, 4, 0), "OK", "ALARM")], ok_at).unwrap();
        assert!(!real.began_with_test);
    }

    #[test]
    fn several_transitions_the_latest_alarm_before_the_ok_counts() {
        let ok_at = t(3, 5, 12);
        let history = vec![
            // Newest first, as ScanBy=TimestampDescending returns them; a later cycle after
            // this OK (a late, replayed message) is ignored.
            update(t(4, 0, 0), "OK", "ALARM"),
            update(ok_at, "ALARM", "OK"),
            update(t(3, 1, 0), "OK", "ALARM"),
            update(t(2, 50, 0), "ALARM", "OK"),
            update(t(2, 40, 0), "INSUFFICIENT_DATA", "ALARM"),
            HistoryEntry {
                timestamp: Some(t(2, 30, 0)),
                item_type: Some("ConfigurationUpdate".into()),
                data: Some("{\"type\":\"Update\"}".into()),
            },
        ];
        let span = outage(&history, ok_at).unwrap();
        assert_eq!(span.since, t(3, 1, 0));
        assert_eq!(span.until, ok_at);
        assert_eq!(summary(&span), "down for 4 min 12 s, since 03:01 UTC");
        // The order of the items does not matter.
        let mut reversed = history.clone();
        reversed.reverse();
        assert_eq!(outage(&reversed, ok_at), Ok(span));
    }

    #[test]
    fn the_oks_own_item_a_little_off_the_message_time_is_not_the_start() {
        let ok_at = t(3, 5, 12);
        let own = update(ok_at - TimeDelta::milliseconds(40), "ALARM", "OK");
        let history = vec![own, update(t(3, 5, 0), "OK", "ALARM")];
        assert_eq!(outage(&history, ok_at).unwrap().since, t(3, 5, 0));
    }

    #[test]
    fn an_ok_with_no_earlier_alarm_has_no_span() {
        let ok_at = t(3, 5, 12);
        // Only the OK itself.
        assert_eq!(
            outage(&[update(ok_at, "ALARM", "OK")], ok_at),
            Err(NoSpan::NoEarlierTransition)
        );
        // The latest earlier change went elsewhere: the history disagrees with the message.
        let history = vec![
            update(ok_at, "ALARM", "OK"),
            update(t(3, 0, 0), "ALARM", "INSUFFICIENT_DATA"),
            update(t(2, 0, 0), "OK", "ALARM"),
        ];
        assert_eq!(
            outage(&history, ok_at),
            Err(NoSpan::LatestWentTo("INSUFFICIENT_DATA".into()))
        );
        assert_eq!(outage(&[], ok_at), Err(NoSpan::NoEarlierTransition));
    }

    #[test]
    fn an_alarm_older_than_the_history_window_has_no_span() {
        // The window holds the OK and later items only: the ALARM began before it.
        let ok_at = t(3, 5, 12);
        let history = vec![
            update(t(3, 30, 0), "ALARM", "OK"),
            update(t(3, 20, 0), "OK", "ALARM"),
            update(ok_at, "ALARM", "OK"),
        ];
        assert_eq!(outage(&history, ok_at), Err(NoSpan::NoEarlierTransition));
    }

    #[test]
    fn unparsable_history_has_no_span() {
        let ok_at = t(3, 5, 12);
        let garbage = |at: Option<DateTime<Utc>>, data: &str| HistoryEntry {
            timestamp: at,
            item_type: Some("StateUpdate".into()),
            data: Some(data.into()),
        };
        // Nothing readable.
        let history = vec![
            garbage(Some(t(3, 1, 0)), "{not json"),
            garbage(Some(t(3, 0, 0)), r#"{"oldState": {"stateValue": 1}}"#),
        ];
        assert_eq!(outage(&history, ok_at), Err(NoSpan::Unreadable(2)));
        // A readable ALARM, but an unreadable item after it might have ended it.
        let history = vec![
            garbage(Some(t(3, 3, 0)), "{}"),
            update(t(3, 1, 0), "OK", "ALARM"),
        ];
        assert_eq!(outage(&history, ok_at), Err(NoSpan::Unreadable(1)));
        // An item without a timestamp cannot be placed.
        let mut no_time = update(t(3, 3, 0), "ALARM", "OK");
        no_time.timestamp = None;
        assert_eq!(
            outage(&[no_time, update(t(3, 1, 0), "OK", "ALARM")], ok_at),
            Err(NoSpan::Unreadable(1))
        );
        // An unreadable item before the start, or the OK's own, does not matter.
        let history = vec![
            garbage(Some(ok_at), "{}"),
            update(t(3, 1, 0), "OK", "ALARM"),
            garbage(Some(t(2, 0, 0)), "{}"),
        ];
        assert_eq!(outage(&history, ok_at).unwrap().since, t(3, 1, 0));
    }

    #[test]
    fn durations_read_naturally() {
        let d = |s: i64| format_duration(TimeDelta::seconds(s));
        assert_eq!(d(252), "4 min 12 s");
        assert_eq!(d(42), "42 s");
        assert_eq!(d(1), "1 s");
        assert_eq!(format_duration(TimeDelta::milliseconds(400)), "under 1 s");
        assert_eq!(d(-5), "under 1 s");
        assert_eq!(d(300), "5 min");
        assert_eq!(d(3600), "1 h");
        assert_eq!(d(2 * 3600 + 5 * 60 + 59), "2 h 5 min");
        assert_eq!(d(86_400 * 3 + 3600 * 4 + 7), "3 d 4 h");
        assert_eq!(d(86_400), "1 d");
    }

    #[test]
    fn summary_names_the_day_when_the_outage_began_earlier() {
        let span = Span {
            began_with_test: false,
            since: Utc.with_ymd_and_hms(2026, 11, 19, 23, 58, 30).unwrap(),
            until: t(0, 10, 0),
        };
        assert_eq!(
            summary(&span),
            "down for 11 min 30 s, since 2026-11-19 23:58 UTC"
        );
        let sub_minute = Span {
            began_with_test: false,
            since: t(3, 1, 0),
            until: t(3, 1, 42),
        };
        assert_eq!(summary(&sub_minute), "down for 42 s, since 03:01 UTC");
        let hours = Span {
            began_with_test: false,
            since: t(1, 0, 0),
            until: t(3, 30, 0),
        };
        assert_eq!(summary(&hours), "down for 2 h 30 min, since 01:00 UTC");
    }
}
