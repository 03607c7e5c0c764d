//! Rule 6 — per-operation request-rate quotas at AWS's documented defaults, as token buckets,
//! answered with each service's own throttling error. Scaled by `StrictConfig::rate_scale`.
//!
//! Sources (default quotas, per account and Region):
//! - ELBv2: token bucket per action group; non-mutating `Describe*` share a bucket of 40 tokens
//!   refilled at 10/s; error `Throttling` "Rate exceeded" (the page names the error
//!   ThrottlingException; the query wire code is `Throttling`).
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html>
//! - CloudWatch: DescribeAlarms 9 TPS, PutMetricAlarm 3 TPS, DeleteAlarms 3 TPS,
//!   SetAlarmState 3 TPS, GetMetricData 50 TPS; EnableAlarmActions and DisableAlarmActions 3 TPS
//!   like the other alarm writes (recalled from the page, not re-read this session); tagging
//!   calls 10 TPS (assumed, not listed).
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>
//! - KMS: CreateKey, CreateAlias, UpdateAlias, DeleteAlias, PutKeyPolicy, EnableKey,
//!   ScheduleKeyDeletion 5 rps; TagResource/UntagResource 10 rps; ListKeys, ListAliases,
//!   ListResourceTags 100 rps; GetKeyPolicy 1000 rps; DescribeKey 2000 rps; symmetric
//!   cryptographic operations (Encrypt, Decrypt, …) share 5,500 rps (more in large Regions).
//!   <https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html>
//! - Lambda: GetFunction 100 rps, GetPolicy 15 rps, every other control-plane call shares
//!   15 rps; throttled with 429 `TooManyRequestsException`.
//!   <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests>
//! - SNS: tagging actions 10 TPS (TagResource page); other topic/subscription management calls:
//!   ListSubscriptionsByTopic 30, CreateTopic/DeleteTopic/GetTopicAttributes/Subscribe/
//!   Unsubscribe 30 (conservative reading of the SNS quotas page).
//!   <https://docs.aws.amazon.com/sns/latest/api/API_TagResource.html>,
//!   <https://docs.aws.amazon.com/general/latest/gr/sns.html>
//! - CloudWatch Logs: CreateLogGroup 5, DeleteLogGroup 10, DescribeLogGroups 10,
//!   PutRetentionPolicy 5, TagResource/TagLogGroup 5 TPS; FilterLogEvents 5 TPS per account
//!   and Region, a hard limit that cannot be raised (what `elb-watch test` polls once a second,
//!   every page of it counting; the figure as the knowledge-center page states it, the quotas
//!   page itself not re-read this session); throttled as JSON `ThrottlingException`, one of
//!   the SDK's throttling codes, so its retry backs off and tries again.
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html>,
//!   <https://repost.aws/knowledge-center/cloudwatch-logs-throttling>
//! - IAM: no per-action TPS is published; IAM documents that it throttles control-plane calls
//!   per account. Modelled as one shared bucket of 20 rps for mutating calls and 100 rps for
//!   reads (an assumption, named as such).
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
//! - Resource Groups Tagging API GetResources: 5 TPS (assumed, conservative).
//!   <https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>

use super::protocol::{self, Call, Protocol};
use super::{Inner, StrictConfig};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::time::Instant;

/// One token bucket: `capacity` tokens, refilled at `rate` per second.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, rate: f64) -> Self {
        Self {
            tokens: capacity,
            capacity,
            rate,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate)
            .min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Default)]
pub(crate) struct Buckets(HashMap<String, Bucket>);

/// (bucket name, capacity, refill per second) at scale 1.0; `None`: not throttled here.
pub fn quota(service: &str, op: &str) -> Option<(String, f64, f64)> {
    let per_op = |rate: f64| Some((format!("{service}:{op}"), rate, rate));
    let shared = |name: &str, cap: f64, rate: f64| Some((format!("{service}:{name}"), cap, rate));
    match service {
        "elasticloadbalancing" if op.starts_with("Describe") => shared("Describe*", 40.0, 10.0),
        "elasticloadbalancing" => shared("mutating", 10.0, 2.0),
        "monitoring" => match op {
            "DescribeAlarms" => per_op(9.0),
            "PutMetricAlarm"
            | "DeleteAlarms"
            | "SetAlarmState"
            | "EnableAlarmActions"
            | "DisableAlarmActions" => per_op(3.0),
            "TagResource" | "UntagResource" | "ListTagsForResource" => per_op(10.0),
            "GetMetricData" => per_op(50.0),
            // "There is a limit of 20 transactions per second for this API" (API_GetMetricWidgetImage).
            "GetMetricWidgetImage" => per_op(20.0),
            _ => None,
        },
        "kms" => match op {
            "CreateKey"
            | "CreateAlias"
            | "UpdateAlias"
            | "DeleteAlias"
            | "PutKeyPolicy"
            | "EnableKey"
            | "DisableKey"
            | "ScheduleKeyDeletion"
            | "CancelKeyDeletion" => per_op(5.0),
            "TagResource" | "UntagResource" => per_op(10.0),
            "ListKeys" | "ListAliases" | "ListResourceTags" => per_op(100.0),
            "GetKeyPolicy" => per_op(1000.0),
            "DescribeKey" => per_op(2000.0),
            "Encrypt" | "Decrypt" | "GenerateDataKey" | "ReEncrypt" => {
                shared("cryptographic", 5500.0, 5500.0)
            }
            _ => None,
        },
        "lambda" => match op {
            "Invoke" => None,
            "GetFunction" => per_op(100.0),
            "GetPolicy" => per_op(15.0),
            _ => shared("control-plane", 15.0, 15.0),
        },
        "sns" => match op {
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                shared("tagging", 10.0, 10.0)
            }
            "Publish" => None,
            _ => per_op(30.0),
        },
        "logs" => match op {
            "CreateLogGroup" | "PutRetentionPolicy" | "TagResource" | "TagLogGroup" => per_op(5.0),
            "FilterLogEvents" => per_op(5.0),
            "DeleteLogGroup" | "DescribeLogGroups" => per_op(10.0),
            _ => None,
        },
        "iam" => {
            if ["Get", "List"].iter().any(|p| op.starts_with(p)) {
                shared("read", 100.0, 100.0)
            } else {
                shared("write", 20.0, 20.0)
            }
        }
        "tagging" => per_op(5.0),
        _ => None,
    }
}

/// The service's throttling error for `call`.
pub fn error(call: &Call) -> Response {
    let msg = "Rate exceeded";
    match (&call.protocol, call.service.as_str()) {
        (Protocol::RestJson, _) => {
            // Lambda: 429 TooManyRequestsException, Reason CallerRateLimitExceeded.
            protocol::error(
                call,
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                msg,
            )
        }
        (_, "monitoring") => protocol::error(call, StatusCode::BAD_REQUEST, "Throttling", msg),
        (Protocol::Json { .. }, _) => {
            protocol::error(call, StatusCode::BAD_REQUEST, "ThrottlingException", msg)
        }
        // SNS reports ThrottlingException ("Rate exceeded"):
        // https://repost.aws/knowledge-center/sns-throttling-exception-errors
        (_, "sns") => protocol::error(call, StatusCode::BAD_REQUEST, "ThrottlingException", msg),
        _ => protocol::error(call, StatusCode::BAD_REQUEST, "Throttling", msg),
    }
}

pub(crate) fn check(inner: &mut Inner, config: &StrictConfig, call: &Call) -> Option<Response> {
    let (name, cap, rate) = quota(&call.service, &call.operation)?;
    let scale = config.rate_scale;
    let bucket = inner
        .throttle
        .0
        .entry(name)
        .or_insert_with(|| Bucket::new((cap * scale).max(1.0), rate * scale));
    if bucket.take() {
        return None;
    }
    inner.count("throttled", &call.operation);
    Some(error(call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_capacity_then_its_rate() {
        let mut b = Bucket::new(3.0, 1000.0);
        b.rate = 0.0; // no refill during the test
        assert!(b.take() && b.take() && b.take());
        assert!(!b.take());
    }

    #[test]
    fn elb_describes_share_one_bucket() {
        let a = quota("elasticloadbalancing", "DescribeLoadBalancers").unwrap();
        let b = quota("elasticloadbalancing", "DescribeTargetHealth").unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!((a.1, a.2), (40.0, 10.0));
        assert_eq!(quota("monitoring", "PutMetricAlarm").unwrap().1, 3.0);
        assert_eq!(quota("monitoring", "EnableAlarmActions").unwrap().1, 3.0);
    }

    #[test]
    fn filter_log_events_has_its_own_bucket_of_five() {
        let q = quota("logs", "FilterLogEvents").unwrap();
        assert_eq!((q.0.as_str(), q.1, q.2), ("logs:FilterLogEvents", 5.0, 5.0));
    }
}
