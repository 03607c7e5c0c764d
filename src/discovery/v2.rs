//! Application, Network and Gateway Load Balancers through the ELBv2 API: listing them (with
//! their tags when a selection needs them), and the target groups they route to, from the
//! region's target-group pages (each group names the load balancers routing to it). Pure helpers first, then the
//! thin AWS calls.

use super::select::Candidate;
use super::{HealthCheck, LbKind, LoadBalancer, TargetGroup, sorted};
use crate::aws::{AwsResultExt, Clients, retry};
use anyhow::Result;
use futures::future::try_join_all;
use std::collections::BTreeMap;

/// The CloudWatch dimension value in an ELB ARN: what follows `:loadbalancer/` or `:`
/// before `targetgroup/`.
pub fn dimension_from_arn(arn: &str) -> Option<String> {
    if let Some((_, rest)) = arn.split_once(":loadbalancer/") {
        return Some(rest.to_string());
    }
    arn.find(":targetgroup/").map(|i| arn[i + 1..].to_string())
}

/// Every ELBv2 load balancer of the region (every page), with its tags when `with_tags`.
pub async fn list_load_balancers(clients: &Clients, with_tags: bool) -> Result<Vec<Candidate>> {
    let lbs: Vec<_> = retry::through_throttling(retry::budget(), || async {
        clients
            .elb
            .describe_load_balancers()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws("DescribeLoadBalancers")
    })
    .await?;
    let mut out: Vec<Candidate> = lbs
        .iter()
        .filter_map(|lb| {
            let kind = LbKind::from_v2_type(lb.r#type()?.as_str())?;
            let arn = lb.load_balancer_arn()?.to_string();
            Some(Candidate {
                lb: LoadBalancer {
                    name: lb.load_balancer_name().unwrap_or_default().to_string(),
                    dimension: dimension_from_arn(&arn).unwrap_or_default(),
                    arn,
                    kind,
                    dns_name: lb.dns_name().unwrap_or_default().to_string(),
                    zones: sorted(
                        lb.availability_zones()
                            .iter()
                            .filter_map(|z| z.zone_name().map(str::to_string)),
                    ),
                },
                tags: BTreeMap::new(),
            })
        })
        .collect();
    if with_tags {
        let arns: Vec<String> = out.iter().map(|c| c.lb.arn.clone()).collect();
        let tags = tags_of(clients, &arns).await?;
        for c in &mut out {
            c.tags = tags.get(&c.lb.arn).cloned().unwrap_or_default();
        }
    }
    Ok(out)
}

/// Tags of ELBv2 resources, 20 ARNs per `DescribeTags` (its limit:
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html>).
pub(crate) async fn tags_of(
    clients: &Clients,
    arns: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let answers = try_join_all(arns.chunks(20).map(|chunk| {
        retry::through_throttling(retry::budget(), move || async move {
            clients
                .elb
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .aws("DescribeTags")
        })
    }))
    .await?;
    let mut out = BTreeMap::new();
    for answer in answers {
        for d in answer.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect();
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

/// The target groups the load balancers route to, each once (with the first of `lbs` routing
/// to it), in `lbs` order and by name within one load balancer.
///
/// One paged read of the region's target groups, 400 a page (DescribeTargetGroups' maximum
/// `PageSize`), whose `LoadBalancerArns` name every load balancer that routes to the group
/// through any listener default action or rule, plain or weighted
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html>).
/// No listener or rule is read: they would add only which listener or rule forwards, and
/// elb-watch alarms on the target group whatever routes to it. A target group routed to by no
/// chosen load balancer is not watched (a group behind no load balancer publishes no
/// `HealthyHostCount`).
pub async fn target_groups_of(clients: &Clients, lbs: &[LoadBalancer]) -> Result<Vec<TargetGroup>> {
    if lbs.is_empty() {
        return Ok(Vec::new());
    }
    // The ELB Describe* bucket is shared with the health reads: wait out throttling beyond the
    // SDK's retries, as every other read does.
    let groups: Vec<_> = retry::through_throttling(retry::budget(), || async {
        clients
            .elb
            .describe_target_groups()
            .page_size(400)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws("DescribeTargetGroups")
    })
    .await?;
    let position: BTreeMap<&str, usize> = lbs
        .iter()
        .enumerate()
        .map(|(i, lb)| (lb.arn.as_str(), i))
        .collect();
    let mut chosen: Vec<(usize, TargetGroup)> = groups
        .iter()
        .filter_map(|tg| {
            let first = tg
                .load_balancer_arns()
                .iter()
                .filter_map(|arn| position.get(arn.as_str()).copied())
                .min()?;
            Some((first, target_group(tg, &lbs[first])?))
        })
        .collect();
    chosen.sort_by(|(a, x), (b, y)| (a, &x.name, &x.arn).cmp(&(b, &y.name, &y.arn)));
    Ok(chosen.into_iter().map(|(_, tg)| tg).collect())
}

/// elb-watch's view of one DescribeTargetGroups entry, routed to by `lb`.
fn target_group(
    tg: &aws_sdk_elasticloadbalancingv2::types::TargetGroup,
    lb: &LoadBalancer,
) -> Option<TargetGroup> {
    let arn = tg.target_group_arn()?.to_string();
    Some(TargetGroup {
        name: tg.target_group_name().unwrap_or_default().to_string(),
        dimension: dimension_from_arn(&arn).unwrap_or_default(),
        arn,
        protocol: tg
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        port: tg.port(),
        target_type: tg
            .target_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        health_check_enabled: tg.health_check_enabled().unwrap_or(
            tg.target_type()
                != Some(&aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Lambda),
        ),
        health_check: match (
            tg.health_check_interval_seconds(),
            tg.unhealthy_threshold_count(),
        ) {
            (Some(interval_s), Some(unhealthy_threshold)) => Some(HealthCheck {
                interval_s,
                timeout_s: tg.health_check_timeout_seconds().unwrap_or_default(),
                unhealthy_threshold,
                healthy_threshold: tg.healthy_threshold_count().unwrap_or_default(),
            }),
            _ => None,
        },
        kind: lb.kind,
        load_balancer: lb.name.clone(),
        load_balancer_dimension: lb.dimension.clone(),
        zones: lb.zones.clone(),
        runbook: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_come_from_arns() {
        assert_eq!(
            dimension_from_arn(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-alb/50dc6c495c0c9188"
            )
            .as_deref(),
            Some("app/web-alb/50dc6c495c0c9188")
        );
        assert_eq!(
            dimension_from_arn(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/6d0ecf831eec9f09"
            )
            .as_deref(),
            Some("targetgroup/web-tg/6d0ecf831eec9f09")
        );
        assert_eq!(dimension_from_arn("arn:aws:sns:us-east-1:1:topic"), None);
    }
}
