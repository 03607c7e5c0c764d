//! Carries out a [`Teardown`]: independent deletions concurrently, dependent ones in order (see
//! the module diagram). Each deletion counts "already gone" as done.

use super::{Deleted, KEY_PENDING_WINDOW_DAYS, Teardown};
use crate::apply::fault;
use crate::aws::{AwsResultExt, Clients, errors};
use crate::progress::Progress;
use anyhow::Result;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::try_join_all;
use std::fmt::Debug;
use std::future::Future;

/// `Ok(true)` deleted, `Ok(false)` already gone (one of the `gone` error codes), else the error.
fn deleted<T, E, R>(result: Result<T, SdkError<E, R>>, gone: &[&str], what: &str) -> Result<bool>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if errors::code(&e).is_some_and(|c| gone.contains(&c)) => Ok(false),
        Err(e) => Err(e).aws(what),
    }
}

fn summary(done: &[Deleted]) -> String {
    let count = |r: &str| done.iter().filter(|d| d.result == r).count();
    let parts: Vec<String> = [
        ("deleted", "deleted"),
        ("deletion_scheduled", "scheduled for deletion"),
        ("already_gone", "already gone"),
    ]
    .iter()
    .filter(|(r, _)| count(r) > 0)
    .map(|(r, label)| format!("{} {label}", count(r)))
    .collect();
    parts.join(", ")
}

/// Run one deletion step under a progress line, if it has anything to do.
async fn step(
    progress: &Progress,
    label: &str,
    work: bool,
    fut: impl Future<Output = Result<Vec<Deleted>>>,
) -> Result<Vec<Deleted>> {
    if !work {
        return Ok(Vec::new());
    }
    let line = progress.start(label);
    match fut.await {
        Ok(done) => {
            line.done(&summary(&done));
            fault::checkpoint(label);
            Ok(done)
        }
        Err(e) => {
            line.failed(&format!("{e:#}"));
            Err(e.context(format!(
                "step '{label}' failed (what was deleted stays deleted; run `down` again)"
            )))
        }
    }
}

pub async fn execute(clients: &Clients, t: &Teardown, progress: &Progress) -> Result<Vec<Deleted>> {
    let topic_chain = async {
        let (mut subs, alarms) = tokio::try_join!(
            step(
                progress,
                "SNS subscriptions",
                !t.subscriptions.is_empty(),
                unsubscribe(clients, &t.subscriptions)
            ),
            step(
                progress,
                "alarms",
                !t.alarms.is_empty(),
                delete_alarms(clients, &t.alarms)
            ),
        )?;
        let topic = step(
            progress,
            "SNS topic",
            t.topic_arn.is_some(),
            delete_topic(clients, t),
        )
        .await?;
        subs.extend(alarms);
        subs.extend(topic);
        Ok::<_, anyhow::Error>(subs)
    };
    let notifier_chain = async {
        let mut done = step(
            progress,
            "invoke permission",
            t.permission.is_some(),
            remove_permission(clients, t),
        )
        .await?;
        done.extend(
            step(
                progress,
                "notifier function",
                t.function.is_some(),
                delete_function(clients, t),
            )
            .await?,
        );
        let (logs, queue, iam) = tokio::try_join!(
            step(
                progress,
                "log group",
                t.log_group.is_some(),
                delete_log_group(clients, t)
            ),
            // After the function: nothing puts records on the queue any more.
            step(
                progress,
                "SQS queue",
                t.queue.is_some(),
                delete_queue(clients, t)
            ),
            async {
                let mut iam = step(
                    progress,
                    "IAM role",
                    t.role.is_some(),
                    delete_role(clients, t),
                )
                .await?;
                iam.extend(
                    step(
                        progress,
                        "decrypt-only policy",
                        t.policy_arn.is_some(),
                        delete_policy(clients, t),
                    )
                    .await?,
                );
                Ok(iam)
            }
        )?;
        done.extend(logs);
        done.extend(queue);
        done.extend(iam);
        Ok(done)
    };
    let kms_chain = async {
        let mut done = step(
            progress,
            "KMS alias",
            t.alias.is_some(),
            delete_alias(clients, t),
        )
        .await?;
        done.extend(
            step(
                progress,
                "KMS keys",
                !t.keys.is_empty(),
                schedule_keys(clients, &t.keys),
            )
            .await?,
        );
        Ok(done)
    };
    // First the window-end schedules (no announcement fires while the env goes), then the
    // rules and the role Scheduler used.
    let windows_chain = async {
        let mut done = step(
            progress,
            "window-end schedules",
            t.schedule_group.is_some(),
            delete_schedule_group(clients, t),
        )
        .await?;
        let (rules, role) = tokio::try_join!(
            step(
                progress,
                "mute rules",
                !t.mute_rules.is_empty(),
                delete_mute_rules(clients, &t.mute_rules)
            ),
            step(
                progress,
                "window-end role",
                t.scheduler_role.is_some(),
                async {
                    match &t.scheduler_role {
                        Some(r) => delete_role_named(clients, r).await,
                        None => Ok(Vec::new()),
                    }
                }
            ),
        )?;
        done.extend(rules);
        done.extend(role);
        Ok::<_, anyhow::Error>(done)
    };
    let (windows, topic, notifier, kms) =
        tokio::try_join!(windows_chain, topic_chain, notifier_chain, kms_chain)?;
    Ok([windows, topic, notifier, kms].concat())
}

async fn delete_schedule_group(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(group) = &t.schedule_group else {
        return Ok(Vec::new());
    };
    let r = clients
        .scheduler
        .delete_schedule_group()
        .name(group)
        .send()
        .await;
    let done = deleted(
        r,
        &["ResourceNotFoundException"],
        "Scheduler DeleteScheduleGroup",
    )?;
    Ok(vec![Deleted::new("schedule-group", group, done)])
}

async fn delete_mute_rules(clients: &Clients, rules: &[String]) -> Result<Vec<Deleted>> {
    let mut done = Vec::new();
    for name in rules {
        let r = clients
            .cloudwatch
            .delete_alarm_mute_rule()
            .alarm_mute_rule_name(name)
            .send()
            .await;
        let gone = deleted(
            r,
            &["ResourceNotFound", "ResourceNotFoundException"],
            "CloudWatch DeleteAlarmMuteRule",
        )?;
        done.push(Deleted::new("mute-rule", name, gone));
    }
    Ok(done)
}

async fn unsubscribe(clients: &Clients, arns: &[String]) -> Result<Vec<Deleted>> {
    try_join_all(arns.iter().map(|arn| async move {
        let r = clients.sns.unsubscribe().subscription_arn(arn).send().await;
        let done = deleted(r, &["NotFound"], "SNS Unsubscribe")?;
        Ok(Deleted::new("sns-subscription", arn, done))
    }))
    .await
}

async fn delete_alarms(clients: &Clients, names: &[String]) -> Result<Vec<Deleted>> {
    for batch in names.chunks(100) {
        let r = clients
            .cloudwatch
            .delete_alarms()
            .set_alarm_names(Some(batch.to_vec()))
            .send()
            .await;
        deleted(r, &["ResourceNotFound"], "CloudWatch DeleteAlarms")?;
    }
    Ok(names
        .iter()
        .map(|n| Deleted::new("alarm", n, true))
        .collect())
}

async fn delete_topic(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(arn) = &t.topic_arn else {
        return Ok(Vec::new());
    };
    let r = clients.sns.delete_topic().topic_arn(arn).send().await;
    let mut d = Deleted::new(
        "sns-topic",
        arn,
        deleted(r, &["NotFound"], "SNS DeleteTopic")?,
    );
    if t.pending_subscriptions > 0 {
        d.note = Some(format!(
            "with {} subscription(s) pending confirmation",
            t.pending_subscriptions
        ));
    }
    Ok(vec![d])
}

async fn remove_permission(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let (Some(function), Some(sid)) = (&t.function, &t.permission) else {
        return Ok(Vec::new());
    };
    let r = clients
        .lambda
        .remove_permission()
        .function_name(function)
        .statement_id(sid)
        .send()
        .await;
    let done = deleted(r, &["ResourceNotFoundException"], "Lambda RemovePermission")?;
    Ok(vec![Deleted::new("lambda-permission", sid, done)])
}

async fn delete_function(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(name) = &t.function else {
        return Ok(Vec::new());
    };
    let r = clients
        .lambda
        .delete_function()
        .function_name(name)
        .send()
        .await;
    let done = deleted(r, &["ResourceNotFoundException"], "Lambda DeleteFunction")?;
    Ok(vec![Deleted::new("lambda-function", name, done)])
}

async fn delete_queue(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some((name, url)) = &t.queue else {
        return Ok(Vec::new());
    };
    let r = clients.sqs.delete_queue().queue_url(url).send().await;
    let done = deleted(
        r,
        &[
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
        ],
        "SQS DeleteQueue",
    )?;
    let mut d = Deleted::new("sqs-queue", name, done);
    if t.undelivered > 0 {
        d.note = Some(format!(
            "{} undelivered alert(s) discarded (--discard-undelivered)",
            t.undelivered
        ));
    }
    Ok(vec![d])
}

async fn delete_log_group(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(name) = &t.log_group else {
        return Ok(Vec::new());
    };
    let r = clients
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await;
    let done = deleted(r, &["ResourceNotFoundException"], "Logs DeleteLogGroup")?;
    Ok(vec![Deleted::new("log-group", name, done)])
}

/// Detach every managed policy, delete every inline one (listed afresh), then the role.
async fn delete_role(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    match &t.role {
        Some(role) => delete_role_named(clients, role).await,
        None => Ok(Vec::new()),
    }
}

/// A role with its attached and inline policies.
async fn delete_role_named(clients: &Clients, role: &str) -> Result<Vec<Deleted>> {
    let iam = &clients.iam;
    const GONE: &[&str] = &["NoSuchEntity"];
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let attached = match attached {
        Ok(out) => out
            .iter()
            .filter_map(|p| p.policy_arn().map(String::from))
            .collect::<Vec<_>>(),
        Err(e) if errors::code(&e) == Some("NoSuchEntity") => {
            return Ok(vec![Deleted::new("iam-role", role, false)]);
        }
        Err(e) => return Err(e).aws("IAM ListAttachedRolePolicies"),
    };
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("IAM ListRolePolicies")?;
    try_join_all(attached.iter().map(|arn| async move {
        let r = iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await;
        deleted(r, GONE, "IAM DetachRolePolicy")
    }))
    .await?;
    try_join_all(inline.iter().map(|name| async move {
        let r = iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await;
        deleted(r, GONE, "IAM DeleteRolePolicy")
    }))
    .await?;
    let r = iam.delete_role().role_name(role).send().await;
    let mut d = Deleted::new("iam-role", role, deleted(r, GONE, "IAM DeleteRole")?);
    if !attached.is_empty() || !inline.is_empty() {
        d.note = Some(format!(
            "after detaching {} and deleting {} inline polic{}",
            attached.len(),
            inline.len(),
            if inline.len() == 1 { "y" } else { "ies" }
        ));
    }
    Ok(vec![d])
}

/// Delete the non-default versions (listed afresh), then the policy.
async fn delete_policy(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(arn) = &t.policy_arn else {
        return Ok(Vec::new());
    };
    let iam = &clients.iam;
    const GONE: &[&str] = &["NoSuchEntity"];
    let listed = iam
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let versions = match listed {
        Ok(out) => out
            .iter()
            .filter(|v| !v.is_default_version())
            .filter_map(|v| v.version_id().map(String::from))
            .collect::<Vec<_>>(),
        Err(e) if errors::code(&e) == Some("NoSuchEntity") => {
            return Ok(vec![Deleted::new("iam-policy", arn, false)]);
        }
        Err(e) => return Err(e).aws("IAM ListPolicyVersions"),
    };
    for v in &versions {
        let r = iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(v)
            .send()
            .await;
        deleted(r, GONE, "IAM DeletePolicyVersion")?;
    }
    let r = iam.delete_policy().policy_arn(arn).send().await;
    let mut d = Deleted::new("iam-policy", arn, deleted(r, GONE, "IAM DeletePolicy")?);
    if !versions.is_empty() {
        d.note = Some(format!("and {} older version(s)", versions.len()));
    }
    Ok(vec![d])
}

async fn delete_alias(clients: &Clients, t: &Teardown) -> Result<Vec<Deleted>> {
    let Some(alias) = &t.alias else {
        return Ok(Vec::new());
    };
    let r = clients.kms.delete_alias().alias_name(alias).send().await;
    let done = deleted(r, &["NotFoundException"], "KMS DeleteAlias")?;
    Ok(vec![Deleted::new("kms-alias", alias, done)])
}

/// KMS never deletes a key at once: schedule each for deletion after the minimum window.
async fn schedule_keys(clients: &Clients, keys: &[String]) -> Result<Vec<Deleted>> {
    try_join_all(keys.iter().map(|id| async move {
        let r = clients
            .kms
            .schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(KEY_PENDING_WINDOW_DAYS)
            .send()
            .await;
        let mut d = Deleted::new("kms-key", id, true);
        match r {
            Ok(out) => {
                d.result = "deletion_scheduled";
                let when = out
                    .deletion_date()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default();
                d.note = Some(format!(
                    "KMS deletes it{when} ({KEY_PENDING_WINDOW_DAYS}-day minimum wait); \
                     `aws kms cancel-key-deletion` restores it until then"
                ));
            }
            // Already pending deletion (e.g. a concurrent `down`).
            Err(e) if errors::code(&e) == Some("KMSInvalidStateException") => {
                d.result = "deletion_scheduled";
                d.note = Some("already pending deletion".to_string());
            }
            Err(e) if errors::code(&e) == Some("NotFoundException") => {
                d.result = "already_gone";
            }
            Err(e) => return Err(e).aws("KMS ScheduleKeyDeletion"),
        }
        Ok(d)
    }))
    .await
}
