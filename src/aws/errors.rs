//! Turns SDK errors into one line that says what failed and what to do about it.

use anyhow::anyhow;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt::Debug;

pub trait AwsResultExt<T> {
    /// Map an SDK error to a one-line message, `what` naming the failed step
    /// (e.g. "DescribeLoadBalancers").
    fn aws(self, what: &str) -> anyhow::Result<T>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    fn aws(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow!("{what}: {}", describe(&e)))
    }
}

/// The service's error code, if AWS answered with one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    tracing::debug!(error = %DisplayErrorContext(err), "AWS call failed");
    let chain = causes(err).join(": ");
    if mentions_credentials(&chain) {
        return NO_CREDENTIALS.to_string();
    }
    match err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("UnknownError");
            let message = se.err().message().unwrap_or("no message");
            match hint_for_code(code) {
                Some(hint) => format!("{code}: {message} ({hint})"),
                None => format!("{code}: {message}"),
            }
        }
        SdkError::DispatchFailure(df) if df.is_timeout() => {
            "timed out connecting to the AWS endpoint: check --region, --endpoint-url and the \
             network"
                .to_string()
        }
        SdkError::DispatchFailure(df) if df.is_io() => format!(
            "could not reach the AWS endpoint ({}): check --region, --endpoint-url and the network",
            last_cause(&chain)
        ),
        SdkError::TimeoutError(_) => {
            "the AWS call timed out: retry, or check the network and --endpoint-url".to_string()
        }
        _ => last_cause(&chain).to_string(),
    }
}

const NO_CREDENTIALS: &str = "no usable AWS credentials: pass --profile or set AWS_PROFILE, set \
     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login` for an SSO profile";

fn mentions_credentials(chain: &str) -> bool {
    let lower = chain.to_ascii_lowercase();
    lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("loading credentials")
        || lower.contains("failed to load credentials")
        || lower.contains("could not load credentials")
}

/// The messages of an error and its sources, outermost first.
fn causes(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        out.push(e.to_string());
        source = e.source();
    }
    out
}

/// The innermost cause of a "a: b: c" chain ("c"), which is the specific one
/// ("Connection refused (os error 111)").
fn last_cause(chain: &str) -> &str {
    chain
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(chain)
        .trim()
}

/// The codes AWS services answer an authorization refusal with (IAM and most query services,
/// JSON services, SNS).
const ACCESS_DENIED_CODES: [&str; 3] = [
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
];

fn hint_for_code(code: &str) -> Option<&'static str> {
    if ACCESS_DENIED_CODES.contains(&code) {
        return Some(
            "the credentials in use lack this permission; see README 'Operator permissions'",
        );
    }
    Some(match code {
        "UnrecognizedClientException" | "InvalidClientTokenId" | "SignatureDoesNotMatch" => {
            "AWS rejected the credentials: check the profile or AWS_ACCESS_KEY_ID"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the credentials expired: refresh them (e.g. `aws sso login`)"
        }
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" => {
            "AWS throttled the call after retries: run again in a minute"
        }
        _ => return None,
    })
}

/// Whether an error (as `.aws()` words it: `Operation: Code: message`) is a create refused
/// because the resource exists — made meanwhile by another `up` of the same env (two CI jobs at
/// once). The caller adopts what the other made: both want the same resource.
pub fn already_exists(error: &anyhow::Error, codes: &[&str]) -> bool {
    let text = format!("{error:#}");
    codes.iter().any(|c| text.contains(c))
}

/// Whether an SDK error is a refusal by IAM authorization.
pub fn denied<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    code(err).is_some_and(|c| ACCESS_DENIED_CODES.contains(&c))
}

/// Whether an error (as `.aws()` words it) is a refusal by IAM authorization.
pub fn is_access_denied(error: &anyhow::Error) -> bool {
    let text = format!("{error:#}");
    ACCESS_DENIED_CODES
        .iter()
        .any(|c| text.contains(&format!(": {c}:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_cause_is_the_innermost_message() {
        assert_eq!(
            last_cause("dispatch failure: io error: Connection refused (os error 111)"),
            "Connection refused (os error 111)"
        );
        assert_eq!(last_cause("plain"), "plain");
    }

    #[test]
    fn credential_failures_are_recognised() {
        assert!(mentions_credentials(
            "failed to construct request: No credentials in the property bag"
        ));
        assert!(mentions_credentials(
            "an error occurred while loading credentials: the credentials provider was not enabled"
        ));
        assert!(!mentions_credentials("Connection refused"));
    }
}
