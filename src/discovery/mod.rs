//! Finds the load balancers a selection names — Application, Network and Gateway Load
//! Balancers (ELBv2 API) and Classic ELBs (Classic ELB API) — and what each one's alarm watches:
//! every target group an ELBv2 load balancer routes to (each listener's default actions and,
//! for ALBs, every rule, weighted forwards included), deduplicated; a Classic ELB's own
//! registered instances.
//!
//! `select.rs` (pure) decides which load balancers a selection means; `v2.rs` and `classic.rs`
//! are the thin AWS calls of each API.

pub mod classic;
pub mod runbooks;
pub mod select;
pub mod v2;

use crate::aws::Clients;
use anyhow::{Result, bail};
use serde::Serialize;

pub use select::{Selection, parse_tag_filter};
pub use v2::dimension_from_arn;

/// The kind of a load balancer: which API finds it and which CloudWatch namespace its
/// `HealthyHostCount` is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LbKind {
    Application,
    Network,
    Gateway,
    Classic,
}

impl LbKind {
    /// ELBv2's `Type` (`application`, `network`, `gateway`).
    pub fn from_v2_type(t: &str) -> Option<Self> {
        match t {
            "application" => Some(LbKind::Application),
            "network" => Some(LbKind::Network),
            "gateway" => Some(LbKind::Gateway),
            _ => None,
        }
    }

    /// The namespace of its metrics:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>,
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html>,
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/gateway/cloudwatch-metrics.html>,
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html>.
    pub fn namespace(self) -> &'static str {
        match self {
            LbKind::Application => "AWS/ApplicationELB",
            LbKind::Network => "AWS/NetworkELB",
            LbKind::Gateway => "AWS/GatewayELB",
            LbKind::Classic => "AWS/ELB",
        }
    }

    /// For people: `ALB`, `NLB`, `GWLB`, `Classic ELB`.
    pub fn short(self) -> &'static str {
        match self {
            LbKind::Application => "ALB",
            LbKind::Network => "NLB",
            LbKind::Gateway => "GWLB",
            LbKind::Classic => "Classic ELB",
        }
    }
}

/// A target group's (or a Classic ELB's) health check: what decides how fast a failing target
/// is seen (see `state::alert_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    pub interval_s: i32,
    pub timeout_s: i32,
    /// Consecutive failed checks before a target is unhealthy.
    pub unhealthy_threshold: i32,
    /// Consecutive passed checks before it is healthy again.
    pub healthy_threshold: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub name: String,
    pub arn: String,
    pub kind: LbKind,
    /// Its `LoadBalancer` metric dimension (`app/NAME/ID`, `net/NAME/ID`, `gwy/NAME/ID`), or,
    /// for a Classic ELB, its `LoadBalancerName` dimension (the name).
    pub dimension: String,
    pub dns_name: String,
    /// Its Availability Zones (names, sorted): where its nodes run and its per-zone metrics are
    /// reported (`AvailabilityZone` dimension).
    pub zones: Vec<String>,
}

/// What one alarm watches: an ELBv2 target group, or a Classic ELB's registered instances (a
/// Classic ELB has no target groups; it stands for its own: `name` and `load_balancer` are the
/// ELB's name, `dimension` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub name: String,
    pub arn: String,
    /// `targetgroup/NAME/ID`: the `TargetGroup` dimension of its CloudWatch metrics (empty for
    /// a Classic ELB).
    pub dimension: String,
    pub protocol: String,
    pub port: Option<i32>,
    pub target_type: String,
    /// `HealthCheckEnabled`: always true for `instance`, `ip` and `alb` targets and Classic
    /// ELBs; `lambda` target groups have health checks off unless enabled
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html>).
    pub health_check_enabled: bool,
    /// The health check's timing, when the API reported it.
    pub health_check: Option<HealthCheck>,
    /// The kind of the load balancer it was discovered through.
    pub kind: LbKind,
    /// The load balancer it was discovered through (name and `LoadBalancer` /
    /// `LoadBalancerName` dimension).
    pub load_balancer: String,
    pub load_balancer_dimension: String,
    /// The load balancer's Availability Zones (sorted).
    pub zones: Vec<String>,
    /// Its `elb-watch:runbook` tag, else its load balancer's, as tagged (`up` checks it is an
    /// https URL before an alarm carries it).
    pub runbook: Option<String>,
}

impl TargetGroup {
    /// Whether this stands for a Classic ELB's instances.
    pub fn is_classic(&self) -> bool {
        self.kind == LbKind::Classic
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub load_balancers: Vec<LoadBalancer>,
    pub target_groups: Vec<TargetGroup>,
}

/// Names sorted and deduplicated (zones, for comparisons that must not depend on API order).
pub(crate) fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = names.collect();
    set.into_iter().collect()
}

/// The load balancers `selection` means, and what their alarms watch.
pub async fn discover(clients: &Clients, selection: &Selection) -> Result<Discovery> {
    if selection.is_empty() {
        bail!("nothing selected: give --lb NAME (or --alb NAME), --tag KEY=VALUE or --all");
    }
    let need_tags = !selection.tags.is_empty();
    let (v2_lbs, classic_lbs) = tokio::try_join!(
        v2::list_load_balancers(clients, need_tags),
        classic::list_load_balancers(clients, need_tags)
    )?;
    let mut candidates = v2_lbs;
    candidates.extend(classic_lbs.iter().map(|f| f.candidate.clone()));
    let chosen = match select::choose(&candidates, selection) {
        Ok(chosen) => chosen,
        Err(missing) => {
            let mut existing: Vec<String> = candidates.iter().map(|c| c.lb.name.clone()).collect();
            existing.sort();
            existing.dedup();
            bail!(select::missing_error(&missing, &clients.region, &existing));
        }
    };
    let (v2_chosen, classic_chosen): (Vec<LoadBalancer>, Vec<LoadBalancer>) = chosen
        .into_iter()
        .partition(|lb| lb.kind != LbKind::Classic);
    let mut target_groups = v2::target_groups_of(clients, &v2_chosen).await?;
    target_groups.extend(classic_chosen.iter().filter_map(|lb| {
        classic_lbs
            .iter()
            .find(|f| f.candidate.lb.arn == lb.arn)
            .map(|f| f.own_group.clone())
    }));
    runbooks::read(clients, &v2_chosen, &classic_chosen, &mut target_groups).await?;
    let mut load_balancers = v2_chosen;
    load_balancers.extend(classic_chosen);
    Ok(Discovery {
        load_balancers,
        target_groups,
    })
}
