//! Waiting out IAM's propagation delay: a role created seconds ago can be refused by KMS
//! ("invalid principals") and by Lambda ("cannot be assumed") for a while. Throttling and
//! transient errors are retried by the SDK's own retry configuration, not here.

use anyhow::Result;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long to keep retrying, overridable for tests with `ELB_WATCH_PROPAGATION_TIMEOUT_S`.
pub fn budget() -> Duration {
    let secs = std::env::var("ELB_WATCH_PROPAGATION_TIMEOUT_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

pub fn is_propagation_error(message: &str) -> bool {
    message.contains("cannot be assumed by Lambda")
        || (message.contains("MalformedPolicyDocument") && message.contains("principal"))
}

/// Run `op` until it succeeds, fails for another reason, or `budget` is spent; the wait between
/// attempts doubles from 500 ms up to 8 s.
pub async fn through_propagation<T, F, Fut>(budget: Duration, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e)
                if is_propagation_error(&format!("{e:#}"))
                    && started.elapsed() + delay <= budget =>
            {
                tracing::info!(
                    wait_ms = delay.as_millis() as u64,
                    "waiting for IAM propagation"
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
