//! The undelivered-alerts queue (SQS, server-side encrypted, tagged) and the notifier's
//! invocation settings: its asynchronous invocation config (retries, maximum event age, the
//! queue as on-failure destination) and its reserved concurrency.

use super::function;
use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::naming::Names;
use crate::state::desired::Desired;
use crate::state::observed::Observed;
use crate::state::plan::{Action, Plan};
use crate::state::warnings::Warning;
use anyhow::{Context, Result};
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;
use std::time::Duration;

pub use crate::state::queue_plan::{CONCURRENCY_NOT_RESERVED, concurrency_warning};

fn attributes(desired: &Desired) -> HashMap<QueueAttributeName, String> {
    HashMap::from([
        (
            QueueAttributeName::SqsManagedSseEnabled,
            desired.queue.sse.to_string(),
        ),
        (
            QueueAttributeName::MessageRetentionPeriod,
            desired.queue.retention_s.to_string(),
        ),
    ])
}

/// SQS refuses to create a queue within 60 seconds of deleting one of the same name:
/// `QueueDeletedRecently` (`AWS.SimpleQueueService.QueueDeletedRecently` as a query-compatible
/// code), "You must wait 60 seconds after deleting a queue before you can create another queue
/// with the same name." (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html>,
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html>).
pub fn is_deleted_recently(message: &str) -> bool {
    message.contains("QueueDeletedRecently")
}

/// CreateQueue's answer for a live queue of that name with other attributes
/// (`QueueAlreadyExists`; query-compatible code `QueueAlreadyExists` / `QueueNameExists`,
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html>).
fn is_name_taken(message: &str) -> bool {
    message.contains("QueueAlreadyExists") || message.contains("QueueNameExists")
}

/// Create the queue, waiting out a name SQS has not released yet.
async fn create_queue(clients: &Clients, desired: &Desired) -> Result<()> {
    let tags: HashMap<String, String> = Names::new(&desired.env).tags().into_iter().collect();
    // After `down`, SQS refuses the name for 60 s: wait it out (75 s budget).
    retry::until(
        Duration::from_secs(75),
        is_deleted_recently,
        "SQS to release a recently deleted queue's name",
        || async {
            clients
                .sqs
                .create_queue()
                .queue_name(&desired.queue.name)
                .set_attributes(Some(attributes(desired)))
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .aws("SQS CreateQueue")
        },
    )
    .await?
    .queue_url
    .context("CreateQueue returned no URL")?;
    Ok(())
}

/// Whether the queue `observe` found is alive rather than being deleted. SQS's deletion takes
/// up to 60 seconds and "requests you send involving that queue during the 60 seconds might
/// succeed" (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html>),
/// so GetQueueUrl and GetQueueAttributes prove nothing. CreateQueue of the same name does:
/// for a live queue it returns its URL (same attributes) or `QueueAlreadyExists` (others); for
/// one being deleted it answers `QueueDeletedRecently`. Creates nothing when the queue lives.
async fn is_live(clients: &Clients, desired: &Desired) -> Result<bool> {
    let probe = clients
        .sqs
        .create_queue()
        .queue_name(&desired.queue.name)
        .set_attributes(Some(attributes(desired)))
        .send()
        .await
        .aws("SQS CreateQueue");
    match probe {
        Ok(_) => Ok(true),
        Err(e) if is_deleted_recently(&format!("{e:#}")) => Ok(false),
        Err(e) if is_name_taken(&format!("{e:#}")) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Create the queue or correct its attributes. A queue that exists but is about to be relied
/// on anew — the function's on-failure destination is being (re)written, as after `down` —
/// is first proved alive ([`is_live`]): one still being deleted is waited out and made again,
/// never adopted; the warning says so (the plan, made from what SQS answered, called it
/// unchanged).
pub async fn ensure_queue(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
) -> Result<Option<Warning>> {
    let sqs = &clients.sqs;
    let adopting = observed.queue.is_some() && plan.async_invoke.action != Action::Unchanged;
    if plan.queue.action != Action::Create && adopting && !is_live(clients, desired).await? {
        create_queue(clients, desired).await?;
        return Ok(Some(Warning {
            kind: QUEUE_WAS_BEING_DELETED,
            load_balancer: String::new(),
            target_group: String::new(),
            target_group_arn: String::new(),
            message: format!(
                "the queue {} was still being deleted (an earlier `down`; SQS takes up to 60 s \
                 and answers for it meanwhile): up waited and made it anew instead of adopting it",
                desired.queue.name
            ),
        }));
    }
    match plan.queue.action {
        Action::Create => create_queue(clients, desired).await?,
        Action::Update => {
            let url = observed
                .queue
                .as_ref()
                .map(|q| q.url.clone())
                .context("no queue URL to update")?;
            let mut attrs = attributes(desired);
            // SQS-managed SSE and SSE-KMS are exclusive: clear a KMS key set by hand.
            if observed.queue.as_ref().is_some_and(|q| q.kms_key.is_some()) {
                attrs.insert(QueueAttributeName::KmsMasterKeyId, String::new());
            }
            sqs.set_queue_attributes()
                .queue_url(url)
                .set_attributes(Some(attrs))
                .send()
                .await
                .aws("SQS SetQueueAttributes")?;
        }
        _ => {}
    }
    Ok(None)
}

/// Warning kind: the queue found was being deleted and was made anew.
pub const QUEUE_WAS_BEING_DELETED: &str = "queue-was-being-deleted";

/// Lambda checks, when the config is put, that the execution role may send to the destination;
/// a role policy written seconds earlier may not be visible yet (IAM eventual consistency):
/// `InvalidParameterValueException`, "The function's execution role does not have permissions
/// to call SendMessage on …"
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).
pub fn is_destination_permission_error(message: &str) -> bool {
    message.contains("InvalidParameterValueException")
        && message.contains("does not have permissions to call SendMessage")
}

/// Put the function's asynchronous invocation config (PutFunctionEventInvokeConfig replaces
/// the whole config, so the same call creates and corrects it).
pub async fn ensure_async_config(clients: &Clients, desired: &Desired, plan: &Plan) -> Result<()> {
    if plan.async_invoke.action == Action::Unchanged {
        return Ok(());
    }
    let spec = &desired.async_invoke;
    let name = &desired.function.name;
    let destinations = DestinationConfig::builder()
        .on_failure(OnFailure::builder().destination(&spec.on_failure).build())
        .build();
    function::while_busy(clients, name, || {
        retry::until(
            retry::budget(),
            is_destination_permission_error,
            "IAM propagation of the role's sqs:SendMessage",
            || async {
                clients
                    .lambda
                    .put_function_event_invoke_config()
                    .function_name(name)
                    .maximum_retry_attempts(spec.max_retry_attempts)
                    .maximum_event_age_in_seconds(spec.max_event_age_s)
                    .destination_config(destinations.clone())
                    .send()
                    .await
                    .aws("Lambda PutFunctionEventInvokeConfig")
            },
        )
    })
    .await?;
    Ok(())
}

/// The account's unreserved concurrency (`GetAccountSettings`).
pub async fn unreserved_concurrency(clients: &Clients) -> Result<Option<i32>> {
    let out = clients
        .lambda
        .get_account_settings()
        .send()
        .await
        .aws("Lambda GetAccountSettings")?;
    Ok(out
        .account_limit()
        .and_then(|l| l.unreserved_concurrent_executions()))
}

/// Lambda's refusal of a reservation below the unreserved minimum
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html>).
pub fn is_unreserved_minimum_error(message: &str) -> bool {
    message.contains("UnreservedConcurrentExecution") && message.contains("minimum")
}

/// Reserve the function's concurrency. Returns a warning instead when the account cannot
/// spare it (also when Lambda refuses it for that reason, racing another reservation).
pub async fn ensure_concurrency(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
) -> Result<Option<Warning>> {
    if plan.concurrency.action == Action::Unchanged {
        return Ok(None);
    }
    let name = &desired.function.name;
    let got = function::while_busy(clients, name, || async {
        clients
            .lambda
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(desired.concurrency as i32)
            .send()
            .await
            .aws("Lambda PutFunctionConcurrency")
    })
    .await;
    match got {
        Ok(_) => Ok(None),
        Err(e) if is_unreserved_minimum_error(&format!("{e:#}")) => {
            let unreserved = unreserved_concurrency(clients).await?.unwrap_or(0);
            Ok(Some(concurrency_warning(
                name,
                desired.concurrency,
                unreserved,
            )))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart() {
        assert!(is_deleted_recently(
            "SQS CreateQueue: AWS.SimpleQueueService.QueueDeletedRecently: You must wait 60 \
             seconds after deleting a queue before you can create another with the same name."
        ));
        assert!(is_destination_permission_error(
            "Lambda PutFunctionEventInvokeConfig: InvalidParameterValueException: The \
             function's execution role does not have permissions to call SendMessage on \
             arn:aws:sqs:us-east-1:1:q"
        ));
        assert!(is_unreserved_minimum_error(
            "Lambda PutFunctionConcurrency: InvalidParameterValueException: Specified \
             ReservedConcurrentExecutions for function decreases account's \
             UnreservedConcurrentExecution below its minimum value of [100]."
        ));
        assert!(!is_unreserved_minimum_error("Throttling"));
    }
}
