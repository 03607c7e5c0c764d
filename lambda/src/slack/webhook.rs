//! Delivery of a rendered message to the Slack incoming webhook, with retries (the loop is
//! [`with_retries`], shared with app mode's Web API calls).
//!
//! The webhook's answers:
//! - 2xx: delivered.
//! - 429: wait for `Retry-After` (seconds) and retry, if the wait fits in the time left.
//! - 5xx, 408, timeouts, connection errors: retry with capped exponential backoff and jitter.
//! - any other 4xx (`invalid_payload`, `no_service`, `channel_not_found`...): give up at once,
//!   retrying cannot help.
//!
//! No error or log line produced here contains the URL (reqwest errors are stripped of it).

use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

use crate::runtime::config::Webhook;
use crate::slack::http::{
    DeliveryError, Refusal, RetryPolicy, Step, parse_retry_after, send, with_retries,
};

/// A successful delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub attempts: u32,
    pub status: u16,
}

/// What one attempt says about the next step.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Retry after this long (`None`: use the backoff).
    Retry(Option<Duration>),
    GiveUp,
}

/// Pure classification of an HTTP answer.
pub fn classify(status: StatusCode, retry_after: Option<&str>) -> Verdict {
    if status.is_success() {
        Verdict::Delivered
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Verdict::Retry(parse_retry_after(retry_after))
    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        Verdict::Retry(None)
    } else {
        Verdict::GiveUp
    }
}
/// POSTs `body` (JSON) to the webhook until it is accepted, the policy gives up or `deadline`
/// is near.
pub async fn post(
    client: &reqwest::Client,
    webhook: &Webhook,
    body: &[u8],
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<Delivered, DeliveryError> {
    let (_, attempts, status) = with_retries("webhook", policy, deadline, |timeout| async move {
        let request = client
            .post(webhook.url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(body.to_vec());
        // Slack answers errors with a short token (`invalid_payload`, `no_service`).
        let answer = match send(request, |s| !s.is_success()).await {
            Ok(answer) => answer,
            Err(step) => return (None, step.widen()),
        };
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let text: String = answer.body.chars().take(200).collect();
        let what = format!("HTTP {} {}", answer.status, text.trim());
        let step = match classify(status, answer.retry_after.as_deref()) {
            Verdict::Delivered => Step::Done(()),
            Verdict::Retry(after) => Step::Retry { after, what },
            Verdict::GiveUp => Step::GiveUp(Refusal {
                message: format!("webhook rejected the message: {what}"),
                slack_error: None,
                fix: None,
            }),
        };
        (Some(answer.status), step)
    })
    .await?;
    Ok(Delivered {
        attempts,
        status: status.unwrap_or(200),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(StatusCode::OK, None), Verdict::Delivered);
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, Some("2")),
            Verdict::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, None),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, None),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, None),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify(StatusCode::REQUEST_TIMEOUT, None),
            Verdict::Retry(None)
        );
        assert_eq!(classify(StatusCode::BAD_REQUEST, None), Verdict::GiveUp);
        assert_eq!(classify(StatusCode::NOT_FOUND, None), Verdict::GiveUp);
        assert_eq!(classify(StatusCode::FORBIDDEN, None), Verdict::GiveUp);
    }
}
