//! The HTTP layer every Slack call runs on — the incoming webhook ([`webhook`](crate::slack::webhook))
//! and app mode's Web API ([`web_api`](crate::slack::web_api)): the client (rustls on ring,
//! compiled-in roots), the retry policy and its backoff, `Retry-After`, one request sent
//! ([`send`]) and the retry loop ([`with_retries`]), whose caller decides what each answer means
//! ([`Step`]).
//!
//! Everything happens before `deadline` (the invocation's deadline minus a safety margin):
//! when the next attempt cannot finish in time the call fails, so the handler can return an
//! error and Lambda's asynchronous retries / on-failure destination keep the event. No error
//! or log line produced here contains a URL (reqwest errors are stripped of it) or a token
//! (request headers are never in reqwest's errors).

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

/// Retry tuning; see [`crate::runtime::config`] for the environment variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Per-attempt HTTP timeout.
    pub timeout: Duration,
    /// Delay before the first retry.
    pub base: Duration,
    /// Cap of the exponential delay.
    pub max: Duration,
    /// Attempts per message, including the first.
    pub max_attempts: u32,
}

/// The HTTP client for the webhook: rustls on ring, trusting Mozilla's root certificates
/// compiled into the binary (`webpki-roots`). Nothing is read or parsed from the file system,
/// so building it costs microseconds at cold start (the platform verifier parsed the ~150
/// certificates of the system bundle before the first `/next`).
pub fn http_client(connect_timeout: Duration) -> reqwest::Client {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .user_agent(concat!("elb-watch-notifier/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .expect("reqwest client with static settings")
}

/// Shortest attempt worth starting: below this the request cannot realistically complete.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(50);

/// A failed delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    pub attempts: u32,
    /// Last HTTP status seen, if any.
    pub last_status: Option<u16>,
    /// Why it stopped (no URL, no token in it).
    pub message: String,
    /// `true` when Slack rejected the message (webhook 4xx, a Web API error that retrying
    /// cannot fix): retrying the event will not help.
    pub permanent: bool,
    /// The Slack Web API's error code (`channel_not_found`, …) when it refused the call.
    pub slack_error: Option<String>,
    /// One line telling the operator what to fix ([`crate::slack::answer`]).
    pub fix: Option<String>,
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (after {} attempt(s))", self.message, self.attempts)
    }
}

impl std::error::Error for DeliveryError {}

/// Capped exponential backoff with "equal jitter": the delay before retry `n` (1-based) is
/// uniformly drawn from `[d/2, d]` where `d = min(max, base * 2^(n-1))`.
pub fn backoff(policy: &RetryPolicy, retry: u32, rng: &mut fastrand::Rng) -> Duration {
    let exp = policy
        .base
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(20)));
    let capped = exp.min(policy.max);
    let half = capped / 2;
    let jitter_ms = rng.u64(0..=half.as_millis() as u64);
    half + Duration::from_millis(jitter_ms)
}

/// `Retry-After` in delta-seconds (what Slack sends). HTTP dates are not supported (`None`).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // `from_secs_f64` panics past Duration::MAX: a `Retry-After: 1e300` must not crash the
    // notifier (the caller caps the wait anyway).
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
}

/// What one attempt came to, for [`with_retries`].
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    Done(T),
    /// Retry after this long (`None`: the backoff); `what` says what happened (for the log).
    Retry {
        after: Option<Duration>,
        what: String,
    },
    /// Retrying cannot help.
    GiveUp(Refusal),
}

/// Why Slack will not take the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// For the log and the invocation's error (no secret in it).
    pub message: String,
    pub slack_error: Option<String>,
    pub fix: Option<String>,
}

/// One attempt's outcome: the HTTP status (when there was an answer) and the step.
pub type Attempted<T> = (Option<u16>, Step<T>);

/// The retry loop of every Slack call (webhook and Web API): runs `attempt` (given its
/// timeout) until it is [`Step::Done`], gives up, the policy's attempts are used, or the next
/// attempt could not finish before `deadline`. `call` names the call in the log
/// (`webhook`, `chat.postMessage`).
pub async fn with_retries<T, F, Fut>(
    call: &str,
    policy: &RetryPolicy,
    deadline: Instant,
    mut attempt: F,
) -> Result<(T, u32, Option<u16>), DeliveryError>
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Attempted<T>>,
{
    let mut rng = fastrand::Rng::new();
    let mut attempts = 0u32;
    let mut last_status = None;
    let failed = |attempts, last_status, message| DeliveryError {
        attempts,
        last_status,
        message,
        permanent: false,
        slack_error: None,
        fix: None,
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < MIN_ATTEMPT {
            return Err(failed(
                attempts,
                last_status,
                "no time left before the invocation deadline".to_owned(),
            ));
        }
        attempts += 1;
        let (status, step) = attempt(policy.timeout.min(left)).await;
        if status.is_some() {
            last_status = status;
        }
        let (wait, what) = match step {
            Step::Done(value) => return Ok((value, attempts, last_status)),
            Step::GiveUp(r) => {
                return Err(DeliveryError {
                    attempts,
                    last_status,
                    message: r.message,
                    permanent: true,
                    slack_error: r.slack_error,
                    fix: r.fix,
                });
            }
            Step::Retry { after, what } => (
                after.unwrap_or_else(|| backoff(policy, attempts, &mut rng)),
                what,
            ),
        };
        if attempts >= policy.max_attempts {
            return Err(failed(
                attempts,
                last_status,
                format!("{call}: giving up after {attempts} attempts; last: {what}"),
            ));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if wait.saturating_add(MIN_ATTEMPT) > left {
            return Err(failed(
                attempts,
                last_status,
                format!(
                    "{call}: next retry in {} ms would pass the invocation deadline ({} ms \
                     left); last: {what}",
                    wait.as_millis(),
                    left.as_millis()
                ),
            ));
        }
        tracing::warn!(
            call,
            attempt = attempts,
            outcome = %what,
            retry_in_ms = wait.as_millis() as u64,
            "slack delivery attempt failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// One answer, read: status, `Retry-After`, body (read only when `read_body`).
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// Sends one request; a transport error becomes a [`Step::Retry`] (its text stripped of the
/// URL; request headers, where the token travels, are never in reqwest's errors).
pub async fn send(
    request: reqwest::RequestBuilder,
    read_body: impl FnOnce(StatusCode) -> bool,
) -> Result<Answer, Step<std::convert::Infallible>> {
    match request.send().await {
        Ok(resp) => {
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = if read_body(status) {
                resp.text().await.unwrap_or_default()
            } else {
                String::new()
            };
            Ok(Answer {
                status: status.as_u16(),
                retry_after,
                body,
            })
        }
        Err(e) => {
            let e = e.without_url();
            let kind = if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connection error"
            } else {
                "request error"
            };
            Err(Step::Retry {
                after: None,
                what: format!("{kind}: {}", crate::enrich::targets::error_chain(&e)),
            })
        }
    }
}

impl Step<std::convert::Infallible> {
    /// The same step for any result type (a transport error is a retry whatever was asked).
    pub fn widen<T>(self) -> Step<T> {
        match self {
            Step::Done(never) => match never {},
            Step::Retry { after, what } => Step::Retry { after, what },
            Step::GiveUp(r) => Step::GiveUp(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_retry_after_is_capped_not_a_panic() {
        assert_eq!(parse_retry_after(Some("1e300")), Some(Duration::MAX));
        assert_eq!(
            parse_retry_after(Some("2.5")),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(Some("inf")), None);
    }

    fn policy(base: u64, max: u64) -> RetryPolicy {
        RetryPolicy {
            timeout: Duration::from_secs(1),
            base: Duration::from_millis(base),
            max: Duration::from_millis(max),
            max_attempts: 5,
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = policy(100, 1000);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..200 {
            let d1 = backoff(&p, 1, &mut rng);
            assert!((50..=100).contains(&(d1.as_millis() as u64)), "{d1:?}");
            let d3 = backoff(&p, 3, &mut rng);
            assert!((200..=400).contains(&(d3.as_millis() as u64)), "{d3:?}");
            let d10 = backoff(&p, 10, &mut rng);
            assert!((500..=1000).contains(&(d10.as_millis() as u64)), "{d10:?}");
            let huge = backoff(&p, u32::MAX, &mut rng);
            assert!(huge <= Duration::from_millis(1000));
        }
        // Jitter: not always the same value.
        let samples: std::collections::HashSet<_> =
            (0..50).map(|_| backoff(&p, 4, &mut rng)).collect();
        assert!(samples.len() > 5);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(Some("1")), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(Some(" 30 ")),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(Some("0.5")),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
