//! Finds the named Application Load Balancers and every target group they route to — through
//! each listener's default actions and every listener rule, including weighted forwards —
//! deduplicated. Pure helpers first, then the thin AWS calls.

use crate::aws::{AwsResultExt, Clients, errors};
use anyhow::{Result, bail};
use aws_sdk_elasticloadbalancingv2::types::{Action, LoadBalancerTypeEnum};
use futures::future::try_join_all;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub name: String,
    pub arn: String,
    /// `app/NAME/ID`: the `LoadBalancer` dimension of its CloudWatch metrics.
    pub dimension: String,
    pub dns_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub name: String,
    pub arn: String,
    /// `targetgroup/NAME/ID`: the `TargetGroup` dimension of its CloudWatch metrics.
    pub dimension: String,
    pub protocol: String,
    pub port: Option<i32>,
    pub target_type: String,
    /// `HealthCheckEnabled`: always true for `instance`, `ip` and `alb` targets; `lambda`
    /// target groups have health checks off unless enabled
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html>).
    pub health_check_enabled: bool,
    /// The ALB it was discovered through (name and `LoadBalancer` dimension).
    pub load_balancer: String,
    pub load_balancer_dimension: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub load_balancers: Vec<LoadBalancer>,
    pub target_groups: Vec<TargetGroup>,
}

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

/// Why a name given with `--alb` cannot be watched, with what to do instead.
pub fn missing_alb_error(missing: &[String], region: &str, existing: &[String]) -> String {
    let names = missing.join(", ");
    let available = if existing.is_empty() {
        "there are no load balancers there".to_string()
    } else {
        format!("load balancers there: {}", existing.join(", "))
    };
    format!(
        "no load balancer named {names} in region {region} ({available}); check --alb and --region"
    )
}

pub async fn discover(clients: &Clients, names: &[String]) -> Result<Discovery> {
    let load_balancers = find_load_balancers(clients, names).await?;
    let per_lb = try_join_all(
        load_balancers
            .iter()
            .map(|lb| target_group_arns_of(clients, lb)),
    )
    .await?;

    let mut seen = BTreeSet::new();
    let mut wanted: Vec<(String, &LoadBalancer)> = Vec::new();
    for (lb, arns) in load_balancers.iter().zip(per_lb) {
        for arn in arns {
            if seen.insert(arn.clone()) {
                wanted.push((arn, lb));
            }
        }
    }
    let target_groups = describe_target_groups(clients, &wanted).await?;
    Ok(Discovery {
        load_balancers,
        target_groups,
    })
}

async fn find_load_balancers(clients: &Clients, names: &[String]) -> Result<Vec<LoadBalancer>> {
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        if !unique.contains(n) {
            unique.push(n.clone());
        }
    }
    // At most 20 names per call; every page of each answer.
    // <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html>
    let mut found = Vec::new();
    for chunk in unique.chunks(20) {
        let result = clients
            .elb
            .describe_load_balancers()
            .set_names(Some(chunk.to_vec()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match result {
            Ok(lbs) => found.extend(lbs),
            // AWS fails the whole call when one name is unknown; some emulators just omit it.
            Err(e) if errors::code(&e) == Some("LoadBalancerNotFound") => {}
            Err(e) => return Err(e).aws("DescribeLoadBalancers"),
        }
    }
    let is_found = |n: &String| found.iter().any(|lb| lb.load_balancer_name() == Some(n));
    if !unique.iter().all(is_found) {
        let existing = list_load_balancer_names(clients).await?;
        let missing: Vec<String> = unique
            .iter()
            .filter(|n| !existing.contains(n))
            .cloned()
            .collect();
        bail!(missing_alb_error(&missing, &clients.region, &existing));
    }

    let mut out = Vec::new();
    for name in &unique {
        let Some(lb) = found
            .iter()
            .find(|lb| lb.load_balancer_name() == Some(name))
        else {
            continue;
        };
        if lb.r#type() != Some(&LoadBalancerTypeEnum::Application) {
            let kind = lb.r#type().map(|t| t.as_str()).unwrap_or("unknown");
            bail!(
                "load balancer {name} is a {kind} load balancer; elb-watch watches Application \
                 Load Balancers only (their target groups report HealthyHostCount in \
                 AWS/ApplicationELB)"
            );
        }
        let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
        out.push(LoadBalancer {
            name: name.clone(),
            dimension: dimension_from_arn(&arn).unwrap_or_default(),
            arn,
            dns_name: lb.dns_name().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

async fn list_load_balancer_names(clients: &Clients) -> Result<Vec<String>> {
    let pages: Vec<_> = clients
        .elb
        .describe_load_balancers()
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut names = Vec::new();
    for page in pages {
        let page = page.aws("DescribeLoadBalancers")?;
        names.extend(
            page.load_balancers()
                .iter()
                .filter_map(|lb| lb.load_balancer_name().map(str::to_string)),
        );
    }
    names.sort();
    Ok(names)
}

/// Target group ARNs reachable from one ALB, in listener then rule order.
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
        async move { listener_rule_actions(clients, &arn).await }
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
                load_balancer: lb.name.clone(),
                load_balancer_dimension: lb.dimension.clone(),
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

    #[test]
    fn missing_alb_message_lists_what_exists() {
        let msg = missing_alb_error(&["nope".into()], "eu-west-1", &["api".into(), "web".into()]);
        assert_eq!(
            msg,
            "no load balancer named nope in region eu-west-1 (load balancers there: api, web); \
             check --alb and --region"
        );
        assert!(missing_alb_error(&["x".into()], "us-east-1", &[]).contains("no load balancers"));
    }
}
