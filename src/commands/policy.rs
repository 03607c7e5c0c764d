//! `elb-watch policy`: print the IAM policy the identity running elb-watch needs
//! (`policy/operator-policy.json`, embedded at build time). No AWS call.

use crate::exit;
use anyhow::Result;
use std::io::Write;

/// The operator policy, exactly as in the repository.
pub const OPERATOR_POLICY: &str = include_str!("../../policy/operator-policy.json");

pub fn run() -> Result<u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(OPERATOR_POLICY.as_bytes())?;
    if !OPERATOR_POLICY.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(exit::OK)
}

/// Every action the policy allows, as written (`service:Action`).
pub fn allowed_actions() -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(OPERATOR_POLICY).expect("policy/operator-policy.json is JSON");
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        match &st["Action"] {
            serde_json::Value::String(a) => out.push(a.clone()),
            serde_json::Value::Array(v) => {
                out.extend(v.iter().filter_map(|a| a.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_valid_json_with_allow_statements_only() {
        let doc: serde_json::Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        for st in doc["Statement"].as_array().unwrap() {
            assert_eq!(st["Effect"], "Allow", "{st}");
            assert!(
                st["Resource"].is_string() || st["Resource"].is_array(),
                "{st}"
            );
        }
        let actions = allowed_actions();
        assert!(actions.len() > 60, "{}", actions.len());
        let mut sorted = actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), actions.len(), "an action is listed twice");
    }

    /// Every AWS operation the code calls (the names passed to `.aws("Service Operation")`) is
    /// allowed by the policy: a new call without a policy update fails here.
    #[test]
    fn every_operation_in_the_source_is_allowed() {
        let prefix = |service: &str| match service {
            "IAM" => "iam",
            "KMS" => "kms",
            "SNS" => "sns",
            "Lambda" => "lambda",
            "Logs" => "logs",
            "CloudWatch" => "cloudwatch",
            "Tagging" => "tag",
            "STS" => "sts",
            "SQS" => "sqs",
            _ => "",
        };
        let allowed = allowed_actions();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut seen = 0;
        for file in walk(&root) {
            let text = std::fs::read_to_string(&file).unwrap();
            // ELBv2 calls are labelled by operation alone, in the modules that make them;
            // Classic ELB calls as `Classic ELB Operation` (same IAM prefix).
            let elb = file.components().any(|c| c.as_os_str() == "discovery")
                || file.ends_with("health.rs");
            // Labels name the operation: `.aws("IAM CreateRole")`, `"Lambda DeleteFunction"`,
            // `.aws("DescribeRules")` (ELB).
            for piece in text.split('"').skip(1) {
                let piece = piece.strip_prefix("Classic ELB ").unwrap_or(piece);
                let words: Vec<&str> = piece.split_whitespace().take(2).collect();
                let is_op = |w: &str| {
                    w.len() > 3
                        && w.starts_with(|c: char| c.is_ascii_uppercase())
                        && w.chars().all(|c| c.is_ascii_alphabetic())
                        && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
                };
                let action = match words.as_slice() {
                    [svc, op] if !prefix(svc).is_empty() && is_op(op) => {
                        format!("{}:{op}", prefix(svc))
                    }
                    [op] if is_op(op) && op.starts_with("Describe") && piece == *op && elb => {
                        format!("elasticloadbalancing:{op}")
                    }
                    _ => continue,
                };
                seen += 1;
                if !allowed.contains(&action) {
                    missing.push(format!("{action} ({})", file.display()));
                }
            }
        }
        assert!(seen > 40, "found only {seen} calls: the scan is broken");
        assert!(
            missing.is_empty(),
            "not in the operator policy: {missing:?}"
        );
    }

    /// IAM's wildcard match on one ARN: `*` any run of characters, `?` one.
    fn glob(pattern: &str, text: &str) -> bool {
        let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
        let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
        while ti < t.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some(pi);
                mark = ti;
                pi += 1;
            } else if let Some(s) = star {
                pi = s + 1;
                mark += 1;
                ti = mark;
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }

    /// Whether the policy allows `action` on `resource` (Allow statements only; conditions
    /// are not evaluated: the one there, on PassRole, is about the service, not the ARN).
    fn allows(action: &str, resource: &str) -> bool {
        let doc: serde_json::Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
        let list = |v: &serde_json::Value| -> Vec<String> {
            match v {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => vec![],
            }
        };
        doc["Statement"].as_array().unwrap().iter().any(|st| {
            list(&st["Action"]).iter().any(|a| glob(a, action))
                && list(&st["Resource"]).iter().any(|r| glob(r, resource))
        })
    }

    /// The resource patterns cover every ARN elb-watch acts on for any env, and nothing of
    /// someone else's with a different name (moto cannot check resources: this does).
    #[test]
    fn resources_are_scoped_to_the_env_names() {
        use crate::naming::{IAM_PATH, Names};
        let (acct, region) = ("123456789012", "eu-west-1");
        for env in ["prod", "e2345678901234567890"] {
            let n = Names::new(env);
            let role = format!("arn:aws:iam::{acct}:role{IAM_PATH}{}", n.role());
            let policy = format!("arn:aws:iam::{acct}:policy{IAM_PATH}{}", n.decrypt_policy());
            let key =
                format!("arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
            let alias = format!("arn:aws:kms:{region}:{acct}:{}", n.kms_alias());
            let topic = format!("arn:aws:sns:{region}:{acct}:{}", n.topic());
            let function = format!("arn:aws:lambda:{region}:{acct}:function:{}", n.function());
            let group = format!("arn:aws:logs:{region}:{acct}:log-group:{}", n.log_group());
            let alarm = format!(
                "arn:aws:cloudwatch:{region}:{acct}:alarm:{}",
                n.target_group_alarm("web-alb", "web-tg")
            );
            let queue = format!("arn:aws:sqs:{region}:{acct}:{}", n.queue());
            let by_resource: [(&str, &[&str]); 10] = [
                (
                    &queue,
                    &[
                        "sqs:CreateQueue",
                        "sqs:TagQueue",
                        "sqs:SetQueueAttributes",
                        "sqs:DeleteQueue",
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                    ],
                ),
                (
                    &role,
                    &[
                        "iam:CreateRole",
                        "iam:DeleteRole",
                        "iam:PutRolePolicy",
                        "iam:AttachRolePolicy",
                        "iam:DetachRolePolicy",
                        "iam:PassRole",
                        "iam:PutRolePermissionsBoundary",
                        "iam:DeleteRolePermissionsBoundary",
                    ],
                ),
                (
                    &policy,
                    &[
                        "iam:CreatePolicy",
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicy",
                    ],
                ),
                (
                    &key,
                    &[
                        "kms:PutKeyPolicy",
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:CreateAlias",
                        "kms:ScheduleKeyDeletion",
                        "kms:ListResourceTags",
                    ],
                ),
                (
                    &alias,
                    &["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"],
                ),
                (
                    &topic,
                    &[
                        "sns:CreateTopic",
                        "sns:TagResource",
                        "sns:Subscribe",
                        "sns:Publish",
                        "sns:DeleteTopic",
                    ],
                ),
                (
                    &function,
                    &[
                        "lambda:CreateFunction",
                        "lambda:UpdateFunctionCode",
                        "lambda:AddPermission",
                        "lambda:ListTags",
                        "lambda:DeleteFunction",
                        "lambda:PutFunctionEventInvokeConfig",
                        "lambda:PutFunctionConcurrency",
                        "lambda:InvokeFunction",
                    ],
                ),
                (
                    &group,
                    &[
                        "logs:CreateLogGroup",
                        "logs:PutRetentionPolicy",
                        "logs:DeleteLogGroup",
                    ],
                ),
                (
                    &format!("{group}:*"),
                    &["logs:ListTagsForResource", "logs:TagResource"],
                ),
                (
                    &alarm,
                    &[
                        "cloudwatch:PutMetricAlarm",
                        "cloudwatch:DeleteAlarms",
                        "cloudwatch:TagResource",
                    ],
                ),
            ];
            for (arn, actions) in by_resource {
                for action in actions {
                    assert!(allows(action, arn), "{action} on {arn} is not allowed");
                }
            }
        }
        // Someone else's resources, named otherwise, stay out of reach.
        let foreign = [
            ("iam:PutRolePolicy", "arn:aws:iam::1:role/admin"),
            (
                "iam:AttachRolePolicy",
                "arn:aws:iam::1:role/elb-watch-prod-notifier",
            ),
            ("iam:PassRole", "arn:aws:iam::1:role/service/payments"),
            (
                "iam:CreatePolicyVersion",
                "arn:aws:iam::1:policy/OrgBoundary",
            ),
            ("kms:DeleteAlias", "arn:aws:kms:eu-west-1:1:alias/payments"),
            ("sns:DeleteTopic", "arn:aws:sns:eu-west-1:1:payments-alerts"),
            ("sqs:DeleteQueue", "arn:aws:sqs:eu-west-1:1:payments-dlq"),
            ("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:1:orders"),
            (
                "lambda:UpdateFunctionCode",
                "arn:aws:lambda:eu-west-1:1:function:payments",
            ),
            (
                "logs:DeleteLogGroup",
                "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/payments",
            ),
            (
                "cloudwatch:DeleteAlarms",
                "arn:aws:cloudwatch:eu-west-1:1:alarm:payments-5xx",
            ),
        ];
        for (action, arn) in foreign {
            assert!(
                !allows(action, arn),
                "{action} on {arn} should not be allowed"
            );
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }
}
