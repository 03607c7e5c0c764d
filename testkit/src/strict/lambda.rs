//! Rule 2 — function states, and rule 7 — GetFunction without `Tags`.
//!
//! Rule 2 (<https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>): after
//! CreateFunction a function is `State: Pending` (StateReasonCode `Creating`) until Lambda has
//! provisioned it; Invoke, UpdateFunctionCode, UpdateFunctionConfiguration and PublishVersion
//! fail meanwhile. After UpdateFunctionCode / UpdateFunctionConfiguration the function stays
//! `Active` with `LastUpdateStatus: InProgress`, and UpdateFunctionCode,
//! UpdateFunctionConfiguration, PublishVersion and TagResource fail until the update is done.
//! Both refusals are 409 `ResourceConflictException`
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html#API_UpdateFunctionCode_Errors>).
//! moto makes a function Active at once; the proxy rewrites CreateFunction / Update* /
//! GetFunction / GetFunctionConfiguration answers and refuses during the windows
//! (`StrictConfig::lambda_pending`, `lambda_update`).
//!
//! Rule 7 (<https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_ResponseSyntax>):
//! "Tags — The function's tags. Lambda returns tag data only if you have explicit allow
//! permissions for lambda:ListTags." Nothing here checks the caller's permissions, so the
//! proxy always answers as for a caller without `lambda:ListTags`: GetFunction has no `Tags`,
//! and product code must read tags with ListTags.

use super::protocol::{self, Call};
use super::{Inner, StrictConfig, Upstream};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Function {
    arn: String,
    pending_until: Instant,
    updating_until: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct Functions(HashMap<String, Function>);

enum Busy {
    Pending,
    Updating(String),
}

fn busy(inner: &Inner, name: &str) -> Option<Busy> {
    let f = inner.lambda.0.get(name)?;
    let now = Instant::now();
    if now < f.pending_until {
        return Some(Busy::Pending);
    }
    match f.updating_until {
        Some(t) if now < t => Some(Busy::Updating(f.arn.clone())),
        _ => None,
    }
}

/// Refuse an operation the function's state does not allow yet.
pub(crate) fn check(inner: &mut Inner, _c: &StrictConfig, call: &Call) -> Option<Response> {
    if call.service != "lambda" {
        return None;
    }
    let op = call.operation.as_str();
    let name = match op {
        "TagResource" => protocol::function_name(call.resource.as_deref()?),
        _ => call.resource.clone()?,
    };
    let message = match busy(inner, &name)? {
        Busy::Pending
            if matches!(
                op,
                "Invoke" | "UpdateFunctionCode" | "UpdateFunctionConfiguration" | "PublishVersion"
            ) =>
        {
            "The operation cannot be performed at this time. The function is currently in the \
             following state: Pending"
                .to_string()
        }
        Busy::Updating(arn)
            if matches!(
                op,
                "UpdateFunctionCode"
                    | "UpdateFunctionConfiguration"
                    | "PublishVersion"
                    | "TagResource"
            ) =>
        {
            format!(
                "The operation cannot be performed at this time. An update is in progress for \
                 resource: {arn}"
            )
        }
        _ => return None,
    };
    inner.count("conflict", op);
    Some(protocol::error(
        call,
        StatusCode::CONFLICT,
        "ResourceConflictException",
        &message,
    ))
}

/// Start the windows when moto accepted a create or an update.
pub(crate) fn record(inner: &mut Inner, c: &StrictConfig, call: &Call, up: &Upstream) {
    if call.service != "lambda" {
        return;
    }
    let now = Instant::now();
    match call.operation.as_str() {
        "CreateFunction" if !c.lambda_pending.is_zero() => {
            let body = up.json();
            let (Some(name), Some(arn)) =
                (body["FunctionName"].as_str(), body["FunctionArn"].as_str())
            else {
                return;
            };
            inner.lambda.0.insert(
                name.to_string(),
                Function {
                    arn: arn.to_string(),
                    pending_until: now + c.lambda_pending,
                    updating_until: None,
                },
            );
        }
        "UpdateFunctionCode" | "UpdateFunctionConfiguration" if !c.lambda_update.is_zero() => {
            let Some(name) = call.resource.clone() else {
                return;
            };
            let arn = up.json()["FunctionArn"].as_str().unwrap_or("").to_string();
            let f = inner.lambda.0.entry(name).or_insert(Function {
                arn,
                pending_until: now - Duration::from_millis(1),
                updating_until: None,
            });
            f.updating_until = Some(now + c.lambda_update);
        }
        "DeleteFunction" => {
            if let Some(name) = &call.resource {
                inner.lambda.0.remove(name);
            }
        }
        _ => {}
    }
}

/// Show the state AWS would show; drop GetFunction's `Tags`.
fn set_state(config: &mut Value, busy: Option<Busy>) {
    let Some(m) = config.as_object_mut() else {
        return;
    };
    match busy {
        Some(Busy::Pending) => {
            m.insert("State".into(), "Pending".into());
            m.insert(
                "StateReason".into(),
                "The function is being created.".into(),
            );
            m.insert("StateReasonCode".into(), "Creating".into());
            m.remove("LastUpdateStatus");
        }
        Some(Busy::Updating(_)) => {
            m.insert("State".into(), "Active".into());
            m.insert("LastUpdateStatus".into(), "InProgress".into());
            m.insert(
                "LastUpdateStatusReason".into(),
                "The function is being created.".into(),
            );
            m.insert("LastUpdateStatusReasonCode".into(), "Creating".into());
        }
        None => {}
    }
}

pub(crate) fn rewrite(
    inner: &mut Inner,
    c: &StrictConfig,
    call: &Call,
    mut up: Upstream,
) -> Upstream {
    if call.service != "lambda" {
        return up;
    }
    let op = call.operation.as_str();
    if !matches!(
        op,
        "CreateFunction"
            | "GetFunction"
            | "GetFunctionConfiguration"
            | "UpdateFunctionCode"
            | "UpdateFunctionConfiguration"
    ) {
        return up;
    }
    let mut body = up.json();
    let name = call
        .resource
        .clone()
        .or_else(|| body["FunctionName"].as_str().map(str::to_string))
        .unwrap_or_default();
    let state = busy(inner, &name);
    let mut changed = state.is_some();
    if op == "GetFunction" {
        set_state(&mut body["Configuration"], state);
        if c.strip_function_tags
            && let Some(m) = body.as_object_mut()
            && m.remove("Tags").is_some()
        {
            inner.count("stripped-tags", op);
            changed = true;
        }
    } else {
        set_state(&mut body, state);
    }
    if changed {
        up.body = body.to_string().into();
    }
    up
}
