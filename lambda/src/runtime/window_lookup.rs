//! The CloudWatch calls of a window's end ([`window_end`](crate::runtime::window_end)), in the
//! function's own region: GetAlarmMuteRule (a rule's `MuteTargets.AlarmNames`) and
//! DescribeAlarms (`AlarmNames`, at most 100 a call, `StateValue=ALARM`). Thin: each call is
//! bounded by `timeout`, and its error is a line for the log and the invocation's error
//! (`AccessDenied: …`, `ResourceNotFound: …`, `timed out after 5000 ms`, a transport error).
//!
//! The role needs `cloudwatch:GetAlarmMuteRule` on the env's mute rules
//! (`arn:…:cloudwatch:REGION:ACCOUNT:alarm-mute-rule:…`) and `cloudwatch:DescribeAlarms` on
//! its alarms.

use std::time::Duration;

use aws_sdk_cloudwatch as cloudwatch;
use cloudwatch::types::{MetricAlarm, StateValue};

use crate::enrich::targets::sdk_error_text;
use crate::runtime::window_end::NAMES_PER_CALL;

/// At most this many pages per DescribeAlarms chunk (100 names fit in one page of 100).
const MAX_PAGES: usize = 10;

async fn bounded<T, E>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, E>>,
    text: impl FnOnce(&E) -> String,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(text(&e)),
        Ok(Ok(out)) => Ok(out),
    }
}

/// The alarms mute rule `rule` targets; `None` when the rule no longer exists (`unmute` or
/// `down` deleted it: that window ended there, and `unmute` announced it itself).
pub async fn rule_targets(
    client: &cloudwatch::Client,
    rule: &str,
    timeout: Duration,
) -> Result<Option<Vec<String>>, String> {
    let call = client
        .get_alarm_mute_rule()
        .alarm_mute_rule_name(rule)
        .send();
    let out = match tokio::time::timeout(timeout, call).await {
        Err(_) => return Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) if is_not_found(&e) => return Ok(None),
        Ok(Err(e)) => return Err(sdk_error_text(&e)),
        Ok(Ok(out)) => out,
    };
    Ok(Some(
        out.mute_targets()
            .map(|t| t.alarm_names().to_vec())
            .unwrap_or_default(),
    ))
}

/// GetAlarmMuteRule's `ResourceNotFound` (the API reference's code; `…Exception` tolerated).
fn is_not_found<E: cloudwatch::error::ProvideErrorMetadata, R>(
    e: &cloudwatch::error::SdkError<E, R>,
) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c.starts_with("ResourceNotFound"))
}

/// Those of `names` that are in ALARM (metric alarms), [`NAMES_PER_CALL`] names a call.
pub async fn in_alarm(
    client: &cloudwatch::Client,
    names: &[String],
    timeout: Duration,
) -> Result<Vec<MetricAlarm>, String> {
    let mut found = Vec::new();
    for chunk in names.chunks(NAMES_PER_CALL) {
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let call = client
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .state_value(StateValue::Alarm)
                .max_records(100)
                .set_next_token(next.take())
                .send();
            let out = bounded(timeout, call, sdk_error_text).await?;
            found.extend(out.metric_alarms().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(found)
}
