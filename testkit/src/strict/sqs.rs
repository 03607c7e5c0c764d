//! Rule 12 — SQS `QueueDeletedRecently`: after DeleteQueue, CreateQueue with the same name is
//! refused with HTTP 400 `QueueDeletedRecently` ("You must wait 60 seconds after deleting a
//! queue before you can create another queue with the same name.")
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html>
//! (Errors: QueueDeletedRecently),
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html>
//! ("wait at least 60 seconds before creating a queue with the same name"). moto deletes and
//! re-creates at once, so `down` followed by `up` would never meet it.
//!
//! SQS speaks JSON 1.0 and is `@awsQueryCompatible`: the error's shape name goes in `__type`
//! and its query code, `AWS.SimpleQueueService.QueueDeletedRecently`, in `x-amzn-query-error`
//! (the code older SDKs and the AWS CLI show).
//!
//! AWS's 60 s is scaled to `StrictConfig::queue_name_reuse` (default 3 s) so the suite does not
//! wait a minute after every `down`; `ELB_WATCH_STRICT_QUEUE_REUSE_MS` sets it.

use super::protocol::{Call, Protocol};
use super::{Inner, StrictConfig};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::time::Instant;

pub const CODE: &str = "AWS.SimpleQueueService.QueueDeletedRecently";
pub const MESSAGE: &str = "You must wait 60 seconds after deleting a queue before you can \
                           create another queue with the same name.";

/// Deleted queues, `region:name` → when.
#[derive(Default)]
pub(crate) struct Deleted(HashMap<String, Instant>);

/// The queue name at the end of a queue URL (`https://…/ACCOUNT/NAME`).
fn queue_name(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

/// After moto accepted a call: remember DeleteQueue.
pub(crate) fn record(inner: &mut Inner, call: &Call) {
    if call.is("sqs", "DeleteQueue")
        && let Some(url) = call.value("QueueUrl")
    {
        let key = format!("{}:{}", call.region, queue_name(&url));
        inner.deleted_queues.0.insert(key, Instant::now());
    }
}

/// Before moto: refuse to re-create a just-deleted queue's name.
pub(crate) fn check(inner: &mut Inner, config: &StrictConfig, call: &Call) -> Option<Response> {
    if !call.is("sqs", "CreateQueue") || config.queue_name_reuse.is_zero() {
        return None;
    }
    let name = call.value("QueueName")?;
    let deleted = *inner
        .deleted_queues
        .0
        .get(&format!("{}:{name}", call.region))?;
    if deleted.elapsed() >= config.queue_name_reuse {
        return None;
    }
    inner.count("queue-deleted-recently", &call.operation);
    Some(refusal(call))
}

fn refusal(call: &Call) -> Response {
    match &call.protocol {
        Protocol::Json { content_type } => {
            let body = serde_json::json!({
                "__type": "com.amazonaws.sqs#QueueDeletedRecently",
                "message": MESSAGE,
            })
            .to_string();
            let mut resp = (
                StatusCode::BAD_REQUEST,
                [("content-type", content_type.as_str())],
                body,
            )
                .into_response();
            if let Ok(v) = format!("{CODE};Sender").parse() {
                resp.headers_mut().insert("x-amzn-query-error", v);
            }
            resp
        }
        _ => super::protocol::error(call, StatusCode::BAD_REQUEST, CODE, MESSAGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_last_segment_of_the_url() {
        assert_eq!(
            queue_name("http://localhost:5000/123456789012/elb-watch-prod-undelivered"),
            "elb-watch-prod-undelivered"
        );
        assert_eq!(queue_name("https://sqs.us-east-1.amazonaws.com/1/q/"), "q");
    }
}
