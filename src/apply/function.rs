//! The notifier Lambda (the checked bundle, on its architecture) and the permission that lets the topic invoke it.

use super::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::bundle::Bundle;
use crate::naming::Names;
use crate::state::desired::{Desired, ENV_CHANNEL, ENV_HOOK};
use crate::state::observed::Observed;
use crate::state::plan::{Action, Plan};
use anyhow::{Context, Result, bail};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn environment(desired: &Desired, ciphertext: &str) -> Environment {
    let mut vars = HashMap::new();
    vars.insert(ENV_HOOK.to_string(), ciphertext.to_string());
    if let Some(channel) = &desired.function.channel {
        vars.insert(ENV_CHANNEL.to_string(), channel.clone());
    }
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
    let ciphertext =
        match ciphertext.or_else(|| existing.and_then(|f| f.env.get(ENV_HOOK).cloned())) {
            Some(c) => c,
            None => bail!("no encrypted webhook URL to give the function"),
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
            .await?;
            wait_until_ready(clients, &spec.name).await?;
            out.function_arn.context("CreateFunction returned no ARN")?
        }
        Action::Update => {
            if change.code {
                lambda
                    .update_function_code()
                    .function_name(&spec.name)
                    .zip_file(Blob::new(bundle.zip()))
                    .architectures(architecture.clone())
                    .send()
                    .await
                    .aws("Lambda UpdateFunctionCode")?;
                wait_until_ready(clients, &spec.name).await?;
            }
            if change.configuration {
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
                .await?;
                wait_until_ready(clients, &spec.name).await?;
            }
            existing.map(|f| f.arn.clone()).unwrap_or_default()
        }
        _ => existing.map(|f| f.arn.clone()).unwrap_or_default(),
    };
    Ok(arn)
}

/// Lambda refuses a second update while one is in progress: wait for Active / Successful.
async fn wait_until_ready(clients: &Clients, name: &str) -> Result<()> {
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
        if state == State::Active && update != LastUpdateStatus::InProgress {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the function {name} was not ready after 5 minutes");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
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
    if plan.permission.action == Action::Update {
        lambda
            .remove_permission()
            .function_name(&desired.function.name)
            .statement_id(&desired.permission_sid)
            .send()
            .await
            .aws("Lambda RemovePermission")?;
    }
    if plan.permission.action != Action::Unchanged {
        lambda
            .add_permission()
            .function_name(&desired.function.name)
            .statement_id(&desired.permission_sid)
            .action("lambda:InvokeFunction")
            .principal("sns.amazonaws.com")
            .source_arn(topic_arn)
            .source_account(&desired.identity.account_id)
            .send()
            .await
            .aws("Lambda AddPermission")?;
    }
    Ok(())
}
