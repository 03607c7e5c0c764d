//! The customer-managed key that encrypts the webhook URL, its alias, and the encryption.

use crate::aws::retry;
use crate::aws::{AwsResultExt, Clients};
use crate::naming::Names;
use crate::secret::SlackSecret;
use crate::state::desired::Desired;
use crate::state::observed::{Observed, tagged_keys};
use crate::state::plan::{Action, Plan};
use anyhow::{Context, Result};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;

/// The key's id and ARN, and whether this run created (or adopted from an interrupted run) it:
/// the operator is authorised on elb-watch's keys by their tag, and KMS can take up to five
/// minutes to honour the tags of a new key
/// (<https://docs.aws.amazon.com/kms/latest/developerguide/abac.html>: "changes to tags and
/// aliases might take up to five minutes to affect KMS key authorization"), so the calls that
/// follow on a fresh key wait out `AccessDeniedException` ([`retry::through_key_tag_lag`]).
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub arn: String,
    pub fresh: bool,
}

/// `op` on `key`, through the tag-authorisation lag when the key is fresh.
async fn on_key<T, F, Fut>(key_is_fresh: bool, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    if !key_is_fresh {
        return op().await;
    }
    retry::through_key_tag_lag(retry::key_tag_budget(), op).await
}

/// Create (or adopt), enable and set the policy of the env's key; point the alias at it.
pub async fn ensure_key(
    clients: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
) -> Result<Key> {
    let kms = &clients.kms;
    let policy = desired.key_policy.to_string();
    let key = match (&observed.key, plan.key.action) {
        (Some(k), _) => Key {
            id: k.key_id.clone(),
            arn: k.arn.clone(),
            fresh: false,
        },
        (None, _) => match adoptable_key(clients, desired).await? {
            // A key from an `up` interrupted before it made the alias.
            Some(k) => {
                put_policy(clients, &k, &policy).await?;
                k
            }
            None => {
                let out = retry::through_propagation(retry::budget(), || async {
                    kms.create_key()
                        .description(format!(
                            "elb-watch {}: encrypts the Slack webhook URL or bot token",
                            desired.env
                        ))
                        .policy(&policy)
                        .set_tags(Some(kms_tags(&desired.env)))
                        .send()
                        .await
                        .aws("KMS CreateKey")
                })
                .await?;
                let meta = out.key_metadata.context("CreateKey returned no key")?;
                Key {
                    id: meta.key_id().to_string(),
                    arn: meta.arn().unwrap_or_default().to_string(),
                    fresh: true,
                }
            }
        },
    };
    if plan.key.action == Action::Update {
        if plan.key.reasons.iter().any(|r| r == "disabled") {
            kms.enable_key()
                .key_id(&key.id)
                .send()
                .await
                .aws("KMS EnableKey")?;
        }
        if plan.key.reasons.iter().any(|r| r == "key policy") {
            put_policy(clients, &key, &policy).await?;
        }
    }
    Ok(key)
}

async fn put_policy(clients: &Clients, key: &Key, policy: &str) -> Result<()> {
    on_key(key.fresh, || {
        retry::through_propagation(retry::budget(), || async {
            clients
                .kms
                .put_key_policy()
                .key_id(&key.id)
                .policy_name("default")
                .policy(policy)
                .send()
                .await
                .aws("KMS PutKeyPolicy")
        })
    })
    .await?;
    Ok(())
}

/// Point the env's alias at `key`; returns the key the env uses from now on. When another
/// `up` of the env (two CI jobs at once) made the alias first — `AlreadyExistsException`
/// (<https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html>) — its key is the
/// env's: `key`, made by this run, is scheduled for deletion (the shortest window, 7 days) so
/// no second key stays billed, and the alias's key is returned.
pub async fn ensure_alias(
    clients: &Clients,
    desired: &Desired,
    plan: &Plan,
    key: Key,
) -> Result<Key> {
    match plan.alias.action {
        Action::Create => {
            let made = on_key(key.fresh, || async {
                clients
                    .kms
                    .create_alias()
                    .alias_name(&desired.key_alias)
                    .target_key_id(&key.id)
                    .send()
                    .await
                    .aws("KMS CreateAlias")
            })
            .await;
            match made {
                Err(e) if crate::aws::errors::already_exists(&e, &["AlreadyExistsException"]) => {
                    return adopt_alias_key(clients, desired, key).await;
                }
                other => other.map(drop)?,
            }
        }
        Action::Update => {
            on_key(key.fresh, || async {
                clients
                    .kms
                    .update_alias()
                    .alias_name(&desired.key_alias)
                    .target_key_id(&key.id)
                    .send()
                    .await
                    .aws("KMS UpdateAlias")
            })
            .await?;
        }
        _ => {}
    }
    Ok(key)
}

/// The key the alias names, made by a concurrent `up`; this run's own `key` is scheduled for
/// deletion unless it is that key.
async fn adopt_alias_key(clients: &Clients, desired: &Desired, key: Key) -> Result<Key> {
    let kms = &clients.kms;
    let meta = kms
        .describe_key()
        .key_id(&desired.key_alias)
        .send()
        .await
        .aws("KMS DescribeKey")?
        .key_metadata
        .context("DescribeKey returned no key")?;
    let theirs = Key {
        id: meta.key_id().to_string(),
        arn: meta.arn().unwrap_or_default().to_string(),
        fresh: false,
    };
    if theirs.id != key.id {
        kms.schedule_key_deletion()
            .key_id(&key.id)
            .pending_window_in_days(crate::teardown::KEY_PENDING_WINDOW_DAYS)
            .send()
            .await
            .aws("KMS ScheduleKeyDeletion")?;
        tracing::info!(
            alias = %desired.key_alias,
            adopted = %theirs.id,
            scheduled_for_deletion = %key.id,
            "another up of this env made the alias first: using its key, deleting ours"
        );
    }
    Ok(theirs)
}

/// Encrypt the Slack secret as the Lambda console does: the webhook URL without `https://`
/// (the blueprint prepends it after decrypting; see [`crate::secret::stored_form`]), the bot
/// token as is; bound to the function by the encryption context
/// `{"LambdaFunctionName": <name>}`; returns base64 ciphertext.
pub async fn encrypt_secret(
    clients: &Clients,
    key: &Key,
    function: &str,
    secret: &SlackSecret,
) -> Result<String> {
    let out = on_key(key.fresh, || async {
        clients
            .kms
            .encrypt()
            .key_id(&key.id)
            .plaintext(Blob::new(secret.stored().expose().as_bytes()))
            .encryption_context("LambdaFunctionName", function)
            .send()
            .await
            .aws("KMS Encrypt")
    })
    .await?;
    let blob = out
        .ciphertext_blob()
        .context("Encrypt returned no ciphertext")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
}

fn kms_tags(env: &str) -> Vec<aws_sdk_kms::types::Tag> {
    Names::new(env)
        .tags()
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

/// An enabled key tagged for this env: what an `up` killed between CreateKey and CreateAlias
/// leaves (no alias points at it yet). Found through KMS's own consistent listing
/// ([`tagged_keys`]: ListKeys + ListResourceTags, every page), so a re-run adopts it instead of
/// leaking a second key even when the Resource Groups Tagging API does not list it yet.
async fn adoptable_key(clients: &Clients, desired: &Desired) -> Result<Option<Key>> {
    let keys = tagged_keys(clients, &Names::new(&desired.env)).await?;
    Ok(keys
        .into_iter()
        .find(|k| k.state == aws_sdk_kms::types::KeyState::Enabled.as_str())
        .map(|k| Key {
            id: k.key_id,
            arn: k.arn,
            fresh: true,
        }))
}
