//! Applies a [`Plan`]: independent steps run concurrently, dependent ones in order:
//!
//! ```text
//! role ──► KMS key ──► alias, decrypt policy + attachment, encrypt URL ──► function ──► permission ──► subscription
//! topic ─────────────────────────────────────────────────────────────────┘   └──► alarms (as soon as the topic exists)
//! log group ─────────────────────────────────────────────────────────────┘        └──► async invoke config, reserved concurrency
//! SQS queue ─────────────────────────────────────────────────────────────┘
//! ```
//! Every step is idempotent and keyed by name, so a run killed anywhere is completed by the
//! next `up`. A step whose change is `unchanged` makes no call.

pub mod alarms;
pub mod fault;
pub mod function;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod queue;
pub mod replay;
pub mod sns;

use crate::aws::Clients;
use crate::bundle::Bundle;
use crate::progress::Progress;
use crate::secret::SlackSecret;
use crate::state::desired::Desired;
use crate::state::observed::Observed;
use crate::state::plan::{Action, Change, Plan};
use crate::state::warnings::Warning;
use anyhow::Result;
use std::future::Future;

/// Run one step under a progress line; on success pass the fault-injection checkpoint.
async fn step<T>(
    progress: &Progress,
    label: &str,
    outcome: String,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    let line = progress.start(label);
    match fut.await {
        Ok(v) => {
            line.done(&outcome);
            fault::checkpoint(label);
            Ok(v)
        }
        Err(e) => {
            line.failed(&format!("{e:#}"));
            Err(e.context(format!("step '{label}' failed")))
        }
    }
}

/// "created", "updated (threshold)", "unchanged", or counts for several changes.
fn outcome(changes: &[&Change]) -> String {
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    if let [one] = changes {
        let verb = one.action.past_tense();
        return if one.reasons.is_empty() {
            verb.to_string()
        } else {
            format!("{verb} ({})", one.reasons.join(", "))
        };
    }
    let parts: Vec<String> = [
        (Action::Create, "created"),
        (Action::Update, "updated"),
        (Action::Delete, "deleted"),
        (Action::Unchanged, "unchanged"),
    ]
    .iter()
    .filter(|(a, _)| count(*a) > 0)
    .map(|(a, label)| format!("{} {label}", count(*a)))
    .collect();
    if parts.is_empty() {
        "nothing to do".to_string()
    } else {
        parts.join(", ")
    }
}

pub async fn apply(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    secret: Option<&SlackSecret>,
    bundle: &Bundle,
    progress: &Progress,
) -> Result<Vec<Warning>> {
    let (_, topic_arn, _, _) = tokio::try_join!(
        step(
            progress,
            "IAM role",
            outcome(&[&plan.role, &plan.role_policy]),
            iam::ensure_role(clients, desired, plan)
        ),
        step(
            progress,
            "SNS topic",
            outcome(&[&plan.topic]),
            sns::ensure_topic(clients, desired, observed, plan)
        ),
        step(
            progress,
            "log group",
            outcome(&[&plan.log_group]),
            logs::ensure_log_group(clients, desired, plan)
        ),
        step(
            progress,
            "SQS queue",
            outcome(&[&plan.queue]),
            queue::ensure_queue(clients, desired, observed, plan)
        ),
    )?;

    let alarm_changes: Vec<&Change> = plan.alarms.iter().collect();
    let alarms = step(
        progress,
        "alarms",
        outcome(&alarm_changes),
        alarms::ensure_alarms(clients, desired, plan, &topic_arn),
    );

    let notifier = async {
        let key = step(
            progress,
            "KMS key",
            outcome(&[&plan.key]),
            kms::ensure_key(clients, desired, observed, plan),
        )
        .await?;
        let versions = observed
            .decrypt_policy
            .as_ref()
            .map(|p| p.versions.clone())
            .unwrap_or_default();
        let (_, _, ciphertext) = tokio::try_join!(
            step(
                progress,
                "KMS alias",
                outcome(&[&plan.alias]),
                kms::ensure_alias(clients, desired, plan, &key)
            ),
            step(
                progress,
                "decrypt-only policy",
                outcome(&[&plan.decrypt_policy, &plan.attachment]),
                iam::ensure_decrypt_policy(clients, desired, plan, &versions, &key.arn)
            ),
            async {
                match (plan.function.encrypt_secret, secret) {
                    (true, Some(secret)) => {
                        kms::encrypt_secret(clients, &key, &desired.function.name, secret)
                            .await
                            .map(Some)
                    }
                    _ => Ok(None),
                }
            },
        )?;
        let function_arn = step(
            progress,
            "notifier function",
            outcome(&[&plan.function.change]),
            function::ensure_function(clients, desired, observed, plan, ciphertext, bundle),
        )
        .await?;
        step(
            progress,
            "invoke permission",
            outcome(&[&plan.permission]),
            function::ensure_permission(clients, desired, plan, &topic_arn),
        )
        .await?;
        step(
            progress,
            "SNS subscription",
            outcome(&[&plan.subscription]),
            sns::ensure_subscription(clients, plan, &topic_arn, &function_arn),
        )
        .await?;
        let (_, warning) = tokio::try_join!(
            step(
                progress,
                "async invoke config",
                outcome(&[&plan.async_invoke]),
                queue::ensure_async_config(clients, desired, plan)
            ),
            step(
                progress,
                "reserved concurrency",
                outcome(&[&plan.concurrency]),
                queue::ensure_concurrency(clients, desired, plan)
            ),
        )?;
        Ok::<_, anyhow::Error>(warning)
    };
    let (_, warning) = tokio::try_join!(alarms, notifier)?;
    Ok(warning.into_iter().collect())
}
