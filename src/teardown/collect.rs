//! Reads for `down`: the observed env plus the tag checks `observe` does not make (log group,
//! the key behind an alias pointing at a key pending deletion, each alarm's own tags).

use super::Found;
use crate::aws::{AwsResultExt, Clients, errors, retry};
use crate::naming::Names;
use crate::state::alarm_tag_index;
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
    let (mute_rules, schedule_group, scheduler_role) = tokio::try_join!(
        crate::state::mute_observed::env_rules(clients, names),
        schedule_group_owned(clients, names),
        scheduler_role_owned(clients, names),
    )?;
    Ok(Found {
        observed,
        keys,
        log_group_owned,
        alias_target_owned,
        alarm_tags_owned: alarm_tags_owned.into_iter().collect(),
        mute_rules: mute_rules.into_iter().map(|r| r.name).collect(),
        schedule_group,
        scheduler_role,
    })
}

/// Whether the tags say so: the env's tag and elb-watch's.
fn tags_say_owned<'a>(names: &Names, tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    let tags: Vec<(&str, &str)> = tags.collect();
    names
        .tags()
        .iter()
        .all(|(k, v)| tags.contains(&(k.as_str(), v.as_str())))
}

/// The window-end schedule group: `None` when absent.
async fn schedule_group_owned(clients: &Clients, names: &Names) -> Result<Option<bool>> {
    let got = clients
        .scheduler
        .get_schedule_group()
        .name(names.schedule_group())
        .send()
        .await;
    let arn = match got {
        Ok(g) => g.arn().unwrap_or_default().to_string(),
        Err(e) if errors::code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(e).aws("Scheduler GetScheduleGroup"),
    };
    let tags = clients
        .scheduler
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .aws("Scheduler ListTagsForResource")?;
    Ok(Some(tags_say_owned(
        names,
        tags.tags().iter().map(|t| (t.key(), t.value())),
    )))
}

/// The window-end role: `None` when absent.
async fn scheduler_role_owned(clients: &Clients, names: &Names) -> Result<Option<bool>> {
    match clients
        .iam
        .get_role()
        .role_name(names.scheduler_role())
        .send()
        .await
    {
        Ok(r) => Ok(Some(r.role().is_some_and(|role| {
            tags_say_owned(names, role.tags().iter().map(|t| (t.key(), t.value())))
        }))),
        Err(e) if errors::code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(e).aws("IAM GetRole"),
    }
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

/// Whether each alarm is the env's by its own tags (observe takes an alarm whose actions point
/// at the env's topic as the env's; before deleting, `down` wants the tags to say so).
///
/// First the Tagging API's index: GetResources filtered on the env's two tags and
/// `cloudwatch:alarm`, 100 a page — ten calls for a thousand alarms where one
/// ListTagsForResource each took 100 s at CloudWatch's 10 per second. The index is eventually
/// consistent ("may not immediately reflect recent changes":
/// <https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>),
/// so it only ever proves ownership: an alarm it does not list — created or tagged a moment
/// ago, or the index not readable (`tag:GetResources` denied) — is checked by its own
/// ListTagsForResource, a few at a time, each waiting out throttling on its own budget as the
/// alarm writes do (at 1,000 alarms the SDK's retry quota alone ran out: "Throttling: Rate
/// exceeded"). The index can also lag the other way and still list a tag removed seconds ago;
/// such an alarm is still named with the env's prefix and alarms to the env's topic, which is
/// what `observe` already required.
async fn alarms_owned(
    clients: &Clients,
    names: &Names,
    alarms: &[AlarmObs],
) -> Result<Vec<(String, bool)>> {
    if alarms.is_empty() {
        return Ok(Vec::new());
    }
    let indexed = alarm_tag_index::indexed(clients, names).await?;
    let (proven, unproven): (Vec<&AlarmObs>, Vec<&AlarmObs>) = alarms
        .iter()
        .partition(|a| indexed.contains_key(a.arn.as_str()));
    let mut owned: Vec<(String, bool)> = proven.iter().map(|a| (a.name.clone(), true)).collect();
    owned.extend(
        retry::each_through_throttling(unproven, |a| async move {
            Ok((
                a.name.clone(),
                alarm_tags_say_owned(clients, names, a).await?,
            ))
        })
        .await?,
    );
    Ok(owned)
}

/// One alarm's own tags, read from CloudWatch (ListTagsForResource); a gone alarm is not owned.
async fn alarm_tags_say_owned(clients: &Clients, names: &Names, a: &AlarmObs) -> Result<bool> {
    Ok(alarm_tag_index::own_tags(clients, &a.arn)
        .await?
        .is_some_and(|tags| names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))))
}
