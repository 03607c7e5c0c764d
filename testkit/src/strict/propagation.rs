//! Rule 3 — a new IAM role is not usable everywhere at once.
//!
//! IAM is eventually consistent: "changes that you make in IAM … can take time to become
//! visible from other services" and "we recommend that you do not include such IAM changes in
//! the critical, high-availability code paths"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency>).
//! For the seconds after CreateRole (`StrictConfig::role_propagation`):
//! - Lambda CreateFunction / UpdateFunctionConfiguration naming the role fail with 400
//!   `InvalidParameterValueException` "The role defined for the function cannot be assumed by
//!   Lambda." (<https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html>);
//! - KMS CreateKey / PutKeyPolicy whose policy names the role as a principal fail with
//!   `MalformedPolicyDocumentException` "Policy contains a statement with one or more invalid
//!   principals." (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>,
//!   "Troubleshooting key access": a principal must exist and be visible to KMS).

use super::protocol::{self, Call};
use super::{Inner, StrictConfig, Upstream};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Roles {
    /// role ARN → visible to other services from
    visible_at: HashMap<String, Instant>,
    /// role name → ARN (for TagRole and friends)
    pub(crate) arn_by_name: HashMap<String, String>,
}

impl Roles {
    fn young(&self, arn: &str) -> bool {
        self.visible_at
            .get(arn)
            .is_some_and(|t| Instant::now() < *t)
    }
}

/// Every `Principal.AWS` of a policy document.
fn principals(policy: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(policy).unwrap_or(Value::Null);
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for s in statements {
        match &s["Principal"]["AWS"] {
            Value::String(p) => out.push(p.clone()),
            Value::Array(a) => out.extend(a.iter().filter_map(|p| p.as_str().map(str::to_string))),
            _ => {}
        }
    }
    out
}

pub(crate) fn check(inner: &mut Inner, _c: &StrictConfig, call: &Call) -> Option<Response> {
    let op = call.operation.as_str();
    let resp = match call.service.as_str() {
        "lambda" if matches!(op, "CreateFunction" | "UpdateFunctionConfiguration") => {
            let role = call.json_str("Role")?;
            if !inner.roles.young(role) {
                return None;
            }
            protocol::error(
                call,
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )
        }
        "kms" if matches!(op, "CreateKey" | "PutKeyPolicy") => {
            let policy = call.json_str("Policy")?;
            if !principals(policy).iter().any(|p| inner.roles.young(p)) {
                return None;
            }
            protocol::error(
                call,
                StatusCode::BAD_REQUEST,
                "MalformedPolicyDocumentException",
                "Policy contains a statement with one or more invalid principals.",
            )
        }
        _ => return None,
    };
    inner.count("role-not-visible", op);
    Some(resp)
}

pub(crate) fn record(inner: &mut Inner, c: &StrictConfig, call: &Call, up: &Upstream) {
    if !call.is("iam", "CreateRole") {
        return;
    }
    let text = up.text();
    let Some(arn) = protocol::xml_text(&text, "Arn") else {
        return;
    };
    if let Some(name) = call.param("RoleName") {
        inner
            .roles
            .arn_by_name
            .insert(name.to_string(), arn.clone());
    }
    inner
        .roles
        .visible_at
        .insert(arn, Instant::now() + c.role_propagation);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_in_every_shape() {
        let p = r#"{"Statement":[{"Principal":{"AWS":"arn:a"}},{"Principal":{"AWS":["arn:b","arn:c"]}},{"Principal":"*"}]}"#;
        assert_eq!(principals(p), ["arn:a", "arn:b", "arn:c"]);
    }
}
