//! Reads of the undelivered-alerts queue and of the notifier's invocation settings (asynchronous
//! invocation config, reserved concurrency). Reads only, like [`super::observed`], which calls
//! them; the peek at queued records for `status` lives here too.

use crate::aws::{AwsResultExt, Clients, errors};
use crate::naming::Names;
use anyhow::Result;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use std::collections::BTreeMap;

/// The undelivered-alerts queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueObs {
    pub url: String,
    pub arn: String,
    /// `SqsManagedSseEnabled`.
    pub sse: bool,
    /// `KmsMasterKeyId`: SSE-KMS instead of SQS-managed keys (also encrypted, but not ours).
    pub kms_key: Option<String>,
    pub retention_s: Option<i32>,
    pub owned: bool,
    /// `ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible` +
    /// `ApproximateNumberOfMessagesDelayed`: undelivered alerts held.
    pub messages: u64,
}

/// The function's asynchronous invocation configuration (`GetFunctionEventInvokeConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsyncObs {
    pub max_retry_attempts: Option<i32>,
    pub max_event_age_s: Option<i32>,
    pub on_failure: Option<String>,
    pub on_success: Option<String>,
}

/// SQS's answer for a queue that does not exist: `QueueDoesNotExist` (JSON protocol) or, for
/// query-compatible error codes, `AWS.SimpleQueueService.NonExistentQueue`
/// (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html>).
pub fn is_missing_queue(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue")
    )
}

/// The queue's URL, or `None` when it does not exist.
pub async fn queue_url(clients: &Clients, names: &Names) -> Result<Option<String>> {
    let got = clients
        .sqs
        .get_queue_url()
        .queue_name(names.queue())
        .send()
        .await;
    match got {
        Ok(out) => Ok(out.queue_url().map(String::from)),
        Err(e) if is_missing_queue(errors::code(&e)) => Ok(None),
        Err(e) => Err(e).aws("SQS GetQueueUrl"),
    }
}

/// The queue's attributes, tags and depth.
pub async fn observe_queue(clients: &Clients, names: &Names) -> Result<Option<QueueObs>> {
    let Some(url) = queue_url(clients, names).await? else {
        return Ok(None);
    };
    let (attrs, tags) = tokio::try_join!(
        async {
            clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .aws("SQS GetQueueAttributes")
        },
        async {
            clients
                .sqs
                .list_queue_tags()
                .queue_url(&url)
                .send()
                .await
                .aws("SQS ListQueueTags")
        }
    )?;
    let attrs: BTreeMap<String, String> = attrs
        .attributes()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let tags: BTreeMap<String, String> = tags
        .tags()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Some(queue_obs(url, &attrs, &tags, names)))
}

/// Pure: a [`QueueObs`] from `GetQueueAttributes` (All) and `ListQueueTags` answers.
pub fn queue_obs(
    url: String,
    attrs: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    names: &Names,
) -> QueueObs {
    let count = |k: &str| {
        attrs
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    QueueObs {
        url,
        arn: attrs.get("QueueArn").cloned().unwrap_or_default(),
        sse: attrs
            .get("SqsManagedSseEnabled")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        kms_key: attrs
            .get("KmsMasterKeyId")
            .filter(|k| !k.is_empty())
            .cloned(),
        retention_s: attrs
            .get("MessageRetentionPeriod")
            .and_then(|v| v.parse().ok()),
        owned: names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        messages: count("ApproximateNumberOfMessages")
            + count("ApproximateNumberOfMessagesNotVisible")
            + count("ApproximateNumberOfMessagesDelayed"),
    }
}

/// The function's asynchronous invocation config and reserved concurrency; `(None, None)` when
/// the function (or the config) does not exist.
pub async fn observe_invoke_settings(
    clients: &Clients,
    names: &Names,
) -> Result<(Option<AsyncObs>, Option<i32>)> {
    let function = names.function();
    let (config, concurrency) = tokio::join!(
        clients
            .lambda
            .get_function_event_invoke_config()
            .function_name(&function)
            .send(),
        clients
            .lambda
            .get_function_concurrency()
            .function_name(&function)
            .send()
    );
    let config = match config {
        Ok(c) => {
            let dest = c.destination_config();
            Some(AsyncObs {
                max_retry_attempts: c.maximum_retry_attempts(),
                max_event_age_s: c.maximum_event_age_in_seconds(),
                on_failure: dest
                    .and_then(|d| d.on_failure())
                    .and_then(|d| d.destination())
                    .filter(|d| !d.is_empty())
                    .map(String::from),
                on_success: dest
                    .and_then(|d| d.on_success())
                    .and_then(|d| d.destination())
                    .filter(|d| !d.is_empty())
                    .map(String::from),
            })
        }
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(e).aws("Lambda GetFunctionEventInvokeConfig"),
    };
    let concurrency = match concurrency {
        Ok(c) => c.reserved_concurrent_executions(),
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(e).aws("Lambda GetFunctionConcurrency"),
    };
    Ok((config, concurrency))
}

/// The oldest undelivered alert's age, from a peek at the queue: up to 10 messages received
/// with `VisibilityTimeout` 0 (they stay visible: nothing is consumed) and their `SentTimestamp`
/// — when Lambda gave up on the alert and put its record on the queue. SQS publishes
/// `ApproximateAgeOfOldestMessage` only as a CloudWatch metric (minutes late, and not served by
/// the local emulator); the peek is immediate and exact while the queue holds ≤ 10 alerts. With
/// more, a standard queue returns a sample, so the age is that of the oldest one seen (a lower
/// bound), which `status` says.
pub async fn peek_oldest_sent_ms(clients: &Clients, url: &str) -> Result<Option<i64>> {
    let out = clients
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .wait_time_seconds(0)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .aws("SQS ReceiveMessage")?;
    Ok(out
        .messages()
        .iter()
        .filter_map(|m| {
            m.attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|v| v.parse::<i64>().ok())
        })
        .min())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn depth_counts_visible_in_flight_and_delayed_messages() {
        let names = Names::new("prod");
        let q = queue_obs(
            "u".into(),
            &map(&[
                (
                    "QueueArn",
                    "arn:aws:sqs:us-east-1:1:elb-watch-prod-undelivered",
                ),
                ("ApproximateNumberOfMessages", "3"),
                ("ApproximateNumberOfMessagesNotVisible", "2"),
                ("ApproximateNumberOfMessagesDelayed", "1"),
                ("SqsManagedSseEnabled", "true"),
                ("MessageRetentionPeriod", "1209600"),
            ]),
            &map(&[
                ("elb-watch:managed-by", "elb-watch"),
                ("elb-watch:env", "prod"),
            ]),
            &names,
        );
        assert_eq!(q.messages, 6);
        assert!(q.sse && q.owned);
        assert_eq!(q.retention_s, Some(1_209_600));
        let other = queue_obs(
            "u".into(),
            &map(&[("SqsManagedSseEnabled", "false")]),
            &map(&[
                ("elb-watch:managed-by", "elb-watch"),
                ("elb-watch:env", "prod-eu"),
            ]),
            &names,
        );
        assert!(!other.sse && !other.owned);
        assert_eq!(other.messages, 0);
    }

    #[test]
    fn both_spellings_of_a_missing_queue_are_recognised() {
        assert!(is_missing_queue(Some("QueueDoesNotExist")));
        assert!(is_missing_queue(Some(
            "AWS.SimpleQueueService.NonExistentQueue"
        )));
        assert!(!is_missing_queue(Some("AccessDenied")));
        assert!(!is_missing_queue(None));
    }
}
