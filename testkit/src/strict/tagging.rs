//! Rule 4 — the Resource Groups Tagging API is eventually consistent and pages.
//!
//! GetResources is served from an index fed asynchronously by each service: a resource created
//! or tagged a moment ago is not there yet (AWS: "The tagging API … may not immediately
//! reflect recent changes"; tag changes propagate in seconds to minutes), and the caller must
//! follow `PaginationToken` until it is empty — a page may hold fewer resources than asked,
//! even none, while more follow
//! (<https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>:
//! "A PaginationToken response parameter value … indicates that more output is available").
//!
//! Modelled: every ARN created or tagged through the proxy is hidden from GetResources for
//! `StrictConfig::tagging_lag` (a tag change hides the resource rather than showing its old
//! tags — either way a caller must not rely on fresh data), and the proxy serves
//! `tagging_page_size` (default 1) resources per page with its own token (paging.rs).

use super::protocol::{self, Call};
use super::{Inner, StrictConfig, Upstream};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Changes {
    /// ARN (without a trailing `:*`) → visible to GetResources from
    visible_at: HashMap<String, Instant>,
}

fn norm(arn: &str) -> &str {
    arn.trim_end_matches(":*")
}

const ACCOUNT: &str = crate::emulator::ACCOUNT_ID;

/// The ARN a successful call created or tagged, if any.
fn changed_arn(inner: &Inner, call: &Call, up: &Upstream) -> Option<String> {
    let r = &call.region;
    let op = call.operation.as_str();
    match (call.service.as_str(), op) {
        ("kms", "CreateKey") => up.json()["KeyMetadata"]["Arn"].as_str().map(str::to_string),
        ("kms", "TagResource") => {
            let id = call.json_str("KeyId")?;
            Some(if id.starts_with("arn:") {
                id.to_string()
            } else {
                format!("arn:aws:kms:{r}:{ACCOUNT}:key/{id}")
            })
        }
        ("sns", "CreateTopic") => protocol::xml_text(&up.text(), "TopicArn"),
        ("sns", "TagResource") => call.param("ResourceArn").map(str::to_string),
        ("monitoring", "PutMetricAlarm") => call
            .value("AlarmName")
            .map(|n| format!("arn:aws:cloudwatch:{r}:{ACCOUNT}:alarm:{n}")),
        ("monitoring", "TagResource") => call.value("ResourceARN"),
        ("logs", "CreateLogGroup") | ("logs", "TagLogGroup") => call
            .json_str("logGroupName")
            .map(|n| format!("arn:aws:logs:{r}:{ACCOUNT}:log-group:{n}")),
        ("logs", "TagResource") => call.json_str("resourceArn").map(str::to_string),
        ("lambda", "CreateFunction") => up.json()["FunctionArn"].as_str().map(str::to_string),
        ("lambda", "TagResource") => call.resource.clone(),
        ("iam", "CreateRole") | ("iam", "CreatePolicy") => protocol::xml_text(&up.text(), "Arn"),
        ("iam", "TagRole") => inner
            .roles
            .arn_by_name
            .get(call.param("RoleName")?)
            .cloned(),
        ("iam", "TagPolicy") => call.param("PolicyArn").map(str::to_string),
        _ => None,
    }
}

pub(crate) fn record(inner: &mut Inner, c: &StrictConfig, call: &Call, up: &Upstream) {
    if c.tagging_lag.is_zero() {
        return;
    }
    if let Some(arn) = changed_arn(inner, call, up) {
        inner
            .tagging
            .visible_at
            .insert(norm(&arn).to_string(), Instant::now() + c.tagging_lag);
    }
}

/// Drop from a GetResources answer what the index has not seen yet.
pub(crate) fn rewrite(
    inner: &mut Inner,
    c: &StrictConfig,
    call: &Call,
    mut up: Upstream,
) -> Upstream {
    if c.tagging_lag.is_zero() || !call.is("tagging", "GetResources") {
        return up;
    }
    let mut body = up.json();
    let now = Instant::now();
    let Some(list) = body
        .get_mut("ResourceTagMappingList")
        .and_then(Value::as_array_mut)
    else {
        return up;
    };
    let before = list.len();
    list.retain(|m| {
        let arn = norm(m["ResourceARN"].as_str().unwrap_or(""));
        inner.tagging.visible_at.get(arn).is_none_or(|t| now >= *t)
    });
    let hidden = before - list.len();
    if hidden > 0 {
        for _ in 0..hidden {
            inner.count("not-yet-indexed", "GetResources");
        }
        up.body = body.to_string().into();
    }
    up
}
