//! The env's alarms' tags, read cheaply (reads only): the Resource Groups Tagging API's index
//! first — GetResources filtered on the env's two tags and `cloudwatch:alarm`, 100 a page, ten
//! calls for a thousand alarms where one ListTagsForResource each takes 100 s at CloudWatch's
//! 10 per second — and an alarm's own ListTagsForResource only where the index cannot be
//! trusted. The index is eventually consistent ("may not immediately reflect recent changes":
//! <https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>):
//! an alarm made or tagged a moment ago is missing from it, or still shows its old tags.

use crate::aws::{AwsResultExt, Clients, errors, retry};
use crate::naming::{self, Names};
use crate::state::alarms::{AlarmSpec, RUNBOOK_TAG};
use crate::state::observed::AlarmObs;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};

/// Tags by alarm ARN.
pub type AlarmTags = HashMap<String, BTreeMap<String, String>>;

/// The alarms the index lists with the env's tags, and their tags, every page; empty when the
/// caller may not read the index (an operator policy older than `tag:GetResources`).
pub async fn indexed(clients: &Clients, names: &Names) -> Result<AlarmTags> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let tag = |k: &str, v: &str| TagFilter::builder().key(k).values(v).build();
    let pages = clients
        .tagging
        .get_resources()
        .resource_type_filters("cloudwatch:alarm")
        .tag_filters(tag(naming::TAG_MANAGED_BY, naming::MANAGED_BY))
        .tag_filters(tag(naming::TAG_ENV, &names.env))
        .resources_per_page(100)
        .into_paginator()
        .send()
        .try_collect()
        .await;
    match pages {
        Ok(pages) => Ok(pages
            .iter()
            .flat_map(|p| p.resource_tag_mapping_list())
            .filter_map(|m| {
                let tags = m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                Some((m.resource_arn()?.to_string(), tags))
            })
            .collect()),
        Err(e) if errors::denied(&e) => Ok(AlarmTags::new()),
        Err(e) => Err(e).aws("Tagging GetResources"),
    }
}

/// One alarm's own tags, from CloudWatch (strongly consistent); `None` for a gone alarm.
pub async fn own_tags(clients: &Clients, arn: &str) -> Result<Option<BTreeMap<String, String>>> {
    let got = clients
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    match got {
        Ok(out) => Ok(Some(
            out.tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        )),
        Err(e) if errors::code(&e) == Some("ResourceNotFound") => Ok(None),
        Err(e) => Err(e).aws("CloudWatch ListTagsForResource"),
    }
}

/// Which alarms the index settles (pure): those it lists with the runbook `want` gives them.
/// The others — missing from the index, or listed with another runbook, which may be the
/// index lagging behind a change — are read one by one.
fn settled_by_index(
    index: &AlarmTags,
    alarms: &[AlarmObs],
    want: &[AlarmSpec],
) -> Vec<Option<Option<String>>> {
    alarms
        .iter()
        .map(|a| {
            let spec = want.iter().find(|s| s.name == a.name)?;
            let listed = index.get(&a.arn)?.get(RUNBOOK_TAG).cloned();
            (listed == spec.runbook).then_some(listed)
        })
        .collect()
}

/// Reads the runbook tag of each alarm `want` has a spec for into [`AlarmObs::runbook`]; the
/// others are left unread (an alarm `up` deletes has nothing to judge).
pub async fn read_runbooks(
    clients: &Clients,
    names: &Names,
    alarms: &mut [AlarmObs],
    want: &[AlarmSpec],
) -> Result<()> {
    if !alarms.iter().any(|a| want.iter().any(|s| s.name == a.name)) {
        return Ok(());
    }
    let index = indexed(clients, names).await?;
    let settled = settled_by_index(&index, alarms, want);
    let unsettled: Vec<&AlarmObs> = alarms
        .iter()
        .zip(&settled)
        .filter(|(a, s)| s.is_none() && want.iter().any(|w| w.name == a.name))
        .map(|(a, _)| a)
        .collect();
    let read = retry::each_through_throttling(unsettled, |a| async move {
        let tags = own_tags(clients, &a.arn).await?;
        Ok((a.name.clone(), tags.map(|t| t.get(RUNBOOK_TAG).cloned())))
    })
    .await?;
    for (alarm, from_index) in alarms.iter_mut().zip(settled) {
        alarm.runbook = from_index.or_else(|| {
            read.iter()
                .find(|(name, _)| *name == alarm.name)
                .and_then(|(_, r)| r.clone())
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;

    fn obs(name: &str) -> AlarmObs {
        AlarmObs {
            name: name.into(),
            arn: format!("arn:alarm:{name}"),
            ..Default::default()
        }
    }

    #[test]
    fn the_index_settles_only_alarms_it_lists_with_the_wanted_runbook() {
        let d = fixtures::desired_fixture();
        let mut want: Vec<AlarmSpec> = d.alarms.iter().take(3).cloned().collect();
        want[0].runbook = Some("https://wiki/a".into());
        want[1].runbook = Some("https://wiki/b".into());
        want[2].runbook = None;
        let alarms: Vec<AlarmObs> = want.iter().map(|s| obs(&s.name)).collect();
        let mut index = AlarmTags::new();
        let tagged = |url: Option<&str>| {
            let mut t = BTreeMap::from([(naming::TAG_ENV.to_string(), "prod".to_string())]);
            if let Some(u) = url {
                t.insert(RUNBOOK_TAG.to_string(), u.to_string());
            }
            t
        };
        // Listed with the wanted runbook: settled.
        index.insert(alarms[0].arn.clone(), tagged(Some("https://wiki/a")));
        // Listed with an old one (the index lagging, or drift): read again.
        index.insert(alarms[1].arn.clone(), tagged(Some("https://wiki/old")));
        // alarms[2] missing from the index (made a moment ago): read again.
        let settled = settled_by_index(&index, &alarms, &want);
        assert_eq!(
            settled,
            vec![Some(Some("https://wiki/a".to_string())), None, None]
        );
        // Listed without a runbook, as wanted: settled as none.
        index.insert(alarms[2].arn.clone(), tagged(None));
        assert_eq!(settled_by_index(&index, &alarms, &want)[2], Some(None));
        // An alarm nobody wants is never judged.
        assert_eq!(settled_by_index(&index, &[obs("other")], &want), vec![None]);
    }
}
