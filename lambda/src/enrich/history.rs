//! Reading a recovered alarm's history (CloudWatch `DescribeAlarmHistory`), so the recovery
//! can say how long the outage lasted ([`outage`](crate::enrich::outage) computes it).
//!
//! One bounded call: `HistoryItemType=StateUpdate`, newest first (`ScanBy=TimestampDescending`),
//! ending just after the OK (`EndDate`: a late or replayed message is not confused by later
//! changes), and only a few items — the latest transition before the OK is all that counts.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>
//!
//! The role may read the history of its env's alarms only
//! (`arn:…:cloudwatch:REGION:ACCOUNT:alarm:elb-watch-ENV-*`, src/policy.rs); an alarm of
//! someone else's on the topic is refused, and its recovery goes out without a duration.

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use chrono::{DateTime, Utc};
use cloudwatch::types::{AlarmHistoryItem, HistoryItemType, ScanBy};

use crate::enrich::outage::{HistoryEntry, OWN_ITEM_TOLERANCE};
use crate::enrich::targets::sdk_error_text;

/// Items asked for: the OK's own item and the transition into ALARM before it come first; the
/// rest is slack for items sharing a timestamp.
pub const MAX_RECORDS: i32 = 10;

/// The SDK's item, as [`outage`](crate::enrich::outage) reads it. CloudWatch's timestamps have
/// millisecond precision; one that came as a floating-point number of seconds
/// (`1795143660.118` is `…659.117999999` in binary) is rounded back to its millisecond.
pub fn entry_from(item: &AlarmHistoryItem) -> HistoryEntry {
    HistoryEntry {
        timestamp: item.timestamp().and_then(|t| {
            let ms = (t.as_nanos() + 500_000).div_euclid(1_000_000);
            DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).ok()?)
        }),
        item_type: item.history_item_type().map(|t| t.as_str().to_owned()),
        data: item.history_data().map(str::to_owned),
    }
}

/// The alarm's state changes up to `ok_at`, newest first, within `timeout`. The error is a
/// line for the log (`AccessDenied: …`, `timed out after 2000 ms`, a transport error).
pub async fn state_updates(
    client: &cloudwatch::Client,
    alarm_name: &str,
    ok_at: DateTime<Utc>,
    timeout: Duration,
) -> Result<Vec<HistoryEntry>, String> {
    let end = ok_at + OWN_ITEM_TOLERANCE;
    let call = client
        .describe_alarm_history()
        .alarm_name(alarm_name)
        .history_item_type(HistoryItemType::StateUpdate)
        .end_date(cloudwatch::primitives::DateTime::from_secs_and_nanos(
            end.timestamp(),
            end.timestamp_subsec_nanos(),
        ))
        .scan_by(ScanBy::TimestampDescending)
        .max_records(MAX_RECORDS)
        .send();
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(sdk_error_text(&e)),
        Ok(Ok(out)) => Ok(out.alarm_history_items().iter().map(entry_from).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_items_become_entries() {
        let item = AlarmHistoryItem::builder()
            .alarm_name("a")
            .timestamp(cloudwatch::primitives::DateTime::from_secs_and_nanos(
                1_795_143_660,
                500_000_000,
            ))
            .history_item_type(HistoryItemType::StateUpdate)
            .history_summary("Alarm updated from OK to ALARM")
            .history_data(r#"{"version":"1.0","oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM"}}"#)
            .build();
        let e = entry_from(&item);
        assert_eq!(
            e.timestamp.unwrap().to_rfc3339(),
            "2026-11-20T03:01:00.500+00:00"
        );
        assert_eq!(e.item_type.as_deref(), Some("StateUpdate"));
        let float = AlarmHistoryItem::builder()
            .timestamp(cloudwatch::primitives::DateTime::from_fractional_secs(
                1_795_143_660,
                0.118,
            ))
            .build();
        assert_eq!(
            entry_from(&float).timestamp.unwrap().to_rfc3339(),
            "2026-11-20T03:01:00.118+00:00"
        );
        let below = AlarmHistoryItem::builder()
            .timestamp(cloudwatch::primitives::DateTime::from_secs_and_nanos(
                1_795_143_659,
                999_999_999,
            ))
            .build();
        assert_eq!(
            entry_from(&below).timestamp.unwrap().to_rfc3339(),
            "2026-11-20T03:01:00+00:00"
        );
        assert!(matches!(
            crate::enrich::outage::read(&e),
            crate::enrich::outage::Reading::Transition(t) if t.new == crate::event::parse::AlarmState::Alarm
        ));
        assert_eq!(
            entry_from(&AlarmHistoryItem::builder().build()),
            HistoryEntry::default()
        );
    }
}
