//! Rule 11 — every alarm state change is in the alarm's history, and DescribeAlarmHistory
//! answers it.
//!
//! AWS: CloudWatch records each state change of an alarm as a `StateUpdate` history item and
//! keeps the history even after the alarm is deleted
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>;
//! item: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html>,
//! `HistoryData` as `aws cloudwatch describe-alarm-history` shows it:
//! `{"version":"1.0","oldState":{"stateValue":…,"stateReason":…},"newState":{…}}`,
//! `HistorySummary` "Alarm updated from OK to ALARM"). moto (5.2) keeps a list of an alarm's
//! earlier states internally but has no DescribeAlarmHistory: it answers 500 ("The
//! describe_alarm_history action has not been implemented").
//!
//! The layer keeps the history itself: state changes made through it (SetAlarmState; its prior
//! state read from moto first) and those the stand-in for CloudWatch's evaluation reports
//! ([`StrictProxy::record_state_change`]: `topology::alarm_event` sets states on moto directly,
//! unthrottled, and reports each change with the `StateChangeTime` of the message it builds).
//! DescribeAlarmHistory (JSON 1.0, what the CBOR bridge hands the layer) is still sent to moto
//! first, so moto's IAM enforcement decides who may read it (a refusal comes back as
//! `AccessDenied`, rule 10); the answer is then the layer's: filtered by `AlarmName`,
//! `HistoryItemType`, `StartDate`/`EndDate` (inclusive), ordered by `ScanBy` (default newest
//! first), `MaxRecords` (1–100, default 100) per page with a `NextToken`. Only `StateUpdate`
//! items exist here (no `ConfigurationUpdate` or `Action` items).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::protocol::{self, Call, Protocol};
use super::{Shared, StrictProxy, alarms, denied, forward};

/// One state change of one alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// Region of the alarm (its ARN's).
    pub region: String,
    pub alarm: String,
    pub old_state: String,
    pub old_reason: String,
    pub new_state: String,
    pub new_reason: String,
    /// Epoch milliseconds.
    pub at_ms: i64,
}

/// Every state change the layer knows of, oldest first.
#[derive(Default)]
pub(crate) struct Record {
    changes: Vec<StateChange>,
}

impl Record {
    /// Adds a state change the layer itself made (rule 14's evaluation).
    pub(crate) fn push(&mut self, change: StateChange) {
        self.changes.push(change);
    }
}

impl StrictProxy {
    /// Adds a state change made on moto behind the layer's back (the stand-in for CloudWatch's
    /// alarm evaluation does that), so that DescribeAlarmHistory shows it as AWS would.
    pub fn record_state_change(&self, change: StateChange) {
        let mut inner = self.shared.lock();
        inner.count("alarm-history", "recorded");
        inner.history.changes.push(change);
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Epoch milliseconds of CloudWatch's message timestamps, `2026-11-20T03:15:42.118+0000`
/// (UTC offsets `+0000`/`Z` only: what CloudWatch writes); days-from-civil, no extra crate.
pub fn epoch_ms(cloudwatch_time: &str) -> Option<i64> {
    let t = cloudwatch_time
        .strip_suffix("+0000")
        .or_else(|| cloudwatch_time.strip_suffix('Z'))?;
    let (date, time) = t.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut h = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next()??);
    let ms = format!("{frac:0<3}").get(..3)?.parse::<i64>().ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms)
}

/// The state SetAlarmState is about to change (read from moto), or `None` when the call is not
/// one or the rule is off.
pub(crate) async fn before(shared: &Shared, call: &Call, headers: &HeaderMap) -> Option<String> {
    if !shared.config.alarm_history || !call.is("monitoring", "SetAlarmState") {
        return None;
    }
    let name = call.value("AlarmName")?;
    alarms::state_of(shared, headers, &name)
        .await
        .flatten()
        .map(|(state, _reason)| state)
}

/// Records a SetAlarmState moto accepted that changed the state.
pub(crate) fn after(shared: &Shared, call: &Call, prior: Option<String>, ok: bool) {
    let (Some(old_state), true) = (prior, ok) else {
        return;
    };
    let (Some(alarm), Some(new_state)) = (call.value("AlarmName"), call.value("StateValue")) else {
        return;
    };
    if new_state == old_state {
        return;
    }
    let mut inner = shared.lock();
    inner.count("alarm-history", &call.operation);
    inner.history.changes.push(StateChange {
        region: call.region.clone(),
        alarm,
        old_state,
        old_reason: String::new(),
        new_reason: call.value("StateReason").unwrap_or_default(),
        new_state,
        at_ms: now_ms(),
    });
}

/// DescribeAlarmHistory over JSON: moto authorises, the layer answers.
pub(crate) async fn answer(
    shared: &Shared,
    call: &Call,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    if !shared.config.alarm_history
        || !call.is("monitoring", "DescribeAlarmHistory")
        || !matches!(call.protocol, Protocol::Json { .. })
    {
        return None;
    }
    let up = match forward(shared, method, uri, headers, body.clone()).await {
        Ok(up) => up,
        Err(e) => return Some((StatusCode::BAD_GATEWAY, e).into_response()),
    };
    if let Some(refused) = denied::rewrite(call, &up) {
        return Some(refused);
    }
    let page = {
        let mut inner = shared.lock();
        inner.count("alarm-history", &call.operation);
        page(&inner.history.changes, call)
    };
    Some(match page {
        Ok(v) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.0")],
            v.to_string(),
        )
            .into_response(),
        Err(message) => {
            protocol::error(call, StatusCode::BAD_REQUEST, "InvalidNextToken", &message)
        }
    })
}

/// A JSON number (epoch seconds) or string of digits, as epoch milliseconds.
fn epoch_param(v: &Value) -> Option<i64> {
    let secs = v.as_f64().or_else(|| v.as_str()?.parse().ok())?;
    Some((secs * 1000.0).round() as i64)
}

/// One page of the answer, in the output shape.
fn page(changes: &[StateChange], call: &Call) -> Result<Value, String> {
    let input = &call.json;
    let name = input["AlarmName"].as_str();
    let wanted_type = input["HistoryItemType"].as_str().unwrap_or("StateUpdate");
    let start = epoch_param(&input["StartDate"]);
    let end = epoch_param(&input["EndDate"]);
    let mut items: Vec<&StateChange> = changes
        .iter()
        .filter(|c| c.region == call.region)
        .filter(|c| name.is_none_or(|n| c.alarm == n))
        .filter(|_| wanted_type == "StateUpdate")
        .filter(|c| start.is_none_or(|s| c.at_ms >= s) && end.is_none_or(|e| c.at_ms <= e))
        .collect();
    items.sort_by_key(|c| c.at_ms);
    if input["ScanBy"].as_str() != Some("TimestampAscending") {
        items.reverse();
    }
    let size = input["MaxRecords"]
        .as_u64()
        .map_or(100, |n| n.clamp(1, 100) as usize);
    let from = match input["NextToken"].as_str() {
        None => 0,
        Some(t) => t
            .strip_prefix("strict-history-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| format!("The next token {t} is invalid."))?,
    };
    let to = (from + size).min(items.len());
    let mut out = json!({
        "AlarmHistoryItems": items[from..to].iter().map(|c| item(c)).collect::<Vec<_>>()
    });
    if to < items.len() {
        out["NextToken"] = json!(format!("strict-history-{to}"));
    }
    Ok(out)
}

/// A `StateUpdate` item as CloudWatch writes it.
fn item(c: &StateChange) -> Value {
    let state = |value: &str, reason: &str| {
        let mut s = json!({"stateValue": value});
        if !reason.is_empty() {
            s["stateReason"] = json!(reason);
        }
        s
    };
    json!({
        "AlarmName": c.alarm,
        "AlarmType": "MetricAlarm",
        "Timestamp": c.at_ms as f64 / 1000.0,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": format!("Alarm updated from {} to {}", c.old_state, c.new_state),
        "HistoryData": json!({
            "version": "1.0",
            "oldState": state(&c.old_state, &c.old_reason),
            "newState": state(&c.new_state, &c.new_reason),
        })
        .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strict::lambda_async::chrono_like;

    #[test]
    fn cloudwatch_times_read_back() {
        for ms in [0, 1_795_143_660_118, 951_782_400_000, 1_709_164_800_999] {
            let iso = chrono_like(ms).replace('Z', "+0000");
            assert_eq!(epoch_ms(&iso), Some(ms), "{iso}");
        }
        assert_eq!(epoch_ms("2026-11-20T03:01:00Z"), Some(1_795_143_660_000));
        assert_eq!(
            epoch_ms("2026-11-20T03:01:00.5+0000"),
            Some(1_795_143_660_500)
        );
        assert_eq!(epoch_ms("2026-11-20T03:01:00+0900"), None);
        assert_eq!(epoch_ms("yesterday"), None);
    }

    fn call(input: Value) -> Call {
        protocol::cloudwatch_json_call("DescribeAlarmHistory", input)
    }

    fn change(alarm: &str, old: &str, new: &str, at_s: i64) -> StateChange {
        StateChange {
            region: "us-east-1".into(),
            alarm: alarm.into(),
            old_state: old.into(),
            old_reason: String::new(),
            new_state: new.into(),
            new_reason: "because".into(),
            at_ms: at_s * 1000,
        }
    }

    #[test]
    fn pages_filter_order_and_carry_the_documented_item_shape() {
        let changes = vec![
            change("a", "INSUFFICIENT_DATA", "OK", 100),
            change("a", "OK", "ALARM", 200),
            change("b", "OK", "ALARM", 250),
            change("a", "ALARM", "OK", 300),
        ];
        let p = page(&changes, &call(json!({"AlarmName": "a", "EndDate": 250}))).unwrap();
        let items = p["AlarmHistoryItems"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{p}");
        assert_eq!(items[0]["Timestamp"], 200.0, "newest first");
        assert_eq!(items[0]["HistorySummary"], "Alarm updated from OK to ALARM");
        let data: Value = serde_json::from_str(items[0]["HistoryData"].as_str().unwrap()).unwrap();
        assert_eq!(data["oldState"]["stateValue"], "OK");
        assert_eq!(data["newState"]["stateValue"], "ALARM");
        assert_eq!(data["newState"]["stateReason"], "because");

        let p = page(
            &changes,
            &call(json!({"AlarmName": "a", "ScanBy": "TimestampAscending", "MaxRecords": 2})),
        )
        .unwrap();
        assert_eq!(p["AlarmHistoryItems"][0]["Timestamp"], 100.0);
        assert_eq!(p["NextToken"], "strict-history-2");
        let rest = page(
            &changes,
            &call(
                json!({"AlarmName": "a", "ScanBy": "TimestampAscending", "MaxRecords": 2,
                         "NextToken": "strict-history-2"}),
            ),
        )
        .unwrap();
        assert_eq!(rest["AlarmHistoryItems"][0]["Timestamp"], 300.0);
        assert!(rest.get("NextToken").is_none());

        let none = page(&changes, &call(json!({"HistoryItemType": "Action"}))).unwrap();
        assert_eq!(none["AlarmHistoryItems"], json!([]));
        assert!(page(&changes, &call(json!({"NextToken": "x"}))).is_err());
    }
}
