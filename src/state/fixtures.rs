//! Inputs and identity shared by the planning modules' unit tests: env `prod`, one ALB
//! `web-alb`, defaults everywhere else. A test changes what it is about with struct update
//! syntax (`Inputs { arch, ..fixtures::inputs() }`).

use crate::bundle::Arch;
use crate::discovery::{HealthCheck, LbKind, TargetGroup};
use crate::state::desired::{DEFAULT_CONCURRENCY, Identity, Inputs};

pub fn inputs() -> Inputs {
    Inputs {
        env: "prod".into(),
        selection: crate::discovery::Selection::named(&["web-alb".into()]),
        channel: None,
        min_healthy: 1,
        zone_rule: crate::state::zones::ZoneRule::Whole,
        email: None,
        log_retention_days: 30,
        permissions_boundary: None,
        code_sha256: "sha".into(),
        arch: Arch::X86_64,
        prebuilt_code: false,
        notifier_concurrency: DEFAULT_CONCURRENCY,
        slack_app: None,
        mentions: Vec::new(),
        runbook: None,
        min_healthy_percent: None,
        overrides: Vec::new(),
    }
}

/// Target group `name` behind ALB `lb`, health-checked with the ALB defaults (every 30 s,
/// 5 s time-out, 2 failures to be unhealthy, 5 passes to be healthy).
pub fn target_group(lb: &str, name: &str) -> TargetGroup {
    TargetGroup {
        name: name.into(),
        arn: format!("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{name}/abc"),
        dimension: format!("targetgroup/{name}/abc"),
        protocol: "HTTP".into(),
        port: Some(80),
        target_type: "instance".into(),
        health_check_enabled: true,
        health_check: Some(HealthCheck {
            interval_s: 30,
            timeout_s: 5,
            unhealthy_threshold: 2,
            healthy_threshold: 5,
        }),
        kind: LbKind::Application,
        load_balancer: lb.into(),
        load_balancer_dimension: format!("app/{lb}/def"),
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        runbook: None,
    }
}

pub fn identity() -> Identity {
    Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1")
}

/// What `up` wants for [`inputs`] with target group `web-tg` behind `web-alb`.
pub fn desired_fixture() -> crate::state::desired::Desired {
    crate::state::desired::desired(&inputs(), &identity(), &[target_group("web-alb", "web-tg")])
}
