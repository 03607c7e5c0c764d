//! The IAM and KMS policy documents elb-watch creates. Pure: the tests check these very
//! documents, and `up` compares them with what AWS holds to find drift.

use serde_json::{Value, json};

/// Who may assume the notifier's role: the Lambda service, for this account only.
pub fn lambda_trust_policy(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}
        }]
    })
}

/// Who may assume the window-end role: EventBridge Scheduler, for this account only
/// (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role>:
/// the execution role trusts `scheduler.amazonaws.com`, with `aws:SourceAccount` against the
/// confused deputy).
pub fn scheduler_trust_policy(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}
        }]
    })
}

/// The window-end role's only right: invoke the env's notifier.
pub fn scheduler_invoke_policy(function_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "InvokeNotifierAtWindowEnd",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn
        }]
    })
}

/// The seed's decrypt-only policy: `kms:Decrypt` on the one key, nothing else, and only for
/// ciphertexts bound to the notifier function by the encryption context — the same condition
/// as the key policy's, so neither policy alone lets the role decrypt anything else made with
/// the key. Condition key: <https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context>
pub fn decrypt_only_policy(key_arn: &str, function: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DecryptSlackWebhookUrl",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:EncryptionContext:LambdaFunctionName": function}
            }
        }]
    })
}

/// The role's inline policy: write its own logs; the notifier's two reads — DescribeTargetHealth
/// (which supports no resource-level scoping) and DescribeAlarmHistory on the env's alarms only
/// (`alarm_pattern`, e.g. `elb-watch/prod/*/HealthyHostCount`: no other env's alarm matches, as
/// env names cannot contain the `/` that ends `prod`); and `sqs:SendMessage` on the
/// env's undelivered-alerts queue only: Lambda sends a failed asynchronous invocation's record
/// to an SQS on-failure destination with the function's execution role
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).
///
/// DescribeAlarmHistory takes the `alarm` resource type
/// (`arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${AlarmName}`,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html>),
/// and its API page says a narrower scope than `*` only costs composite alarms' history
/// ("You can't return information about composite alarms if your
/// cloudwatch:DescribeAlarmHistory permission has a narrower scope",
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>);
/// elb-watch's alarms are metric alarms.
/// Where the notifier's role may act: its account and region, and the names of what it touches.
#[derive(Clone, Copy)]
pub struct RuntimeScope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account_id: &'a str,
    pub log_group: &'a str,
    /// The env's load-balancer alarms, e.g. `elb-watch/prod/*/HealthyHostCount`.
    pub alarm_pattern: &'a str,
    /// The env's mute rules, e.g. `elb-watch-prod-mute-*`.
    pub mute_rule_pattern: &'a str,
    pub queue_arn: &'a str,
}

pub fn runtime_policy(scope: &RuntimeScope, slack_threads: bool) -> Value {
    let RuntimeScope {
        partition,
        region,
        account_id,
        log_group,
        alarm_pattern,
        mute_rule_pattern,
        queue_arn,
    } = *scope;
    let group = format!("arn:{partition}:logs:{region}:{account_id}:log-group:{log_group}");
    let alarms = format!("arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{alarm_pattern}");
    let mute_rules = format!(
        "arn:{partition}:cloudwatch:{region}:{account_id}:alarm-mute-rule:{mute_rule_pattern}"
    );
    let mut doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("{group}:*")
            },
            read_target_health(),
            {
                "Sid": "ReadOwnAlarmHistory",
                "Effect": "Allow",
                "Action": "cloudwatch:DescribeAlarmHistory",
                "Resource": alarms
            },
            {
                "Sid": "KeepUndeliveredAlerts",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn
            },
            {
                "Sid": "ReadOwnAlarmsAtWindowEnd",
                "Effect": "Allow",
                "Action": "cloudwatch:DescribeAlarms",
                "Resource": alarms
            },
            {
                "Sid": "ReadOwnMuteRules",
                "Effect": "Allow",
                "Action": "cloudwatch:GetAlarmMuteRule",
                "Resource": mute_rules
            }
        ]
    });
    let statements = doc["Statement"].as_array_mut().expect("built above");
    if slack_threads {
        statements.extend(thread_statements(&alarms));
    }
    // The alarm's graph (issue 24): GetMetricWidgetImage takes no resource type
    // (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html>).
    statements.push(json!({
        "Sid": "DrawAlarmGraph",
        "Effect": "Allow",
        "Action": "cloudwatch:GetMetricWidgetImage",
        "Resource": "*"
    }));
    doc
}

/// The notifier's target-health reads: DescribeTargetHealth and DescribeInstanceHealth take no
/// resource type, hence `*`.
fn read_target_health() -> Value {
    json!({
        "Sid": "ReadTargetHealth",
        "Effect": "Allow",
        "Action": [
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeInstanceHealth"
        ],
        "Resource": "*"
    })
}

/// Slack app mode keeps each incident's thread (`CHANNEL/TS` of its first message) in a tag
/// on the alarm, [`THREAD_TAG`]: the role may read the tags of this env's load-balancer alarms
/// and write or remove that one tag key only (`aws:TagKeys`,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html>:
/// TagResource and UntagResource take the `aws:TagKeys` condition key).
fn thread_statements(alarms: &str) -> [Value; 2] {
    [
        json!({
            "Sid": "ReadOwnAlarmTags",
            "Effect": "Allow",
            "Action": "cloudwatch:ListTagsForResource",
            "Resource": alarms
        }),
        json!({
            "Sid": "KeepSlackThreadOnOwnAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:TagResource", "cloudwatch:UntagResource"],
            "Resource": alarms,
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [THREAD_TAG]}}
        }),
    ]
}

/// elb-watch's permissions boundary ([`crate::naming::BOUNDARY_POLICY`]), one per account and
/// the same for every env: the most any notifier role may do, whatever policies its role is
/// given. It grants nothing by itself (a boundary only caps: the role's effective permissions
/// are its own policies intersected with it,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>), so the
/// operator policy, which lets its holder make roles only with this boundary, cannot be used to
/// make an administrator: a role given `AdministratorAccess` could still only do this.
///
/// Exactly the notifier's calls, on elb-watch's resources of any env: write a notifier's logs,
/// read target health (DescribeTargetHealth and DescribeInstanceHealth take no resource type:
/// `*`), read and keep the Slack thread tag on load-balancer alarms (`aws:TagKeys` limited to
/// [`THREAD_TAG`]), send to an undelivered-alerts queue, decrypt only ciphertexts bound to a
/// notifier by the encryption context, and draw an alarm's graph (GetMetricWidgetImage takes no
/// resource type). The decrypt is not also tied to the key's tags: a tag-based condition can lag
/// a new key by minutes (<https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>), and
/// the first alert after `up` must not wait for it; each role's own decrypt policy names its key.
pub fn notifier_boundary(partition: &str) -> Value {
    let alarms = format!(
        "arn:{partition}:cloudwatch:*:*:alarm:elb-watch/*/{}",
        crate::naming::ALARM_METRIC
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteNotifierLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("arn:{partition}:logs:*:*:log-group:/aws/lambda/elb-watch-*-notifier:*")
            },
            read_target_health(),
            {
                "Sid": "ReadAlarmHistoryAndTags",
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarmHistory", "cloudwatch:ListTagsForResource"],
                "Resource": alarms
            },
            {
                "Sid": "KeepSlackThreadOnAlarms",
                "Effect": "Allow",
                "Action": ["cloudwatch:TagResource", "cloudwatch:UntagResource"],
                "Resource": alarms,
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [THREAD_TAG]}}
            },
            {
                "Sid": "KeepUndeliveredAlerts",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": format!("arn:{partition}:sqs:*:*:elb-watch-*-undelivered")
            },
            {
                "Sid": "DecryptNotifierSecret",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": format!("arn:{partition}:kms:*:*:key/*"),
                "Condition": {
                    "StringLike": {"kms:EncryptionContext:LambdaFunctionName": "elb-watch-*-notifier"}
                }
            },
            {
                "Sid": "ReadAlarmsAndMuteRulesAtWindowEnd",
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:GetAlarmMuteRule"],
                "Resource": [
                    alarms.clone(),
                    format!("arn:{partition}:cloudwatch:*:*:alarm-mute-rule:elb-watch-*")
                ]
            },
            {
                "Sid": "SchedulerInvokesNotifier",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": format!("arn:{partition}:lambda:*:*:function:elb-watch-*-notifier")
            },
            {
                "Sid": "DrawAlarmGraph",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricWidgetImage",
                "Resource": "*"
            }
        ]
    })
}

/// The alarm tag holding an open incident's Slack thread (`CHANNEL/TS`); the notifier writes
/// it, and `up` leaves it alone.
pub const THREAD_TAG: &str = "elb-watch:slack-thread";

/// Key policy: the account administers the key (so IAM policies govern it, as with any
/// customer-managed key); the notifier's role may only decrypt, and only ciphertexts bound to its
/// function by the encryption context.
pub fn key_policy(partition: &str, account_id: &str, role_arn: &str, function: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account_id}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "NotifierDecryptsOnly",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:EncryptionContext:LambdaFunctionName": function}
                }
            }
        ]
    })
}

/// A policy document as AWS returns it (IAM URL-encodes them) parsed to JSON, for comparing.
pub fn parse_document(raw: &str) -> Option<Value> {
    let decoded = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        url::form_urlencoded::parse(format!("x={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())?
    };
    serde_json::from_str(&decoded).ok()
}

/// Whether two documents say the same; a single action or resource equals a one-element list.
pub fn same_document(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// Every action a policy document allows.
pub fn allowed_actions(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let statements = match &doc["Statement"] {
        Value::Array(s) => s.clone(),
        other => vec![other.clone()],
    };
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        match &s["Action"] {
            Value::String(a) => out.push(a.clone()),
            Value::Array(a) => out.extend(a.iter().filter_map(|x| x.as_str().map(String::from))),
            _ => {}
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrypt_policy_allows_only_decrypt_on_the_key() {
        let doc = decrypt_only_policy("arn:aws:kms:us-east-1:1:key/k", "fn");
        assert_eq!(allowed_actions(&doc), vec!["kms:Decrypt"]);
        assert_eq!(
            doc["Statement"][0]["Resource"],
            "arn:aws:kms:us-east-1:1:key/k"
        );
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn decrypt_policy_carries_the_key_policys_encryption_context_condition() {
        let decrypt = decrypt_only_policy("arn:aws:kms:us-east-1:1:key/k", "fn");
        let key = key_policy("aws", "1", "arn:aws:iam::1:role/r", "fn");
        assert_eq!(
            decrypt["Statement"][0]["Condition"],
            key["Statement"][1]["Condition"]
        );
        assert_eq!(
            decrypt["Statement"][0]["Condition"]["StringEquals"]["kms:EncryptionContext:LambdaFunctionName"],
            "fn"
        );
    }

    #[test]
    fn runtime_policy_is_scoped_to_own_log_group() {
        let queue = "arn:aws:sqs:eu-west-1:1:elb-watch-prod-undelivered";
        let alarms = crate::naming::Names::new("prod").load_balancer_alarms_pattern();
        let doc = runtime_policy(
            &RuntimeScope {
                partition: "aws",
                region: "eu-west-1",
                account_id: "1",
                log_group: "/aws/lambda/f",
                alarm_pattern: &alarms,
                mute_rule_pattern: "elb-watch-prod-mute-*",
                queue_arn: queue,
            },
            false,
        );
        assert_eq!(
            allowed_actions(&doc),
            vec![
                "cloudwatch:DescribeAlarmHistory",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetAlarmMuteRule",
                "cloudwatch:GetMetricWidgetImage",
                "elasticloadbalancing:DescribeInstanceHealth",
                "elasticloadbalancing:DescribeTargetHealth",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "sqs:SendMessage"
            ]
        );
        // The alarm history: the env's alarms in its region, nothing else.
        assert_eq!(
            doc["Statement"][2]["Resource"],
            "arn:aws:cloudwatch:eu-west-1:1:alarm:elb-watch/prod/*/HealthyHostCount"
        );
        // The on-failure destination: that one queue, no wildcard.
        assert_eq!(doc["Statement"][3]["Resource"], queue);
        // At a window's end: the env's alarms, and its mute rules only.
        assert_eq!(
            doc["Statement"][4]["Resource"],
            doc["Statement"][2]["Resource"]
        );
        assert_eq!(
            doc["Statement"][5]["Resource"],
            "arn:aws:cloudwatch:eu-west-1:1:alarm-mute-rule:elb-watch-prod-mute-*"
        );
        assert_eq!(
            doc["Statement"][0]["Resource"],
            "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*"
        );
        assert!(!doc.to_string().contains("CloudWatchReadOnlyAccess"));
    }

    #[test]
    fn app_mode_may_keep_only_the_thread_tag_on_its_own_alarms() {
        let queue = "arn:aws:sqs:eu-west-1:1:q";
        let alarms = crate::naming::Names::new("prod").load_balancer_alarms_pattern();
        let doc = runtime_policy(
            &RuntimeScope {
                partition: "aws",
                region: "eu-west-1",
                account_id: "1",
                log_group: "/aws/lambda/f",
                alarm_pattern: &alarms,
                mute_rule_pattern: "elb-watch-prod-mute-*",
                queue_arn: queue,
            },
            true,
        );
        let own = "arn:aws:cloudwatch:eu-west-1:1:alarm:elb-watch/prod/*/HealthyHostCount";
        let statements = doc["Statement"].as_array().unwrap();
        let read = &statements[6];
        assert_eq!(read["Action"], "cloudwatch:ListTagsForResource");
        assert_eq!(read["Resource"], own);
        let write = &statements[7];
        assert_eq!(
            write["Action"],
            json!(["cloudwatch:TagResource", "cloudwatch:UntagResource"])
        );
        assert_eq!(write["Resource"], own);
        assert_eq!(
            write["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
            json!([THREAD_TAG])
        );
        assert_eq!(statements.len(), 9);
    }

    /// IAM's wildcard match on one ARN: `*` any run of characters (also across `/`).
    fn iam_match(pattern: &str, text: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == text,
            Some((head, tail)) => {
                text.starts_with(head)
                    && (head.len()..=text.len())
                        .any(|i| text.is_char_boundary(i) && iam_match(tail, &text[i..]))
            }
        }
    }

    #[test]
    fn the_notifier_role_reaches_its_own_envs_alarms_and_no_other_envs() {
        let doc = runtime_policy(
            &RuntimeScope {
                partition: "aws",
                region: "eu-west-1",
                account_id: "1",
                log_group: "/aws/lambda/f",
                alarm_pattern: &crate::naming::Names::new("prod").load_balancer_alarms_pattern(),
                mute_rule_pattern: "elb-watch-prod-mute-*",
                queue_arn: "arn:aws:sqs:eu-west-1:1:q",
            },
            true,
        );
        let reach = doc["Statement"][4]["Resource"]
            .as_str()
            .unwrap()
            .to_string();
        let arn = |name: String| format!("arn:aws:cloudwatch:eu-west-1:1:alarm:{name}");
        let (prod, eu) = (
            crate::naming::Names::new("prod"),
            crate::naming::Names::new("prod-eu"),
        );
        assert!(iam_match(
            &reach,
            &arn(prod.target_group_alarm("web-alb", "eu-web"))
        ));
        assert!(iam_match(&reach, &arn(prod.classic_alarm("legacy"))));
        for foreign in [
            eu.target_group_alarm("web-alb", "web"),
            eu.classic_alarm("legacy"),
            // What the old scheme's `elb-watch-prod-*-HealthyHostCount` reached.
            eu.legacy_alarm("web"),
            prod.notifier_errors_alarm(),
        ] {
            assert!(!iam_match(&reach, &arn(foreign.clone())), "{foreign}");
        }
        assert!(iam_match(
            "arn:aws:cloudwatch:eu-west-1:1:alarm:elb-watch-prod-*-HealthyHostCount",
            &arn(eu.legacy_alarm("web"))
        ));
    }

    #[test]
    fn key_policy_gives_the_role_decrypt_only_bound_to_its_function() {
        let doc = key_policy("aws", "1", "arn:aws:iam::1:role/r", "fn");
        let role = &doc["Statement"][1];
        assert_eq!(role["Principal"]["AWS"], "arn:aws:iam::1:role/r");
        assert_eq!(role["Action"], "kms:Decrypt");
        assert_eq!(
            role["Condition"]["StringEquals"]["kms:EncryptionContext:LambdaFunctionName"],
            "fn"
        );
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::1:root"
        );
    }

    #[test]
    fn documents_compare_through_url_encoding_and_list_forms() {
        let doc = decrypt_only_policy("k", "fn");
        let encoded: String =
            url::form_urlencoded::byte_serialize(doc.to_string().as_bytes()).collect();
        assert_eq!(parse_document(&encoded).unwrap(), doc);
        assert_eq!(parse_document(&doc.to_string()).unwrap(), doc);
        let mut listy = doc.clone();
        listy["Statement"][0]["Action"] = json!(["kms:Decrypt"]);
        assert!(same_document(&doc, &listy));
        let mut other = doc.clone();
        other["Statement"][0]["Action"] = json!("kms:*");
        assert!(!same_document(&doc, &other));
    }

    /// The notifier's AWS calls, scanned from lambda/src: each `client` followed by
    /// `.operation()`, named for IAM by the SDK crate the file uses.
    fn notifier_calls() -> std::collections::BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda/src");
        let mut files = vec![root];
        let mut out = std::collections::BTreeSet::new();
        while let Some(p) = files.pop() {
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let prefixes: std::collections::BTreeSet<&str> = [
                ("aws_sdk_kms", "kms"),
                ("aws_sdk_cloudwatch", "cloudwatch"),
                ("aws_sdk_elasticloadbalancingv2", "elasticloadbalancing"),
                ("aws_sdk_elasticloadbalancing", "elasticloadbalancing"),
                ("aws_sdk_sqs", "sqs"),
                ("aws_sdk_logs", "logs"),
            ]
            .into_iter()
            .filter(|(krate, _)| {
                text.contains(&format!("{krate}::")) || text.contains(&format!("use {krate} as"))
            })
            .map(|(_, prefix)| prefix)
            .collect();
            let squeezed: String = text.split_whitespace().collect();
            for piece in squeezed.split("client.").skip(1) {
                let Some(op) = piece.split_once("()") else {
                    continue;
                };
                let op = op.0;
                if op.is_empty() || !op.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    continue;
                }
                assert_eq!(prefixes.len(), 1, "{}: which service is {op}?", p.display());
                let pascal: String = op
                    .split('_')
                    .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                    .collect();
                out.insert(format!("{}:{pascal}", prefixes.iter().next().unwrap()));
            }
        }
        out
    }

    /// The notifier role's effective permissions — its policies intersected with the boundary —
    /// are exactly the calls the notifier makes (plus what Lambda does with its role: write its
    /// logs, send a failed invocation's record to the queue), each on its own env's resources;
    /// the boundary cuts none of them, and allows nothing the notifier does not call but
    /// GetMetricWidgetImage, kept for the alarm graph.
    #[test]
    fn the_boundary_leaves_the_notifier_exactly_its_calls() {
        use crate::naming::Names;
        use crate::policy_eval::{Request, actions, allowed, allowed_by_any};
        let (acct, region, env) = ("123456789012", "eu-west-1", "prod");
        let n = Names::new(env);
        let alarm = format!(
            "arn:aws:cloudwatch:{region}:{acct}:alarm:{}",
            n.target_group_alarm("web-alb", "web-tg")
        );
        let queue = format!("arn:aws:sqs:{region}:{acct}:{}", n.queue());
        let mute_rule = format!(
            "arn:aws:cloudwatch:{region}:{acct}:alarm-mute-rule:{}deploy-1",
            n.mute_rule_prefix()
        );
        let key = format!("arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        let group = format!("arn:aws:logs:{region}:{acct}:log-group:{}", n.log_group());
        let runtime = runtime_policy(
            &RuntimeScope {
                partition: "aws",
                region,
                account_id: acct,
                log_group: &n.log_group(),
                alarm_pattern: &n.load_balancer_alarms_pattern(),
                mute_rule_pattern: &format!("{}*", n.mute_rule_prefix()),
                queue_arn: &queue,
            },
            true,
        );
        let decrypt = decrypt_only_policy(&key, &n.function());
        let boundary = notifier_boundary("aws");
        let calls = notifier_calls();
        assert!(calls.len() >= 6, "the scan found only {calls:?}");
        let lambda_platform = [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sqs:SendMessage",
        ];
        let request = |action: &str| -> Request {
            let r = match action {
                "kms:Decrypt" => Request::new(action, &key)
                    .with("kms:EncryptionContext:LambdaFunctionName", &[&n.function()]),
                "cloudwatch:TagResource" | "cloudwatch:UntagResource" => {
                    Request::new(action, &alarm).with("aws:TagKeys", &[THREAD_TAG])
                }
                "cloudwatch:GetAlarmMuteRule" => Request::new(action, &mute_rule),
                a if a.starts_with("cloudwatch:") => Request::new(action, &alarm),
                a if a.starts_with("elasticloadbalancing:") => Request::new(action, "*"),
                a if a.starts_with("logs:") => {
                    Request::new(action, &format!("{group}:log-stream:2026/12/03/x"))
                }
                "sqs:SendMessage" => Request::new(action, &queue),
                other => panic!("no resource known for the notifier's {other}"),
            };
            r.with("aws:PrincipalAccount", &[acct])
        };
        for action in calls.iter().map(String::as_str).chain(lambda_platform) {
            let req = request(action);
            assert!(
                allowed_by_any(&[&runtime, &decrypt], &req),
                "the role's policies lack {action}"
            );
            assert!(allowed(&[&boundary], &req), "the boundary cuts {action}");
        }
        // Nothing beyond: every action either document names is a call (or the graph's).
        let expected: std::collections::BTreeSet<String> = calls
            .iter()
            .cloned()
            .chain(lambda_platform.map(String::from))
            .collect();
        for action in actions(&runtime).into_iter().chain(actions(&decrypt)) {
            assert!(
                expected.contains(&action),
                "the role allows unused {action}"
            );
        }
        for action in actions(&boundary) {
            assert!(
                expected.contains(&action)
                    || action == "cloudwatch:GetMetricWidgetImage"
                    // The window-end role's one right (it carries the same boundary).
                    || action == "lambda:InvokeFunction",
                "the boundary allows unused {action}"
            );
        }
        // And the boundary's own limits hold whatever a role is given.
        let admin = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let escapes = [
            Request::new("iam:CreateUser", "arn:aws:iam::123456789012:user/x"),
            Request::new("s3:GetObject", "arn:aws:s3:::payments/ledger.csv"),
            Request::new("kms:Decrypt", &key)
                .with("kms:EncryptionContext:LambdaFunctionName", &["payments"]),
            Request::new("kms:Decrypt", &key),
            Request::new("cloudwatch:TagResource", &alarm).with("aws:TagKeys", &["owner"]),
            Request::new("cloudwatch:DeleteAlarms", &alarm),
            Request::new(
                "sqs:SendMessage",
                "arn:aws:sqs:eu-west-1:123456789012:orders",
            ),
            Request::new(
                "logs:PutLogEvents",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/payments:log-stream:x",
            ),
        ];
        for req in escapes {
            let req = req.with("aws:PrincipalAccount", &[acct]);
            assert!(allowed(&[&admin], &req));
            assert!(
                !allowed(&[&admin, &boundary], &req),
                "a role with AdministratorAccess could still {} {}",
                req.action,
                req.resource
            );
        }
    }
}
