//! What exists in AWS for one environment, read by name (and, where names can collide, proven by
//! tags). Reads only; `up`, `status` and `down` all start here.

use crate::aws::{AwsResultExt, Clients, errors, retry};
use crate::naming::{self, Names};
use crate::policy;
use crate::secret::{Secret, SlackSecret};
use crate::state::desired::{ENV_HOOK, ENV_TOKEN, Identity};
use crate::state::email_filter;
use crate::state::zones::ZoneMath;
use anyhow::Result;
use aws_sdk_cloudwatch::types::MetricAlarm;
use base64::Engine;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct KeyObs {
    pub key_id: String,
    pub arn: String,
    pub enabled: bool,
    pub pending_deletion: bool,
    pub policy: Option<Value>,
    pub owned: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyObs {
    pub arn: String,
    pub document: Option<Value>,
    pub default_version: String,
    pub versions: Vec<String>,
    pub owned: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RoleObs {
    pub arn: String,
    pub trust: Option<Value>,
    /// Every managed policy attached to the role.
    pub attached: Vec<String>,
    /// Those elb-watch attached: the env's decrypt policy, and any other policy under the
    /// `/elb-watch/` path carrying the env's tags (e.g. one an older version made). Others —
    /// an organisation's policy attached by someone else — are never detached by `up`.
    pub attached_own: Vec<String>,
    /// ARN of the role's permissions boundary.
    pub permissions_boundary: Option<String>,
    pub inline: BTreeMap<String, Value>,
    pub owned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionObs {
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
    /// A confirmed e-mail subscription's `FilterPolicyScope` and `FilterPolicy` (each `None`
    /// when unset); `None` when not read (other protocols, or `PendingConfirmation`, whose
    /// attributes SNS does not show).
    pub filter: Option<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, Default)]
pub struct TopicObs {
    pub arn: String,
    pub subscriptions: Vec<SubscriptionObs>,
    pub tags: BTreeMap<String, String>,
    pub owned: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LogGroupObs {
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct FunctionObs {
    pub arn: String,
    pub role: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub code_sha256: String,
    /// Lambda's `Architectures` (one value; x86_64 when Lambda reports none, its default).
    pub architecture: String,
    pub description: String,
    pub env: BTreeMap<String, String>,
    pub owned: bool,
    /// `State` (`Pending`, `Active`, `Inactive`, `Failed`), when Lambda reports one.
    pub state: Option<String>,
    /// `LastUpdateStatus` (`InProgress`, `Successful`, `Failed`), when Lambda reports one.
    pub last_update_status: Option<String>,
    /// The Slack secret the function holds (bot token or webhook URL), decrypted (in memory
    /// only).
    pub secret: Option<SlackSecret>,
    /// Why the function's ciphertext could not be decrypted, if it could not.
    pub secret_error: Option<String>,
}

impl FunctionObs {
    /// Lambda accepts operations on the function: `Active` (or no state reported) and no update
    /// `InProgress` (<https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>).
    pub fn is_ready(&self) -> bool {
        matches!(
            self.state.as_deref(),
            None | Some("Active") | Some("Inactive")
        ) && self.last_update_status.as_deref() != Some("InProgress")
    }
}

#[derive(Debug, Clone, Default)]
pub struct PermissionObs {
    pub source_arn: Option<String>,
    pub principal: Option<String>,
    pub action: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmObs {
    pub name: String,
    pub arn: String,
    pub namespace: String,
    pub metric: String,
    /// (name, value), sorted by name.
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub period: i32,
    pub evaluation_periods: i32,
    /// `DatapointsToAlarm`; AWS omits it when it equals `EvaluationPeriods`.
    pub datapoints_to_alarm: i32,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing: String,
    pub description: String,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub state: String,
    pub state_reason: String,
    pub state_since: Option<String>,
    /// The tag keys its notifications carry (`AlarmTagsPropagation` enabled with
    /// `IncludedTagKeys`, sorted); empty when not enabled.
    pub tags_in_notifications: Vec<String>,
    /// A metric-math alarm over zones as [`zones`](crate::state::zones) writes it: the zones
    /// and how they combine. The fields above then describe its per-zone metric (the
    /// dimensions without `AvailabilityZone`). `Some` with no zones: math of another shape.
    pub zones: Option<ZoneMath>,
    /// A percent alarm as `apply::alarms::share_queries` writes it
    /// (`alarms::SHARE_EXPRESSION` over `HealthyHostCount` and `UnHealthyHostCount`): the
    /// fields above then describe its `HealthyHostCount` query, and `zones` is `None`.
    pub percent: bool,
    /// Its `elb-watch:runbook` tag, once read ([`super::alarm_tags::read_runbooks`]): `None`
    /// until then (nothing is judged), `Some(None)` for an alarm without one.
    pub runbook: Option<Option<String>>,
}

impl AlarmObs {
    /// The metrics the alarm reads (each billed as an alarm metric), as
    /// [`MetricSpec::metric_count`](crate::state::alarms::MetricSpec::metric_count).
    pub fn metric_count(&self) -> usize {
        if self.percent {
            return 2;
        }
        self.zones.as_ref().map_or(1, |z| z.zones.len())
    }

    /// The value of one metric dimension.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub use super::queue::{AsyncObs, QueueObs};

#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub key: Option<KeyObs>,
    /// The alias exists (possibly pointing at a key pending deletion).
    pub alias_target: Option<String>,
    pub decrypt_policy: Option<PolicyObs>,
    /// elb-watch's own permissions boundary (one per account, [`naming::BOUNDARY_POLICY`]).
    pub boundary: Option<PolicyObs>,
    pub role: Option<RoleObs>,
    pub topic: Option<TopicObs>,
    pub log_group: Option<LogGroupObs>,
    pub function: Option<FunctionObs>,
    pub permission: Option<PermissionObs>,
    pub queue: Option<QueueObs>,
    /// Read only when the function exists.
    pub async_invoke: Option<AsyncObs>,
    /// The function's reserved concurrency (`GetFunctionConcurrency`), when set.
    pub concurrency: Option<i32>,
    /// Alarms proven to be this env's.
    pub alarms: Vec<AlarmObs>,
    /// Alarms with this env's name prefix that belong to someone else.
    pub foreign_alarms: Vec<String>,
}

fn tag_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn owns(names: &Names, tags: &BTreeMap<String, String>) -> bool {
    names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Read everything of `names`' environment, concurrently.
pub async fn observe(clients: &Clients, names: &Names, identity: &Identity) -> Result<Observed> {
    let topic_arn = identity.topic_arn(names);
    let policy_arn = identity.decrypt_policy_arn(names);
    let boundary_arn = naming::boundary_arn(&identity.partition, &identity.account_id);
    let (
        (key, alias_target),
        decrypt_policy,
        boundary,
        role,
        topic,
        log_group,
        (function, permission),
        alarms,
        queue,
        (async_invoke, concurrency),
    ) = tokio::try_join!(
        observe_key(clients, names),
        observe_policy(clients, names, &policy_arn),
        observe_policy(clients, names, &boundary_arn),
        observe_role(clients, names, &policy_arn),
        observe_topic(clients, names, &topic_arn),
        observe_log_group(clients, names),
        observe_function(clients, names),
        observe_alarms(clients, names, &topic_arn),
        crate::state::queue::observe_queue(clients, names),
        crate::state::queue::observe_invoke_settings(clients, names),
    )?;
    let (alarms, foreign_alarms) = alarms;
    Ok(Observed {
        key,
        alias_target,
        decrypt_policy,
        boundary,
        role,
        topic,
        log_group,
        function,
        permission,
        queue,
        async_invoke,
        concurrency,
        alarms,
        foreign_alarms,
    })
}

async fn observe_key(clients: &Clients, names: &Names) -> Result<(Option<KeyObs>, Option<String>)> {
    let described = clients
        .kms
        .describe_key()
        .key_id(names.kms_alias())
        .send()
        .await;
    let meta = match described {
        Ok(out) => match out.key_metadata {
            Some(m) => m,
            None => return Ok((None, None)),
        },
        Err(e) if errors::code(&e) == Some("NotFoundException") => return Ok((None, None)),
        Err(e) => return Err(e).aws("KMS DescribeKey"),
    };
    let key_id = meta.key_id().to_string();
    let pending = matches!(
        meta.key_state(),
        Some(aws_sdk_kms::types::KeyState::PendingDeletion)
            | Some(aws_sdk_kms::types::KeyState::PendingReplicaDeletion)
    );
    if pending {
        // The alias still points at a key `down` scheduled for deletion: a new key replaces it.
        return Ok((None, Some(key_id)));
    }
    let (policy, tags) = tokio::try_join!(
        async {
            clients
                .kms
                .get_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .send()
                .await
                .aws("KMS GetKeyPolicy")
        },
        async {
            clients
                .kms
                .list_resource_tags()
                .key_id(&key_id)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws("KMS ListResourceTags")
        }
    )?;
    let tags = tag_map(tags.iter().map(|t| (t.tag_key(), t.tag_value())));
    Ok((
        Some(KeyObs {
            arn: meta.arn().unwrap_or_default().to_string(),
            enabled: meta.enabled(),
            pending_deletion: false,
            policy: policy.policy().and_then(policy::parse_document),
            owned: owns(names, &tags),
            key_id: key_id.clone(),
        }),
        Some(key_id),
    ))
}

async fn observe_policy(clients: &Clients, names: &Names, arn: &str) -> Result<Option<PolicyObs>> {
    let got = clients.iam.get_policy().policy_arn(arn).send().await;
    let policy = match got {
        Ok(out) => match out.policy {
            Some(p) => p,
            None => return Ok(None),
        },
        Err(e) if errors::code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(e).aws("IAM GetPolicy"),
    };
    let default_version = policy.default_version_id().unwrap_or("v1").to_string();
    let (version, versions) = tokio::try_join!(
        async {
            clients
                .iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(&default_version)
                .send()
                .await
                .aws("IAM GetPolicyVersion")
        },
        async {
            clients
                .iam
                .list_policy_versions()
                .policy_arn(arn)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws("IAM ListPolicyVersions")
        }
    )?;
    let tags = tag_map(policy.tags().iter().map(|t| (t.key(), t.value())));
    Ok(Some(PolicyObs {
        arn: arn.to_string(),
        document: version
            .policy_version()
            .and_then(|v| v.document())
            .and_then(policy::parse_document),
        default_version,
        versions: versions
            .iter()
            .filter(|v| !v.is_default_version())
            .filter_map(|v| v.version_id().map(String::from))
            .collect(),
        owned: owns(names, &tags),
    }))
}

async fn observe_role(
    clients: &Clients,
    names: &Names,
    decrypt_policy_arn: &str,
) -> Result<Option<RoleObs>> {
    let got = clients.iam.get_role().role_name(names.role()).send().await;
    let role = match got {
        Ok(out) => match out.role {
            Some(r) => r,
            None => return Ok(None),
        },
        Err(e) if errors::code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(e).aws("IAM GetRole"),
    };
    let (attached, inline_names) = tokio::try_join!(
        async {
            clients
                .iam
                .list_attached_role_policies()
                .role_name(names.role())
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws("IAM ListAttachedRolePolicies")
        },
        async {
            clients
                .iam
                .list_role_policies()
                .role_name(names.role())
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws("IAM ListRolePolicies")
        }
    )?;
    let mut inline = BTreeMap::new();
    for name in &inline_names {
        let doc = clients
            .iam
            .get_role_policy()
            .role_name(names.role())
            .policy_name(name)
            .send()
            .await
            .aws("IAM GetRolePolicy")?;
        if let Some(v) = policy::parse_document(doc.policy_document()) {
            inline.insert(name.clone(), v);
        }
    }
    let tags = tag_map(role.tags().iter().map(|t| (t.key(), t.value())));
    let attached: Vec<String> = attached
        .iter()
        .filter_map(|p| p.policy_arn().map(String::from))
        .collect();
    let attached_own = own_policies(clients, names, &attached, decrypt_policy_arn).await?;
    Ok(Some(RoleObs {
        arn: role.arn().to_string(),
        trust: role
            .assume_role_policy_document()
            .and_then(policy::parse_document),
        attached,
        attached_own,
        permissions_boundary: role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(String::from),
        inline,
        owned: owns(names, &tags),
    }))
}

/// The attached policies elb-watch put there: the env's decrypt policy (its ownership is judged
/// by [`observe_policy`]), and others only if under `/elb-watch/` and tagged for the env (one
/// GetPolicy each; a refusal is an error, never "not ours").
async fn own_policies(
    clients: &Clients,
    names: &Names,
    attached: &[String],
    decrypt_policy_arn: &str,
) -> Result<Vec<String>> {
    let under_path = format!(":policy{}", naming::IAM_PATH);
    let checks = attached.iter().map(|arn| {
        let under_path = under_path.clone();
        async move {
            if arn == decrypt_policy_arn {
                return Ok(Some(arn.clone()));
            }
            if !arn.contains(&under_path) {
                return Ok(None);
            }
            let got = clients
                .iam
                .get_policy()
                .policy_arn(arn)
                .send()
                .await
                .aws("IAM GetPolicy")?;
            let tags = tag_map(
                got.policy()
                    .map(|p| p.tags())
                    .unwrap_or_default()
                    .iter()
                    .map(|t| (t.key(), t.value())),
            );
            Ok::<_, anyhow::Error>(owns(names, &tags).then(|| arn.clone()))
        }
    });
    Ok(futures::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

async fn observe_topic(clients: &Clients, names: &Names, arn: &str) -> Result<Option<TopicObs>> {
    let got = clients
        .sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await;
    match got {
        Ok(_) => {}
        Err(e) if errors::code(&e) == Some("NotFound") => return Ok(None),
        Err(e) => return Err(e).aws("SNS GetTopicAttributes"),
    }
    let (tags, subscriptions) = tokio::try_join!(
        async {
            clients
                .sns
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .aws("SNS ListTagsForResource")
        },
        list_subscriptions(clients, arn)
    )?;
    let tags = tag_map(tags.tags().iter().map(|t| (t.key(), t.value())));
    Ok(Some(TopicObs {
        arn: arn.to_string(),
        subscriptions,
        owned: owns(names, &tags),
        tags,
    }))
}

/// Every subscription of the topic, every page, with a confirmed e-mail subscription's filter.
pub(crate) async fn list_subscriptions(
    clients: &Clients,
    topic_arn: &str,
) -> Result<Vec<SubscriptionObs>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = clients
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(token)
            .send()
            .await
            .aws("SNS ListSubscriptionsByTopic")?;
        out.extend(page.subscriptions().iter().map(|s| SubscriptionObs {
            arn: s.subscription_arn().unwrap_or_default().to_string(),
            protocol: s.protocol().unwrap_or_default().to_string(),
            endpoint: s.endpoint().unwrap_or_default().to_string(),
            filter: None,
        }));
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    for sub in out
        .iter_mut()
        .filter(|s| s.protocol == "email" && s.arn.starts_with("arn:"))
    {
        sub.filter = Some(email_filter(clients, &sub.arn).await?);
    }
    Ok(out)
}

/// An e-mail subscription's filter attributes (scope, policy).
async fn email_filter(clients: &Clients, arn: &str) -> Result<(Option<String>, Option<String>)> {
    let got = clients
        .sns
        .get_subscription_attributes()
        .subscription_arn(arn)
        .send()
        .await
        .aws("SNS GetSubscriptionAttributes")?;
    let attr = |k: &str| {
        got.attributes()
            .and_then(|a| a.get(k))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    Ok((
        attr(email_filter::SCOPE_ATTRIBUTE),
        attr(email_filter::POLICY_ATTRIBUTE),
    ))
}

async fn observe_log_group(clients: &Clients, names: &Names) -> Result<Option<LogGroupObs>> {
    // The prefix also matches longer names (`…-notifier-old`): read every page.
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(names.log_group())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("Logs DescribeLogGroups")?;
    Ok(groups
        .iter()
        .find(|g| g.log_group_name() == Some(names.log_group().as_str()))
        .map(|g| LogGroupObs {
            retention_days: g.retention_in_days(),
        }))
}

async fn observe_function(
    clients: &Clients,
    names: &Names,
) -> Result<(Option<FunctionObs>, Option<PermissionObs>)> {
    let got = clients
        .lambda
        .get_function()
        .function_name(names.function())
        .send()
        .await;
    let out = match got {
        Ok(out) => out,
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => return Ok((None, None)),
        Err(e) => return Err(e).aws("Lambda GetFunction"),
    };
    let Some(cfg) = out.configuration() else {
        return Ok((None, None));
    };
    let env: BTreeMap<String, String> = cfg
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let arn = cfg.function_arn().unwrap_or_default().to_string();
    let mut function = FunctionObs {
        arn: arn.clone(),
        role: cfg.role().unwrap_or_default().to_string(),
        runtime: cfg
            .runtime()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        handler: cfg.handler().unwrap_or_default().to_string(),
        memory_mb: cfg.memory_size().unwrap_or_default(),
        timeout_s: cfg.timeout().unwrap_or_default(),
        code_sha256: cfg.code_sha256().unwrap_or_default().to_string(),
        architecture: cfg
            .architectures()
            .first()
            .map_or("x86_64", |a| a.as_str())
            .to_string(),
        description: cfg.description().unwrap_or_default().to_string(),
        owned: false,
        state: cfg.state().map(|s| s.as_str().to_string()),
        last_update_status: cfg.last_update_status().map(|s| s.as_str().to_string()),
        env,
        secret: None,
        secret_error: None,
    };
    // App mode's token if the function has one (the notifier prefers it too), else the webhook.
    let (var, app) = match function.env.get(ENV_TOKEN) {
        Some(_) => (ENV_TOKEN, true),
        None => (ENV_HOOK, false),
    };
    let (tags, secret, permission) = tokio::try_join!(
        function_tags(clients, &arn),
        decrypt_secret(clients, names, var, function.env.get(var)),
        observe_permission(clients, names)
    )?;
    function.owned = owns(names, &tags);
    match secret {
        Ok(secret) => {
            function.secret = secret.map(|s| match app {
                true => SlackSecret::BotToken(s),
                false => SlackSecret::Webhook(s),
            })
        }
        Err(reason) => function.secret_error = Some(reason),
    }
    Ok((Some(function), permission))
}

/// The function's tags, through Lambda `ListTags`: `GetFunction` returns `Tags` only to callers
/// explicitly allowed `lambda:ListTags`, so without that a function would look untagged — and
/// foreign (<https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html>, "Tags";
/// <https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html>).
async fn function_tags(clients: &Clients, arn: &str) -> Result<BTreeMap<String, String>> {
    let out = clients
        .lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .aws("Lambda ListTags")?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Decrypt the function's Slack secret (variable `var`) with its encryption context, so `up`
/// can tell whether it changed. Failure to decrypt is a finding, not an error.
async fn decrypt_secret(
    clients: &Clients,
    names: &Names,
    var: &str,
    ciphertext: Option<&String>,
) -> Result<std::result::Result<Option<Secret>, String>> {
    let Some(ciphertext) = ciphertext else {
        return Ok(Ok(None));
    };
    let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(ciphertext) else {
        return Ok(Err(format!("{var} is not base64")));
    };
    let out = clients
        .kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
        .encryption_context("LambdaFunctionName", names.function())
        .send()
        .await;
    match out {
        Ok(out) => {
            let plain = out
                .plaintext()
                .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
                .unwrap_or_default();
            Ok(Ok(Some(Secret::new(plain))))
        }
        Err(e) => Ok(Err(format!(
            "{var} does not decrypt: {}",
            errors::describe(&e)
        ))),
    }
}

async fn observe_permission(clients: &Clients, names: &Names) -> Result<Option<PermissionObs>> {
    let got = clients
        .lambda
        .get_policy()
        .function_name(names.function())
        .send()
        .await;
    let doc = match got {
        Ok(out) => out.policy().and_then(policy::parse_document),
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(e).aws("Lambda GetPolicy"),
    };
    let Some(doc) = doc else { return Ok(None) };
    let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
    let sid = names.invoke_permission_sid();
    Ok(statements
        .iter()
        .find(|s| s["Sid"] == sid.as_str())
        .map(|s| PermissionObs {
            source_arn: s["Condition"]["ArnLike"]["AWS:SourceArn"]
                .as_str()
                .map(String::from),
            principal: s["Principal"]["Service"]
                .as_str()
                .or_else(|| s["Principal"].as_str())
                .map(String::from),
            action: s["Action"].as_str().map(String::from),
        }))
}

/// A metric-math alarm's per-zone metric: namespace, name, statistic, period, dimensions
/// without `AvailabilityZone`.
type ZoneMetric = (String, String, String, i32, Vec<(String, String)>);

/// The metric of a metric-math alarm read back: its first `MetricStat`'s ([`ZoneMetric`]), and
/// its zone math. A shape [`zones`](crate::state::zones) does not write reads as math over no
/// zones (drift).
fn zone_math_of(
    queries: &[aws_sdk_cloudwatch::types::MetricDataQuery],
) -> (Option<ZoneMetric>, ZoneMath) {
    let mut zones = Vec::new();
    let mut first = None;
    let mut combine = None;
    for q in queries {
        if let Some(e) = q.expression() {
            if q.return_data().unwrap_or(true) {
                combine = ZoneMath::combine_of(e);
            }
            continue;
        }
        let Some(stat) = q.metric_stat() else {
            continue;
        };
        let metric = stat.metric();
        let mut dims = Vec::new();
        for d in metric.map(|m| m.dimensions()).unwrap_or_default() {
            let (n, v) = (d.name().unwrap_or_default(), d.value().unwrap_or_default());
            if n == "AvailabilityZone" {
                zones.push(v.to_string());
            } else {
                dims.push((n.to_string(), v.to_string()));
            }
        }
        dims.sort();
        first.get_or_insert((
            metric
                .and_then(|m| m.namespace())
                .unwrap_or_default()
                .to_string(),
            metric
                .and_then(|m| m.metric_name())
                .unwrap_or_default()
                .to_string(),
            stat.stat().unwrap_or_default().to_string(),
            stat.period().unwrap_or_default(),
            dims,
        ));
    }
    zones.sort();
    let math = match combine {
        Some(combine) => ZoneMath { combine, zones },
        None => ZoneMath {
            combine: crate::state::zones::Combine::Sum,
            zones: Vec::new(),
        },
    };
    (first, math)
}

/// The `HealthyHostCount` query of a percent alarm read back ([`ZoneMetric`], every dimension),
/// when its queries have the shape `apply::alarms::share_queries` writes: the one query
/// returning data is `SHARE_EXPRESSION`, over `h` (its metric is what `alarm_drift` compares
/// with the spec's) and `u`, the `UnHealthyHostCount` (`Maximum`) of `h`'s namespace,
/// dimensions and period. `None`: another shape (zone math, or math edited by hand).
fn share_of(queries: &[aws_sdk_cloudwatch::types::MetricDataQuery]) -> Option<ZoneMetric> {
    use crate::state::alarms::{
        SHARE_EXPRESSION, SHARE_HEALTHY_ID, SHARE_UNHEALTHY_ID, UNHEALTHY_METRIC,
        UNHEALTHY_STATISTIC,
    };
    let returned: Vec<_> = queries
        .iter()
        .filter(|q| q.return_data().unwrap_or(true))
        .collect();
    let [expression] = returned.as_slice() else {
        return None;
    };
    if expression.expression().map(str::trim) != Some(SHARE_EXPRESSION) {
        return None;
    }
    let stat_of = |id: &str| -> Option<ZoneMetric> {
        let stat = queries.iter().find(|q| q.id() == Some(id))?.metric_stat()?;
        let metric = stat.metric()?;
        let dims = sorted_dimensions(metric.dimensions());
        Some((
            metric.namespace().unwrap_or_default().to_string(),
            metric.metric_name().unwrap_or_default().to_string(),
            stat.stat().unwrap_or_default().to_string(),
            stat.period().unwrap_or_default(),
            dims,
        ))
    };
    let healthy = stat_of(SHARE_HEALTHY_ID)?;
    let (namespace, name, statistic, period, dims) = stat_of(SHARE_UNHEALTHY_ID)?;
    let unhealthy_matches = namespace == healthy.0
        && name == UNHEALTHY_METRIC
        && statistic == UNHEALTHY_STATISTIC
        && period == healthy.3
        && dims == healthy.4;
    unhealthy_matches.then_some(healthy)
}

/// (name, value) of each dimension, sorted by name: the order specs compare in.
fn sorted_dimensions(dims: &[aws_sdk_cloudwatch::types::Dimension]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = dims
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn alarm_obs(a: &MetricAlarm) -> AlarmObs {
    let dimensions = sorted_dimensions(a.dimensions());
    let mut obs = AlarmObs {
        name: a.alarm_name().unwrap_or_default().to_string(),
        arn: a.alarm_arn().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        metric: a.metric_name().unwrap_or_default().to_string(),
        dimensions,
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        period: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        datapoints_to_alarm: a
            .datapoints_to_alarm()
            .or(a.evaluation_periods())
            .unwrap_or_default(),
        threshold: a.threshold().unwrap_or_default(),
        comparison: a
            .comparison_operator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        treat_missing: a.treat_missing_data().unwrap_or("missing").to_string(),
        description: a.alarm_description().unwrap_or_default().to_string(),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
        state: a
            .state_value()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        state_reason: a.state_reason().unwrap_or_default().to_string(),
        state_since: a
            .state_updated_timestamp()
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        tags_in_notifications: a
            .action_configuration()
            .and_then(|c| c.alarm_tags_propagation())
            .filter(|p| p.enabled() == Some(true))
            .map(|p| {
                let mut keys = p.included_tag_keys().to_vec();
                keys.sort();
                keys
            })
            .unwrap_or_default(),
        zones: None,
        percent: false,
        runbook: None,
    };
    if let Some((namespace, metric, statistic, period, dimensions)) = share_of(a.metrics()) {
        obs.namespace = namespace;
        obs.metric = metric;
        obs.statistic = statistic;
        obs.period = period;
        obs.dimensions = dimensions;
        obs.percent = true;
    } else if !a.metrics().is_empty() {
        let (first, math) = zone_math_of(a.metrics());
        if let Some((namespace, metric, statistic, period, dimensions)) = first {
            obs.namespace = namespace;
            obs.metric = metric;
            obs.statistic = statistic;
            obs.period = period;
            obs.dimensions = dimensions;
        }
        obs.zones = Some(math);
    }
    obs
}

/// Alarms named with this env's prefix (today's or an earlier version's), split into this env's
/// and others'. Those named as `up`
/// names them and wired to this env's topic are ours outright; the others only if their tags
/// say so (one call each).
async fn observe_alarms(
    clients: &Clients,
    names: &Names,
    topic_arn: &str,
) -> Result<(Vec<AlarmObs>, Vec<String>)> {
    let mut found = Vec::new();
    // Today's names, and those earlier versions gave (`state::alarm_moves` moves them).
    for prefix in [names.alarm_prefix(), names.legacy_alarm_prefix()] {
        let mut token = None;
        loop {
            let page = clients
                .cloudwatch
                .describe_alarms()
                .alarm_name_prefix(&prefix)
                .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
                .set_next_token(token)
                .send()
                .await
                .aws("CloudWatch DescribeAlarms")?;
            found.extend(page.metric_alarms().iter().map(alarm_obs));
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    // One tag read for each alarm not proven by name and topic, a few at a time, each waiting
    // out throttling on its own budget.
    let owned: Vec<bool> = retry::each_through_throttling(&found, |a| async move {
        // An alarm named the way `up` names them (or named them) and wired to this env's topic
        // is one `up` made (it tagged it then); anything else must prove it by its tags.
        let our_name = names.is_alarm_name(&a.name) || names.is_legacy_alarm_name(&a.name);
        if our_name && a.alarm_actions.iter().any(|x| x == topic_arn) {
            return Ok(true);
        }
        let tags = clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(&a.arn)
            .send()
            .await
            .aws("CloudWatch ListTagsForResource")?;
        let tags = tag_map(
            tags.tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
        );
        Ok(owns(names, &tags))
    })
    .await?;
    let mut ours = Vec::new();
    let mut foreign = BTreeSet::new();
    for (alarm, is_ours) in found.into_iter().zip(owned) {
        if is_ours {
            ours.push(alarm);
        } else {
            foreign.insert(alarm.name);
        }
    }
    Ok((ours, foreign.into_iter().collect()))
}

/// A KMS key carrying this env's tags, whatever alias points at it (an `up` killed before
/// CreateAlias leaves one; `down` leaves them pending deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedKey {
    pub key_id: String,
    pub arn: String,
    /// KMS key state, e.g. `Enabled`, `PendingDeletion`.
    pub state: String,
    pub pending_deletion: bool,
}

/// Every KMS key of the account and region tagged `elb-watch:managed-by=elb-watch` and
/// `elb-watch:env=ENV`, with its state.
///
/// Found through KMS itself — `ListKeys` to the last page, then each key's `ListResourceTags`
/// (to its last page) — not through the Resource Groups Tagging API: that API is eventually
/// consistent, so a key created seconds ago (the very one a killed `up` leaves behind) may not
/// be listed yet, and it pages its answers (a one-page read misses keys). KMS answers both calls
/// from the key store itself
/// (<https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html>,
/// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html>;
/// <https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>
/// on PaginationToken).
pub async fn tagged_keys(clients: &Clients, names: &Names) -> Result<Vec<TaggedKey>> {
    let keys = clients
        .kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("KMS ListKeys")?;
    let checks = keys.iter().filter_map(|k| k.key_id()).map(|id| async move {
        let Some(tags) = key_tags(clients, id).await? else {
            return Ok(None);
        };
        if !owns(names, &tags) {
            return Ok(None);
        }
        let got = clients.kms.describe_key().key_id(id).send().await;
        match got {
            Ok(out) => Ok(out.key_metadata.map(|m| {
                let state = m.key_state().cloned();
                TaggedKey {
                    key_id: m.key_id().to_string(),
                    arn: m.arn().unwrap_or_default().to_string(),
                    pending_deletion: matches!(
                        state,
                        Some(aws_sdk_kms::types::KeyState::PendingDeletion)
                            | Some(aws_sdk_kms::types::KeyState::PendingReplicaDeletion)
                    ),
                    state: state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                }
            })),
            // Deleted since ListKeys.
            Err(e) if errors::code(&e) == Some("NotFoundException") => Ok(None),
            Err(e) => Err(e).aws("KMS DescribeKey"),
        }
    });
    Ok(futures::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// A key's tags, every page; `None` for a key this caller may not read or that is gone (another
/// account's key policy, an AWS managed key, a key deleted since it was listed): not the env's.
async fn key_tags(clients: &Clients, key_id: &str) -> Result<Option<BTreeMap<String, String>>> {
    let got = clients
        .kms
        .list_resource_tags()
        .key_id(key_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    match got {
        Ok(tags) => Ok(Some(tag_map(
            tags.iter().map(|t| (t.tag_key(), t.tag_value())),
        ))),
        Err(e)
            if matches!(
                errors::code(&e),
                Some("NotFoundException" | "AccessDeniedException")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e).aws("KMS ListResourceTags"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::zones::Combine;
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

    fn zone(i: usize, zone: &str) -> MetricDataQuery {
        let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
        let metric = Metric::builder()
            .namespace("AWS/ELB")
            .metric_name("HealthyHostCount")
            .dimensions(dim("LoadBalancerName", "legacy"))
            .dimensions(dim("AvailabilityZone", zone))
            .build();
        MetricDataQuery::builder()
            .id(format!("z{i}"))
            .metric_stat(
                MetricStat::builder()
                    .metric(metric)
                    .period(60)
                    .stat("Minimum")
                    .build(),
            )
            .return_data(false)
            .build()
    }

    fn expression(e: &str) -> MetricDataQuery {
        MetricDataQuery::builder()
            .id("healthy")
            .expression(e)
            .return_data(true)
            .build()
    }

    #[test]
    fn zone_math_is_read_back_and_other_math_reads_as_no_zones() {
        let (first, math) = zone_math_of(&[
            zone(0, "us-east-1b"),
            zone(1, "us-east-1a"),
            expression("SUM([FILL(z0, 0), FILL(z1, 0)])"),
        ]);
        let (namespace, name, stat, period, dims) = first.unwrap();
        assert_eq!(
            (namespace.as_str(), name.as_str(), stat.as_str(), period),
            ("AWS/ELB", "HealthyHostCount", "Minimum", 60)
        );
        assert_eq!(
            dims,
            [("LoadBalancerName".to_string(), "legacy".to_string())]
        );
        assert_eq!(
            math,
            ZoneMath {
                combine: Combine::Sum,
                zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            }
        );
        // Math of another shape (edited by hand): no zones, which no desired alarm has.
        let (_, other) = zone_math_of(&[zone(0, "us-east-1a"), expression("z0 * 2")]);
        assert!(other.zones.is_empty(), "{other:?}");
    }

    /// The alarm as `up` puts it (`put_alarm`), as DescribeAlarms returns it.
    fn put_as(spec: &crate::state::alarms::AlarmSpec, topic: &str) -> MetricAlarm {
        use aws_sdk_cloudwatch::types::{
            ActionConfiguration, AlarmTagsPropagation, ComparisonOperator, Statistic,
        };
        let a = MetricAlarm::builder()
            .alarm_name(&spec.name)
            .alarm_description(&spec.description)
            .threshold(spec.threshold)
            .comparison_operator(ComparisonOperator::from(spec.metric.comparison.as_str()))
            .evaluation_periods(spec.evaluation_periods)
            .datapoints_to_alarm(spec.datapoints_to_alarm)
            .treat_missing_data(&spec.treat_missing_data)
            .actions_enabled(true)
            .alarm_actions(topic)
            .ok_actions(topic)
            .action_configuration(
                ActionConfiguration::builder()
                    .alarm_tags_propagation(
                        AlarmTagsPropagation::builder()
                            .enabled(true)
                            .set_included_tag_keys(Some(spec.tags_in_notifications.clone()))
                            .build(),
                    )
                    .build(),
            );
        if spec.metric.percent {
            return a
                .set_metrics(Some(crate::apply::alarms::share_queries(spec)))
                .build();
        }
        let mut a = a
            .namespace(&spec.metric.namespace)
            .metric_name(&spec.metric.name)
            .statistic(Statistic::from(spec.metric.statistic.as_str()))
            .period(spec.period_s);
        for (n, v) in &spec.metric.dimensions {
            a = a.dimensions(Dimension::builder().name(n).value(v).build());
        }
        a.build()
    }

    fn spec(threshold: crate::envfile::Threshold) -> crate::state::alarms::AlarmSpec {
        crate::state::alarms::target_group_alarm(
            &Names::new("prod"),
            &crate::state::fixtures::target_group("web-alb", "web-tg"),
            threshold,
            crate::state::zones::ZoneRule::Whole,
        )
    }

    #[test]
    fn a_percent_alarm_reads_back_in_sync_and_the_other_form_as_drift() {
        use crate::envfile::Threshold;
        use crate::state::plan::alarm_drift;
        let topic = "arn:aws:sns:us-east-1:1:elb-watch-prod-alarms";
        let (percent, count) = (spec(Threshold::Percent(50)), spec(Threshold::Count(5)));
        let read = alarm_obs(&put_as(&percent, topic));
        assert!(read.percent);
        assert_eq!(read.zones, None);
        assert_eq!(
            (
                read.namespace.as_str(),
                read.metric.as_str(),
                read.statistic.as_str(),
                read.period
            ),
            ("AWS/ApplicationELB", "HealthyHostCount", "Minimum", 60)
        );
        assert_eq!(read.dimensions, percent.metric.dimensions);
        assert_eq!(read.metric_count(), 2);
        assert_eq!(alarm_drift(&percent, &read, topic), Vec::<String>::new());
        assert_eq!(
            alarm_drift(&count, &read, topic),
            ["threshold form", "threshold", "description"]
        );
        let read_count = alarm_obs(&put_as(&count, topic));
        assert!(!read_count.percent);
        assert!(alarm_drift(&count, &read_count, topic).is_empty());
        assert_eq!(
            alarm_drift(&percent, &read_count, topic),
            ["threshold form", "threshold", "description"]
        );
    }

    #[test]
    fn percent_math_of_another_shape_is_not_read_as_a_percent_alarm() {
        use crate::envfile::Threshold;
        use crate::state::plan::alarm_drift;
        let topic = "arn:aws:sns:us-east-1:1:elb-watch-prod-alarms";
        let percent = spec(Threshold::Percent(50));
        let written = put_as(&percent, topic);
        // `u` on another metric: read as math over no zones (drift), not as a percent alarm.
        let mut queries = written.metrics().to_vec();
        let u = queries[1].metric_stat().unwrap();
        let other = Metric::builder()
            .namespace("AWS/ApplicationELB")
            .metric_name("RequestCount")
            .set_dimensions(Some(u.metric().unwrap().dimensions().to_vec()))
            .build();
        queries[1] = MetricDataQuery::builder()
            .id("u")
            .metric_stat(
                MetricStat::builder()
                    .metric(other)
                    .period(60)
                    .stat("Maximum")
                    .build(),
            )
            .return_data(false)
            .build();
        let edited = MetricAlarm::builder().set_metrics(Some(queries)).build();
        let read = alarm_obs(&edited);
        assert!(!read.percent);
        assert_eq!(
            read.zones,
            Some(ZoneMath {
                combine: Combine::Sum,
                zones: Vec::new()
            })
        );
        let drift = alarm_drift(&percent, &read, topic);
        assert!(
            drift.starts_with(&["zones".to_string(), "threshold form".to_string()]),
            "{drift:?}"
        );
        // Another expression over the same two metrics: not a percent alarm either.
        let mut queries = written.metrics().to_vec();
        queries[2] = expression("100 * h / (h + u)");
        let read = alarm_obs(&MetricAlarm::builder().set_metrics(Some(queries)).build());
        assert!(!read.percent);
    }
}
