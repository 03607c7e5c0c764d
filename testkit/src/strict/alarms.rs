//! Rule 8 — a new alarm starts in INSUFFICIENT_DATA; an updated alarm keeps its state.
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>:
//! "When this operation creates an alarm, the alarm state is immediately set to
//! INSUFFICIENT_DATA. The alarm is then evaluated and its state is set appropriately." and
//! "When you update an existing alarm, its state is left unchanged". moto starts every alarm in
//! OK and resets it to OK on every PutMetricAlarm; the proxy asks moto for the alarm's state
//! before forwarding and sets it afterwards with SetAlarmState (reason "Unchecked: Initial
//! alarm creation", as CloudWatch shows). moto runs no alarm actions on SetAlarmState.

use super::Shared;
use super::protocol::{self, Call};
use axum::http::HeaderMap;

/// The alarm's state and reason before the call (`None`: it did not exist).
pub(crate) type Prior = Option<(String, String)>;

pub(crate) async fn moto_query(
    shared: &Shared,
    headers: &HeaderMap,
    form: &[(&str, &str)],
) -> Option<String> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = shared
        .client
        .post(format!("{}/", shared.upstream))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body);
    // Region and account come from the caller's credential scope.
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok()
}

fn alarm_name(call: &Call) -> Option<String> {
    if call.is("monitoring", "PutMetricAlarm") {
        call.value("AlarmName")
    } else {
        None
    }
}

pub(crate) async fn before(shared: &Shared, call: &Call, headers: &HeaderMap) -> Option<Prior> {
    if !shared.config.alarm_initial_state {
        return None;
    }
    let name = alarm_name(call)?;
    state_of(shared, headers, &name).await
}

/// The alarm's state and reason in moto (`Some(None)`: no such alarm; `None`: moto did not
/// answer). Also read by rule 11 (history.rs) before a SetAlarmState.
pub(crate) async fn state_of(shared: &Shared, headers: &HeaderMap, name: &str) -> Option<Prior> {
    let text = moto_query(
        shared,
        headers,
        &[
            ("Action", "DescribeAlarms"),
            ("Version", "2010-08-01"),
            ("AlarmNames.member.1", name),
        ],
    )
    .await?;
    let state = protocol::xml_text(&text, "StateValue");
    Some(state.map(|s| {
        (
            s,
            protocol::xml_text(&text, "StateReason").unwrap_or_default(),
        )
    }))
}

pub(crate) async fn after(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    prior: Option<Prior>,
    ok: bool,
) {
    let (Some(prior), true) = (prior, ok) else {
        return;
    };
    let Some(name) = alarm_name(call) else {
        return;
    };
    let (state, reason) = match prior {
        None => (
            "INSUFFICIENT_DATA".to_string(),
            "Unchecked: Initial alarm creation".to_string(),
        ),
        Some((state, _)) if state == "OK" => return,
        Some(prior) => prior,
    };
    let done = moto_query(
        shared,
        headers,
        &[
            ("Action", "SetAlarmState"),
            ("Version", "2010-08-01"),
            ("AlarmName", &name),
            ("StateValue", &state),
            ("StateReason", &reason),
        ],
    )
    .await;
    if done.is_some() {
        shared.lock().count("alarm-state", &call.operation);
    }
}
