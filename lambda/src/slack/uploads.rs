//! A file into a Slack thread, Slack's current way (`files.upload` is retired:
//! <https://docs.slack.dev/changelog/2024-04-a-better-way-to-upload-files-is-here-to-stay>):
//!
//! 1. `files.getUploadURLExternal` with `filename`, `length` (bytes) and `alt_txt` (for a
//!    screen reader) → `upload_url`, `file_id`
//!    (<https://docs.slack.dev/reference/methods/files.getUploadURLExternal>);
//! 2. the bytes POSTed to `upload_url` (no token: the URL is the ticket; Slack answers 200);
//! 3. `files.completeUploadExternal` with `files=[{id, title}]`, `channel_id` and `thread_ts`
//!    (the parent's `ts`: "Never use a reply's ts value")
//!    (<https://docs.slack.dev/reference/methods/files.completeUploadExternal>). Not calling it
//!    discards the upload.
//!
//! Both methods need the bot scope `files:write`; without it Slack answers `missing_scope`
//! with `needed: files:write`, which the error carries with its fix ([`answer`]). Their other
//! documented refusals (`invalid_arguments`, `not_in_channel`, `channel_not_found`,
//! `file_not_found`, `file_uploads_disabled`, …) come back the same way, Slack's code in
//! [`DeliveryError::slack_error`]. Rate limits and transient errors are retried like every
//! Web API call ([`http::with_retries`]), within the deadline given.

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::slack::answer::{self, Outcome};
use crate::slack::http::{self, DeliveryError, Refusal, RetryPolicy, Step};
use crate::slack::web_api::WebApi;

/// The longest the three steps may take together (within the invocation's deadline too): the
/// alert is already posted, a stuck upload must not hold the invocation.
pub const BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// A file to share.
pub struct Upload<'a> {
    pub filename: &'a str,
    pub title: &'a str,
    pub alt_txt: &'a str,
    pub bytes: &'a [u8],
}

/// Where it goes: a channel ID and the thread's parent `ts`.
pub struct Destination<'a> {
    pub channel: &'a str,
    pub thread_ts: &'a str,
}

/// The file shared, and the HTTP attempts it took (all three steps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared {
    pub file_id: String,
    pub attempts: u32,
}

/// Uploads `file` into `into`'s thread: the three steps, each retried within `deadline`.
pub async fn share(
    api: &WebApi,
    file: &Upload<'_>,
    into: &Destination<'_>,
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<Shared, DeliveryError> {
    let (ticket, a1) = api
        .call_as(
            "files.getUploadURLExternal",
            &json!({"filename": file.filename, "length": file.bytes.len(), "alt_txt": file.alt_txt}),
            policy,
            deadline,
            files_step,
        )
        .await?;
    let (Some(url), Some(file_id)) = (
        ticket["upload_url"].as_str(),
        ticket["file_id"].as_str().map(str::to_owned),
    ) else {
        return Err(invalid(
            "files.getUploadURLExternal answered without upload_url or file_id",
        ));
    };
    let url = reqwest::Url::parse(url).map_err(|_| {
        invalid("files.getUploadURLExternal answered an upload_url that is not a URL")
    })?;
    let a2 = post_bytes(api, url, file.bytes, policy, deadline).await?;
    let (_, a3) = api
        .call_as(
            "files.completeUploadExternal",
            &json!({
                "files": [{"id": file_id, "title": file.title}],
                "channel_id": into.channel,
                "thread_ts": into.thread_ts,
            }),
            policy,
            deadline,
            files_step,
        )
        .await?;
    Ok(Shared {
        file_id,
        attempts: a1 + a2 + a3,
    })
}

fn invalid(message: &str) -> DeliveryError {
    DeliveryError {
        attempts: 1,
        last_status: Some(200),
        message: message.to_owned(),
        permanent: true,
        slack_error: Some("invalid_response".into()),
        fix: Some("check the Slack API URL".into()),
    }
}

/// Step 2: the bytes to the upload URL (raw, `application/octet-stream`).
async fn post_bytes(
    api: &WebApi,
    url: reqwest::Url,
    bytes: &[u8],
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<u32, DeliveryError> {
    let body = bytes.to_vec();
    let ((), attempts, _) = http::with_retries("upload", policy, deadline, |timeout| {
        let request = api
            .http()
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .timeout(timeout)
            .body(body.clone());
        async move {
            match http::send(request, |_| false).await {
                Err(step) => (None, step.widen()),
                Ok(answer) => (Some(answer.status), upload_step(answer.status)),
            }
        }
    })
    .await?;
    Ok(attempts)
}

/// What the upload URL's answer means: 200 done, 429 / 5xx retried, anything else refused.
pub fn upload_step(status: u16) -> Step<()> {
    match status {
        200..=299 => Step::Done(()),
        429 | 408 | 500..=599 => Step::Retry {
            after: None,
            what: format!("upload: HTTP {status}"),
        },
        _ => Step::GiveUp(Refusal {
            message: format!("Slack refused the file's bytes: HTTP {status}"),
            slack_error: Some(format!("upload_http_{status}")),
            fix: Some(
                "the upload URL expired or is wrong: nothing to fix, the next alert tries again"
                    .into(),
            ),
        }),
    }
}

/// What a `files.*` answer means: `ok: true` is the answer itself; everything else as for
/// any Web API call ([`answer::classify`]).
pub fn files_step(method: &str, status: u16, retry_after: Option<&str>, body: &str) -> Step<Value> {
    if (200..300).contains(&status)
        && let Ok(json) = serde_json::from_str::<Value>(body)
        && json.get("ok").and_then(Value::as_bool) == Some(true)
    {
        return Step::Done(json);
    }
    match answer::classify(status, retry_after, body) {
        Outcome::RetryAfter(wait) => Step::Retry {
            after: Some(wait),
            what: format!("{method}: HTTP {status}, rate limited"),
        },
        Outcome::Ok { .. } | Outcome::Retry => Step::Retry {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_answers_become_steps() {
        let ok =
            r#"{"ok":true,"upload_url":"https://files.slack.com/upload/v1/abc","file_id":"F0ABC"}"#;
        match files_step("files.getUploadURLExternal", 200, None, ok) {
            Step::Done(v) => assert_eq!(v["file_id"], "F0ABC"),
            other => panic!("{other:?}"),
        }
        let scope = r#"{"ok":false,"error":"missing_scope","needed":"files:write","provided":"chat:write"}"#;
        match files_step("files.getUploadURLExternal", 200, None, scope) {
            Step::GiveUp(r) => {
                assert_eq!(r.slack_error.as_deref(), Some("missing_scope"));
                assert!(r.fix.unwrap().contains("files:write"));
            }
            other => panic!("{other:?}"),
        }
        for code in ["invalid_arguments", "not_in_channel", "file_not_found"] {
            let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
            assert!(
                matches!(files_step("files.completeUploadExternal", 200, None, &body),
                         Step::GiveUp(r) if r.slack_error.as_deref() == Some(code)),
                "{code}"
            );
        }
        assert!(matches!(
            files_step(
                "files.completeUploadExternal",
                429,
                Some("1"),
                r#"{"ok":false,"error":"ratelimited"}"#
            ),
            Step::Retry { after: Some(_), .. }
        ));
        assert!(matches!(
            files_step(
                "files.completeUploadExternal",
                200,
                None,
                r#"{"ok":false,"error":"internal_error"}"#
            ),
            Step::Retry { after: None, .. }
        ));
    }

    #[test]
    fn upload_url_answers_become_steps() {
        assert_eq!(upload_step(200), Step::Done(()));
        assert!(matches!(upload_step(503), Step::Retry { .. }));
        assert!(
            matches!(upload_step(404), Step::GiveUp(r) if r.slack_error.as_deref() == Some("upload_http_404"))
        );
    }
}
