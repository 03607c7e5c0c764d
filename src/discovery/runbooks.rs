//! Where each target group's runbook is: its `elb-watch:runbook` tag, else its load
//! balancer's. ELBv2's DescribeTags takes load-balancer and target-group ARNs alike, 20 a
//! call; the Classic API's takes load-balancer names, 20 a call
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html>,
//! <https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeTags.html>):
//! one call per 20 resources, whatever the selection.

use super::{LoadBalancer, TargetGroup, classic, v2};
use crate::aws::Clients;
use crate::state::alarms::RUNBOOK_TAG;
use anyhow::Result;
use std::collections::BTreeMap;

/// Tags by resource (ELBv2 ARN, or Classic ELB name).
type TagsOf = BTreeMap<String, BTreeMap<String, String>>;

/// Sets each group's [`TargetGroup::runbook`] from the tags.
pub async fn read(
    clients: &Clients,
    v2_lbs: &[LoadBalancer],
    classic_lbs: &[LoadBalancer],
    groups: &mut [TargetGroup],
) -> Result<()> {
    let mut arns: Vec<String> = v2_lbs.iter().map(|lb| lb.arn.clone()).collect();
    arns.extend(
        groups
            .iter()
            .filter(|tg| !tg.is_classic())
            .map(|tg| tg.arn.clone()),
    );
    let names: Vec<String> = classic_lbs.iter().map(|lb| lb.name.clone()).collect();
    let (v2_tags, classic_tags) = tokio::try_join!(
        async {
            if arns.is_empty() {
                Ok(TagsOf::new())
            } else {
                v2::tags_of(clients, &arns).await
            }
        },
        async {
            if names.is_empty() {
                Ok(TagsOf::new())
            } else {
                classic::tags_of(clients, &names).await
            }
        }
    )?;
    attach(v2_lbs, &v2_tags, &classic_tags, groups);
    Ok(())
}

/// Pure: each group's runbook, its own tag winning over its load balancer's.
fn attach(
    v2_lbs: &[LoadBalancer],
    v2_tags: &TagsOf,
    classic_tags: &TagsOf,
    groups: &mut [TargetGroup],
) {
    let runbook = |tags: &TagsOf, key: &str| {
        tags.get(key)
            .and_then(|t| t.get(RUNBOOK_TAG))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    for tg in groups.iter_mut() {
        tg.runbook = if tg.is_classic() {
            runbook(classic_tags, &tg.load_balancer)
        } else {
            let lb_arn = v2_lbs
                .iter()
                .find(|lb| lb.name == tg.load_balancer)
                .map(|lb| lb.arn.as_str())
                .unwrap_or_default();
            runbook(v2_tags, &tg.arn).or_else(|| runbook(v2_tags, lb_arn))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::LbKind;
    use crate::state::fixtures::target_group as tg;

    fn tags(pairs: &[(&str, &str, &str)]) -> TagsOf {
        let mut out = TagsOf::new();
        for (res, k, v) in pairs {
            out.entry(res.to_string())
                .or_default()
                .insert(k.to_string(), v.to_string());
        }
        out
    }

    #[test]
    fn a_target_groups_own_tag_wins_over_its_load_balancers() {
        let lb = LoadBalancer {
            name: "web-alb".into(),
            arn: "arn:lb/web-alb".into(),
            kind: LbKind::Application,
            dimension: "app/web-alb/1".into(),
            dns_name: String::new(),
            zones: Vec::new(),
        };
        let mut groups = vec![tg("web-alb", "web-tg"), tg("web-alb", "api-tg")];
        groups[0].arn = "arn:tg/web-tg".into();
        groups[1].arn = "arn:tg/api-tg".into();
        let v2 = tags(&[
            ("arn:lb/web-alb", RUNBOOK_TAG, "https://wiki/lb"),
            ("arn:tg/api-tg", RUNBOOK_TAG, "https://wiki/api"),
            ("arn:tg/web-tg", "team", "web"),
        ]);
        attach(&[lb], &v2, &TagsOf::new(), &mut groups);
        assert_eq!(groups[0].runbook.as_deref(), Some("https://wiki/lb"));
        assert_eq!(groups[1].runbook.as_deref(), Some("https://wiki/api"));
    }

    #[test]
    fn a_classic_elb_reads_its_own_tags_and_blank_is_none() {
        let mut classic = tg("legacy", "legacy");
        classic.kind = LbKind::Classic;
        let mut groups = vec![classic.clone(), {
            let mut other = classic;
            other.load_balancer = "other".into();
            other
        }];
        let c = tags(&[
            ("legacy", RUNBOOK_TAG, " https://wiki/legacy "),
            ("other", RUNBOOK_TAG, "  "),
        ]);
        attach(&[], &TagsOf::new(), &c, &mut groups);
        assert_eq!(groups[0].runbook.as_deref(), Some("https://wiki/legacy"));
        assert_eq!(groups[1].runbook, None);
    }
}
