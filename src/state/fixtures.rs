//! Inputs and identity shared by the planning modules' unit tests: env `prod`, one ALB
//! `web-alb`, defaults everywhere else. A test changes what it is about with struct update
//! syntax (`Inputs { arch, ..fixtures::inputs() }`).

use crate::bundle::Arch;
use crate::state::desired::{DEFAULT_CONCURRENCY, Identity, Inputs};

pub fn inputs() -> Inputs {
    Inputs {
        env: "prod".into(),
        albs: vec!["web-alb".into()],
        channel: None,
        min_healthy: 1,
        email: None,
        log_retention_days: 30,
        permissions_boundary: None,
        code_sha256: "sha".into(),
        arch: Arch::X86_64,
        prebuilt_code: false,
        notifier_concurrency: DEFAULT_CONCURRENCY,
    }
}

pub fn identity() -> Identity {
    Identity::from_caller("1", "arn:aws:iam::1:user/x", "us-east-1")
}
