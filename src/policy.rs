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
pub fn runtime_policy(
    partition: &str,
    region: &str,
    account_id: &str,
    log_group: &str,
    alarm_pattern: &str,
    queue_arn: &str,
    slack_threads: bool,
) -> Value {
    let group = format!("arn:{partition}:logs:{region}:{account_id}:log-group:{log_group}");
    let alarms = format!("arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{alarm_pattern}");
    let mut doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("{group}:*")
            },
            {
                "Sid": "ReadTargetHealth",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeInstanceHealth"
                ],
                "Resource": "*"
            },
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
            }
        ]
    });
    if slack_threads {
        let statements = doc["Statement"].as_array_mut().expect("built above");
        statements.extend(thread_statements(&alarms));
    }
    doc
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
            "aws",
            "eu-west-1",
            "1",
            "/aws/lambda/f",
            &alarms,
            queue,
            false,
        );
        assert_eq!(
            allowed_actions(&doc),
            vec![
                "cloudwatch:DescribeAlarmHistory",
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
            "aws",
            "eu-west-1",
            "1",
            "/aws/lambda/f",
            &alarms,
            queue,
            true,
        );
        let own = "arn:aws:cloudwatch:eu-west-1:1:alarm:elb-watch/prod/*/HealthyHostCount";
        let statements = doc["Statement"].as_array().unwrap();
        let read = &statements[4];
        assert_eq!(read["Action"], "cloudwatch:ListTagsForResource");
        assert_eq!(read["Resource"], own);
        let write = &statements[5];
        assert_eq!(
            write["Action"],
            json!(["cloudwatch:TagResource", "cloudwatch:UntagResource"])
        );
        assert_eq!(write["Resource"], own);
        assert_eq!(
            write["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
            json!([THREAD_TAG])
        );
        assert_eq!(statements.len(), 6);
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
            "aws",
            "eu-west-1",
            "1",
            "/aws/lambda/f",
            &crate::naming::Names::new("prod").load_balancer_alarms_pattern(),
            "arn:aws:sqs:eu-west-1:1:q",
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
}
