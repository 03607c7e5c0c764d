//! `elb-watch policy`: print the IAM policy the identity running elb-watch needs
//! (`policy/operator-policy.json`, embedded at build time, with the boundary it names), or with
//! `--boundary` the notifier roles' permissions boundary. No AWS call. Why each statement is
//! there, and what it cannot do: `docs/operator-policy.md`.

use crate::cli::PolicyArgs;
use crate::exit;
use anyhow::Result;
use std::io::Write;

/// The operator policy, exactly as in the repository.
pub const OPERATOR_POLICY: &str = include_str!("../../policy/operator-policy.json");

/// How the operator policy names elb-watch's own boundary: the account is the caller's own
/// (`aws:PrincipalAccount` as a policy variable), so one document serves every account.
pub const OWN_BOUNDARY_IN_POLICY: &str =
    "arn:aws:iam::${aws:PrincipalAccount}:policy/elb-watch/elb-watch-notifier-boundary";

/// The operator policy for roles bounded by `boundary` (`None`: elb-watch's own).
pub fn operator_policy(boundary: Option<&str>) -> String {
    match boundary {
        None => OPERATOR_POLICY.to_string(),
        Some(arn) => OPERATOR_POLICY.replace(OWN_BOUNDARY_IN_POLICY, arn),
    }
}

pub fn run(args: &PolicyArgs) -> Result<u8> {
    let text = if args.boundary {
        serde_json::to_string_pretty(&crate::policy::notifier_boundary("aws"))?
    } else {
        operator_policy(args.permissions_boundary.as_deref())
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(exit::OK)
}

/// Every action the policy's `Allow` statements name, as written (`service:Action`).
pub fn allowed_actions() -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(OPERATOR_POLICY).expect("policy/operator-policy.json is JSON");
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        if st["Effect"] != "Allow" {
            continue;
        }
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
    fn the_policy_is_valid_json_and_denies_only_the_boundarys_removal() {
        let doc: serde_json::Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        let mut denies = Vec::new();
        for st in doc["Statement"].as_array().unwrap() {
            assert!(
                st["Resource"].is_string() || st["Resource"].is_array(),
                "{st}"
            );
            match st["Effect"].as_str() {
                Some("Allow") => {}
                Some("Deny") => denies.push(st["Sid"].as_str().unwrap().to_string()),
                _ => panic!("{st}"),
            }
        }
        assert_eq!(
            denies,
            [
                "IamBoundaryIsNotTheOperatorsToChange",
                "IamRoleBoundaryStays"
            ]
        );
        let actions = allowed_actions();
        assert!(actions.len() > 60, "{}", actions.len());
        // An alias action is authorised on the alias and on its key: listed for each.
        let mut sorted: Vec<&String> = actions.iter().filter(|a| !a.ends_with("Alias")).collect();
        let total = sorted.len();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), total, "an action is listed twice");
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
            "Scheduler" => "scheduler",
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

    use crate::naming::{IAM_PATH, Names, TAG_ENV, TAG_MANAGED_BY, boundary_arn};
    use crate::policy_eval::{Decision, Request, evaluate};

    const ACCT: &str = "123456789012";
    const REGION: &str = "eu-west-1";

    fn doc(boundary: Option<&str>) -> serde_json::Value {
        serde_json::from_str(&operator_policy(boundary)).unwrap()
    }

    /// The context of elb-watch's own calls for env `env`: its tags on keys it made and in
    /// CreateKey, its boundary on roles, its own policies attached, roles passed to Lambda.
    fn as_elb_watch(action: &str, arn: &str, env: &str) -> Request {
        let own_policy = format!(
            "arn:aws:iam::{ACCT}:policy{IAM_PATH}{}",
            Names::new(env).decrypt_policy()
        );
        Request::new(action, arn)
            .with("aws:PrincipalAccount", &[ACCT])
            .with(&format!("aws:ResourceTag/{TAG_MANAGED_BY}"), &["elb-watch"])
            .with(&format!("aws:RequestTag/{TAG_MANAGED_BY}"), &["elb-watch"])
            .with(&format!("aws:RequestTag/{TAG_ENV}"), &[env])
            .with("aws:TagKeys", &[TAG_MANAGED_BY, TAG_ENV])
            .with("iam:PermissionsBoundary", &[&boundary_arn("aws", ACCT)])
            .with("iam:PolicyARN", &[&own_policy])
            .with("iam:PassedToService", &["lambda.amazonaws.com"])
    }

    /// Someone else's resource: no elb-watch tag, no boundary, only the caller's account.
    fn foreign(action: &str, arn: &str) -> Request {
        Request::new(action, arn).with("aws:PrincipalAccount", &[ACCT])
    }

    fn allows(req: &Request) -> bool {
        evaluate(&doc(None), req) == Decision::Allow
    }

    /// The resource patterns and conditions cover every ARN elb-watch acts on for any env,
    /// with the context its calls carry, and nothing of someone else's (moto can check neither
    /// resources nor conditions: this does).
    #[test]
    fn resources_are_scoped_to_the_env_names() {
        let (acct, region) = (ACCT, REGION);
        for env in ["prod", "e2345678901234567890"] {
            let n = Names::new(env);
            let role = format!("arn:aws:iam::{acct}:role{IAM_PATH}{}", n.role());
            let policy = format!("arn:aws:iam::{acct}:policy{IAM_PATH}{}", n.decrypt_policy());
            let key =
                format!("arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
            let alias = format!("arn:aws:kms:{region}:{acct}:{}", n.kms_alias());
            let topic = format!("arn:aws:sns:{region}:{acct}:{}", n.topic());
            let subscription = format!("{topic}:0b7e1c2a-1f7d-4a52-9d43-9f1d7c3a6b10");
            let function = format!("arn:aws:lambda:{region}:{acct}:function:{}", n.function());
            let group = format!("arn:aws:logs:{region}:{acct}:log-group:{}", n.log_group());
            let alarm = format!(
                "arn:aws:cloudwatch:{region}:{acct}:alarm:{}",
                n.target_group_alarm("web-alb", "web-tg")
            );
            let queue = format!("arn:aws:sqs:{region}:{acct}:{}", n.queue());
            let boundary = boundary_arn("aws", acct);
            let by_resource: [(&str, &[&str]); 14] = [
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
                    &boundary,
                    &[
                        "iam:GetPolicy",
                        "iam:GetPolicyVersion",
                        "iam:ListPolicyVersions",
                    ],
                ),
                ("*", &["kms:CreateKey", "kms:TagResource", "kms:ListKeys"]),
                (
                    &key,
                    &[
                        "kms:PutKeyPolicy",
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:CreateAlias",
                        "kms:ScheduleKeyDeletion",
                        "kms:ListResourceTags",
                        "kms:TagResource",
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
                    &subscription,
                    &[
                        "sns:Unsubscribe",
                        "sns:GetSubscriptionAttributes",
                        "sns:SetSubscriptionAttributes",
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
                (
                    "*",
                    &["cloudwatch:DescribeAlarms", "logs:DescribeLogGroups"],
                ),
            ];
            for (arn, actions) in by_resource {
                for action in actions {
                    let req = as_elb_watch(action, arn, env);
                    assert!(allows(&req), "{action} on {arn} is not allowed");
                }
            }
        }
        // Someone else's resources, named otherwise, stay out of reach.
        let foreign_arns = [
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
            (
                "sns:Unsubscribe",
                "arn:aws:sns:eu-west-1:1:payments-alerts:0b7e1c2a-1f7d-4a52-9d43-9f1d7c3a6b10",
            ),
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
        for (action, arn) in foreign_arns {
            // Even with every elb-watch condition satisfied, the ARN alone keeps it out.
            assert!(
                !allows(&as_elb_watch(action, arn, "prod")),
                "{action} on {arn} should not be allowed"
            );
        }
    }

    /// Someone else's KMS key is out of reach whatever its ARN: every key action needs the
    /// key to carry elb-watch's tag, and CreateKey / TagResource only write elb-watch's tags.
    #[test]
    fn other_keys_cannot_be_used_rewritten_or_deleted() {
        let key = format!("arn:aws:kms:{REGION}:{ACCT}:key/9f8e7d6c-0000-4000-8000-000000000001");
        for action in [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:EnableKey",
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:CreateAlias",
            "kms:ListResourceTags",
        ] {
            let untagged = foreign(action, &key);
            assert!(!allows(&untagged), "{action} on an untagged key");
            let theirs = foreign(action, &key)
                .with(&format!("aws:ResourceTag/{TAG_MANAGED_BY}"), &["terraform"]);
            assert!(!allows(&theirs), "{action} on a key tagged by others");
        }
        let create = foreign("kms:CreateKey", "*");
        assert!(!allows(&create), "CreateKey without elb-watch's tags");
        let extra_tag = as_elb_watch("kms:CreateKey", "*", "prod")
            .with("aws:TagKeys", &[TAG_MANAGED_BY, TAG_ENV, "team"]);
        assert!(!allows(&extra_tag), "CreateKey with a tag not elb-watch's");
        let retag = foreign("kms:TagResource", &key)
            .with("aws:RequestTag/team", &["payments"])
            .with("aws:TagKeys", &["team"]);
        assert!(!allows(&retag), "TagResource writing someone else's tag");
    }

    /// The path to administrator is closed: roles only with the boundary, attached policies only
    /// elb-watch's own, the boundary never removed, the boundary policy never rewritten.
    #[test]
    fn the_operator_cannot_make_an_administrator() {
        let role = format!("arn:aws:iam::{ACCT}:role/elb-watch/elb-watch-x-notifier");
        let own = boundary_arn("aws", ACCT);
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        for action in [
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
        ] {
            let unbounded = foreign(action, &role);
            assert!(!allows(&unbounded), "{action} without a boundary");
            let other = foreign(action, &role)
                .with("iam:PermissionsBoundary", &[admin])
                .with("iam:PolicyARN", &[&own]);
            assert!(!allows(&other), "{action} with another boundary");
        }
        let attach_admin =
            as_elb_watch("iam:AttachRolePolicy", &role, "x").with("iam:PolicyARN", &[admin]);
        assert!(!allows(&attach_admin), "AdministratorAccess attached");
        let attach_others = as_elb_watch("iam:AttachRolePolicy", &role, "x").with(
            "iam:PolicyARN",
            &["arn:aws:iam::999999999999:policy/elb-watch/elb-watch-x"],
        );
        assert!(!allows(&attach_others), "another account's policy attached");
        assert_eq!(
            evaluate(
                &doc(None),
                &as_elb_watch("iam:DeleteRolePermissionsBoundary", &role, "x")
            ),
            Decision::ExplicitDeny
        );
        for action in [
            "iam:CreatePolicy",
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
        ] {
            assert_eq!(
                evaluate(&doc(None), &as_elb_watch(action, &own, "x")),
                Decision::ExplicitDeny,
                "{action} on the boundary"
            );
        }
    }

    /// `elb-watch policy --permissions-boundary ARN` names that boundary everywhere the
    /// default names elb-watch's own, and only that one is accepted.
    #[test]
    fn an_organisations_boundary_replaces_elb_watchs_own() {
        let org = "arn:aws:iam::123456789012:policy/OrgBoundary";
        let text = operator_policy(Some(org));
        assert!(!text.contains(OWN_BOUNDARY_IN_POLICY), "{text}");
        assert!(text.matches(org).count() >= 3, "{text}");
        let d: serde_json::Value = serde_json::from_str(&text).unwrap();
        let role = format!("arn:aws:iam::{ACCT}:role/elb-watch/elb-watch-x-notifier");
        let with = |b: &str| foreign("iam:CreateRole", &role).with("iam:PermissionsBoundary", &[b]);
        assert_eq!(evaluate(&d, &with(org)), Decision::Allow);
        assert_ne!(
            evaluate(&d, &with(&boundary_arn("aws", ACCT))),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&d, &foreign("iam:CreatePolicyVersion", org)),
            Decision::ExplicitDeny,
            "the organisation's boundary is not the operator's to change either"
        );
    }

    /// Read back statement by statement: no statement grants a KMS key action (anything but
    /// the two account-level lists) without a condition on elb-watch's tags, and none grants a
    /// role-writing action without the boundary condition.
    #[test]
    fn key_and_role_writes_always_carry_their_condition() {
        let d = doc(None);
        let role_writes = [
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:PutRolePermissionsBoundary",
        ];
        let (mut kms_seen, mut role_seen) = (0, 0);
        for st in d["Statement"].as_array().unwrap() {
            if st["Effect"] != "Allow" {
                continue;
            }
            let acts = crate::policy_eval::actions(&serde_json::json!({"Statement": [st]}));
            let cond = st["Condition"].to_string();
            let alias_only = st["Resource"]
                .as_str()
                .is_some_and(|r| r.contains(":alias/elb-watch-"));
            let key_actions = acts
                .iter()
                .filter(|a| {
                    a.starts_with("kms:")
                        && !["kms:ListKeys", "kms:ListAliases"].contains(&a.as_str())
                })
                .count();
            if key_actions > 0 && !alias_only {
                kms_seen += key_actions;
                assert!(
                    cond.contains("aws:ResourceTag/elb-watch:managed-by")
                        || cond.contains("aws:RequestTag/elb-watch:managed-by"),
                    "KMS without an elb-watch condition: {st}"
                );
            }
            if acts.iter().any(|a| role_writes.contains(&a.as_str())) {
                role_seen += 1;
                assert!(
                    st["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
                        == OWN_BOUNDARY_IN_POLICY,
                    "a role write without the boundary: {st}"
                );
            }
            if acts.iter().any(|a| a == "iam:AttachRolePolicy") {
                assert_eq!(
                    st["Condition"]["ArnLike"]["iam:PolicyARN"],
                    "arn:aws:iam::${aws:PrincipalAccount}:policy/elb-watch/elb-watch-*",
                    "{st}"
                );
            }
        }
        assert!(kms_seen >= 12, "{kms_seen}");
        assert_eq!(role_seen, 2);
        assert!(!allowed_actions().contains(&"iam:DeleteRolePermissionsBoundary".to_string()));
    }

    /// Every statement whose resource is `*` says why in docs/operator-policy.md, and the page
    /// has a row for every statement.
    #[test]
    fn every_statement_is_explained_in_the_docs() {
        let page = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operator-policy.md"),
        )
        .unwrap();
        let d = doc(None);
        for st in d["Statement"].as_array().unwrap() {
            let sid = st["Sid"].as_str().expect("every statement has a Sid");
            let row = page
                .lines()
                .find(|l| l.starts_with(&format!("| `{sid}` |")))
                .unwrap_or_else(|| panic!("no row for {sid} in docs/operator-policy.md"));
            let star = st["Resource"] == "*"
                || st["Resource"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|r| r == "*"));
            if star {
                assert!(
                    row.contains("no resource type") || row.contains("condition"),
                    "{sid} allows `*` without saying why: {row}"
                );
            }
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
