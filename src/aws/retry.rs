//! Waiting out AWS's eventual consistency, where the SDK's retries do not apply (the errors are
//! not transient by their codes):
//! - IAM propagation: a role created seconds ago can be refused by KMS ("invalid principals")
//!   and by Lambda ("cannot be assumed") for a while;
//! - SNS `StaleTag`: tagging a topic (CreateTopic with tags) right after a topic of the same
//!   name, hence the same ARN, was deleted (`down` then `up`).
//!
//! Throttling and transient errors are retried by the SDK's own retry configuration, not here.

use anyhow::Result;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// `var` as whole seconds, or `default` when unset or not a number.
fn seconds_from_env(var: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
    )
}

/// How long to keep retrying, overridable for tests with `ELB_WATCH_PROPAGATION_TIMEOUT_S`.
pub fn budget() -> Duration {
    seconds_from_env("ELB_WATCH_PROPAGATION_TIMEOUT_S", 120)
}

/// The refusals IAM propagation causes, worded as AWS words them:
/// - Lambda CreateFunction / UpdateFunctionConfiguration: `InvalidParameterValueException`,
///   "The role defined for the function cannot be assumed by Lambda."
///   (<https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html>, errors;
///   <https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html>);
/// - KMS CreateKey / PutKeyPolicy: `MalformedPolicyDocumentException`, "Policy contains a
///   statement with one or more invalid principals." — KMS's own advice is to wait and retry
///   when the principal is a role that was just created
///   (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>,
///   <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency>).
pub fn is_propagation_error(message: &str) -> bool {
    (message.contains("InvalidParameterValueException")
        && message.contains("cannot be assumed by Lambda"))
        || (message.contains("MalformedPolicyDocumentException")
            && message.contains("invalid principals"))
}

/// SNS's refusals while a deleted topic of the same ARN still lingers: `StaleTag`, "A tag has
/// been added to a resource with the same ARN as a deleted resource. Wait a short while and then
/// retry the operation.", and `ConcurrentAccess` ("Can't perform multiple operations on a tag
/// simultaneously. Perform the operations sequentially."), both HTTP 400 on CreateTopic,
/// TagResource and UntagResource
/// (<https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html>, errors;
/// <https://docs.aws.amazon.com/sns/latest/api/API_TagResource.html>).
pub fn is_stale_tag_error(message: &str) -> bool {
    message.contains("StaleTag") || message.contains("ConcurrentAccess")
}

/// How long to retry `StaleTag`, overridable with `ELB_WATCH_STALE_TAG_TIMEOUT_S`.
pub fn stale_tag_budget() -> Duration {
    seconds_from_env("ELB_WATCH_STALE_TAG_TIMEOUT_S", 60)
}

/// A throttling refusal that outlived the SDK's own retries (its retry quota is shared by the
/// whole client, so a burst of hundreds of calls against a 3-per-second quota such as
/// PutMetricAlarm's can spend it). Documented quotas:
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>
pub fn is_throttling_error(message: &str) -> bool {
    [
        ": Throttling:",
        "ThrottlingException",
        "TooManyRequestsException",
    ]
    .iter()
    .any(|code| message.contains(code))
}

/// Run `op`, waiting out throttling beyond the SDK's retries for up to `budget`.
pub async fn through_throttling<T, F, Fut>(budget: Duration, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    until(budget, is_throttling_error, "the API's request quota", op).await
}

/// `op` on every item, a few at a time ([`super::limit::max_in_flight`]), results in the items'
/// order. Each call waits out throttling on its own [`budget`], started only when its turn
/// comes: hundreds of reads queued at once would all count their wait from the start, and the
/// SDK's shared retry quota alone runs out at a few hundred (CloudWatch ListTagsForResource at
/// 10 per second, the ELB `Describe*` bucket at 10 per second).
pub async fn each_through_throttling<X, T, F, Fut>(
    items: impl IntoIterator<Item = X>,
    op: F,
) -> Result<Vec<T>>
where
    X: Copy,
    F: Fn(X) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    let op = &op;
    let calls = items
        .into_iter()
        .map(|item| through_throttling(budget(), move || op(item)));
    stream::iter(calls)
        .buffered(super::limit::max_in_flight())
        .try_collect()
        .await
}

/// Run `op` until it succeeds, fails for another reason, or `budget` is spent; the wait between
/// attempts doubles from 500 ms up to 8 s.
pub async fn through_propagation<T, F, Fut>(budget: Duration, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    until(budget, is_propagation_error, "IAM propagation", op).await
}

/// [`through_propagation`] for SNS `StaleTag` / `ConcurrentAccess`.
pub async fn through_stale_tags<T, F, Fut>(budget: Duration, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    until(
        budget,
        is_stale_tag_error,
        "SNS to forget a deleted topic",
        op,
    )
    .await
}

/// A KMS refusal of a key authorised by its tags, while KMS has not yet honoured the tags of a
/// key made moments ago: `AccessDeniedException`
/// (<https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>, "up to five minutes").
pub fn is_key_tag_lag_error(message: &str) -> bool {
    message.contains("KMS ") && message.contains("AccessDeniedException")
}

/// How long to wait out [`is_key_tag_lag_error`] on a fresh key (AWS: up to five minutes),
/// overridable with `ELB_WATCH_KEY_TAG_TIMEOUT_S`.
pub fn key_tag_budget() -> Duration {
    seconds_from_env("ELB_WATCH_KEY_TAG_TIMEOUT_S", 300)
}

/// [`through_propagation`] for KMS's tag-authorisation lag on a new key.
pub async fn through_key_tag_lag<T, F, Fut>(budget: Duration, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    until(
        budget,
        is_key_tag_lag_error,
        "KMS to authorise the new key by its tags",
        op,
    )
    .await
}

/// Run `op` until it succeeds, fails with an error `retryable` does not accept, or `budget` is
/// spent; the wait between attempts doubles from 500 ms up to 8 s.
pub async fn until<T, F, Fut>(
    budget: Duration,
    retryable: fn(&str) -> bool,
    waiting_for: &str,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&format!("{e:#}")) && started.elapsed() + delay <= budget => {
                tracing::info!(
                    wait_ms = delay.as_millis() as u64,
                    "waiting for {waiting_for}"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const NOT_YET: &str = "Lambda CreateFunction: InvalidParameterValueException: The role \
                           defined for the function cannot be assumed by Lambda.";

    #[test]
    fn throttling_is_recognised_in_every_protocol_wording() {
        for m in [
            "CloudWatch PutMetricAlarm: Throttling: Rate exceeded",
            "KMS CreateKey: ThrottlingException: Rate exceeded",
            "Lambda GetPolicy: TooManyRequestsException: Rate exceeded",
        ] {
            assert!(is_throttling_error(m), "{m}");
        }
        assert!(!is_throttling_error(
            "CloudWatch PutMetricAlarm: ValidationError: Throttling period"
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_propagation_errors_then_succeeds() {
        let attempts = Cell::new(0);
        let out = through_propagation(Duration::from_secs(60), || {
            attempts.set(attempts.get() + 1);
            let n = attempts.get();
            async move {
                if n < 3 {
                    anyhow::bail!(NOT_YET)
                }
                Ok(n)
            }
        })
        .await
        .unwrap();
        assert_eq!(out, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_budget_is_spent() {
        let attempts = Cell::new(0);
        let err = through_propagation(Duration::from_secs(5), || {
            attempts.set(attempts.get() + 1);
            async { Err::<(), _>(anyhow::anyhow!(NOT_YET)) }
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("cannot be assumed"));
        // 0.5 + 1 + 2 = 3.5 s of waiting fits in 5 s; the next 4 s wait does not.
        assert_eq!(attempts.get(), 4);
    }

    #[test]
    fn propagation_errors_as_aws_words_them() {
        assert!(is_propagation_error(NOT_YET));
        assert!(is_propagation_error(
            "KMS CreateKey: MalformedPolicyDocumentException: Policy contains a statement with \
             one or more invalid principals."
        ));
        assert!(is_propagation_error(
            "KMS PutKeyPolicy: MalformedPolicyDocumentException: Policy contains a statement \
             with one or more invalid principals."
        ));
        // A policy that is wrong for another reason is not waited on.
        assert!(!is_propagation_error(
            "KMS PutKeyPolicy: MalformedPolicyDocumentException: The new key policy will not \
             allow you to update the key policy in the future."
        ));
        assert!(!is_propagation_error(
            "Lambda CreateFunction: InvalidParameterValueException: Unzipped size must be \
             smaller than 262144000 bytes"
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn stale_tags_are_retried_until_sns_forgets_the_old_topic() {
        let attempts = Cell::new(0);
        let out = through_stale_tags(Duration::from_secs(60), || {
            attempts.set(attempts.get() + 1);
            let n = attempts.get();
            async move {
                if n < 4 {
                    anyhow::bail!(
                        "SNS CreateTopic: StaleTag: A tag has been added to a resource with the \
                         same ARN as a deleted resource. Wait a short while and then retry the \
                         operation."
                    )
                }
                Ok(n)
            }
        })
        .await
        .unwrap();
        assert_eq!(out, 4);
        let r = through_stale_tags(Duration::from_secs(60), || async {
            Err::<(), _>(anyhow::anyhow!(
                "SNS CreateTopic: InvalidParameter: Invalid parameter: Tags"
            ))
        })
        .await;
        assert!(r.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let attempts = Cell::new(0);
        let r = through_propagation(Duration::from_secs(60), || {
            attempts.set(attempts.get() + 1);
            async { Err::<(), _>(anyhow::anyhow!("AccessDenied")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(attempts.get(), 1);
    }
}
