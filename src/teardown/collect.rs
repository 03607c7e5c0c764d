//! Reads for `down`: the observed env plus the tag checks `observe` does not make (log group,
//! the key behind an alias pointing at a key pending deletion, each alarm's own tags).

use super::Found;
use crate::aws::{AwsResultExt, Clients, errors, retry};
use crate::naming::Names;
use crate::state::desired::Identity;
use crate::state::observed::{AlarmObs, observe, tagged_keys};
use anyhow::Result;

pub async fn collect(clients: &Clients, names: &Names, identity: &Identity) -> Result<Found> {
    let (observed, keys) = tokio::try_join!(
        observe(clients, names, identity),
        tagged_keys(clients, names)
    )?;
    let (log_group_owned, alias_target_owned, alarm_tags_owned) = tokio::try_join!(
        async {
            match observed.log_group {
                Some(_) => log_group_owned(clients, names, identity).await,
                None => Ok(false),
            }
        },
        async {
            match (&observed.key, &observed.alias_target) {
                (None, Some(target)) => key_owned(clients, names, target).await,
                _ => Ok(false),
            }
        },
        alarms_owned(clients, names, &observed.alarms),
    )?;
    Ok(Found {
        observed,
        keys,
        log_group_owned,
        alias_target_owned,
        alarm_tags_owned: alarm_tags_owned.into_iter().collect(),
    })
}

async fn log_group_owned(clients: &Clients, names: &Names, id: &Identity) -> Result<bool> {
    let arn = format!(
        "arn:{}:logs:{}:{}:log-group:{}",
        id.partition,
        id.region,
        id.account_id,
        names.log_group()
    );
    let got = clients
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    match got {
        Ok(out) => Ok(names.owns(
            out.tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )),
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(e).aws("Logs ListTagsForResource"),
    }
}

async fn key_owned(clients: &Clients, names: &Names, key_id: &str) -> Result<bool> {
    let got = clients.kms.list_resource_tags().key_id(key_id).send().await;
    match got {
        Ok(out) => Ok(names.owns(out.tags().iter().map(|t| (t.tag_key(), t.tag_value())))),
        Err(e) if errors::code(&e) == Some("NotFoundException") => Ok(false),
        Err(e) => Err(e).aws("KMS ListResourceTags"),
    }
}

/// Each alarm's own tags (observe takes an alarm whose actions point at the env's topic as the
/// env's; before deleting, `down` wants the tags to say so). One ListTagsForResource per alarm
/// (CloudWatch: 10 per second): a few at a time, each waiting out throttling on its own budget
/// started with its turn, as the alarm writes do — at 1,000 alarms the SDK's retry quota alone
/// ran out ("Throttling: Rate exceeded").
async fn alarms_owned(
    clients: &Clients,
    names: &Names,
    alarms: &[AlarmObs],
) -> Result<Vec<(String, bool)>> {
    retry::each_through_throttling(alarms, |a| async move {
        let got = clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(&a.arn)
            .send()
            .await;
        let owned = match got {
            Ok(out) => names.owns(
                out.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
            ),
            Err(e) if errors::code(&e) == Some("ResourceNotFound") => false,
            Err(e) => return Err(e).aws("CloudWatch ListTagsForResource"),
        };
        Ok((a.name.clone(), owned))
    })
    .await
}
