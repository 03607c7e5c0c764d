//! Classic ELBs through the Classic ELB API (`aws-sdk-elasticloadbalancing`): listing them (with
//! their tags when a selection needs them). A Classic ELB has no target groups: its registered
//! instances are what its alarm watches, so each one stands as its own [`TargetGroup`], its
//! health check read from the same listing.
//! <https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html>

use super::select::Candidate;
use super::{HealthCheck, LbKind, LoadBalancer, TargetGroup};
use crate::aws::{AwsResultExt, Clients, retry};
use anyhow::Result;
use aws_sdk_elasticloadbalancing::types::LoadBalancerDescription;
use futures::future::try_join_all;
use std::collections::BTreeMap;

/// The ARN of a Classic ELB (the Classic API reports none):
/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/NAME`
/// (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancing.html>).
pub fn arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/{name}")
}

/// The Classic ELB as the unit its alarm watches.
pub fn own_group(d: &LoadBalancerDescription, arn: &str) -> TargetGroup {
    let name = d.load_balancer_name().unwrap_or_default().to_string();
    let listener = d
        .listener_descriptions()
        .iter()
        .filter_map(|l| l.listener())
        .next();
    TargetGroup {
        name: name.clone(),
        arn: arn.to_string(),
        dimension: String::new(),
        protocol: listener
            .and_then(|l| l.instance_protocol())
            .unwrap_or_default()
            .to_string(),
        port: listener.map(|l| l.instance_port()),
        target_type: "instance".to_string(),
        health_check_enabled: true,
        health_check: d.health_check().map(|h| HealthCheck {
            interval_s: h.interval(),
            timeout_s: h.timeout(),
            unhealthy_threshold: h.unhealthy_threshold(),
            healthy_threshold: h.healthy_threshold(),
        }),
        kind: LbKind::Classic,
        load_balancer: name.clone(),
        load_balancer_dimension: name,
        zones: super::sorted(d.availability_zones().iter().cloned()),
        runbook: None,
    }
}

/// A Classic ELB found, with the unit its alarm watches.
pub struct Found {
    pub candidate: Candidate,
    pub own_group: TargetGroup,
}

/// Every Classic ELB of the region (every page), with its tags when `with_tags`. Their ARNs
/// need the account: asked of STS only when there is a Classic ELB.
pub async fn list_load_balancers(clients: &Clients, with_tags: bool) -> Result<Vec<Found>> {
    let all: Vec<LoadBalancerDescription> = retry::through_throttling(retry::budget(), || async {
        clients
            .elb_classic
            .describe_load_balancers()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws("Classic ELB DescribeLoadBalancers")
    })
    .await?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let me = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .aws("STS GetCallerIdentity")?;
    let partition = me
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();
    let account = me.account().unwrap_or_default().to_string();
    let names: Vec<String> = all
        .iter()
        .filter_map(|d| d.load_balancer_name().map(String::from))
        .collect();
    let tags = if with_tags {
        tags_of(clients, &names).await?
    } else {
        BTreeMap::new()
    };
    Ok(all
        .iter()
        .map(|d| {
            let name = d.load_balancer_name().unwrap_or_default().to_string();
            let arn = arn(&partition, &clients.region, &account, &name);
            Found {
                own_group: own_group(d, &arn),
                candidate: Candidate {
                    lb: LoadBalancer {
                        name: name.clone(),
                        arn,
                        kind: LbKind::Classic,
                        dimension: name.clone(),
                        dns_name: d.dns_name().unwrap_or_default().to_string(),
                        zones: super::sorted(d.availability_zones().iter().cloned()),
                    },
                    tags: tags.get(&name).cloned().unwrap_or_default(),
                },
            }
        })
        .collect())
}

/// Tags of Classic ELBs by name, 20 names per `DescribeTags` (its limit:
/// <https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeTags.html>).
pub(crate) async fn tags_of(
    clients: &Clients,
    names: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let answers = try_join_all(names.chunks(20).map(|chunk| {
        retry::through_throttling(retry::budget(), move || async move {
            clients
                .elb_classic
                .describe_tags()
                .set_load_balancer_names(Some(chunk.to_vec()))
                .send()
                .await
                .aws("Classic ELB DescribeTags")
        })
    }))
    .await?;
    let mut out = BTreeMap::new();
    for answer in answers {
        for d in answer.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            out.insert(d.load_balancer_name().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancing::types::{
        HealthCheck as ElbHealthCheck, Listener, ListenerDescription,
    };

    #[test]
    fn a_classic_elb_stands_for_its_instances_with_its_health_check() {
        let d = LoadBalancerDescription::builder()
            .load_balancer_name("legacy")
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(
                        Listener::builder()
                            .protocol("HTTP")
                            .load_balancer_port(80)
                            .instance_protocol("HTTP")
                            .instance_port(8080)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .health_check(
                ElbHealthCheck::builder()
                    .target("HTTP:8080/health")
                    .interval(30)
                    .timeout(5)
                    .unhealthy_threshold(2)
                    .healthy_threshold(10)
                    .build()
                    .unwrap(),
            )
            .build();
        let arn = arn("aws", "eu-west-1", "123456789012", "legacy");
        assert_eq!(
            arn,
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/legacy"
        );
        let g = own_group(&d, &arn);
        assert_eq!(g.kind, LbKind::Classic);
        assert_eq!(
            (g.name.as_str(), g.load_balancer.as_str()),
            ("legacy", "legacy")
        );
        assert_eq!(g.load_balancer_dimension, "legacy");
        assert_eq!(g.port, Some(8080));
        assert_eq!(
            g.health_check,
            Some(HealthCheck {
                interval_s: 30,
                timeout_s: 5,
                unhealthy_threshold: 2,
                healthy_threshold: 10
            })
        );
        assert!(g.is_classic() && g.health_check_enabled);
    }
}
