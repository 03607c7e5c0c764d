//! The queue and Lambda calls of `elb-watch replay`: read every queued record (kept invisible
//! to other readers while replay runs), invoke the deployed notifier synchronously, delete a
//! record only once its alert was delivered, and make the others visible again.

use crate::aws::{AwsResultExt, Clients};
use crate::state::undelivered::{QueuedAlert, parse_record};
use anyhow::Result;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::Value;

/// How long read records stay invisible to other readers: long enough for a replay of many
/// alerts (each is one notifier invocation, ≤ its 30 s timeout); records not deleted are made
/// visible again explicitly, so a crashed replay delays them by this at most.
pub const VISIBILITY_S: i32 = 900;
/// At most this many records per run (SQS keeps at most 120,000 in flight per queue).
pub const MAX_RECORDS: usize = 10_000;

/// A message on the queue that is not an invocation record.
#[derive(Debug, Clone)]
pub struct Foreign {
    pub receipt_handle: String,
}

/// Every message on the queue, received with [`VISIBILITY_S`]: records, and the others.
pub async fn receive_all(clients: &Clients, url: &str) -> Result<(Vec<QueuedAlert>, Vec<Foreign>)> {
    let mut alerts = Vec::new();
    let mut foreign = Vec::new();
    while alerts.len() + foreign.len() < MAX_RECORDS {
        // Long polling (1 s) asks every SQS server: an empty answer means the queue is drained
        // (short polling samples a subset and may answer empty while messages remain).
        let out = clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_S)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .aws("SQS ReceiveMessage")?;
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            let handle = m.receipt_handle().unwrap_or_default();
            let sent = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            match parse_record(
                m.message_id().unwrap_or_default(),
                handle,
                sent,
                m.body().unwrap_or_default(),
            ) {
                Some(a) => alerts.push(a),
                None => foreign.push(Foreign {
                    receipt_handle: handle.to_string(),
                }),
            }
        }
    }
    Ok((alerts, foreign))
}

/// Make a received message visible again at once.
pub async fn release(clients: &Clients, url: &str, receipt_handle: &str) -> Result<()> {
    clients
        .sqs
        .change_message_visibility()
        .queue_url(url)
        .receipt_handle(receipt_handle)
        .visibility_timeout(0)
        .send()
        .await
        .aws("SQS ChangeMessageVisibility")?;
    Ok(())
}

pub async fn delete(clients: &Clients, url: &str, receipt_handle: &str) -> Result<()> {
    clients
        .sqs
        .delete_message()
        .queue_url(url)
        .receipt_handle(receipt_handle)
        .send()
        .await
        .aws("SQS DeleteMessage")?;
    Ok(())
}

/// Invoke the notifier synchronously; `Ok(None)` when it delivered, `Ok(Some(why))` when the
/// function failed (`X-Amz-Function-Error`), `Err` when Lambda refused the call.
pub async fn invoke(clients: &Clients, function: &str, payload: &Value) -> Result<Option<String>> {
    let out = clients
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(serde_json::to_vec(payload)?))
        .send()
        .await
        .aws("Lambda InvokeFunction")?;
    Ok(out.function_error().map(|kind| {
        let body: Value = out
            .payload()
            .and_then(|p| serde_json::from_slice(p.as_ref()).ok())
            .unwrap_or(Value::Null);
        match body["errorMessage"].as_str() {
            Some(m) => format!("{kind}: {m}"),
            None => kind.to_string(),
        }
    }))
}
