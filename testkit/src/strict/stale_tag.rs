//! Extra rule (owned by the `aws` branch) — SNS `StaleTag`: right after DeleteTopic, tagging a
//! topic with the same ARN — CreateTopic with tags (`down` then `up`) or TagResource — is
//! refused for a while with HTTP 400 `StaleTag`, "A tag has been added to a resource with the
//! same ARN as a deleted resource. Wait a short while and then retry the operation."
//! <https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html> (Errors: StaleTag),
//! <https://docs.aws.amazon.com/sns/latest/api/API_TagResource.html> (Errors: StaleTag).
//! moto deletes and re-creates at once.
//!
//! The window is not documented ("a short while"); seconds to about a minute are reported.
//! Default here 3 s; `ELB_WATCH_STRICT_STALE_TAG_MS` sets it (0 switches the rule off).

use super::Inner;
use super::protocol::{self, Call};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const MESSAGE: &str = "A tag has been added to a resource with the same ARN as a deleted \
                           resource. Wait a short while and then retry the operation.";

/// How long a deleted topic's ARN refuses tags.
pub fn window() -> Duration {
    std::env::var("ELB_WATCH_STRICT_STALE_TAG_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(3))
}

/// Deleted topics, `region:name` → when.
#[derive(Default)]
pub(crate) struct Deleted(HashMap<String, Instant>);

fn topic_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// After moto accepted a call: remember DeleteTopic.
pub(crate) fn record(inner: &mut Inner, call: &Call) {
    if call.is("sns", "DeleteTopic")
        && let Some(arn) = call.value("TopicArn")
    {
        let key = format!("{}:{}", call.region, topic_name(&arn));
        inner.stale_tags.0.insert(key, Instant::now());
    }
}

/// Before moto: refuse tags on a just-deleted topic's ARN.
pub(crate) fn check(inner: &mut Inner, call: &Call) -> Option<Response> {
    let name = if call.is("sns", "CreateTopic")
        && call
            .params
            .iter()
            .any(|(k, _)| k.starts_with("Tags.member."))
    {
        call.value("Name")?
    } else if call.is("sns", "TagResource") {
        topic_name(&call.value("ResourceArn")?).to_string()
    } else {
        return None;
    };
    let deleted = *inner.stale_tags.0.get(&format!("{}:{name}", call.region))?;
    if deleted.elapsed() >= window() {
        return None;
    }
    inner.count("stale-tag", &call.operation);
    Some(protocol::error(
        call,
        StatusCode::BAD_REQUEST,
        "StaleTag",
        MESSAGE,
    ))
}
