//! The notifier's role (trust, inline runtime policy) and the decrypt-only managed policy.

use crate::aws::{AwsResultExt, Clients};
use crate::naming::{BOUNDARY_POLICY, IAM_PATH, Names};
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
                .permissions_boundary(&desired.permissions_boundary)
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

/// Put the role's boundary (elb-watch's own, or `--permissions-boundary`'s) on a role that has
/// none or another; never removed (the operator policy refuses DeleteRolePermissionsBoundary).
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html>
async fn set_permissions_boundary(clients: &Clients, desired: &Desired) -> Result<()> {
    clients
        .iam
        .put_role_permissions_boundary()
        .role_name(&desired.role_name)
        .permissions_boundary(&desired.permissions_boundary)
        .send()
        .await
        .aws("IAM PutRolePermissionsBoundary")?;
    Ok(())
}

/// elb-watch's own permissions boundary: made when missing, a new default version when its
/// document differs. The operator policy refuses both on purpose (whoever could write the
/// boundary could lift it): an administrator's `up`, or one `aws iam create-policy`, makes it.
pub async fn ensure_boundary(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
    existing_versions: &[String],
) -> Result<()> {
    let Some(document) = &desired.boundary_document else {
        return Ok(());
    };
    let document = document.to_string();
    let made = match plan.boundary.action {
        Action::Create => clients
            .iam
            .create_policy()
            .policy_name(BOUNDARY_POLICY)
            .path(IAM_PATH)
            .policy_document(&document)
            .description(
                "elb-watch: the most any elb-watch notifier role may do (its permissions boundary)",
            )
            .set_tags(Some(managed_by_tag()))
            .send()
            .await
            .aws("IAM CreatePolicy")
            .map(drop),
        Action::Update => {
            put_default_version(
                clients,
                &desired.permissions_boundary,
                &document,
                existing_versions,
            )
            .await
        }
        _ => return Ok(()),
    };
    match made {
        Err(e) if crate::aws::errors::already_exists(&e, &["EntityAlreadyExists"]) => Ok(()),
        Err(e) if crate::aws::errors::is_access_denied(&e) => Err(e.context(format!(
            "the notifier's permissions boundary {} is {} and this identity may not write it — \
             by design: whoever could write the boundary could lift it. Once per account, an \
             administrator runs `elb-watch policy --boundary > boundary.json && aws iam \
             create-policy --path {IAM_PATH} --policy-name {BOUNDARY_POLICY} --policy-document \
             file://boundary.json` (or, to update it, `aws iam create-policy-version \
             --policy-arn {} --policy-document file://boundary.json --set-as-default`), or runs \
             `elb-watch up` once with administrator credentials",
            desired.permissions_boundary,
            if plan.boundary.action == Action::Create {
                "missing"
            } else {
                "out of date"
            },
            desired.permissions_boundary,
        ))),
        other => other,
    }
}

/// The boundary carries only the managed-by tag: it is every env's, no one env's.
fn managed_by_tag() -> Vec<aws_sdk_iam::types::Tag> {
    vec![
        aws_sdk_iam::types::Tag::builder()
            .key(crate::naming::TAG_MANAGED_BY)
            .value(crate::naming::MANAGED_BY)
            .build()
            .expect("key and value set"),
    ]
}

/// A new default version of a managed policy; a managed policy keeps at most five versions, so
/// the oldest spare goes first when four spares exist.
async fn put_default_version(
    clients: &Clients,
    arn: &str,
    document: &str,
    existing_versions: &[String],
) -> Result<()> {
    let iam = &clients.iam;
    if existing_versions.len() >= 4 {
        let mut spare = existing_versions.to_vec();
        spare.sort_by_key(|v| v.trim_start_matches('v').parse::<u32>().unwrap_or(0));
        iam.delete_policy_version()
            .policy_arn(arn)
            .version_id(&spare[0])
            .send()
            .await
            .aws("IAM DeletePolicyVersion")?;
    }
    iam.create_policy_version()
        .policy_arn(arn)
        .policy_document(document)
        .set_as_default(true)
        .send()
        .await
        .aws("IAM CreatePolicyVersion")?;
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
            put_default_version(
                clients,
                &desired.decrypt_policy_arn,
                &document,
                existing_versions,
            )
            .await?;
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
