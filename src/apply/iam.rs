//! The notifier's role (trust, inline runtime policy) and the decrypt-only managed policy.

use crate::aws::{AwsResultExt, Clients};
use crate::naming::{IAM_PATH, Names};
use crate::state::desired::Desired;
use crate::state::plan::{Action, PERMISSIONS_BOUNDARY, Plan};
use anyhow::Result;

fn iam_tags(env: &str) -> Vec<aws_sdk_iam::types::Tag> {
    Names::new(env)
        .tags()
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

/// IAM's `EntityAlreadyExists`: another `up` of this env made it meanwhile; adopt it (the next
/// `up` corrects anything it holds differently).
fn adopt_if_exists<T>(made: Result<T>) -> Result<()> {
    match made {
        Err(e) if crate::aws::errors::already_exists(&e, &["EntityAlreadyExists"]) => Ok(()),
        other => other.map(drop),
    }
}

/// Role, trust policy, permissions boundary, inline runtime policy; detaches the managed
/// policies elb-watch attached and no longer wants (never one someone else attached).
pub async fn ensure_role(clients: &Clients, desired: &Desired, plan: &Plan) -> Result<String> {
    let iam = &clients.iam;
    let trust = desired.trust_policy.to_string();
    match plan.role.action {
        Action::Create => {
            let made = iam
                .create_role()
                .role_name(&desired.role_name)
                .path(IAM_PATH)
                .assume_role_policy_document(&trust)
                .description(format!(
                    "elb-watch {}: runs the alarm-to-Slack notifier",
                    desired.env
                ))
                .set_tags(Some(iam_tags(&desired.env)))
                .set_permissions_boundary(desired.permissions_boundary.clone())
                .send()
                .await
                .aws("IAM CreateRole");
            adopt_if_exists(made)?;
        }
        Action::Update => {
            let because = |r: &str| plan.role.reasons.iter().any(|x| x == r);
            if because("trust policy") {
                iam.update_assume_role_policy()
                    .role_name(&desired.role_name)
                    .policy_document(&trust)
                    .send()
                    .await
                    .aws("IAM UpdateAssumeRolePolicy")?;
            }
            if because(PERMISSIONS_BOUNDARY) {
                set_permissions_boundary(clients, desired).await?;
            }
        }
        _ => {}
    }
    if plan.role_policy.action != Action::Unchanged {
        iam.put_role_policy()
            .role_name(&desired.role_name)
            .policy_name(&desired.runtime_policy_name)
            .policy_document(desired.runtime_policy.to_string())
            .send()
            .await
            .aws("IAM PutRolePolicy")?;
    }
    for arn in &plan.detach {
        iam.detach_role_policy()
            .role_name(&desired.role_name)
            .policy_arn(arn)
            .send()
            .await
            .aws("IAM DetachRolePolicy")?;
    }
    for name in &plan.remove_inline {
        iam.delete_role_policy()
            .role_name(&desired.role_name)
            .policy_name(name)
            .send()
            .await
            .aws("IAM DeleteRolePolicy")?;
    }
    Ok(desired.role_arn.clone())
}

/// Put the boundary `--permissions-boundary` names on the role, or remove the one it has.
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html>
async fn set_permissions_boundary(clients: &Clients, desired: &Desired) -> Result<()> {
    match &desired.permissions_boundary {
        Some(arn) => {
            clients
                .iam
                .put_role_permissions_boundary()
                .role_name(&desired.role_name)
                .permissions_boundary(arn)
                .send()
                .await
                .aws("IAM PutRolePermissionsBoundary")?;
        }
        None => {
            clients
                .iam
                .delete_role_permissions_boundary()
                .role_name(&desired.role_name)
                .send()
                .await
                .aws("IAM DeleteRolePermissionsBoundary")?;
        }
    }
    Ok(())
}

/// The decrypt-only policy scoped to `key_arn`, attached to the role.
pub async fn ensure_decrypt_policy(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
    existing_versions: &[String],
    key_arn: &str,
) -> Result<()> {
    let iam = &clients.iam;
    let document = crate::policy::decrypt_only_policy(key_arn, &desired.function.name).to_string();
    match plan.decrypt_policy.action {
        Action::Create => {
            let made = iam
                .create_policy()
                .policy_name(&desired.decrypt_policy_name)
                .path(IAM_PATH)
                .policy_document(&document)
                .description(format!(
                    "elb-watch {}: kms:Decrypt on the webhook URL's key only",
                    desired.env
                ))
                .set_tags(Some(iam_tags(&desired.env)))
                .send()
                .await
                .aws("IAM CreatePolicy");
            adopt_if_exists(made)?;
        }
        Action::Update => {
            // A managed policy keeps at most five versions: drop the oldest spare first.
            if existing_versions.len() >= 4 {
                let mut spare = existing_versions.to_vec();
                spare.sort_by_key(|v| v.trim_start_matches('v').parse::<u32>().unwrap_or(0));
                iam.delete_policy_version()
                    .policy_arn(&desired.decrypt_policy_arn)
                    .version_id(&spare[0])
                    .send()
                    .await
                    .aws("IAM DeletePolicyVersion")?;
            }
            iam.create_policy_version()
                .policy_arn(&desired.decrypt_policy_arn)
                .policy_document(&document)
                .set_as_default(true)
                .send()
                .await
                .aws("IAM CreatePolicyVersion")?;
        }
        _ => {}
    }
    if plan.attachment.action == Action::Create {
        iam.attach_role_policy()
            .role_name(&desired.role_name)
            .policy_arn(&desired.decrypt_policy_arn)
            .send()
            .await
            .aws("IAM AttachRolePolicy")?;
    }
    Ok(())
}
