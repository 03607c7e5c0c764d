//! The notifier Lambda (the checked bundle, on its architecture) and the permission that lets the topic invoke it.

use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::bundle::Bundle;
use crate::naming::Names;
use crate::state::desired::Desired;
use crate::state::observed::Observed;
use crate::state::plan::{Action, Plan};
use anyhow::{Context, Result, bail};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// The function's variables: the plain ones and the encrypted Slack secret, under the name of
/// its mode (a switch of mode drops the other one).
fn environment(desired: &Desired, ciphertext: &str) -> Environment {
    let mut vars: HashMap<String, String> = desired.function.plain_env().into_iter().collect();
    vars.insert(
        desired.function.secret_var().to_string(),
        ciphertext.to_string(),
    );
    Environment::builder().set_variables(Some(vars)).build()
}

/// Create or update the function; returns its ARN. `ciphertext` is a freshly encrypted URL, or
/// `None` to keep the one the function holds.
pub async fn ensure_function(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    ciphertext: Option<String>,
    bundle: &Bundle,
) -> Result<String> {
    let lambda = &clients.lambda;
    let spec = &desired.function;
    let existing = observed.function.as_ref();
    let var = spec.secret_var();
    let ciphertext = match ciphertext.or_else(|| existing.and_then(|f| f.env.get(var).cloned())) {
        Some(c) => c,
        None => bail!("no encrypted Slack secret ({var}) to give the function"),
    };
    let change = &plan.function;
    // https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-Architectures
    let architecture = Architecture::from(spec.architecture.as_str());
    let arn = match change.change.action {
        Action::Create => {
            let out = retry::through_propagation(retry::budget(), || async {
                lambda
                    .create_function()
                    .function_name(&spec.name)
                    .runtime(Runtime::from(spec.runtime.as_str()))
                    .handler(&spec.handler)
                    .role(&spec.role_arn)
                    .architectures(architecture.clone())
                    .memory_size(spec.memory_mb)
                    .timeout(spec.timeout_s)
                    .description(&spec.description)
                    .environment(environment(desired, &ciphertext))
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(bundle.zip()))
                            .build(),
                    )
                    .set_tags(Some(Names::new(&desired.env).tags().into_iter().collect()))
                    .send()
                    .await
                    .aws("Lambda CreateFunction")
            })
            .await;
            match out {
                // Made meanwhile by another `up` of this env (two CI jobs at once): adopt it.
                // It holds the same code and a secret under the same key (the alias's).
                Err(e) if is_already_made(&format!("{e:#}")) => {
                    wait_until_ready(clients, &spec.name).await?;
                    lambda
                        .get_function()
                        .function_name(&spec.name)
                        .send()
                        .await
                        .aws("Lambda GetFunction")?
                        .configuration
                        .and_then(|c| c.function_arn)
                        .context("GetFunction returned no ARN")?
                }
                out => {
                    let out = out?;
                    wait_until_ready(clients, &spec.name).await?;
                    out.function_arn.context("CreateFunction returned no ARN")?
                }
            }
        }
        Action::Update => {
            // The function may still be Pending or InProgress from an earlier run (one killed
            // right after CreateFunction, or a concurrent deploy): the FIRST update waits too.
            wait_until_ready(clients, &spec.name).await?;
            if change.code {
                while_busy(clients, &spec.name, || async {
                    lambda
                        .update_function_code()
                        .function_name(&spec.name)
                        .zip_file(Blob::new(bundle.zip()))
                        .architectures(architecture.clone())
                        .send()
                        .await
                        .aws("Lambda UpdateFunctionCode")
                })
                .await?;
                wait_until_ready(clients, &spec.name).await?;
            }
            if change.configuration {
                while_busy(clients, &spec.name, || {
                    retry::through_propagation(retry::budget(), || async {
                        lambda
                            .update_function_configuration()
                            .function_name(&spec.name)
                            .runtime(Runtime::from(spec.runtime.as_str()))
                            .handler(&spec.handler)
                            .role(&spec.role_arn)
                            .memory_size(spec.memory_mb)
                            .timeout(spec.timeout_s)
                            .description(&spec.description)
                            .environment(environment(desired, &ciphertext))
                            .send()
                            .await
                            .aws("Lambda UpdateFunctionConfiguration")
                    })
                })
                .await?;
                wait_until_ready(clients, &spec.name).await?;
            }
            existing.map(|f| f.arn.clone()).unwrap_or_default()
        }
        _ => {
            // Unchanged, but possibly still settling: the permission step that follows
            // operates on the function, which Lambda refuses until it is ready.
            if existing.is_some_and(|f| !f.is_ready()) {
                wait_until_ready(clients, &spec.name).await?;
            }
            existing.map(|f| f.arn.clone()).unwrap_or_default()
        }
    };
    Ok(arn)
}

/// Lambda's refusal while a function is Pending or an update is InProgress: HTTP 409
/// `ResourceConflictException`, "The operation cannot be performed at this time. An update is in
/// progress for resource: …" (or "… The function is currently in the following state:
/// Pending"). Not the other 409 of the same code, "already exists".
/// <https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>,
/// <https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html>
pub fn is_busy(message: &str) -> bool {
    message.contains("ResourceConflictException")
        && (message.contains("operation cannot be performed at this time")
            || message.contains("update is in progress")
            || message.contains("currently in the following state"))
}

/// Lambda's other 409, `ResourceConflictException` for a function or permission statement that
/// already exists ("Function already exist", "The statement id (…) provided already exists"):
/// made by a concurrent `up` of the env.
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html>,
/// <https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html>
pub fn is_already_made(message: &str) -> bool {
    message.contains("ResourceConflictException")
        && (message.contains("already exist") || message.contains("already exists"))
}

/// Attempts of an operation refused because the function was busy.
const BUSY_ATTEMPTS: u32 = 10;

/// Run `op`; while Lambda refuses it as busy (a window the state read can race), wait for the
/// function to be ready and try again, a bounded number of times.
pub(crate) async fn while_busy<T, F, Fut>(clients: &Clients, name: &str, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < BUSY_ATTEMPTS && is_busy(&format!("{e:#}")) => {
                tracing::info!(function = name, attempt, "function busy; waiting");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                wait_until_ready(clients, name).await?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Lambda refuses updates (and other operations on the function) while it is `Pending` after
/// CreateFunction or its `LastUpdateStatus` is `InProgress` after an update: wait for `Active`
/// and not `InProgress` (<https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>).
pub async fn wait_until_ready(clients: &Clients, name: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        let cfg = clients
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .aws("Lambda GetFunctionConfiguration")?;
        let state = cfg.state().cloned().unwrap_or(State::Active);
        let update = cfg
            .last_update_status()
            .cloned()
            .unwrap_or(LastUpdateStatus::Successful);
        if state == State::Failed || update == LastUpdateStatus::Failed {
            bail!(
                "the function {name} failed to become ready: {}",
                cfg.state_reason()
                    .or(cfg.last_update_status_reason())
                    .unwrap_or("no reason given")
            );
        }
        // An Inactive function takes updates (they bring it back through Pending).
        if matches!(state, State::Active | State::Inactive)
            && update != LastUpdateStatus::InProgress
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the function {name} was not ready after 5 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `lambda:InvokeFunction` for the service principal SNS, from this topic only.
pub async fn ensure_permission(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
    topic_arn: &str,
) -> Result<()> {
    let lambda = &clients.lambda;
    let name = &desired.function.name;
    if plan.permission.action == Action::Update {
        while_busy(clients, name, || async {
            lambda
                .remove_permission()
                .function_name(name)
                .statement_id(&desired.permission_sid)
                .send()
                .await
                .aws("Lambda RemovePermission")
        })
        .await?;
    }
    if plan.permission.action != Action::Unchanged {
        let added = while_busy(clients, name, || async {
            lambda
                .add_permission()
                .function_name(name)
                .statement_id(&desired.permission_sid)
                .action("lambda:InvokeFunction")
                .principal("sns.amazonaws.com")
                .source_arn(topic_arn)
                .source_account(&desired.identity.account_id)
                .send()
                .await
                .aws("Lambda AddPermission")
        })
        .await;
        match added {
            Err(e) if is_already_made(&format!("{e:#}")) => {}
            other => other.map(drop)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_busy;

    #[test]
    fn busy_is_the_in_progress_conflict_not_already_exists() {
        assert!(is_busy(
            "Lambda UpdateFunctionCode: ResourceConflictException: The operation cannot be \
             performed at this time. An update is in progress for resource: \
             arn:aws:lambda:us-east-1:123456789012:function:elb-watch-dev-notifier"
        ));
        assert!(is_busy(
            "Lambda AddPermission: ResourceConflictException: The operation cannot be performed \
             at this time. The function is currently in the following state: Pending"
        ));
        assert!(!is_busy(
            "Lambda AddPermission: ResourceConflictException: The statement id (x) provided \
             already exists. Please provide a new statement id, or remove the existing statement."
        ));
        assert!(!is_busy(
            "Lambda CreateFunction: ResourceConflictException: Function already exist: f"
        ));
    }
}
