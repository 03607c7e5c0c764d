//! Applies a [`Plan`]: independent steps run concurrently, dependent ones in order, and the
//! alarms last:
//!
//! ```text
//! role ──► KMS key ──► alias, decrypt policy + attachment, encrypt URL ──► function ──► permission ──► subscription
//! topic ─────────────────────────────────────────────────────────────────┘                             │
//! log group ─────────────────────────────────────────────────────────────┘   async invoke config, reserved concurrency
//! SQS queue ─────────────────────────────────────────────────────────────┘                             │
//!                                                          alarms (armed: the path is whole) ◄──────────┘
//!                                                          └──► alarms renamed (alarm_moves.rs)
//!                                                               └──► announce alarms found in ALARM
//! ```
//! An alarm is put only once the function, its invoke permission, the subscription and the
//! asynchronous-invocation config with its destination exist: a new alarm on a target group
//! that is already failing goes to ALARM at its first evaluation, and CloudWatch sends that
//! change once (`state::announce`). Existing alarms that were in ALARM while the path was
//! incomplete are announced by `up` itself (`announce.rs`).
//!
//! Every step is idempotent and keyed by name, so a run killed anywhere is completed by the
//! next `up`. A step whose change is `unchanged` makes no call.

pub mod alarm_moves;
pub mod alarms;
pub mod announce;
pub mod early_alarms;
pub mod fault;
pub mod function;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod mute;
pub mod queue;
pub mod replay;
pub mod sns;

use crate::aws::Clients;
use crate::bundle::Bundle;
use crate::progress::Progress;
use crate::secret::SlackSecret;
use crate::state::announce as found;
use crate::state::desired::Desired;
use crate::state::observed::Observed;
use crate::state::plan::{Action, Change, Plan};
use crate::state::warnings::Warning;
use anyhow::Result;
use std::future::Future;
use std::time::SystemTime;

/// Run one step under a progress line; on success pass the fault-injection checkpoint.
async fn step<T>(
    progress: &Progress,
    label: &str,
    outcome: String,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    step_telling(progress, label, fut, |_| outcome).await
}

/// [`step`] whose outcome line is told from its result.
async fn step_telling<T>(
    progress: &Progress,
    label: &str,
    fut: impl Future<Output = Result<T>>,
    tell: impl FnOnce(&T) -> String,
) -> Result<T> {
    let line = progress.start(label);
    match fut.await {
        Ok(v) => {
            line.done(&tell(&v));
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

/// What applying did beyond the plan's changes.
#[derive(Debug, Default)]
pub struct Applied {
    pub warnings: Vec<Warning>,
    /// Existing alarms found in ALARM when their path was completed, announced by `up`.
    pub announced: Vec<announce::Announced>,
}

pub async fn apply(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    secret: Option<&SlackSecret>,
    bundle: &Bundle,
    progress: &Progress,
) -> Result<Applied> {
    let (_, topic_arn, _, queue_warning) = tokio::try_join!(
        step(
            progress,
            "IAM role",
            outcome(&[&plan.boundary, &plan.role, &plan.role_policy]),
            async {
                // The boundary before the role: CreateRole and PutRolePermissionsBoundary
                // refuse a boundary policy that does not exist yet.
                let versions = observed
                    .boundary
                    .as_ref()
                    .map(|p| p.versions.clone())
                    .unwrap_or_default();
                iam::ensure_boundary(clients, desired, plan, &versions).await?;
                iam::ensure_role(clients, desired, plan).await
            }
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

    // A fresh env's alarms go in beside the notifier path, actions off (`early_alarms.rs`).
    let early = early_alarms::early(plan);
    let early_changes: Vec<&Change> = plan
        .alarms
        .iter()
        .filter(|c| early.contains(&c.name))
        .collect();
    let ((warning, path_whole_at), ()) = tokio::try_join!(
        async {
            let warning = notifier_path(
                clients, desired, observed, plan, secret, bundle, progress, &topic_arn,
            )
            .await?;
            // When existing alarms' path became whole (`announce` below), whatever the early
            // alarms still take.
            Ok::<_, anyhow::Error>((warning, SystemTime::now()))
        },
        async {
            if early.is_empty() {
                return Ok(());
            }
            step(
                progress,
                "alarms",
                format!(
                    "{} (actions off until the path is whole)",
                    outcome(&early_changes)
                ),
                early_alarms::put_unarmed(clients, desired, &early, &topic_arn),
            )
            .await
        }
    )?;
    let mut announced = Vec::new();
    if !early.is_empty() {
        announced = step_telling(
            progress,
            "alarms armed",
            early_alarms::arm(clients, &early, &topic_arn),
            |a| {
                format!(
                    "{} armed; {} found in ALARM announced",
                    early.len(),
                    a.len()
                )
            },
        )
        .await?;
    }

    let alarm_changes: Vec<&Change> = plan
        .alarms
        .iter()
        .filter(|c| !early.contains(&c.name))
        .collect();
    if early.is_empty() || !alarm_changes.is_empty() {
        step(
            progress,
            "alarms",
            outcome(&alarm_changes),
            alarms::ensure_alarms(clients, desired, plan, &topic_arn, &early),
        )
        .await?;
    }
    if !plan.alarm_moves.is_empty() {
        let moved = step_telling(
            progress,
            "alarms renamed",
            alarm_moves::move_alarms(clients, desired, observed, plan, &topic_arn),
            |a| {
                format!(
                    "{} moved to elb-watch/{}/…, state and threads kept; {} announced",
                    plan.alarm_moves.len(),
                    desired.env,
                    a.len()
                )
            },
        )
        .await?;
        announced.extend(moved);
    }
    let alarms_at = SystemTime::now();

    let candidates = found::candidates(observed, plan, &topic_arn);
    if !candidates.is_empty() {
        let found = step_telling(
            progress,
            "alarms found in ALARM",
            announce::announce(clients, &topic_arn, &candidates, path_whole_at, alarms_at),
            |a| format!("{} announced", a.len()),
        )
        .await?;
        announced.extend(found);
    }
    Ok(Applied {
        warnings: warning.into_iter().chain(queue_warning).collect(),
        announced,
    })
}

/// role → key → (alias, decrypt policy, secret) → function → permission → subscription →
/// (async invoke config, reserved concurrency): everything an alarm's notification crosses.
#[allow(clippy::too_many_arguments)]
async fn notifier_path(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    secret: Option<&SlackSecret>,
    bundle: &Bundle,
    progress: &Progress,
    topic_arn: &str,
) -> Result<Option<Warning>> {
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
    // The alias first: when a concurrent `up` of the env made it, its key is the env's, and the
    // policy and the ciphertext below must name that one.
    let key = step(
        progress,
        "KMS alias",
        outcome(&[&plan.alias]),
        kms::ensure_alias(clients, desired, plan, key),
    )
    .await?;
    let (_, ciphertext) = tokio::try_join!(
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
        function::ensure_permission(clients, desired, plan, topic_arn),
    )
    .await?;
    step(
        progress,
        "SNS subscription",
        outcome(&[&plan.subscription]),
        sns::ensure_subscription(clients, plan, topic_arn, &function_arn),
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
    Ok(warning)
}
