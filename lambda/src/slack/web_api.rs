//! Calls to the Slack Web API (`chat.postMessage`, `chat.update`, the file upload's
//! [`uploads`](crate::slack::uploads)), with the same retries and
//! deadline as the webhook ([`http::with_retries`]); what an answer means is decided by
//! [`answer::classify`].
//!
//! Requests follow <https://docs.slack.dev/apis/web-api>: `POST <root><method>`, the arguments
//! as a JSON body (`Content-Type: application/json; charset=utf-8` — without the charset Slack
//! answers with a `missing_charset` warning), the token in `Authorization: Bearer xoxb-…` (a
//! JSON body cannot carry it). The token is never logged nor put in an error: reqwest's errors
//! carry no request headers, and [`slack_api`] never echoes a token-looking string.

use reqwest::Url;
use serde_json::Value;
use tokio::time::Instant;

use crate::runtime::config::{self, BotToken};
use crate::slack::answer::{self, Outcome};
use crate::slack::http::{self, DeliveryError, Refusal, RetryPolicy, Step};

/// A message Slack accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// The channel ID it is in.
    pub channel: String,
    pub ts: String,
    pub attempts: u32,
}

/// A client for one workspace: API root and bot token.
#[derive(Clone, Debug)]
pub struct WebApi {
    http: reqwest::Client,
    root: Url,
    token: BotToken,
}

impl WebApi {
    pub fn new(http: reqwest::Client, root: Url, token: BotToken) -> Self {
        Self { http, root, token }
    }

    /// Calls `method` with the JSON object `args` until Slack answers ok, refuses, or the
    /// policy / deadline stop it.
    pub async fn call(
        &self,
        method: &str,
        args: &Value,
        policy: &RetryPolicy,
        deadline: Instant,
    ) -> Result<Posted, DeliveryError> {
        let ((channel, ts), attempts) = self
            .call_as(method, args, policy, deadline, step_of)
            .await?;
        Ok(Posted {
            channel,
            ts,
            attempts,
        })
    }

    /// [`Self::call`] for any answer: `step` reads each one (method, status, `Retry-After`,
    /// body); the value and the attempts it took.
    pub async fn call_as<T>(
        &self,
        method: &str,
        args: &Value,
        policy: &RetryPolicy,
        deadline: Instant,
        step: fn(&str, u16, Option<&str>, &str) -> Step<T>,
    ) -> Result<(T, u32), DeliveryError> {
        let url = config::method_url(&self.root, method);
        let body = serde_json::to_vec(args).expect("a serde_json::Value always serialises");
        let bearer = self.token.bearer();
        let (value, attempts, _) = http::with_retries(method, policy, deadline, |timeout| {
            let request = self
                .http
                .post(url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/json; charset=utf-8",
                )
                .header(reqwest::header::AUTHORIZATION, bearer.as_str())
                .timeout(timeout)
                .body(body.clone());
            async move {
                let answer = match http::send(request, |_| true).await {
                    Ok(answer) => answer,
                    Err(step) => return (None, step.widen()),
                };
                let step = step(
                    method,
                    answer.status,
                    answer.retry_after.as_deref(),
                    &answer.body,
                );
                (Some(answer.status), step)
            }
        })
        .await?;
        Ok((value, attempts))
    }

    /// The HTTP client, for a request outside the Web API (a file's bytes to its upload URL,
    /// which carries no token).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// What one answer of `method` means for the retry loop. Pure.
pub fn step_of(
    method: &str,
    status: u16,
    retry_after: Option<&str>,
    body: &str,
) -> Step<(String, String)> {
    match answer::classify(status, retry_after, body) {
        Outcome::Ok { ts, channel } => Step::Done((channel, ts)),
        Outcome::RetryAfter(wait) => Step::Retry {
            after: Some(wait),
            what: format!("{method}: HTTP {status}, rate limited"),
        },
        Outcome::Retry => Step::Retry {
            after: None,
            what: format!("{method}: HTTP {status}, transient error"),
        },
        Outcome::Fail {
            error,
            operator_hint,
        } => Step::GiveUp(Refusal {
            message: format!("Slack refused {method}: {error}"),
            slack_error: Some(error),
            fix: Some(operator_hint),
        }),
    }
}

/// Whether Slack refused the call (an `ok: false` answer with an error code, after any
/// retries), as opposed to not answering or failing transiently. For a thread's update or
/// reply, any refusal means the thread cannot carry the alert — `message_not_found`,
/// `channel_not_found`, `cant_update_message`, `edit_window_closed`, `is_archived`,
/// `not_in_channel`, `msg_too_long`, … (<https://docs.slack.dev/reference/methods/chat.update#errors>,
/// <https://docs.slack.dev/reference/methods/chat.postMessage#errors>): post on its own instead.
pub fn is_refusal(error: &DeliveryError) -> bool {
    error.slack_error.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn answers_become_steps() {
        let ok = r#"{"ok":true,"channel":"C0ALERTS","ts":"1700000000.000100"}"#;
        assert_eq!(
            step_of("chat.postMessage", 200, None, ok),
            Step::Done(("C0ALERTS".into(), "1700000000.000100".into()))
        );
        assert!(matches!(
            step_of("chat.postMessage", 429, Some("2"), r#"{"ok":false,"error":"ratelimited"}"#),
            Step::Retry { after: Some(d), .. } if d == Duration::from_secs(2)
        ));
        assert!(matches!(
            step_of("chat.update", 503, None, ""),
            Step::Retry { after: None, .. }
        ));
        match step_of(
            "chat.update",
            200,
            None,
            r#"{"ok":false,"error":"not_in_channel"}"#,
        ) {
            Step::GiveUp(r) => {
                assert_eq!(r.slack_error.as_deref(), Some("not_in_channel"));
                assert!(r.fix.unwrap().contains("/invite"));
                assert_eq!(r.message, "Slack refused chat.update: not_in_channel");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals_are_slack_error_codes() {
        let error = |code: Option<&str>| DeliveryError {
            attempts: 1,
            last_status: Some(200),
            message: String::new(),
            permanent: true,
            slack_error: code.map(str::to_owned),
            fix: None,
        };
        for code in [
            "message_not_found",
            "channel_not_found",
            "cant_update_message",
            "edit_window_closed",
            "is_archived",
            "msg_too_long",
            "not_in_channel",
        ] {
            assert!(is_refusal(&error(Some(code))), "{code}");
        }
        // A timeout or a 5xx after every retry: Slack said nothing.
        assert!(!is_refusal(&error(None)));
    }
}
