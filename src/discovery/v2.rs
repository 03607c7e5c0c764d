//! Application, Network and Gateway Load Balancers through the ELBv2 API: listing them (with
//! their tags when a selection needs them), and the target groups each one routes to — through
//! each listener's default actions and, for ALBs, every listener rule (NLB and GWLB listeners
//! have no rules), including weighted forwards — deduplicated. Pure helpers first, then the
//! thin AWS calls.

use super::select::Candidate;
use super::{HealthCheck, LbKind, LoadBalancer, TargetGroup, sorted};
use crate::aws::{AwsResultExt, Clients};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::Action;
use futures::future::try_join_all;
use std::collections::{BTreeMap, BTreeSet};

/// The CloudWatch dimension value in an ELB ARN: what follows `:loadbalancer/` or `:`
/// before `targetgroup/`.
pub fn dimension_from_arn(arn: &str) -> Option<String> {
    if let Some((_, rest)) = arn.split_once(":loadbalancer/") {
        return Some(rest.to_string());
    }
    arn.find(":targetgroup/").map(|i| arn[i + 1..].to_string())
}

/// Every target group ARN an action forwards to (plain forward or weighted `ForwardConfig`).
pub fn forwarded_target_groups(actions: &[Action]) -> Vec<String> {
    let mut arns = Vec::new();
    for action in actions {
        if let Some(arn) = action.target_group_arn() {
            arns.push(arn.to_string());
        }
        if let Some(cfg) = action.forward_config() {
            arns.extend(
                cfg.target_groups()
                    .iter()
                    .filter_map(|t| t.target_group_arn().map(str::to_string)),
            );
        }
    }
    arns
}

/// Every ELBv2 load balancer of the region (every page), with its tags when `with_tags`.
pub async fn list_load_balancers(clients: &Clients, with_tags: bool) -> Result<Vec<Candidate>> {
    let lbs: Vec<_> = clients
        .elb
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("DescribeLoadBalancers")?;
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
async fn tags_of(
    clients: &Clients,
    arns: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let answers = try_join_all(arns.chunks(20).map(|chunk| async move {
        clients
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .aws("DescribeTags")
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

/// The target groups the load balancers route to, each once (with the first load balancer
/// found routing to it).
pub async fn target_groups_of(clients: &Clients, lbs: &[LoadBalancer]) -> Result<Vec<TargetGroup>> {
    let per_lb = try_join_all(lbs.iter().map(|lb| target_group_arns_of(clients, lb))).await?;
    let mut seen = BTreeSet::new();
    let mut wanted: Vec<(String, &LoadBalancer)> = Vec::new();
    for (lb, arns) in lbs.iter().zip(per_lb) {
        for arn in arns {
            if seen.insert(arn.clone()) {
                wanted.push((arn, lb));
            }
        }
    }
    describe_target_groups(clients, &wanted).await
}

/// Target group ARNs reachable from one load balancer, in listener then rule order. Rules
/// exist on ALB listeners only.
async fn target_group_arns_of(clients: &Clients, lb: &LoadBalancer) -> Result<Vec<String>> {
    let mut listeners = Vec::new();
    let mut marker = None;
    loop {
        let page = clients
            .elb
            .describe_listeners()
            .load_balancer_arn(&lb.arn)
            .set_marker(marker)
            .send()
            .await
            .aws("DescribeListeners")?;
        listeners.extend(page.listeners().to_vec());
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    let rules = try_join_all(listeners.iter().map(|l| {
        let arn = l.listener_arn().unwrap_or_default().to_string();
        async move {
            if lb.kind == LbKind::Application {
                listener_rule_actions(clients, &arn).await
            } else {
                Ok(Vec::new())
            }
        }
    }))
    .await?;

    let mut arns = Vec::new();
    for (listener, rule_actions) in listeners.iter().zip(rules) {
        arns.extend(forwarded_target_groups(listener.default_actions()));
        arns.extend(rule_actions);
    }
    Ok(arns)
}

async fn listener_rule_actions(clients: &Clients, listener_arn: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut marker = None;
    loop {
        let page = clients
            .elb
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker)
            .send()
            .await
            .aws("DescribeRules")?;
        for rule in page.rules() {
            arns.extend(forwarded_target_groups(rule.actions()));
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    Ok(arns)
}

async fn describe_target_groups(
    clients: &Clients,
    wanted: &[(String, &LoadBalancer)],
) -> Result<Vec<TargetGroup>> {
    let mut out = Vec::new();
    // DescribeTargetGroups accepts at most 20 ARNs per call.
    for chunk in wanted.chunks(20) {
        let arns: Vec<String> = chunk.iter().map(|(arn, _)| arn.clone()).collect();
        let groups = clients
            .elb
            .describe_target_groups()
            .set_target_group_arns(Some(arns))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws("DescribeTargetGroups")?;
        for (arn, lb) in chunk {
            let Some(tg) = groups.iter().find(|t| t.target_group_arn() == Some(arn)) else {
                continue;
            };
            out.push(TargetGroup {
                name: tg.target_group_name().unwrap_or_default().to_string(),
                arn: arn.clone(),
                dimension: dimension_from_arn(arn).unwrap_or_default(),
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
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        ActionTypeEnum, ForwardActionConfig, TargetGroupTuple,
    };

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

    #[test]
    fn weighted_and_plain_forwards_are_both_followed() {
        let plain = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn("tg-a")
            .build();
        let weighted = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-b").build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-c").build())
                    .build(),
            )
            .build();
        let fixed = Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .build();
        assert_eq!(
            forwarded_target_groups(&[plain, weighted, fixed]),
            vec!["tg-a", "tg-b", "tg-c"]
        );
    }
}
