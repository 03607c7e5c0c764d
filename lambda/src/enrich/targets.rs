//! Enrichment of ALARM notifications with the target group's current health
//! (ELBv2 `DescribeTargetHealth`; a Classic Load Balancer's `DescribeInstanceHealth`), so the
//! message says *which* targets are failing and why; and [`Enrichment`], what every enrichment
//! found (the outage of a recovery: outage.rs, history.rs).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticloadbalancing as elb;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::error::{ProvideErrorMetadata, SdkError};
use elbv2::types::TargetHealthDescription;

use crate::enrich::outage::Outage;

/// A registered target that is not `healthy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnhealthyTarget {
    pub id: String,
    pub port: Option<i32>,
    /// Its zone, when DescribeTargetHealth names one ([`zone_of`]).
    pub availability_zone: Option<String>,
    /// `unhealthy`, `draining`, `unused`, `initial`, `unavailable`, ...
    pub state: String,
    /// e.g. `Target.FailedHealthChecks`.
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// The target group's health at the time of the alert.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetReport {
    pub target_group_arn: String,
    /// Number of registered targets.
    pub registered: usize,
    /// Every target whose state is not `healthy`, in the order ELBv2 returned them.
    pub unhealthy: Vec<UnhealthyTarget>,
    /// Registered targets per Availability Zone, of those whose zone is known ([`zone_of`]).
    pub registered_by_zone: BTreeMap<String, usize>,
}

/// A target's Availability Zone as DescribeTargetHealth gives it: `TargetDescription`'s
/// `AvailabilityZone`, which ELBv2 has for `ip` targets (detected from the subnet for an IP in
/// the target group's VPC, or as registered) but not for `instance` or `alb` targets ("This
/// parameter is not supported if the target type of the target group is instance or alb",
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetDescription.html>);
/// `all` (an IP outside the VPC, a Lambda function) is no zone. An instance's zone would take
/// `ec2:DescribeInstances`, a call and a permission more on the alert's path: not made — such
/// targets are listed under "zone unknown" ([`crate::render::blocks::targets_text`]).
pub fn zone_of(availability_zone: Option<&str>) -> Option<&str> {
    availability_zone.filter(|z| !z.is_empty() && !z.eq_ignore_ascii_case("all"))
}

/// What the renderer knows about target health.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Targets {
    /// Not an ALARM of a target group: nothing to say.
    #[default]
    NotApplicable,
    /// DescribeTargetHealth was attempted and failed; the alert goes out without the list.
    Unavailable,
    Report(TargetReport),
}

/// Everything the enrichments found out about one notification, for the renderer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// ALARM: the target group's health (DescribeTargetHealth).
    pub targets: Targets,
    /// Recovery: how long the alarm was in ALARM (DescribeAlarmHistory).
    pub outage: Outage,
}

impl From<Targets> for Enrichment {
    fn from(targets: Targets) -> Self {
        Self {
            targets,
            ..Self::default()
        }
    }
}

impl From<Outage> for Enrichment {
    fn from(outage: Outage) -> Self {
        Self {
            outage,
            ..Self::default()
        }
    }
}

/// Pure conversion of a DescribeTargetHealth answer.
pub fn report_from(
    target_group_arn: &str,
    descriptions: &[TargetHealthDescription],
) -> TargetReport {
    let unhealthy = descriptions
        .iter()
        .filter_map(|d| {
            let health = d.target_health();
            let state = health
                .and_then(|h| h.state())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "unknown".to_owned());
            if state == "healthy" {
                return None;
            }
            let target = d.target();
            Some(UnhealthyTarget {
                id: target
                    .and_then(|t| t.id())
                    .map(str::to_owned)
                    .unwrap_or_else(|| "?".to_owned()),
                port: target.and_then(|t| t.port()),
                availability_zone: zone_of(target.and_then(|t| t.availability_zone()))
                    .map(str::to_owned),
                state,
                reason: health
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_owned()),
                description: health.and_then(|h| h.description()).map(str::to_owned),
            })
        })
        .collect();
    let mut registered_by_zone = BTreeMap::new();
    for d in descriptions {
        if let Some(zone) = zone_of(d.target().and_then(|t| t.availability_zone())) {
            *registered_by_zone.entry(zone.to_owned()).or_insert(0) += 1;
        }
    }
    TargetReport {
        target_group_arn: target_group_arn.to_owned(),
        registered: descriptions.len(),
        unhealthy,
        registered_by_zone,
    }
}

/// Pure conversion of a Classic Load Balancer's DescribeInstanceHealth answer: `InService` is
/// healthy; `OutOfService` reads as `unhealthy`, `Unknown` as `unknown`; the reason code
/// (`ELB`, `Instance`) and description are kept unless `N/A`.
/// <https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_InstanceState.html>
pub fn report_from_instances(
    load_balancer: &str,
    states: &[elb::types::InstanceState],
) -> TargetReport {
    let known = |v: Option<&str>| {
        v.filter(|s| !s.is_empty() && *s != "N/A")
            .map(str::to_owned)
    };
    let unhealthy = states
        .iter()
        .filter(|s| s.state() != Some("InService"))
        .map(|s| UnhealthyTarget {
            id: s.instance_id().unwrap_or("?").to_owned(),
            port: None,
            availability_zone: None,
            state: match s.state() {
                Some("OutOfService") => "unhealthy".to_owned(),
                _ => "unknown".to_owned(),
            },
            reason: known(s.reason_code()),
            description: known(s.description()),
        })
        .collect();
    // DescribeInstanceHealth names no zone.
    TargetReport {
        target_group_arn: load_balancer.to_owned(),
        registered: states.len(),
        unhealthy,
        registered_by_zone: BTreeMap::new(),
    }
}

/// Calls DescribeInstanceHealth for a Classic Load Balancer, bounded by `timeout`.
pub async fn describe_instance_health(
    client: &elb::Client,
    load_balancer: &str,
    timeout: Duration,
) -> Result<TargetReport, String> {
    let call = client
        .describe_instance_health()
        .load_balancer_name(load_balancer)
        .send();
    let out = within(timeout, call).await?;
    Ok(report_from_instances(load_balancer, out.instance_states()))
}

/// Calls DescribeTargetHealth for `target_group_arn`, bounded by `timeout`. The error is a
/// short description fit for a log line (it never contains the webhook URL: this module never
/// sees it).
pub async fn describe_target_health(
    client: &elbv2::Client,
    target_group_arn: &str,
    timeout: Duration,
) -> Result<TargetReport, String> {
    let call = client
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send();
    let out = within(timeout, call).await?;
    Ok(report_from(
        target_group_arn,
        out.target_health_descriptions(),
    ))
}

/// An SDK call bounded by `timeout`; its error as `Code: message` (service errors) or the
/// error's chain of causes.
async fn within<O, E, R>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<O, elbv2::error::SdkError<E, R>>>,
) -> Result<O, String>
where
    E: elbv2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(sdk_error_text(&e)),
        Ok(Ok(out)) => Ok(out),
    }
}

/// `Code: message` of a service's refusal (`AccessDenied: User: … is not authorized…`), or the
/// whole chain of a transport error, for a log line.
pub fn sdk_error_text<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("ServiceError"),
            service.message().unwrap_or("")
        ),
        None => error_chain(e),
    }
}

/// The SDK's top-level Display is terse ("dispatch failure"); include the sources.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn classic_instances_out_of_service_are_listed_with_their_reason() {
        use aws_sdk_elasticloadbalancing::types::InstanceState;
        let state = |id: &str, st: &str, code: &str, desc: &str| {
            InstanceState::builder()
                .instance_id(id)
                .state(st)
                .reason_code(code)
                .description(desc)
                .build()
        };
        let r = report_from_instances(
            "legacy",
            &[
                state("i-1", "InService", "N/A", "N/A"),
                state(
                    "i-2",
                    "OutOfService",
                    "Instance",
                    "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.",
                ),
                state("i-3", "Unknown", "ELB", "A transient error occurred."),
            ],
        );
        assert_eq!((r.registered, r.unhealthy.len()), (3, 2));
        assert_eq!(r.unhealthy[0].id, "i-2");
        assert_eq!(r.unhealthy[0].state, "unhealthy");
        assert_eq!(r.unhealthy[0].reason.as_deref(), Some("Instance"));
        assert_eq!(r.unhealthy[1].state, "unknown");
        let healthy = report_from_instances("legacy", &[state("i-1", "InService", "N/A", "N/A")]);
        assert!(healthy.unhealthy.is_empty());
    }

    use super::*;
    use elbv2::types::{
        TargetDescription, TargetHealth, TargetHealthReasonEnum, TargetHealthStateEnum,
    };

    fn thd(
        id: &str,
        port: i32,
        state: TargetHealthStateEnum,
        reason: Option<TargetHealthReasonEnum>,
        description: Option<&str>,
    ) -> TargetHealthDescription {
        TargetHealthDescription::builder()
            .target(TargetDescription::builder().id(id).port(port).build())
            .target_health(
                TargetHealth::builder()
                    .state(state)
                    .set_reason(reason)
                    .set_description(description.map(str::to_owned))
                    .build(),
            )
            .build()
    }

    #[test]
    fn report_lists_only_non_healthy_targets() {
        let descriptions = vec![
            thd("i-0aaa", 80, TargetHealthStateEnum::Healthy, None, None),
            thd(
                "i-0bbb",
                8080,
                TargetHealthStateEnum::Unhealthy,
                Some(TargetHealthReasonEnum::FailedHealthChecks),
                Some("Health checks failed with these codes: [502]"),
            ),
            thd(
                "i-0ccc",
                80,
                TargetHealthStateEnum::Draining,
                Some(TargetHealthReasonEnum::DeregistrationInProgress),
                Some("Target deregistration is in progress"),
            ),
        ];
        let r = report_from("arn:tg", &descriptions);
        assert_eq!(r.registered, 3);
        assert_eq!(r.target_group_arn, "arn:tg");
        assert_eq!(
            r.unhealthy,
            vec![
                UnhealthyTarget {
                    id: "i-0bbb".into(),
                    port: Some(8080),
                    availability_zone: None,
                    state: "unhealthy".into(),
                    reason: Some("Target.FailedHealthChecks".into()),
                    description: Some("Health checks failed with these codes: [502]".into()),
                },
                UnhealthyTarget {
                    id: "i-0ccc".into(),
                    port: Some(80),
                    availability_zone: None,
                    state: "draining".into(),
                    reason: Some("Target.DeregistrationInProgress".into()),
                    description: Some("Target deregistration is in progress".into()),
                },
            ]
        );
    }

    #[test]
    fn zones_are_taken_from_the_target_description_when_there_is_one() {
        let at = |id: &str, zone: Option<&str>, state| {
            TargetHealthDescription::builder()
                .target(
                    TargetDescription::builder()
                        .id(id)
                        .port(80)
                        .set_availability_zone(zone.map(str::to_owned))
                        .build(),
                )
                .target_health(TargetHealth::builder().state(state).build())
                .build()
        };
        let r = report_from(
            "arn:tg",
            &[
                at(
                    "10.0.1.7",
                    Some("eu-west-1a"),
                    TargetHealthStateEnum::Unhealthy,
                ),
                at(
                    "10.0.1.8",
                    Some("eu-west-1a"),
                    TargetHealthStateEnum::Healthy,
                ),
                at(
                    "10.0.2.7",
                    Some("eu-west-1b"),
                    TargetHealthStateEnum::Healthy,
                ),
                at("192.168.0.1", Some("all"), TargetHealthStateEnum::Unhealthy),
                at("i-0abc", None, TargetHealthStateEnum::Unhealthy),
            ],
        );
        assert_eq!(
            r.registered_by_zone,
            BTreeMap::from([("eu-west-1a".to_owned(), 2), ("eu-west-1b".to_owned(), 1)])
        );
        let zones: Vec<_> = r
            .unhealthy
            .iter()
            .map(|t| t.availability_zone.as_deref())
            .collect();
        assert_eq!(zones, [Some("eu-west-1a"), None, None], "`all` is no zone");
        assert_eq!(zone_of(Some("ALL")), None);
        assert_eq!(zone_of(Some("")), None);
    }

    #[test]
    fn empty_target_group() {
        let r = report_from("arn:tg", &[]);
        assert_eq!(r.registered, 0);
        assert!(r.unhealthy.is_empty());
    }
}
